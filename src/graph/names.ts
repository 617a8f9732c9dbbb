// Entity names follow Devgraph's sanitising (reference/devgraph.md §3) so this action and
// Devgraph's own docker provider name the same things the same way, but stay unique: a name
// that had to be cut to 63 characters, or that collides with another after sanitising, gets a
// short hash of the full name.
import { createHash } from 'node:crypto';

const MAX = 63;
const HASH_LENGTH = 8;

/** Devgraph's `s()` (lowercase, [^a-z0-9-] → "-", strip "-" at both ends) before its cut to 63. */
function uncut(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
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

/** One entity's name material: `raw` is what the name is made from, `key` what makes it distinct. */
export interface NameEntry {
  key: string;
  raw: string;
  ns: string;
  /** The entry's name before collisions are settled (plainName), when the caller already holds it. */
  plain?: string;
}

/** The name an entry gets unless a collision renames it. */
export function plainName(raw: string, key: string): string {
  const full = uncut(raw);
  return full.length > MAX || full === '' ? hashed(raw, key) : full;
}

/**
 * Names for the entities of one kind, unique within each namespace. `raw` is what a name is made
 * from (`library/nginx`), `key` what makes the entity distinct (registry + repository), so the
 * same repository in two registries gets two names. Deterministic for the same set; a truncated
 * name is always hashed, so it does not change when other names come and go. Keys must be
 * distinct within a namespace.
 *
 * Only the names that collisions changed are stored; every other name is recomputed when asked
 * for, and `entries` is a function so the caller need not hold them in a list: maps of every key
 * and name outweighed the graph itself.
 */
export class UniqueNames {
  /** `${ns}\0${key}` → name, for the entries a collision renamed. */
  private readonly renamed = new Map<string, string>();

  constructor(entries: () => Iterable<NameEntry>) {
    const counts = new Map<string, Map<string, number>>();
    for (const e of entries()) {
      let inNs = counts.get(e.ns);
      if (!inNs) {
        inNs = new Map();
        counts.set(e.ns, inNs);
      }
      const name = e.plain ?? plainName(e.raw, e.key);
      inNs.set(name, (inNs.get(name) ?? 0) + 1);
    }
    // Hash every member of a colliding group. A plain name can still equal another entry's hashed
    // name, so repeat until no two keys share a name; each round only turns plain names into
    // hashed ones, so this ends. Groups are gathered only for names counted twice or more, and
    // a key listed twice is one member, not a collision.
    for (let round = 0; round < 4; round++) {
      const groups = new Map<string, Map<string, NameEntry>>();
      for (const e of entries()) {
        const name = this.current(e);
        if (counts.get(e.ns)!.get(name)! < 2) continue;
        const at = `${e.ns}\u0000${name}`;
        let group = groups.get(at);
        if (!group) {
          group = new Map();
          groups.set(at, group);
        }
        if (!group.has(e.key)) group.set(e.key, e);
      }
      const nameOf = (at: string) => at.slice(at.indexOf('\u0000') + 1);
      for (const [at, group] of groups)
        counts.get(group.values().next().value!.ns)!.set(nameOf(at), group.size);
      let moved = false;
      for (const [at, group] of groups) {
        if (group.size < 2) continue;
        const name = nameOf(at);
        for (const e of group.values()) {
          const inNs = counts.get(e.ns)!;
          const h = hashed(e.raw, e.key);
          const to = h === name ? hashed(e.raw, `${e.key}\u0000${round}`) : h;
          if (to === name) continue;
          inNs.set(name, inNs.get(name)! - 1);
          inNs.set(to, (inNs.get(to) ?? 0) + 1);
          this.renamed.set(`${e.ns}\u0000${e.key}`, to);
          moved = true;
        }
      }
      if (!moved) break;
    }
  }

  /** How many names collisions changed; with none, every name is its plainName. */
  get renames(): number {
    return this.renamed.size;
  }

  /** get() for an entry, reading its key only once something was renamed (it may be costly). */
  private current(e: NameEntry): string {
    if (this.renamed.size > 0) return this.get(e.ns, e.key, e.raw, e.plain);
    return e.plain ?? plainName(e.raw, e.key);
  }

  get(ns: string, key: string, raw: string, plain?: string): string {
    return (this.renamed.size > 0 && this.renamed.get(`${ns}\u0000${key}`)) || (plain ?? plainName(raw, key));
  }
}
