// Sharding splits one inventory over several jobs. A repository's shard is decided by a hash of
// its provider and name only, so every job agrees without talking to the others, and a repository
// stays in its shard when others come and go. Shards are numbered 1..n, as a matrix `[1, 2, 3]`.
import { createHash } from 'node:crypto';

export interface Shard {
  /** 1-based */
  index: number;
  count: number;
}

/** More shards than this is more jobs than any registry needs; it also catches `1/10000` typos. */
export const MAX_SHARDS = 256;

export function formatShard(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/** `field` names the input or flag in the message (`inputs.shard`, `--shard`). */
export function parseShard(raw: string, field: string): { shard: Shard } | { error: string } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || index < 1 || count < 1 || index > count || count > MAX_SHARDS) {
    return {
      error: `${field}: expected i/n with 1 ≤ i ≤ n ≤ ${MAX_SHARDS} (shards count from 1, e.g. 2/3), got ${JSON.stringify(raw)}`,
    };
  }
  return { shard: { index, count } };
}

/** The shard (1..count) a repository belongs to. */
export function shardOf(provider: string, repository: string, count: number): number {
  const digest = createHash('sha256').update(`${provider}\u0000${repository}`).digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

export function inShard(provider: string, repository: string, shard: Shard): boolean {
  return shardOf(provider, repository, shard.count) === shard.index;
}
