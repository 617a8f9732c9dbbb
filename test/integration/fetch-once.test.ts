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

async function run(dir = stateDir, target = registry) {
  const secrets = new Secrets();
  const text = `providers:\n  - name: demo\n    type: docker\n    config:\n      registry_type: private\n      api_url: ${target.url}\n      selectors: [{ max_tags: 0 }]\n`;
  target.requests.length = 0;
  return runDiscovery(loadConfig(text, { env: {}, secrets, origin: 'test' }), {
    secrets,
    log: silentLog,
    stateDir: dir,
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
    // Every tag, the .sig tag included: it belongs to a selected image, whose accessories are read.
    const listedTags = r.graph.receipts.reduce((s, x) => s + x.tags_listed, 0);
    expect(tagResolutions).toHaveLength(listedTags);
  });

  it('warm: one conditional GET per tag, all answered 304; nothing else but listings', async () => {
    const r = await run();
    expect(r.complete).toBe(true);
    const candidates = r.graph.receipts.reduce((s, x) => s + x.tags_listed, 0);
    const bodies = registry.requests.filter(
      (q) => q.method === 'GET' && /^(manifest|blob)$/.test(q.kind) && q.status !== 304,
    );
    expect(bodies).toEqual([]);
    const conditional = registry.requests.filter((q) => q.kind === 'manifest' && q.status === 304);
    expect(conditional).toHaveLength(candidates);
    expect(registry.requests.filter((q) => q.method === 'HEAD')).toEqual([]);
    expect(r.summary).toMatch(
      new RegExp(
        `State: \\d+ manifest and config fetches saved \\(already held by digest\\); ${candidates} of ${candidates} known tags unchanged \\(304 Not Modified\\)`,
      ),
    );
  });

  it('a moved tag costs one request: the conditional GET brings the new manifest', async () => {
    const content = sampleRepositories();
    const payments = content.find((r) => r.name === 'acme/payments-api')!;
    const own = await mkdtemp(join(tmpdir(), 'dg-moved-'));
    let moving = await startDemoRegistry(content);
    try {
      await run(own, moving);
      const port = Number(new URL(moving.url).port);
      await moving.close();
      const moved = content.map((r) => ({ ...r, tags: { ...r.tags } }));
      moved.find((r) => r.name === 'acme/payments-api')!.tags['v1.3.0'] = payments.tags['v1.4.0']!;
      moving = await startDemoRegistry(moved, { port });
      const r = await run(own, moving);
      expect(r.changes?.movedTags.map((m) => `${m.tag} ${m.to}`)).toEqual([
        `v1.3.0 ${payments.tags['v1.4.0']}`,
      ]);
      const asked = moving.requests.filter((q) => q.path.startsWith('/v2/acme/payments-api/manifests/'));
      // v1.3.0: one GET answered with the new manifest; v1.4.0's digest is already held, so nothing by digest.
      expect(asked.filter((q) => q.path.endsWith('/v1.3.0')).map((q) => `${q.method} ${q.status}`)).toEqual([
        'GET 200',
      ]);
      expect(asked.filter((q) => q.path.includes('sha256:'))).toEqual([]);
    } finally {
      await moving.close();
      await rm(own, { recursive: true, force: true });
    }
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
