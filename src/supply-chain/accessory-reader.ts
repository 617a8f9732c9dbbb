// Finds the accessories of the selected images (signatures, attestations, SBOMs, other artifacts)
// wherever the registry keeps them, and reads each once by digest:
//   1. the OCI 1.1 referrers API, asked once per subject; a registry found without it is
//      remembered in the state and not asked again for a week;
//   2. the referrers tag schema's fallback index under `sha256-<hex>`;
//   3. cosign's legacy `sha256-<hex>.sig|.att|.sbom` tags;
//   4. sigstore bundles, found by 1 or 2 and told apart by their predicate type annotation;
//   5. BuildKit attestation manifests inside an image index;
//   6. what a vendor's own API lists (Harbor accessories, ECR referrers, GitHub attestations).
// Tags for 2 and 3 come from the tag listing already made, so they cost no listing request.
import { errorMessage } from '../errors.js';
import type { Tally } from '../http/http-client.js';
import type {
  ImageTrust,
  ManifestRecord,
  ManifestRole,
  SignatureVerdict,
  VulnerabilityCounts,
} from '../model/discovery.js';
import { type IndexChild, type LayerRef, parseManifest, parseReferrersIndex } from '../oci/manifest.js';
import type { Referrers, RegistryClient } from '../oci/registry-client.js';
import type { ReferrerDescriptor, VendorAttestations } from '../registries/registry-adapter.js';
import { classifyAccessory, type FoundAs, isProvenancePredicate, isSbomPredicate } from './classify.js';
import { strongestVerdict } from './signature-check.js';

/** The digest of no content: what the API probe asks for. */
const NOTHING = `sha256:${'0'.repeat(64)}`;
/** How long a registry found without the referrers API is not asked again. */
const ABSENT_API_RECHECK_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * How long a vendor store's answer for a digest stands. Its API is rationed (a workflow's
 * GITHUB_TOKEN has 1,000 requests an hour) and answers "none" with a 404 that cannot be
 * revalidated; attestations are made when an image is built, so a day-old answer rarely misses one.
 */
const VENDOR_ANSWER_MS = 24 * 60 * 60 * 1000;

/**
 * The checks that need an accessory's blobs (accessory-checks.ts). Each is optional; a blob is
 * fetched only when a check asks for it, at most once per digest.
 */
export interface AccessoryChecks {
  /**
   * With verify keys: the verdict on the signature one layer of an accessory holds (a signature's,
   * or an attestation's DSSE envelope or bundle), undefined for a layer that holds none.
   */
  signature?(
    layer: LayerRef,
    blob: () => Promise<Buffer>,
    subject: string,
    role: ManifestRole,
  ): Promise<{ verdict: SignatureVerdict; reason: string } | undefined>;
  /** With discover_vulnerabilities: the counts a layer of an accessory holds, if it is a report. */
  vulnerabilities?(
    layer: LayerRef,
    accessory: { artifactType?: string; predicateTypes: readonly string[] },
    blob: () => Promise<Buffer>,
  ): Promise<VulnerabilityCounts | undefined>;
}

/** Content by digest, each read at most once (discovery's ManifestFetcher). */
export interface ContentSource {
  bytes(repo: string, digest: string, tally: Tally): Promise<{ bytes: Buffer; mediaType: string }>;
  blob(repo: string, digest: string, tally: Tally): Promise<Buffer>;
}

export interface ReaderOptions {
  client: RegistryClient;
  fetcher: ContentSource;
  checks: AccessoryChecks;
  /** What the previous run learnt of the registry (RegistryFacts in the state). */
  referrersApiAbsentSince?: string;
  vendorAnswers?: Record<string, { predicateTypes: string[]; checkedAt: string }>;
  now?: () => Date;
  /** Findings that do not make a listing incomplete: a bad signature, an unreadable report. */
  warn: (message: string) => void;
  vendorAttestations?: (
    repo: string,
    digest: string,
    tally: Tally,
  ) => Promise<VendorAttestations | undefined>;
}

/** One selected image: its tag's digest and the manifests its tree holds (index first). */
export interface SelectedImage {
  digest: string;
  tree: readonly ManifestRecord[];
}

/** An accessory tag seen in the listing and what it points at (resolved by the caller on demand). */
export interface AccessoryTag {
  tag: string;
  kind: 'sig' | 'att' | 'sbom' | 'fallback';
  subject: string;
}

export interface RepositoryAccessories {
  repo: string;
  images: readonly SelectedImage[];
  /** Accessory tags of the listing, by the digest they belong to. */
  tags: ReadonlyMap<string, readonly AccessoryTag[]>;
  /** Resolves an accessory tag to its digest, keeping its bytes for reading (see ManifestFetcher). */
  resolveTag(tag: string): Promise<string>;
  vendorReferrers?: ReadonlyMap<string, readonly ReferrerDescriptor[]> | undefined;
  tally: Tally;
}

export interface AccessoryFindings {
  /** Every accessory manifest found, each once. */
  manifests: ManifestRecord[];
  /** Per selected image digest; an image whose accessories could not all be read has none. */
  trust: Map<string, ImageTrust>;
  /** Counts read from attached reports, per selected image digest. */
  vulnerabilities: Map<string, VulnerabilityCounts>;
  errors: string[];
}

/** Where one accessory was found: the subject it describes and what the finding says of it. */
interface Lead {
  digest: string;
  subject: string;
  foundAs?: FoundAs;
}

export class AccessoryReader {
  private api: 'unknown' | 'present' | 'absent';
  /** The run's one question whether the registry has the API (see probe). */
  private probed: Promise<void> | undefined;
  private absentAnswer: string | undefined;
  /** Vendor store answers used this run, by digest, for the next run (see VENDOR_ANSWER_MS). */
  private readonly vendorAnswers = new Map<string, { predicateTypes: string[]; checkedAt: string }>();

  constructor(private readonly opts: ReaderOptions) {
    const since = opts.referrersApiAbsentSince ? Date.parse(opts.referrersApiAbsentSince) : Number.NaN;
    const now = (opts.now ?? (() => new Date()))().getTime();
    this.api = !Number.isNaN(since) && now - since < ABSENT_API_RECHECK_MS ? 'absent' : 'unknown';
  }

  /** For the state: when the registry was found without the referrers API, if it was. */
  referrersApiAbsentSince(): string | undefined {
    if (this.api !== 'absent') return undefined;
    return this.absentAnswer === undefined
      ? this.opts.referrersApiAbsentSince
      : (this.opts.now ?? (() => new Date()))().toISOString();
  }

  /** Vendor store answers to keep for the next run. */
  vendorAnswersToKeep(): Record<string, { predicateTypes: string[]; checkedAt: string }> | undefined {
    if (this.vendorAnswers.size === 0) return undefined;
    return Object.fromEntries([...this.vendorAnswers].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** One line for the run summary about the referrers API, when it was asked this run. */
  note(): string | undefined {
    if (this.absentAnswer !== undefined)
      return `supply chain: no OCI referrers API (it answered ${this.absentAnswer}); read the referrers tag schema and cosign tags instead, and not asking again for 7 days`;
    return undefined;
  }

  async read(input: RepositoryAccessories): Promise<AccessoryFindings> {
    const errors: string[] = [];
    const failed = new Set<string>();
    const leads: Lead[] = [];
    const subjects = new Set<string>();
    for (const image of input.images) for (const m of image.tree) subjects.add(m.digest);

    await Promise.all(
      [...subjects].map(async (subject) => {
        try {
          leads.push(...(await this.leadsFor(input, subject)));
        } catch (err) {
          failed.add(subject);
          errors.push(`accessories of ${subject}: ${errorMessage(err)}`);
        }
      }),
    );
    for (const image of input.images)
      for (const m of image.tree)
        for (const a of m.attestationChildren ?? [])
          leads.push({ digest: a.digest, subject: a.subject ?? m.digest, foundAs: 'buildkit-attestation' });

    // One read per digest: an artifact found by two schemes (BuildKit's newer attestation
    // manifests are index children and referrers) is one accessory.
    const byDigest = new Map<string, Lead>();
    const subjectsOf = new Map<string, Set<string>>();
    for (const lead of leads) {
      const known = byDigest.get(lead.digest);
      if (!known || (!known.foundAs && lead.foundAs)) byDigest.set(lead.digest, lead);
      const subjects = subjectsOf.get(lead.digest) ?? new Set<string>();
      subjects.add(lead.subject);
      subjectsOf.set(lead.digest, subjects);
    }
    const manifests: ManifestRecord[] = [];
    const reports = new Map<string, VulnerabilityCounts>();
    await Promise.all(
      [...byDigest.values()].map(async (lead) => {
        try {
          const read = await this.readAccessory(input, lead);
          if (!read) return;
          const others = [...(subjectsOf.get(lead.digest) ?? [])]
            .filter((s) => s !== read.record.subject)
            .sort();
          if (others.length > 0) read.record.alsoRefersTo = others;
          manifests.push(read.record);
          if (read.report && read.record.subject) reports.set(read.record.subject, read.report);
        } catch (err) {
          failed.add(lead.subject);
          errors.push(`accessory ${lead.digest} of ${lead.subject}: ${errorMessage(err)}`);
        }
      }),
    );
    manifests.sort((a, b) => (a.digest < b.digest ? -1 : 1));

    const trust = new Map<string, ImageTrust>();
    const vulnerabilities = new Map<string, VulnerabilityCounts>();
    await Promise.all(
      input.images.map(async (image) => {
        const children = image.tree.filter((m) => m.digest !== image.digest).map((m) => m.digest);
        if ([image.digest, ...children].some((d) => failed.has(d))) return;
        const vendor = await this.vendorFacts(input, image.digest, errors);
        trust.set(
          image.digest,
          imageTrust(image.digest, children, manifests, vendor, !!this.opts.checks.signature),
        );
        const report = reports.get(image.digest) ?? rollUp(children.map((d) => reports.get(d)));
        if (report) vulnerabilities.set(image.digest, report);
      }),
    );
    return { manifests, trust, vulnerabilities, errors: errors.sort() };
  }

  /**
   * The predicate types a vendor's attestation store holds for `digest`: none without such a store,
   * undefined when the store could not be asked (no token, a refusal, its budget spent, an error).
   */
  private async vendorFacts(
    input: RepositoryAccessories,
    digest: string,
    errors: string[],
  ): Promise<string[] | undefined> {
    if (!this.opts.vendorAttestations) return [];
    const now = (this.opts.now ?? (() => new Date()))();
    const known = this.opts.vendorAnswers?.[digest];
    if (known && now.getTime() - Date.parse(known.checkedAt) < VENDOR_ANSWER_MS) {
      this.vendorAnswers.set(digest, known);
      return known.predicateTypes;
    }
    try {
      const answer = await this.opts.vendorAttestations(input.repo, digest, input.tally);
      // Not kept when the store could not be asked: the next run asks again.
      if (answer)
        this.vendorAnswers.set(digest, {
          predicateTypes: answer.predicateTypes,
          checkedAt: now.toISOString(),
        });
      return answer?.predicateTypes;
    } catch (err) {
      errors.push(`vendor attestations of ${digest}: ${errorMessage(err)}`);
      return undefined;
    }
  }

  /** Every accessory of one subject the registry can name, before any is read. */
  private async leadsFor(input: RepositoryAccessories, subject: string): Promise<Lead[]> {
    const leads: Lead[] = [];
    for (const d of (await this.referrers(input, subject)) ?? []) leads.push({ digest: d.digest, subject });
    for (const d of input.vendorReferrers?.get(subject) ?? []) leads.push({ digest: d.digest, subject });
    for (const t of input.tags.get(subject) ?? []) {
      const digest = await input.resolveTag(t.tag);
      if (t.kind !== 'fallback') {
        leads.push({ digest, subject, foundAs: t.kind });
        continue;
      }
      // GitLab answers the fallback tag with the subject itself: its children are not referrers.
      if (digest === subject) continue;
      const { bytes } = await this.opts.fetcher.bytes(input.repo, digest, input.tally);
      const descriptors = parseReferrersIndex(bytes);
      if (!descriptors) continue;
      for (const d of descriptors) leads.push({ digest: d.digest, subject });
    }
    return leads;
  }

  /**
   * Asks once per run, before any subject, whether the registry has the referrers API, with the
   * digest of nothing (a registry with the API answers an empty index). Asked apart from any
   * repository's requests, so every receipt counts the same requests whichever repository comes
   * first. A failed question leaves the answer to the first subject's own request.
   */
  private probe(repo: string): Promise<void> {
    this.probed ??= (async () => {
      if (this.api !== 'unknown') return;
      try {
        this.learn(await this.opts.client.referrers(repo, NOTHING, undefined, 'referrers-probe'));
      } catch {
        // Unknown still: each subject asks, and the first answer decides.
      }
    })();
    return this.probed;
  }

  private learn(r: Referrers): void {
    if (this.api !== 'unknown') return;
    this.api = r.api ? 'present' : 'absent';
    if (!r.api) this.absentAnswer = r.answer;
  }

  /** The referrers API's answer for a subject; undefined when the registry has no such API. */
  private async referrers(input: RepositoryAccessories, subject: string): Promise<IndexChild[] | undefined> {
    await this.probe(input.repo);
    if (this.api === 'absent') return undefined;
    const r = await this.opts.client.referrers(input.repo, subject, input.tally);
    this.learn(r);
    if (!r.api) return undefined;
    if (!r.complete) throw new Error(`referrers listing: ${r.problem}`);
    return r.descriptors;
  }

  private async readAccessory(
    input: RepositoryAccessories,
    lead: Lead,
  ): Promise<{ record: ManifestRecord; report?: VulnerabilityCounts } | undefined> {
    const { repo, tally } = input;
    const { bytes, mediaType } = await this.opts.fetcher.bytes(repo, lead.digest, tally);
    const parsed = parseManifest(bytes, mediaType, `${this.opts.client.host}/${repo}@${lead.digest}`);
    if (parsed.kind === 'schema1') return undefined;
    if (parsed.kind === 'index') {
      return {
        record: {
          digest: lead.digest,
          mediaType,
          schemaVersion: 2,
          documentSize: bytes.length,
          labels: {},
          role: 'artifact',
          subject: lead.subject,
        },
      };
    }
    const shape = classifyAccessory(
      {
        ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
        ...(parsed.config.mediaType ? { configMediaType: parsed.config.mediaType } : {}),
        layers: parsed.layers,
        ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
      },
      lead.foundAs,
    );
    const subject = parsed.subject ?? lead.subject;
    const created = parsed.annotations?.['org.opencontainers.image.created'];
    const record: ManifestRecord = {
      digest: lead.digest,
      mediaType,
      schemaVersion: 2,
      configDigest: parsed.config.digest,
      layerDigests: parsed.layers.map((l) => l.digest),
      configSize: parsed.config.size,
      layerSizes: parsed.layers.map((l) => l.size),
      documentSize: bytes.length,
      size: parsed.config.size + parsed.layers.reduce((sum, l) => sum + l.size, 0),
      labels: {},
      ...(created ? { created } : {}),
      role: shape.role,
      ...(shape.artifactType ? { artifactType: shape.artifactType } : {}),
      ...(shape.predicateTypes.length > 0 ? { predicateTypes: shape.predicateTypes } : {}),
      subject,
    };
    const { checks, warn } = this.opts;
    const where = `${this.opts.client.host}/${repo}@${lead.digest}`;
    // The signature check and the report reader can both need one layer (a signed vulnerability
    // attestation), and without a state directory the fetcher keeps no blob: read it once here.
    const blobs = new Map<string, Promise<Buffer>>();
    const blob = (layer: LayerRef) => () => {
      let read = blobs.get(layer.digest);
      if (!read) {
        read = this.opts.fetcher.blob(repo, layer.digest, tally);
        blobs.set(layer.digest, read);
      }
      return read;
    };
    // Every accessory is asked, not only signatures: attestations carry signatures too (DSSE
    // envelopes, bundles), and the check fetches a layer's blob only when it holds one.
    if (checks.signature) {
      const verdicts: SignatureVerdict[] = [];
      const what = shape.role === 'signature' ? 'signature' : `signed ${shape.role}`;
      for (const layer of parsed.layers) {
        const check = await checks.signature(layer, blob(layer), subject, shape.role);
        if (!check) continue;
        verdicts.push(check.verdict);
        if (check.verdict === 'bad') warn(`${where}: a bad ${what} of ${subject}: ${check.reason}`);
      }
      const verification = strongestVerdict(verdicts);
      if (verification) record.verification = verification;
    }
    let report: VulnerabilityCounts | undefined;
    for (const layer of checks.vulnerabilities ? parsed.layers : []) {
      try {
        report = await checks.vulnerabilities!(layer, shape, blob(layer));
      } catch (err) {
        warn(`${where}: the vulnerability report cannot be read: ${errorMessage(err)}`);
      }
      if (report) break;
    }
    return report ? { record, report } : { record };
  }
}

/**
 * The rule for an image's flags: an accessory counts when it refers to the tag's digest, or when
 * one refers to every platform manifest of it. `vendorPredicates` is undefined when a vendor store
 * could not be asked: an SBOM or provenance the registry does not show is then unknown, not false.
 */
export function imageTrust(
  digest: string,
  platforms: readonly string[],
  accessories: readonly ManifestRecord[],
  vendorPredicates: readonly string[] | undefined,
  verifying: boolean,
): ImageTrust {
  const holds = (test: (m: ManifestRecord) => boolean, namedOnly = false): boolean => {
    const on = new Set(
      accessories.filter(test).flatMap((m) => [m.subject, ...(namedOnly ? [] : (m.alsoRefersTo ?? []))]),
    );
    return on.has(digest) || (platforms.length > 0 && platforms.every((p) => on.has(p)));
  };
  const predicates = (m: ManifestRecord) => m.predicateTypes ?? [];
  const found = (inRegistry: boolean, isType: (predicateType: string) => boolean): boolean | undefined =>
    inRegistry || (vendorPredicates === undefined ? undefined : vendorPredicates.some(isType));
  const trust: ImageTrust = { signed: holds((m) => m.role === 'signature') };
  const sbom = found(
    holds((m) => m.role === 'sbom' || predicates(m).some(isSbomPredicate)),
    isSbomPredicate,
  );
  const provenance = found(
    holds((m) => predicates(m).some(isProvenancePredicate)),
    isProvenancePredicate,
  );
  if (sbom !== undefined) trust.sbom = sbom;
  if (provenance !== undefined) trust.provenance = provenance;
  // A verified signature vouches only for the digest it names, not for every tag it was found under.
  if (verifying) trust.verified = holds((m) => m.role === 'signature' && m.verification === 'verified', true);
  return trust;
}

/** Platform manifests' counts added up into their image's, when every platform has a report. */
export function rollUp(
  counts: ReadonlyArray<VulnerabilityCounts | undefined>,
): VulnerabilityCounts | undefined {
  if (counts.length === 0 || counts.some((c) => !c)) return undefined;
  const sum: VulnerabilityCounts = { total: 0 };
  for (const c of counts as VulnerabilityCounts[]) {
    for (const [k, v] of Object.entries(c)) {
      if (typeof v !== 'number') continue;
      const key = k as Exclude<keyof VulnerabilityCounts, 'source'>;
      sum[key] = (sum[key] ?? 0) + v;
    }
  }
  const sources = [...new Set(counts.map((c) => c!.source).filter((s): s is string => !!s))];
  sum.source = `${sources.join(', ') || 'registry scanner'}, summed over platform manifests`;
  return sum;
}
