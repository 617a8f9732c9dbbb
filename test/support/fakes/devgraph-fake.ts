// A fake Devgraph API on a loopback port, for the entity endpoints an upload uses. Every request
// is matched against the OpenAPI document Devgraph publishes (a copy next to this file, from
// ../shared/reference/devgraph-openapi.yaml): path template, query parameters (required ones,
// integer/boolean parsing as FastAPI does) and the JSON body, validated with ajv. What does not
// match is answered like FastAPI: 422 `{"detail":[{"loc","msg","type"}]}`. 2xx bodies the fake
// sends are checked against the document's response schemas too, so the fake cannot drift.
//
// What it imitates beyond the document (reference/devgraph.md §1): Bearer token and the
// Devgraph-Environment header, 409 for an existing definition, bulk upserts per
// (group, version, namespace, plural) with `created_count`/`failed_count`/`failed_entities`, entity
// specs validated against the registered definition's schema, deletes by kind, relations whose
// ends must exist, relation deletes by body. What other writers put there (a Kubernetes provider's
// Deployment that USES a DockerImage) is seeded as stored, listed like the rest. Faults are
// scripted per operation. With `limit`, the
// listing hands out at most that many entities a page whatever `limit` asks (a server's cap).
// Entities are listed in key order, and a page's relations come from an index by entity, so a
// fake holding a graph of 100,000 images still answers a page in milliseconds (bench --scale).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const DOCUMENT = parse(readFileSync(new URL('./devgraph-openapi.yaml', import.meta.url), 'utf8')) as OpenApi;

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: { type?: string };
}
interface OpenApiOperation {
  operationId: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown> };
}

export interface FakeEntity {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface FakeRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface FakeRelation {
  namespace?: string;
  relation: string;
  source: FakeRef;
  target: FakeRef;
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export interface RecordedDevgraphRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  /** The document's operationId, or undefined for an unknown route. */
  operation?: string;
  query: Record<string, string>;
  /** Headers as received (lower-case names), so tests can check what a client sent besides the body. */
  headers: Record<string, string>;
  body?: unknown;
  status: number;
}

export interface Fault {
  operation: string;
  /** The status to fail with; without it, the request is served and `rewrite` changes the answer. */
  status?: number;
  /** What a misbehaving server sends instead of the answer the fake made (not checked against the document). */
  rewrite?: (answer: unknown) => unknown;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** Only requests whose parsed body (and query, for a GET's page) pass this fail. */
  when?: (body: unknown, query: Record<string, string>) => boolean;
  detail?: string;
}

export interface DevgraphFakeOptions {
  token: string;
  environment: string;
  /** The most entities one `GET /entities/` page holds, whatever `limit` the client asks for. */
  limit?: number;
  /** Keep each request's parsed body in `requests` (default true; a bench uploading 100,000 images turns it off). */
  recordBodies?: boolean;
}

export interface DevgraphFake {
  url: string;
  requests: RecordedDevgraphRequest[];
  definitions: Map<string, Record<string, unknown>>;
  /** By `kind/namespace/name`. */
  entities: Map<string, FakeEntity>;
  relations: FakeRelation[];
  /** Requests that changed, or tried to change, something. */
  writes(): RecordedDevgraphRequest[];
  fault(f: Fault): void;
  /**
   * Stores entities and relations as another writer left them (their kinds need no definition
   * here); a relation's ends must exist, as the API requires, or this throws.
   */
  seed(entities: FakeEntity[], relations?: FakeRelation[]): void;
  close(): Promise<void>;
}

type Detail = { loc: Array<string | number>; msg: string; type: string };

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

const ajv = new Ajv2020.default({ allErrors: true, strict: false, logger: false });
addFormats.default(ajv);
ajv.addSchema({ $id: 'devgraph.json', components: DOCUMENT.components });

/** Inline schemas in the paths say `#/components/...`; point them at the registered document. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema && typeof schema === 'object') {
    return Object.fromEntries(
      Object.entries(schema).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `devgraph.json${v}` : rebase(v),
      ]),
    );
  }
  return schema;
}

const validators = new Map<unknown, ValidateFunction>();
function validatorFor(schema: unknown): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(rebase(schema) as object);
    validators.set(schema, v);
  }
  return v;
}

interface Route {
  template: string;
  segments: string[];
  method: string;
  op: OpenApiOperation;
}

const ROUTES: Route[] = Object.entries(DOCUMENT.paths)
  .filter(([template]) => template.startsWith('/api/v1/entities'))
  .flatMap(([template, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      template,
      segments: template.split('/'),
      method: method.toUpperCase(),
      op,
    })),
  )
  // Literal segments win over templates, as in FastAPI's declaration order for these routes.
  .sort(
    (a, b) =>
      b.segments.filter((s) => !s.startsWith('{')).length -
      a.segments.filter((s) => !s.startsWith('{')).length,
  );

function matchRoute(
  method: string,
  pathname: string,
): { route: Route; params: Record<string, string> } | undefined {
  const parts = pathname.split('/');
  for (const route of ROUTES) {
    if (route.method !== method || route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length; i++) {
      const seg = route.segments[i]!;
      if (seg.startsWith('{')) {
        if (!parts[i]) ok = false;
        else params[seg.slice(1, -1)] = decodeURIComponent(parts[i]!);
      } else if (seg !== parts[i]) ok = false;
      if (!ok) break;
    }
    if (ok) return { route, params };
  }
  return undefined;
}

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n']);

function validateQuery(op: OpenApiOperation, query: URLSearchParams): Detail[] {
  const problems: Detail[] = [];
  for (const p of op.parameters ?? []) {
    if (p.in !== 'query') continue;
    const value = query.get(p.name);
    if (value === null) {
      if (p.required) problems.push({ loc: ['query', p.name], msg: 'Field required', type: 'missing' });
      continue;
    }
    if (p.schema?.type === 'integer' && !/^-?\d+$/.test(value)) {
      problems.push({
        loc: ['query', p.name],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        type: 'int_parsing',
      });
    }
    if (p.schema?.type === 'boolean' && !TRUE.has(value.toLowerCase()) && !FALSE.has(value.toLowerCase())) {
      problems.push({
        loc: ['query', p.name],
        msg: 'Input should be a valid boolean, unable to interpret input',
        type: 'bool_parsing',
      });
    }
  }
  return problems;
}

function ajvDetails(errors: ErrorObject[] | null | undefined, prefix: Array<string | number>): Detail[] {
  return (errors ?? []).map((e) => ({
    loc: [
      ...prefix,
      ...e.instancePath
        .split('/')
        .filter(Boolean)
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~'))),
      ...(e.keyword === 'required' ? [(e.params as { missingProperty: string }).missingProperty] : []),
    ],
    msg: e.message ?? 'invalid',
    type: e.keyword === 'required' ? 'missing' : e.keyword,
  }));
}

const refKey = (r: FakeRef) => `${r.kind}/${r.namespace ?? 'default'}/${r.name}`;

/** A Map that counts its changes, so what is derived from it (the sorted listing order) knows when to be made again. */
class CountingMap<K, V> extends Map<K, V> {
  changes = 0;

  override set(key: K, value: V): this {
    if (!this.has(key)) this.changes++;
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    const had = super.delete(key);
    if (had) this.changes++;
    return had;
  }

  override clear(): void {
    this.changes++;
    super.clear();
  }
}
const relationKey = (r: FakeRelation) =>
  `${refKey(r.source)}::${r.relation}::${refKey(r.target)}::${r.metadata?.labels?.['managed-by'] ?? ''}`;

export async function startDevgraphFake(opts: DevgraphFakeOptions): Promise<DevgraphFake> {
  const requests: RecordedDevgraphRequest[] = [];
  const definitions = new Map<string, Record<string, unknown>>();
  const specValidators = new Map<string, ValidateFunction>();
  const entities = new CountingMap<string, FakeEntity>();
  const relations: FakeRelation[] = [];
  const faults: Array<Fault & { times: number }> = [];
  const recordBodies = opts.recordBodies ?? true;

  // The listing order, made again only after an entity came or went.
  let sorted: string[] = [];
  let sortedAt = -1;
  const sortedKeys = () => {
    if (sortedAt !== entities.changes) {
      sorted = [...entities.keys()].sort();
      sortedAt = entities.changes;
    }
    return sorted;
  };
  // Relations by key and by each end, kept in step with `relations`; rebuilt when a test changed
  // the list itself.
  const byKey = new Map<string, FakeRelation>();
  const byEnd = new Map<string, Set<FakeRelation>>();
  const index = (r: FakeRelation) => {
    byKey.set(relationKey(r), r);
    for (const end of [refKey(r.source), refKey(r.target)]) {
      let set = byEnd.get(end);
      if (!set) {
        set = new Set();
        byEnd.set(end, set);
      }
      set.add(r);
    }
  };
  const unindex = (r: FakeRelation) => {
    byKey.delete(relationKey(r));
    for (const end of [refKey(r.source), refKey(r.target)]) byEnd.get(end)?.delete(r);
  };
  const indexed = () => {
    if (byKey.size !== relations.length) {
      byKey.clear();
      byEnd.clear();
      for (const r of relations) index(r);
    }
  };

  const definitionByPlural = (group: string, plural: string) =>
    [...definitions.values()].find((d) => d.group === group && d.plural === plural);

  const entityResponse = (e: FakeEntity) => {
    const [group, version] = e.apiVersion.split('/');
    const definition = [...definitions.values()].find((d) => d.group === group && d.kind === e.kind);
    return {
      ...e,
      id: `${e.apiVersion}/${e.kind}/${e.metadata.namespace}/${e.metadata.name}`,
      plural: (definition?.plural as string | undefined) ?? `${e.kind.toLowerCase()}s`,
      group: group ?? '',
      version: version ?? '',
      name: e.metadata.name,
      namespace: e.metadata.namespace,
    };
  };
  const refResponse = (r: FakeRef) => ({
    ...r,
    namespace: r.namespace ?? 'default',
    id: `${r.apiVersion}/${r.kind}/${r.namespace ?? 'default'}/${r.name}`,
  });
  const relationResponse = (r: FakeRelation) => ({
    ...r,
    namespace: r.namespace ?? 'default',
    source: refResponse(r.source),
    target: refResponse(r.target),
  });

  /** Why an entity cannot be stored under this definition, or undefined. */
  const entityProblem = (e: FakeEntity, definition: Record<string, unknown>, namespace: string) => {
    const apiVersion = `${definition.group}/${definition.name ?? 'v1'}`;
    if (e.apiVersion !== apiVersion) return `apiVersion ${e.apiVersion} does not match ${apiVersion}`;
    if (e.kind !== definition.kind) return `kind ${e.kind} does not match ${definition.kind}`;
    if (e.metadata.namespace !== namespace) return `namespace ${e.metadata.namespace} is not ${namespace}`;
    const validate = specValidators.get(`${definition.group}/${definition.kind}`)!;
    if (!validate(e.spec ?? {})) {
      return `spec invalid: ${ajvDetails(validate.errors, ['spec'])
        .map((d) => `${d.loc.join('.')}: ${d.msg}`)
        .join('; ')}`;
    }
    return undefined;
  };

  const relationProblem = (r: FakeRelation): string | undefined => {
    if (!entities.has(refKey(r.source))) return `source entity ${refKey(r.source)} not found`;
    if (!entities.has(refKey(r.target))) return `target entity ${refKey(r.target)} not found`;
    return undefined;
  };

  const storeRelation = (r: FakeRelation, namespace: string) => {
    indexed();
    const stored = { ...r, namespace: r.namespace ?? namespace };
    const old = byKey.get(relationKey(stored));
    if (old) {
      relations[relations.indexOf(old)] = stored;
      unindex(old);
    } else relations.push(stored);
    index(stored);
    return stored;
  };

  const handlers: Record<
    string,
    (p: Record<string, string>, q: URLSearchParams, body: unknown) => HttpAnswer
  > = {
    create_entity_definition(_p, _q, body) {
      const d = body as Record<string, unknown>;
      const key = `${d.group}/${d.kind}`;
      if (definitions.has(key))
        return new HttpAnswer(409, { detail: `Entity definition ${key} already exists` });
      let validate: ValidateFunction;
      try {
        validate = ajv.compile(d.spec as object);
      } catch (err) {
        return new HttpAnswer(422, {
          detail: [
            {
              loc: ['body', 'spec'],
              msg: `not a JSON schema: ${(err as Error).message}`,
              type: 'value_error',
            },
          ],
        });
      }
      const stored = {
        plural: null,
        name: 'v1',
        description: null,
        storage: true,
        served: true,
        ...d,
        id: randomUUID(),
      };
      definitions.set(key, stored);
      specValidators.set(key, validate);
      return new HttpAnswer(201, stored);
    },
    create_entities_bulk(_p, q, body) {
      const definition = definitionByPlural(q.get('group')!, q.get('plural')!);
      if (!definition || (definition.name ?? 'v1') !== q.get('version')) {
        return new HttpAnswer(404, { detail: 'Entity definition not found' });
      }
      const namespace = q.get('namespace')!;
      const failed: Array<{ entity: unknown; error: string }> = [];
      const created: unknown[] = [];
      for (const e of body as FakeEntity[]) {
        const problem = entityProblem(e, definition, namespace);
        if (problem) {
          failed.push({ entity: e, error: problem });
          continue;
        }
        const stored: FakeEntity = { ...e, metadata: { ...e.metadata, uid: e.metadata.uid ?? randomUUID() } };
        entities.set(`${e.kind}/${namespace}/${e.metadata.name}`, stored);
        created.push(entityResponse(stored));
      }
      return new HttpAnswer(201, {
        created_count: created.length,
        failed_count: failed.length,
        created_entities: created,
        failed_entities: failed,
      });
    },
    delete_entity(p) {
      const key = `${p.kind}/${p.namespace}/${p.name}`;
      const found = entities.get(key);
      if (!found || found.apiVersion !== `${p.group}/${p.version}`) {
        return new HttpAnswer(404, { detail: 'Entity not found' });
      }
      entities.delete(key);
      return new HttpAnswer(204, undefined);
    },
    get_entities(_p, q) {
      const asked = Number(q.get('limit') ?? 100);
      const limit = opts.limit === undefined ? asked : Math.min(asked, opts.limit);
      const offset = Number(q.get('offset') ?? 0);
      const includeRelations = TRUE.has((q.get('include_relations') ?? 'true').toLowerCase());
      const page = sortedKeys()
        .slice(offset, offset + limit)
        .map((k) => entities.get(k)!);
      const keys = new Set(
        page.map((e) => refKey({ ...e.metadata, apiVersion: e.apiVersion, kind: e.kind })),
      );
      let pageRelations: FakeRelation[] = [];
      if (includeRelations) {
        indexed();
        const found = new Set<FakeRelation>();
        for (const k of keys) for (const r of byEnd.get(k) ?? []) found.add(r);
        pageRelations = [...found];
      }
      const related = new Map<string, FakeEntity>();
      for (const r of pageRelations) {
        for (const end of [r.source, r.target]) {
          const k = refKey(end);
          const e = entities.get(k);
          if (e && !keys.has(k)) related.set(k, e);
        }
      }
      return new HttpAnswer(200, {
        primary_entities: page.map(entityResponse),
        related_entities: [...related.values()].map(entityResponse),
        relations: pageRelations.map(relationResponse),
      });
    },
    create_entity_relation(_p, q, body) {
      const r = body as FakeRelation;
      const problem = relationProblem(r);
      if (problem) return new HttpAnswer(404, { detail: problem });
      return new HttpAnswer(201, relationResponse(storeRelation(r, q.get('namespace')!)));
    },
    create_entity_relations_bulk(_p, _q, body) {
      const { namespace = 'default', relations: list } = body as {
        namespace?: string;
        relations: FakeRelation[];
      };
      const created: unknown[] = [];
      const failed: Array<Record<string, unknown>> = [];
      for (const r of list) {
        const problem = relationProblem(r);
        if (problem) failed.push({ relation: r, error: problem });
        else created.push(relationResponse(storeRelation(r, namespace)));
      }
      return new HttpAnswer(201, {
        namespace,
        created_relations: created,
        failed_relations: failed,
        total_requested: list.length,
        success_count: created.length,
        failure_count: failed.length,
      });
    },
    delete_entity_relation(_p, q, body) {
      const r = { ...(body as FakeRelation) };
      r.namespace ??= q.get('namespace')!;
      indexed();
      const found = byKey.get(relationKey(r));
      if (!found) return new HttpAnswer(404, { detail: 'Relation not found' });
      relations.splice(relations.indexOf(found), 1);
      unindex(found);
      return new HttpAnswer(204, undefined);
    },
  };

  const answer = async (req: IncomingMessage, record: RecordedDevgraphRequest): Promise<HttpAnswer> => {
    const url = new URL(req.url ?? '/', 'http://devgraph.invalid');
    const match = matchRoute(req.method ?? 'GET', url.pathname);
    if (!match) return new HttpAnswer(404, { detail: 'Not Found' });
    const { route, params } = match;
    record.operation = route.op.operationId;

    // Authentication comes before validation in FastAPI's dependency order for these routes.
    if (req.headers.authorization !== `Bearer ${opts.token}`) {
      return new HttpAnswer(401, { detail: 'Invalid or expired token' });
    }
    const environment = req.headers['devgraph-environment'];
    if (!environment) return new HttpAnswer(400, { detail: 'Devgraph-Environment header is required' });
    if (environment !== opts.environment) {
      return new HttpAnswer(403, { detail: `No access to environment ${environment}` });
    }

    const raw = await readBody(req);
    let body: unknown;
    const problems: Detail[] = validateQuery(route.op, url.searchParams);
    if (route.op.requestBody) {
      const media = route.op.requestBody.content['application/json'];
      if (!raw.length) {
        if (route.op.requestBody.required)
          problems.push({ loc: ['body'], msg: 'Field required', type: 'missing' });
      } else if (!/^application\/json/i.test(req.headers['content-type'] ?? '')) {
        problems.push({
          loc: ['body'],
          msg: 'Input should be a valid JSON body',
          type: 'model_attributes_type',
        });
      } else {
        try {
          body = JSON.parse(raw.toString('utf8'));
          if (recordBodies) record.body = body;
        } catch {
          problems.push({ loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid' });
        }
        if (body !== undefined && media) {
          const validate = validatorFor(media.schema);
          if (!validate(body)) problems.push(...ajvDetails(validate.errors, ['body']));
        }
      }
    }
    if (problems.length) return new HttpAnswer(422, { detail: problems });

    const query = Object.fromEntries(url.searchParams);
    const i = faults.findIndex(
      (f) => f.operation === route.op.operationId && (!f.when || f.when(body, query)),
    );
    const fault = i >= 0 ? faults[i]! : undefined;
    if (fault) {
      if (--fault.times <= 0) faults.splice(i, 1);
      if (fault.status !== undefined)
        return new HttpAnswer(fault.status, { detail: fault.detail ?? `scripted ${fault.status}` });
    }

    const handler = handlers[route.op.operationId];
    if (!handler)
      return new HttpAnswer(501, { detail: `${route.op.operationId} is not implemented by the fake` });
    const result = handler(params, url.searchParams, body);
    if (fault?.rewrite) return new HttpAnswer(result.status, fault.rewrite(structuredClone(result.body)));
    if (result.status >= 200 && result.status < 300 && result.body !== undefined) {
      const schema = route.op.responses[String(result.status)]?.content?.['application/json']?.schema;
      if (schema) {
        const validate = validatorFor(schema);
        if (!validate(result.body)) {
          throw new Error(
            `fake answer for ${route.op.operationId} breaks the document: ${ajv.errorsText(validate.errors)}`,
          );
        }
      }
    }
    return result;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://devgraph.invalid');
    const record: RecordedDevgraphRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
      ),
      status: 0,
    };
    requests.push(record);
    answer(req, record)
      .catch((err: Error) => new HttpAnswer(500, { detail: err.message }))
      .then((a) => send(res, record, a));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    definitions,
    entities,
    relations,
    writes: () => requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD'),
    fault: (f) => faults.push({ ...f, times: f.times ?? 1 }),
    seed: (seeded, seededRelations = []) => {
      for (const e of seeded)
        entities.set(`${e.kind}/${e.metadata.namespace}/${e.metadata.name}`, {
          ...e,
          metadata: { ...e.metadata, uid: e.metadata.uid ?? randomUUID() },
        });
      for (const r of seededRelations) {
        const problem = relationProblem(r);
        if (problem) throw new Error(`seed: ${problem}`);
        storeRelation(r, r.namespace ?? 'default');
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, record: RecordedDevgraphRequest, a: HttpAnswer): void {
  record.status = a.status;
  if (a.body === undefined) {
    res.writeHead(a.status);
    res.end();
    return;
  }
  const bytes = Buffer.from(JSON.stringify(a.body));
  res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
  res.end(bytes);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
