import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inventoryOf } from '../../test/support/inventory.js';
import { GRAPH_FORMAT, type Graph } from '../model/graph.js';
import { DirectoryState, NoState } from './state-store.js';

const graph: Graph = {
  format: GRAPH_FORMAT,
  generated_at: '2026-01-01T00:00:00Z',
  entities: [],
  relations: [],
  receipts: [],
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dg-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('previous graph in the state', () => {
  it('round-trips through <dir>/graph.json, written atomically', async () => {
    const state = new DirectoryState(dir);
    expect(await state.loadPreviousInventory()).toBeUndefined();
    await state.savePreviousGraph(graph);
    expect(await readdir(dir)).toEqual(['graph.json']);
    expect(JSON.parse(await readFile(join(dir, 'graph.json'), 'utf8'))).toEqual(graph);
    expect((await state.loadPreviousInventory())?.take()).toEqual(inventoryOf(graph));
  });

  it('a corrupt or foreign file is ignored with a warning, never a crash', async () => {
    const state = new DirectoryState(dir);
    const warnings: string[] = [];
    await writeFile(join(dir, 'graph.json'), '{"format":"devgraph-docker/graph@1","entit');
    expect(await state.loadPreviousInventory((m) => warnings.push(m))).toBeUndefined();
    await writeFile(join(dir, 'graph.json'), '{"format":"something-else"}');
    expect(await state.loadPreviousInventory((m) => warnings.push(m))).toBeUndefined();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^state: ignoring .*graph\.json: not valid JSON .*; this run is reported as a first inventory$/,
    );
    expect(warnings[1]).toContain('"format" is "something-else"');
  });

  it('no state: nothing loaded, nothing saved', async () => {
    const state = new NoState();
    await state.savePreviousGraph();
    expect(await state.loadPreviousInventory()).toBeUndefined();
  });
});
