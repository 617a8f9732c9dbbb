// Shard graphs → the graph one unsharded run would have written, byte for byte. Pure.
//
// What makes that possible:
// - every shard lists every registry and writes every DockerRegistry entity, so those are taken
//   from one shard (and checked to be equal in all);
// - each repository is in exactly one shard, with its receipt, images and manifests;
// - entity names are made unique over the whole set (names.ts), so a name a shard chose may
//   differ from the unsharded one when a colliding name is in another shard: every entity is
//   renamed from its (provider, repository, tag/digest) key over the union, as GraphBuilder does;
// - a registry-level receipt ("*", written only when the listing failed) is combined over the
//   shards: incomplete if any shard's listing was;
// - `generated_at` is the latest of the shards': the graph is as fresh as its last shard.
// - storage: a shard cannot know which blobs other shards' repositories share, so its entities
//   carry no `storage` and each repository's receipt carries the digests it references
//   (`storage_blobs`); they are counted here over every shard, as an unsharded run counts them,
//   and written into the merged DockerRegistry and DockerRepository entities.
// The shard record and the receipts' `shard` and `storage_blobs` fields are dropped: the merged
// graph is not a shard.
// Read as streams: each shard's entities are taken one at a time and copied to the merged graph's
// spill (entity-spill.ts), so neither the shards nor the merged graph are held whole.

import { z } from 'zod';
import {
  DISCOVERY_SOURCE,
  type EntityRef,
  type Graph,
  type GraphReceipt,
  type ShardRecord,
} from '../model/graph.js';
import { amendSpec, compareReceipts, entityIdentity, nameKeys, settleNames } from './build-graph.js';
import { EntitySpill } from './entity-spill.js';
import { asSource, type GraphSource } from './graph-source.js';
import { plainName } from './names.js';
import { formatShard, shardOf } from './shard.js';
import { Column, EntityTable, RelationTable, SpilledGraph } from './spilled-graph.js';
import { BlobLedger, RunStorage, STORAGE_ROW } from './storage-ledger.js';

export interface ShardGraphFile {
  /** Where the graph came from (a path), for messages. */
  source: string;
  /** The shard's graph, in memory or read from its file (graph-file.ts). */
  graph: Graph | GraphSource;
}

export interface MergedGraph {
  /** The merged graph; its entities wait in a spill file until `close()`. */
  graph: GraphSource;
  /** The config hash every shard was written with. */
  config: string;
  count: number;
  /** Requests by kind, summed over the shards. */
  requests: Record<string, number>;
  /** The shards' provider notes, each once, in shard order. */
  notes: string[];
}

export interface MergeOptions {
  /** When set, the shards must have been written with this config hash. */
  expectedConfig?: string;
}

const SEP = '\u0000';

interface ShardSource {
  source: string;
  graph: GraphSource;
}

export function mergeShardGraphs(
  files: ShardGraphFile[],
  opts: MergeOptions = {},
): MergedGraph | { problems: string[] } {
  const checked = checkShardSet(
    files.map((f) => ({ source: f.source, graph: asSource(f.graph) })),
    opts,
  );
  if ('problems' in checked) return checked;
  const { ordered, config, count } = checked;
  const unnamed: string[] = [];
  const overlaps: string[] = [];
  const problems: string[] = [];
  const differ: string[] = [];

  // Every entity gets the name it has when nothing collides (plainName of its key over every
  // shard), then settleNames renames the colliding ones over the union, as GraphBuilder does.
  const entities = new EntityTable(new EntitySpill());
  const relations = new RelationTable();
  // Which shard (index into `ordered`) each entity came from, for the overlap check.
  const from = new Column((n) => new Uint16Array(n));
  const namespaces = new Map<string, string>();
  const registryIds = new Map<string, number>();
  // Where the storage fields go: each provider's DockerRegistry, each DockerRepository by its key.
  const storageIds: StorageIds = { registries: new Map(), repositories: new Map() };
  let registryText: string | undefined;
  const receipts: GraphReceipt[] = [];
  const blobs: ReceiptBlobs[] = [];
  const registryReceipts = new Map<string, GraphReceipt>();
  ordered.forEach(({ source, graph }, s) => {
    // Names are unique per (kind, namespace) within a shard, so this map is this shard's renaming.
    const renamed = new Map<string, number>();
    const registries: string[] = [];
    let i = 0;
    for (const e of graph.entities()) {
      const at = i++;
      // One string per namespace: each parsed entity carries a copy of its own.
      const ns = namespaces.get(e.metadata.namespace) ?? e.metadata.namespace;
      namespaces.set(ns, ns);
      if (e.kind === 'DockerRegistry') {
        const text = JSON.stringify(e);
        registries.push(text);
        // Every shard writes every registry: the first shard's are the merged graph's.
        if (s === 0) {
          const added = entities.add(e.kind, ns, e.metadata.name, text);
          registryIds.set(`${ns}${SEP}${e.metadata.name}`, added);
          storageIds.registries.set(e.metadata.annotations?.[DISCOVERY_SOURCE] ?? '', added);
          from.push(s);
        }
        continue;
      }
      const id = entityIdentity(e);
      if (!id) {
        unnamed.push(`${source}: entities[${at}] (${e.kind} ${e.metadata.name}) ${unnamable}`);
        continue;
      }
      from.push(s);
      const added = entities.add(e.kind, ns, plainName(id.raw, id.key), JSON.stringify(e));
      renamed.set(`${e.kind}${SEP}${ns}${SEP}${e.metadata.name}`, added);
      if (e.kind === 'DockerRepository') storageIds.repositories.set(id.key, added);
    }
    const text = `[${registries.join(',')}]`;
    if (s === 0) registryText = text;
    else if (text !== registryText)
      differ.push(
        `${source} and ${ordered[0]!.source} describe different registries (DockerRegistry entities differ) although their config hash is the same`,
      );
    const shard = graph.shard!;
    for (const { shard: _, storage_blobs, ...r } of graph.receipts) {
      if (r.repository === '*') {
        const seen = registryReceipts.get(r.provider);
        registryReceipts.set(r.provider, seen ? combineRegistryReceipts(seen, r) : r);
        continue;
      }
      // Receipts say which repositories a shard discovered; one outside its shard means another partition.
      const belongs = shardOf(r.provider, r.repository, count);
      if (belongs !== shard.index)
        problems.push(
          `${source} (shard ${formatShard(shard)}) has a receipt for ${r.provider} ${r.repository}, which belongs to shard ${belongs}/${count}; was it written by another version of devgraph-docker?`,
        );
      receipts.push(r);
      blobs.push({ source, receipt: r, blobs: storage_blobs });
    }
    if (unnamed.length > 0) return;
    // A relation names entities as its shard named them; one the shard does not hold (a manifest
    // an image uses that discovery did not keep) keeps its name, as in the unsharded graph.
    const idOf = (ref: EntityRef): number =>
      renamed.get(`${ref.kind}${SEP}${ref.namespace}${SEP}${ref.name}`) ??
      (ref.kind === 'DockerRegistry' ? registryIds.get(`${ref.namespace}${SEP}${ref.name}`) : undefined) ??
      entities.addDangling(ref.kind, ref.namespace, ref.name);
    for (const r of graph.relations()) relations.add(r.relation, idOf(r.source), idOf(r.target));
  });
  if (unnamed.length === 0) overlaps.push(...overlapping(entities, from, ordered));
  const all = [...unnamed, ...overlaps, ...problems, ...differ];
  if (all.length > 0) {
    entities.spill.close();
    return { problems: all };
  }

  const storageProblems = writeStorage(entities, storageIds, ordered, blobs, [...registryReceipts.values()]);
  if (storageProblems.length > 0) {
    entities.spill.close();
    return { problems: storageProblems };
  }
  settleNames(entities);
  receipts.push(...registryReceipts.values());
  receipts.sort(compareReceipts);

  const requests: Record<string, number> = {};
  const notes: string[] = [];
  for (const { graph } of ordered) {
    for (const [kind, n] of Object.entries(graph.shard!.requests)) requests[kind] = (requests[kind] ?? 0) + n;
    for (const note of graph.shard!.notes) if (!notes.includes(note)) notes.push(note);
  }
  const generatedAt = ordered
    .map((f) => f.graph.generated_at)
    .reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
  return {
    graph: new SpilledGraph({ entities, relations, receipts, generatedAt }),
    config,
    count,
    requests: Object.fromEntries(Object.entries(requests).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    notes,
  };
}

interface ReceiptBlobs {
  source: string;
  receipt: GraphReceipt;
  blobs: unknown;
}

interface StorageIds {
  /** DockerRegistry by provider. */
  registries: Map<string, number>;
  /** DockerRepository by nameKeys.repository key. */
  repositories: Map<string, number>;
}

const storageBlobsSchema = z
  .object({
    partial: z.boolean(),
    tagged: z.array(z.string().regex(STORAGE_ROW)),
    untagged: z.array(z.string().regex(STORAGE_ROW)).optional(),
  })
  .strict();

/**
 * Counts every shard's repositories in one ledger per registry and writes the `storage` of each
 * DockerRegistry and DockerRepository (amendSpec, as GraphBuilder.amend does in an unsharded run).
 * Shards whose record does not say `storage_blobs` (graphs built without a discovery run) leave
 * storage out, as their unsharded graph does. Where they say it, a repository receipt without
 * `storage_blobs` or with rows that are not `<digest> <bytes>` is a problem: its figures, and its
 * registry's, would be wrong without a word.
 */
function writeStorage(
  entities: EntityTable,
  ids: StorageIds,
  ordered: ShardSource[],
  receipts: ReceiptBlobs[],
  listings: GraphReceipt[],
): string[] {
  const counted = ordered.filter((f) => f.graph.shard!.storage_blobs === true);
  if (counted.length === 0) return [];
  if (counted.length < ordered.length) {
    const without = ordered.filter((f) => !counted.includes(f)).map((f) => f.source);
    return [
      `${without.join(', ')}: no storage_blobs, where the other shards have them; give the shard graphs of one run, written by one version of devgraph-docker`,
    ];
  }
  const problems: string[] = [];
  const storage = new RunStorage(ids.registries.keys(), () => new BlobLedger());
  for (const { source, receipt, blobs } of receipts) {
    const parsed = storageBlobsSchema.safeParse(blobs);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problems.push(
        `${source}: the receipt of ${receipt.provider} ${receipt.repository} has ${blobs === undefined ? 'no storage_blobs' : `storage_blobs that are not {partial, tagged, untagged} with "<digest> <bytes>" rows (${issue?.path.join('.')}: ${issue?.message})`}; give shard graphs written by devgraph-docker`,
      );
    } else if (!ids.registries.has(receipt.provider))
      problems.push(
        `${source}: the receipt of ${receipt.provider} ${receipt.repository} names a provider that no DockerRegistry of the shards has`,
      );
    else storage.of(receipt.provider).addBlobs(receipt.provider, receipt.repository, parsed.data);
  }
  if (problems.length > 0) return problems;
  for (const f of storage.finish(listings)) {
    const id =
      f.repository === undefined
        ? ids.registries.get(f.provider)
        : ids.repositories.get(nameKeys.repository(f.provider, f.repository).key);
    // A repository whose entity no shard holds has nothing to write to; its bytes still count.
    if (id !== undefined) amendSpec(entities, id, 'storage', f.storage);
  }
  return [];
}

/**
 * Entities that more than one shard holds (the same kind, namespace and key). Such two have the
 * same plain name, so only runs of equal names in graph order are read back and compared.
 */
function overlapping(entities: EntityTable, from: Column<Uint16Array>, ordered: ShardSource[]): string[] {
  const order = Array.from({ length: entities.size }, (_, i) => i).sort((a, b) => entities.compare(a, b));
  const problems: string[] = [];
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && entities.compare(order[start]!, order[end]!) === 0) end++;
    if (end - start > 1) {
      const holders = new Map<string, number>();
      for (const id of order.slice(start, end).sort((a, b) => a - b)) {
        const key = entityIdentity(entities.read(id))?.key ?? '';
        const other = holders.get(key);
        if (other === undefined) holders.set(key, id);
        else
          problems.push(
            `${ordered[from.at(other)]!.source} and ${ordered[from.at(id)]!.source} both hold ${entities.kind(id)} ${entities.namespace(id)}/${entities.name(id)}: the shards overlap`,
          );
      }
    }
    start = end;
  }
  return problems;
}

const unnamable =
  'lacks the discovery-source annotation or the spec fields its name is made from; give graphs written by devgraph-docker';

/** Any shard whose listing failed makes the registry incomplete; every reason is kept once. */
function combineRegistryReceipts(a: GraphReceipt, b: GraphReceipt): GraphReceipt {
  return {
    ...a,
    complete: a.complete && b.complete,
    tags_listed: Math.max(a.tags_listed, b.tags_listed),
    tags_selected: Math.max(a.tags_selected, b.tags_selected),
    pages: Math.max(a.pages, b.pages),
    requests: Math.max(a.requests, b.requests),
    errors: [...a.errors, ...b.errors.filter((e) => !a.errors.includes(e))],
  };
}

/** Every graph a shard of one config and one n, each shard exactly once; ordered by shard. */
function checkShardSet(
  files: ShardSource[],
  opts: MergeOptions,
): { ordered: ShardSource[]; config: string; count: number } | { problems: string[] } {
  if (files.length === 0) return { problems: ['merge: give the graph.json of every shard'] };
  const problems: string[] = [];
  const shards: Array<ShardSource & { shard: ShardRecord }> = [];
  for (const f of files) {
    const s = f.graph.shard;
    if (!isShardRecord(s)) {
      problems.push(
        `${f.source} is not a shard graph (it has no valid "shard" record); merge takes the graphs written with --shard i/n (input shard), all of them`,
      );
    } else shards.push({ ...f, shard: s });
  }
  if (problems.length > 0) return { problems };

  const byConfig = groupBy(shards, (f) => f.shard.config);
  if (byConfig.size > 1) {
    const groups = [...byConfig].map(
      ([config, list]) =>
        `config ${config}: ${list.map((f) => `${f.source} (${formatShard(f.shard)})`).join(', ')}`,
    );
    problems.push(
      `the shard graphs come from different configs (${groups.join('; ')}); merge only the shards of one run of one config`,
    );
  }
  const config = shards[0]!.shard.config;
  if (byConfig.size === 1 && opts.expectedConfig !== undefined && config !== opts.expectedConfig)
    problems.push(
      `the shard graphs were written with config ${config}, but this config hashes to ${opts.expectedConfig}; merge with the config the shards ran with (or none)`,
    );
  const byCount = groupBy(shards, (f) => String(f.shard.count));
  if (byCount.size > 1) {
    const groups = [...byCount].map(
      ([n, list]) => `${list.map((f) => `${f.source} (${formatShard(f.shard)})`).join(', ')} of ${n}`,
    );
    problems.push(
      `the shard graphs split the inventory differently (${groups.join('; ')}); merge the shards of one run, all with the same n`,
    );
  }
  if (problems.length > 0) return { problems };

  const count = shards[0]!.shard.count;
  const byIndex = groupBy(shards, (f) => String(f.shard.index));
  for (const [index, list] of byIndex) {
    if (list.length > 1)
      problems.push(
        `shard ${index}/${count} is given ${list.length} times (${list.map((f) => f.source).join(', ')}); give each shard's graph once`,
      );
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(String(i)));
  if (missing.length > 0) {
    problems.push(
      `${missing.length === 1 ? 'shard' : 'shards'} ${missing.map((i) => `${i}/${count}`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (got ${[...byIndex.keys()].map((i) => `${i}/${count}`).join(', ')}); merge needs every shard, or the repositories of the missing ones would be absent (and, on upload, deleted)`,
    );
  }
  if (problems.length > 0) return { problems };
  const ordered = [...shards].sort((a, b) => a.shard.index - b.shard.index);
  return { ordered, config, count };
}

function isShardRecord(s: unknown): s is ShardRecord {
  if (!s || typeof s !== 'object') return false;
  const r = s as Partial<ShardRecord>;
  return (
    Number.isInteger(r.index) &&
    Number.isInteger(r.count) &&
    r.index! >= 1 &&
    r.index! <= r.count! &&
    typeof r.config === 'string' &&
    !!r.requests &&
    typeof r.requests === 'object' &&
    Object.values(r.requests).every((n) => typeof n === 'number') &&
    Array.isArray(r.notes) &&
    r.notes.every((n) => typeof n === 'string')
  );
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
