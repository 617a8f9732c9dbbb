// Requests are the cost: within a run every manifest and config blob is fetched by digest at
// most once, and a warm run over an unchanged registry fetches none at all.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { silentLog } from '../../src/log.js';
import { runDiscovery } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';

let registry: DemoRegistry;
let stateDir: string;
beforeAll(async () => {
  registry = await startDemoRegistry(sampleRepositories());
  stateDir = await mkdtemp(join(tmpdir(), 'dg-once-'));
});
afterAll(async () => {
  await registry.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function run() {
  const secrets = new Secrets();
  const text = `providers:\n  - name: demo\n    type: docker\n    config:\n      registry_type: private\n      api_url: ${registry.url}\n      selectors: [{ max_tags: 0 }]\n`;
  registry.requests.length = 0;
  return runDiscovery(loadConfig(text, { env: {}, secrets, origin: 'test' }), {
    secrets,
    log: silentLog,
    stateDir,
    generatedAt: 'x',
  });
}

describe('fetch once per digest', () => {
  it('cold: no manifest or blob is fetched twice by digest; each tag costs one request to resolve', async () => {
    const r = await run();
    expect(r.complete).toBe(true);
    const byDigest = registry.requests.filter(
      (q) => q.method === 'GET' && /\/(manifests|blobs)\/sha256:/.test(q.path),
    );
    const paths = byDigest.map((q) => q.path);
    expect(new Set(paths).size).toBe(paths.length);
    const tagResolutions = registry.requests.filter(
      (q) => q.kind === 'manifest' && !q.path.includes('sha256:'),
    );
    const candidateTags = r.graph.receipts.reduce((s, x) => s + x.tags_listed, 0) - 1; // less the .sig tag
    expect(tagResolutions).toHaveLength(candidateTags);
  });

  it('warm: HEAD per tag, nothing else but listings', async () => {
    const r = await run();
    expect(r.complete).toBe(true);
    const kinds = registry.requests.map((q) => `${q.method} ${q.kind}`);
    expect(kinds.filter((k) => k === 'GET manifest' || k === 'GET blob')).toEqual([]);
    expect(kinds.filter((k) => k === 'HEAD manifest')).toHaveLength(
      r.graph.receipts.reduce((s, x) => s + x.tags_listed, 0) - 1,
    );
  });

  it('a corrupt state file is discarded and refetched, never trusted', async () => {
    const { readdir } = await import('node:fs/promises');
    const dir = join(stateDir, 'content', 'sha256');
    const files = await readdir(dir);
    await writeFile(join(dir, files[0]!), 'garbage');
    const r = await run();
    expect(r.complete).toBe(true);
    expect(registry.requests.filter((q) => q.method === 'GET' && q.path.includes(files[0]!))).toHaveLength(1);
  });
});
