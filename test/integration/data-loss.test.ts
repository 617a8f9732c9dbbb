// "No data lost": what a run that did not see everything, or did not finish, leaves behind.
// (a) Reconciliation against a Devgraph filled by a complete run: a repository or a whole provider
//     that was discovered incompletely loses nothing it owns, however the discovery failed.
// (b) An upload cut off after N writes (the server failing, or dying mid-request) leaves a state
//     the next normal run repairs to exactly the complete graph, for every N.
// (c) A state directory left by a run killed mid-write (half-written and garbled files, temporary
//     files) is read or discarded safely: the next run gives the same graph as a cold run and
//     says in one line what it discarded.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DemoRegistry, parseRegistryPath, startDemoRegistry } from '../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../src/demo/image-builder.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { uploadToDevgraph } from '../../src/devgraph/upload.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import type { Graph } from '../../src/model/graph.js';
import { Secrets } from '../../src/secrets.js';
import { runActionInProcess } from '../support/action-in-process.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { plainRegistryConfig } from '../support/config-text.js';
import { discoverText } from '../support/discover-text.js';
import { type ActionsCacheFake, createActionsCacheFake } from '../support/fakes/actions-cache-fake.js';
import {
  type DevgraphFake,
  type FakeEntity,
  type FakeRelation,
  startDevgraphFake,
} from '../support/fakes/devgraph-fake.js';

// The action reaches the Actions cache through @actions/cache; the fake stands in for the service.
const services = vi.hoisted(() => ({ cache: undefined as ActionsCacheFake | undefined }));
vi.mock('@actions/cache', () => ({
  isFeatureAvailable: () => services.cache?.isFeatureAvailable() ?? false,
  restoreCache: (paths: string[], key: string, restoreKeys?: string[]) =>
    services.cache!.restoreCache(paths, key, restoreKeys),
  saveCache: (paths: string[], key: string) => services.cache!.saveCache(paths, key),
}));

const TOKEN = 'dg_data_loss_token_31d7';
const ENVIRONMENT = 'env-data-loss';
const NOW = '2026-01-01T00:00:00Z';
const REPOSITORY_LABEL = 'devgraph.ai/repository-name';

/**
 * The sample registry after a week: a tag gone from three repositories and one repository
 * deleted, so a complete run has something to delete in every kind; and a new tag and a moved
 * one, so it has something to create and update too.
 */
function laterContent(): RepositoryContent[] {
  const repos = sampleRepositories()
    .filter((r) => r.name !== 'acme/legacy-batch')
    .map((r) => ({ ...r, tags: { ...r.tags } }));
  const tags = (name: string) => repos.find((r) => r.name === name)!.tags;
  const payments = tags('acme/payments-api');
  payments['v1.5.0'] = payments.main!;
  payments['v1.2.0'] = payments['v1.4.0']!;
  delete payments['v1.3.0'];
  delete tags('acme/web-frontend')['pr-418'];
  delete tags('library/redis')['7.2.6'];
  return repos;
}

// ---------------------------------------------------------------------------------------------
// One registry on one port for the whole file (the graph names the registry by its URL), restarted
// with other content or options, and a fault the intercept applies.

type RegistryFault =
  | 'none'
  | 'tags-503'
  | 'tags-html-200'
  | 'tags-json-without-tags'
  | 'tags-denied-403'
  | 'manifest-garbage'
  | 'catalog-503'
  | 'catalog-html-200'
  | 'catalog-invalid-json'
  | 'catalog-json-without-repositories'
  | 'catalog-denied-401';

let registry: DemoRegistry | undefined;
let port = 0;
let fault: RegistryFault = 'none';

function intercept(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://registry.invalid');
  const route = parseRegistryPath(url.pathname);
  const catalog = url.pathname === '/v2/_catalog';
  const payments = route.kind === 'tags' && route.name === 'acme/payments-api';
  const answer = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    res.end(body);
    return true;
  };
  const error = (code: string) => JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] });
  switch (fault) {
    case 'tags-503':
      // Retry-After beyond what the client waits: the answer comes back at once, as a failure.
      if (payments) return answer(503, 'application/json', error('UNAVAILABLE'), { 'retry-after': '3600' });
      break;
    case 'tags-html-200':
      if (payments) return answer(200, 'text/html', '<html><body>Maintenance</body></html>');
      break;
    case 'tags-json-without-tags':
      // A proxy or gateway answering 200 with JSON that is not a tag list.
      if (payments) return answer(200, 'application/json', '{"name":"acme/payments-api"}');
      break;
    case 'tags-denied-403':
      if (route.name === 'acme/payments-api') return answer(403, 'application/json', error('DENIED'));
      break;
    case 'manifest-garbage':
      if (route.kind === 'manifest' && route.name === 'acme/web-frontend' && route.reference === '2024.11.1')
        return answer(200, 'application/vnd.oci.image.index.v1+json', '{"schemaVersion":2,"manifests":[');
      break;
    case 'catalog-503':
      if (catalog) return answer(503, 'application/json', error('UNAVAILABLE'), { 'retry-after': '3600' });
      break;
    case 'catalog-html-200':
      if (catalog) return answer(200, 'text/html', '<html><body>Please sign in</body></html>');
      break;
    case 'catalog-invalid-json':
      if (catalog) return answer(200, 'application/json', '{"repositories":["acme/pay');
      break;
    case 'catalog-json-without-repositories':
      if (catalog) return answer(200, 'application/json', '{}');
      break;
    case 'catalog-denied-401':
      if (catalog)
        return answer(401, 'application/json', error('UNAUTHORIZED'), {
          'www-authenticate': 'Basic realm="x"',
        });
      break;
  }
  return false;
}

async function serve(
  content: RepositoryContent[],
  options: { catalogPageSize?: number } = {},
): Promise<string> {
  await registry?.close();
  registry = await startDemoRegistry(content, { port, intercept, ...options });
  port = Number(new URL(registry.url).port);
  return registry.url;
}

async function discoverGraph(url: string, extra: string[] = []): Promise<Graph> {
  const r = await discoverText(configText(url, ...extra), { http: new HttpClient(), generatedAt: NOW });
  return r.graph.load();
}

async function upload(graph: Graph, target: string, http = new HttpClient()) {
  try {
    return await uploadToDevgraph(graph, {
      url: target,
      token: TOKEN,
      environment: ENVIRONMENT,
      http,
      secrets: new Secrets(),
      log: silentLog,
      now: NOW,
    });
  } finally {
    await http.close();
  }
}

const fakes: DevgraphFake[] = [];
async function devgraph(): Promise<DevgraphFake> {
  const f = await startDevgraphFake({ token: TOKEN, environment: ENVIRONMENT });
  fakes.push(f);
  return f;
}

let before: Graph;
let after: Graph;

beforeAll(async () => {
  before = await discoverGraph(await serve(sampleRepositories()));
  after = await discoverGraph(await serve(laterContent()));
  expect(before.receipts.every((r) => r.complete)).toBe(true);
  expect(after.receipts.every((r) => r.complete)).toBe(true);
});
afterAll(async () => {
  await registry?.close();
});
afterEach(async () => {
  fault = 'none';
  for (const f of fakes.splice(0)) await f.close();
  vi.restoreAllMocks();
});

const entityKey = (e: FakeEntity) => `${e.kind}/${e.metadata.namespace}/${e.metadata.name}`;
const refKey = (r: FakeRelation['source']) => `${r.kind}/${r.namespace ?? 'default'}/${r.name}`;
const relationKey = (r: FakeRelation) => `${refKey(r.source)} ${r.relation} ${refKey(r.target)}`;

/** What Devgraph holds, without what legitimately differs between runs (uids, times, generations). */
function stored(f: DevgraphFake) {
  const entities = [...f.entities.values()]
    .map((e) => ({
      key: entityKey(e),
      labels: e.metadata.labels,
      annotations: e.metadata.annotations,
      spec: e.spec,
      owner: e.status?.discovery_source,
    }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  const relations = f.relations.map(relationKey).sort();
  return { entities, relations };
}

/** The graph as Devgraph would hold it, by the same keys. */
function graphKeys(g: Graph) {
  return {
    entities: g.entities.map((e) => `${e.kind}/${e.metadata.namespace}/${e.metadata.name}`).sort(),
    relations: g.relations.map((r) => relationKey(r)).sort(),
  };
}

/** Entity deletes and relation deletes Devgraph was asked for, as keys. */
function deletesAsked(f: DevgraphFake, from = 0) {
  const entities: string[] = [];
  const relations: string[] = [];
  for (const r of f.writes().slice(from)) {
    if (r.operation === 'delete_entity') {
      const [kind, namespace, name] = new URL(r.url, 'http://x').pathname
        .split('/')
        .slice(-3)
        .map(decodeURIComponent);
      entities.push(`${kind}/${namespace}/${name}`);
    }
    if (r.operation === 'delete_entity_relation') relations.push(relationKey(r.body as FakeRelation));
  }
  return { entities, relations };
}

describe('(a) an incomplete discovery deletes nothing it did not see completely', () => {
  /** A Devgraph holding the complete graph of the registry as it was. */
  async function prefilled(): Promise<{
    fake: DevgraphFake;
    writes: number;
    held: ReturnType<typeof stored>;
  }> {
    const fake = await devgraph();
    const first = await upload(before, fake.url);
    expect(first.ok).toBe(true);
    expect(graphKeys(before).entities).toEqual(stored(fake).entities.map((e) => e.key));
    return { fake, writes: fake.writes().length, held: stored(fake) };
  }

  it('control: the complete later run deletes the gone tags, the gone repository and their relations', async () => {
    const { fake, writes } = await prefilled();
    const result = await upload(after, fake.url);
    expect(result.errors).toEqual([]);
    const asked = deletesAsked(fake, writes);
    expect(asked.entities.length).toBeGreaterThan(0);
    expect(asked.entities.some((k) => k.startsWith('DockerRepository/') && k.includes('legacy-batch'))).toBe(
      true,
    );
    expect(asked.entities).toContain('DockerImage/default/acme-payments-api-v1-3-0');
    expect(asked.relations.length).toBeGreaterThan(0);
    expect(graphKeys(after)).toEqual({
      entities: stored(fake).entities.map((e) => e.key),
      relations: stored(fake).relations,
    });
  });

  const repositoryFaults: Array<{ fault: RegistryFault; repository: string }> = [
    { fault: 'tags-503', repository: 'acme/payments-api' },
    { fault: 'tags-html-200', repository: 'acme/payments-api' },
    { fault: 'tags-json-without-tags', repository: 'acme/payments-api' },
    { fault: 'tags-denied-403', repository: 'acme/payments-api' },
    { fault: 'manifest-garbage', repository: 'acme/web-frontend' },
  ];

  it.each(repositoryFaults)(
    '$fault: $repository keeps everything it owns; complete repositories still reconcile',
    async ({ fault: f, repository }) => {
      const { fake, writes, held } = await prefilled();
      const url = await serve(laterContent());
      fault = f;
      const graph = await discoverGraph(url);
      const receipt = graph.receipts.find((r) => r.repository === repository)!;
      expect(receipt.complete).toBe(false);
      expect(graph.receipts.filter((r) => !r.complete).map((r) => r.repository)).toEqual([repository]);

      const result = await upload(graph, fake.url);
      expect(result.ok).toBe(true);
      const inScope = new Set(
        held.entities.filter((e) => e.labels?.[REPOSITORY_LABEL] === repository).map((e) => e.key),
      );
      expect(inScope.size).toBeGreaterThan(0);
      const asked = deletesAsked(fake, writes);
      expect(asked.entities.filter((k) => inScope.has(k))).toEqual([]);
      expect(
        asked.relations.filter((k) => [...inScope].some((e) => k.startsWith(`${e} `) || k.endsWith(` ${e}`))),
      ).toEqual([]);
      // Everything of that repository is still there, with every relation that touches it.
      const now = stored(fake);
      const keys = new Set(now.entities.map((e) => e.key));
      expect([...inScope].filter((k) => !keys.has(k))).toEqual([]);
      const touching = (list: string[]) =>
        list.filter((k) => [...inScope].some((e) => k.startsWith(`${e} `) || k.endsWith(` ${e}`)));
      expect(touching(held.relations).filter((k) => !now.relations.includes(k))).toEqual([]);
      // The complete repositories were reconciled: the deleted repository is gone.
      expect(asked.entities.some((k) => k.includes('legacy-batch'))).toBe(true);
    },
  );

  const providerFaults: Array<{
    name: string;
    fault?: RegistryFault;
    unreachable?: boolean;
    extra?: string[];
    pageSize?: number;
  }> = [
    { name: 'catalog 503', fault: 'catalog-503' },
    { name: 'catalog answering HTML with 200', fault: 'catalog-html-200' },
    { name: 'catalog answering broken JSON', fault: 'catalog-invalid-json' },
    { name: 'catalog answering JSON without "repositories"', fault: 'catalog-json-without-repositories' },
    { name: 'catalog denied (401)', fault: 'catalog-denied-401' },
    { name: 'catalog cut short by max_pages', extra: ['max_pages: 1'], pageSize: 2 },
    { name: 'registry unreachable', unreachable: true },
  ];

  it.each(providerFaults)('$name: zero deletes, Devgraph keeps all it held', async (p) => {
    const { fake, writes, held } = await prefilled();
    let url = await serve(laterContent(), p.pageSize ? { catalogPageSize: p.pageSize } : {});
    if (p.unreachable) {
      await registry!.close();
      registry = undefined;
    }
    fault = p.fault ?? 'none';
    const graph = await discoverGraph(url, p.extra);
    expect(graph.receipts.find((r) => r.repository === '*')?.complete).toBe(false);

    const result = await upload(graph, fake.url);
    expect(result.ok).toBe(true);
    expect(
      fake
        .writes()
        .slice(writes)
        .filter((r) => r.method === 'DELETE'),
    ).toEqual([]);
    const now = stored(fake);
    const keys = new Set(now.entities.map((e) => e.key));
    expect(held.entities.map((e) => e.key).filter((k) => !keys.has(k))).toEqual([]);
    expect(held.relations.filter((k) => !now.relations.includes(k))).toEqual([]);
    url = await serve(laterContent());
  });

  it('through the action: a failing catalog warns, uploads, and deletes nothing', async () => {
    const { fake, writes, held } = await prefilled();
    const url = await serve(laterContent());
    fault = 'catalog-503';
    const dir = await mkdtemp(join(tmpdir(), 'dg-loss-action-'));
    try {
      const r = await runAction(dir, {
        config: configText(url),
        cache: 'false',
        'devgraph-url': fake.url,
        'devgraph-token': TOKEN,
        'devgraph-environment': ENVIRONMENT,
      });
      expect(r.exitCode).toBeUndefined();
      expect(r.log).toContain('::warning::discovery was incomplete');
      expect(r.outputs).toMatch(/^devgraph-uploaded<<.*\ntrue\n/m);
      expect(
        fake
          .writes()
          .slice(writes)
          .filter((w) => w.method === 'DELETE'),
      ).toEqual([]);
      expect(stored(fake).entities.map((e) => e.key)).toEqual(held.entities.map((e) => e.key));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The demo provider reading every tag, with `extra` YAML lines under `config:`. */
function configText(url: string, ...extra: string[]): string {
  return plainRegistryConfig(url, { lines: ['timeout: 5', ...extra] });
}

let runId = 0;
/** One run of the action, in-process, with its inputs; returns its log, outputs file and exit code. */
async function runAction(dir: string, inputs: Record<string, string>) {
  const out = join(dir, `out-${++runId}`);
  const r = await runActionInProcess(
    dir,
    { 'output-dir': out, ...inputs },
    { GITHUB_RUN_ID: String(runId), GITHUB_RUN_ATTEMPT: '1', SOURCE_DATE_EPOCH: '1767225600' },
  );
  return { ...r, out };
}

// ---------------------------------------------------------------------------------------------

/**
 * A proxy in front of the Devgraph fake that lets `allowed` writes through and then dies: the
 * next write is forwarded but its answer is lost (the server did it, the client never hears),
 * and from then on every connection is cut before it reaches the server.
 */
async function dyingProxy(target: string, allowed: number) {
  let writes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    if (write) writes++;
    if (writes > allowed + 1) return void req.socket.destroy();
    const cutAnswer = write && writes === allowed + 1;
    const upstream = httpRequest(
      `${target}${req.url}`,
      { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
      (answer) => {
        if (cutAnswer) {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('(b) an upload cut off after N writes is repaired by the next run', () => {
  const fastHttp = () => new HttpClient({ baseBackoffMs: 1, maxAttempts: 2 });
  let reference: ReturnType<typeof stored>;
  let total: number;
  let phases: Set<string>;

  beforeAll(async () => {
    const clean = await startDevgraphFake({ token: TOKEN, environment: ENVIRONMENT });
    try {
      await upload(before, clean.url);
      const from = clean.writes().length;
      expect((await upload(after, clean.url)).ok).toBe(true);
      total = clean.writes().length - from;
      phases = new Set(
        clean
          .writes()
          .slice(from)
          .map((w) => w.operation ?? ''),
      );
      reference = stored(clean);
    } finally {
      await clean.close();
    }
    expect(graphKeys(after)).toEqual({
      entities: reference.entities.map((e) => e.key),
      relations: reference.relations,
    });
    // Cutting after each write in turn cuts every phase: definitions (409, already there),
    // upserts, relation creates, relation deletes, entity deletes.
    expect([...phases].sort()).toEqual([
      'create_entities_bulk',
      'create_entity_definition',
      'create_entity_relations_bulk',
      'delete_entity',
      'delete_entity_relation',
    ]);
  });

  it('the server failing every write after the Nth', async () => {
    for (let n = 0; n <= total; n++) {
      const fake = await devgraph();
      await upload(before, fake.url);
      const base = fake.writes().length;
      let failing = true;
      for (const operation of [
        'create_entity_definition',
        'create_entities_bulk',
        'create_entity_relation',
        'create_entity_relations_bulk',
        'delete_entity',
        'delete_entity_relation',
      ]) {
        fake.fault({
          operation,
          status: 500,
          times: 1e9,
          when: () => failing && fake.writes().length - base > n,
        });
      }
      const cut = await upload(after, fake.url, fastHttp());
      if (n < total) expect(cut.ok, `N=${n}`).toBe(false);
      failing = false;
      const repaired = await upload(after, fake.url);
      expect(repaired.ok, `N=${n}: ${repaired.errors.join('; ')}`).toBe(true);
      expect(stored(fake), `N=${n}`).toEqual(reference);
      await fake.close();
      fakes.splice(fakes.indexOf(fake), 1);
    }
  });

  it('the server dying mid-request after the Nth write', async () => {
    for (let n = 0; n <= total; n++) {
      const fake = await devgraph();
      await upload(before, fake.url);
      const proxy = await dyingProxy(fake.url, n);
      const cut = await upload(after, proxy.url, fastHttp());
      await proxy.close();
      if (n < total) expect(cut.ok, `N=${n}`).toBe(false);
      const repaired = await upload(after, fake.url);
      expect(repaired.ok, `N=${n}: ${repaired.errors.join('; ')}`).toBe(true);
      expect(stored(fake), `N=${n}`).toEqual(reference);
      await fake.close();
      fakes.splice(fakes.indexOf(fake), 1);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('(c) a state directory left by a killed run', () => {
  let dir: string;
  let configPath: string;
  let coldGraph: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dg-loss-state-'));
    const url = await serve(laterContent());
    configPath = join(dir, 'config.yml');
    await writeFile(configPath, configText(url));
    const cold = await cli(['--out', join(dir, 'cold')]);
    expect(cold.code).toBe(0);
    coldGraph = comparable(await readFile(join(dir, 'cold', 'graph.json'), 'utf8'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) =>
    runCliInProcess(['discover', '--config', configPath, ...args], { SOURCE_DATE_EPOCH: '1767225600' });

  /** The graph without request counts, which a warm run rightly lowers. */
  function comparable(text: string): string {
    const g = JSON.parse(text) as Graph;
    return JSON.stringify({ ...g, receipts: g.receipts.map(({ requests: _r, ...rest }) => rest) }, null, 1);
  }

  async function filesOf(state: string): Promise<string[]> {
    return (await readdir(state, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
  }

  /** A warm state as a complete run leaves it. */
  async function warmState(name: string): Promise<string> {
    const state = join(dir, name);
    const first = await cli(['--out', join(dir, `${name}-out0`), '--state', state]);
    expect(first.code).toBe(0);
    return state;
  }

  type Damage = (state: string, files: string[]) => Promise<void>;
  const half = async (path: string) => truncate(path, Math.floor((await stat(path)).size / 2));
  const damages: Array<{ name: string; damage: Damage; discards: RegExp }> = [
    {
      name: 'graph.json cut in half',
      damage: async (state) => half(join(state, 'graph.json')),
      discards: /graph\.json/,
    },
    {
      name: 'the tags file cut in half',
      damage: async (_state, files) => {
        for (const f of files.filter((f) => f.includes('/tags/'))) await half(f);
      },
      discards: /tags/,
    },
    {
      name: 'content blobs cut in half, emptied, or holding another blob',
      damage: async (_state, files) => {
        const blobs = files.filter((f) => f.includes('/content/'));
        await half(blobs[0]!);
        await writeFile(blobs[1]!, '');
        await writeFile(blobs[2]!, await readFile(blobs[3]!));
      },
      discards: /content/,
    },
    {
      name: 'temporary files of writes that never finished',
      damage: async (state, files) => {
        const blob = files.find((f) => f.includes('/content/'))!;
        await writeFile(`${blob}.4f2a9c1b3d5e.tmp`, '{"schemaVersion":2,"mediaType":"applic');
        await writeFile(join(state, 'graph.json.0a1b2c3d4e5f.tmp'), '{"format":"devgraph-docker/gr');
        await mkdir(join(state, 'tags'), { recursive: true });
        await writeFile(
          join(state, 'tags', 'deadbeefdeadbeefdeadbeef.json.aabbccddeeff.tmp'),
          '{"registry":',
        );
      },
      discards: /temporary/,
    },
    {
      name: 'every file cut in half',
      damage: async (_state, files) => {
        for (const f of files) await half(f);
      },
      discards: /./,
    },
    {
      name: 'every file garbled',
      damage: async (_state, files) => {
        for (const f of files) await writeFile(f, Buffer.from('\u0000\u00ff garbage \u0000'));
      },
      discards: /./,
    },
  ];

  it.each(damages)(
    '$name: the next run gives the cold graph and says what it discarded in one line',
    async (d) => {
      const name = d.name.replace(/\W+/g, '-');
      const state = await warmState(name);
      await d.damage(state, await filesOf(state));
      const next = await cli(['--out', join(dir, `${name}-out1`), '--state', state]);
      expect(next.code, next.stderr).toBe(0);
      expect(comparable(await readFile(join(dir, `${name}-out1`, 'graph.json'), 'utf8'))).toBe(coldGraph);
      const said = next.stderr.split('\n').filter((l) => /^warning: state: /.test(l));
      expect(said.length, next.stderr).toBeGreaterThan(0);
      expect(said.join('\n')).toMatch(d.discards);
      // One line per thing discarded (the previous graph, the stored data), never one per file.
      expect(said.length, said.join('\n')).toBeLessThanOrEqual(2);
      // No temporary file survives, and the run after that is quiet: nothing left to discard.
      expect((await filesOf(state)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const again = await cli(['--out', join(dir, `${name}-out2`), '--state', state]);
      expect(again.code).toBe(0);
      expect(again.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual([]);
      expect(comparable(await readFile(join(dir, `${name}-out2`, 'graph.json'), 'utf8'))).toBe(coldGraph);
    },
  );
  it('through the Actions cache: a restored entry with damaged files gives the cold graph and one line', async () => {
    services.cache = createActionsCacheFake();
    const url = await serve(laterContent());
    const actionDir = join(dir, 'action');
    await mkdir(actionDir, { recursive: true });
    const state = join(actionDir, 'state');
    const inputs = { config: configText(url), cache: 'true', 'state-dir': state };
    const stateLines = (log: string) =>
      log.split('\n').filter((l) => /^::warning::(state|State cache)/.test(l) || /discard/i.test(l));
    // Each run starts on a fresh runner: only what the cache restores is there.
    const freshRun = async () => {
      await rm(state, { recursive: true, force: true });
      const r = await runAction(actionDir, inputs);
      expect(r.exitCode, r.log).toBeUndefined();
      expect(r.outputs).toMatch(/^complete<<.*\ntrue\n/m);
      expect(comparable(await readFile(join(r.out, 'graph.json'), 'utf8'))).toBe(coldGraph);
      return r;
    };
    const newest = () => services.cache!.entries.at(-1)!;

    expect((await freshRun()).outputs).toMatch(/^cache<<.*\nsaved\n/m);
    // Content cut short and a killed write's temporary file: the entry is readable, those files are not.
    const blobs = [...newest().files.keys()].filter((k) => k.startsWith('content/'));
    for (const k of blobs.slice(0, 5)) newest().files.set(k, newest().files.get(k)!.subarray(0, 10));
    newest().files.set(`${blobs[0]}.0123456789ab.tmp`, Buffer.from('{"schemaVer'));
    const damaged = await freshRun();
    expect(stateLines(damaged.log)).toEqual([
      expect.stringMatching(/^::warning::state: discarded 1 temporary file, 5 content files left damaged/),
    ]);
    expect([...newest().files.keys()].filter((k) => k.endsWith('.tmp'))).toEqual([]);
    expect(stateLines((await freshRun()).log)).toEqual([]);

    // A JSON document cut short: the whole entry is thrown away at restore, in one line.
    const tags = [...newest().files.keys()].find((k) => k.startsWith('tags/'))!;
    newest().files.set(tags, newest().files.get(tags)!.subarray(0, 20));
    const corrupt = await freshRun();
    expect(stateLines(corrupt.log)).toEqual([
      expect.stringMatching(
        /^::warning::State cache: the entry .* could not be read \(tags\/.*is not valid JSON\); it was discarded; starting cold\.$/,
      ),
    ]);
  });
});
