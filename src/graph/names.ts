// Entity names follow Devgraph's sanitising (reference/devgraph.md §3) so this action and
// Devgraph's own docker provider name the same things the same way, but stay unique: a name
// that had to be cut to 63 characters, or that collides with another after sanitising, gets a
// short hash of the full name.
import { createHash } from 'node:crypto';

const MAX = 63;
const HASH_LENGTH = 8;

/** Devgraph's `s()`: lowercase, [^a-z0-9-] → "-", strip "-" at both ends, cut to 63. */
export function sanitize(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX);
}

function hashed(raw: string, key: string): string {
  const suffix = createHash('sha256').update(key).digest('hex').slice(0, HASH_LENGTH);
  const base = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+/, '')
    .slice(0, MAX - HASH_LENGTH - 1)
    .replace(/-+$/, '');
  return base ? `${base}-${suffix}` : suffix;
}

/**
 * Names for the entities of one kind in one namespace. `raw` is what the name is made from
 * (`library/nginx`), `key` what makes the entity distinct (registry + repository), so the same
 * repository in two registries gets two names. Deterministic for the same set; a truncated name
 * is always hashed, so it does not change when other names come and go.
 */
export function uniqueNames(entries: Iterable<{ key: string; raw: string }>): Map<string, string> {
  const out = new Map<string, string>();
  const byName = new Map<string, string[]>();
  const list = [...entries];
  for (const { key, raw } of list) {
    if (out.has(key)) continue;
    const full = raw
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '');
    const name = full.length > MAX || full === '' ? hashed(raw, key) : full;
    out.set(key, name);
    const group = byName.get(name);
    if (group) group.push(key);
    else byName.set(name, [key]);
  }
  const rawOf = new Map(list.map((e) => [e.key, e.raw]));
  for (const [, group] of byName) {
    if (group.length > 1) for (const key of group) out.set(key, hashed(rawOf.get(key)!, key));
  }
  return out;
}
