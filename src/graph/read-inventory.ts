// A graph file read straight into the Inventory the change report compares with, one entity at a
// time as the bytes arrive. JSON.parse of the whole file held the text and every parsed entity at
// once, garbage that a warm run's peak RSS kept. The checks and messages are parseGraph's.
import { open } from 'node:fs/promises';
import { Tokenizer, TokenParser, TokenType } from '@streamparser/json';
import { type Entity, GRAPH_FORMAT, type GraphReceipt } from '../model/graph.js';
import { type Inventory, InventoryBuilder, type RepositoryFilter } from './diff.js';

const ARRAYS = ['entities', 'relations', 'receipts'] as const;

export async function readInventory(
  chunks: AsyncIterable<Uint8Array | string>,
  keep?: RepositoryFilter,
): Promise<{ inventory: Inventory } | { error: string }> {
  const builder = new InventoryBuilder(keep);
  let format: unknown;
  let generatedAt: unknown;
  let badEntity: number | undefined;
  let badReceipt: number | undefined;
  let entities = 0;
  let receipts = 0;
  let failure: string | undefined;

  const parser = new TokenParser({
    paths: ['$.format', '$.generated_at', '$.entities.*', '$.receipts.*'],
    // Each entity is dropped from its array once handed over: memory stays flat.
    keepStack: false,
  });
  parser.onValue = ({ value, key, stack }) => {
    // $.format and $.generated_at: members of the root itself.
    if (stack.length === 1) {
      if (key === 'format') format = value;
      else if (key === 'generated_at') generatedAt = value;
      return;
    }
    const member = stack[1]?.key;
    if (member === 'entities') {
      const e = value as Partial<Entity> | null;
      if (!e || typeof e !== 'object' || typeof e.kind !== 'string' || !e.metadata || !e.spec)
        badEntity ??= entities;
      else if (badEntity === undefined) builder.entity(e as Entity);
      entities++;
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
      else builder.receipt(r as GraphReceipt);
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
  if (badReceipt !== undefined) return { error: `receipts[${badReceipt}] is not a receipt` };
  return { inventory: builder.finish(typeof generatedAt === 'string' ? generatedAt : '') };
}

/** What reading a graph file gave: its inventory, no file, a file that could not be read, or bad content. */
export type InventoryFile =
  | { inventory: Inventory }
  | { missing: true }
  | { unreadable: string }
  | { error: string };

/**
 * readInventory over the file at `path`. A missing file and an unreadable one (`unreadable`: the
 * error code, at open or midway, e.g. EISDIR) are told apart from content that is not a graph, as
 * each caller words them differently.
 */
export async function readInventoryFile(path: string, keep?: RepositoryFilter): Promise<InventoryFile> {
  const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path);
  } catch (err) {
    return code(err) === 'ENOENT' ? { missing: true } : { unreadable: code(err) };
  }
  try {
    return await readInventory(file.createReadStream({ autoClose: false }), keep);
  } catch (err) {
    return { unreadable: code(err) };
  } finally {
    await file.close().catch(() => undefined);
  }
}
