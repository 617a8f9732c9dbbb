// Discovery result → Devgraph entities and relations (reference/devgraph.md §3). Pure: the same
// discovery gives the same graph, sorted, so identical registries give identical files.
import type { ProviderSettings } from '../config/settings.js';
import type {
  DiscoveryResult,
  ManifestRecord,
  Platform,
  ProviderResult,
  Receipt,
  RepositoryResult,
} from '../discovery/model.js';
import { type NameEntry, UniqueNames } from './names.js';
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

export function buildGraph(result: DiscoveryResult, generatedAt: string): Graph {
  const entities: Entity[] = [];
  const relations: Relation[] = [];
  const receipts: Receipt[] = [];

  // Names are made unique per (kind, namespace) across all providers.
  const entries = (
    of: (pr: ProviderResult, repo: RepositoryResult) => Iterable<{ key: string; raw: string }>,
  ) =>
    function* (): Iterable<NameEntry> {
      for (const pr of result.providers)
        for (const repo of pr.repositories)
          for (const k of of(pr, repo)) yield { ...k, ns: pr.settings.namespace };
    };
  const names: Record<DockerKind, UniqueNames> = {
    DockerRegistry: new UniqueNames(() =>
      result.providers.map((pr) => ({
        key: pr.settings.name,
        raw: registryEntityName(pr.settings),
        ns: pr.settings.namespace,
      })),
    ),
    DockerRepository: new UniqueNames(
      entries((pr, repo) => [nameKeys.repository(pr.settings.name, repo.name)]),
    ),
    DockerImage: new UniqueNames(
      entries((pr, repo) => repo.images.map((img) => nameKeys.image(pr.settings.name, repo.name, img.tag))),
    ),
    DockerManifest: new UniqueNames(
      entries((pr, repo) =>
        Array.from(repo.manifests.keys(), (d) => nameKeys.manifest(pr.settings.name, repo.name, d)),
      ),
    ),
  };
  const ref = (kind: DockerKind, k: { key: string; raw: string }, namespace: string): EntityRef => ({
    apiVersion: API_VERSION,
    kind,
    name: names[kind].get(namespace, k.key, k.raw),
    namespace,
  });
  const relate = (namespace: string, relation: Relation['relation'], source: EntityRef, target: EntityRef) =>
    relations.push({ namespace, relation, source, target });

  for (const pr of result.providers) {
    const p = pr.settings;
    const ns = p.namespace;
    const baseLabels = { 'devgraph.ai/provider': 'docker', 'devgraph.ai/registry-type': p.registryType };
    const annotations = { [DISCOVERY_SOURCE]: p.name };
    const registryRef = ref('DockerRegistry', { key: p.name, raw: registryEntityName(p) }, ns);
    entities.push({
      apiVersion: API_VERSION,
      kind: 'DockerRegistry',
      metadata: { name: registryRef.name, namespace: ns, labels: { ...baseLabels }, annotations },
      spec: {
        name: registryRef.name,
        registry_type: p.registryType,
        url: p.apiUrl,
        description: `${p.registryType} Docker registry`,
        public: p.registryType === 'docker-hub',
      },
    });
    if (pr.receipt) receipts.push(pr.receipt);

    for (const repo of pr.repositories) {
      receipts.push(repo.receipt);
      const repoRef = ref('DockerRepository', nameKeys.repository(p.name, repo.name), ns);
      const manifestRef = (digest: string) =>
        ref('DockerManifest', nameKeys.manifest(p.name, repo.name, digest), ns);
      const slash = repo.name.indexOf('/');
      const repoLabels = { ...baseLabels, 'devgraph.ai/repository-name': repo.name };
      // The newest selected image speaks for the repository's source.
      const newestRoot = [...repo.images]
        .map((i) => repo.manifests.get(i.digest))
        .filter((m): m is ManifestRecord => !!m)
        .sort((a, b) => ((a.created ?? '') < (b.created ?? '') ? 1 : -1))[0];
      entities.push({
        apiVersion: API_VERSION,
        kind: 'DockerRepository',
        metadata: { name: repoRef.name, namespace: ns, labels: repoLabels, annotations },
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
      relate(ns, 'BELONGS_TO', repoRef, registryRef);

      for (const m of repo.manifests.values()) {
        const mRef = manifestRef(m.digest);
        entities.push({
          apiVersion: API_VERSION,
          kind: 'DockerManifest',
          metadata: {
            name: mRef.name,
            namespace: ns,
            labels: { ...repoLabels, 'devgraph.ai/manifest-digest': m.digest },
            annotations,
          },
          spec: compact({
            repository: repo.name,
            digest: m.digest,
            media_type: m.mediaType,
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
        relate(ns, 'BELONGS_TO', mRef, repoRef);
      }

      for (const img of repo.images) {
        const root = repo.manifests.get(img.digest);
        const imgRef = ref('DockerImage', nameKeys.image(p.name, repo.name, img.tag), ns);
        const isIndex = !!root?.children;
        entities.push({
          apiVersion: API_VERSION,
          kind: 'DockerImage',
          metadata: {
            name: imgRef.name,
            namespace: ns,
            labels: { ...repoLabels, 'devgraph.ai/image-tag': img.tag },
            annotations,
          },
          spec: compact({
            repository: repo.name,
            tag: img.tag,
            digest: img.digest,
            media_type: root?.mediaType,
            size: root?.size,
            architecture: isIndex ? undefined : root?.platform?.architecture,
            os: isIndex ? undefined : root?.platform?.os,
            platforms: root
              ? isIndex
                ? platformsOf(root, repo.manifests)
                : [platformString(root.platform)].filter(Boolean)
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
        relate(ns, 'BELONGS_TO', imgRef, repoRef);
        if (root) {
          relate(ns, 'USES', imgRef, manifestRef(root.digest));
          for (const child of root.children ?? []) relate(ns, 'USES', imgRef, manifestRef(child));
        }
      }
    }
  }

  entities.sort(compareEntities);
  relations.sort(compareRelations);
  receipts.sort(compareReceipts);
  return { format: GRAPH_FORMAT, generated_at: generatedAt, entities, relations, receipts };
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
