// Discovery result → Devgraph entities and relations (reference/devgraph.md §3). The same
// discovery gives the same graph, sorted, so identical registries give identical files; the
// entities wait in a temporary file (entity-spill.ts) until the outputs read them.
import type { ProviderSettings } from '../config/settings.js';
import {
  type ManifestRecord,
  type Platform,
  type Receipt,
  type RepositoryResult,
  roleOf,
} from '../model/discovery.js';
import {
  API_VERSION,
  DISCOVERY_SOURCE,
  type Entity,
  type GraphReceipt,
  type Relation,
  type ShardRecord,
} from '../model/graph.js';
import { EntitySpill } from './entity-spill.js';
import { type NameEntry, plainName, UniqueNames } from './names.js';
import { formatShard } from './shard.js';
import { EntityTable, RelationTable, SpilledGraph } from './spilled-graph.js';

/** A manifest a retention apply deleted, with every tag that went with it. */
export interface RemovedManifest {
  provider: string;
  repository: string;
  digest: string;
  tags: readonly string[];
}

export function registryEntityName(p: ProviderSettings): string {
  return p.registryType === 'docker-hub' ? 'docker-hub' : new URL(p.apiUrl).hostname;
}

export function platformString(p: Platform | undefined): string | undefined {
  if (!p) return undefined;
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The GitHub repository an image says it was built from, per the OCI annotation conventions. */
export function sourceRepository(labels: Record<string, string>): string | undefined {
  const source = labels['org.opencontainers.image.source'];
  if (source) return source;
  for (const key of ['org.opencontainers.image.url', 'org.label-schema.vcs-url']) {
    const v = labels[key];
    if (v && /^https?:\/\/github\.com\//.test(v)) return v;
  }
  return undefined;
}

/**
 * What an entity's name is made from (`raw`) and what tells it apart (`key`). Names are made
 * unique over the whole set, so merging shard graphs renames with these same keys.
 */
export const nameKeys = {
  repository: (provider: string, repository: string) => ({
    key: `${provider}\u0000${repository}`,
    raw: repository,
  }),
  image: (provider: string, repository: string, tag: string) => ({
    key: `${provider}\u0000${repository}\u0000${tag}`,
    raw: `${repository}-${tag}`,
  }),
  manifest: (provider: string, repository: string, digest: string) => ({
    key: `${provider}\u0000${repository}\u0000${digest}`,
    raw: `${repository}-manifest-${digest.split(':')[1]!.slice(0, 12)}`,
  }),
};

/**
 * Entities and relations built as repositories arrive, in any order. A name depends on every
 * other name of its kind (collisions), so each entity is built with the name it gets when nothing
 * collides and `finish` renames the few that do. Each entity goes to the spill as soon as it is
 * made; what stays in memory is its number in the EntityTable, which relations name it by, so a
 * rename reaches them all.
 */
export class GraphBuilder {
  private readonly entities = new EntityTable(new EntitySpill());
  private readonly relations = new RelationTable();
  private readonly receipts: Receipt[] = [];
  private readonly registryIds = new Map<string, number>();
  /** DockerRepository numbers by provider and repository name (nameKeys.repository), for amend. */
  private readonly repositoryIds = new Map<string, number>();
  private readonly sharedTexts = new Map<string, string>();
  private readonly redact: (json: string) => string;

  /**
   * `redact` is applied to each entity's JSON as it is spilled, so no credential that surfaced in
   * registry data reaches the disk (outputs are redacted again as written, with every secret
   * known by then).
   */
  constructor(providers: ProviderSettings[], redact: (json: string) => string = (json) => json) {
    this.redact = redact;
    // Registries are few and known up front: their names are final at once.
    const names = new UniqueNames(() =>
      providers.map((p) => ({ key: p.name, raw: registryEntityName(p), ns: p.namespace })),
    );
    for (const p of providers) {
      const name = names.get(p.namespace, p.name, registryEntityName(p));
      const id = this.add({
        apiVersion: API_VERSION,
        kind: 'DockerRegistry',
        metadata: {
          name,
          namespace: p.namespace,
          labels: { 'devgraph.ai/provider': 'docker', 'devgraph.ai/registry-type': p.registryType },
          annotations: { [DISCOVERY_SOURCE]: p.name },
        },
        spec: {
          name,
          registry_type: p.registryType,
          url: p.apiUrl,
          description: `${p.registryType} Docker registry`,
          public: p.registryType === 'docker-hub',
        },
      });
      this.registryIds.set(p.name, id);
    }
  }

  /** A registry-level receipt (the repository listing failed or was cut short). */
  addReceipt(receipt: Receipt): void {
    this.receipts.push(receipt);
  }

  addRepository(p: ProviderSettings, repo: RepositoryResult): void {
    const registryId = this.registryIds.get(p.name);
    if (registryId === undefined)
      throw new Error(`addRepository: provider ${p.name} was not given to the GraphBuilder`);
    const ns = p.namespace;
    this.receipts.push(repo.receipt);
    const annotations = { [DISCOVERY_SOURCE]: p.name };
    const repoLabels = {
      'devgraph.ai/provider': 'docker',
      'devgraph.ai/registry-type': p.registryType,
      'devgraph.ai/repository-name': repo.name,
    };
    const slash = repo.name.indexOf('/');
    // The newest selected image speaks for the repository's source.
    const newestRoot = [...repo.images]
      .map((i) => repo.manifests.get(i.digest))
      .filter((m): m is ManifestRecord => !!m)
      .sort((a, b) => ((a.created ?? '') < (b.created ?? '') ? 1 : -1))[0];
    const repoId = this.add({
      apiVersion: API_VERSION,
      kind: 'DockerRepository',
      metadata: {
        name: this.plain(nameKeys.repository(p.name, repo.name)),
        namespace: ns,
        labels: repoLabels,
        annotations,
      },
      spec: {
        name: slash < 0 ? repo.name : repo.name.slice(slash + 1),
        full_name: repo.name,
        namespace: slash < 0 ? undefined : repo.name.slice(0, slash),
        description: repo.info?.description || undefined,
        official: repo.info?.official ?? false,
        automated: repo.info?.automated ?? false,
        star_count: repo.info?.star_count,
        pull_count: repo.info?.pull_count,
        last_updated: repo.info?.last_updated,
        registry_url: p.apiUrl,
        source_repository: newestRoot ? sourceRepository(newestRoot.labels) : undefined,
      },
    });
    this.relations.add('BELONGS_TO', repoId, registryId);
    this.repositoryIds.set(nameKeys.repository(p.name, repo.name).key, repoId);

    const manifestIds = new Map<string, number>();
    for (const m of repo.manifests.values()) {
      const manifestId = this.add({
        apiVersion: API_VERSION,
        kind: 'DockerManifest',
        metadata: {
          name: this.plain(nameKeys.manifest(p.name, repo.name, m.digest)),
          namespace: ns,
          // Written out, not spread from repoLabels: V8 gives every spread copy a hidden class of
          // its own.
          labels: {
            'devgraph.ai/provider': 'docker',
            'devgraph.ai/registry-type': p.registryType,
            'devgraph.ai/repository-name': repo.name,
            'devgraph.ai/manifest-digest': m.digest,
          },
          annotations,
        },
        spec: {
          repository: repo.name,
          digest: m.digest,
          media_type: this.shared(m.mediaType),
          schema_version: m.schemaVersion,
          architecture: m.platform?.architecture,
          os: m.platform?.os,
          variant: m.platform?.variant,
          size: m.size,
          config_digest: m.configDigest,
          layer_digests: m.layerDigests,
          created: m.created,
          platforms: m.children ? platformsOf(m, repo.manifests) : undefined,
          role: roleOf(m),
          artifact_type: m.artifactType,
          predicate_types: m.predicateTypes,
          subject: m.subject,
          verification: m.verification,
          registry_url: p.apiUrl,
        },
      });
      manifestIds.set(m.digest, manifestId);
      this.relations.add('BELONGS_TO', manifestId, repoId);
    }
    const manifestRef = (digest: string) =>
      manifestIds.get(digest) ??
      this.entities.addDangling(
        'DockerManifest',
        ns,
        this.plain(nameKeys.manifest(p.name, repo.name, digest)),
      );
    // A BuildKit attestation child's subject is the platform manifest its index names for it.
    for (const m of repo.manifests.values())
      for (const subject of m.subject ? [m.subject, ...(m.alsoRefersTo ?? [])] : [])
        this.relations.add('REFERS_TO', manifestIds.get(m.digest)!, manifestRef(subject));

    for (const img of repo.images) {
      const root = repo.manifests.get(img.digest);
      const isIndex = !!root?.children;
      const imageId = this.add({
        apiVersion: API_VERSION,
        kind: 'DockerImage',
        metadata: {
          name: this.plain(nameKeys.image(p.name, repo.name, img.tag)),
          namespace: ns,
          labels: {
            'devgraph.ai/provider': 'docker',
            'devgraph.ai/registry-type': p.registryType,
            'devgraph.ai/repository-name': repo.name,
            'devgraph.ai/image-tag': img.tag,
          },
          annotations,
        },
        spec: {
          repository: repo.name,
          tag: img.tag,
          digest: img.digest,
          media_type: this.shared(root?.mediaType),
          size: root?.size,
          architecture: isIndex ? undefined : root?.platform?.architecture,
          os: isIndex ? undefined : root?.platform?.os,
          platforms: root
            ? isIndex
              ? platformsOf(root, repo.manifests)
              : this.onePlatform(root.platform)
            : undefined,
          created: root?.created,
          last_updated: img.pushedAt,
          labels: root?.labels ?? {},
          layers: isIndex ? undefined : root?.layerDigests?.length,
          signed: img.trust?.signed,
          sbom: img.trust?.sbom,
          provenance: img.trust?.provenance,
          verified: img.trust?.verified,
          artifact: root?.artifact ? true : undefined,
          vulnerabilities: img.vulnerabilities,
          registry_url: p.apiUrl,
        },
      });
      this.relations.add('BELONGS_TO', imageId, repoId);
      if (root) {
        // Every manifest an image uses is in repo.manifests; one that is not is still named, as a
        // graph that names a missing entity is still a relation worth keeping. Attestation
        // children are used only where they were read.
        const attestations = (root.attestationChildren ?? [])
          .map((a) => a.digest)
          .filter((d) => manifestIds.has(d));
        for (const digest of [root.digest, ...(root.children ?? []), ...attestations])
          this.relations.add('USES', imageId, manifestRef(digest));
      }
    }
  }

  /**
   * Takes out of the graph what this run itself deleted (a retention apply's confirmed
   * deletions): each digest's DockerManifest, the DockerImage of every tag that went with it, and
   * every relation touching them, so the graph says what the registry holds now, as the next
   * discovery will. The repository's receipt counts the manifests (`deleted_by_retention`) and is
   * otherwise left as discovered. Before `finish`: names are settled over what stays.
   */
  removeDeleted(deleted: readonly RemovedManifest[]): void {
    if (deleted.length === 0) return;
    // Entities are found by the name they were numbered with (plainName of their keys), then
    // confirmed by the keys read back from the spill, as two keys may share a plain name.
    const wanted = new Map<string, Set<string>>();
    const want = (kind: 'DockerImage' | 'DockerManifest', k: { key: string; raw: string }) => {
      const at = `${kind}\u0000${this.plain(k)}`;
      const keys = wanted.get(at) ?? new Set<string>();
      keys.add(k.key);
      wanted.set(at, keys);
    };
    const perRepository = new Map<string, number>();
    for (const d of deleted) {
      want('DockerManifest', nameKeys.manifest(d.provider, d.repository, d.digest));
      for (const tag of d.tags) want('DockerImage', nameKeys.image(d.provider, d.repository, tag));
      const repo = nameKeys.repository(d.provider, d.repository).key;
      perRepository.set(repo, (perRepository.get(repo) ?? 0) + 1);
    }
    const { entities } = this;
    const moved = entities.remove((id) => {
      const keys = wanted.get(`${entities.kind(id)}\u0000${entities.name(id)}`);
      if (!keys) return false;
      const identity = entityIdentity(entities.read(id));
      return identity !== undefined && keys.has(identity.key);
    });
    this.relations.renumber(moved);
    for (const [provider, id] of this.registryIds) this.registryIds.set(provider, moved[id]!);
    for (const r of this.receipts) {
      const n = perRepository.get(nameKeys.repository(r.provider, r.repository).key);
      if (n !== undefined) r.deleted_by_retention = n;
    }
  }

  /**
   * Sets a spec field of a provider's DockerRegistry (no repository) or of one of its
   * DockerRepositories, for facts known only once every repository is done (the storage that
   * repositories share).
   */
  amend(provider: string, repository: string | undefined, field: string, value: unknown): void {
    const id =
      repository === undefined
        ? this.registryIds.get(provider)
        : this.repositoryIds.get(nameKeys.repository(provider, repository).key);
    if (id === undefined)
      throw new Error(
        `amend: the graph has no ${repository === undefined ? 'registry' : 'repository'} ${provider} ${repository ?? ''}`,
      );
    amendSpec(this.entities, id, field, value, this.redact);
  }

  /**
   * Settles colliding names, sorts, and hands the graph over; the builder is spent. With `shard`,
   * a shard's graph: the record after `generated_at`, each receipt naming its shard.
   */
  finish(generatedAt: string, shard?: ShardRecord): SpilledGraph {
    settleNames(this.entities);
    const receipts: GraphReceipt[] = shard
      ? this.receipts.map((r) => Object.assign({}, r, { shard: formatShard(shard) }))
      : this.receipts;
    receipts.sort(compareReceipts);
    return new SpilledGraph({
      entities: this.entities,
      relations: this.relations,
      receipts,
      generatedAt,
      ...(shard ? { shard } : {}),
    });
  }

  /** Removes the spill of a graph that will not be finished (the run failed). */
  discard(): void {
    this.entities.spill.close();
  }

  /**
   * An image's platform as a list, sized exactly: `[p].filter(Boolean)` allocates room for 16 and
   * keeps it.
   */
  private onePlatform(p: Platform | undefined): string[] {
    const text = this.shared(platformString(p));
    return text ? [text] : [];
  }

  /**
   * One copy of a string that most entities repeat (`linux/amd64`, a media type): each parsed
   * listing row or response header is a copy of its own, once per image.
   */
  private shared(text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    const held = this.sharedTexts.get(text);
    if (held !== undefined) return held;
    this.sharedTexts.set(text, text);
    return text;
  }

  private plain(k: { key: string; raw: string }): string {
    return plainName(k.raw, k.key);
  }

  /** Undefined spec fields are left out of the graph by JSON.stringify, here as when written. */
  private add(e: Entity): number {
    const json = `${this.redact(JSON.stringify(e))}\n`;
    return this.entities.add(e.kind, e.metadata.namespace, e.metadata.name, json);
  }
}

/**
 * Sets `field` of entity `id`'s spec, spilling the entity anew: after the fields it had, as a
 * built graph and a merged one both write it, so they stay the same bytes.
 */
export function amendSpec(
  entities: EntityTable,
  id: number,
  field: string,
  value: unknown,
  redact: (json: string) => string = (json) => json,
): void {
  const e = entities.read(id);
  e.spec[field] = value;
  entities.replace(id, `${redact(JSON.stringify(e))}\n`);
}

/**
 * Makes the names in `entities` unique per kind and namespace, renaming the few that collide. Each
 * entity was numbered with the name it gets when nothing collides (plainName of its name keys).
 */
export function settleNames(entities: EntityTable): void {
  for (const kind of ['DockerRepository', 'DockerImage', 'DockerManifest'] as const) {
    // Only plain names are held; what a name is made from is read back from the spill for the
    // entities a collision touches (none, in most registries). Handed out one at a time: as a
    // list, an entry per entity would be made at the end of a run, where the heap is largest,
    // and live long enough to reach the old generation.
    const ofKind = function* (): Generator<SpilledName> {
      for (let id = 0; id < entities.size; id++)
        if (entities.kind(id) === kind) yield new SpilledName(entities, id);
    };
    const names = new UniqueNames(ofKind);
    if (names.renames === 0) continue;
    for (const e of ofKind()) {
      const name = names.get(e.ns, e.key, e.raw, e.plain);
      if (name !== e.plain) entities.rename(e.id, name);
    }
  }
}

/**
 * One entity's name material for UniqueNames. `plain` and `ns` come from the table; `key` and
 * `raw` are read back from the spill only when asked for, which only a collision does.
 */
class SpilledName implements NameEntry {
  readonly ns: string;
  readonly plain: string;
  private identity: { key: string; raw: string } | undefined;

  constructor(
    private readonly entities: EntityTable,
    readonly id: number,
  ) {
    this.ns = entities.namespace(id);
    this.plain = entities.name(id);
  }

  get key(): string {
    return this.identify().key;
  }

  get raw(): string {
    return this.identify().raw;
  }

  private identify(): { key: string; raw: string } {
    this.identity ??= entityIdentity(this.entities.read(this.id))!;
    return this.identity;
  }
}

/**
 * What an entity's name was made from, read back from the entity itself (its provider
 * annotation and spec); undefined for an entity this action did not write.
 */
export function entityIdentity(e: Entity): { key: string; raw: string } | undefined {
  const provider = e.metadata.annotations?.[DISCOVERY_SOURCE];
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  if (e.kind === 'DockerRegistry') return { key: provider ?? '', raw: e.metadata.name };
  if (provider === undefined) return undefined;
  if (e.kind === 'DockerRepository') {
    const repository = str(e.spec.full_name);
    return repository === undefined ? undefined : nameKeys.repository(provider, repository);
  }
  const repository = str(e.spec.repository);
  if (repository === undefined) return undefined;
  if (e.kind === 'DockerImage') {
    const tag = str(e.spec.tag);
    return tag === undefined ? undefined : nameKeys.image(provider, repository, tag);
  }
  const digest = str(e.spec.digest);
  return digest?.includes(':') ? nameKeys.manifest(provider, repository, digest) : undefined;
}

// The graph's order, shared with merge.ts so a merged graph is ordered exactly like a built one.
export function compareEntities(a: Entity, b: Entity): number {
  return (
    cmp(a.kind, b.kind) ||
    cmp(a.metadata.namespace, b.metadata.namespace) ||
    cmp(a.metadata.name, b.metadata.name)
  );
}

export function compareRelations(a: Relation, b: Relation): number {
  return (
    cmp(a.relation, b.relation) ||
    cmp(a.source.kind, b.source.kind) ||
    cmp(a.source.namespace, b.source.namespace) ||
    cmp(a.source.name, b.source.name) ||
    cmp(a.target.kind, b.target.kind) ||
    cmp(a.target.name, b.target.name)
  );
}

export function compareReceipts(a: Receipt, b: Receipt): number {
  return cmp(a.provider, b.provider) || cmp(a.repository, b.repository);
}

function platformsOf(index: ManifestRecord, manifests: Map<string, ManifestRecord>): string[] {
  return (index.children ?? [])
    .map((d) => platformString(manifests.get(d)?.platform))
    .filter((p): p is string => !!p);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
