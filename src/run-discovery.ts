// What the CLI and the action share: settings in, graph and summary out. The shells decide
// where files go and how progress is shown.
import type { Settings } from './config/settings.js';
import { readDevgraphInUse } from './devgraph/in-use-reader.js';
import { discover } from './discovery/discover.js';
import { ConfigError } from './errors.js';
import { GraphBuilder } from './graph/build-graph.js';
import {
  ConsumableInventory,
  comparisonView,
  diffGraphsConsuming,
  type GraphChanges,
  keepRepositories,
} from './graph/diff.js';
import type { GraphSource } from './graph/graph-source.js';
import { readInventoryFile } from './graph/read-inventory.js';
import { formatShard, inShard, type Shard } from './graph/shard.js';
import { HttpClient } from './http/http-client.js';
import { Revalidator } from './http/revalidation.js';
import type { Log } from './log.js';
import type { Receipt, StateSavings } from './model/discovery.js';
import type { Graph } from './model/graph.js';
import { renderChangeNote, renderChangeReport } from './output/change-report.js';
import type { RunProgress } from './output/progress.js';
import { formatBytes, renderSummary } from './output/summary-markdown.js';
import type { Ambient, RegistryAdapter } from './registries/registry-adapter.js';
import { type ApplyResult, applyPlan, repositoryKey } from './retention/apply.js';
import { inventoryOf } from './retention/from-discovery.js';
import type { DevgraphInUse, InUse } from './retention/in-use.js';
import { type RepositoryInventory, withoutManifests } from './retention/inventory.js';
import { RetentionPlanner, type RetentionReport } from './retention/retention-planner.js';
import { runStorage, storageBlobsOf } from './retention/storage.js';
import type { Secrets } from './secrets.js';
import { configHash } from './state/cache-key.js';
import { DirectoryState, NoState, type StateStore } from './state/state-store.js';
import { evaluatePolicy, type PolicyReport } from './supply-chain/policy.js';

export interface RunOptions {
  secrets: Secrets;
  log: Log;
  stateDir?: string;
  concurrency?: number;
  /** Fixed generation time (SOURCE_DATE_EPOCH or tests), else now. */
  generatedAt?: string;
  http?: HttpClient;
  /** Environment, GITHUB_TOKEN and Docker's config file, as the shell found them. */
  ambient?: Ambient;
  /**
   * A previous graph named explicitly (`--previous`, input `previous-graph`); it wins over the
   * state's, read as the Inventory the comparison needs (readPreviousGraph). `inventory:
   * undefined` = the named file does not exist yet, so this run is the first.
   */
  previousGraph?: PreviousGraph;
  /** Discover one shard's repositories and write a shard graph (for `merge`). */
  shard?: Shard;
  /** Image references in use (the `in-use` file, read by the shell): retention never deletes them. */
  inUse?: InUse;
  /**
   * Devgraph, when configured (the upload's url, token and environment): with a selector's
   * protect_in_use, what its entities point at is read before anything is planned, and kept.
   */
  devgraph?: { url: string; token: string; environment?: string };
  /**
   * Delete what this run's retention plans list (`retention-apply`, `retention apply`), through
   * each registry's adapter, after discovery and before anything is published.
   */
  applyRetention?: { maxDeletions?: number };
  /** Counted into as registries are listed and repositories finish, for the shell's progress display. */
  progress?: RunProgress;
}

export interface RunResult {
  /** Read it before `close()`, which removes the file a discovery's entities wait in. */
  graph: GraphSource;
  summary: string;
  complete: boolean;
  requests: Record<string, number>;
  /** What changed since the previous graph; undefined when there was nothing to compare against (no state, no previous graph given). */
  changes?: GraphChanges;
  /** The retention plans; undefined when no selector has `retention:`. */
  retention?: RetentionReport;
  /** The `require:` verdict; undefined when no selector has one. */
  policy?: PolicyReport;
}

export async function runDiscovery(settings: Settings, opts: RunOptions): Promise<RunResult> {
  const http = opts.http ?? new HttpClient();
  // Until the graph is handed over, an error removes its spill file here.
  let builder: GraphBuilder | undefined;
  let handedOver = false;
  try {
    const directory = opts.stateDir ? new DirectoryState(opts.stateDir) : undefined;
    const state = directory ?? new NoState();
    // A killed run's temporary files are never read; gone before this run writes its own.
    await directory?.removeLeftovers();
    // Read before discovery writes anything, so the comparison is with the last run, not this one;
    // and while the heap is small, so its parsing garbage does not land on a grown heap
    // (docs/performance.md, "Memory: what shaped the code").
    const previous = await previousInventory(state, opts);
    const compare = opts.previousGraph !== undefined || opts.stateDir !== undefined;
    const revalidator = opts.stateDir ? new Revalidator(await state.loadPages()) : undefined;
    http.revalidator = revalidator;
    builder = new GraphBuilder(settings.providers, (json) => opts.secrets.redact(json));
    const spilling = builder;
    const devgraphInUse = await readDevgraphInUseFor(settings, opts, http);
    const planner = RetentionPlanner.wanted(settings.providers)
      ? new RetentionPlanner(settings.providers, opts.inUse, new Date(), devgraphInUse)
      : undefined;
    const adapters = new Map<string, RegistryAdapter>();
    const { progress } = opts;
    progress?.started(settings.providers.length, () => {
      let n = 0;
      for (const c of http.counts.values()) n += c;
      return n;
    });
    // Counted as repositories are done; what they share is known after the last. A shard cannot
    // see the others' repositories: its receipts carry what merge counts instead.
    const storage = runStorage(settings.providers.map((p) => p.name));
    const countStorage = (inventory: RepositoryInventory, receipt: Receipt) => {
      if (opts.shard) receipt.storage_blobs = storageBlobsOf(inventory);
      else storage.of(inventory.provider).add(inventory);
    };
    // Repositories an apply is about to delete from are counted after it, as what stays.
    const countAfterApply: Array<{ inventory: RepositoryInventory; receipt: Receipt }> = [];
    const result = await discover(settings, {
      // Each repository becomes entities as it is done, and its records are dropped.
      onRepository: (provider, repository) => {
        const inventory = inventoryOf(provider.name, provider.apiUrl, repository);
        spilling.addRepository(provider, repository);
        const planned = planner?.add(provider, inventory, repository.lifecycleImages) ?? 0;
        if (opts.applyRetention && planned > 0)
          countAfterApply.push({ inventory, receipt: repository.receipt });
        else countStorage(inventory, repository.receipt);
        progress?.repositoryDone();
      },
      onAdapter: (provider, adapter) => adapters.set(provider.name, adapter),
      ...(progress ? { onListed: (_provider, selected) => progress.registryListed(selected) } : {}),
      http,
      state,
      secrets: opts.secrets,
      log: opts.log,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.ambient ? { ambient: opts.ambient } : {}),
      ...(opts.shard ? { shard: opts.shard } : {}),
    });
    if (revalidator) await state.savePages(revalidator.pages());
    const discarded = directory?.discardNote();
    if (discarded) opts.log.warn(discarded);
    for (const pr of result.providers) if (pr.receipt) builder.addReceipt(pr.receipt);
    const providerNotes = result.providers.flatMap((pr) => pr.notes.map((n) => `${pr.settings.name}: ${n}`));
    const retention = planner?.report();
    let deleted: Set<string> | undefined;
    if (retention && planner && opts.applyRetention) {
      retention.applied = await applyRetention(planner, adapters, opts.applyRetention.maxDeletions);
      for (const m of retention.applied.messages) opts.log.warn(`retention apply: ${m}`);
      // The graph, the comparison, the summary and the upload say what the registry holds now.
      const gone = retention.applied.journal.filter((e) => e.answer === 'deleted');
      builder.removeDeleted(gone);
      deleted = new Set(gone.map((e) => repositoryKey(e.provider, e.repository) + e.digest));
    }
    for (const { inventory, receipt } of countAfterApply)
      countStorage(
        withoutManifests(inventory, (digest) =>
          deleted ? deleted.has(repositoryKey(inventory.provider, inventory.repository) + digest) : false,
        ),
        receipt,
      );
    const listings = result.providers.flatMap((pr) => (pr.receipt ? [pr.receipt] : []));
    if (!opts.shard)
      for (const f of storage.finish(listings)) builder.amend(f.provider, f.repository, 'storage', f.storage);
    const generatedAt = opts.generatedAt ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    // A shard graph carries what merge needs to write the unsharded graph and summary.
    const graph = builder.finish(
      generatedAt,
      opts.shard && {
        ...opts.shard,
        config: configHash(settings),
        requests: result.requests,
        notes: providerNotes,
        storage_blobs: true,
      },
    );
    const changes = compare ? diffGraphsConsuming(previous, graph) : undefined;
    const policy = evaluatePolicy(graph, settings.providers);
    const summary = summarize(
      graph,
      changes,
      opts.secrets,
      policy,
      [
        ...(opts.shard
          ? [
              `Shard ${formatShard(opts.shard)}: only this shard's repositories; merge the graph.json of every shard for the whole inventory.`,
            ]
          : []),
        ...providerNotes,
        ...(devgraphInUse ? [devgraphInUseNote(devgraphInUse)] : []),
        ...(retention ? [retentionNote(retention)] : []),
        requestsNote(result.requests),
        ...(revalidator ? [stateNote(result.savings, revalidator)] : []),
      ],
      retention,
    );
    // Saved redacted, like graph.json: the state directory may be cached outside the runner. The
    // compact JSON is redacted as written, never parsed back, so no second or third copy of the
    // graph is held. Only what the next run's comparison reads is kept (comparisonView).
    await state.savePreviousGraph(comparisonView(graph), (json) => opts.secrets.redact(json));
    handedOver = true;
    return {
      graph,
      summary,
      complete: graph.receipts.every((r) => r.complete),
      requests: result.requests,
      ...(changes ? { changes } : {}),
      ...(policy ? { policy } : {}),
      ...(retention ? { retention } : {}),
    };
  } finally {
    opts.progress?.ended();
    if (!handedOver) builder?.discard();
    if (!opts.http) await http.close();
  }
}

/** Deletes what the run's plans list, through each provider's adapter (applyPlan's rules). */
function applyRetention(
  planner: RetentionPlanner,
  adapters: ReadonlyMap<string, RegistryAdapter>,
  maxDeletions: number | undefined,
): Promise<ApplyResult> {
  const input = planner.applyInput();
  return applyPlan(input.deletions, (name) => adapters.get(name), {
    ...(maxDeletions !== undefined ? { maxDeletions } : {}),
    incomplete: input.incomplete,
    protect: input.protect,
  });
}

/**
 * What the comparison needs of the previous graph, and only this shard's part: a shard holds only
 * its repositories, so the others' are not "removed" from its point of view. A function of its own
 * so that no frame of runDiscovery holds what reading made on the way (an async function's saved
 * registers kept a parsed graph reachable).
 */
async function previousInventory(
  state: StateStore,
  opts: RunOptions,
): Promise<ConsumableInventory | undefined> {
  const { shard } = opts;
  const keep = shard
    ? (provider: string, repository: string) => inShard(provider, repository, shard)
    : undefined;
  if (opts.previousGraph) {
    const { inventory } = opts.previousGraph;
    return inventory && keep ? new ConsumableInventory(keepRepositories(inventory.take(), keep)) : inventory;
  }
  return state.loadPreviousInventory((m) => opts.log.warn(m), keep);
}

/**
 * What Devgraph shows in use, when it is configured and a selector's retention protects what is
 * in use: one paged listing for the whole run, before discovery, as every plan needs it.
 */
async function readDevgraphInUseFor(
  settings: Settings,
  opts: RunOptions,
  http: HttpClient,
): Promise<DevgraphInUse | undefined> {
  if (!opts.devgraph || !RetentionPlanner.protectsInUse(settings.providers)) return undefined;
  const read = await readDevgraphInUse(
    { ...opts.devgraph, http, secrets: opts.secrets },
    settings.providers.map((p) => p.name),
  );
  if ('unreadable' in read)
    opts.log.warn(
      `retention: Devgraph could not be read (${read.unreadable}); nothing is planned for deletion where protect_in_use is on`,
    );
  return read;
}

/** One line on what Devgraph protects, or why it protected everything. */
function devgraphInUseNote(d: DevgraphInUse): string {
  if ('unreadable' in d)
    return `Retention in use: Devgraph could not be read (${d.unreadable}), so no repository with protect_in_use was planned for deletion.`;
  const digests = [...d.uses.values()].reduce((n, m) => n + m.size, 0);
  return `Retention in use: Devgraph shows ${digests} ${digests === 1 ? 'digest' : 'digests'} of this run's images that other entities point at; they are protected.`;
}

/**
 * The run's summary Markdown, redacted: the change report first (on a PR check it is what the
 * reader came for), then the inventory tables with the change note and `notes` under them.
 */
/** What the retention plans would delete and free, in one line (retention-plan.json has it all). */
export function retentionNote(r: RetentionReport): string {
  const planned = r.plans.length - r.skipped;
  const plan = `Retention plan: ${r.deletions} manifest deletions over ${planned} repositories would free ${formatBytes(r.reclaimable_bytes)}${r.skipped > 0 ? `; ${r.skipped} repositories not planned (retention-plan.json says why)` : ''}`;
  if (!r.applied) return `${plan}; nothing is deleted unless apply is asked for.`;
  const c = r.applied.counts;
  const applied = `Retention apply: ${c.deleted} deleted (${formatBytes(r.applied.bytesDeleted)}), ${c.refused} refused, ${c.failed} failed, ${c.skipped} not asked for; the journal is in retention-plan.json${r.applied.stopped ? `. ${r.applied.stopped}` : ''}`;
  return `${plan}.\n\n${applied}.`;
}

export function summarize(
  graph: Graph | GraphSource,
  changes: GraphChanges | undefined,
  secrets: Secrets,
  policy: PolicyReport | undefined,
  notes: string[],
  retention?: RetentionReport,
): string {
  const report = renderChangeReport(changes);
  const changeNote = renderChangeNote(changes);
  return secrets.redact(
    (report ? `${report}\n` : '') +
      renderSummary(graph, {
        notes: [...(changeNote ? [changeNote] : []), ...notes],
        ...(policy ? { policy } : {}),
        ...(retention ? { retention } : {}),
      }),
  );
}

/** One line on what the previous run's state spared the registries, for the summary. */
export function stateNote(
  savings: StateSavings,
  pages: Pick<Revalidator, 'conditional' | 'notModified'>,
): string {
  if (savings.fromState === 0 && savings.conditional === 0 && pages.conditional === 0)
    return 'State: nothing stored from a previous run yet; this run fills it.';
  const parts = [
    `${savings.fromState} manifest and config ${savings.fromState === 1 ? 'fetch' : 'fetches'} saved (already held by digest)`,
  ];
  if (savings.conditional > 0)
    parts.push(`${savings.notModified} of ${savings.conditional} known tags unchanged (304 Not Modified)`);
  if (pages.conditional > 0)
    parts.push(`${pages.notModified} of ${pages.conditional} listing pages unchanged (304 Not Modified)`);
  return `State: ${parts.join('; ')}.`;
}

export function requestsNote(requests: Record<string, number>): string {
  const total = Object.values(requests).reduce((a, b) => a + b, 0);
  const byKind = Object.entries(requests)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `Requests: ${total}${byKind ? ` (${byKind})` : ''}.`;
}

/** SOURCE_DATE_EPOCH (seconds) as an RFC 3339 time, for reproducible output. */
export function generatedAtFromEnv(env: Record<string, string | undefined>): string | undefined {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (!epoch || !/^\d+$/.test(epoch)) return undefined;
  return new Date(Number(epoch) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A previous graph named on the command line or in an input, as the comparison reads it; the one
 * run given it takes `inventory` apart.
 */
export interface PreviousGraph {
  inventory: ConsumableInventory | undefined;
  source: string;
}

/**
 * Reads an explicitly named previous graph into the Inventory the comparison needs, streamed
 * (readInventory), never parsed whole. A missing file is a first run, not an error: on the first
 * PR the default branch has no graph to download yet. A file that is there but is not a graph is
 * an error, because the comparison would be meaningless. `field` names the flag or input.
 */
export async function readPreviousGraph(path: string, field: string, log: Log): Promise<PreviousGraph> {
  const read = await readInventoryFile(path);
  if ('inventory' in read) return { inventory: new ConsumableInventory(read.inventory), source: path };
  if ('missing' in read) {
    log.warn(
      `${field}: ${path} does not exist; treating this run as the first inventory (nothing to compare with)`,
    );
    return { inventory: undefined, source: path };
  }
  if ('unreadable' in read)
    throw new ConfigError([`${field}: cannot read ${path} (${read.unreadable}); check the path`]);
  throw new ConfigError([`${field}: ${path} is not a devgraph-docker graph: ${read.error}`]);
}
