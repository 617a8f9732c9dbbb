// Sharding splits one inventory over several jobs. A repository's shard is decided by a hash of
// its provider and name only, so every job agrees without talking to the others, and a repository
// stays in its shard when others come and go. Shards are numbered 1..n, as a matrix `[1, 2, 3]`.
import { createHash } from 'node:crypto';
import { DISCOVERY_SOURCE, type Entity, type Graph, type ShardRecord } from './types.js';

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

/** A shard's graph: the shard record after `generated_at`, and each receipt naming its shard. */
export function markShard(graph: Graph, record: ShardRecord): Graph {
  const { format, generated_at, entities, relations, receipts } = graph;
  const shard = formatShard(record);
  return {
    format,
    generated_at,
    shard: record,
    entities,
    relations,
    receipts: receipts.map((r) => ({ ...r, shard })),
  };
}

/**
 * The part of a graph one shard would have discovered: every registry, and the repositories (with
 * their images, manifests and receipts) of that shard. A shard compares itself with this, so the
 * other shards' repositories are not reported as removed.
 */
export function restrictToShard(graph: Graph, shard: Shard): Graph {
  const mine = (provider: string, repository: unknown) =>
    typeof repository === 'string' && inShard(provider, repository, shard);
  const keep = (e: Entity) =>
    e.kind === 'DockerRegistry' ||
    mine(
      e.metadata.annotations?.[DISCOVERY_SOURCE] ?? '',
      e.kind === 'DockerRepository' ? e.spec.full_name : e.spec.repository,
    );
  const entities = graph.entities.filter(keep);
  const kept = new Set(entities.map((e) => `${e.kind}\u0000${e.metadata.namespace}\u0000${e.metadata.name}`));
  return {
    ...graph,
    entities,
    relations: graph.relations.filter((r) =>
      kept.has(`${r.source.kind}\u0000${r.source.namespace}\u0000${r.source.name}`),
    ),
    receipts: graph.receipts.filter((r) => r.repository === '*' || mine(r.provider, r.repository)),
  };
}
