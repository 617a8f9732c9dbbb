// What Devgraph answers, read through zod schemas (reference/devgraph.md §1, the OpenAPI models).
// Lists are read item by item: an item that does not fit its schema is named in a problem and
// left out, the rest of the answer still counts. Only the fields an upload reads are required.
import { z } from 'zod';

const StringMap = z.record(z.string(), z.string());

export const ServerEntitySchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string(),
    labels: StringMap.nullish(),
    annotations: StringMap.nullish(),
  }),
  spec: z.record(z.string(), z.unknown()).nullish(),
  status: z
    .looseObject({
      discovery_source: z.string().nullish(),
      generation: z.number().nullish(),
    })
    .nullish(),
});

const ServerRefSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  namespace: z.string().nullish(),
});

export const ServerRelationSchema = z.looseObject({
  namespace: z.string().nullish(),
  relation: z.string(),
  source: ServerRefSchema,
  target: ServerRefSchema,
  metadata: z.looseObject({ labels: StringMap.nullish(), annotations: StringMap.nullish() }).nullish(),
  spec: z.record(z.string(), z.unknown()).nullish(),
});

const List = z.array(z.unknown()).nullish();

export const FailedEntitySchema = z.looseObject({
  entity: z
    .looseObject({
      metadata: z.looseObject({ name: z.string().nullish() }).nullish(),
      name: z.string().nullish(),
    })
    .nullish(),
  error: z.unknown(),
});

export const BulkRelationSchema = z.looseObject({
  created_relations: List,
  failure_count: z.number().int().nonnegative().nullish(),
});

/** FastAPI's error body: `detail` is a string or a list of `{loc, msg}` validation problems. */
export const ErrorBodySchema = z.looseObject({
  detail: z.union([
    z.string(),
    z.array(
      z.looseObject({
        loc: z.array(z.union([z.string(), z.number()])).nullish(),
        msg: z.string().nullish(),
      }),
    ),
  ]),
});

/** What one list item is called in a problem: its kind and name when those can be read. */
function itemLabel(item: unknown): string {
  const o = (item && typeof item === 'object' ? item : {}) as {
    kind?: unknown;
    relation?: unknown;
    metadata?: { name?: unknown; namespace?: unknown } | null;
  };
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const kind = text(o.kind) ?? text(o.relation);
  const name = text(o.metadata?.name);
  const namespace = text(o.metadata?.namespace);
  const parts = [kind, name ? (namespace ? `${namespace}/${name}` : name) : undefined].filter(Boolean);
  return parts.length ? ` (${parts.join(' ')})` : '';
}

/**
 * The items of `list` that fit `schema`; each one that does not becomes a problem naming where
 * it is (`what[3] (DockerImage default/x)`) and the first field that is wrong.
 */
export function looseItems<T>(
  list: readonly unknown[] | null | undefined,
  schema: z.ZodType<T>,
  what: string,
  problems: string[],
): T[] {
  const out: T[] = [];
  (list ?? []).forEach((item, i) => {
    const r = schema.safeParse(item);
    if (r.success) {
      // The item itself, not zod's copy: the schemas only check (loose objects, no defaults), and
      // a page's items are many; the copies die at once.
      out.push(item as T);
      return;
    }
    problems.push(`${what}[${i}]${itemLabel(item)} is malformed (${firstIssue(r.error)})`);
  });
  return out;
}

/** `schema` over a whole answer; undefined (and a problem) when it does not fit. */
export function parseAnswer<T>(value: unknown, schema: z.ZodType<T>): { value: T } | { problem: string } {
  const r = schema.safeParse(value);
  return r.success ? { value: r.data } : { problem: firstIssue(r.error) };
}

/** Where the first problem is, and what it is: `metadata.name: Invalid input…`. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const at = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return `${at}${issue?.message ?? 'invalid'}`;
}

/**
 * The items of the top-level lists `names` of a JSON answer; `undefined` for a list the answer
 * does not have. Parsed whole and at once: a token-by-token parser's partial values outlived young
 * collections and filled the old generation, where one parse's objects die together.
 */
export function readLists(
  body: Uint8Array,
  names: readonly string[],
): { lists: Record<string, unknown[] | undefined> } | { problem: string } {
  if (body.length === 0) return { problem: 'empty' };
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    return { problem: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { problem: 'not a JSON object' };
  const lists: Record<string, unknown[] | undefined> = {};
  for (const name of names) {
    const list = (doc as Record<string, unknown>)[name];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return { problem: `${name} is not a list` };
    lists[name] = list;
  }
  return { lists };
}
