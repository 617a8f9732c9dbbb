// Sharded runs end to end: shards 1/3, 2/3 and 3/3 discovered separately and merged give the
// unsharded graph.json byte for byte (CLI and action against the demo registry, and against the
// Harbor fake, whose listing comes from a vendor API); merge refuses shard sets that do not belong
// together; a merged upload to Devgraph deletes only when every shard's receipts are complete.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { uploadToDevgraph } from '../../src/devgraph/upload.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import type { Graph } from '../../src/model/graph.js';
import type { RetentionReport } from '../../src/retention/retention-planner.js';
import { runMerge } from '../../src/run-merge.js';
import { Secrets } from '../../src/secrets.js';
import { runActionInProcess } from '../support/action-in-process.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { discoverText } from '../support/discover-text.js';
import { startDevgraphFake } from '../support/fakes/devgraph-fake.js';
import { type HarborFake, startHarborFake } from '../support/fakes/harbor-fake.js';
import { publishedGraphText } from '../support/graph-file.js';

const EPOCH = { SOURCE_DATE_EPOCH: '1767225600' };
let registry: DemoRegistry;
let dir: string;
let configFile: string;
beforeAll(async () => {
  registry = await startDemoRegistry(sampleRepositories());
  dir = await mkdtemp(join(tmpdir(), 'dg-shards-'));
  configFile = join(dir, 'config.yml');
  await writeFile(configFile, config(registry.url));
});
afterAll(async () => {
  await registry.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

function config(url: string) {
  return `providers:
  - name: demo
    type: docker
    config:
      registry_type: private
      api_url: ${url}
      selectors:
        - namespace_pattern: "library"
          max_tags: 2
        - namespace_pattern: "acme"
`;
}

const cli = (args: string[], env: Record<string, string | undefined> = EPOCH) => runCliInProcess(args, env);

const PLAN = 'retention-plan.json';
const readGraph = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Graph;

describe('CLI', () => {
  it('discover --shard 1/3, 2/3, 3/3 then merge writes the unsharded graph.json byte for byte', async () => {
    const full = await cli(['discover', '--config', configFile, '--out', join(dir, 'full'), '--quiet']);
    expect(full.code).toBe(0);
    for (const i of [1, 2, 3]) {
      const r = await cli([
        'discover',
        '--config',
        configFile,
        '--out',
        join(dir, `cli-shard-${i}`),
        '--shard',
        `${i}/3`,
        '--quiet',
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Shard ${i}/3: only this shard's repositories`);
    }
    const merged = await cli([
      'merge',
      '--out',
      join(dir, 'cli-merged'),
      '--quiet',
      // Files and directories mix; the order does not matter.
      join(dir, 'cli-shard-3', 'graph.json'),
      join(dir, 'cli-shard-1'),
      join(dir, 'cli-shard-2', 'graph.json'),
    ]);
    expect(merged.code).toBe(0);
    const expected = await readFile(join(dir, 'full', 'graph.json'), 'utf8');
    expect(await readFile(join(dir, 'cli-merged', 'graph.json'), 'utf8')).toBe(expected);
    // Storage in particular, which no shard could count alone: every repository and the registry
    // have it, merged as unsharded.
    const storageOf = (g: Graph) =>
      g.entities
        .filter((e) => e.kind === 'DockerRepository' || e.kind === 'DockerRegistry')
        .map((e) => [e.kind, e.metadata.name, e.spec.storage]);
    const unshardedStorage = storageOf(JSON.parse(expected) as Graph);
    expect(unshardedStorage.length).toBeGreaterThan(1);
    for (const [, , storage] of unshardedStorage)
      expect(storage).toMatchObject({ total_bytes: expect.any(Number), partial: expect.any(Boolean) });
    expect(storageOf(await readGraph(join(dir, 'cli-merged', 'graph.json')))).toEqual(unshardedStorage);
    for (const i of [1, 2, 3]) {
      const shard = await readGraph(join(dir, `cli-shard-${i}`, 'graph.json'));
      expect(shard.receipts.every((r) => r.storage_blobs !== undefined)).toBe(true);
    }

    // The summary is the unsharded one but for the request count (each shard lists the catalog).
    const summary = await readFile(join(dir, 'cli-merged', 'summary.md'), 'utf8');
    expect(summary).toBe(merged.stdout);
    const withoutRequests = (s: string) =>
      s
        .split('\n\n')
        .filter((p) => !/^(Requests|Merged from)/.test(p))
        .join('\n\n');
    expect(withoutRequests(summary)).toBe(withoutRequests(full.stdout));
    expect(summary).toMatch(/Merged from 3 shard graphs \(config [0-9a-f]{16}\)\./);
  });

  it('each repository is in exactly one shard; every shard has the registry and says which shard it is', async () => {
    const full = await readGraph(join(dir, 'full', 'graph.json'));
    const parts = await Promise.all(
      [1, 2, 3].map((i) => readGraph(join(dir, `cli-shard-${i}`, 'graph.json'))),
    );
    const seen = parts.flatMap((g) => g.receipts.map((r) => r.repository));
    expect([...seen].sort()).toEqual(full.receipts.map((r) => r.repository).sort());
    expect(new Set(seen).size).toBe(seen.length);
    parts.forEach((g, i) => {
      expect(g.shard).toMatchObject({
        index: i + 1,
        count: 3,
        config: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      expect(g.receipts.every((r) => r.shard === `${i + 1}/3`)).toBe(true);
      // The registry as the unsharded run wrote it but for `storage`: what this shard's
      // repositories share with other shards' is known only when merge counts them all.
      expect(g.entities.filter((e) => e.kind === 'DockerRegistry')).toEqual(
        full.entities
          .filter((e) => e.kind === 'DockerRegistry')
          .map(({ spec: { storage: _, ...spec }, ...e }) => ({ ...e, spec })),
      );
    });
    // The demo's six repositories spread over all three shards, so each shard did real work.
    for (const g of parts) expect(g.receipts.length).toBeGreaterThan(0);
  });

  it('a bad --shard, a missing or repeated shard, an unsharded graph and another config exit 1', async () => {
    const bad = await cli(['discover', '--config', configFile, '--shard', '3/2']);
    expect(bad).toMatchObject({ code: 1 });
    expect(bad.stderr).toBe(
      'devgraph-docker: --shard: expected i/n with 1 ≤ i ≤ n ≤ 256 (shards count from 1, e.g. 2/3), got "3/2"\n',
    );
    const shard = (i: number) => join(dir, `cli-shard-${i}`, 'graph.json');
    const missing = await cli(['merge', '--out', join(dir, 'refused'), shard(1), shard(3)]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'devgraph-docker: merge: shard 2/3 is missing (got 1/3, 3/3); merge needs every shard, or the repositories of the missing ones would be absent (and, on upload, deleted)\n',
    );
    // The same file named twice counts once; a copy of it is a second graph of the same shard.
    await cp(join(dir, 'cli-shard-2'), join(dir, 'cli-shard-2-copy'), { recursive: true });
    const twice = await cli(['merge', shard(1), shard(2), shard(3), shard(2), join(dir, 'cli-shard-2-copy')]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('merge: shard 2/3 is given 2 times');
    const unsharded = await cli(['merge', shard(1), join(dir, 'full', 'graph.json')]);
    expect(unsharded.stderr).toContain(`merge: ${join(dir, 'full', 'graph.json')} is not a shard graph`);
    const other = join(dir, 'other.yml');
    await writeFile(other, config(registry.url).replace('max_tags: 2', 'max_tags: 4'));
    const mismatch = await cli(['merge', '--config', other, shard(1), shard(2), shard(3)]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(
      /merge: the shard graphs were written with config \w+, but this config hashes to \w+/,
    );
    expect((await cli(['merge'])).code).toBe(1);
  });
});

describe('retention plans of sharded runs', () => {
  // keep_newest over the demo's acme repositories: several of them have something to delete.
  const retentionConfig = () =>
    config(registry.url).replace(
      '        - namespace_pattern: "acme"\n',
      '        - namespace_pattern: "acme"\n          max_tags: 0\n          retention: { keep_newest: 1 }\n',
    );
  let file: string;
  beforeAll(async () => {
    file = join(dir, 'retention.yml');
    await writeFile(file, retentionConfig());
  });

  it('merge writes the retention-plan.json the unsharded run writes, byte for byte', async () => {
    const full = await cli(['discover', '--config', file, '--out', join(dir, 'ret-full'), '--quiet']);
    expect(full.code).toBe(0);
    const expected = await readFile(join(dir, 'ret-full', PLAN), 'utf8');
    const plan = JSON.parse(expected) as RetentionReport;
    // More than one repository planned, with something to delete: the shards each bring a part.
    expect(plan.plans.filter((p) => p.deletions.length > 0).length).toBeGreaterThan(1);
    expect(plan.deletions).toBeGreaterThan(0);
    for (const i of [1, 2, 3])
      expect(
        (
          await cli([
            'discover',
            '--config',
            file,
            '--out',
            join(dir, `ret-shard-${i}`),
            '--shard',
            `${i}/3`,
            '--quiet',
          ])
        ).code,
      ).toBe(0);
    const shards = [1, 2, 3].map((i) => join(dir, `ret-shard-${i}`));
    const parts = await Promise.all(
      shards.map(async (d) => JSON.parse(await readFile(join(d, PLAN), 'utf8')) as RetentionReport),
    );
    expect(parts.filter((p) => p.plans.length > 0).length).toBeGreaterThan(1);

    const merged = await cli([
      'merge',
      '--config',
      file,
      '--out',
      join(dir, 'ret-merged'),
      '--quiet',
      ...shards,
    ]);
    expect(merged.code).toBe(0);
    expect(await readFile(join(dir, 'ret-merged', PLAN), 'utf8')).toBe(expected);
    expect(await readFile(join(dir, 'ret-merged', 'graph.json'), 'utf8')).toBe(
      await readFile(join(dir, 'ret-full', 'graph.json'), 'utf8'),
    );
    // The summary's retention line is the unsharded one too.
    const line = (s: string) => s.split('\n').find((l) => l.startsWith('Retention plan:'));
    expect(line(merged.stdout)).toBeDefined();
    expect(line(merged.stdout)).toBe(line(full.stdout));
    // Without --config, the shards' plans still make the plan.
    const bare = await cli(['merge', '--out', join(dir, 'ret-merged-bare'), '--quiet', ...shards]);
    expect(bare.code).toBe(0);
    expect(await readFile(join(dir, 'ret-merged-bare', PLAN), 'utf8')).toBe(expected);
  });

  it('a shard without its plan, or with a broken one, is refused naming the shard and the file', async () => {
    const shards = [1, 2, 3].map((i) => join(dir, `ret-shard-${i}`));
    // Shard 2's graph alone, its plan left behind.
    const lone = join(dir, 'ret-lone-2');
    await cp(join(shards[1]!, 'graph.json'), join(lone, 'graph.json'), { recursive: true });
    const given = [shards[0]!, lone, shards[2]!];
    const refused = await cli(['merge', '--config', file, '--out', join(dir, 'ret-refused'), ...given]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `devgraph-docker: merge: shard 2/3 (${join(lone, 'graph.json')}) has no retention-plan.json beside it, but the config's selectors have retention:; give each shard's whole output directory or artifact (graph.json with retention-plan.json beside it)\n`,
    );
    const bare = await cli(['merge', '--out', join(dir, 'ret-refused'), ...given]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('has no retention-plan.json beside it, but other shards brought one');

    await writeFile(join(lone, PLAN), '{"plans": [{"provider": "demo"}]}');
    const broken = await cli(['merge', '--config', file, '--out', join(dir, 'ret-refused'), ...given]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`merge: ${join(lone, PLAN)}: not a retention plan: plans.0.registry:`);
  });

  it('action: a merge-graphs job sets the retention outputs of the unsharded run', async () => {
    const full = await runAction({ config: retentionConfig(), 'output-dir': join(dir, 'ret-action-full') });
    expect(full.exitCode).toBeUndefined();
    for (const i of [1, 2, 3]) {
      const r = await runAction({
        config: retentionConfig(),
        shard: `${i}/3`,
        'output-dir': join(dir, 'ret-downloaded', `devgraph-graph-shard-${i}-of-3`),
      });
      expect(r.exitCode).toBeUndefined();
    }
    const merged = await runAction({
      config: retentionConfig(),
      'merge-graphs': join(dir, 'ret-downloaded'),
      'output-dir': join(dir, 'ret-action-merged'),
    });
    expect(merged.exitCode).toBeUndefined();
    expect(Number(merged.values['retention-deletions'])).toBeGreaterThan(0);
    expect(merged.values['retention-deletions']).toBe(full.values['retention-deletions']);
    expect(merged.values['retention-reclaimable-bytes']).toBe(full.values['retention-reclaimable-bytes']);
    expect(await readFile(join(dir, 'ret-action-merged', PLAN), 'utf8')).toBe(
      await readFile(join(dir, 'ret-action-full', PLAN), 'utf8'),
    );
  });
});

function runAction(inputs: Record<string, string>, env: Record<string, string> = {}) {
  return runActionInProcess(dir, { cache: 'false', ...inputs }, { ...EPOCH, ...env });
}

describe('action', () => {
  const TOKEN = 'dg-shard-token-77';

  it('shard jobs then a merge-graphs job: the unsharded graph, uploaded to Devgraph', async () => {
    const devgraph = await startDevgraphFake({ token: TOKEN, environment: 'env-1' });
    try {
      const unsharded = await runAction({
        config: config(registry.url),
        'output-dir': join(dir, 'action-full'),
      });
      expect(unsharded.exitCode).toBeUndefined();
      for (const i of [1, 2, 3]) {
        // As download-artifact lays them out: one directory per shard artifact.
        const r = await runAction({
          config: config(registry.url),
          shard: `${i}/3`,
          'output-dir': join(dir, 'downloaded', `devgraph-graph-shard-${i}-of-3`),
        });
        expect(r.exitCode).toBeUndefined();
        expect(r.values.complete).toBe('true');
      }
      const merged = await runAction({
        'merge-graphs': join(dir, 'downloaded'),
        'output-dir': join(dir, 'action-merged'),
        'devgraph-url': devgraph.url,
        'devgraph-token': TOKEN,
        'devgraph-environment': 'env-1',
      });
      expect(merged.exitCode).toBeUndefined();
      expect(await readFile(merged.values['graph-path']!, 'utf8')).toBe(
        await readFile(join(dir, 'action-full', 'graph.json'), 'utf8'),
      );
      expect(merged.values).toMatchObject({
        complete: 'true',
        repositories: unsharded.values.repositories,
        images: unsharded.values.images,
        'devgraph-uploaded': 'true',
      });
      expect(devgraph.entities.size).toBe((await readGraph(merged.values['graph-path']!)).entities.length);
    } finally {
      await devgraph.close();
    }
  });

  it('a merged upload deletes nothing while any shard has an incomplete receipt, then deletes', async () => {
    const devgraph = await startDevgraphFake({ token: TOKEN, environment: 'env-1' });
    const upload = { 'devgraph-url': devgraph.url, 'devgraph-token': TOKEN, 'devgraph-environment': 'env-1' };
    try {
      const first = await runAction({ 'merge-graphs': join(dir, 'downloaded'), ...upload });
      expect(first.values['devgraph-uploaded']).toBe('true');

      // Next night: one tag is gone from a shard that saw everything, and another shard hit a failure.
      const next = join(dir, 'next');
      await cp(join(dir, 'downloaded'), next, { recursive: true });
      const path = (i: number) => join(next, `devgraph-graph-shard-${i}-of-3`, 'graph.json');
      const one = await readGraph(path(1));
      const gone = one.entities.find((e) => e.kind === 'DockerImage')!;
      const key = `DockerImage/${gone.metadata.namespace}/${gone.metadata.name}`;
      expect(devgraph.entities.has(key)).toBe(true);
      one.entities = one.entities.filter((e) => e !== gone);
      one.relations = one.relations.filter((r) => r.source.name !== gone.metadata.name);
      await writeFile(path(1), JSON.stringify(one));
      const two = await readGraph(path(2));
      const failed = two.receipts[0]!;
      Object.assign(failed, { complete: false, errors: ['tag listing: HTTP 503'] });
      await writeFile(path(2), JSON.stringify(two));

      const held = await runAction({ 'merge-graphs': next, ...upload });
      expect(held.values.complete).toBe('false');
      expect(held.log).toContain('deletes withheld (1 incomplete receipt(s) across the shards)');
      expect(devgraph.entities.has(key)).toBe(true);

      Object.assign(failed, { complete: true, errors: [] });
      await writeFile(path(2), JSON.stringify(two));
      const done = await runAction({ 'merge-graphs': next, ...upload });
      expect(done.values['devgraph-uploaded']).toBe('true');
      expect(devgraph.entities.has(key)).toBe(false);
    } finally {
      await devgraph.close();
    }
  });

  it('uploadToDevgraph itself refuses a shard graph, whatever shell calls it', async () => {
    const devgraph = await startDevgraphFake({ token: TOKEN, environment: 'env-1' });
    const http = new HttpClient();
    try {
      const graph = await readGraph(join(dir, 'downloaded', 'devgraph-graph-shard-1-of-3', 'graph.json'));
      const r = await uploadToDevgraph(graph, {
        url: devgraph.url,
        token: TOKEN,
        environment: 'env-1',
        http,
        secrets: new Secrets(),
        log: silentLog,
      });
      expect(r.ok).toBe(false);
      expect(r.errors).toEqual([
        "Devgraph: graph.json is shard 1/3 of a sharded run; nothing was uploaded. Merge every shard's graph (devgraph-docker merge, or the action's merge-graphs input) and upload the merged graph",
      ]);
      expect(devgraph.requests).toEqual([]);
    } finally {
      await http.close();
      await devgraph.close();
    }
  });

  it('refuses a shard with a devgraph-token, shard with merge-graphs, and a bad shard, before any request', async () => {
    const before = registry.requests.length;
    const token = await runAction({ config: config(registry.url), shard: '1/3', 'devgraph-token': TOKEN });
    expect(token.exitCode).toBe(1);
    expect(token.log).toContain(
      "::error::inputs.devgraph-token: shard 1/3 holds only its own repositories, and uploading it would delete the others' from Devgraph; give devgraph-token to the merge job (merge-graphs) instead",
    );
    const both = await runAction({ config: config(registry.url), shard: '1/3', 'merge-graphs': dir });
    expect(both.log).toContain('::error::inputs: "shard" and "merge-graphs" are both set');
    const bad = await runAction({ config: config(registry.url), shard: '0/3' });
    expect(bad.log).toContain('::error::inputs.shard: expected i/n with 1 ≤ i ≤ n ≤ 256');
    expect(registry.requests.length).toBe(before);
    const missing = await runAction({
      'merge-graphs': join(dir, 'downloaded', 'devgraph-graph-shard-1-of-3'),
    });
    expect(missing.exitCode).toBe(1);
    expect(missing.log).toContain('::error::inputs.merge-graphs: shards 2/3, 3/3 are missing (got 1/3)');
  });
});

describe('a vendor API (Harbor fake)', () => {
  let harbor: HarborFake;
  beforeAll(async () => {
    harbor = await startHarborFake({
      repositories: sampleRepositories(),
      accounts: { admin: { password: 'Harbor12345', projects: '*', sysadmin: true } },
      publicProjects: ['library'],
    });
  });
  afterAll(async () => {
    await harbor?.close();
  });

  it('the merged shards equal the unsharded graph byte for byte', async () => {
    const text = stringify({
      providers: [
        {
          name: 'harbor',
          type: 'docker',
          config: {
            registry_type: 'harbor',
            api_url: harbor.url,
            username: 'admin',
            password: 'Harbor12345',
            discover_vulnerabilities: true,
            selectors: [{ namespace_pattern: '^(library|acme)$', max_tags: 3 }],
          },
        },
      ],
    });
    const secrets = new Secrets();
    const discover = async (shard?: { index: number; count: number }) => {
      const r = await discoverText(text, { secrets, http: new HttpClient(), shard });
      return JSON.parse(await publishedGraphText(r.graph, secrets)) as Graph;
    };
    const full = await discover();
    expect(full.receipts.length).toBeGreaterThan(3);
    const parts = [];
    for (const index of [1, 2, 3])
      parts.push({ source: `shard ${index}`, graph: await discover({ index, count: 3 }) });
    const merged = runMerge(parts, { secrets, field: 'merge' });
    expect(await publishedGraphText(merged.graph, secrets)).toBe(await publishedGraphText(full, secrets));
    expect(merged.complete).toBe(true);
  });
});
