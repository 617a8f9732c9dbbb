// A graph file read as its bytes arrive, one entity, relation and receipt at a time: JSON.parse of
// the whole file would hold the text and every parsed entity at once. The checks and messages are
// parseGraph's (diff.ts).
import { Tokenizer, TokenParser, TokenType } from '@streamparser/json';
import { type Entity, GRAPH_FORMAT, type GraphReceipt, type Relation } from '../model/graph.js';

const ARRAYS = ['entities', 'relations', 'receipts'] as const;

export interface GraphStreamHandlers {
  /** Each entity in file order, until one is not an entity (the read then fails). */
  entity(e: Entity): void;
  /** Each relation; without this handler relations are skipped unread. */
  relation?(r: Relation): void;
  receipt(r: GraphReceipt): void;
}

/** What the file's top-level members other than the lists hold, unchecked: the caller checks what it uses. */
export interface GraphHeader {
  generatedAt: unknown;
  shard: unknown;
}

export async function readGraphStream(
  chunks: AsyncIterable<Uint8Array | string>,
  handlers: GraphStreamHandlers,
): Promise<GraphHeader | { error: string }> {
  let format: unknown;
  const header: GraphHeader = { generatedAt: undefined, shard: undefined };
  let badEntity: number | undefined;
  let badRelation: number | undefined;
  let badReceipt: number | undefined;
  let entities = 0;
  let relations = 0;
  let receipts = 0;
  let failure: string | undefined;

  const parser = new TokenParser({
    paths: [
      '$.format',
      '$.generated_at',
      '$.shard',
      '$.entities.*',
      ...(handlers.relation ? ['$.relations.*'] : []),
      '$.receipts.*',
    ],
    // Each item is dropped from its array once handed over: memory stays flat.
    keepStack: false,
  });
  parser.onValue = ({ value, key, stack }) => {
    // $.format, $.generated_at and $.shard: members of the root itself.
    if (stack.length === 1) {
      if (key === 'format') format = value;
      else if (key === 'generated_at') header.generatedAt = value;
      else if (key === 'shard') header.shard = value;
      return;
    }
    const member = stack[1]?.key;
    if (member === 'entities') {
      const e = value as Partial<Entity> | null;
      if (!e || typeof e !== 'object' || typeof e.kind !== 'string' || !e.metadata || !e.spec)
        badEntity ??= entities;
      else if (badEntity === undefined) handlers.entity(e as Entity);
      entities++;
    } else if (member === 'relations') {
      if (!isRelation(value)) badRelation ??= relations;
      else if (badRelation === undefined) handlers.relation?.(value);
      relations++;
    } else if (member === 'receipts') {
      const r = value as Partial<GraphReceipt> | null;
      if (
        !r ||
        typeof r !== 'object' ||
        typeof r.provider !== 'string' ||
        typeof r.repository !== 'string' ||
        typeof r.complete !== 'boolean' ||
        !Array.isArray(r.errors)
      )
        badReceipt ??= receipts;
      else handlers.receipt(r as GraphReceipt);
      receipts++;
    }
  };
  parser.onError = (err) => {
    failure ??= err.message;
  };
  // What the root is and what its members are, read off the tokens: the parser hands over only
  // the values asked for, and an array that is not there or not an array must still be noticed.
  let depth = 0;
  let root: 'object' | 'other' | undefined;
  let previous: TokenType | undefined;
  let pendingKey: string | undefined;
  let memberKey: string | undefined;
  const kinds = new Map<string, 'array' | 'other'>();
  const tokenizer = new Tokenizer();
  tokenizer.onToken = (info) => {
    const { token, value } = info;
    if (root === undefined) root = token === TokenType.LEFT_BRACE ? 'object' : 'other';
    if (depth === 1) {
      if (token === TokenType.STRING && (previous === TokenType.LEFT_BRACE || previous === TokenType.COMMA))
        pendingKey = value as string;
      else if (token === TokenType.COLON) memberKey = pendingKey;
      else if (memberKey !== undefined && previous === TokenType.COLON) {
        kinds.set(memberKey, token === TokenType.LEFT_BRACKET ? 'array' : 'other');
        memberKey = undefined;
      }
    }
    if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) depth++;
    else if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) depth--;
    previous = token;
    parser.write(info);
  };
  tokenizer.onError = (err) => {
    failure ??= err.message;
  };

  for await (const chunk of chunks) {
    if (failure !== undefined) break;
    try {
      tokenizer.write(chunk);
    } catch (err) {
      failure ??= err instanceof Error ? err.message : String(err);
    }
  }
  if (failure === undefined && !tokenizer.isEnded) {
    try {
      tokenizer.end();
    } catch (err) {
      failure ??= err instanceof Error ? err.message : String(err);
    }
  }
  if (failure === undefined && root === undefined) failure = 'Unexpected end of JSON input';

  if (failure !== undefined) return { error: `not valid JSON (${failure})` };
  if (root !== 'object') return { error: 'not a JSON object' };
  if (format !== GRAPH_FORMAT)
    return {
      error: `"format" is ${JSON.stringify(format)}, expected ${JSON.stringify(GRAPH_FORMAT)}; give a graph.json written by devgraph-docker`,
    };
  if (ARRAYS.some((k) => kinds.get(k) !== 'array'))
    return { error: '"entities", "relations" and "receipts" must be arrays' };
  if (badEntity !== undefined)
    return { error: `entities[${badEntity}] is not an entity (kind, metadata, spec)` };
  if (badRelation !== undefined)
    return { error: `relations[${badRelation}] is not a relation (relation, source, target)` };
  if (badReceipt !== undefined) return { error: `receipts[${badReceipt}] is not a receipt` };
  return header;
}

function isRelation(value: unknown): value is Relation {
  const r = value as Partial<Relation> | null;
  const ref = (x: unknown) => {
    const e = x as Partial<Relation['source']> | null;
    return (
      !!e &&
      typeof e === 'object' &&
      typeof e.kind === 'string' &&
      typeof e.name === 'string' &&
      typeof e.namespace === 'string'
    );
  };
  return (
    !!r &&
    typeof r === 'object' &&
    (r.relation === 'BELONGS_TO' || r.relation === 'USES' || r.relation === 'REFERS_TO') &&
    ref(r.source) &&
    ref(r.target)
  );
}
