// Discovery, provider by provider: reach the registry, list repositories, pick them with the
// selectors, and per repository list every tag, resolve digests, load manifests and configs,
// keep the newest max_tags. A failure marks a receipt incomplete and the run goes on.

import { accessoryOf, candidateTags, selectorFor } from '../config/select.js';
import type { ProviderSettings, Selector, Settings } from '../config/settings.js';
import { errorMessage } from '../errors.js';
import { formatShard, inShard, type Shard } from '../graph/shard.js';
import type { HttpClient, Tally } from '../http/http-client.js';
import { mapLimit, Semaphore } from '../http/semaphore.js';
import type { Log } from '../log.js';
import type {
  DiscoveryResult,
  ManifestRecord,
  ProviderResult,
  Receipt,
  RepositoryInfo,
  RepositoryResult,
  StateSavings,
  VulnerabilityCounts,
} from '../model/discovery.js';
import { openAdapter } from '../registries/open-adapter.js';
import type { Ambient, ListedManifest, RegistryAdapter, TagListing } from '../registries/registry-adapter.js';
import type { Secrets } from '../secrets.js';
import type { StateStore, TagMap } from '../state/state-store.js';
import { accessoryChecks } from '../supply-chain/accessory-checks.js';
import { AccessoryReader, type AccessoryTag, rollUp } from '../supply-chain/accessory-reader.js';
import { ManifestFetcher } from './manifest-fetcher.js';
import { compareNewestFirst, newest } from './order-tags.js';

export interface DiscoverDeps {
  http: HttpClient;
  state: StateStore;
  secrets: Secrets;
  log: Log;
  /** Overrides every provider's per-host concurrency (CLI --concurrency). */
  concurrency?: number;
  /** Environment, GITHUB_TOKEN, Docker's config file: what vendors may fall back on. */
  ambient?: Ambient;
  /** Discover only this shard's repositories (every registry is still listed). */
  shard?: Shard;
  /**
   * Takes each repository as soon as it is discovered; the result holds none of them, so what is
   * built from one can be kept without its records (runDiscovery).
   */
  onRepository: (provider: ProviderSettings, repository: RepositoryResult) => void;
  /** Takes each registry's adapter once it is open (retention apply deletes through it). */
  onAdapter?: (provider: ProviderSettings, adapter: RegistryAdapter) => void;
  /** How many repositories a registry has to discover, once listed (0 when it cannot be). */
  onListed?: (provider: ProviderSettings, selected: number) => void;
}

/**
 * Repositories processed at once per provider; requests are bounded separately, per host. As many
 * as the default per-host limit: a warm run is one listing request per repository, and with fewer
 * repositories in flight than the host takes, the host's spare capacity goes unused.
 */
const REPOSITORIES_IN_FLIGHT = 16;
/** Tags resolved at once per repository (the per-host bound still applies). */
const TAGS_IN_FLIGHT = 32;
/**
 * Tags being resolved at once per provider, over all its repositories. A few times the per-host
 * limit keeps every slot busy; more only wait for a slot holding a half-read manifest, long enough
 * for V8 to promote it and for peak RSS to follow the tags listed (bench --scale, plain OCI: 16
 * repositories × 32 tags in flight).
 */
const TAG_CHAINS_IN_FLIGHT = 64;

export async function discover(settings: Settings, deps: DiscoverDeps): Promise<DiscoveryResult> {
  const providers: ProviderResult[] = [];
  const savings: StateSavings = { fromState: 0, conditional: 0, notModified: 0 };
  for (const p of settings.providers) providers.push(await discoverProvider(p, deps, savings));
  return { providers, requests: Object.fromEntries([...deps.http.counts.entries()].sort()), savings };
}

function emptyReceipt(provider: string, repository: string): Receipt {
  return {
    provider,
    repository,
    complete: true,
    tags_listed: 0,
    tags_selected: 0,
    pages: 0,
    requests: 0,
    errors: [],
  };
}

async function discoverProvider(
  p: ProviderSettings,
  deps: DiscoverDeps,
  savings: StateSavings,
): Promise<ProviderResult> {
  const { http, log } = deps;
  const url = new URL(p.apiUrl);
  const concurrency = deps.concurrency ?? p.concurrency;
  if (concurrency) http.setHostLimit(url.origin, concurrency);
  const registryReceipt = emptyReceipt(p.name, '*');
  const notes: string[] = [];
  const failRegistry = (message: string): ProviderResult => {
    log.warn(`${p.name}: ${message}`);
    registryReceipt.complete = false;
    registryReceipt.errors.push(message);
    deps.onListed?.(p, 0);
    return { settings: p, receipt: registryReceipt, notes };
  };

  if (p.registryTypeNote) log.info(`${p.name}: ${p.registryTypeNote}`);
  let adapter: RegistryAdapter;
  let repositories: string[];
  let repositoryInfo: Map<string, RepositoryInfo> | undefined;
  try {
    adapter = await openAdapter({
      settings: p,
      http,
      secrets: deps.secrets,
      log,
      ambient: deps.ambient ?? { env: {} },
    });
  } catch (err) {
    return failRegistry(`cannot reach the registry: ${errorMessage(err)}`);
  }
  log.info(`${p.name}: discovering ${url.host} (${p.registryType}; ${adapter.describeCredential()})`);
  deps.onAdapter?.(p, adapter);
  try {
    const listing = await adapter.listRepositories();
    registryReceipt.pages = listing.pages;
    if (!listing.complete) {
      registryReceipt.complete = false;
      registryReceipt.errors.push(`repository listing: ${listing.problem}`);
    }
    repositories = listing.items.sort();
    repositoryInfo = listing.info;
  } catch (err) {
    notes.push(...adapter.notes());
    return failRegistry(`cannot list repositories: ${errorMessage(err)}`);
  }

  const { shard } = deps;
  const selected = repositories.flatMap((name) => {
    const selector = selectorFor(name, p.selectors);
    return selector && (!shard || inShard(p.name, name, shard)) ? [{ name, selector }] : [];
  });
  log.info(
    `${p.name}: ${repositories.length} repositories listed, ${selected.length} selected${shard ? ` in shard ${formatShard(shard)}` : ''}`,
  );
  deps.onListed?.(p, selected.length);

  const previous = await deps.state.loadTags(p.apiUrl);
  const fetcher = new ManifestFetcher(adapter.client, deps.state, adapter.headFirst);
  const supplyChain = p.supplyChain ?? (!adapter.headFirst && p.readManifests);
  const facts = supplyChain ? await deps.state.loadRegistryFacts(p.apiUrl) : {};
  const accessories = supplyChain
    ? new AccessoryReader({
        client: adapter.client,
        fetcher,
        checks: accessoryChecks(p),
        warn: (message) => log.warn(`${p.name}: ${message}`),
        ...(facts.referrersApiAbsentSince ? { referrersApiAbsentSince: facts.referrersApiAbsentSince } : {}),
        ...(facts.vendorAttestations ? { vendorAnswers: facts.vendorAttestations } : {}),
        ...(adapter.vendorAttestations
          ? { vendorAttestations: adapter.vendorAttestations.bind(adapter) }
          : {}),
      })
    : undefined;
  const chains = new Semaphore(TAG_CHAINS_IN_FLIGHT);
  const seen: TagMap = { ...previous };
  await mapLimit(selected, REPOSITORIES_IN_FLIGHT, async ({ name, selector }) => {
    const result = await discoverRepository(
      p,
      adapter,
      fetcher,
      accessories,
      chains,
      name,
      selector,
      previous[name] ?? {},
      seen,
    );
    // What the last run saw of this repository is needed no more (seen holds what this run saw,
    // or the old map when the repository failed): otherwise two copies of every digest would be
    // held for the whole run.
    delete previous[name];
    const info = Object.assign({}, repositoryInfo?.get(name), result.info);
    if (Object.keys(info).length > 0) result.info = info;
    const r = result.receipt;
    log.info(
      `${p.name}: ${name}: ${r.tags_selected}/${r.tags_listed} tags, ${r.requests} requests${r.complete ? '' : ` INCOMPLETE: ${r.errors.join('; ')}`}`,
    );
    // A finished repository's records leave the fetcher's memory: another repository using one of
    // its digests reads it back from the state directory, not the registry (see forget). Held for
    // the whole provider, they were 100,000 records beside the graph (bench --scale, Harbor).
    fetcher.forget(result.manifests.values(), new Set());
    deps.onRepository(p, result);
  });
  await deps.state.saveTags(p.apiUrl, seen);
  if (accessories) {
    const absentSince = accessories.referrersApiAbsentSince();
    const vendorAttestations = accessories.vendorAnswersToKeep();
    await deps.state.saveRegistryFacts(p.apiUrl, {
      ...(absentSince ? { referrersApiAbsentSince: absentSince } : {}),
      ...(vendorAttestations ? { vendorAttestations } : {}),
    });
    const note = accessories.note();
    if (note) notes.push(note);
  } else if (p.supplyChain === undefined) {
    const why = adapter.headFirst
      ? 'each accessory manifest read here counts as a pull'
      : 'read_manifests: false';
    notes.push(
      `supply chain: not read (${why}); set supply_chain: true to read signatures, attestations and SBOMs`,
    );
  }
  for (const k of ['fromState', 'conditional', 'notModified'] as const) savings[k] += fetcher.savings[k];
  notes.push(...adapter.notes());
  // An adapter that explains its own scanner situation says so in a note of its own.
  if (
    p.discoverVulnerabilities &&
    !adapter.scansVulnerabilities &&
    !notes.some((n) => n.startsWith('vulnerabilities:'))
  )
    notes.push('vulnerabilities: not available for this registry (no vendor scanner API)');
  return {
    settings: p,
    ...(registryReceipt.complete ? {} : { receipt: registryReceipt }),
    notes,
  };
}

/** The registry scanner's counts, else those of an attached report, else the platforms' summed. */
function vulnerabilitiesOf(...sources: Array<VulnerabilityCounts | undefined>): {
  vulnerabilities?: VulnerabilityCounts;
} {
  const found = sources.find((s) => s !== undefined);
  return found ? { vulnerabilities: found } : {};
}

/** A manifest as the vendor listing described it (read_manifests: false): nothing guessed, so no layers. */
function listedRecord(digest: string, listed: ListedManifest): ManifestRecord {
  return {
    digest,
    mediaType: listed.mediaType,
    schemaVersion: 2,
    platform: listed.platform,
    labels: listed.labels,
    ...(listed.created ? { created: listed.created } : {}),
    ...(listed.size !== undefined ? { size: listed.size } : {}),
  };
}

async function discoverRepository(
  p: ProviderSettings,
  adapter: RegistryAdapter,
  fetcher: ManifestFetcher,
  accessories: AccessoryReader | undefined,
  chains: Semaphore,
  name: string,
  selector: Selector,
  previous: Record<string, string>,
  seen: TagMap,
): Promise<RepositoryResult> {
  const receipt = emptyReceipt(p.name, name);
  const tally: Tally = { requests: 0 };
  const result: RepositoryResult = { name, images: [], manifests: new Map(), receipt };
  const fail = (message: string) => {
    receipt.complete = false;
    receipt.errors.push(message);
  };

  let tags: string[];
  let vendor: TagListing['vendor'];
  let vendorReferrers: TagListing['referrers'];
  let platformScans: TagListing['scans'];
  try {
    const listing = await adapter.listTags(name, tally);
    vendor = listing.vendor;
    vendorReferrers = listing.referrers;
    platformScans = listing.scans;
    if (listing.info) result.info = listing.info;
    if (listing.untagged && listing.complete) result.untagged = listing.untagged;
    if (listing.lifecycleImages && listing.complete) result.lifecycleImages = listing.lifecycleImages;
    receipt.pages = listing.pages;
    if (!listing.complete) fail(`tag listing: ${listing.problem}`);
    tags = listing.items.sort();
  } catch (err) {
    fail(`cannot list tags: ${errorMessage(err)}`);
    receipt.requests = tally.requests;
    return result;
  }
  receipt.tags_listed = tags.length;
  const listingComplete = receipt.complete;
  let candidates = candidateTags(tags, selector);
  const accessoryTags = new Map<string, AccessoryTag[]>();
  const candidateSet = new Set(candidates);
  for (const tag of tags) {
    const accessory = accessoryOf(tag);
    if (!accessory || candidateSet.has(tag)) continue;
    const list = accessoryTags.get(accessory.subject) ?? [];
    list.push({ tag, ...accessory });
    accessoryTags.set(accessory.subject, list);
    receipt.accessory_tags = (receipt.accessory_tags ?? 0) + 1;
  }

  // A vendor listing with push times says which tags are newest before any manifest is read, so
  // only the kept tags' manifests are fetched (on Docker Hub those GETs are pulls).
  if (vendor && selector.maxTags > 0 && candidates.every((t) => vendor.get(t)?.pushedAt)) {
    const dated = candidates.map((tag) => ({ tag, created: vendor.get(tag)!.pushedAt! }));
    candidates = newest(dated, selector.maxTags).map((c) => c.tag);
  }
  const resolvedTags: Record<string, string> = {};
  // The newest max_tags so far, kept as tags resolve. A tag that drops out was read only for its
  // date: its records leave the fetcher's cache at once and die young, instead of piling up until
  // the repository is done (bench --scale, plain OCI: memory followed the tags listed).
  let chosen: Array<{ tag: string; digest: string; tree: ManifestRecord[]; created?: string }> = [];
  await mapLimit(candidates, TAGS_IN_FLIGHT, (tag) =>
    chains.run(async () => {
      try {
        const v = vendor?.get(tag);
        const digest = v?.digest ?? (await fetcher.resolveTag(name, tag, previous[tag], tally));
        resolvedTags[tag] = digest;
        const tree = v?.listed ? [listedRecord(digest, v.listed)] : await fetcher.tree(name, digest, tally);
        const entry = { tag, digest, tree, ...(tree[0]!.created ? { created: tree[0]!.created } : {}) };
        if (selector.maxTags === 0) {
          chosen.push(entry);
          return;
        }
        const at = chosen.findIndex((c) => compareNewestFirst(entry, c) < 0);
        chosen.splice(at < 0 ? chosen.length : at, 0, entry);
        const out = chosen.splice(selector.maxTags);
        if (out.length > 0)
          fetcher.forget(
            out.flatMap((c) => c.tree),
            new Set(chosen.flatMap((c) => c.tree.map((m) => m.digest))),
          );
      } catch (err) {
        fail(`${tag}: ${errorMessage(err)}`);
      }
    }),
  );
  if (selector.maxTags === 0) chosen = newest(chosen, 0);

  const manifests = new Map<string, ManifestRecord>();
  for (const c of chosen) for (const m of c.tree) manifests.set(m.digest, m);
  const findings = accessories
    ? await accessories.read({
        repo: name,
        images: chosen,
        tags: accessoryTags,
        resolveTag: async (tag) => {
          const digest =
            vendor?.get(tag)?.digest ?? (await fetcher.resolveTag(name, tag, previous[tag], tally, true));
          resolvedTags[tag] = digest;
          return digest;
        },
        vendorReferrers,
        tally,
      })
    : undefined;
  for (const e of findings?.errors ?? []) fail(e);
  const readAccessoryTags = Object.keys(resolvedTags)
    .filter((tag) => accessoryOf(tag) && !candidateSet.has(tag))
    .sort()
    .map((tag) => ({ tag, digest: resolvedTags[tag]! }));
  if (readAccessoryTags.length > 0) result.accessoryTags = readAccessoryTags;
  for (const m of findings?.manifests ?? []) if (!manifests.has(m.digest)) manifests.set(m.digest, m);
  seen[name] = resolvedTags;
  result.images = chosen
    .map((c) => {
      const v = vendor?.get(c.tag);
      // Push time and scan results belong to the digest the vendor listed; a tag resolved another way has none.
      const fromVendor = v && v.digest === c.digest;
      return {
        tag: c.tag,
        digest: c.digest,
        ...(fromVendor && v.pushedAt ? { pushedAt: v.pushedAt } : {}),
        ...vulnerabilitiesOf(
          fromVendor ? v.vulnerabilities : undefined,
          findings?.vulnerabilities.get(c.digest),
          // ECR scans a multi-platform image's platform manifests, never the index itself.
          platformScans && c.tree[0]?.children
            ? rollUp(c.tree[0].children.map((d) => platformScans!.get(d)))
            : undefined,
        ),
        // Flags claim "none" only over a complete tag listing: a fallback tag may sit on an unread page.
        ...(listingComplete && findings?.trust.has(c.digest) ? { trust: findings.trust.get(c.digest)! } : {}),
      };
    })
    .sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  result.manifests = manifests;
  receipt.tags_selected = chosen.length;
  receipt.errors.sort();
  receipt.requests = tally.requests;
  return result;
}
