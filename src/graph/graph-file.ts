// A graph.json read into a SpilledGraph as its bytes arrive: the entities go to a spill file, the
// little kept in memory is what spilled-graph.ts keeps for a discovery's graph. A merged or
// downloaded graph is then read like the graph of a run, one entity at a time.
import { open } from 'node:fs/promises';
import { EntitySpill } from './entity-spill.js';
import { readGraphStream } from './graph-reader.js';
import { EntityTable, RelationTable, SpilledGraph } from './spilled-graph.js';
import type { EntityRef, GraphReceipt, ShardRecord } from './types.js';

const KINDS = new Set<string>(['DockerRegistry', 'DockerRepository', 'DockerImage', 'DockerManifest']);

/**
 * The graph file at `path`: `unreadable` with the error code when the file cannot be read,
 * `error` when its content is not a graph. The caller closes the graph (its spill file).
 */
export async function readGraphFile(
  path: string,
): Promise<{ graph: SpilledGraph } | { unreadable: string } | { error: string }> {
  const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path);
  } catch (err) {
    return { unreadable: code(err) };
  }
  const entities = new EntityTable(new EntitySpill());
  const relations = new RelationTable();
  const receipts: GraphReceipt[] = [];
  let problem: string | undefined;
  let count = 0;
  // Entity numbers by kind, namespace and name, made when the first relation needs them.
  let ids: Map<string, number> | undefined;
  const key = (kind: string, namespace: string, name: string) => `${kind}\u0000${namespace}\u0000${name}`;
  const idOf = (ref: EntityRef): number => {
    if (!ids) {
      ids = new Map();
      for (let id = 0; id < entities.size; id++)
        ids.set(key(entities.kind(id), entities.namespace(id), entities.name(id)), id);
    }
    return (
      ids.get(key(ref.kind, ref.namespace, ref.name)) ??
      entities.addDangling(ref.kind, ref.namespace, ref.name)
    );
  };
  let read: Awaited<ReturnType<typeof readGraphStream>>;
  try {
    read = await readGraphStream(file.createReadStream({ autoClose: false }), {
      entity: (e) => {
        const at = count++;
        if (problem) return;
        if (!KINDS.has(e.kind)) {
          problem = `entities[${at}] has kind ${JSON.stringify(e.kind)}, not a Docker kind`;
          return;
        }
        entities.add(e.kind, e.metadata.namespace, e.metadata.name, JSON.stringify(e));
      },
      relation: (r) => {
        if (problem) return;
        if (!KINDS.has(r.source.kind) || !KINDS.has(r.target.kind)) {
          problem = `a relation joins ${r.source.kind} and ${r.target.kind}, not two Docker kinds`;
          return;
        }
        relations.add(r.relation, idOf(r.source), idOf(r.target));
      },
      receipt: (r) => {
        receipts.push(r);
      },
    });
  } catch (err) {
    entities.spill.close();
    return { unreadable: code(err) };
  } finally {
    await file.close().catch(() => undefined);
  }
  if ('error' in read || problem) {
    entities.spill.close();
    return { error: 'error' in read ? read.error : problem! };
  }
  const shard = read.shard && typeof read.shard === 'object' ? (read.shard as ShardRecord) : undefined;
  return {
    graph: new SpilledGraph({
      entities,
      relations,
      receipts,
      generatedAt: typeof read.generatedAt === 'string' ? read.generatedAt : '',
      ...(shard ? { shard } : {}),
    }),
  };
}
