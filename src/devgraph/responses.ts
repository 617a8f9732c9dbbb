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
 * does not have. The answer's bytes are scanned for where each item begins and ends, and each item
 * is parsed on its own: a listing page carries every entity its relations reach
 * (`related_entities`), which the upload never reads, and is larger than V8's large-object size,
 * so as one string it would wait for a full collection; a token-by-token parser's partial values
 * outlived young collections the same way. Other members are passed over unparsed.
 */
export function readLists(
  body: Uint8Array,
  names: readonly string[],
): { lists: Record<string, unknown[] | undefined> } | { problem: string } {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const lists: Record<string, unknown[] | undefined> = {};
  let at = skipSpace(bytes, 0);
  if (at === bytes.length) return { problem: 'empty' };
  if (bytes[at] !== LEFT_BRACE) return { problem: wholeProblem(bytes) };
  try {
    at = skipSpace(bytes, at + 1);
    if (bytes[at] === RIGHT_BRACE) at++;
    else
      for (;;) {
        if (bytes[at] !== QUOTE) throw new ScanError('a member name', at);
        const keyEnd = valueEnd(bytes, at);
        const key = JSON.parse(bytes.toString('utf8', at, keyEnd)) as string;
        at = expect(bytes, skipSpace(bytes, keyEnd), COLON, "':'");
        at = skipSpace(bytes, at);
        if (names.includes(key) && bytes[at] === LEFT_BRACKET) {
          const list: unknown[] = [];
          at = skipSpace(bytes, at + 1);
          if (bytes[at] === RIGHT_BRACKET) at++;
          else
            for (;;) {
              const end = valueEnd(bytes, at);
              list.push(JSON.parse(bytes.toString('utf8', at, end)));
              at = skipSpace(bytes, end);
              if (bytes[at] === RIGHT_BRACKET) {
                at++;
                break;
              }
              at = skipSpace(bytes, expect(bytes, at, COMMA, "',' or ']'"));
            }
          lists[key] = list;
        } else {
          const end = valueEnd(bytes, at);
          // null is no list; anything else where a list belongs is not what the API returns.
          if (names.includes(key) && bytes.toString('utf8', at, end) !== 'null')
            return { problem: `${key} is not a list` };
          at = end;
        }
        at = skipSpace(bytes, at);
        if (bytes[at] === RIGHT_BRACE) {
          at++;
          break;
        }
        at = skipSpace(bytes, expect(bytes, at, COMMA, "',' or '}'"));
      }
    if (skipSpace(bytes, at) !== bytes.length) throw new ScanError('the end', at);
  } catch (err) {
    return { problem: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  return { lists };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LEFT_BRACE = 0x7b;
const RIGHT_BRACE = 0x7d;
const LEFT_BRACKET = 0x5b;
const RIGHT_BRACKET = 0x5d;

class ScanError extends Error {
  constructor(wanted: string, at: number) {
    super(`expected ${wanted} at byte ${at}`);
  }
}

/** Why an answer that does not open with `{` is refused; only on that failure is it parsed whole. */
function wholeProblem(bytes: Buffer): string {
  try {
    JSON.parse(bytes.toString('utf8'));
    return 'not a JSON object';
  } catch (err) {
    return `not JSON (${err instanceof Error ? err.message : String(err)})`;
  }
}

function skipSpace(bytes: Buffer, at: number): number {
  let i = at;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  )
    i++;
  return i;
}

function expect(bytes: Buffer, at: number, byte: number, wanted: string): number {
  if (bytes[at] !== byte) throw new ScanError(wanted, at);
  return at + 1;
}

/**
 * Where the JSON value that starts at `at` ends: strings to their closing quote, objects and lists
 * to their closing bracket, anything else to the next delimiter. What is inside is checked only
 * when it is parsed.
 */
function valueEnd(bytes: Buffer, at: number): number {
  const first = bytes[at];
  if (first === QUOTE) {
    for (let i = at + 1; i < bytes.length; i++) {
      if (bytes[i] === BACKSLASH) i++;
      else if (bytes[i] === QUOTE) return i + 1;
    }
    throw new ScanError('a closing quote', bytes.length);
  }
  if (first === LEFT_BRACE || first === LEFT_BRACKET) {
    let depth = 0;
    for (let i = at; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === QUOTE) i = valueEnd(bytes, i) - 1;
      else if (b === LEFT_BRACE || b === LEFT_BRACKET) depth++;
      else if (b === RIGHT_BRACE || b === RIGHT_BRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    throw new ScanError('a closing bracket', bytes.length);
  }
  let i = at;
  while (
    i < bytes.length &&
    bytes[i] !== COMMA &&
    bytes[i] !== RIGHT_BRACE &&
    bytes[i] !== RIGHT_BRACKET &&
    bytes[i]! > 0x20
  )
    i++;
  if (i === at) throw new ScanError('a value', at);
  return i;
}
