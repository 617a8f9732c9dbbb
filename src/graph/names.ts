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
  const list = [...entries];
  for (const { key, raw } of list) {
    if (out.has(key)) continue;
    const full = raw
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '');
    const name = full.length > MAX || full === '' ? hashed(raw, key) : full;
    out.set(key, name);
  }
  const rawOf = new Map(list.map((e) => [e.key, e.raw]));
  // Hash every member of a colliding group. A plain name can still equal another entry's hashed
  // name, so repeat until no two keys share a name; each round only turns plain names into
  // hashed ones, so this ends.
  for (let round = 0; round < 4; round++) {
    const groups = new Map<string, string[]>();
    for (const [key, name] of out) {
      const g = groups.get(name);
      if (g) g.push(key);
      else groups.set(name, [key]);
    }
    let changed = false;
    for (const [name, group] of groups) {
      if (group.length < 2) continue;
      for (const key of group) {
        const h = hashed(rawOf.get(key)!, key);
        const next = h === name ? hashed(rawOf.get(key)!, `${key}\u0000${round}`) : h;
        if (next !== out.get(key)) {
          out.set(key, next);
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return out;
}
