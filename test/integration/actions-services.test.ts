// The Actions cache and artifact services when they misbehave, driven through the real
// @actions/cache and @actions/artifact against a fake of the results service's HTTP API: a
// service that answers 503, refuses connections or never answers costs each step at most its
// time limit and one line saying the service is down, which never reads as "no saved state yet".
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkArtifactService, uploadGraphArtifact } from '../../src/shell/graph-artifact.js';
import { checkCacheService, restoreState, saveState } from '../../src/shell/state-cache.js';
import type { CacheKeys } from '../../src/state/cache-key.js';
import { captureLog } from '../support/capture-log.js';
import { type ActionsResultsFake, startActionsResultsFake } from '../support/fakes/actions-results-fake.js';
import { startScriptedServer } from '../support/scripted-server.js';

/** The limit the failure cases are held to: short enough for a test, long enough for loopback. */
const LIMIT_MS = 1500;
/** Where the service works, time is not under test (a loaded machine archives slowly). */
const AMPLE_MS = 30_000;
const LOOKUP = 'POST /twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL';

const BEHAVES = {
  unavailable: 'answers 503',
  refused: 'refuses connections',
  hang: 'never answers',
} as const;

const keys = (run: string): CacheKeys => ({
  prefix: 'devgraph-docker-state-v1-test',
  primaryKey: `devgraph-docker-state-v1-test-run-${run}-1`,
  restoreKeys: ['devgraph-docker-state-v1-test-run-'],
});

let service: ActionsResultsFake;
let root: string;
let dir: string;
const savedEnv: Record<string, string | undefined> = {};

function setEnv(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    if (!(name in savedEnv)) savedEnv[name] = process.env[name];
    process.env[name] = value;
  }
}

beforeEach(async () => {
  service = await startActionsResultsFake();
  root = await mkdtemp(join(tmpdir(), 'dg-services-'));
  dir = join(root, 'state');
  await mkdir(join(root, 'runner-temp'));
  setEnv({ ...service.env, RUNNER_TEMP: join(root, 'runner-temp') });
});

afterEach(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
    delete savedEnv[name];
  }
  await service.close();
  await rm(root, { recursive: true, force: true });
});

async function writeState(files: Record<string, string>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('the state cache against the cache service', () => {
  it('a round trip: a miss, a save, and the next run restores the files by prefix', async () => {
    const log = captureLog();
    const first = await restoreState({ dir, keys: keys('1'), log, timeLimitMs: AMPLE_MS });
    expect(first).toMatchObject({ status: 'miss', message: expect.stringMatching(/no saved state .* yet/) });

    await writeState({ 'tags/abc.json': '{"registry":"r"}', 'content/sha256/aa': 'bytes' });
    expect(await saveState({ dir, keys: keys('1'), log, restored: first, timeLimitMs: AMPLE_MS })).toEqual({
      status: 'saved',
      key: keys('1').primaryKey,
      message: `State cache: saved ${keys('1').primaryKey}.`,
    });
    expect(service.entries.map((e) => e.key)).toEqual([keys('1').primaryKey]);

    await rm(dir, { recursive: true, force: true });
    const second = await restoreState({ dir, keys: keys('2'), log, timeLimitMs: AMPLE_MS });
    expect(second).toMatchObject({ status: 'hit', key: keys('1').primaryKey });
    expect(await readFile(join(dir, 'tags/abc.json'), 'utf8')).toBe('{"registry":"r"}');
    expect(await readFile(join(dir, 'content/sha256/aa'), 'utf8')).toBe('bytes');
    expect(log.lines.map((l) => l.level)).toEqual(['info', 'info', 'info']);
  });

  it('a 503 is "down" in one line, not a miss; the save that follows does not try', async () => {
    await service.setMode('unavailable');
    const log = captureLog();
    const { value: restored, ms } = await timed(() =>
      restoreState({ dir, keys: keys('3'), log, timeLimitMs: LIMIT_MS }),
    );
    expect(restored).toEqual({
      status: 'down',
      message:
        "State cache: the cache service is down (it answered HTTP 503); starting cold, and this run's state will not be saved.",
    });
    expect(ms).toBeLessThan(LIMIT_MS);
    await writeState({ 'tags/abc.json': '{}' });
    expect(await saveState({ dir, keys: keys('3'), log, restored, timeLimitMs: LIMIT_MS })).toMatchObject({
      status: 'error',
    });
    expect(log.lines).toEqual([
      { level: 'warn', text: restored.message },
      {
        level: 'info',
        text: 'State cache: state not saved; the cache service was down when this run started.',
      },
    ]);
    // One question, one answer: the library never ran against the dead service.
    expect(service.seen).toEqual([LOOKUP]);
  });

  for (const [mode, reason] of [
    ['refused', 'it refused the connection'],
    ['hang', 'no answer within 1.5 s'],
  ] as const) {
    it(`a service that ${BEHAVES[mode]} is "down" in one line, within the limit`, async () => {
      await service.setMode(mode);
      const log = captureLog();
      const { value: restored, ms } = await timed(() =>
        restoreState({ dir, keys: keys('4'), log, timeLimitMs: LIMIT_MS }),
      );
      const message = `State cache: the cache service is down (${reason}); starting cold, and this run's state will not be saved.`;
      expect(restored).toEqual({ status: 'down', message });
      expect(log.lines).toEqual([{ level: 'warn', text: message }]);
      if (mode === 'hang') expect(ms).toBeGreaterThanOrEqual(LIMIT_MS - 50);
      expect(ms).toBeLessThan(LIMIT_MS + 1000);
    });
  }

  it('a save to a service that went down during the run is one warning within the limit', async () => {
    const restored = await restoreState({ dir, keys: keys('6'), log: captureLog(), timeLimitMs: AMPLE_MS });
    expect(restored.status).toBe('miss');
    await writeState({ 'tags/abc.json': '{}' });
    for (const [mode, reason] of [
      ['unavailable', 'it answered HTTP 503'],
      ['refused', 'it refused the connection'],
      ['hang', 'no answer within 1.5 s'],
    ] as const) {
      await service.setMode(mode);
      const log = captureLog();
      const { value: saved, ms } = await timed(() =>
        saveState({ dir, keys: keys('6'), log, restored, timeLimitMs: LIMIT_MS }),
      );
      expect(saved).toEqual({
        status: 'error',
        message: `State cache: the cache service is down (${reason}); state not saved; the next run starts from an older entry or cold.`,
      });
      expect(ms).toBeLessThan(LIMIT_MS + 1000);
      expect(log.lines.map((l) => l.level)).toEqual(['warn']);
    }
    expect(service.entries).toEqual([]);
  });

  it('blob storage that never answers: the restore stops at the limit and leaves no half state', async () => {
    await writeState({ 'tags/abc.json': '{}' });
    expect(await saveState({ dir, keys: keys('7'), log: captureLog(), timeLimitMs: AMPLE_MS })).toMatchObject(
      {
        status: 'saved',
      },
    );
    await rm(dir, { recursive: true, force: true });
    await service.setMode('hang', 'blob');
    const log = captureLog();
    const { value: restored, ms } = await timed(() =>
      restoreState({ dir, keys: keys('8'), log, timeLimitMs: LIMIT_MS }),
    );
    expect(restored).toMatchObject({
      status: 'down',
      message: expect.stringMatching(
        /^State cache: the cache service is down \(the restore did not finish within 1.5 s\)/,
      ),
    });
    expect(ms).toBeLessThan(LIMIT_MS + 1000);
    expect(await readdir(dir)).toEqual([]);
    expect(log.lines.map((l) => l.level)).toEqual(['warn']);
  });
});

describe('the service check asks the service the library would use', () => {
  it('cache service v1 (Enterprise Server): up, 503, refused', async () => {
    const env = {
      GITHUB_SERVER_URL: 'https://ghe.example.com',
      ACTIONS_CACHE_SERVICE_V2: 'True',
      ACTIONS_CACHE_URL: `${service.url}/`,
      ACTIONS_RUNTIME_TOKEN: service.env.ACTIONS_RUNTIME_TOKEN!,
    };
    expect(await checkCacheService(env, LIMIT_MS)).toBeUndefined();
    expect(service.seen).toEqual(['GET /_apis/artifactcache/cache']);
    await service.setMode('unavailable');
    expect(await checkCacheService(env, LIMIT_MS)).toBe('it answered HTTP 503');
    await service.setMode('refused');
    expect(await checkCacheService(env, LIMIT_MS)).toBe('it refused the connection');
  });

  it('a wrong token or an answer that is not a lookup is trouble too', async () => {
    expect(await checkCacheService({ ...service.env, ACTIONS_RUNTIME_TOKEN: 'x.y.z' }, LIMIT_MS)).toBe(
      'it answered HTTP 401',
    );
    // A proxy's sign-in page, say.
    const portal = await startScriptedServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>Sign in</html>');
    });
    try {
      expect(await checkCacheService({ ...service.env, ACTIONS_RESULTS_URL: portal.url }, LIMIT_MS)).toBe(
        'it answered something other than the service API',
      );
    } finally {
      await portal.close();
    }
  });
});

describe('after the time limit nothing keeps the step alive', () => {
  /** Runs restore-in-child.ts; the outcome's line, when it was logged and when the process ended. */
  async function restoreInChild(): Promise<{
    text: string;
    at: number;
    exitedAt: number;
    code: number | null;
  }> {
    const script = join(import.meta.dirname, '../support/restore-in-child.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, String(LIMIT_MS)], {
      env: { ...process.env, ...service.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const exitedAt = Date.now();
    const line = out.split('\n').find((l) => l.startsWith('{"text":"State cache:'));
    return { ...(JSON.parse(line ?? '{}') as { text: string; at: number }), exitedAt, code };
  }

  for (const part of ['service', 'blob'] as const) {
    it(`a restore whose ${part === 'service' ? 'service' : 'blob storage'} never answers ends its process within a second`, async () => {
      await writeState({ 'tags/abc.json': '{}' });
      const keys = { prefix: 'child', primaryKey: 'child-run-1-1', restoreKeys: ['child-run-'] };
      await saveState({ dir, keys, log: captureLog(), timeLimitMs: AMPLE_MS });
      await rm(dir, { recursive: true, force: true });
      await service.setMode('hang', part);
      const child = await restoreInChild();
      expect(child.text).toMatch(/^State cache: the cache service is down/);
      expect(child.code).toBe(0);
      expect(child.exitedAt - child.at).toBeLessThan(1000);
    }, 30_000);
  }
});

describe('the graph artifact against the artifact service', () => {
  let files: string[];
  beforeEach(async () => {
    files = [join(root, 'graph.json'), join(root, 'summary.md')];
    await writeFile(files[0]!, '{"entities":[]}\n');
    await writeFile(files[1]!, '# Summary\n');
  });
  const ENV = { GITHUB_REPOSITORY: 'acme-org/platform', GITHUB_RUN_ID: '42' };

  it('uploads the files as one zip and returns the artifact id and URL', async () => {
    const log = captureLog();
    const out = await uploadGraphArtifact({
      name: 'devgraph-graph',
      files,
      rootDirectory: root,
      env: ENV,
      log,
      timeLimitMs: AMPLE_MS,
    });
    const [artifact] = service.artifacts;
    expect(out).toMatchObject({
      status: 'uploaded',
      id: artifact!.id,
      url: `https://github.com/acme-org/platform/actions/runs/42/artifacts/${artifact!.id}`,
    });
    const zip = service.blobs.get(artifact!.blob)!;
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    expect(zip.includes(Buffer.from('graph.json'))).toBe(true);
    expect(log.lines.map((l) => l.level)).toEqual(['info']);
    expect(service.seen.slice(0, 2)).toEqual([
      'POST /twirp/github.actions.results.api.v1.ArtifactService/ListArtifacts',
      'POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact',
    ]);
  });

  it('where the library refuses on its own (no run ids in the token) its reason is the line', async () => {
    const log = captureLog();
    setEnv({ ACTIONS_RUNTIME_TOKEN: 'not-a-jwt' });
    expect(await checkArtifactService(process.env, 'g', LIMIT_MS)).toBeUndefined();
    const out = await uploadGraphArtifact({
      name: 'g',
      files,
      rootDirectory: root,
      env: ENV,
      log,
      timeLimitMs: LIMIT_MS,
    });
    expect(out.status).toBe('failed');
    expect(log.lines[0]!.text).toMatch(/^Artifact "g" was not uploaded \(Invalid token specified/);
    expect(service.seen).toEqual([]);
  });

  for (const [mode, part, reason] of [
    ['unavailable', 'service', 'the artifact service is down (it answered HTTP 503)'],
    ['refused', 'service', 'the artifact service is down (it refused the connection)'],
    ['hang', 'service', 'the artifact service is down (no answer within 1.5 s)'],
    ['hang', 'blob', 'the artifact service did not finish within 1.5 s'],
  ] as const) {
    it(`${part === 'blob' ? 'blob storage' : 'a service'} that ${BEHAVES[mode]} costs at most the limit and one warning`, async () => {
      await service.setMode(mode, part);
      const log = captureLog();
      const { value: out, ms } = await timed(() =>
        uploadGraphArtifact({ name: 'g', files, rootDirectory: root, env: ENV, log, timeLimitMs: LIMIT_MS }),
      );
      expect(out.status).toBe('failed');
      expect(ms).toBeLessThan(LIMIT_MS + 1000);
      expect(log.lines).toEqual([
        {
          level: 'warn',
          text: `Artifact "g" was not uploaded (${reason}); graph.json, summary.md stay in ${root}.`,
        },
      ]);
      if (part === 'service') expect(service.artifacts).toEqual([]);
    });
  }
});
