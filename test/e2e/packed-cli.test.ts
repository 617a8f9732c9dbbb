// The CLI as a user installs it: the package npm packs from this checkout (dist/ as committed;
// nothing is built here), installed into an empty project and run through npx, offline and with
// an empty npm cache, so installing it can fetch nothing: dist/cli is self-contained. The
// README's `npx github:devgraph-ai/devgraph-docker-action …` resolves the same way as the
// `file:` spec here: a package spec with no command name runs the package's one bin.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRepositories } from '../support/push-content.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';
import { seededRepositories } from '../support/seed-data.js';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let tarball: string;
let packed: { name: string; files: Array<{ path: string }> };
let registry: RunningRegistry;

/** npm's settings from the environment this test runs in (`npm test` sets many), left out. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return {
    ...env,
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

async function exec(file: string, args: string[], cwd: string, env = cleanEnv()): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'packed-cli-'));
  const pack = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root);
  expect(pack.code, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout) as Array<{
    filename: string;
    name: string;
    files: Array<{ path: string }>;
  }>;
  packed = info!;
  tarball = join(dir, info!.filename);
  registry = await startRegistry({ auth: 'basic' });
  await pushRepositories(registry, seededRepositories({ includeManyTags: false }));
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the packed CLI', () => {
  it('holds the CLI bundle, its licences and the README, not the sources or the Action bundle', () => {
    expect(packed.files.map((f) => f.path).sort()).toEqual([
      'README.md',
      'dist/cli/index.js',
      'dist/cli/package.json',
      'dist/licenses.txt',
      'package.json',
    ]);
  });

  it('declares a bin that runs under node, no dependency to install and nothing to prepare', async () => {
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.bin).toEqual({ 'devgraph-docker': 'dist/cli/index.js' });
    expect(manifest.dependencies ?? {}).toEqual({});
    // Any of these makes npm install every devDependency before packing a git dependency
    // (`npx github:…`), although dist/ is committed.
    const scripts = Object.keys(manifest.scripts as Record<string, string>);
    expect(scripts.filter((s) => /^(pre|post)?(install|build|prepack|prepare)$/.test(s))).toEqual([]);
    const bin = await readFile(join(root, 'dist', 'cli', 'index.js'), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('runs from a package spec alone through npx, with nothing fetched', async () => {
    const empty = join(dir, 'anywhere');
    await mkdir(empty);
    const r = await exec('npx', ['--yes', `file:${tarball}`, '--help'], empty);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage:\n {2}devgraph-docker discover --config FILE/);
  });

  it('installs into an empty project offline and discovers a real registry', async () => {
    const project = join(dir, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), '{ "name": "try-devgraph-docker", "private": true }\n');
    const install = await exec('npm', ['install', tarball], project);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('added 1 package');

    const bin = join(project, 'node_modules', '.bin', 'devgraph-docker');
    const help = await exec(bin, ['--help'], project);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('devgraph-docker demo');

    await writeFile(
      join(project, 'devgraph-docker.yml'),
      `providers:
  - name: registry
    type: docker
    config:
      registry_type: private
      api_url: ${registry.url}
      username: \${REGISTRY_USERNAME}
      password: \${REGISTRY_PASSWORD}
      selectors: [{ max_tags: 0 }]
`,
    );
    const env = cleanEnv({ REGISTRY_USERNAME: 'alice', REGISTRY_PASSWORD: registry.users.alice! });
    const r = await exec(bin, ['discover', '--config', 'devgraph-docker.yml', '--out', 'out'], project, env);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toContain(registry.users.alice!);
    const graph = JSON.parse(await readFile(join(project, 'out', 'graph.json'), 'utf8')) as {
      entities: Array<{ kind: string; metadata: { name: string } }>;
      receipts: Array<{ repository: string; complete: boolean }>;
    };
    expect(graph.receipts.filter((x) => x.repository !== '*').map((x) => [x.repository, x.complete])).toEqual(
      [
        ['acme/api', true],
        ['acme/epoch', true],
        ['library/nginx', true],
        ['org/team/app', true],
      ],
    );
    expect(graph.entities.filter((e) => e.kind === 'DockerImage').length).toBeGreaterThan(0);
  });
});
