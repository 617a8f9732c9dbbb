import { describe, expect, it } from 'vitest';
import { inventoryOf, previousOf } from '../../test/support/inventory.js';
import {
  API_VERSION,
  DISCOVERY_SOURCE,
  type Entity,
  GRAPH_FORMAT,
  type Graph,
  type GraphReceipt,
} from '../model/graph.js';
import { ConsumableInventory, comparisonView, diffGraphsConsuming, hasChanges, parseGraph } from './diff.js';
import { jsonPieces } from './graph-json.js';

const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

interface RepoSpec {
  provider?: string;
  repository: string;
  tags: Record<string, string | { digest: string; platforms: string[] }>;
  complete?: boolean;
}

/** A graph as buildGraph shapes it, reduced to what the diff reads. */
function graph(repos: RepoSpec[], opts: { registryIncomplete?: string[]; at?: string } = {}): Graph {
  const entities: Entity[] = [];
  const receipts: GraphReceipt[] = [];
  const entity = (
    kind: Entity['kind'],
    provider: string,
    name: string,
    spec: Record<string, unknown>,
  ): Entity => ({
    apiVersion: API_VERSION,
    kind,
    metadata: { name, namespace: 'default', labels: {}, annotations: { [DISCOVERY_SOURCE]: provider } },
    spec,
  });
  const providers = new Set([...repos.map((r) => r.provider ?? 'hub'), ...(opts.registryIncomplete ?? [])]);
  for (const p of providers) entities.push(entity('DockerRegistry', p, p, {}));
  for (const p of opts.registryIncomplete ?? [])
    receipts.push({
      provider: p,
      repository: '*',
      complete: false,
      tags_listed: 0,
      tags_selected: 0,
      pages: 1,
      requests: 1,
      errors: ['catalog: HTTP 503'],
    });
  for (const r of repos) {
    const provider = r.provider ?? 'hub';
    entities.push(entity('DockerRepository', provider, r.repository, { full_name: r.repository }));
    for (const [tag, v] of Object.entries(r.tags)) {
      const { digest, platforms } = typeof v === 'string' ? { digest: v, platforms: ['linux/amd64'] } : v;
      entities.push(
        entity('DockerImage', provider, `${r.repository}-${tag}`, {
          repository: r.repository,
          tag,
          digest,
          platforms,
        }),
      );
    }
    const complete = r.complete ?? true;
    receipts.push({
      provider,
      repository: r.repository,
      complete,
      tags_listed: 0,
      tags_selected: 0,
      pages: 1,
      requests: 1,
      errors: complete ? [] : ['manifest v2: HTTP 500'],
    });
  }
  return {
    format: GRAPH_FORMAT,
    generated_at: opts.at ?? '2026-01-01T00:00:00Z',
    entities,
    relations: [],
    receipts,
  };
}

/** diffGraphsConsuming with a previous graph given whole, as each case states it. */
function diff(previous: Graph | undefined, current: Graph) {
  return diffGraphsConsuming(previousOf(previous), current);
}

describe('diffGraphsConsuming', () => {
  it('first run: nothing to compare, nothing new or removed', () => {
    const c = diff(undefined, graph([{ repository: 'acme/api', tags: { v1: D(1) } }]));
    expect(c.firstRun).toBe(true);
    expect(c.newTags).toEqual([]);
    expect(c.removedTags).toEqual([]);
    expect(hasChanges(c)).toBe(false);
  });

  it('an identical graph has no changes', () => {
    const g = graph([{ repository: 'acme/api', tags: { v1: D(1), latest: D(1) } }]);
    const c = diff(g, structuredClone(g));
    expect(hasChanges(c)).toBe(false);
    expect(c.firstRun).toBe(false);
    expect(c.unverified).toEqual([]);
    expect(c.previousGeneratedAt).toBe('2026-01-01T00:00:00Z');
  });

  it('new, moved and removed tags, new and removed repositories', () => {
    const before = graph([
      { repository: 'acme/api', tags: { v1: D(1), v2: D(2), old: D(3) } },
      { repository: 'acme/gone', tags: { x: D(4) } },
    ]);
    const after = graph([
      { repository: 'acme/api', tags: { v1: D(1), v2: D(5), v3: D(6) } },
      { repository: 'acme/web', tags: { latest: D(7) } },
    ]);
    const c = diff(before, after);
    expect(c.newRepositories).toEqual([{ provider: 'hub', repository: 'acme/web' }]);
    expect(c.removedRepositories).toEqual([{ provider: 'hub', repository: 'acme/gone' }]);
    expect(c.newTags).toEqual([
      { provider: 'hub', repository: 'acme/api', tag: 'v3', digest: D(6) },
      { provider: 'hub', repository: 'acme/web', tag: 'latest', digest: D(7) },
    ]);
    expect(c.movedTags).toEqual([
      { provider: 'hub', repository: 'acme/api', tag: 'v2', from: D(2), to: D(5) },
    ]);
    expect(c.removedTags).toEqual([
      { provider: 'hub', repository: 'acme/api', tag: 'old', digest: D(3) },
      { provider: 'hub', repository: 'acme/gone', tag: 'x', digest: D(4) },
    ]);
    expect(hasChanges(c)).toBe(true);
  });

  it('an Inventory compares as its graph does, is used up by the comparison, and only once', () => {
    const before = graph([
      { repository: 'acme/api', tags: { v1: D(1), v2: D(2), old: D(3) } },
      { repository: 'acme/gone', tags: { x: D(4) } },
      { repository: 'acme/half', tags: { a: D(1) }, complete: false },
    ]);
    const after = graph([
      { repository: 'acme/api', tags: { v1: D(1), v2: D(5), v3: D(6) } },
      { repository: 'acme/half', tags: { a: D(1), b: D(2) } },
      { repository: 'acme/web', tags: { latest: D(7) } },
    ]);
    const inventory = inventoryOf(before);
    const handle = new ConsumableInventory(inventory);
    expect(diffGraphsConsuming(handle, after)).toEqual(diff(before, after));
    // Each tag the current graph has was taken out as it was compared; what is left was not seen.
    expect([...inventory.repositories].map(([k, tags]) => [k, [...tags.keys()]])).toEqual([
      ['hub\u0000acme/api', ['old']],
      ['hub\u0000acme/gone', ['x']],
      ['hub\u0000acme/half', []],
    ]);
    // Compared again, what is left would call every tag new: the handle refuses instead.
    expect(() => diffGraphsConsuming(handle, after)).toThrow(/already taken apart by a comparison/);
  });

  it('aliases: each tag on a shared digest is its own entry', () => {
    const before = graph([{ repository: 'r', tags: { '1.27.2': D(1), '1.27': D(1), latest: D(1) } }]);
    const after = graph([
      { repository: 'r', tags: { '1.27.2': D(1), '1.27': D(2), latest: D(2), '1.27.3': D(2) } },
    ]);
    const c = diff(before, after);
    expect(c.movedTags.map((m) => m.tag)).toEqual(['1.27', 'latest']);
    expect(c.newTags).toEqual([{ provider: 'hub', repository: 'r', tag: '1.27.3', digest: D(2) }]);
    expect(c.removedTags).toEqual([]);
  });

  it('multi-arch: a platform added to an index is a new platform (and the tag moved)', () => {
    const before = graph([
      { repository: 'redis', tags: { '7': { digest: D(1), platforms: ['linux/amd64', 'linux/arm64/v8'] } } },
    ]);
    const after = graph([
      {
        repository: 'redis',
        tags: { '7': { digest: D(2), platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'] } },
      },
    ]);
    const c = diff(before, after);
    expect(c.newPlatforms).toEqual([
      { provider: 'hub', repository: 'redis', tag: '7', digest: D(2), platforms: ['linux/arm/v7'] },
    ]);
    expect(c.movedTags).toHaveLength(1);
    // A platform dropped is not a new platform.
    expect(diff(after, before).newPlatforms).toEqual([]);
  });

  it('an incomplete repository receipt reports missing tags as unverified, never removed', () => {
    const before = graph([{ repository: 'acme/api', tags: { v1: D(1), v2: D(2) } }]);
    const after = graph([{ repository: 'acme/api', tags: { v1: D(9) }, complete: false }]);
    const c = diff(before, after);
    expect(c.removedTags).toEqual([]);
    expect(c.unverified).toEqual([
      {
        provider: 'hub',
        repository: 'acme/api',
        tags: ['v2'],
        reason: 'discovery of the repository was incomplete (manifest v2: HTTP 500)',
      },
    ]);
    // What was seen is still reported: a tag seen on another digest did move.
    expect(c.movedTags).toEqual([
      { provider: 'hub', repository: 'acme/api', tag: 'v1', from: D(1), to: D(9) },
    ]);
  });

  it('after an incomplete inventory, tags it lacked are first seen, not new; moves are still moves', () => {
    const before = graph([{ repository: 'acme/api', tags: { v1: D(1) }, complete: false }], {
      registryIncomplete: ['hub'],
    });
    const after = graph([
      { repository: 'acme/api', tags: { v1: D(2), v2: D(3) } },
      { repository: 'acme/web', tags: { latest: D(4) } },
    ]);
    const c = diff(before, after);
    expect(c.newTags).toEqual([]);
    expect(c.newRepositories).toEqual([]);
    expect(c.firstSeen).toEqual([
      {
        provider: 'hub',
        repository: 'acme/api',
        tags: ['v2'],
        reason: 'the previous inventory of the repository was incomplete (manifest v2: HTTP 500)',
      },
      {
        provider: 'hub',
        repository: 'acme/web',
        tags: ['latest'],
        reason: 'the previous repository listing was incomplete (catalog: HTTP 503)',
      },
    ]);
    expect(c.movedTags).toEqual([
      { provider: 'hub', repository: 'acme/api', tag: 'v1', from: D(1), to: D(2) },
    ]);
  });

  it('an incomplete registry listing removes no repository', () => {
    const before = graph([
      { repository: 'a', tags: { v1: D(1) } },
      { repository: 'b', tags: { v1: D(2) } },
    ]);
    const after = graph([{ repository: 'a', tags: { v1: D(1) } }], { registryIncomplete: ['hub'] });
    const c = diff(before, after);
    expect(c.removedRepositories).toEqual([]);
    expect(c.removedTags).toEqual([]);
    expect(c.unverified[0]).toMatchObject({ repository: 'b', tags: ['v1'] });
    expect(c.unverified[0]!.reason).toContain("registry's repository listing was incomplete");
    expect(hasChanges(c)).toBe(false);
  });

  it('a provider missing from this run removes nothing of its own', () => {
    const before = graph([
      { provider: 'hub', repository: 'a', tags: { v1: D(1) } },
      { provider: 'ghcr', repository: 'a', tags: { v1: D(2) } },
    ]);
    const after = graph([{ provider: 'hub', repository: 'a', tags: { v1: D(1) } }]);
    const c = diff(before, after);
    expect(c.removedTags).toEqual([]);
    expect(c.unverified).toEqual([
      expect.objectContaining({ provider: 'ghcr', repository: 'a', tags: ['v1'] }),
    ]);
  });

  it('keys tags by provider: the same repository name in two registries does not mix', () => {
    const before = graph([
      { provider: 'hub', repository: 'acme/api', tags: { v1: D(1) } },
      { provider: 'ghcr', repository: 'acme/api', tags: { v1: D(2) } },
    ]);
    const after = graph([
      { provider: 'hub', repository: 'acme/api', tags: { v1: D(1) } },
      { provider: 'ghcr', repository: 'acme/api', tags: { v1: D(3) } },
    ]);
    expect(diff(before, after).movedTags).toEqual([
      { provider: 'ghcr', repository: 'acme/api', tag: 'v1', from: D(2), to: D(3) },
    ]);
  });
});

describe('comparisonView', () => {
  /** What buildGraph adds around the facts the diff reads: labels, manifests, relations, more spec. */
  const dressed = (g: Graph): Graph => ({
    ...g,
    entities: g.entities.flatMap((e) => [
      {
        ...e,
        metadata: { ...e.metadata, labels: { 'devgraph.ai/provider': 'docker' } },
        spec: {
          ...e.spec,
          registry_url: 'https://r.example',
          labels: { 'org.opencontainers.image.version': '1' },
        },
      },
      ...(e.kind === 'DockerImage'
        ? [{ ...e, kind: 'DockerManifest' as const, spec: { digest: e.spec.digest, layer_digests: [D(9)] } }]
        : []),
    ]),
    relations: g.relations.concat({
      namespace: 'default',
      relation: 'BELONGS_TO',
      source: { apiVersion: API_VERSION, kind: 'DockerImage', name: 'x', namespace: 'default' },
      target: { apiVersion: API_VERSION, kind: 'DockerRepository', name: 'y', namespace: 'default' },
    }),
  });

  it('compares as the whole graph does, in fewer bytes', () => {
    const before = graph(
      [
        { repository: 'acme/api', tags: { v1: D(1), v2: D(2), old: D(3) } },
        { repository: 'acme/gone', tags: { x: D(4) } },
        { repository: 'acme/half', tags: { a: D(1) }, complete: false },
        {
          provider: 'quay',
          repository: 'acme/api',
          tags: { v1: { digest: D(1), platforms: ['linux/arm64'] } },
        },
      ],
      { registryIncomplete: ['ghcr'] },
    );
    const after = graph([
      { repository: 'acme/api', tags: { v1: D(1), v2: D(5), v3: D(6) } },
      { repository: 'acme/half', tags: { a: D(1), b: D(2) } },
      {
        provider: 'quay',
        repository: 'acme/api',
        tags: { v1: { digest: D(1), platforms: ['linux/arm64', 'linux/amd64'] } },
      },
      { provider: 'ghcr', repository: 'acme/new', tags: { t: D(7) } },
    ]);
    const full = dressed(before);
    // What the state writes, read back.
    const written = [...jsonPieces(comparisonView(full), (s) => s)].join('');
    const slim = JSON.parse(written) as Graph;
    const changes = diff(full, dressed(after));
    expect(hasChanges(changes)).toBe(true);
    expect(diff(slim, dressed(after))).toEqual(changes);
    // Read back from the state as text, it is still a graph.
    const parsed = parseGraph(JSON.stringify(slim));
    expect('graph' in parsed && diff(parsed.graph, dressed(after))).toEqual(changes);
    expect(slim.relations).toEqual([]);
    expect(slim.entities.some((e) => e.kind === 'DockerManifest')).toBe(false);
    expect(JSON.stringify(slim).length).toBeLessThan(JSON.stringify(full).length);
    // Made entity by entity, the text is still JSON.stringify's compact form.
    expect(written).toBe(JSON.stringify(slim));
  });
});

describe('parseGraph', () => {
  it('accepts a graph and rejects other files with a reason', () => {
    const g = graph([{ repository: 'r', tags: { v1: D(1) } }]);
    expect(parseGraph(JSON.stringify(g))).toEqual({ graph: g });
    expect(parseGraph('{')).toMatchObject({ error: expect.stringContaining('not valid JSON') });
    expect(parseGraph('{"format":"other"}')).toMatchObject({
      error: expect.stringContaining('expected "devgraph-docker/graph@1"'),
    });
    expect(parseGraph(JSON.stringify({ ...g, receipts: [{}] }))).toEqual({
      error: 'receipts[0] is not a receipt',
    });
  });
});
