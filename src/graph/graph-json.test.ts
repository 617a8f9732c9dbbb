import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../model/graph.js';
import { DirectoryState } from '../state/state-store.js';
import { jsonPieces, writeGraphFile } from './graph-json.js';

const entity = (i: number) => ({
  kind: 'DockerImage',
  metadata: { name: `img-${i}`, labels: { tag: `1.0.${i}` }, note: undefined },
  spec: { digest: `sha256:${String(i).padStart(64, '0')}`, layers: [1, undefined, 'x'] },
});

describe('jsonPieces', () => {
  it('joins to exactly JSON.stringify, in pieces under the 128 KB of a V8 large object', () => {
    const value = {
      format: 'devgraph-docker/graph@1',
      skipped: undefined,
      entities: Array.from({ length: 20_000 }, (_, i) => entity(i)),
      relations: [],
      holes: [undefined, null, 1],
      nested: { a: [1, 2] },
    };
    const pieces = [...jsonPieces(value, (s) => s)];
    expect(pieces.join('')).toBe(JSON.stringify(value));
    expect(pieces.length).toBeGreaterThan(2);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(2 ** 16 + 2 ** 10);
  });

  it('joins to exactly JSON.stringify(value, null, 2) and a newline when indented', () => {
    const shapes: object[] = [
      {},
      { entities: [] },
      { a: undefined, entities: [], b: 1 },
      { format: 'f', entities: [entity(1), undefined, 'x'], relations: [], receipts: [{ errors: [] }] },
      { nested: { deep: { list: [1, { x: 'a\nb' }] }, empty: {} }, items: [[1, 2], {}] },
      { entities: Array.from({ length: 20_000 }, (_, i) => entity(i)), tail: 'end' },
    ];
    for (const value of shapes)
      expect([...jsonPieces(value, (s) => s, true)].join('')).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });

  it('writes a Map as an object and a record of many members, both in pieces', () => {
    const tags = Object.fromEntries(
      Array.from({ length: 20_000 }, (_, i) => [`repo/${i}`, { [`v${i}`]: entity(i).spec.digest }]),
    );
    const asMap = { registry: 'https://r', repositories: new Map(Object.entries(tags)), empty: new Map() };
    const asObject = { registry: 'https://r', repositories: tags, empty: {} };
    for (const indent of [false, true]) {
      const pieces = [...jsonPieces(asMap, (s) => s, indent)];
      expect(pieces.join('')).toBe(
        indent ? `${JSON.stringify(asObject, null, 2)}\n` : JSON.stringify(asObject),
      );
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(2 ** 16 + 2 ** 10);
      // A record whose members are the items (the state's listing pages) is cut between them.
      const members = [...jsonPieces(tags, (s) => s, indent)];
      expect(members.join('')).toBe(indent ? `${JSON.stringify(tags, null, 2)}\n` : JSON.stringify(tags));
      expect(Math.max(...members.map((p) => p.length))).toBeLessThan(2 ** 16 + 2 ** 10);
    }
  });

  it('writes graph.json indented and redacted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-graph-file-'));
    try {
      const graph = { format: 'x', entities: [entity(1)], relations: [], receipts: [] };
      await writeGraphFile(join(dir, 'graph.json'), graph, (s) => s.replace('img-1', 'img-one'));
      expect(await readFile(join(dir, 'graph.json'), 'utf8')).toBe(
        `${JSON.stringify(graph, null, 2).replace('img-1', 'img-one')}\n`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('redacts every piece', () => {
    const value = {
      entities: Array.from({ length: 20_000 }, (_, i) => ({ ...entity(i), secret: 'hunter22' })),
    };
    const text = [...jsonPieces(value, (s) => s.split('hunter22').join('***'))].join('');
    expect(text).not.toContain('hunter22');
    expect(JSON.parse(text).entities[19_999].secret).toBe('***');
  });

  it('is what savePreviousGraph writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-pieces-'));
    try {
      const graph = { format: 'x', entities: [entity(1)], relations: [], receipts: [] } as unknown as Graph;
      await new DirectoryState(dir).savePreviousGraph(graph, (s) => s.replace('img-1', 'img-one'));
      expect(await readFile(join(dir, 'graph.json'), 'utf8')).toBe(
        JSON.stringify(graph).replace('img-1', 'img-one'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
