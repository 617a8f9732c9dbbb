// The documentation stays true to the repository: the generated parts (the Action's tables from
// action.yml, the example configs in the registry guides) match what `npm run docs` would write,
// every relative link reaches a file and heading that exist, and the README stays a front page.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { documentationFiles, headingAnchors, relativeLinks, root } from '../support/documentation.js';

const run = promisify(execFile);
const files = documentationFiles();
const readme = files.find((f) => f.path === 'README.md')!.text;
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
};

describe('documentation', () => {
  it('has what npm run docs generates (action.yml tables, example configs)', async () => {
    const result = await run(process.execPath, [join(root, 'scripts', 'docs.mjs'), '--check']).then(
      () => 'up to date',
      (e: { stderr?: string }) => e.stderr ?? String(e),
    );
    expect(result).toBe('up to date');
  });

  it("lists every input and output of action.yml in the README's tables", () => {
    const between = (name: string) =>
      readme.slice(readme.indexOf(`<!-- ${name}:start`), readme.indexOf(`<!-- ${name}:end -->`));
    const names = (table: string) => [...table.matchAll(/^\| `([\w-]+)` \|/gm)].map((m) => m[1]);
    expect(names(between('action-inputs'))).toEqual(Object.keys(action.inputs));
    expect(names(between('action-outputs'))).toEqual(Object.keys(action.outputs));
    expect(names(between('action-inputs'))).toContain('cache');
    expect(names(between('action-outputs'))).toContain('devgraph-uploaded');
  });

  it('keeps the README a front page: under 350 lines, with its contents listed', () => {
    expect(readme.split('\n').length).toBeLessThan(350);
    expect(readme).toContain('## Contents');
  });

  it('has a guide per registry under docs/registries/', () => {
    for (const vendor of [
      'docker-hub',
      'ecr',
      'gcr',
      'acr',
      'ghcr',
      'quay',
      'harbor',
      'nexus-artifactory',
      'plain-registry',
      'docker-login',
    ])
      expect(existsSync(join(root, 'docs', 'registries', `${vendor}.md`)), vendor).toBe(true);
  });

  for (const file of files) {
    it(`${file.path}: every relative link points at a file (and heading) that exists`, () => {
      const broken: string[] = [];
      for (const { line, target } of relativeLinks(file)) {
        const [path = '', anchor] = target.split('#');
        const resolved = path ? normalize(join(dirname(file.path), decodeURIComponent(path))) : file.path;
        const where = `${file.path}:${line} → ${target}`;
        if (resolved.startsWith('..') || !existsSync(join(root, resolved))) {
          broken.push(`${where} (no such file)`);
          continue;
        }
        if (anchor === undefined || !resolved.endsWith('.md')) continue;
        if (!headingAnchors(readFileSync(join(root, resolved), 'utf8')).has(anchor))
          broken.push(`${where} (no such heading in ${resolved})`);
      }
      expect(broken).toEqual([]);
    });
  }
});
