import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import type {
  DiscoveryResult as Discovered,
  ManifestRecord,
  ProviderResult,
  RepositoryResult,
} from '../model/discovery.js';
import type { Graph, GraphReceipt, ShardRecord } from '../model/graph.js';
import { Secrets } from '../secrets.js';
import { GraphBuilder } from './build-graph.js';
import { asSource, type GraphSource } from './graph-source.js';
import { mergeShardGraphs, type ShardGraphFile } from './merge.js';
import { type Shard, shardOf } from './shard.js';

/** A whole discovery as this test states it: each provider with the repositories discover() hands over. */
type DiscoveryResult = Omit<Discovered, 'providers'> & {
  providers: Array<ProviderResult & { repositories: RepositoryResult[] }>;
};

const T = '2026-01-01T00:00:00Z';
const settings = loadConfig(
  `providers:
  - { name: hub, type: docker, config: { registry_type: private, api_url: "https://registry.example.com" } }
  - { name: mirror, type: docker, config: { registry_type: private, api_url: "https://mirror.example.com" } }
`,
  { env: {}, secrets: new Secrets(), origin: 'test' },
);
const digest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

function receipt(provider: string, repository: string, complete = true): GraphReceipt {
  return {
    provider,
    repository,
    complete,
    tags_listed: 3,
    tags_selected: 2,
    pages: 1,
    requests: 4,
    errors: complete ? [] : ['tags: HTTP 503'],
  };
}

function repository(provider: string, name: string, tags: Record<string, string>): RepositoryResult {
  const manifests = new Map<string, ManifestRecord>();
  for (const d of Object.values(tags)) {
    manifests.set(d, {
      digest: d,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      schemaVersion: 2,
      configDigest: digest(`config-${d}`),
      layerDigests: [digest(`layer-${d}`)],
      size: 1000,
      platform: { architecture: 'amd64', os: 'linux' },
      created: '2025-06-01T00:00:00Z',
      labels: {},
    });
  }
  return {
    name,
    images: Object.entries(tags).map(([tag, d]) => ({ tag, digest: d })),
    manifests,
    receipt: receipt(provider, name),
  };
}

/** The graph of a whole discovery, built as runDiscovery builds it. */
function buildGraph(result: DiscoveryResult, generatedAt: string, shard?: ShardRecord): Graph {
  const builder = new GraphBuilder(result.providers.map((pr) => pr.settings));
  for (const pr of result.providers) {
    for (const repo of pr.repositories) builder.addRepository(pr.settings, repo);
    if (pr.receipt) builder.addReceipt(pr.receipt);
  }
  return builder.finish(generatedAt, shard).load();
}

/**
 * Repositories whose entity names collide after sanitising (`app_x`/`app-x`, `a` + `b-c` /
 * `a-b` + `c`, one name in two providers, names over 63 characters), many of them, so some
 * colliding pairs land in different shards.
 */
function discovery(): DiscoveryResult {
  const hub: RepositoryResult[] = [];
  const mirror: RepositoryResult[] = [];
  for (let i = 0; i < 8; i++) {
    const shared = digest(`shared-${i}`);
    hub.push(repository('hub', `team${i}/app_x`, { latest: shared }));
    hub.push(repository('hub', `team${i}/app-x`, { latest: shared, v1: digest(`v1-${i}`) }));
    hub.push(repository('hub', `lib${i}/a`, { 'b-c': digest(`abc-${i}`) }));
    hub.push(repository('hub', `lib${i}/a-b`, { c: digest(`abc2-${i}`) }));
    hub.push(repository('hub', `long${i}/${'n'.repeat(70)}`, { latest: digest(`long-${i}`) }));
    mirror.push(repository('mirror', `team${i}/app-x`, { latest: shared }));
  }
  const [hubSettings, mirrorSettings] = settings.providers;
  return {
    providers: [
      { settings: hubSettings!, repositories: hub, notes: ['quota: 90 left'] },
      { settings: mirrorSettings!, repositories: mirror, notes: [] },
    ],
    requests: { manifest: 10 },
    savings: { fromState: 0, conditional: 0, notModified: 0 },
  };
}

/** What `discover --shard i/n` would write for this discovery, as read back from its file. */
function shardGraph(full: DiscoveryResult, shard: Shard, opts: { config?: string; at?: string } = {}): Graph {
  const part: DiscoveryResult = {
    ...full,
    providers: full.providers.map((p) => ({
      ...p,
      repositories: p.repositories.filter(
        (r) => shardOf(p.settings.name, r.name, shard.count) === shard.index,
      ),
    })),
  };
  const graph = buildGraph(part, opts.at ?? T, {
    ...shard,
    config: opts.config ?? 'cfg1',
    requests: { manifest: shard.index, tags: 1 },
    notes: full.providers.flatMap((p) => p.notes.map((n) => `${p.settings.name}: ${n}`)),
  });
  return JSON.parse(JSON.stringify(graph)) as Graph;
}

function shards(count: number, full = discovery()): Array<ShardGraphFile & { graph: Graph }> {
  return Array.from({ length: count }, (_, i) => ({
    source: `shard-${i + 1}/graph.json`,
    graph: shardGraph(full, { index: i + 1, count }),
  }));
}

const text = (g: Graph | GraphSource) => `${JSON.stringify(asSource(g).load(), null, 2)}\n`;

describe('mergeShardGraphs', () => {
  it('gives the unsharded graph byte for byte, renaming what a shard named without the others', () => {
    const full = discovery();
    const expected = text(buildGraph(full, T));
    for (const count of [1, 2, 3, 5]) {
      const files = shards(count, full);
      const merged = mergeShardGraphs([...files].reverse());
      if ('problems' in merged) throw new Error(merged.problems.join('\n'));
      expect(text(merged.graph)).toBe(expected);
      expect(merged.count).toBe(count);
      expect(merged.config).toBe('cfg1');
    }
    // The test means something only if some shard chose a name the unsharded graph does not have.
    const names = new Set(buildGraph(full, T).entities.map((e) => `${e.kind} ${e.metadata.name}`));
    const shardNames = shards(3, full).flatMap((f) =>
      f.graph.entities.map((e) => `${e.kind} ${e.metadata.name}`),
    );
    expect(shardNames.filter((n) => !names.has(n)).length).toBeGreaterThan(0);
  });

  it('sums the requests, keeps each note once, and takes the latest generated_at', () => {
    const full = discovery();
    const files = [1, 2, 3].map((index) => ({
      source: `s${index}`,
      graph: shardGraph(full, { index, count: 3 }, { at: `2026-01-01T00:0${index}:00Z` }),
    }));
    const merged = mergeShardGraphs([files[1]!, files[2]!, files[0]!]);
    if ('problems' in merged) throw new Error(merged.problems.join('\n'));
    expect(merged.requests).toEqual({ manifest: 6, tags: 3 });
    expect(merged.notes).toEqual(['hub: quota: 90 left']);
    expect(merged.graph.generated_at).toBe('2026-01-01T00:03:00Z');
    expect(merged.graph).not.toHaveProperty('shard');
    expect(merged.graph.receipts.some((r) => 'shard' in r)).toBe(false);
  });

  it('a registry listing that failed in one shard leaves the merged registry incomplete, once', () => {
    const files = shards(3);
    const failed = {
      ...receipt('mirror', '*', false),
      errors: ['repository listing: HTTP 503'],
      shard: '2/3',
    };
    files[1]!.graph.receipts.push(failed);
    const merged = mergeShardGraphs(files);
    if ('problems' in merged) throw new Error(merged.problems.join('\n'));
    const registry = merged.graph.receipts.filter((r) => r.repository === '*');
    expect(registry).toEqual([
      { ...receipt('mirror', '*', false), errors: ['repository listing: HTTP 503'] },
    ]);
  });

  describe('refuses', () => {
    const problems = (files: ShardGraphFile[], opts = {}) => {
      const r = mergeShardGraphs(files, opts);
      return 'problems' in r ? r.problems : [];
    };

    it('a missing shard, naming it', () => {
      const [one, , three] = shards(3);
      expect(problems([one!, three!])).toEqual([
        'shard 2/3 is missing (got 1/3, 3/3); merge needs every shard, or the repositories of the missing ones would be absent (and, on upload, deleted)',
      ]);
    });

    it('a shard given twice', () => {
      const files = shards(2);
      expect(problems([...files, { ...files[0]!, source: 'again/graph.json' }])).toEqual([
        "shard 1/2 is given 2 times (shard-1/graph.json, again/graph.json); give each shard's graph once",
      ]);
    });

    it('shards of different configs, or of different n', () => {
      const full = discovery();
      const other = {
        source: 'other/graph.json',
        graph: shardGraph(full, { index: 2, count: 2 }, { config: 'cfg2' }),
      };
      expect(problems([shards(2, full)[0]!, other])).toEqual([
        'the shard graphs come from different configs (config cfg1: shard-1/graph.json (1/2); config cfg2: other/graph.json (2/2)); merge only the shards of one run of one config',
      ]);
      const three = { source: 'three/graph.json', graph: shardGraph(full, { index: 2, count: 3 }) };
      expect(problems([shards(2, full)[0]!, three])[0]).toMatch(
        /^the shard graphs split the inventory differently/,
      );
    });

    it('a config other than the one given', () => {
      expect(problems(shards(2), { expectedConfig: 'cfg9' })).toEqual([
        'the shard graphs were written with config cfg1, but this config hashes to cfg9; merge with the config the shards ran with (or none)',
      ]);
    });

    it('a graph that is not a shard graph', () => {
      const full = { source: 'full/graph.json', graph: buildGraph(discovery(), T) };
      expect(problems([shards(2)[0]!, full])).toEqual([
        'full/graph.json is not a shard graph (it has no valid "shard" record); merge takes the graphs written with --shard i/n (input shard), all of them',
      ]);
      expect(problems([])).toEqual(['merge: give the graph.json of every shard']);
    });

    it('shards that overlap or hold repositories of another shard', () => {
      const [one, two] = shards(2);
      // Shard 1's graph relabelled as shard 2 and the other way round: each holds the other's repositories.
      const swapped = [
        { ...one!, graph: { ...one!.graph, shard: { ...one!.graph.shard!, index: 2 } } },
        { ...two!, graph: { ...two!.graph, shard: { ...two!.graph.shard!, index: 1 } } },
      ];
      expect(problems(swapped)).toContainEqual(
        expect.stringMatching(
          /^shard-1\/graph\.json \(shard 2\/2\) has a receipt for hub \S+, which belongs to shard 1\/2/,
        ),
      );
      const dup = structuredClone(two!);
      dup.graph.entities.push(one!.graph.entities.find((e) => e.kind === 'DockerImage')!);
      expect(problems([one!, dup])[0]).toMatch(
        /^shard-1\/graph\.json and shard-2\/graph\.json both hold DockerImage /,
      );
    });
  });
});
