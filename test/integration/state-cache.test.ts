// The state directory across workflow runs: which key a config's state lives under, and that a
// miss, a damaged entry or a cache outage only ever makes a run cold (one log line), while a
// restored state makes the next run fetch nothing it already has.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { Settings } from '../../src/config/settings.js';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { silentLog } from '../../src/log.js';
import { runDiscovery } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';
import { restoreState, saveState } from '../../src/shell/state-cache.js';
import { cacheKeys, configHash } from '../../src/state/cache-key.js';
import { captureLog } from '../support/capture-log.js';
import { type ActionsCacheFake, createActionsCacheFake } from '../support/fakes/actions-cache-fake.js';

function settingsOf(config: string, env: Record<string, string> = {}): Settings {
  return loadConfig(config, { env, secrets: new Secrets(), origin: 'test' });
}

const HUB = `providers:
  - name: hub
    type: docker
    config:
      registry_type: docker-hub
      username: acme
      password: \${HUB_TOKEN}
      selectors: [{ namespace_pattern: acme, max_tags: 5 }]
`;

describe('cache key', () => {
  const base = settingsOf(HUB, { HUB_TOKEN: 'dckr_pat_first-token-value' });

  it('does not change with the credentials', () => {
    const rotated = settingsOf(HUB, { HUB_TOKEN: 'dckr_pat_rotated-token-value' });
    const otherUser = settingsOf(HUB.replace('username: acme', 'username: robot'), { HUB_TOKEN: 'x-token' });
    expect(configHash(rotated)).toBe(configHash(base));
    expect(configHash(otherUser)).toBe(configHash(base));
    const key = cacheKeys({ settings: base, runId: '1', runAttempt: '1' }).primaryKey;
    expect(key).not.toContain('dckr_pat');
  });

  it('changes with anything that shapes the graph', () => {
    const variants = [
      HUB.replace('name: hub', 'name: hub-2'),
      HUB.replace(
        'registry_type: docker-hub',
        'registry_type: private\n      api_url: https://r.example.com',
      ),
      HUB.replace('namespace_pattern: acme', 'namespace_pattern: acme-ops'),
      HUB.replace('max_tags: 5', 'max_tags: 6'),
      HUB.replace('selectors:', 'namespace: team-a\n      selectors:'),
    ];
    const hashes = variants.map((v) =>
      configHash(settingsOf(v, { HUB_TOKEN: 'dckr_pat_first-token-value' })),
    );
    expect(new Set([configHash(base), ...hashes]).size).toBe(variants.length + 1);
  });

  it('ignores tuning that does not change the result', () => {
    const tuned = settingsOf(
      HUB.replace('selectors:', 'timeout: 90\n      concurrency: 4\n      selectors:'),
      {
        HUB_TOKEN: 'x-token',
      },
    );
    expect(configHash(tuned)).toBe(configHash(base));
  });

  it('is unique per run and attempt, restored by the config prefix', () => {
    const keys = cacheKeys({ settings: base, runId: '987654', runAttempt: '2' });
    expect(keys.prefix).toBe(`devgraph-docker-state-v1-${configHash(base)}`);
    expect(keys.primaryKey).toBe(`${keys.prefix}-run-987654-2`);
    expect(keys.restoreKeys).toEqual([`${keys.prefix}-run-`]);
  });

  it('the cache-key input replaces the prefix', () => {
    const keys = cacheKeys({ settings: base, override: 'nightly', runId: '5', runAttempt: '1' });
    expect(keys).toEqual({ prefix: 'nightly', primaryKey: 'nightly-run-5-1', restoreKeys: ['nightly-run-'] });
  });
});

describe('restore and save through the cache', () => {
  let cache: ActionsCacheFake;
  let root: string;
  let dir: string;
  const settings = settingsOf(HUB, { HUB_TOKEN: 'dckr_pat_first-token-value' });
  const run = (id: string) => cacheKeys({ settings, runId: id, runAttempt: '1' });

  beforeEach(async () => {
    cache = createActionsCacheFake();
    root = await mkdtemp(join(tmpdir(), 'dg-cache-'));
    dir = join(root, 'state');
  });

  async function writeState(files: Record<string, string>) {
    await rm(dir, { recursive: true, force: true });
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(join(dir, rel, '..'), { recursive: true });
      await writeFile(join(dir, rel), text);
    }
  }

  it('first run misses, saves under its own key; the next run restores it by prefix', async () => {
    const log = captureLog();
    const first = await restoreState({ dir, keys: run('100'), log, cache });
    expect(first).toEqual({
      status: 'miss',
      message: expect.stringMatching(/no saved state .* starting cold/),
    });
    expect(cache.calls[0]).toEqual({
      fn: 'restoreCache',
      paths: [dir],
      key: run('100').primaryKey,
      restoreKeys: run('100').restoreKeys,
    });
    await writeState({ 'tags/abc.json': '{"registry":"r","repositories":{}}' });
    expect(await saveState({ dir, keys: run('100'), log, cache, restored: first })).toMatchObject({
      status: 'saved',
      key: run('100').primaryKey,
    });

    await rm(dir, { recursive: true, force: true });
    const second = await restoreState({ dir, keys: run('101'), log, cache });
    expect(second).toMatchObject({ status: 'hit', key: run('100').primaryKey });
    expect(await readFile(join(dir, 'tags/abc.json'), 'utf8')).toContain('"registry":"r"');
    await saveState({ dir, keys: run('101'), log, cache, restored: second });
    expect(cache.entries.map((e) => e.key)).toEqual([run('100').primaryKey, run('101').primaryKey]);
    expect(log.lines.map((l) => l.level)).toEqual(['info', 'info', 'info', 'info']);
  });

  it('restores the newest entry of its own config, never another config', async () => {
    const other = cacheKeys({
      settings: settingsOf(HUB.replace('name: hub', 'name: hub-2'), { HUB_TOKEN: 'x-token' }),
      runId: '300',
    });
    await writeState({ 'tags/x.json': '"old"' });
    await saveState({ dir, keys: run('200'), log: silentLog, cache });
    await writeState({ 'tags/x.json': '"new"' });
    await saveState({ dir, keys: run('201'), log: silentLog, cache });
    await writeState({ 'tags/x.json': '"other config"' });
    await saveState({ dir, keys: other, log: silentLog, cache });
    await rm(dir, { recursive: true, force: true });

    expect(await restoreState({ dir, keys: run('202'), log: silentLog, cache })).toMatchObject({
      key: run('201').primaryKey,
    });
    expect(await readFile(join(dir, 'tags/x.json'), 'utf8')).toBe('"new"');
  });

  it('a corrupt entry is discarded: the directory is emptied and the run goes cold', async () => {
    await writeState({ 'tags/abc.json': '{"registry":"r","repositories":{}}', 'content/sha256/aa': 'x' });
    await saveState({ dir, keys: run('400'), log: silentLog, cache });
    cache.entries[0]!.files.set('tags/abc.json', Buffer.from('{"registry":"r","repos'));
    await rm(dir, { recursive: true, force: true });

    const log = captureLog();
    const outcome = await restoreState({ dir, keys: run('401'), log, cache });
    expect(outcome).toMatchObject({ status: 'corrupt', key: run('400').primaryKey });
    expect(log.lines).toEqual([
      {
        level: 'warn',
        text: `State cache: the entry ${run('400').primaryKey} could not be read (tags/abc.json is not valid JSON); it was discarded; starting cold.`,
      },
    ]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a restore that stops partway leaves no half state behind', async () => {
    await writeState({ 'a/1.bin': '1', 'a/2.bin': '2', 'a/3.bin': '3', 'a/4.bin': '4' });
    await saveState({ dir, keys: run('500'), log: silentLog, cache });
    await rm(dir, { recursive: true, force: true });
    cache.mode = 'partial';
    const log = captureLog();
    expect(await restoreState({ dir, keys: run('501'), log, cache })).toMatchObject({ status: 'error' });
    expect(log.lines).toHaveLength(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a cache outage costs one line on restore and one on save, and nothing else', async () => {
    cache.mode = 'outage';
    const log = captureLog();
    const restored = await restoreState({ dir, keys: run('600'), log, cache });
    expect(restored).toEqual({
      status: 'error',
      message: 'State cache: restore failed (Cache service responded with 503); starting cold.',
    });
    await writeState({ 'tags/abc.json': '{}' });
    expect(await saveState({ dir, keys: run('600'), log, cache, restored })).toMatchObject({
      status: 'error',
    });
    expect(log.lines.map((l) => l.level)).toEqual(['warn', 'warn']);
    expect(log.lines[1]!.text).toMatch(/^State cache: save failed \(Cache service responded with 503\)/);
  });

  it('without a cache service (outside Actions) it says so once and does not try', async () => {
    cache.mode = 'unavailable';
    const log = captureLog();
    expect(await restoreState({ dir, keys: run('700'), log, cache })).toMatchObject({
      status: 'unavailable',
    });
    await writeState({ 'tags/abc.json': '{}' });
    expect(await saveState({ dir, keys: run('700'), log, cache })).toMatchObject({ status: 'unavailable' });
    expect(cache.calls).toEqual([]);
    expect(log.lines).toEqual([
      { level: 'info', text: 'State cache: the Actions cache service is not available here; starting cold.' },
      {
        level: 'info',
        text: 'State cache: the Actions cache service is not available here; state not saved.',
      },
    ]);
  });

  it('a key the service already holds is not saved twice; an empty state is not saved at all', async () => {
    await writeState({ 'tags/abc.json': '{}' });
    await saveState({ dir, keys: run('800'), log: silentLog, cache });
    const again = await restoreState({ dir, keys: run('800'), log: silentLog, cache });
    expect(again).toMatchObject({ status: 'hit', key: run('800').primaryKey });
    expect(await saveState({ dir, keys: run('800'), log: silentLog, cache, restored: again })).toMatchObject({
      status: 'skipped',
    });
    await rm(dir, { recursive: true, force: true });
    expect(await saveState({ dir, keys: run('801'), log: silentLog, cache })).toMatchObject({
      status: 'skipped',
    });
    expect(cache.calls.filter((c) => c.fn === 'saveCache')).toHaveLength(1);
  });

  it('a refused save (the service returns -1) is a warning, not a failure', async () => {
    await writeState({ 'tags/abc.json': '{}' });
    await saveState({ dir, keys: run('900'), log: silentLog, cache });
    const log = captureLog();
    expect(await saveState({ dir, keys: run('900'), log, cache })).toMatchObject({ status: 'error' });
    expect(log.lines.map((l) => l.level)).toEqual(['warn']);
  });
});

describe('a warm run from the cache', () => {
  let registry: DemoRegistry;
  let root: string;
  beforeAll(async () => {
    registry = await startDemoRegistry(sampleRepositories());
    root = await mkdtemp(join(tmpdir(), 'dg-warm-'));
  });
  afterAll(async () => {
    await registry.close();
    await rm(root, { recursive: true, force: true });
  });

  it('fetches no manifest or blob it restored, and finds the same graph', async () => {
    const cache = createActionsCacheFake();
    const dir = join(root, 'state');
    const text = `providers:\n  - name: demo\n    type: docker\n    config:\n      registry_type: private\n      api_url: ${registry.url}\n      selectors: [{ max_tags: 0 }]\n`;
    const settings = settingsOf(text);
    const discover = async () => {
      registry.requests.length = 0;
      const secrets = new Secrets();
      return runDiscovery(settings, { secrets, log: silentLog, stateDir: dir, generatedAt: 'x' });
    };

    const keys1 = cacheKeys({ settings, runId: '1', runAttempt: '1' });
    expect(await restoreState({ dir, keys: keys1, log: silentLog, cache })).toMatchObject({ status: 'miss' });
    const cold = await discover();
    const coldFetches = registry.requests.filter(
      (q) => q.method === 'GET' && /^(manifest|blob)$/.test(q.kind),
    );
    expect(coldFetches.length).toBeGreaterThan(0);
    await saveState({ dir, keys: keys1, log: silentLog, cache });

    // A new runner: nothing on disk but what the cache brings back.
    await rm(dir, { recursive: true, force: true });
    const keys2 = cacheKeys({ settings, runId: '2', runAttempt: '1' });
    expect(await restoreState({ dir, keys: keys2, log: silentLog, cache })).toMatchObject({ status: 'hit' });
    const warm = await discover();
    // Tags are revalidated with If-None-Match; every answer is a 304, so no manifest or blob is sent again.
    expect(
      registry.requests.filter(
        (q) => q.method === 'GET' && /^(manifest|blob)$/.test(q.kind) && q.status !== 304,
      ),
    ).toEqual([]);
    expect(warm.graph.entities).toEqual(cold.graph.entities);
    expect(warm.graph.relations).toEqual(cold.graph.relations);
  });
});
