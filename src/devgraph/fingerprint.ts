// Devgraph's providers decide whether an entity changed by a fingerprint annotation: sha256 of
// Python's `json.dumps({"spec": spec minus None, "labels": labels}, sort_keys=True)`
// (reference/devgraph.md §2.3). We reproduce that text byte for byte, so a run of this action
// and a run of a Devgraph-hosted docker provider agree on what is unchanged and do not rewrite
// each other's entities.
import { createHash } from 'node:crypto';

export const FINGERPRINT_ANNOTATION = 'fingerprint';

export function fingerprint(spec: Record<string, unknown>, labels: Record<string, string>): string {
  const kept = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== null && v !== undefined));
  return createHash('sha256')
    .update(pythonJsonDumps({ spec: kept, labels }), 'utf8')
    .digest('hex');
}

/**
 * `json.dumps(value, sort_keys=True)` with Python's defaults: `", "` and `": "` separators and
 * ensure_ascii (everything outside printable ASCII as lowercase `\uXXXX`, astral characters as
 * surrogate pairs). Numbers are written the way Python writes the int they hold; a fractional
 * number uses JavaScript's shortest form, which matches Python's repr except for exponents.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return String(value);
  }
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map((v) => pythonJsonDumps(v)).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      // JSON drops undefined members; Python never sees them.
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => compareCodePoints(a, b));
    return `{${entries.map(([k, v]) => `${pythonString(k)}: ${pythonJsonDumps(v)}`).join(', ')}}`;
  }
  return pythonString(String(value));
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

function pythonString(s: string): string {
  let out = '"';
  // Iterating UTF-16 code units gives astral characters as their surrogate pair, as Python does.
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/** Python sorts str keys by code point; JavaScript's default sort compares UTF-16 units. */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
