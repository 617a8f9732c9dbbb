// Issue 17, "In use" with Devgraph configured: the real registry seeded with multi-arch images, its
// graph uploaded to the Devgraph fake, and foreign entities there (a Deployment, a Pod) that USE
// some of them. A retention plan keeps what they use, with Devgraph's reason; a Devgraph that
// cannot be read plans no deletion and lets apply delete nothing.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadToDevgraph } from '../../src/devgraph/upload.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import type { RetentionPlan } from '../../src/retention/plan.js';
import type { RunOptions } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';
import { runActionInProcess } from '../support/action-in-process.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { retentionConfig } from '../support/config-text.js';
import { discoverText } from '../support/discover-text.js';
import {
  type DevgraphFake,
  type FakeEntity,
  type FakeRelation,
  startDevgraphFake,
} from '../support/fakes/devgraph-fake.js';
import { pushRepository } from '../support/push-content.js';
import { type RunningRegistry, registryAvailable, startRegistry } from '../support/registry-process.js';
import { SUPPLY_CHAIN_IMAGES, supplyChainRepository } from '../support/supply-chain-content.js';

if (!registryAvailable()) {
  throw new Error('/usr/bin/docker-registry is missing: install the Debian package docker-registry');
}

const TOKEN = 'dg_in_use_token_8c1f2e9a4b';
const ENVIRONMENT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const API_VERSION = 'entities.devgraph.ai/v1';
/** A server cap below the entities listed, so the listing takes several pages. */
const PAGE_CAP = 7;
/** Tries of a GET that fails with 500: a fault scripted for all of them makes the failure stick. */
const ATTEMPTS = 3;

const { content, facts } = supplyChainRepository();

/** Why retention-plan.json in `dir` keeps the `legacy` image. */
async function whyLegacyKept(dir: string) {
  const written = JSON.parse(await readFile(join(dir, 'retention-plan.json'), 'utf8')) as {
    plans: RetentionPlan[];
  };
  return written.plans[0]!.protected.find((p) => p.digest === facts.images.legacy.digest)?.why;
}

const DEPLOYMENT_REASON = { by: 'in_use', detail: 'in use in Devgraph: Deployment/web USES it' };

async function discover(registry: RunningRegistry, retention: string, extra: Partial<RunOptions> = {}) {
  const run = await discoverText(retentionConfig(registry.url, retention), {
    origin: 'retention devgraph test config',
    http: new HttpClient({ sleep: async () => {}, baseBackoffMs: 1, maxAttempts: ATTEMPTS }),
    generatedAt: '2026-01-01T00:00:00Z',
    ...extra,
  });
  return { run, graph: run.graph.load() };
}

const foreign = (kind: string, name: string): FakeEntity => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, namespace: 'prod', labels: { 'app.kubernetes.io/name': name } },
  spec: { replicas: 2 },
  status: { discovery_source: 'k8s-prod' },
});

const ref = (e: FakeEntity) => ({
  apiVersion: e.apiVersion,
  kind: e.kind,
  name: e.metadata.name,
  namespace: e.metadata.namespace,
});

function uses(source: FakeEntity, target: FakeEntity): FakeRelation {
  return {
    namespace: source.metadata.namespace,
    relation: 'USES',
    source: ref(source),
    target: ref(target),
    metadata: { labels: { 'managed-by': 'provider:k8s-prod' } },
  };
}

describe('retention protects what Devgraph shows in use (issue 17)', () => {
  let registry: RunningRegistry;
  let devgraph: DevgraphFake;
  let listed = 0;
  const configured = () => ({ devgraph: { url: devgraph.url, token: TOKEN, environment: ENVIRONMENT } });
  const listings = () => devgraph.requests.filter((r) => r.operation === 'get_entities');

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'open' });
    await pushRepository(registry, content);
    devgraph = await startDevgraphFake({ token: TOKEN, environment: ENVIRONMENT, limit: PAGE_CAP });
    // Devgraph holds this action's entities, as an upload of a first run left them.
    const { run } = await discover(registry, '{ keep_newest: 100 }');
    const http = new HttpClient();
    try {
      const uploaded = await uploadToDevgraph(run.graph, {
        url: devgraph.url,
        token: TOKEN,
        environment: ENVIRONMENT,
        http,
        secrets: new Secrets(),
        log: silentLog,
      });
      expect(uploaded.errors).toEqual([]);
    } finally {
      await http.close();
      run.graph.close();
    }
    // A Kubernetes provider's Deployment uses the `legacy` image, and a Pod one platform manifest
    // of `bundle` by digest.
    const image = [...devgraph.entities.values()].find(
      (e) => e.kind === 'DockerImage' && e.spec?.tag === 'legacy',
    )!;
    const platform = Object.values(facts.images.bundle.platforms)[0]!;
    const manifest = [...devgraph.entities.values()].find(
      (e) => e.kind === 'DockerManifest' && e.spec?.digest === platform,
    )!;
    const web = foreign('Deployment', 'web');
    const pod = foreign('Pod', 'batch-7f9c');
    devgraph.seed([web, pod], [uses(web, image), uses(pod, manifest)]);
    listed = devgraph.entities.size;
    expect(listed).toBeGreaterThan(3 * PAGE_CAP);
  }, 60_000);

  afterAll(async () => {
    registry?.stop();
    await devgraph?.close();
  });

  it('keeps the image a foreign Deployment USES, with Devgraph as the reason, reading every page once', async () => {
    const before = listings().length;
    const { run, graph } = await discover(registry, '{ keep_newest: 0 }', configured());
    const plan = run.retention!.plans[0]!;
    expect(plan.skipped).toBeUndefined();
    const gone = new Set(plan.deletions.map((d) => d.digest));
    expect(gone.has(facts.images.legacy.digest)).toBe(false);
    const kept = plan.protected.find((p) => p.digest === facts.images.legacy.digest)!;
    expect(kept.tags).toContain('legacy');
    expect(kept.why).toContainEqual(DEPLOYMENT_REASON);
    // The platform manifest a Pod uses stays though its index goes; the rest of the index goes.
    const platform = Object.values(facts.images.bundle.platforms)[0]!;
    expect(gone.has(facts.images.bundle.digest)).toBe(true);
    expect(gone.has(platform)).toBe(false);
    expect(plan.protected.find((p) => p.digest === platform)?.why).toContainEqual({
      by: 'in_use',
      detail: 'in use in Devgraph: Pod/batch-7f9c USES it',
    });
    // The graph's own relations (an image USES its manifests) protect nothing: every other
    // image goes.
    for (const tag of SUPPLY_CHAIN_IMAGES.filter((t) => t !== 'legacy'))
      expect(gone.has(facts.images[tag].digest)).toBe(true);
    expect(graph.entities.some((e) => e.kind === 'DockerImage')).toBe(true);

    // One paged listing for the run: the server's cap of PAGE_CAP a page, to the end, and no more.
    const pages = listings().slice(before);
    expect(pages).toHaveLength(Math.floor(listed / PAGE_CAP) + 1);
    expect(pages.map((p) => Number(p.query.offset))).toEqual(pages.map((_, i) => i * PAGE_CAP));
    expect(run.requests.devgraph).toBe(pages.length);
    expect(run.summary).toContain(
      "Retention in use: Devgraph shows 2 digests of this run's images that other entities point at; they are protected.",
    );
  });

  it('a Devgraph answering 500 plans no deletion, says why, and apply deletes nothing', async () => {
    devgraph.fault({ operation: 'get_entities', status: 500, times: ATTEMPTS, detail: 'database is down' });
    const { run } = await discover(registry, '{ keep_newest: 0 }', { ...configured(), applyRetention: {} });
    const plan = run.retention!.plans[0]!;
    expect(plan.deletions).toEqual([]);
    expect(plan.skipped).toMatch(
      /^Devgraph could not be read \(could not list existing entities \(offset 0\): HTTP 500 \(database is down\)\), so what is in use there is unknown/,
    );
    expect(run.retention!.deletions).toBe(0);
    expect(run.retention!.applied!.counts.deleted).toBe(0);
    expect(run.summary).toContain(
      'Retention in use: Devgraph could not be read (could not list existing entities (offset 0): HTTP 500 (database is down)), so no repository with protect_in_use was planned for deletion.',
    );
    const { graph } = await discover(registry, '{ keep_newest: 100 }');
    expect(graph.entities.filter((e) => e.kind === 'DockerImage')).toHaveLength(SUPPLY_CHAIN_IMAGES.length);
  });

  it('a refused token (401) plans no deletion, and the message names the fix but never the token', async () => {
    const { run } = await discover(registry, '{ keep_newest: 0 }', {
      devgraph: { url: devgraph.url, token: 'dg_wrong_token_0000', environment: ENVIRONMENT },
    });
    const plan = run.retention!.plans[0]!;
    expect(plan.deletions).toEqual([]);
    expect(plan.skipped).toMatch(
      /HTTP 401, the token was refused \(Invalid or expired token\); check devgraph-token/,
    );
    expect(run.summary).toContain('Retention in use: Devgraph could not be read');
    expect(JSON.stringify(run.retention)).not.toContain('dg_wrong_token_0000');
    expect(run.summary).not.toContain('dg_wrong_token_0000');
  });

  it('a page that fails past the first, or an item that cannot be read, counts as unread', async () => {
    const third = String(2 * PAGE_CAP);
    devgraph.fault({
      operation: 'get_entities',
      status: 500,
      times: ATTEMPTS,
      when: (_body, query) => query.offset === third,
    });
    const failed = (await discover(registry, '{ keep_newest: 0 }', configured())).run.retention!.plans[0]!;
    expect(failed.deletions).toEqual([]);
    expect(failed.skipped).toContain(`could not list existing entities (offset ${third}): HTTP 500`);

    devgraph.fault({
      operation: 'get_entities',
      when: (_body, query) => query.offset === third,
      rewrite: (answer) => {
        const page = answer as { relations: unknown[] };
        page.relations.push({ relation: 'USES', source: { kind: 'Deployment' } });
        return page;
      },
    });
    const malformed = (await discover(registry, '{ keep_newest: 0 }', configured())).run.retention!.plans[0]!;
    expect(malformed.deletions).toEqual([]);
    expect(malformed.skipped).toMatch(
      new RegExp(
        `Devgraph could not be read \\(listing at offset ${third}: relations\\[\\d+\\] \\(USES\\) is malformed`,
      ),
    );
  });

  it('protect_in_use: false does not ask Devgraph, and plans the deletion it would have withheld', async () => {
    const before = listings().length;
    const { run } = await discover(registry, '{ keep_newest: 0, protect_in_use: false }', configured());
    expect(listings()).toHaveLength(before);
    const plan = run.retention!.plans[0]!;
    expect(plan.deletions.map((d) => d.digest)).toContain(facts.images.legacy.digest);
  });

  it('the CLI asks Devgraph with the token from the environment, without --upload, and writes nothing there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-retention-devgraph-'));
    try {
      const configPath = join(dir, 'devgraph-docker.yml');
      await writeFile(configPath, retentionConfig(registry.url, '{ keep_newest: 0 }'));
      const writes = devgraph.writes().length;
      const before = listings().length;
      const { code } = await runCliInProcess(
        ['discover', '--config', configPath, '--out', dir, '--devgraph-url', devgraph.url],
        { DEVGRAPH_TOKEN: TOKEN, DEVGRAPH_ENVIRONMENT: ENVIRONMENT },
      );
      expect(code).toBe(0);
      expect(listings().length).toBeGreaterThan(before);
      expect(devgraph.writes()).toHaveLength(writes);
      expect(await whyLegacyKept(dir)).toContainEqual(DEPLOYMENT_REASON);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the Action asks Devgraph with its devgraph-token input (a dry run writes nothing there)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-retention-devgraph-action-'));
    try {
      const writes = devgraph.writes().length;
      const run = await runActionInProcess(dir, {
        config: retentionConfig(registry.url, '{ keep_newest: 0 }'),
        cache: 'false',
        'output-dir': dir,
        'devgraph-url': devgraph.url,
        'devgraph-token': TOKEN,
        'devgraph-environment': ENVIRONMENT,
        'devgraph-dry-run': 'true',
      });
      expect(run.exitCode, run.log).toBeUndefined();
      expect(devgraph.writes()).toHaveLength(writes);
      expect(await whyLegacyKept(dir)).toContainEqual(DEPLOYMENT_REASON);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('retention apply deletes what the plan lists and never what Devgraph shows in use', async () => {
    const { run } = await discover(registry, '{ keep_newest: 0 }', { ...configured(), applyRetention: {} });
    const applied = run.retention!.applied!;
    expect(applied.counts.deleted).toBe(run.retention!.plans[0]!.deletions.length);
    expect(applied.counts.deleted).toBeGreaterThan(0);
    const { graph } = await discover(registry, '{ keep_newest: 100 }');
    const left = graph.entities.filter((e) => e.kind === 'DockerImage').map((e) => e.spec.tag);
    expect(left).toEqual(['legacy']);
    // The platform manifest the Pod uses is still stored, untagged now that its index is gone.
    const platform = Object.values(facts.images.bundle.platforms)[0]!;
    const stored = await fetch(`${registry.url}/v2/${facts.repository}/manifests/${platform}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(stored.status).toBe(200);
    const deleted = await fetch(
      `${registry.url}/v2/${facts.repository}/manifests/${facts.images.bundle.digest}`,
      {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.index.v1+json' },
      },
    );
    expect(deleted.status).toBe(404);
  });
});
