// No import cycles in src/, between files or between the directories that hold them. Type-only
// imports count: a cycle made of `import type` lines still means neither side can be read, moved
// or tested without the other (discovery and graph were tied that way), and one edit turns such a
// line into a value import. A file directly in src/ is a module of its own: that level holds both
// the leaves everything uses (errors, log, secrets) and the top that uses everything (run-*, cli).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

type Edges = Map<string, Set<string>>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(dir, f));
}

/**
 * File → the src/ files it imports, by path relative to src/ (`graph/diff.ts`). Tests are left
 * out: nothing imports them, and what one reaches for to set up a case is not its module's need.
 */
function fileImports(): Edges {
  const edges: Edges = new Map();
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file);
    const targets = new Set<string>();
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      targets.add(relative(SRC, resolve(dirname(file), fileName.replace(/\.js$/, '.ts'))));
    }
    edges.set(from, targets);
  }
  return edges;
}

/** `graph/diff.ts` → `graph`; `run-discovery.ts` → `run-discovery.ts`. */
function moduleOf(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file : file.slice(0, slash);
}

function moduleImports(files: Edges): Edges {
  const edges: Edges = new Map();
  for (const [from, targets] of files) {
    const mine = edges.get(moduleOf(from)) ?? new Set<string>();
    edges.set(moduleOf(from), mine);
    for (const t of targets) if (moduleOf(t) !== moduleOf(from)) mine.add(moduleOf(t));
  }
  return edges;
}

/** One cycle per strongly connected component with more than one member, as `a → b → a`. */
function cycles(edges: Edges): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const members = new Set<string>();
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      members.add(w);
    } while (w !== v);
    if (members.size > 1) found.push(cycleThrough(v, members, edges));
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** A path from `start` back to itself inside one component (breadth first: a shortest one). */
function cycleThrough(start: string, members: Set<string>, edges: Edges): string {
  const came = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of [...(edges.get(v) ?? [])].sort()) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path: string[] = [];
        for (let at = v; at !== start; at = came.get(at)!) path.unshift(at);
        return [start, ...path, start].join(' → ');
      }
      if (!came.has(w)) {
        came.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...members].join(', ');
}

describe('imports in src/', () => {
  const files = fileImports();

  it('are read from every file, type-only imports included', () => {
    expect(files.get('graph/build-graph.ts')).toContain('model/discovery.ts');
    // `import type` only: counted like any other import.
    expect(files.get('discovery/discover.ts')).toContain('state/state-store.ts');
    expect(moduleImports(files).get('discovery')).toContain('registries');
  });

  it('finds a cycle where there is one (the check itself)', () => {
    const edges: Edges = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a', 'd'])],
      ['d', new Set()],
    ]);
    expect(cycles(edges)).toEqual(['a → b → c → a']);
    edges.get('c')!.delete('a');
    expect(cycles(edges)).toEqual([]);
  });

  it('form no cycle between files', () => {
    expect(cycles(files)).toEqual([]);
  });

  it('form no cycle between directories (shared types live in src/model, below both sides)', () => {
    expect(cycles(moduleImports(files))).toEqual([]);
  });
});
