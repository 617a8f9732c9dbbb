// Uploads graphs discovered from the demo registry to a fake Devgraph that validates every request
// against Devgraph's OpenAPI document, and checks what the fake stored and every call it saw.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoRegistryOptions, startDemoRegistry } from '../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../src/demo/image-builder.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { type DevgraphUploadOptions, uploadToDevgraph } from '../../src/devgraph/upload.js';
import { HttpClient } from '../../src/http/http-client.js';
import type { Log } from '../../src/log.js';
import type { Graph } from '../../src/model/graph.js';
import { Secrets } from '../../src/secrets.js';
import { plainRegistryConfig } from '../support/config-text.js';
import { discoverText } from '../support/discover-text.js';
import { type DevgraphFake, type FakeRelation, startDevgraphFake } from '../support/fakes/devgraph-fake.js';

const TOKEN = 'dg_test_token_5f2c9a1e7b';
const ENVIRONMENT = '6f1d3c2a-8e4b-4a7c-9d10-2b3c4d5e6f70';
const NOW = '2026-01-01T00:00:00Z';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fake(limit?: number): Promise<DevgraphFake> {
  const f = await startDevgraphFake({
    token: TOKEN,
    environment: ENVIRONMENT,
    ...(limit !== undefined ? { limit } : {}),
  });
  cleanups.push(() => f.close());
  return f;
}

/** Discovers the given content on a demo registry; `port` keeps the URL (and so the graph) stable. */
async function discover(
  repos: RepositoryContent[],
  opts: DemoRegistryOptions = {},
): Promise<{ graph: Graph; port: number }> {
  const registry = await startDemoRegistry(repos, opts);
  try {
    const { graph } = await discoverText(plainRegistryConfig(registry.url), {
      origin: 'test config',
      http: new HttpClient(),
      generatedAt: NOW,
    });
    return { graph: graph.load(), port: Number(new URL(registry.url).port) };
  } finally {
    await registry.close();
  }
}

function capturingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), debug: (m) => lines.push(m) };
}

async function upload(f: DevgraphFake, graph: Graph, extra: Partial<DevgraphUploadOptions> = {}) {
  const http = new HttpClient({ sleep: async () => {}, baseBackoffMs: 1 });
  cleanups.push(() => http.close());
  const log = capturingLog();
  const secrets = new Secrets();
  const result = await uploadToDevgraph(graph, {
    url: f.url,
    token: TOKEN,
    environment: ENVIRONMENT,
    http,
    secrets,
    log,
    now: NOW,
    ...extra,
  });
  return { result, log, http };
}

/** A GithubRepository as a GitHub provider stores it, in its own namespace. */
function githubRepository(f: DevgraphFake, name: string, url: string): void {
  f.entities.set(`GithubRepository/github/${name}`, {
    apiVersion: 'entities.devgraph.ai/v1',
    kind: 'GithubRepository',
    metadata: { name, namespace: 'github' },
    spec: { url },
    status: { discovery_source: 'github' },
  });
}

const ops = (f: DevgraphFake, from = 0) =>
  f.requests.slice(from).map((r) => `${r.operation ?? r.url} ${r.status}`);

describe('upload to Devgraph', () => {
  it('first upload registers the definitions and stores every entity and relation', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    const { result } = await upload(f, graph);

    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
    expect([...f.definitions.keys()].sort()).toEqual([
      'entities.devgraph.ai/DockerImage',
      'entities.devgraph.ai/DockerManifest',
      'entities.devgraph.ai/DockerRegistry',
      'entities.devgraph.ai/DockerRepository',
    ]);
    expect(f.entities.size).toBe(graph.entities.length);
    expect(f.relations).toHaveLength(graph.relations.length);
    for (const e of f.entities.values()) {
      expect(e.status?.discovery_source).toBe('demo');
      expect(e.metadata.annotations?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(result.written).toMatchObject({
      definitions: 4,
      entitiesCreated: graph.entities.length,
      entitiesUpdated: 0,
      entitiesDeleted: 0,
      relationsCreated: graph.relations.length,
      relationsDeleted: 0,
    });
    // Bulk upserts: one call per kind here (a single namespace); relations in batches of ≤ 100.
    const bulk = f.requests.filter((r) => r.operation === 'create_entities_bulk');
    expect(bulk.map((r) => r.query.plural).sort()).toEqual([
      'dockerimages',
      'dockermanifests',
      'dockerregistries',
      'dockerrepositories',
    ]);
    const batches = f.requests.filter((r) => r.operation === 'create_entity_relations_bulk');
    for (const b of batches)
      expect((b.body as { relations: unknown[] }).relations.length).toBeLessThanOrEqual(100);
    expect(f.requests.every((r) => r.status < 400)).toBe(true);
  });

  it('an unchanged re-run writes nothing, reading every page', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    await upload(f, graph);
    const before = f.requests.length;
    const { result } = await upload(f, graph, { pageSize: 7 });

    expect(result.ok).toBe(true);
    expect(f.writes().filter((r) => f.requests.indexOf(r) >= before)).toEqual([]);
    const pages = f.requests.slice(before).filter((r) => r.operation === 'get_entities');
    expect(pages.length).toBe(Math.floor(graph.entities.length / 7) + 1);
    expect(pages.map((p) => Number(p.query.offset))).toEqual(pages.map((_, i) => i * 7));
    const kinds = Object.values(result.plan!.byKind);
    expect(kinds.reduce((n, k) => n + k.unchanged, 0)).toBe(graph.entities.length);
    expect(kinds.every((k) => k.create + k.update + k.delete === 0)).toBe(true);
  });

  it('a removed tag deletes exactly its image and that image’s relations', async () => {
    const first = await discover(sampleRepositories());
    const f = await fake();
    await upload(f, first.graph);
    const repos = sampleRepositories();
    const legacy = repos.find((r) => r.name === 'acme/legacy-batch')!;
    delete legacy.tags.latest;
    const { graph } = await discover(repos, { port: first.port });
    const before = f.requests.length;
    const { result } = await upload(f, graph);

    expect(result.errors).toEqual([]);
    expect(ops(f, before).filter((o) => !o.startsWith('get_entities'))).toEqual([
      'delete_entity_relation 204',
      'delete_entity_relation 204',
      'delete_entity 204',
    ]);
    expect(f.requests.at(-1)!.url).toBe(
      '/api/v1/entities/entities.devgraph.ai/v1/DockerImage/default/acme-legacy-batch-latest',
    );
    expect(f.entities.size).toBe(graph.entities.length);
    expect(f.relations).toHaveLength(graph.relations.length);
    expect(f.relations.some((r) => r.source.name === 'acme-legacy-batch-latest')).toBe(false);
  });

  it('a partial discovery deletes nothing: a failed tag listing, then a failed catalog', async () => {
    const first = await discover(sampleRepositories());
    const f = await fake();
    await upload(f, first.graph);
    const stored = f.entities.size;

    const failing =
      (path: RegExp) =>
      (req: IncomingMessage, res: ServerResponse): boolean => {
        if (!path.test(req.url ?? '')) return false;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNKNOWN","message":"storage backend unavailable"}]}');
        return true;
      };
    const partialRepo = await discover(sampleRepositories(), {
      port: first.port,
      intercept: failing(/^\/v2\/acme\/legacy-batch\/tags\/list/),
    });
    expect(partialRepo.graph.receipts.find((r) => r.repository === 'acme/legacy-batch')?.complete).toBe(
      false,
    );
    const a = await upload(f, partialRepo.graph);
    expect(a.result.plan!.byKind.DockerImage.kept).toBeGreaterThan(0);

    const partialRegistry = await discover(sampleRepositories(), {
      port: first.port,
      intercept: failing(/^\/v2\/_catalog/),
    });
    expect(partialRegistry.graph.receipts.find((r) => r.repository === '*')?.complete).toBe(false);
    const b = await upload(f, partialRegistry.graph);
    expect(b.result.plan!.byKind.DockerRepository.kept).toBe(6);

    expect(f.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(f.entities.size).toBe(stored);
    expect(a.result.written.entitiesDeleted + b.result.written.entitiesDeleted).toBe(0);
  });

  it('retries a 503 and then succeeds', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    f.fault({ operation: 'create_entities_bulk', status: 503 });
    const { result, http } = await upload(f, graph);

    expect(result.ok).toBe(true);
    expect(f.entities.size).toBe(graph.entities.length);
    expect(ops(f).filter((o) => o.startsWith('create_entities_bulk'))).toEqual([
      'create_entities_bulk 503',
      'create_entities_bulk 201',
      'create_entities_bulk 201',
      'create_entities_bulk 201',
      'create_entities_bulk 201',
    ]);
    expect(http.retries).toBe(1);
  });

  it('falls back to one-by-one creation for a failed relation batch only', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    f.fault({ operation: 'create_entity_relations_bulk', status: 500, detail: 'internal error' });
    const { result, log } = await upload(f, graph, { relationBatchSize: 10 });

    expect(result.errors).toEqual([]);
    expect(f.relations).toHaveLength(graph.relations.length);
    expect(f.requests.filter((r) => r.operation === 'create_entity_relation')).toHaveLength(10);
    expect(f.requests.filter((r) => r.operation === 'create_entity_relations_bulk')).toHaveLength(
      Math.ceil(graph.relations.length / 10),
    );
    expect(result.written.relationsCreated).toBe(graph.relations.length);
    expect(log.lines.some((l) => /retrying 10 relations one by one/.test(l))).toBe(true);
  });

  it('reports what was and was not written when writes keep failing', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    f.fault({
      operation: 'create_entities_bulk',
      status: 500,
      times: 1,
      when: (body) => (body as Array<{ kind: string }>)[0]?.kind === 'DockerManifest',
    });
    const { result } = await upload(f, graph);
    const manifests = graph.entities.filter((e) => e.kind === 'DockerManifest').length;

    expect(result.ok).toBe(false);
    expect(result.notWritten.entities).toBe(manifests);
    expect(result.written.entitiesCreated).toBe(graph.entities.length - manifests);
    expect(result.errors[0]).toMatch(/could not store \d+ dockermanifests in namespace default: HTTP 500/);
    expect(result.report.join('\n')).toMatch(new RegExp(`NOT written: ${manifests} entity upserts`));
  });

  it('dry run prints the plan and writes nothing', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    const { result, log } = await upload(f, graph, { dryRun: true });

    expect(result.ok).toBe(true);
    expect(result.dryRun).toBe(true);
    expect(f.writes()).toEqual([]);
    expect(f.entities.size).toBe(0);
    const images = graph.entities.filter((e) => e.kind === 'DockerImage').length;
    expect(result.plan!.byKind.DockerImage.create).toBe(images);
    expect(log.lines).toContain(`DockerImage: ${images} to create, 0 to update, 0 to delete, 0 unchanged`);
    expect(log.lines.some((l) => /dry run, nothing written/.test(l))).toBe(true);
  });

  it('a wrong token gets a clear message that never contains a token', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    const wrong = 'dg_wrong_token_0123456789';
    const { result, log } = await upload(f, graph, { token: wrong });

    expect(result.ok).toBe(false);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/HTTP 401.*check devgraph-token.*nothing was written/);
    expect(f.writes()).toEqual([]);
    const everything = [...result.errors, ...result.report, ...log.lines].join('\n');
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(TOKEN);
  });

  it('a wrong environment names devgraph-environment', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    const { result } = await upload(f, graph, { environment: 'not-my-environment' });
    expect(result.errors[0]).toMatch(/HTTP 403.*devgraph-environment/);
  });
});

describe('upload to Devgraph, a server that caps its pages', () => {
  it('pages by what the server returned: an unchanged re-run writes nothing, a removed repository is deleted', async () => {
    const first = await discover(sampleRepositories());
    const f = await fake(20);
    await upload(f, first.graph);
    expect(f.entities.size).toBe(first.graph.entities.length);
    expect(f.entities.size).toBeGreaterThan(60);

    const before = f.requests.length;
    const { result } = await upload(f, first.graph);
    expect(result.errors).toEqual([]);
    expect(f.writes().filter((r) => f.requests.indexOf(r) >= before)).toEqual([]);
    const pages = f.requests.slice(before).filter((r) => r.operation === 'get_entities');
    expect(pages.map((p) => Number(p.query.offset))).toEqual(pages.map((_, i) => i * 20));
    expect(pages.every((p) => p.query.limit === '100')).toBe(true);
    expect(pages).toHaveLength(Math.floor(first.graph.entities.length / 20) + 1);
    const kinds = Object.values(result.plan!.byKind);
    expect(kinds.reduce((n, k) => n + k.unchanged, 0)).toBe(first.graph.entities.length);

    // DockerRepository sorts last: the repository and its entities are on the listing's later pages.
    const repos = sampleRepositories().filter((r) => r.name !== 'acme/web-frontend');
    const { graph } = await discover(repos, { port: first.port });
    const gone = await upload(f, graph);
    expect(gone.result.errors).toEqual([]);
    // Nothing else is written but the registry, whose storage no longer counts the repository.
    expect(gone.result.written.entitiesCreated).toBe(0);
    expect(gone.result.written.entitiesUpdated).toBe(1);
    expect(gone.result.plan!.byKind.DockerRegistry).toMatchObject({ update: 1 });
    const registry = graph.entities.find((e) => e.kind === 'DockerRegistry')!;
    expect(registry.spec.storage).not.toEqual(
      first.graph.entities.find((e) => e.kind === 'DockerRegistry')!.spec.storage,
    );
    expect(
      f.entities.get(`DockerRegistry/${registry.metadata.namespace}/${registry.metadata.name}`)!.spec!
        .storage,
    ).toEqual(registry.spec.storage);
    expect(gone.result.written.entitiesDeleted).toBe(first.graph.entities.length - graph.entities.length);
    expect(f.entities.has('DockerRepository/default/acme-web-frontend')).toBe(false);
    expect(f.entities.size).toBe(graph.entities.length);
    expect(f.relations).toHaveLength(graph.relations.length);
  });

  it('asks again for half a page when an answer is larger than the client reads', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    await upload(f, graph);
    // Under a full page of the sample graph, over the largest one-entity answer (the repository that
    // owns the most manifests, its accessories included).
    const small = new HttpClient({ sleep: async () => {}, baseBackoffMs: 1, maxBodyBytes: 60_000 });
    cleanups.push(() => small.close());
    const before = f.requests.length;
    const { result } = await upload(f, graph, { http: small });

    expect(result.errors).toEqual([]);
    expect(f.writes().filter((r) => f.requests.indexOf(r) >= before)).toEqual([]);
    const limits = f.requests
      .slice(before)
      .filter((r) => r.operation === 'get_entities')
      .map((r) => Number(r.query.limit));
    expect(Math.min(...limits)).toBeLessThan(100);
    const kinds = Object.values(result.plan!.byKind);
    expect(kinds.reduce((n, k) => n + k.unchanged, 0)).toBe(graph.entities.length);
  });

  it('a malformed entity in a listing is reported by name, the rest still counts', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    await upload(f, graph);
    f.fault({
      operation: 'get_entities',
      rewrite: (answer) => {
        const page = answer as { primary_entities: Array<{ metadata: { name: unknown } }> };
        page.primary_entities[1]!.metadata.name = 42;
        return page;
      },
    });
    const before = f.requests.length;
    const { result } = await upload(f, graph);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      expect.stringMatching(
        /^Devgraph: listing at offset 0: primary_entities\[1\] \(DockerImage\) is malformed \(metadata\.name: /,
      ),
    ]);
    // The unreadable one is sent again (the server's copy could not be compared); nothing is deleted.
    expect(result.written.entitiesUpdated + result.written.entitiesCreated).toBe(1);
    expect(f.requests.slice(before).filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(f.entities.size).toBe(graph.entities.length);
  });
});

describe('upload to Devgraph, partial runs and failed writes', () => {
  it('a repository whose tags could not be listed keeps what the server knows of it (source_repository)', async () => {
    const first = await discover(sampleRepositories());
    const f = await fake();
    githubRepository(f, 'payments-api', 'https://github.com/acme/payments-api');
    await upload(f, first.graph);
    const key = 'DockerRepository/default/acme-payments-api';
    expect(f.entities.get(key)!.spec!.source_repository).toBe('https://github.com/acme/payments-api');
    const links = () => f.relations.filter((r) => r.relation === 'BUILT_FROM' || r.relation === 'BUILDS');
    expect(links()).toHaveLength(2);

    const partial = await discover(sampleRepositories(), {
      port: first.port,
      intercept: (req, res) => {
        if (!/^\/v2\/acme\/payments-api\/tags\/list/.test(req.url ?? '')) return false;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNKNOWN","message":"storage backend unavailable"}]}');
        return true;
      },
    });
    const repository = partial.graph.entities.find(
      (e) => e.kind === 'DockerRepository' && e.metadata.name === 'acme-payments-api',
    );
    expect(repository).toBeDefined();
    expect(repository!.spec.source_repository).toBeUndefined();
    const before = f.requests.length;
    const { result } = await upload(f, partial.graph);

    expect(result.errors).toEqual([]);
    expect(result.plan!.byKind.DockerRepository).toMatchObject({ update: 0, delete: 0 });
    expect(f.entities.get(key)!.spec!.source_repository).toBe('https://github.com/acme/payments-api');
    expect(links()).toHaveLength(2);
    expect(f.writes().filter((r) => f.requests.indexOf(r) >= before)).toEqual([]);
  });

  it('after a failed entity batch, sends no relation to what was not stored, and does not blame the URL', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    f.fault({
      operation: 'create_entities_bulk',
      status: 500,
      detail: 'database unavailable',
      when: (body) => (body as Array<{ kind: string }>)[0]?.kind === 'DockerManifest',
    });
    const { result, log } = await upload(f, graph);
    const touching = graph.relations.filter(
      (r) => r.source.kind === 'DockerManifest' || r.target.kind === 'DockerManifest',
    ).length;
    expect(touching).toBeGreaterThan(0);

    const sent = f.requests
      .filter(
        (r) => r.operation === 'create_entity_relations_bulk' || r.operation === 'create_entity_relation',
      )
      .flatMap((r) => {
        const body = r.body as { relations?: FakeRelation[] } & FakeRelation;
        return body.relations ?? [body];
      });
    expect(sent.some((r) => r.source.kind === 'DockerManifest' || r.target.kind === 'DockerManifest')).toBe(
      false,
    );
    expect(f.relations).toHaveLength(graph.relations.length - touching);
    expect(result.notWritten.relations).toBe(touching);
    expect(result.written.relationsCreated).toBe(graph.relations.length - touching);
    expect(result.errors).toEqual([
      expect.stringMatching(
        /could not store \d+ dockermanifests in namespace default: HTTP 500 \(database unavailable\)/,
      ),
    ]);
    const everything = [...result.errors, ...result.report, ...log.lines].join('\n');
    expect(everything).not.toMatch(/devgraph-url/);
    expect(result.report).toContain(
      `Devgraph: ${touching} relations not sent because an entity they join was not stored (see the errors above)`,
    );
  });
});

describe('upload to Devgraph, source repositories', () => {
  it('links a repository to the GithubRepository its image label names (BUILT_FROM / BUILDS), once', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    // Made by a GitHub provider, in its own namespace; the URL differs only in case and `.git`.
    githubRepository(f, 'payments-api', 'https://github.com/Acme/payments-api.git');
    githubRepository(f, 'payments-api-docs', 'https://github.com/acme/payments-api-docs');
    const { result } = await upload(f, graph);
    expect(result.ok).toBe(true);
    const links = f.relations
      .filter((r) => r.relation === 'BUILT_FROM' || r.relation === 'BUILDS')
      .map(
        (r) =>
          `${r.source.kind}/${r.source.name} ${r.relation} ${r.target.kind}/${r.target.namespace}/${r.target.name}`,
      );
    expect(links.sort()).toEqual([
      'DockerRepository/acme-payments-api BUILT_FROM GithubRepository/github/payments-api',
      'GithubRepository/payments-api BUILDS DockerRepository/default/acme-payments-api',
    ]);
    expect(result.written.relationsCreated).toBe(graph.relations.length + 2);

    const before = f.requests.length;
    const again = await upload(f, graph);
    expect(again.result.ok).toBe(true);
    expect(f.writes().filter((r) => f.requests.indexOf(r) >= before)).toEqual([]);
  });
});

describe('upload to Devgraph, bad inputs', () => {
  it('an unreachable devgraph-url is named, nothing thrown', async () => {
    const { graph } = await discover(sampleRepositories());
    const f = await fake();
    const url = f.url;
    await f.close();
    const { result } = await upload({ ...f, url }, graph);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      expect.stringMatching(
        /could not list entities: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\); check devgraph-url; nothing was written/,
      ),
    ]);
  });

  it('a devgraph-url that is not http(s) is refused before any request', async () => {
    const f = await fake();
    const { result } = await upload(
      { ...f, url: 'api.devgraph.ai' },
      { format: 'devgraph-docker/graph@1', generated_at: NOW, entities: [], relations: [], receipts: [] },
    );
    expect(result.errors).toEqual([
      'devgraph-url "api.devgraph.ai" is not an http(s) URL; use e.g. https://api.devgraph.ai',
    ]);
    expect(f.requests).toEqual([]);
  });
});

describe('the Devgraph fake', () => {
  it('answers an invalid request like FastAPI, with 422 and the failing location', async () => {
    const f = await fake();
    const http = new HttpClient();
    cleanups.push(() => http.close());
    const res = await http.request({
      method: 'POST',
      url: `${f.url}/api/v1/entities/bulk?group=entities.devgraph.ai&version=v1&namespace=default`,
      kind: 'other',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'devgraph-environment': ENVIRONMENT,
        'content-type': 'application/json',
      },
      body: JSON.stringify([
        { apiVersion: 'entities.devgraph.ai/v1', kind: 'DockerImage', metadata: { name: 'x' } },
      ]),
    });
    expect(res.status).toBe(422);
    const detail = (JSON.parse(res.body.toString()) as { detail: Array<{ loc: unknown[]; type: string }> })
      .detail;
    expect(detail).toContainEqual({ loc: ['query', 'plural'], msg: 'Field required', type: 'missing' });
    expect(detail.map((d) => d.loc)).toContainEqual(['body', 0, 'metadata', 'namespace']);
  });
});
