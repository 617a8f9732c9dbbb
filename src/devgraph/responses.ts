// What Devgraph answers, read through zod schemas (reference/devgraph.md §1, the OpenAPI models).
// Lists are read item by item: an item that does not fit its schema is named in a problem and
// left out, the rest of the answer still counts. Only the fields an upload reads are required.
import { Tokenizer, TokenParser, TokenType } from '@streamparser/json';
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
 * The items of the top-level lists `names` of a JSON answer, read as the bytes go by: a listing
 * page carries every entity its relations reach (`related_entities`), which the upload never
 * reads, and the page of a registry holds one per repository; those are passed over, and no
 * string of the whole answer is made. `undefined` for a list the answer does not have.
 */
export function readLists(
  body: Uint8Array,
  names: readonly string[],
): { lists: Record<string, unknown[] | undefined> } | { problem: string } {
  const lists: Record<string, unknown[] | undefined> = {};
  let problem: string | undefined;
  let root: 'object' | 'other' | undefined;
  const parser = new TokenParser({ paths: names.map((n) => `$.${n}.*`), keepStack: false });
  parser.onValue = ({ value, key, stack }) => {
    const name = String(stack[1]?.key);
    // An item of a list has a number for its key, a member of an object its name.
    if (typeof key !== 'number') {
      problem ??= `${name} is not a list`;
      return;
    }
    const list = lists[name];
    if (list) list.push(value);
    else lists[name] = [value];
  };
  parser.onError = (err) => {
    problem ??= `not JSON (${err.message})`;
  };
  const tokenizer = new Tokenizer();
  tokenizer.onToken = (info) => {
    root ??= info.token === TokenType.LEFT_BRACE ? 'object' : 'other';
    parser.write(info);
  };
  tokenizer.onError = (err) => {
    problem ??= `not JSON (${err.message})`;
  };
  try {
    const step = 1 << 16;
    for (let at = 0; at < body.length && problem === undefined; at += step)
      tokenizer.write(body.subarray(at, at + step));
    if (problem === undefined && !tokenizer.isEnded) tokenizer.end();
  } catch (err) {
    problem ??= `not JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  if (problem === undefined && root !== 'object') problem = body.length === 0 ? 'empty' : 'not a JSON object';
  return problem === undefined ? { lists } : { problem };
}
