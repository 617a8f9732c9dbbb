import { describe, expect, it } from 'vitest';
import { inventoryOf } from '../../test/support/inventory.js';
import { API_VERSION, DISCOVERY_SOURCE, type Entity, GRAPH_FORMAT, type Graph } from '../model/graph.js';
import { parseGraph } from './diff.js';
import { readInventory } from './read-inventory.js';

const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function entity(kind: Entity['kind'], name: string, spec: Record<string, unknown>): Entity {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: {
      name,
      namespace: 'default',
      labels: { 'x/ä': 'ünïcode ✓' },
      annotations: { [DISCOVERY_SOURCE]: 'hub' },
    },
    spec,
  };
}

const graph: Graph = {
  format: GRAPH_FORMAT,
  generated_at: '2026-03-01T00:00:00Z',
  entities: [
    entity('DockerRegistry', 'hub', {}),
    entity('DockerRepository', 'acme-api', { full_name: 'acme/api' }),
    entity('DockerImage', 'acme-api-v1', {
      repository: 'acme/api',
      tag: 'v1',
      digest: D(1),
      platforms: ['linux/amd64'],
    }),
    entity('DockerImage', 'acme-api-v2', {
      repository: 'acme/api',
      tag: 'v2',
      digest: D(2),
      platforms: ['linux/amd64', 'linux/arm64/v8'],
    }),
    entity('DockerRepository', 'acme-ünï', { full_name: 'acme/ünï' }),
    entity('DockerImage', 'acme-ünï-✓', { repository: 'acme/ünï', tag: '✓', digest: D(3) }),
    entity('DockerManifest', 'acme-api-manifest', { repository: 'acme/api', digest: D(1) }),
  ],
  relations: [
    {
      namespace: 'default',
      relation: 'BELONGS_TO',
      source: { apiVersion: API_VERSION, kind: 'DockerImage', name: 'acme-api-v1', namespace: 'default' },
      target: { apiVersion: API_VERSION, kind: 'DockerRepository', name: 'acme-api', namespace: 'default' },
    },
  ],
  receipts: [
    {
      provider: 'hub',
      repository: '*',
      complete: false,
      tags_listed: 0,
      tags_selected: 0,
      pages: 1,
      requests: 1,
      errors: ['catalog: HTTP 503'],
    },
    {
      provider: 'hub',
      repository: 'acme/ünï',
      complete: false,
      tags_listed: 1,
      tags_selected: 1,
      pages: 1,
      requests: 2,
      errors: ['tags: timeout'],
    },
  ],
};

async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** What the whole-file path (parseGraph, then inventoryOf) makes of `text`. */
function whole(text: string) {
  const parsed = parseGraph(text);
  return 'error' in parsed ? { error: parsed.error } : { inventory: inventoryOf(parsed.graph) };
}

describe('readInventory', () => {
  it('reads what parseGraph + inventoryOf read, however the bytes are cut (UTF-8 split mid-character)', async () => {
    for (const text of [JSON.stringify(graph), JSON.stringify(graph, null, 2)]) {
      const expected = whole(text);
      expect(expected).toHaveProperty('inventory');
      for (const size of [1, 2, 3, 7, 64, 1 << 16])
        expect(await readInventory(chunked(text, size))).toEqual(expected);
    }
  });

  it('gives parseGraph’s message for every file it refuses', async () => {
    const cases = [
      '',
      '{"format":"devgraph-docker/graph@1","entit',
      '\u0000\u00ff garbage \u0000',
      '[1,2]',
      '"a string"',
      '{"format":"something-else","entities":[],"relations":[],"receipts":[]}',
      '{"entities":[],"relations":[],"receipts":[]}',
      `{"format":"${GRAPH_FORMAT}","entities":[],"receipts":[]}`,
      `{"format":"${GRAPH_FORMAT}","entities":{},"relations":[],"receipts":[]}`,
      `{"format":"${GRAPH_FORMAT}","entities":[{"kind":"DockerImage","metadata":{},"spec":{}},3],"relations":[],"receipts":[]}`,
      `{"format":"${GRAPH_FORMAT}","entities":[],"relations":[],"receipts":[{"provider":"hub"}]}`,
      `{"format":"${GRAPH_FORMAT}","entities":[],"relations":[],"receipts":[]} trailing`,
    ];
    for (const text of cases) {
      const expected = whole(text) as { error: string };
      expect(expected, text).toHaveProperty('error');
      const got = await readInventory(chunked(text, 5));
      expect(got, text).toHaveProperty('error');
      const message = (got as { error: string }).error;
      // Invalid JSON is named as such; the parsers word the detail differently.
      if (expected.error.startsWith('not valid JSON'))
        expect(message, text).toMatch(/^not valid JSON \(.+\)$/);
      else expect(message, text).toBe(expected.error);
    }
  });

  it('takes only the repositories `keep` accepts, with their receipts; registries always', async () => {
    const got = await readInventory(
      chunked(JSON.stringify(graph), 100),
      (_p, repository) => repository === 'acme/api',
    );
    expect(got).toHaveProperty('inventory');
    const inv = (got as { inventory: ReturnType<typeof inventoryOf> }).inventory;
    expect([...inv.repositories.keys()]).toEqual(['hub\u0000acme/api']);
    expect([...inv.incompleteRepositories.keys()]).toEqual([]);
    expect([...inv.incompleteProviders.keys()]).toEqual(['hub']);
    expect([...inv.providers]).toEqual(['hub']);
  });
});
