// Manifests and configs are content-addressed, so each is fetched at most once per digest: first
// from this run's memory, then from the state directory, then from the registry (and stored).
import type { Tally } from '../http/http-client.js';
import { settleAll } from '../http/semaphore.js';
import type { ManifestRecord, Platform, StateSavings } from '../model/discovery.js';
import {
  type ImageConfig,
  inferManifestMediaType,
  isImageConfigType,
  type ParsedManifest,
  parseImageConfig,
  parseManifest,
} from '../oci/manifest.js';
import type { RegistryClient } from '../oci/registry-client.js';
import { NoState, type StateStore } from '../state/state-store.js';

export class ManifestFetcher {
  readonly savings: StateSavings = { fromState: 0, conditional: 0, notModified: 0 };
  private readonly records = new Map<string, Promise<ManifestRecord>>();
  private readonly configs = new Map<string, Promise<ImageConfig>>();
  /** Manifest bytes read from the state by holds(), waiting for load(). */
  private readonly held = new Map<string, Buffer>();

  constructor(
    private readonly client: RegistryClient,
    private readonly state: StateStore,
    /** Resolve every tag with a HEAD, even an unknown one: where GETs count as pulls (Docker Hub). */
    private readonly headFirst = false,
  ) {}

  /**
   * A tag's digest. A tag never seen costs one GET, whose body we keep. A tag seen before, whose
   * manifest the state holds, costs one conditional GET: 304 when it has not moved, the new
   * manifest in the same request when it has. Where GETs count as pulls (Docker Hub) every tag is
   * resolved with a HEAD instead.
   */
  async resolveTag(
    repo: string,
    tag: string,
    previousDigest: string | undefined,
    tally: Tally,
    /** The tag holds an accessory: keep its bytes for bytes() instead of reading it as an image. */
    accessory = false,
  ): Promise<string> {
    const adopt = (digest: string, bytes: Buffer, mediaType: string) =>
      accessory ? this.keep(digest, bytes) : this.adopt(repo, digest, bytes, mediaType, tally);
    if (this.headFirst) {
      const head = await this.client.headManifest(repo, tag, tally);
      if ('bytes' in head) await adopt(head.digest, head.bytes, head.mediaType);
      return head.digest;
    }
    if (previousDigest && (await this.holds(previousDigest))) {
      this.savings.conditional++;
      const answer = await this.client.getManifestIfChanged(repo, tag, previousDigest, tally);
      if ('unchanged' in answer) {
        this.savings.notModified++;
        return previousDigest;
      }
      this.held.delete(previousDigest);
      await adopt(answer.digest, answer.bytes, answer.mediaType);
      return answer.digest;
    }
    const fetched = await this.client.getManifest(repo, tag, tally);
    await adopt(fetched.digest, fetched.bytes, fetched.mediaType);
    return fetched.digest;
  }

  /** Bytes of a manifest just fetched, stored and held for the bytes() that follows. */
  private async keep(digest: string, bytes: Buffer): Promise<void> {
    this.held.set(digest, bytes);
    await this.state.putContent(digest, bytes);
  }

  /**
   * A manifest's bytes and media type, read as they are (no config, no children): this run's
   * fetch, the state directory, else the registry. For accessories, which are classified from
   * their own bytes.
   */
  async bytes(repo: string, digest: string, tally: Tally): Promise<{ bytes: Buffer; mediaType: string }> {
    const stored = this.held.get(digest) ?? (await this.state.getContent(digest));
    this.held.delete(digest);
    const mediaType = stored ? inferManifestMediaType(stored) : undefined;
    if (stored && mediaType) {
      this.savings.fromState++;
      return { bytes: stored, mediaType };
    }
    const fetched = await this.client.getManifest(repo, digest, tally);
    await this.state.putContent(digest, fetched.bytes);
    return fetched;
  }

  /** A blob by digest (a config, a signature payload, a report): the state directory, else the registry. */
  async blob(repo: string, digest: string, tally: Tally): Promise<Buffer> {
    const stored = await this.state.getContent(digest);
    if (stored) {
      this.savings.fromState++;
      return stored;
    }
    const bytes = await this.client.getBlob(repo, digest, tally);
    await this.state.putContent(digest, bytes);
    return bytes;
  }

  /** Whether this run or the state already has a manifest, so a 304 for it would be usable. */
  private async holds(digest: string): Promise<boolean> {
    if (this.records.has(digest) || this.held.has(digest)) return true;
    const stored = await this.state.getContent(digest);
    if (!stored || !inferManifestMediaType(stored)) return false;
    // Kept for load(), which follows for an unchanged tag, so the file is read and hashed once.
    this.held.set(digest, stored);
    return true;
  }

  /**
   * Drops this run's cached records (and their configs) of manifests outside `keep`: a
   * repository's tags past max_tags were read only for their dates, and holding them made memory
   * follow every tag listed instead of those selected (bench --scale, plain OCI). Another
   * repository needing one again reads it back from the state directory; with no state directory
   * that would be a second fetch, so then nothing is dropped.
   */
  forget(records: Iterable<ManifestRecord>, keep: ReadonlySet<string>): void {
    if (this.state instanceof NoState) return;
    for (const r of records) {
      if (keep.has(r.digest)) continue;
      this.records.delete(r.digest);
      if (r.configDigest) this.configs.delete(r.configDigest);
    }
  }

  /** The record for a manifest and, for an index, for each of its platform manifests. */
  async tree(repo: string, digest: string, tally: Tally): Promise<ManifestRecord[]> {
    const root = await this.load(repo, digest, tally);
    const children = await settleAll((root.children ?? []).map((d) => this.load(repo, d, tally)));
    return [root, ...children];
  }

  private adopt(repo: string, digest: string, bytes: Buffer, mediaType: string, tally: Tally): void {
    if (this.records.has(digest)) return;
    const record = (async () => {
      await this.state.putContent(digest, bytes);
      return this.build(repo, digest, bytes, mediaType, tally);
    })();
    this.records.set(digest, record);
    record.catch(() => this.records.delete(digest));
  }

  private load(repo: string, digest: string, tally: Tally, platformHint?: Platform): Promise<ManifestRecord> {
    let record = this.records.get(digest);
    if (!record) {
      record = (async () => {
        const stored = this.held.get(digest) ?? (await this.state.getContent(digest));
        this.held.delete(digest);
        const mediaType = stored ? inferManifestMediaType(stored) : undefined;
        if (stored && mediaType) {
          this.savings.fromState++;
          return this.build(repo, digest, stored, mediaType, tally, platformHint);
        }
        const fetched = await this.client.getManifest(repo, digest, tally);
        await this.state.putContent(digest, fetched.bytes);
        return this.build(repo, digest, fetched.bytes, fetched.mediaType, tally, platformHint);
      })();
      this.records.set(digest, record);
      // A failure is not cached: another tag may try again (e.g. after a token refresh).
      record.catch(() => this.records.delete(digest));
    }
    return record;
  }

  private async config(repo: string, digest: string, tally: Tally): Promise<ImageConfig> {
    let config = this.configs.get(digest);
    if (!config) {
      config = this.blob(repo, digest, tally).then((bytes) =>
        parseImageConfig(bytes, `${this.client.host}/${repo}@${digest}`),
      );
      this.configs.set(digest, config);
      config.catch(() => this.configs.delete(digest));
    }
    return config;
  }

  private async build(
    repo: string,
    digest: string,
    bytes: Buffer,
    mediaType: string,
    tally: Tally,
    platformHint?: Platform,
  ): Promise<ManifestRecord> {
    const parsed: ParsedManifest = parseManifest(bytes, mediaType, `${this.client.host}/${repo}@${digest}`);
    // Every record starts with literal properties: one that starts with a spread (`...base`) and
    // goes on gets a hidden class of its own in V8, per record.
    const { schemaVersion } = parsed;
    if (parsed.kind === 'schema1') {
      return {
        digest,
        mediaType,
        schemaVersion,
        layerDigests: parsed.layers,
        documentSize: bytes.length,
        labels: {},
        ...(parsed.architecture ? { platform: { architecture: parsed.architecture, os: 'linux' } } : {}),
        ...(parsed.created ? { created: parsed.created } : {}),
      };
    }
    if (parsed.kind === 'image') {
      const { config: described, layers } = parsed;
      const image = (labels: Record<string, string>, rest: Partial<ManifestRecord>): ManifestRecord => ({
        digest,
        mediaType,
        schemaVersion,
        configDigest: described.digest,
        layerDigests: layers.map((l) => l.digest),
        configSize: described.size,
        layerSizes: layers.map((l) => l.size),
        documentSize: bytes.length,
        size: described.size + layers.reduce((sum, l) => sum + l.size, 0),
        labels,
        ...rest,
      });
      if (!isImageConfigType(described.mediaType))
        return image({}, { artifact: true, ...(platformHint ? { platform: platformHint } : {}) });
      const config = await this.config(repo, described.digest, tally);
      const platform = config.architecture && config.os ? platformOf(config) : platformHint;
      const rest: Partial<ManifestRecord> = {};
      if (config.created) rest.created = config.created;
      if (platform) rest.platform = platform;
      return image(config.labels, rest);
    }
    const platforms = parsed.children.filter((c) => !c.attestation);
    const attestations = parsed.children.filter((c) => c.attestation);
    const children = await settleAll(
      platforms.map((c) => this.load(repo, c.digest, tally, c.platform ? platformOf(c.platform) : undefined)),
    );
    const primary =
      children.find((c) => c.platform?.os === 'linux' && c.platform.architecture === 'amd64') ?? children[0];
    const created = children
      .map((c) => c.created)
      .filter((c): c is string => !!c)
      .sort()
      .pop();
    return {
      digest,
      mediaType,
      schemaVersion,
      layerDigests: [],
      documentSize: bytes.length,
      size: children.reduce((sum, c) => sum + (c.size ?? 0), 0),
      labels: primary?.labels ?? {},
      children: children.map((c) => c.digest),
      attestations: attestations.length,
      ...(created ? { created } : {}),
      ...(attestations.length > 0
        ? {
            attestationChildren: attestations.map((a) => {
              const subject = a.annotations?.['vnd.docker.reference.digest'];
              return subject ? { digest: a.digest, subject } : { digest: a.digest };
            }),
          }
        : {}),
    };
  }
}

function platformOf(p: { architecture?: string; os?: string; variant?: string }): Platform {
  return {
    architecture: p.architecture ?? 'unknown',
    os: p.os ?? 'unknown',
    ...(p.variant ? { variant: p.variant } : {}),
  };
}
