// A graph as JSON text, handed out in pieces. As one string, a large graph's text (and the copy
// redaction makes of it) would sit in the heap whole: the pieces keep that to about 64 KB at a
// time. The joined pieces are byte for byte what
// JSON.stringify gives, so files written either way are the same file.
import { writeFile } from 'node:fs/promises';

/**
 * About how long one piece grows before it is handed out. Below V8's large-object size (128 KB),
 * so a written piece dies in the young generation; larger pieces go to large-object space, which
 * only a full collection empties.
 */
const PIECE = 1 << 16;

/**
 * JSON.stringify(value) (or JSON.stringify(value, null, 2) with `indent`), cut between its
 * members and between the items of its top-level arrays (a graph's entities, relations, receipts)
 * and maps. Generators are written as arrays, a Map as an object: its string keys, in its order.
 * Each piece is redacted whole; a secret sits inside one item, never across two.
 */
export function* jsonPieces(
  value: object,
  redact: (json: string) => string,
  indent = false,
): Generator<string> {
  // Indented, a top-level member starts on its own line two spaces in and an array item four;
  // JSON.stringify(x, null, 2) lays out the inside, and each of its lines moves in with it.
  const nl = indent ? '\n' : '';
  const pad = (text: string, spaces: string) => (indent ? text.replaceAll('\n', `\n${spaces}`) : text);
  const stringify = (v: unknown) => (indent ? JSON.stringify(v, null, 2) : JSON.stringify(v));
  const colon = indent ? ': ' : ':';
  // A list's items and a Map's members, each as its text; a member JSON.stringify would skip
  // (undefined) is left out, a list item that would be is `null`, as JSON.stringify writes them.
  function* listed(list: Iterable<unknown>): Generator<string> {
    for (const item of list) yield stringify(item) ?? 'null';
  }
  function* mapped(map: Map<unknown, unknown>): Generator<string> {
    for (const [k, item] of map) {
      const text = stringify(item);
      if (text !== undefined) yield `${JSON.stringify(String(k))}${colon}${text}`;
    }
  }
  let out = '{';
  let members = 0;
  for (const [key, v] of Object.entries(value)) {
    const list = listOf(v);
    const parts = list
      ? { open: '[', close: ']', items: listed(list) }
      : v instanceof Map
        ? { open: '{', close: '}', items: mapped(v) }
        : undefined;
    const whole = parts ? undefined : stringify(v);
    // Skipped as JSON.stringify skips them: undefined, functions, symbols.
    if (!parts && whole === undefined) continue;
    out += `${members++ ? ',' : ''}${nl}${indent ? '  ' : ''}${JSON.stringify(key)}${colon}`;
    if (!parts) out += pad(whole!, '  ');
    else {
      out += parts.open;
      let i = 0;
      for (const text of parts.items) {
        out += `${i++ ? ',' : ''}${nl}${indent ? '    ' : ''}${pad(text, '    ')}`;
        if (out.length >= PIECE) {
          yield redact(out);
          out = '';
        }
      }
      out += i > 0 ? `${nl}${indent ? '  ' : ''}${parts.close}` : parts.close;
    }
    if (out.length >= PIECE) {
      yield redact(out);
      out = '';
    }
  }
  yield redact(`${out}${members > 0 ? nl : ''}}${nl}`);
}

/**
 * A top-level member written as an array: an array, or a generator handing out its items one at a
 * time (comparisonView: the state's copy of a graph is never held whole).
 */
function listOf(v: unknown): Iterable<unknown> | undefined {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object' && Symbol.iterator in v && 'next' in v) return v as Iterable<unknown>;
  return undefined;
}

/** Writes graph.json as the action and the CLI publish it: indented, redacted, newline-terminated. */
export async function writeGraphFile(
  path: string,
  graph: object,
  redact: (json: string) => string,
): Promise<void> {
  await writeFile(path, jsonPieces(graph, redact, true));
}
