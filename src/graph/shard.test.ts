import { describe, expect, it } from 'vitest';
import { inventoryOf } from '../../test/support/inventory.js';
import { API_VERSION, DISCOVERY_SOURCE, type Entity, GRAPH_FORMAT, type Graph } from '../model/graph.js';
import { keepRepositories } from './diff.js';
import { inShard, MAX_SHARDS, parseShard, shardOf } from './shard.js';

describe('parseShard', () => {
  it('reads i/n, 1-based, with spaces around the numbers', () => {
    expect(parseShard('1/3', '--shard')).toEqual({ shard: { index: 1, count: 3 } });
    expect(parseShard(' 3 / 3 ', '--shard')).toEqual({ shard: { index: 3, count: 3 } });
    expect(parseShard('1/1', '--shard')).toEqual({ shard: { index: 1, count: 1 } });
  });

  it('refuses anything else, naming the field and the expected form', () => {
    expect(parseShard('3/2', 'inputs.shard')).toEqual({
      error: `inputs.shard: expected i/n with 1 ≤ i ≤ n ≤ ${MAX_SHARDS} (shards count from 1, e.g. 2/3), got "3/2"`,
    });
    for (const bad of ['0/3', '2', '1/0', 'a/b', '1/3/5', '-1/3', '1.5/3', '', `1/${MAX_SHARDS + 1}`])
      expect(parseShard(bad, '--shard')).toHaveProperty(
        'error',
        expect.stringMatching(/^--shard: expected i\/n/),
      );
  });
});

describe('shardOf', () => {
  const repositories = Array.from({ length: 600 }, (_, i) => `team-${i % 7}/service-${i}`);

  it('puts every repository in exactly one shard, for any n', () => {
    for (const count of [1, 2, 3, 5, 16]) {
      for (const repo of repositories) {
        const owners = Array.from({ length: count }, (_, i) => i + 1).filter((index) =>
          inShard('hub', repo, { index, count }),
        );
        expect(owners).toEqual([shardOf('hub', repo, count)]);
      }
    }
  });

  it('is a fixed function of provider and repository: the same in every job and every version', () => {
    // Pinned: shard jobs of one run, and merge, must agree; a change here splits runs differently.
    expect([1, 2, 3, 4].map((n) => shardOf('demo', 'library/nginx', n))).toEqual([1, 1, 2, 1]);
    expect(
      ['library/redis', 'acme/payments-api', 'acme/web-frontend'].map((r) => shardOf('demo', r, 3)),
    ).toEqual([1, 2, 3]);
    expect(shardOf('a', 'b/c', 1)).toBe(1);
    // The provider is part of the key: the same repository in two registries is two repositories.
    const differ = repositories.some((r) => shardOf('hub', r, 3) !== shardOf('ecr', r, 3));
    expect(differ).toBe(true);
  });

  it('spreads repositories roughly evenly', () => {
    const sizes = [0, 0, 0];
    for (const r of repositories) sizes[shardOf('hub', r, 3) - 1]!++;
    for (const size of sizes) expect(size).toBeGreaterThan(150);
  });
});

describe("a shard's previous inventory", () => {
  it('keeps every registry and only the shard’s repositories, images and receipts', () => {
    const entity = (kind: Entity['kind'], name: string, spec: Record<string, unknown>): Entity => ({
      apiVersion: API_VERSION,
      kind,
      metadata: { name, namespace: 'default', labels: {}, annotations: { [DISCOVERY_SOURCE]: 'hub' } },
      spec,
    });
    const repos = Array.from({ length: 12 }, (_, i) => `acme/app-${i}`);
    const graph: Graph = {
      format: GRAPH_FORMAT,
      generated_at: '2026-01-01T00:00:00Z',
      entities: [
        entity('DockerRegistry', 'hub', {}),
        ...repos.flatMap((r) => [
          entity('DockerRepository', r.replace('/', '-'), { full_name: r }),
          entity('DockerImage', `${r.replace('/', '-')}-latest`, { repository: r, tag: 'latest' }),
        ]),
      ],
      relations: [],
      receipts: [
        {
          provider: 'hub',
          repository: '*',
          complete: false,
          tags_listed: 0,
          tags_selected: 0,
          pages: 1,
          requests: 0,
          errors: ['x'],
        },
        ...repos.map((repository) => ({
          provider: 'hub',
          repository,
          complete: true,
          tags_listed: 1,
          tags_selected: 1,
          pages: 1,
          requests: 2,
          errors: [],
        })),
      ],
    };
    const shard = { index: 2, count: 3 };
    const mine = repos.filter((r) => shardOf('hub', r, 3) === 2);
    expect(mine.length).toBeGreaterThan(0);
    // The receipts are complete, so make them incomplete to see which ones the inventory keeps.
    for (const r of graph.receipts) r.complete = false;
    const part = inventoryOf(graph, (provider, repository) => inShard(provider, repository, shard));
    expect([...part.providers]).toEqual(['hub']);
    expect([...part.repositories.keys()]).toEqual(mine.map((r) => `hub\u0000${r}`));
    expect([...part.incompleteProviders.keys()]).toEqual(['hub']);
    expect([...part.incompleteRepositories.keys()]).toEqual(mine.map((r) => `hub\u0000${r}`));
    // A named previous graph is read without the shard and cut afterwards: the same inventory.
    const cut = keepRepositories(inventoryOf(graph), (provider, repository) =>
      inShard(provider, repository, shard),
    );
    expect(cut).toEqual(part);
  });
});
