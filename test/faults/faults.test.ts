// Full discovery through a fault-injecting proxy (test/support/fault-proxy.ts), in front of a real
// Distribution 2.8 registry in token mode and in front of the Quay fake. Each fault has one exact
// outcome: either the graph is the fault-free graph (the fault was retried away), or the graph is
// the fault-free graph minus exactly what the fault hid, with the affected receipt incomplete and
// its reason asserted word for word. Never a crash, a hang, a wrong graph or a secret in a message.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import type { Storage } from '../../src/graph/storage-ledger.js';
import { HttpClient, type HttpOptions } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import type { Graph, GraphReceipt } from '../../src/model/graph.js';
import { type RunResult, runDiscovery } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { type QuayFake, startQuayFake } from '../support/fakes/quay-fake.js';
import { type FaultProxy, type FaultRule, startFaultProxy } from '../support/fault-proxy.js';
import { pushRepositories } from '../support/push-content.js';
import { type RunningRegistry, registryAvailable, startRegistry } from '../support/registry-process.js';
import { startScriptedServer } from '../support/scripted-server.js';
import { ACME_API, ACME_EPOCH, NGINX, ORG_TEAM_APP } from '../support/seed-data.js';

const GENERATED_AT = '2026-01-01T00:00:00Z';
/** Backoff base for retries: with random() = 0.5 the waits are exactly 10, 20, 40 ms. */
const BACKOFF_MS = 10;
/** Waits really slept are this much shorter than asked, so a Retry-After of 1 s costs 10 ms. */
const SLEEP_SCALE = 100;
/** The per-request timeout (config `timeout`, seconds) of the runs that face a stalled server. */
const SHORT_TIMEOUT_S = 0.3;
const PLACEHOLDER = 'http://registry.test';

interface Run {
  result: RunResult;
  /** Every wait the HTTP client asked for, in ms, before scaling. */
  waits: number[];
  counts: Record<string, number>;
  ms: number;
}

async function discover(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
  http: HttpOptions = {},
): Promise<Run> {
  const secrets = new Secrets();
  const settings = loadConfig(stringify({ providers: [{ name: 'faults', type: 'docker', config }] }), {
    env,
    secrets,
    origin: 'faults test',
  });
  const waits: number[] = [];
  const client = new HttpClient({
    baseBackoffMs: BACKOFF_MS,
    random: () => 0.5,
    sleep: (ms) => {
      waits.push(ms);
      return new Promise((r) => setTimeout(r, ms / SLEEP_SCALE));
    },
    ...http,
  });
  const started = performance.now();
  try {
    const result = await runDiscovery(settings, {
      secrets,
      log: silentLog,
      http: client,
      generatedAt: GENERATED_AT,
    });
    // Whatever went wrong, no password or token may surface in the graph or the summary.
    const text = JSON.stringify(result.graph) + result.summary;
    expect(secrets.redact(text)).toBe(text);
    return { result, waits, counts: Object.fromEntries(client.counts), ms: performance.now() - started };
  } finally {
    await client.close();
  }
}

type Receipt = Omit<GraphReceipt, 'requests'>;
interface Shape {
  entities: Graph['entities'];
  relations: Graph['relations'];
  receipts: Receipt[];
}

/**
 * The graph with the registry URL replaced and receipts without their request counts (see `requests`).
 * Storage is checked here and left out of the shape: which bytes a fault leaves uncounted is not
 * the fault's to state, but the figures must add up and say `partial` wherever a receipt is not
 * complete (test/integration/storage.test.ts asserts them to the byte).
 */
function shape(graph: Graph, url: string): Shape {
  const g = JSON.parse(JSON.stringify(graph).split(url).join(PLACEHOLDER)) as Graph;
  const incomplete = new Set(g.receipts.filter((r) => !r.complete).map((r) => r.repository));
  for (const e of g.entities) {
    if (e.kind !== 'DockerRegistry' && e.kind !== 'DockerRepository') continue;
    const storage = e.spec.storage as Storage;
    expect(storage.unique_bytes + storage.shared_bytes, e.metadata.name).toBe(storage.total_bytes);
    const partial =
      e.kind === 'DockerRegistry' ? incomplete.size > 0 : incomplete.has(String(e.spec.full_name));
    if (partial) expect(storage.partial, e.metadata.name).toBe(true);
    delete e.spec.storage;
  }
  return {
    entities: g.entities,
    relations: g.relations,
    receipts: g.receipts.map(({ requests: _, ...r }) => r),
  };
}

/** Requests per repository receipt. */
function requests(graph: Graph): Record<string, number> {
  return Object.fromEntries(graph.receipts.map((r) => [r.repository, r.requests]));
}

/**
 * The fault-free shape minus the entities named (and their relations), with receipts patched; a
 * registry-wide receipt ('*') is added when given.
 */
function expected(
  base: Shape,
  opts: {
    drop?: string[];
    receipts?: Record<string, Partial<Receipt>>;
    registry?: string[];
    /** Spec fields an entity loses (facts that came from the images that are gone). */
    unset?: Record<string, string[]>;
  },
): Shape {
  const drop = new Set(opts.drop ?? []);
  const receipts = base.receipts.map((r) => ({ ...r, ...opts.receipts?.[r.repository] }));
  if (opts.registry) {
    // The registry-wide receipt sorts first.
    receipts.unshift({
      provider: 'faults',
      repository: '*',
      complete: false,
      tags_listed: 0,
      tags_selected: 0,
      pages: 0,
      errors: opts.registry,
      ...opts.receipts?.['*'],
    });
  }
  const entities = base.entities
    .filter((e) => !drop.has(e.metadata.name))
    .map((e) => {
      const gone = opts.unset?.[e.metadata.name];
      if (!gone) return e;
      const spec = { ...e.spec };
      for (const key of gone) delete spec[key];
      return { ...e, spec };
    });
  return {
    entities,
    relations: base.relations.filter((r) => !drop.has(r.source.name) && !drop.has(r.target.name)),
    receipts,
  };
}

/** A body rewrite that keeps the first half of the answer, and remembers how long that was. */
function halve() {
  const cut = {
    length: -1,
    body: (b: Buffer) => {
      cut.length = Math.floor(b.length / 2);
      return b.subarray(0, cut.length);
    },
  };
  return cut;
}

const hex12 = (digest: string) => digest.slice('sha256:'.length, 'sha256:'.length + 12);
const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const TOOMANY = JSON.stringify({
  errors: [{ code: 'TOOMANYREQUESTS', message: 'too many requests', detail: null }],
});

describe.skipIf(!registryAvailable())('faults between discovery and a real registry (token auth)', () => {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let base: Shape;
  let baseRequests: Record<string, number>;
  const closers: Array<() => Promise<unknown>> = [];

  const config = (extra: Record<string, unknown> = {}) => ({
    registry_type: 'private',
    api_url: proxy.url,
    username: 'alice',
    password: '${REGISTRY_PASSWORD}',
    selectors: [{ max_tags: 0 }],
    ...extra,
  });
  const ENV = { REGISTRY_PASSWORD: 'alice-secret' };
  const run = (rules: FaultRule[], extra: Record<string, unknown> = {}, http: HttpOptions = {}) => {
    proxy.script(rules);
    return discover(config(extra), ENV, http);
  };
  const at = (path: string) => `${proxy.host}${path}`;
  const plus = (extra: Record<string, number>) =>
    Object.fromEntries(Object.entries(baseRequests).map(([k, v]) => [k, v + (extra[k] ?? 0)]));
  /** The fault-free graph, with the same requests apart from `extra`. */
  const expectBaseline = (r: Run, extra: Record<string, number> = {}) => {
    expect(shape(r.result.graph.load(), proxy.url)).toEqual(base);
    expect(r.result.complete).toBe(true);
    expect(requests(r.result.graph.load())).toEqual(plus(extra));
  };

  const API_V1 = ACME_API.v1_0_0.manifest.digest;
  const DROP_API_V1 = ['acme-api-v1-0-0', `acme-api-manifest-${hex12(API_V1)}`];
  // The source repository comes from image labels: no images, no source.
  const NO_API_SOURCE = { 'acme-api': ['source_repository'] };
  const API_REPO = ['acme-api-multi', 'acme-api-v1-0-0', 'acme-api-v1-1-0', 'acme-api-v2-0-0-rc-1'];
  const apiManifests = () =>
    base.entities
      .filter((e) => e.kind === 'DockerManifest' && e.spec.repository === 'acme/api')
      .map((e) => e.metadata.name);

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushRepositories(registry, [NGINX.repo, ACME_API.repo, ORG_TEAM_APP.repo, ACME_EPOCH.repo]);
    proxy = await startFaultProxy(registry.url);
    const first = await run([]);
    base = shape(first.result.graph.load(), proxy.url);
    baseRequests = requests(first.result.graph.load());
  }, 60_000);
  afterAll(async () => {
    await Promise.all(closers.map((c) => c()));
    await proxy?.close();
    await registry?.stop();
  });
  beforeEach(() => {
    proxy.requests.length = 0;
    registry.tokenServer!.reset();
  });

  it('without faults the proxy is invisible: the same graph as straight from the registry', async () => {
    const direct = await discover({ ...config(), api_url: registry.url }, ENV);
    expect(shape(direct.result.graph.load(), registry.url)).toEqual(base);
    expect(requests(direct.result.graph.load())).toEqual(baseRequests);
    expect(base.receipts.every((r) => r.complete)).toBe(true);
    expect(base.entities.filter((e) => e.kind === 'DockerImage')).toHaveLength(12);
  });

  describe('429 Too Many Requests', () => {
    it('Retry-After in seconds: waits as asked, then the same graph', async () => {
      const r = await run([
        {
          method: 'GET',
          path: /^\/v2\/acme\/api\/tags\/list/,
          on: { first: 2 },
          fault: { type: 'respond', status: 429, headers: { 'retry-after': '1' }, body: TOOMANY },
        },
      ]);
      expectBaseline(r, { 'acme/api': 2 });
      expect(r.waits).toEqual([1000, 1000]);
    });

    it('Retry-After as an HTTP date: waits until then, then the same graph', async () => {
      const r = await run([
        {
          path: /^\/v2\/library\/nginx\/manifests\/1\.24\.0$/,
          on: 1,
          fault: {
            type: 'respond',
            status: 429,
            headers: () => ({ 'retry-after': new Date(Date.now() + 2000).toUTCString() }),
          },
        },
      ]);
      expectBaseline(r, { 'library/nginx': 1 });
      expect(r.waits).toHaveLength(1);
      // The date has whole seconds: between one and two seconds away when it was sent.
      expect(r.waits[0]).toBeGreaterThan(900);
      expect(r.waits[0]).toBeLessThanOrEqual(2000);
    });

    it('without Retry-After: exponential backoff, then the same graph', async () => {
      const r = await run([
        {
          path: /^\/v2\/acme\/epoch\/tags\/list/,
          on: { first: 3 },
          fault: { type: 'respond', status: 429, body: TOOMANY },
        },
      ]);
      expectBaseline(r, { 'acme/epoch': 3 });
      expect(r.waits).toEqual([10, 20, 40]);
    });

    it('a limit that never lifts: the repository is incomplete after 4 tries, the others whole', async () => {
      const r = await run([
        { path: /^\/v2\/acme\/epoch\/tags\/list/, fault: { type: 'respond', status: 429, body: TOOMANY } },
      ]);
      expect(shape(r.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          drop: ['acme-epoch-reproducible', 'acme-epoch-v1-0-0', ...manifestsOf('acme/epoch')],
          receipts: {
            'acme/epoch': {
              complete: false,
              tags_listed: 0,
              tags_selected: 0,
              pages: 0,
              errors: [
                `cannot list tags: ${at('/v2/acme/epoch/tags/list')}: rate-limited (HTTP 429: TOOMANYREQUESTS too many requests); retried and gave up`,
              ],
            },
          },
        }),
      );
      expect(requests(r.result.graph.load())['acme/epoch']).toBe(4);
      expect(r.result.complete).toBe(false);
    });

    it('a Retry-After longer than a run waits: not waited on, and the reason says so', async () => {
      const r = await run([
        {
          path: /^\/v2\/acme\/epoch\/tags\/list/,
          fault: { type: 'respond', status: 429, headers: { 'retry-after': '3600' }, body: TOOMANY },
        },
      ]);
      expect(r.waits).toEqual([]);
      expect(r.result.graph.receipts.find((x) => x.repository === 'acme/epoch')).toMatchObject({
        complete: false,
        requests: 1,
        errors: [
          `cannot list tags: ${at('/v2/acme/epoch/tags/list')}: rate-limited (HTTP 429: TOOMANYREQUESTS too many requests); the registry asks to wait 3600 s, longer than a run waits; run again later`,
        ],
      });
    });
  });

  describe('5xx', () => {
    const bodies: Record<number, string> = {
      500: JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'unknown error', detail: null }] }),
      502: '<html><body><h1>502 Bad Gateway</h1></body></html>',
      503: JSON.stringify({
        errors: [{ code: 'UNAVAILABLE', message: 'service unavailable', detail: null }],
      }),
      504: '<html><body><h1>504 Gateway Time-out</h1></body></html>',
    };
    const details: Record<number, string> = {
      500: ' (UNKNOWN unknown error)',
      502: '',
      503: ' (UNAVAILABLE service unavailable)',
      504: '',
    };
    const fault = (status: number) => ({
      type: 'respond' as const,
      status,
      headers: { 'content-type': status % 2 ? 'application/json' : 'text/html' },
      body: bodies[status]!,
    });

    it.each([500, 502, 503, 504])(
      'a short burst of %i (3 answers) is retried away: the same graph',
      async (status) => {
        const r = await run([
          {
            method: 'GET',
            path: /^\/v2\/acme\/api\/manifests\/v1\.0\.0$/,
            on: { first: 3 },
            fault: fault(status),
          },
        ]);
        expectBaseline(r, { 'acme/api': 3 });
        expect(r.waits).toEqual([10, 20, 40]);
      },
    );

    it.each([500, 502, 503, 504])(
      'a long burst of %i: that tag is missing and the receipt says why',
      async (status) => {
        const r = await run([
          { method: 'GET', path: /^\/v2\/acme\/api\/manifests\/v1\.0\.0$/, fault: fault(status) },
        ]);
        expect(shape(r.result.graph.load(), proxy.url)).toEqual(
          expected(base, {
            drop: DROP_API_V1,
            receipts: {
              'acme/api': {
                complete: false,
                tags_selected: 3,
                errors: [`v1.0.0: ${at('/v2/acme/api/manifests/v1.0.0')}: HTTP ${status}${details[status]}`],
              },
            },
          }),
        );
        // Four tries instead of one, and no config blob for the image that was never read.
        expect(requests(r.result.graph.load())).toEqual(plus({ 'acme/api': 3 - 1 }));
      },
    );
  });

  describe('broken connections', () => {
    it('a reset mid-body is retried: the same graph', async () => {
      const r = await run([{ path: /^\/v2\/acme\/api\/tags\/list/, on: 1, fault: { type: 'reset' } }]);
      expectBaseline(r, { 'acme/api': 1 });
      expect(proxy.requests.filter((q) => q.fault === 'reset')).toHaveLength(1);
    });

    it('resets on every try: the repository is incomplete, the reason says reset', async () => {
      const r = await run([{ path: /^\/v2\/acme\/api\/tags\/list/, fault: { type: 'reset' } }]);
      expect(shape(r.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          drop: [...API_REPO, ...apiManifests()],
          unset: NO_API_SOURCE,
          receipts: {
            'acme/api': {
              complete: false,
              tags_listed: 0,
              tags_selected: 0,
              pages: 0,
              errors: [
                `cannot list tags: ${at('/v2/acme/api/tags/list')}: the connection was reset before the answer was complete`,
              ],
            },
          },
        }),
      );
      expect(requests(r.result.graph.load())['acme/api']).toBe(4);
    });

    it('a server that stops sending once is timed out and retried: the same graph', async () => {
      const r = await run(
        [{ path: /^\/v2\/acme\/api\/manifests\/v1\.0\.0$/, on: 1, fault: { type: 'stall' } }],
        { timeout: SHORT_TIMEOUT_S },
      );
      expect(shape(r.result.graph.load(), proxy.url)).toEqual(base);
      expect(proxy.requests.filter((q) => q.fault === 'stall')).toHaveLength(1);
    });

    it('a server that always stops sending: that tag is incomplete within tries x timeout', async () => {
      const r = await run([{ path: /^\/v2\/acme\/api\/manifests\/v1\.0\.0$/, fault: { type: 'stall' } }], {
        timeout: SHORT_TIMEOUT_S,
      });
      expect(shape(r.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          drop: DROP_API_V1,
          receipts: {
            'acme/api': {
              complete: false,
              tags_selected: 3,
              errors: [
                `v1.0.0: ${at('/v2/acme/api/manifests/v1.0.0')}: no complete answer within ${SHORT_TIMEOUT_S} s (timeout)`,
              ],
            },
          },
        }),
      );
      expect(proxy.requests.filter((q) => q.fault === 'stall')).toHaveLength(4);
      // Four timeouts and three short backoffs; never the 30 s default, never forever.
      expect(r.ms).toBeLessThan(4 * SHORT_TIMEOUT_S * 1000 + 2000);
    });
  });

  describe('broken bodies', () => {
    const listingGone = (path: string, bytes: number, type = 'application/json; charset=utf-8') =>
      `cannot list tags: ${at(path)}: expected a JSON listing but got something else (${type}, ${bytes} bytes)`;
    const noApi = (error: string) =>
      expected(base, {
        drop: [...API_REPO, ...apiManifests()],
        unset: NO_API_SOURCE,
        receipts: {
          'acme/api': { complete: false, tags_listed: 0, tags_selected: 0, pages: 0, errors: [error] },
        },
      });
    const catalogGone = (error: string) =>
      expected(
        {
          ...base,
          entities: base.entities.filter((e) => e.kind === 'DockerRegistry'),
          relations: [],
          receipts: [],
        },
        { registry: [`cannot list repositories: ${error}`] },
      );

    it('truncated JSON on tags/list: the repository is incomplete', async () => {
      const cut = halve();
      const r = await run([
        { path: /^\/v2\/acme\/api\/tags\/list/, fault: { type: 'rewrite', body: cut.body } },
      ]);
      expect(shape(r.result.graph.load(), proxy.url)).toEqual(
        noApi(listingGone('/v2/acme/api/tags/list', cut.length)),
      );
      expect(requests(r.result.graph.load())['acme/api']).toBe(1);
    });

    it('truncated JSON on the catalog: nothing but the registry, and the registry receipt says why', async () => {
      const cut = halve();
      const r = await run([{ path: /^\/v2\/_catalog/, fault: { type: 'rewrite', body: cut.body } }]);
      expect(shape(r.result.graph.load(), proxy.url)).toEqual(
        catalogGone(
          `${at('/v2/_catalog')}: expected a JSON listing but got something else (application/json; charset=utf-8, ${cut.length} bytes)`,
        ),
      );
      // A complete answer with a broken body is not a passing network failure: asked once.
      expect(r.counts.catalog).toBe(1);
    });

    it('invalid JSON on tags/list and on the catalog', async () => {
      const bad = '{"name":"acme/api","tags":["v1.0.0",]}';
      const tags = await run([
        { path: /^\/v2\/acme\/api\/tags\/list/, fault: { type: 'rewrite', body: () => bad } },
      ]);
      expect(shape(tags.result.graph.load(), proxy.url)).toEqual(
        noApi(listingGone('/v2/acme/api/tags/list', bad.length)),
      );
      const catalog = await run([
        { path: /^\/v2\/_catalog/, fault: { type: 'rewrite', body: () => '{"repositories":' } },
      ]);
      expect(shape(catalog.result.graph.load(), proxy.url)).toEqual(
        catalogGone(
          `${at('/v2/_catalog')}: expected a JSON listing but got something else (application/json; charset=utf-8, 16 bytes)`,
        ),
      );
      // JSON, but not a listing.
      const shapeless = await run([
        { path: /^\/v2\/acme\/api\/tags\/list/, fault: { type: 'rewrite', body: () => '{"tags":"v1.0.0"}' } },
      ]);
      expect(shape(shapeless.result.graph.load(), proxy.url)).toEqual(
        noApi(
          `cannot list tags: ${at('/v2/acme/api/tags/list')}: "tags" in the listing is not a list of names`,
        ),
      );
    });

    it('a 200 with an HTML page (a login portal) on tags/list and on a manifest', async () => {
      const html = '<!doctype html><html><body><form action="/login">Sign in</form></body></html>';
      const page = {
        type: 'respond' as const,
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: html,
      };
      const tags = await run([{ path: /^\/v2\/acme\/api\/tags\/list/, fault: page }]);
      expect(shape(tags.result.graph.load(), proxy.url)).toEqual(
        noApi(listingGone('/v2/acme/api/tags/list', html.length, 'text/html')),
      );
      const manifest = await run([{ path: /^\/v2\/acme\/api\/manifests\/v1\.0\.0$/, fault: page }]);
      expect(shape(manifest.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          drop: DROP_API_V1,
          receipts: {
            'acme/api': {
              complete: false,
              tags_selected: 3,
              errors: [
                `v1.0.0: ${proxy.host}/acme/api:v1.0.0: the registry answered with something that is not a manifest (text/html, ${html.length} bytes)`,
              ],
            },
          },
        }),
      );
    });

    it('"tags": null is an empty repository, complete', async () => {
      const r = await run([
        {
          path: /^\/v2\/acme\/epoch\/tags\/list/,
          fault: { type: 'rewrite', body: () => '{"name":"acme/epoch","tags":null}' },
        },
      ]);
      expect(shape(r.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          drop: ['acme-epoch-reproducible', 'acme-epoch-v1-0-0', ...manifestsOf('acme/epoch')],
          receipts: { 'acme/epoch': { tags_listed: 0, tags_selected: 0 } },
        }),
      );
      expect(r.result.complete).toBe(true);
      expect(requests(r.result.graph.load())['acme/epoch']).toBe(1);
    });

    it('bodies far over the size cap, streamed or declared, are refused without reading them', async () => {
      const streamed = await run([
        {
          path: /^\/v2\/acme\/api\/manifests\/v1\.0\.0$/,
          fault: { type: 'flood', bytes: 256 * 1024 * 1024 },
        },
      ]);
      expect(shape(streamed.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          drop: DROP_API_V1,
          receipts: {
            'acme/api': {
              complete: false,
              tags_selected: 3,
              errors: [
                `v1.0.0: ${at('/v2/acme/api/manifests/v1.0.0')}: response exceeds the 4194304-byte limit`,
              ],
            },
          },
        }),
      );
      const declared = await run([
        { path: /^\/v2\/_catalog/, fault: { type: 'flood', bytes: 8 * 1024 ** 3, declare: true } },
      ]);
      expect(shape(declared.result.graph.load(), proxy.url)).toEqual(
        catalogGone(`${at('/v2/_catalog')}: response of 8589934592 bytes exceeds the 33554432-byte limit`),
      );
      expect(declared.counts.catalog).toBe(1);
    });

    it('a manifest whose bytes do not match its digest is refused, by tag and by digest', async () => {
      const byTag = await run([
        {
          path: /^\/v2\/acme\/api\/manifests\/v1\.0\.0$/,
          fault: { type: 'rewrite', body: (b) => Buffer.concat([b, Buffer.from('\n')]) },
        },
      ]);
      const tampered = sha256(Buffer.concat([ACME_API.v1_0_0.manifest.bytes, Buffer.from('\n')]));
      expect(shape(byTag.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          drop: DROP_API_V1,
          receipts: {
            'acme/api': {
              complete: false,
              tags_selected: 3,
              errors: [
                `v1.0.0: ${proxy.host}/acme/api:v1.0.0: Docker-Content-Digest says ${API_V1} but the body hashes to ${tampered}; refusing it`,
              ],
            },
          },
        }),
      );

      // A platform manifest of nginx 1.24.0's index, fetched by digest: the whole tag goes.
      const index = NGINX.v1_24_0;
      const child = index.children[0]!.manifest;
      const byDigest = await run([
        {
          path: new RegExp(`^/v2/library/nginx/manifests/${child.digest}$`),
          fault: {
            type: 'rewrite',
            body: (b) => Buffer.from(b.toString().replace('"schemaVersion": 2', '"schemaVersion":2')),
          },
        },
      ]);
      const forged = sha256(
        Buffer.from(child.bytes.toString().replace('"schemaVersion": 2', '"schemaVersion":2')),
      );
      expect(forged).not.toBe(child.digest);
      expect(shape(byDigest.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          drop: [
            'library-nginx-1-24-0',
            ...[index.manifest, ...index.children.map((c) => c.manifest)].map(
              (m) => `library-nginx-manifest-${hex12(m.digest)}`,
            ),
          ],
          receipts: {
            'library/nginx': {
              complete: false,
              tags_selected: 3,
              errors: [
                `1.24.0: ${proxy.host}/library/nginx@${child.digest}: the registry sent a manifest whose sha256 is ${forged}; refusing it`,
              ],
            },
          },
        }),
      );
    });
  });

  describe('links and redirects that lead elsewhere', () => {
    it('a tags/list Link to another origin is not followed; the listing so far is kept, marked incomplete', async () => {
      const elsewhere = await startScriptedServer((_req, res) => res.end('{"tags":["stolen"]}'));
      closers.push(() => elsewhere.close());
      const r = await run([
        {
          path: /^\/v2\/acme\/api\/tags\/list/,
          fault: {
            type: 'rewrite',
            headers: { link: `<${elsewhere.url}/v2/acme/api/tags/list?n=1000&last=v2.0.0-rc.1>; rel="next"` },
          },
        },
      ]);
      const host = new URL(elsewhere.url).host;
      // A tag listing cut short cannot say an image has no signature or SBOM: an accessory tag may
      // sit on the unread page, so the images keep no supply-chain flags.
      const unflagged = base.entities
        .filter((e) => e.kind === 'DockerImage' && e.spec.repository === 'acme/api')
        .map((e) => [e.metadata.name, ['signed', 'sbom', 'provenance']]);
      expect(shape(r.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          receipts: {
            'acme/api': {
              complete: false,
              errors: [
                `tag listing: the registry's next-page link points to another origin (${host}); not followed`,
              ],
            },
          },
          unset: Object.fromEntries(unflagged),
        }),
      );
      expect(elsewhere.seen).toEqual([]);
    });

    it('a catalog Link to the cloud metadata address is never requested', async () => {
      const origins: string[] = [];
      const agent = new Agent();
      const dispatcher = agent.compose((dispatch: Dispatcher['dispatch']) => (opts, handler) => {
        origins.push(String(opts.origin));
        return dispatch(opts, handler);
      });
      closers.push(() => agent.close());
      const r = await run(
        [
          {
            path: /^\/v2\/_catalog/,
            fault: {
              type: 'rewrite',
              headers: { link: '<http://169.254.169.254/latest/meta-data/iam/>; rel="next"' },
            },
          },
        ],
        {},
        { dispatcher },
      );
      expect(shape(r.result.graph.load(), proxy.url)).toEqual(
        expected(base, {
          registry: [
            "repository listing: the registry's next-page link points to another origin (169.254.169.254); not followed",
          ],
          receipts: { '*': { pages: 1 } },
        }),
      );
      expect(new Set(origins)).toEqual(new Set([proxy.url, registry.tokenServer!.url]));
    });

    it('a blob redirected to another host gets the blob without our Authorization header', async () => {
      const config = ACME_API.v1_0_0.config;
      const storage = await startScriptedServer((_req, res) => res.end(config.bytes));
      closers.push(() => storage.close());
      const r = await run([
        {
          path: new RegExp(`^/v2/acme/api/blobs/${config.digest}$`),
          fault: { type: 'redirect', location: `${storage.url}/blobs/${config.digest}?X-Amz-Signature=abc` },
        },
      ]);
      // The redirect hop is one more request.
      expectBaseline(r, { 'acme/api': 1 });
      expect(storage.seen).toHaveLength(1);
      expect(storage.seen[0]!.url).toBe(`/blobs/${config.digest}?X-Amz-Signature=abc`);
      expect(storage.seen[0]!.headers.authorization).toBeUndefined();
      const redirected = proxy.requests.find((q) => q.fault === 'redirect')!;
      expect(redirected.authorization).toMatch(/^Bearer /);
    });
  });

  it('a token that expires mid-run costs exactly one re-authentication, then the same graph', async () => {
    const r = await run([{ path: /^\/v2\/acme\/api\/manifests\//, on: 2, fault: { type: 'expire-token' } }]);
    const refused = proxy.requests.filter((q) => q.fault === 'expire-token' || q.fault === 'expired-token');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(new Set(refused.map((q) => q.authorization)).size).toBe(1);
    // Every request refused with the old token was sent again with the new one.
    expectBaseline(r, { 'acme/api': refused.length });
    const apiTokens = registry.tokenServer!.requests.filter((t) =>
      t.scopes.includes('repository:acme/api:pull'),
    );
    expect(apiTokens.map((t) => t.status)).toEqual([200, 200]);
  });

  it('an unresolvable host (CLI): exit 2, the registry receipt says DNS, nothing else is claimed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-faults-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.yml');
    await writeFile(
      file,
      stringify({
        providers: [
          {
            name: 'faults',
            type: 'docker',
            config: { ...config(), api_url: 'http://registry.invalid:5000' },
          },
        ],
      }),
    );
    const { code, stderr } = await runCliInProcess(
      ['discover', '--config', file, '--out', dir, '--quiet'],
      ENV,
    );
    expect(code).toBe(2);
    const graph = JSON.parse(await readFile(join(dir, 'graph.json'), 'utf8')) as Graph;
    const reason =
      'cannot reach the registry: cannot resolve host registry.invalid:5000 (DNS lookup failed); check the registry URL';
    expect(graph.receipts).toEqual([
      {
        provider: 'faults',
        repository: '*',
        complete: false,
        tags_listed: 0,
        tags_selected: 0,
        pages: 0,
        requests: 0,
        errors: [reason],
      },
    ]);
    expect(graph.entities.map((e) => e.kind)).toEqual(['DockerRegistry']);
    expect(stderr).toContain(`warning: faults: ${reason}`);
    expect(stderr).not.toContain('alice-secret');
  });

  function manifestsOf(repo: string): string[] {
    return base.entities
      .filter((e) => e.kind === 'DockerManifest' && e.spec.repository === repo)
      .map((e) => e.metadata.name);
  }
});

describe('faults between discovery and a vendor API (Quay fake)', () => {
  const OAUTH = 'q0AuthTok3nFaultsReader0123456789abcdef';
  let quay: QuayFake;
  let proxy: FaultProxy;
  let base: Shape;
  let baseRequests: Record<string, number>;
  const TAGS = /^\/api\/v1\/repository\/library\/nginx\/tag\//;

  const run = (rules: FaultRule[], extra: Record<string, unknown> = {}) => {
    proxy.script(rules);
    return discover(
      {
        registry_type: 'quay',
        api_url: proxy.url,
        token: '${QUAY_TOKEN}',
        selectors: [{ namespace_pattern: 'library', max_tags: 0 }],
        ...extra,
      },
      { QUAY_TOKEN: OAUTH },
    );
  };
  const at = (path: string) => `Quay API ${proxy.host}${path}`;
  const nginxTags = '/api/v1/repository/library/nginx/tag/';
  const withoutNginx = (error: string) => {
    const drop = base.entities
      .filter((e) => e.spec.repository === 'library/nginx')
      .map((e) => e.metadata.name);
    return expected(base, {
      drop,
      receipts: {
        'library/nginx': { complete: false, tags_listed: 0, tags_selected: 0, pages: 0, errors: [error] },
      },
    });
  };

  beforeAll(async () => {
    quay = await startQuayFake({
      repositories: sampleRepositories(),
      publicRepositories: ['library/nginx', 'library/redis'],
      oauthTokens: { [OAUTH]: { user: 'alice', scopes: ['repo:read', 'user:read'], reads: ['library'] } },
      robots: {},
    });
    proxy = await startFaultProxy(quay.url);
    const first = await run([]);
    base = shape(first.result.graph.load(), proxy.url);
    baseRequests = requests(first.result.graph.load());
    expect(base.receipts.map((r) => [r.repository, r.complete])).toEqual([
      ['library/nginx', true],
      ['library/redis', true],
    ]);
  });
  afterAll(async () => {
    await proxy?.close();
    await quay?.close();
  });
  beforeEach(() => {
    proxy.requests.length = 0;
    quay.requests.length = 0;
  });
  const expectBaseline = (r: Run, extra: Record<string, number>) => {
    expect(shape(r.result.graph.load(), proxy.url)).toEqual(base);
    expect(requests(r.result.graph.load())).toEqual(
      Object.fromEntries(Object.entries(baseRequests).map(([k, v]) => [k, v + (extra[k] ?? 0)])),
    );
  };

  it('429 with Retry-After seconds, then as an HTTP date, on the tag API: waited, the same graph', async () => {
    const seconds = await run([
      {
        path: TAGS,
        on: 1,
        fault: { type: 'respond', status: 429, headers: { 'retry-after': '2' }, body: 'slow down' },
      },
    ]);
    expectBaseline(seconds, { 'library/nginx': 1 });
    expect(seconds.waits).toEqual([2000]);
    const date = await run([
      {
        path: TAGS,
        on: 1,
        fault: {
          type: 'respond',
          status: 429,
          headers: () => ({ 'retry-after': new Date(Date.now() + 2000).toUTCString() }),
        },
      },
    ]);
    expectBaseline(date, { 'library/nginx': 1 });
    expect(date.waits[0]).toBeGreaterThan(900);
    expect(date.waits[0]).toBeLessThanOrEqual(2000);
  });

  it('429 without Retry-After that never lifts: the repository is incomplete, with what to do', async () => {
    const r = await run([
      { path: TAGS, fault: { type: 'respond', status: 429, body: '<html>Too Many Requests</html>' } },
    ]);
    expect(shape(r.result.graph.load(), proxy.url)).toEqual(
      withoutNginx(
        `cannot list tags: ${at(nginxTags)}: rate-limited listing the tags of library/nginx (HTTP 429) and still limited after retries; run again later or lower concurrency`,
      ),
    );
    expect(r.waits).toEqual([10, 20, 40]);
  });

  it('a short 503 burst is retried away; a long 500 burst leaves the repository incomplete', async () => {
    const short = await run([{ path: TAGS, on: { first: 2 }, fault: { type: 'respond', status: 503 } }]);
    expectBaseline(short, { 'library/nginx': 2 });
    const long = await run([
      { path: TAGS, fault: { type: 'respond', status: 500, body: 'Internal Server Error' } },
    ]);
    expect(shape(long.result.graph.load(), proxy.url)).toEqual(
      withoutNginx(`cannot list tags: ${at(nginxTags)}: HTTP 500 listing the tags of library/nginx`),
    );
  });

  it('a reset mid-body is retried; a stall past the timeout is retried', async () => {
    const reset = await run([{ path: TAGS, on: 1, fault: { type: 'reset' } }]);
    expectBaseline(reset, { 'library/nginx': 1 });
    const stall = await run([{ path: TAGS, on: 1, fault: { type: 'stall' } }], { timeout: SHORT_TIMEOUT_S });
    expect(shape(stall.result.graph.load(), proxy.url)).toEqual(base);
  });

  it('a tag API that always stalls: incomplete after tries x timeout, with the timeout named', async () => {
    const r = await run([{ path: TAGS, fault: { type: 'stall', afterBytes: 10 } }], {
      timeout: SHORT_TIMEOUT_S,
    });
    expect(shape(r.result.graph.load(), proxy.url)).toEqual(
      withoutNginx(
        `cannot list tags: ${proxy.host}${nginxTags}: no complete answer within ${SHORT_TIMEOUT_S} s (timeout)`,
      ),
    );
    expect(r.ms).toBeLessThan(4 * SHORT_TIMEOUT_S * 1000 + 2000);
  });

  it('truncated JSON and an HTML page from the tag API: the repository is incomplete', async () => {
    const cut = halve();
    const truncated = await run([{ path: TAGS, fault: { type: 'rewrite', body: cut.body } }]);
    expect(shape(truncated.result.graph.load(), proxy.url)).toEqual(
      withoutNginx(
        `cannot list tags: ${at(nginxTags)}: the answer listing the tags of library/nginx is not a JSON object (application/json, ${cut.length} bytes)`,
      ),
    );
    const page = '<html><body>Sign in with SSO</body></html>';
    const html = await run([
      {
        path: TAGS,
        fault: { type: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: page },
      },
    ]);
    expect(shape(html.result.graph.load(), proxy.url)).toEqual(
      withoutNginx(
        `cannot list tags: ${at(nginxTags)}: the answer listing the tags of library/nginx is not a JSON object (text/html, ${page.length} bytes)`,
      ),
    );
  });

  it('a registry token that expires mid-run costs exactly one re-authentication', async () => {
    const r = await run([
      { path: /^\/v2\/library\/nginx\/manifests\//, on: 2, fault: { type: 'expire-token' } },
    ]);
    const refused = proxy.requests.filter((q) => q.fault === 'expire-token' || q.fault === 'expired-token');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expectBaseline(r, { 'library/nginx': refused.length });
    const tokens = quay.requests.filter(
      (q) => q.kind === 'token' && decodeURIComponent(q.path).includes('repository:library/nginx:pull'),
    );
    expect(tokens.map((t) => t.status)).toEqual([200, 200]);
  });
});
