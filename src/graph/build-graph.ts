// Discovery result → Devgraph entities and relations (reference/devgraph.md §3). Pure: the same
// discovery gives the same graph, sorted, so identical registries give identical files.
import type { ProviderSettings } from '../config/settings.js';
import type { ManifestRecord, Platform, Receipt, RepositoryResult } from '../discovery/model.js';
import { type NameEntry, plainName, UniqueNames } from './names.js';
import {
  API_VERSION,
  DISCOVERY_SOURCE,
  type DockerKind,
  type Entity,
  type EntityRef,
  GRAPH_FORMAT,
  type Graph,
  type Relation,
} from './types.js';

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

function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Entities and relations built as repositories arrive, in any order. A name depends on every
 * other name of its kind (collisions), so each entity is built with the name it gets when nothing
 * collides and `finish` renames the few that do. Each entity has one EntityRef, shared by every
 * relation naming it, so renaming it renames them all; at 100,000 images the relations took 43 MB
 * with a ref (and a name string) per end, 29 MB with shared ones (bench --scale heap snapshots).
 */
export class GraphBuilder {
  private readonly entities: Entity[] = [];
  /** refs[i] names entities[i]. */
  private readonly refs: EntityRef[] = [];
  private readonly relations: Relation[] = [];
  private readonly receipts: Receipt[] = [];
  private readonly registryRefs = new Map<string, EntityRef>();
  private readonly sharedTexts = new Map<string, string>();

  constructor(providers: ProviderSettings[]) {
    // Registries are few and known up front: their names are final at once.
    const names = new UniqueNames(() =>
      providers.map((p) => ({ key: p.name, raw: registryEntityName(p), ns: p.namespace })),
    );
    for (const p of providers) {
      const name = names.get(p.namespace, p.name, registryEntityName(p));
      const ref = this.add({
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
      this.registryRefs.set(p.name, ref);
    }
  }

  /** A registry-level receipt (the repository listing failed or was cut short). */
  addReceipt(receipt: Receipt): void {
    this.receipts.push(receipt);
  }

  addRepository(p: ProviderSettings, repo: RepositoryResult): void {
    const registryRef = this.registryRefs.get(p.name);
    if (!registryRef) throw new Error(`addRepository: provider ${p.name} was not given to the GraphBuilder`);
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
    const repoRef = this.add({
      apiVersion: API_VERSION,
      kind: 'DockerRepository',
      metadata: {
        name: this.plain(nameKeys.repository(p.name, repo.name)),
        namespace: ns,
        labels: repoLabels,
        annotations,
      },
      spec: compact({
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
      }),
    });
    this.relate(ns, 'BELONGS_TO', repoRef, registryRef);

    const manifestRefs = new Map<string, EntityRef>();
    for (const m of repo.manifests.values()) {
      const mRef = this.add({
        apiVersion: API_VERSION,
        kind: 'DockerManifest',
        metadata: {
          name: this.plain(nameKeys.manifest(p.name, repo.name, m.digest)),
          namespace: ns,
          // Written out, not spread from repoLabels: V8 gave every spread copy a hidden class of
          // its own, 40 MB at 100,000 images (bench --scale heap snapshot).
          labels: {
            'devgraph.ai/provider': 'docker',
            'devgraph.ai/registry-type': p.registryType,
            'devgraph.ai/repository-name': repo.name,
            'devgraph.ai/manifest-digest': m.digest,
          },
          annotations,
        },
        spec: compact({
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
          registry_url: p.apiUrl,
        }),
      });
      manifestRefs.set(m.digest, mRef);
      this.relate(ns, 'BELONGS_TO', mRef, repoRef);
    }

    for (const img of repo.images) {
      const root = repo.manifests.get(img.digest);
      const isIndex = !!root?.children;
      const imgRef = this.add({
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
        spec: compact({
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
          signed: repo.signed.has(img.digest) ? true : undefined,
          artifact: root?.artifact ? true : undefined,
          vulnerabilities: img.vulnerabilities,
          registry_url: p.apiUrl,
        }),
      });
      this.relate(ns, 'BELONGS_TO', imgRef, repoRef);
      if (root) {
        for (const digest of [root.digest, ...(root.children ?? [])]) {
          const target = manifestRefs.get(digest);
          // Every manifest an image uses is in repo.manifests; a ref is made for one that is not,
          // as a graph that names a missing entity is still a relation worth keeping.
          this.relate(
            ns,
            'USES',
            imgRef,
            target ??
              this.refOf('DockerManifest', this.plain(nameKeys.manifest(p.name, repo.name, digest)), ns),
          );
        }
      }
    }
  }

  /** Settles colliding names, sorts, and hands the graph over; the builder is spent. */
  finish(generatedAt: string): Graph {
    const { entities, refs } = this;
    for (const kind of ['DockerRepository', 'DockerImage', 'DockerManifest'] as const) {
      // Keys are made again from each entity when asked for, not held for the whole set.
      function* ofKind(): Generator<NameEntry & { at: number }> {
        for (let at = 0; at < entities.length; at++) {
          const e = entities[at]!;
          if (e.kind !== kind) continue;
          const { key, raw } = entityIdentity(e)!;
          yield { key, raw, ns: e.metadata.namespace, plain: e.metadata.name, at };
        }
      }
      const names = new UniqueNames(ofKind);
      if (names.renames === 0) continue;
      for (const { key, raw, ns, plain, at } of ofKind()) {
        const name = names.get(ns, key, raw, plain);
        if (name !== plain) entities[at]!.metadata.name = refs[at]!.name = name;
      }
    }
    this.refs.length = 0;
    entities.sort(compareEntities);
    this.relations.sort(compareRelations);
    this.receipts.sort(compareReceipts);
    return {
      format: GRAPH_FORMAT,
      generated_at: generatedAt,
      entities,
      relations: this.relations,
      receipts: this.receipts,
    };
  }

  /**
   * An image's platform as a list, sized exactly: `[p].filter(Boolean)` allocated room for 16 and
   * kept it (15 MB at 100,000 images).
   */
  private onePlatform(p: Platform | undefined): string[] {
    const text = this.shared(platformString(p));
    return text ? [text] : [];
  }

  /**
   * One copy of a string that most entities repeat (`linux/amd64`, a media type): each parsed
   * listing row or response header is a copy of its own, 100 bytes × 100,000 images apiece.
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

  private refOf(kind: DockerKind, name: string, namespace: string): EntityRef {
    return { apiVersion: API_VERSION, kind, name, namespace };
  }

  private add(e: Entity): EntityRef {
    const ref = this.refOf(e.kind, e.metadata.name, e.metadata.namespace);
    this.entities.push(e);
    this.refs.push(ref);
    return ref;
  }

  private relate(
    namespace: string,
    relation: Relation['relation'],
    source: EntityRef,
    target: EntityRef,
  ): void {
    this.relations.push({ namespace, relation, source, target });
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
