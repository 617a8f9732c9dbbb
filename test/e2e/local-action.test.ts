// The Action's TypeScript source under @github/local-action, as `npm run local-action` runs it:
// the committed .env.example pointed at an in-process demo registry, then the outputs local-action
// prints, the files the action wrote and the job summary local-action keeps in a file.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';

const root = resolve(import.meta.dirname, '../..');
const EXAMPLE_URL = 'http://127.0.0.1:5055';

let registry: DemoRegistry;
let dir: string;
beforeAll(async () => {
  registry = await startDemoRegistry(sampleRepositories());
  dir = await mkdtemp(join(tmpdir(), 'dg-local-action-'));
});
afterAll(async () => {
  await registry?.close();
  await rm(dir, { recursive: true, force: true });
});

/** .env.example as committed, with the demo registry's port and a temporary output directory. */
async function envFile(name: string, extra = ''): Promise<{ path: string; out: string }> {
  const example = await readFile(join(root, '.env.example'), 'utf8');
  expect(example).toContain(EXAMPLE_URL);
  const out = join(dir, name);
  const path = join(dir, `${name}.env`);
  await writeFile(
    path,
    `${example.replaceAll(EXAMPLE_URL, registry.url).replaceAll('local-action-output', out)}${extra}`,
  );
  return { path, out };
}

/**
 * scripts/local-action.mjs in a child process, with an environment of its own: a CI job's
 * GITHUB_* and ACTIONS_* variables would otherwise reach the action beside the .env's.
 */
async function localAction(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(root, 'scripts', 'local-action.mjs'), ...args],
      {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_update_notifier: 'false' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return { code: 0, stdout: plain(stdout), stderr: plain(stderr) };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: plain(e.stdout), stderr: plain(e.stderr) };
  }
}

function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** The "Action Outputs" table local-action prints once run() returns (console.table's rows). */
function outputsTable(stdout: string): Record<string, string> {
  const section = stdout.split('Action Outputs')[1] ?? '';
  const rows = [...section.matchAll(/^│\s*\d+\s*│\s*'([^']+)'\s*│\s*'(.*?)'\s*│$/gm)];
  return Object.fromEntries(rows.map((m) => [m[1]!, m[2]!]));
}

describe('npm run local-action', () => {
  it('runs the action from its TypeScript source with .env.example: outputs, files and the job summary', async () => {
    const { path, out } = await envFile('first');
    const first = await localAction(path);
    expect(first.code, first.stderr).toBe(0);
    // The outputs went through local-action's @actions/core stub, not the real one.
    expect(first.stdout).not.toContain('No outputs were set!');
    const outputs = outputsTable(first.stdout);
    expect(outputs).toMatchObject({
      'graph-path': join(out, 'graph.json'),
      'summary-path': join(out, 'summary.md'),
      complete: 'true',
      registries: '1',
      repositories: '6',
      changed: 'false',
      'new-tags': '[]',
    });
    expect(first.stdout).toContain('demo: 6 repositories listed, 6 selected');
    const graph = JSON.parse(await readFile(join(out, 'graph.json'), 'utf8'));
    const images = graph.entities.filter((e: { kind: string }) => e.kind === 'DockerImage');
    expect(String(images.length)).toBe(outputs.images);
    const summary = await readFile(join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('| library/nginx |');
    expect(summary).not.toContain('304 Not Modified');
    expect(await readFile(join(out, 'step-summary.md'), 'utf8')).toBe(`${summary}\n`);

    // A short run: no progress line at the default interval.
    expect(first.stdout).not.toContain('progress after');

    // The state directory in .env.example carries the first run over to the second, which shows
    // its progress in the log (core.info) at the interval asked for.
    await envFile('first', 'DEVGRAPH_PROGRESS_INTERVAL_MS=5\n');
    const second = await localAction(path);
    expect(second.stdout).toMatch(/^::info::progress after \d+s: /m);
    expect(second.code, second.stderr).toBe(0);
    expect(outputsTable(second.stdout)).toMatchObject({ complete: 'true', changed: 'false' });
    expect(await readFile(join(out, 'summary.md'), 'utf8')).toMatch(
      /known tags unchanged \(304 Not Modified\)/,
    );
  }, 120_000);

  it('a bad input fails the step with the message naming it', async () => {
    const { path } = await envFile('bad', 'INPUT_CONCURRENCY=0\n');
    const r = await localAction(path);
    expect(r.stdout).toContain('inputs.concurrency: must be a whole number from 1 to 256, got "0"');
    expect(r.stdout).toContain('No outputs were set!');
  });

  it('a missing .env says how to make one, before starting local-action', async () => {
    const r = await localAction(join(dir, 'absent.env'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `local-action: ${join(dir, 'absent.env')} does not exist; copy the template (cp .env.example .env) and start the demo registry it points at (npm run demo -- --serve --port 5055)\n`,
    );
  });
});
