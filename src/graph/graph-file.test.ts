import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_VERSION,
  DISCOVERY_SOURCE,
  type Entity,
  type EntityRef,
  GRAPH_FORMAT,
  type Graph,
} from '../model/graph.js';
import { readGraphFile } from './graph-file.js';
import { writeGraphFile } from './graph-json.js';
import { graphDocument, inMemory } from './graph-source.js';

const entity = (kind: Entity['kind'], name: string, spec: Record<string, unknown>): Entity => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, namespace: 'default', labels: {}, annotations: { [DISCOVERY_SOURCE]: 'hub' } },
  spec,
});
const ref = (e: Entity): EntityRef => ({
  apiVersion: API_VERSION,
  kind: e.kind,
  name: e.metadata.name,
  namespace: e.metadata.namespace,
});

const image = entity('DockerImage', 'app-1', { repository: 'app', tag: '1', labels: { a: 'é\n' } });
const manifest = entity('DockerManifest', 'app-manifest-1', { repository: 'app', digest: 'sha256:1' });
const registry = entity('DockerRegistry', 'r', { name: 'r' });
const repository = entity('DockerRepository', 'app', { full_name: 'app' });
const graph: Graph = {
  format: GRAPH_FORMAT,
  generated_at: '2026-01-01T00:00:00Z',
  entities: [image, manifest, registry, repository],
  relations: [
    { namespace: 'default', relation: 'BELONGS_TO', source: ref(image), target: ref(repository) },
    { namespace: 'default', relation: 'BELONGS_TO', source: ref(repository), target: ref(registry) },
    { namespace: 'default', relation: 'USES', source: ref(image), target: ref(manifest) },
    // A manifest the graph does not hold: the relation keeps naming it.
    {
      namespace: 'default',
      relation: 'USES',
      source: ref(image),
      target: { ...ref(manifest), name: 'app-manifest-gone' },
    },
  ],
  receipts: [
    {
      provider: 'hub',
      repository: 'app',
      complete: true,
      tags_listed: 1,
      tags_selected: 1,
      pages: 1,
      requests: 2,
      errors: [],
    },
  ],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graph-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readGraphFile', () => {
  it('reads graph.json back into a graph that writes the same file, entities on disk', async () => {
    const path = join(dir, 'graph.json');
    await writeGraphFile(path, graphDocument(inMemory(graph)), (s) => s);
    const read = await readGraphFile(path);
    if (!('graph' in read)) throw new Error(JSON.stringify(read));
    expect(read.graph.load()).toEqual(graph);
    expect(read.graph.count('DockerImage')).toBe(1);
    expect(read.graph).not.toHaveProperty('shard');
    read.graph.close();
  });

  it('keeps a shard record', async () => {
    const shard = { index: 1, count: 2, config: 'c', requests: {}, notes: [] };
    const path = join(dir, 'shard.json');
    await writeFile(path, JSON.stringify({ ...graph, shard }));
    const read = await readGraphFile(path);
    if (!('graph' in read)) throw new Error(JSON.stringify(read));
    expect(read.graph.shard).toEqual(shard);
    read.graph.close();
  });

  it('names what is wrong: no file, not JSON, not a graph, a bad relation, a kind that is not Docker', async () => {
    const write = async (name: string, text: string) => {
      await writeFile(join(dir, name), text);
      return readGraphFile(join(dir, name));
    };
    expect(await readGraphFile(join(dir, 'none.json'))).toEqual({ unreadable: 'ENOENT' });
    expect(await write('text.json', 'hello')).toMatchObject({
      error: expect.stringMatching(/^not valid JSON/),
    });
    expect(await write('format.json', JSON.stringify({ ...graph, format: 'x' }))).toEqual({
      error: `"format" is "x", expected "${GRAPH_FORMAT}"; give a graph.json written by devgraph-docker`,
    });
    expect(
      await write(
        'relation.json',
        JSON.stringify({ ...graph, relations: [...graph.relations, { relation: 'USES' }] }),
      ),
    ).toEqual({ error: 'relations[4] is not a relation (relation, source, target)' });
    expect(
      await write(
        'kind.json',
        JSON.stringify({
          ...graph,
          entities: [...graph.entities, entity('Service' as Entity['kind'], 's', {})],
        }),
      ),
    ).toEqual({ error: 'entities[4] has kind "Service", not a Docker kind' });
  });
});
