import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import type { ManifestRecord, RepositoryResult } from '../model/discovery.js';
import type { Graph } from '../model/graph.js';
import { Secrets } from '../secrets.js';
import { entityIdentity, GraphBuilder } from './build-graph.js';
import { UniqueNames } from './names.js';

const settings = loadConfig(
  `providers:
  - { name: hub, type: docker, config: { registry_type: private, api_url: "https://registry.example.com" } }
  - { name: mirror, type: docker, config: { registry_type: private, api_url: "https://mirror.example.com" } }
`,
  { env: {}, secrets: new Secrets(), origin: 'test' },
);
const [hub, mirror] = settings.providers as [(typeof settings.providers)[0], (typeof settings.providers)[0]];
const digest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

function manifest(d: string, extra: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    digest: d,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    schemaVersion: 2,
    layerDigests: [digest(`layer-${d}`)],
    platform: { architecture: 'amd64', os: 'linux' },
    labels: {},
    ...extra,
  };
}

function repository(provider: string, name: string, tags: Record<string, string>): RepositoryResult {
  const manifests = new Map(Object.values(tags).map((d) => [d, manifest(d)]));
  return {
    name,
    images: Object.entries(tags).map(([tag, d]) => ({ tag, digest: d })),
    manifests,
    receipt: {
      provider,
      repository: name,
      complete: true,
      tags_listed: 1,
      tags_selected: 1,
      pages: 1,
      requests: 2,
      errors: [],
    },
  };
}

/** Names that collide after sanitising (`app_x`/`app-x`, `a` + `b-c` / `a-b` + `c`), one name in two registries. */
function repositories(): Array<[typeof hub, RepositoryResult]> {
  const out: Array<[typeof hub, RepositoryResult]> = [];
  for (let i = 0; i < 4; i++) {
    const shared = digest(`shared-${i}`);
    out.push([hub, repository('hub', `team${i}/app_x`, { latest: shared })]);
    out.push([hub, repository('hub', `team${i}/app-x`, { latest: shared, v1: digest(`v1-${i}`) })]);
    out.push([hub, repository('hub', `lib${i}/a`, { 'b-c': digest(`abc-${i}`) })]);
    out.push([hub, repository('hub', `lib${i}/a-b`, { c: digest(`abc2-${i}`) })]);
    out.push([mirror, repository('mirror', `team${i}/app-x`, { latest: shared })]);
  }
  return out;
}

function build(order: Array<[typeof hub, RepositoryResult]>): Graph {
  const builder = new GraphBuilder([hub, mirror]);
  for (const [p, repo] of order) builder.addRepository(p, repo);
  return builder.finish('2026-01-01T00:00:00Z').load();
}

describe('GraphBuilder', () => {
  it('gives the names a view of every entity at once would give, however the repositories arrive', () => {
    const graph = build(repositories());
    // The names UniqueNames gives when it sees every key up front.
    for (const kind of ['DockerRepository', 'DockerImage', 'DockerManifest'] as const) {
      const ofKind = graph.entities.filter((e) => e.kind === kind);
      const names = new UniqueNames(() =>
        ofKind.map((e) => ({ ...entityIdentity(e)!, ns: e.metadata.namespace })),
      );
      for (const e of ofKind) {
        const { key, raw } = entityIdentity(e)!;
        expect(e.metadata.name).toBe(names.get(e.metadata.namespace, key, raw));
      }
      expect(new Set(ofKind.map((e) => e.metadata.name)).size).toBe(ofKind.length);
    }
    // The collisions were real: some names carry the hash.
    expect(graph.entities.filter((e) => /-[0-9a-f]{8}$/.test(e.metadata.name)).length).toBeGreaterThan(0);

    const reversed = build(repositories().reverse());
    expect(JSON.stringify(reversed)).toBe(JSON.stringify(graph));
  });

  it('renames every relation end with the entity it names', () => {
    const graph = build(repositories());
    const names = new Set(graph.entities.map((e) => `${e.kind} ${e.metadata.namespace} ${e.metadata.name}`));
    for (const r of graph.relations) {
      expect(names).toContain(`${r.source.kind} ${r.source.namespace} ${r.source.name}`);
      expect(names).toContain(`${r.target.kind} ${r.target.namespace} ${r.target.name}`);
    }
    // Every image belongs to its repository and uses its manifest.
    const images = graph.entities.filter((e) => e.kind === 'DockerImage').length;
    expect(graph.relations.filter((r) => r.relation === 'USES')).toHaveLength(images);
  });

  it('names a manifest an image uses that discovery did not keep, in sorted relations', () => {
    const index = digest('index');
    const gone = digest('gone');
    const repo = repository('hub', 'acme/api', { latest: index });
    repo.manifests.set(index, manifest(index, { children: [gone], layerDigests: [] }));
    const builder = new GraphBuilder([hub]);
    builder.addRepository(hub, repo);
    const graph = builder.finish('2026-01-01T00:00:00Z');
    const uses = [...graph.relations()].filter((r) => r.relation === 'USES');
    expect(uses.map((r) => r.target.name)).toEqual([
      `acme-api-manifest-${index.slice(7, 19)}`,
      `acme-api-manifest-${gone.slice(7, 19)}`,
    ]);
    expect(graph.count('DockerManifest')).toBe(1);
    graph.close();
  });

  it('reads entities back in graph order, a kind at a time, redacted as they were spilled', () => {
    const builder = new GraphBuilder([hub, mirror], (json) => json.replaceAll('s3cr3t-token', '***'));
    const repo = repository('hub', 'acme/s3cr3t-token', { v1: digest('a'), v2: digest('b') });
    builder.addRepository(hub, repo);
    builder.addRepository(mirror, repository('mirror', 'acme/web', { latest: digest('c') }));
    const graph = builder.finish('2026-01-01T00:00:00Z');
    const images = [...graph.entities(['DockerImage'])];
    expect(images.map((e) => e.metadata.name)).toEqual([
      'acme-s3cr3t-token-v1',
      'acme-s3cr3t-token-v2',
      'acme-web-latest',
    ]);
    // The spilled text is redacted; the names kept in memory are redacted when graph.json is written.
    expect(images[0]!.spec.repository).toBe('acme/***');
    const all = [...graph.entities()];
    expect(all.map((e) => e.kind)).toEqual([...all.map((e) => e.kind)].sort());
    expect(all).toHaveLength(2 + 2 + 3 + 3);
    expect(graph.load().entities).toEqual(all);
    graph.close();
  });

  it('refuses a repository of a provider it was not given', () => {
    const builder = new GraphBuilder([hub]);
    expect(() => builder.addRepository(mirror, repository('mirror', 'x', {}))).toThrow(/mirror/);
  });

  it('takes out what a retention apply deleted as if discovery had never seen it, names settled over what stays', () => {
    // Deleted: a tag whose name collides with another repository's (that one gets its plain name
    // back), a digest shared with the mirror (the mirror's stays), and an accessory tag that is no
    // image. The manifest of a failed deletion is simply not handed over.
    const gone = [
      { provider: 'hub', repository: 'lib0/a', digest: digest('abc-0'), tags: ['b-c'] },
      { provider: 'hub', repository: 'team1/app_x', digest: digest('shared-1'), tags: ['latest', 'x.sig'] },
    ];
    const builder = new GraphBuilder([hub, mirror]);
    for (const [p, repo] of repositories()) builder.addRepository(p, repo);
    builder.removeDeleted(gone);
    const graph = builder.finish('2026-01-01T00:00:00Z').load();

    const without = repositories().map(([p, repo]): [typeof hub, RepositoryResult] => {
      const d = gone.find((g) => g.provider === p.name && g.repository === repo.name);
      if (!d) return [p, repo];
      const manifests = new Map(repo.manifests);
      manifests.delete(d.digest);
      return [p, { ...repo, images: repo.images.filter((i) => !d.tags.includes(i.tag)), manifests }];
    });
    const fresh = build(without);
    expect(graph.entities).toEqual(fresh.entities);
    expect(graph.relations).toEqual(fresh.relations);
    expect(graph.entities.some((e) => e.metadata.name === 'lib0-a-b-c')).toBe(true);
    expect(graph.receipts.filter((r) => r.deleted_by_retention !== undefined)).toEqual([
      expect.objectContaining({ provider: 'hub', repository: 'lib0/a', deleted_by_retention: 1 }),
      expect.objectContaining({ provider: 'hub', repository: 'team1/app_x', deleted_by_retention: 1 }),
    ]);
    const { deleted_by_retention: _, ...rest } = graph.receipts.find((r) => r.repository === 'lib0/a')!;
    expect(rest).toEqual(fresh.receipts.find((r) => r.repository === 'lib0/a'));
  });

  it('keeps relations to manifests it does not hold, numbered as they were', () => {
    // An index whose platform manifest discovery did not keep: the image USES a dangling manifest.
    const index = digest('index');
    const kept = digest('kept');
    const repo = repository('hub', 'acme/app', { v1: index, v2: kept });
    repo.manifests.set(index, manifest(index, { children: [digest('missing-platform')] }));
    const builder = new GraphBuilder([hub]);
    builder.addRepository(hub, repo);
    builder.removeDeleted([{ provider: 'hub', repository: 'acme/app', digest: kept, tags: ['v2'] }]);
    const graph = builder.finish('2026-01-01T00:00:00Z').load();
    expect(graph.entities.map((e) => e.metadata.name)).toEqual([
      'acme-app-v1',
      `acme-app-manifest-${index.slice(7, 19)}`,
      'registry-example-com',
      'acme-app',
    ]);
    expect(graph.relations.filter((r) => r.relation === 'USES').map((r) => r.target.name)).toEqual([
      `acme-app-manifest-${index.slice(7, 19)}`,
      `acme-app-manifest-${digest('missing-platform').slice(7, 19)}`,
    ]);
  });
});

describe('GraphBuilder.amend', () => {
  it('sets a spec field after the fact, last in the spec, on a repository whose name a collision changed', () => {
    const builder = new GraphBuilder(settings.providers);
    for (const [p, r] of repositories()) builder.addRepository(p, r);
    builder.amend('hub', 'team0/app-x', 'storage', { total_bytes: 1 });
    builder.amend('hub', 'team0/app-x', 'storage', { total_bytes: 2 });
    builder.amend('mirror', undefined, 'storage', { total_bytes: 3 });
    const g = builder.finish('2026-01-01T00:00:00Z').load();
    const repository = (provider: string, name: string) =>
      g.entities.find(
        (e) =>
          e.kind === 'DockerRepository' &&
          e.spec.full_name === name &&
          entityIdentity(e)?.key === `${provider}\u0000${name}`,
      )!;
    const repo = repository('hub', 'team0/app-x');
    expect(Object.keys(repo.spec).at(-1)).toBe('storage');
    expect(repo.spec.storage).toEqual({ total_bytes: 2 });
    // Neither the one whose name collides nor the same name in the other registry is touched.
    for (const other of [repository('hub', 'team0/app_x'), repository('mirror', 'team0/app-x')]) {
      expect(other.metadata.name).not.toBe(repo.metadata.name);
      expect(other.spec.storage).toBeUndefined();
    }
    const registries = g.entities.filter((e) => e.kind === 'DockerRegistry');
    expect(registries.map((e) => [e.spec.url, e.spec.storage])).toEqual([
      ['https://mirror.example.com', { total_bytes: 3 }],
      ['https://registry.example.com', undefined],
    ]);
  });

  it('refuses a repository the graph does not hold', () => {
    const builder = new GraphBuilder(settings.providers);
    try {
      expect(() => builder.amend('hub', 'nowhere', 'storage', {})).toThrowError(
        'amend: the graph has no repository hub nowhere',
      );
    } finally {
      builder.discard();
    }
  });
});
