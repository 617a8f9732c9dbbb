// Storage figures (issue 17) against the real registry (Distribution 2.8): seeded repositories are
// discovered, each made an inventory as discovery hands it over, and the figures are asserted to
// the byte against the seeded blobs and manifests, which are counted here from the seed data; then
// the same run as runDiscovery makes it, unsharded and as two shards merged (library/nginx and
// mirror/nginx, which share every blob, fall in different shards), must write those figures into
// the graph's DockerRepository and DockerRegistry entities.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { type Content, RepositoryBuilder, type RepositoryContent } from '../../src/demo/image-builder.js';
import { discover } from '../../src/discovery/discover.js';
import { mergeShardGraphs } from '../../src/graph/merge.js';
import { shardOf } from '../../src/graph/shard.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import type { RepositoryResult } from '../../src/model/discovery.js';
import type { Graph } from '../../src/model/graph.js';
import { inventoryOf } from '../../src/retention/from-discovery.js';
import type { RepositoryInventory } from '../../src/retention/inventory.js';
import { type RegistryStorage, storageOf } from '../../src/retention/storage.js';
import { runDiscovery } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';
import { NoState } from '../../src/state/state-store.js';
import { pushRepositories } from '../support/push-content.js';
import { type RunningRegistry, registryAvailable, startRegistry } from '../support/registry-process.js';
import { ACME_API, NGINX, ORG_TEAM_APP } from '../support/seed-data.js';

if (!registryAvailable()) {
  throw new Error('/usr/bin/docker-registry is missing: install the Debian package docker-registry');
}

/** The older nginx index again under another name: every blob and manifest shared with library/nginx. */
const MIRROR = new RepositoryBuilder('mirror/nginx').addIndex(NGINX.v1_24_0, '1.24.0').build();
const SEEDED = [NGINX.repo, ORG_TEAM_APP.repo, MIRROR, ACME_API.repo];
/** What discovery reads of acme/api with max_tags: 1: its newest tag, the multi-platform list (2024-04-01). */
const API_NEWEST = new RepositoryBuilder('acme/api').addIndex(ACME_API.multi, 'multi').build();

/** Bytes of distinct content by digest over the given repositories' blobs and manifests. */
function seededBytes(...repos: RepositoryContent[]): number {
  const distinct = new Map<string, Content>();
  for (const r of repos) for (const c of [...r.blobs, ...r.manifests]) distinct.set(c.digest, c);
  return [...distinct.values()].reduce((sum, c) => sum + c.bytes.length, 0);
}

/** The figures expected of `total` bytes of which `shared` another repository holds too. */
function expected(total: number, shared: number, partial = false) {
  return { total_bytes: total, unique_bytes: total - shared, shared_bytes: shared, partial };
}

describe('storage figures against a real registry', () => {
  let registry: RunningRegistry;
  let storage: RegistryStorage;
  let settings: ReturnType<typeof loadConfig>;
  const inventories = new Map<string, RepositoryInventory>();
  const results = new Map<string, RepositoryResult>();

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'open' });
    await pushRepositories(registry, SEEDED);
    const secrets = new Secrets();
    settings = loadConfig(
      `providers:
  - name: local
    type: docker
    config:
      registry_type: private
      api_url: ${registry.url}
      selectors:
        - namespace_pattern: "^acme$"
          max_tags: 1
        - max_tags: 0
`,
      { env: {}, secrets, origin: 'storage test config' },
    );
    const http = new HttpClient();
    try {
      await discover(settings, {
        http,
        state: new NoState(),
        secrets,
        log: silentLog,
        onRepository: (provider, repository) => {
          results.set(repository.name, repository);
          inventories.set(repository.name, inventoryOf(provider.name, registry.host, repository));
        },
      });
    } finally {
      await http.close();
    }
    storage = storageOf([...inventories.values()]);
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
  });

  const figures = (name: string) => {
    const found = storage.repositories.find((r) => r.repository === name);
    if (!found) throw new Error(`no storage for ${name}; have ${[...inventories.keys()].join(', ')}`);
    return found.storage;
  };

  it('reads every seeded repository, each completely', () => {
    expect([...results.keys()].sort()).toEqual(['acme/api', 'library/nginx', 'mirror/nginx', 'org/team/app']);
    for (const r of results.values()) expect({ [r.name]: r.receipt.complete }).toEqual({ [r.name]: true });
  });

  it('counts an index with attestations under alias tags: every seeded blob and manifest, once', () => {
    // Both indexes, their platform manifests and BuildKit attestation manifests, with every layer and config.
    expect(figures('library/nginx')).toEqual(expected(seededBytes(NGINX.repo), seededBytes(MIRROR)));
  });

  it('counts a signature found by its cosign tag, and the image under two tags once', () => {
    expect(results.get('org/team/app')!.receipt.accessory_tags).toBe(1);
    expect(figures('org/team/app')).toEqual(expected(seededBytes(ORG_TEAM_APP.repo), 0));
  });

  it('finds a repository whose every blob another holds: all shared', () => {
    expect(figures('mirror/nginx')).toEqual(expected(seededBytes(MIRROR), seededBytes(MIRROR)));
  });

  it('says partial where max_tags left tags unread, and counts what was read', () => {
    expect(results.get('acme/api')!.images.map((i) => i.tag)).toEqual(['multi']);
    expect(figures('acme/api')).toEqual(expected(seededBytes(API_NEWEST), 0, true));
  });

  it('counts the registry with shared content once', () => {
    const total = seededBytes(NGINX.repo, ORG_TEAM_APP.repo, MIRROR, API_NEWEST);
    expect(storage.registry).toEqual(expected(total, seededBytes(MIRROR), true));
  });

  /** A run as the CLI and the action make it: its graph, loaded, and the shard graph's receipts. */
  async function run(shard?: { index: number; count: number }): Promise<Graph> {
    const result = await runDiscovery(settings, {
      secrets: new Secrets(),
      log: silentLog,
      generatedAt: '2026-01-01T00:00:00Z',
      ...(shard ? { shard } : {}),
    });
    try {
      return result.graph.load();
    } finally {
      result.graph.close();
    }
  }
  const storageIn = (graph: Graph) =>
    Object.fromEntries(
      graph.entities
        .filter((e) => e.kind === 'DockerRepository' || e.kind === 'DockerRegistry')
        .map((e) => [e.kind === 'DockerRegistry' ? '(registry)' : e.spec.full_name, e.spec.storage]),
    );
  const figuresByName = () => ({
    '(registry)': storage.registry,
    ...Object.fromEntries(storage.repositories.map((r) => [r.repository, r.storage])),
  });

  it('writes the figures into the graph: each DockerRepository and the DockerRegistry', async () => {
    const graph = await run();
    expect(storageIn(graph)).toEqual(figuresByName());
    // The seeded bytes themselves, not only the ledger's word for them.
    expect(storageIn(graph)).toMatchObject({
      '(registry)': expected(
        seededBytes(NGINX.repo, ORG_TEAM_APP.repo, MIRROR, API_NEWEST),
        seededBytes(MIRROR),
        true,
      ),
      'mirror/nginx': expected(seededBytes(MIRROR), seededBytes(MIRROR)),
      'acme/api': expected(seededBytes(API_NEWEST), 0, true),
    });
    // Nothing of a shard's bookkeeping in an unsharded graph.
    expect(graph.receipts.some((r) => 'storage_blobs' in r)).toBe(false);
  }, 60_000);

  it('two shards merged count across them what their repositories share, as the unsharded run does', async () => {
    // The two repositories that share every blob are discovered by different shards.
    expect(shardOf('local', 'library/nginx', 2)).not.toBe(shardOf('local', 'mirror/nginx', 2));
    const shards = [await run({ index: 1, count: 2 }), await run({ index: 2, count: 2 })];
    for (const shard of shards) {
      // A shard cannot know what another shard's repositories share: no figures, the digests instead.
      expect(Object.values(storageIn(shard)).every((s) => s === undefined)).toBe(true);
      expect(shard.shard?.storage_blobs).toBe(true);
      for (const r of shard.receipts) expect(r.storage_blobs?.tagged.length).toBeGreaterThan(0);
    }
    const merged = mergeShardGraphs(shards.map((graph, i) => ({ source: `shard ${i + 1}`, graph })));
    if ('problems' in merged) throw new Error(merged.problems.join('; '));
    try {
      const graph = merged.graph.load();
      expect(storageIn(graph)).toEqual(figuresByName());
      expect(graph.receipts.some((r) => 'storage_blobs' in r || 'shard' in r)).toBe(false);
    } finally {
      merged.graph.close();
    }
  }, 60_000);

  it('refuses to merge a shard whose receipt lost its storage_blobs', async () => {
    const shards = [await run({ index: 1, count: 2 }), await run({ index: 2, count: 2 })];
    delete shards[1]!.receipts[0]!.storage_blobs;
    const refused = mergeShardGraphs(shards.map((graph, i) => ({ source: `shard ${i + 1}`, graph })));
    // And shards of which only some counted storage (another version wrote the others).
    delete shards[0]!.shard!.storage_blobs;
    expect(mergeShardGraphs(shards.map((graph, i) => ({ source: `shard ${i + 1}`, graph })))).toEqual({
      problems: [
        'shard 1: no storage_blobs, where the other shards have them; give the shard graphs of one run, written by one version of devgraph-docker',
      ],
    });
    expect(refused).toEqual({
      problems: [
        `shard 2: the receipt of local ${shards[1]!.receipts[0]!.repository} has no storage_blobs; give shard graphs written by devgraph-docker`,
      ],
    });
  }, 60_000);
});
