// The Devgraph entity API calls an upload needs (reference/devgraph.md §1), over our HttpClient so
// 429/502/503/504 are retried with backoff. Every failure becomes a DevgraphError whose message
// names the call and the fix; the token is redacted from anything that leaves this file.
import type { z } from 'zod';
import { RegistryError } from '../errors.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../http/http-client.js';
import type { Secrets } from '../secrets.js';
import { ENTITY_GROUP, ENTITY_VERSION, type EntityDefinition } from './definitions.js';
import {
  BulkRelationSchema,
  ErrorBodySchema,
  FailedEntitySchema,
  looseItems,
  parseAnswer,
  readLists,
  ServerEntitySchema,
  ServerRelationSchema,
} from './responses.js';
import type { ServerEntity, ServerRelation, WireEntity, WireRelation } from './wire.js';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

export class DevgraphError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** The answer was larger than the HTTP layer reads: ask for less. */
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'DevgraphError';
  }

  /** The token or environment was refused: every further call would fail the same way. */
  get fatal(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export interface DevgraphClientOptions {
  /** Base URL, e.g. https://api.devgraph.ai (no /api/v1). */
  url: string;
  token: string;
  /** Sent as the Devgraph-Environment header when given. */
  environment?: string;
  http: HttpClient;
  secrets: Secrets;
}

export interface BulkEntityResult {
  /** Entities the server says it could not store, with its reason; `name` absent when it gave none. */
  failed: Array<{ name?: string; error: string }>;
  /** Items of the answer that could not be read. */
  problems: string[];
}

export interface BulkRelationResult {
  /** The relations the server reported as created, in the shape it lists them. */
  created: ServerRelation[];
  failureCount: number;
  /** Items of the answer that could not be read. */
  problems: string[];
}

export interface EntityPage {
  entities: ServerEntity[];
  relations: ServerRelation[];
  /** How many entities the server returned, malformed ones included: where the next page starts. */
  returned: number;
  /** Items that could not be read, each named. */
  problems: string[];
}

export class DevgraphClient {
  private readonly base: string;

  constructor(private readonly opts: DevgraphClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    opts.secrets.add(opts.token);
  }

  /** Registers a definition; false when it already existed (409). */
  async createDefinition(definition: EntityDefinition): Promise<boolean> {
    const res = await this.call(
      'POST',
      '/api/v1/entities/definitions',
      definition,
      `register ${definition.kind}`,
    );
    if (res.status === 409) return false;
    this.expect(res, [200, 201], `register the ${definition.kind} definition`);
    return true;
  }

  /** One page of `GET /entities/`; pagination is the caller's. */
  async listEntities(offset: number, limit: number): Promise<EntityPage> {
    const query = new URLSearchParams({
      limit: String(limit),
      offset: String(offset),
      include_relations: 'true',
    });
    const what = `list existing entities (offset ${offset})`;
    const res = await this.call('GET', `/api/v1/entities/?${query}`, undefined, 'list entities');
    this.expect(res, [200], what);
    const { primary_entities: listed, relations: related } = this.lists(res, what, [
      'primary_entities',
      'relations',
    ]);
    const problems: string[] = [];
    const at = `listing at offset ${offset}: `;
    const entities = looseItems(listed, ServerEntitySchema, 'primary_entities', problems);
    const relations = looseItems(related, ServerRelationSchema, 'relations', problems);
    return {
      entities,
      relations,
      returned: listed?.length ?? 0,
      problems: problems.map((p) => `Devgraph: ${at}${p}`),
    };
  }

  /**
   * Creates or replaces entities of one plural in one namespace. A 404 (definitions missing)
   * throws with status 404 so the caller can register them and try again.
   */
  async bulkUpsert(namespace: string, plural: string, entities: WireEntity[]): Promise<BulkEntityResult> {
    const query = new URLSearchParams({ group: ENTITY_GROUP, version: ENTITY_VERSION, namespace, plural });
    const what = `store ${entities.length} ${plural} in namespace ${namespace}`;
    const res = await this.call('POST', `/api/v1/entities/bulk?${query}`, entities, what);
    this.expect(res, [200, 201], what);
    // Only the failures are read: the answer may also echo every stored entity.
    const { failed_entities: listed } = this.lists(res, what, ['failed_entities']);
    const problems: string[] = [];
    const failed = looseItems(listed, FailedEntitySchema, 'failed_entities', problems);
    return {
      failed: failed.map((f) => {
        const name = f.entity?.metadata?.name ?? f.entity?.name ?? undefined;
        const error = typeof f.error === 'string' ? f.error : JSON.stringify(f.error ?? 'unknown error');
        return name ? { name, error } : { error };
      }),
      problems: problems.map((p) => `Devgraph: ${what}: ${p}`),
    };
  }

  /** Deletes by kind (not plural); false when it was already gone. */
  async deleteEntity(kind: string, namespace: string, name: string): Promise<boolean> {
    const path = `/api/v1/entities/${[ENTITY_GROUP, ENTITY_VERSION, kind, namespace, name].map(encodeURIComponent).join('/')}`;
    const what = `delete ${kind} ${namespace}/${name}`;
    const res = await this.call('DELETE', path, undefined, what);
    if (res.status === 404) return false;
    this.expect(res, [200, 204], what);
    return true;
  }

  async createRelationsBulk(namespace: string, relations: WireRelation[]): Promise<BulkRelationResult> {
    const what = `create ${relations.length} relations in namespace ${namespace}`;
    const res = await this.call('POST', '/api/v1/entities/relations/bulk', { namespace, relations }, what);
    this.expect(res, [200, 201], what);
    const body = this.answer(res, what, BulkRelationSchema);
    const problems: string[] = [];
    const created = looseItems(body.created_relations, ServerRelationSchema, 'created_relations', problems);
    return {
      created,
      failureCount: body.failure_count ?? Math.max(0, relations.length - created.length),
      problems: problems.map((p) => `Devgraph: ${what}: ${p}`),
    };
  }

  async createRelation(relation: WireRelation): Promise<void> {
    const what = `create relation ${describeRelation(relation)}`;
    const query = new URLSearchParams({ namespace: relation.namespace });
    const res = await this.call('POST', `/api/v1/entities/relations?${query}`, relation, what);
    this.expect(res, [200, 201], what);
  }

  /** False when the relation was already gone. */
  async deleteRelation(relation: WireRelation): Promise<boolean> {
    const what = `delete relation ${describeRelation(relation)}`;
    const query = new URLSearchParams({ namespace: relation.namespace });
    const res = await this.call('DELETE', `/api/v1/entities/relations?${query}`, relation, what);
    if (res.status === 404) return false;
    this.expect(res, [200, 204], what);
    return true;
  }

  private async call(
    method: HttpRequest['method'],
    path: string,
    body: unknown,
    what: string,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.opts.token}`,
      accept: 'application/json',
    };
    if (this.opts.environment) headers['devgraph-environment'] = this.opts.environment;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.opts.http.request({
        method,
        url: `${this.base}${path}`,
        kind: 'devgraph',
        headers,
        ...(body !== undefined ? { body: jsonBytes(body) } : {}),
      });
    } catch (err) {
      // The HTTP layer words connection failures for registries; name our own input instead.
      const code = err instanceof RegistryError ? err.details.code : undefined;
      const message =
        code && UNREACHABLE.has(code)
          ? `cannot reach ${new URL(this.base).host} (${code}); check devgraph-url`
          : err instanceof Error
            ? err.message
            : String(err);
      throw new DevgraphError(
        this.opts.secrets.redact(`Devgraph: could not ${what}: ${message}`),
        undefined,
        /exceeds the \d+-byte limit/.test(message),
      );
    }
  }

  private expect(res: HttpResponse, ok: number[], what: string): void {
    if (ok.includes(res.status)) return;
    throw new DevgraphError(
      this.opts.secrets.redact(`Devgraph: could not ${what}: ${explain(res)}`),
      res.status,
    );
  }

  /** The JSON answer read through `schema`; an answer that is not JSON or does not fit is a DevgraphError. */
  private answer<T>(res: HttpResponse, what: string, schema: z.ZodType<T>): T {
    let value: unknown = {};
    if (res.body.length > 0) {
      try {
        value = JSON.parse(res.body.toString('utf8'));
      } catch {
        throw new DevgraphError(
          `Devgraph: could not ${what}: the answer (HTTP ${res.status}) is not JSON`,
          res.status,
        );
      }
    }
    const parsed = parseAnswer(value, schema);
    if ('problem' in parsed) throw this.unexpected(res, what, parsed.problem);
    return parsed.value;
  }

  /** The items of the answer's top-level lists `names` (readLists), read without a string of the whole answer. */
  private lists(
    res: HttpResponse,
    what: string,
    names: readonly string[],
  ): Record<string, unknown[] | undefined> {
    const read = readLists(res.body, names);
    if ('problem' in read) throw this.unexpected(res, what, read.problem);
    return read.lists;
  }

  private unexpected(res: HttpResponse, what: string, problem: string): DevgraphError {
    return new DevgraphError(
      this.opts.secrets.redact(
        `Devgraph: could not ${what}: the answer (HTTP ${res.status}) is not what the Devgraph API returns (${problem})`,
      ),
      res.status,
    );
  }
}

/**
 * `value` as JSON bytes; a list is written item by item. A batch of entities as one string is
 * larger than V8's large-object size, and such a string is freed only by a full collection.
 */
function jsonBytes(value: unknown): Uint8Array {
  const items = Array.isArray(value) ? value : undefined;
  if (!items) return Buffer.from(JSON.stringify(value));
  const parts: Buffer[] = [];
  items.forEach((item, i) => {
    parts.push(Buffer.from(`${i ? ',' : '['}${JSON.stringify(item) ?? 'null'}`));
  });
  parts.push(Buffer.from(items.length ? ']' : '[]'));
  return Buffer.concat(parts);
}

function explain(res: HttpResponse): string {
  const detail = detailOf(res);
  const suffix = detail ? ` (${detail})` : '';
  switch (res.status) {
    case 401:
      return `HTTP 401, the token was refused${suffix}; check devgraph-token (a Devgraph API token, see README "Devgraph")`;
    case 403:
      return `HTTP 403, not allowed${suffix}; the token needs the scopes create/list:entitydefinitions, create/read/delete:entities and create/delete:entityrelations, and devgraph-environment must name an environment the token belongs to`;
    case 404:
      // FastAPI says "Not Found" for a path it has no route for: the URL is wrong. Any other
      // detail is the API's own answer (an entity or a relation end it does not hold).
      return detail && detail !== 'Not Found'
        ? `HTTP 404${suffix}`
        : `HTTP 404, not found${suffix}; is devgraph-url the API (e.g. https://api.devgraph.ai)?`;
    case 422:
      return `HTTP 422, the server rejected the request${suffix}`;
    case 429:
    case 502:
    case 503:
    case 504:
      return `HTTP ${res.status} after retries${suffix}; the service is overloaded or down, run again later`;
    default:
      return `HTTP ${res.status}${suffix}`;
  }
}

/** FastAPI's `detail`: a string, or a list of `{loc, msg}` validation problems. */
function detailOf(res: HttpResponse): string | undefined {
  const text = res.body.toString('utf8').trim();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text && text.length <= 200 && !text.startsWith('<') ? text : undefined;
  }
  const parsed = ErrorBodySchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { detail } = parsed.data;
  if (typeof detail === 'string') return detail;
  const items = detail.slice(0, 3).map((d) => `${d.loc ? d.loc.join('.') : '?'}: ${d.msg ?? 'invalid'}`);
  return detail.length > 3 ? `${items.join('; ')}; and ${detail.length - 3} more` : items.join('; ');
}

export function describeRelation(r: WireRelation): string {
  return `${r.source.kind} ${r.source.namespace}/${r.source.name} ${r.relation} ${r.target.kind} ${r.target.namespace}/${r.target.name}`;
}
