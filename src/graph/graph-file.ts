// A graph.json read into a GraphSource as its bytes arrive. Its entities and relations go to spill
// files as the text they were read as; what stays in memory is, per item, where it is in its
// spill (and an entity's kind): no names, no parsed objects. A merged or downloaded graph is then
// read like the graph of a run, one entity at a time, in the order the file has them (graph
// order, for a file devgraph-docker wrote).
import { open } from 'node:fs/promises';
import {
  type DockerKind,
  type Entity,
  GRAPH_FORMAT,
  type Graph,
  type GraphReceipt,
  type Relation,
  type ShardRecord,
} from '../model/graph.js';
import { EntitySpill } from './entity-spill.js';
import { readGraphStream } from './graph-reader.js';
import { type GraphSource, loadWhole } from './graph-source.js';
import { Column, KINDS } from './spilled-graph.js';

/** Texts in a spill file, each found again by its place. */
class SpilledList<T> {
  readonly spill = new EntitySpill();
  // Float64: a spill past 4 GB still has exact offsets.
  private readonly offsets = new Column((n) => new Float64Array(n));
  private readonly lengths = new Column((n) => new Uint32Array(n));

  get size(): number {
    return this.offsets.length;
  }

  add(item: T): void {
    const { offset, length } = this.spill.append(JSON.stringify(item));
    this.offsets.push(offset);
    this.lengths.push(length);
  }

  read(i: number): T {
    return JSON.parse(this.spill.read(this.offsets.at(i), this.lengths.at(i))) as T;
  }
}

/** A graph file's content, its entities and relations waiting on disk; `close` removes them. */
export class FileGraph implements GraphSource {
  readonly format = GRAPH_FORMAT;
  readonly receipts: GraphReceipt[] = [];
  // Declared, not defined: a graph that is no shard has no `shard` member at all, as a Graph has none.
  declare readonly shard?: ShardRecord;
  generated_at = '';
  private readonly entityList = new SpilledList<Entity>();
  private readonly kinds = new Column((n) => new Uint8Array(n));
  private readonly relationList = new SpilledList<Relation>();

  addEntity(e: Entity): void {
    this.entityList.add(e);
    this.kinds.push(KINDS.indexOf(e.kind));
  }

  addRelation(r: Relation): void {
    this.relationList.add(r);
  }

  setShard(shard: ShardRecord): void {
    (this as { shard?: ShardRecord }).shard = shard;
  }

  count(kind: DockerKind): number {
    const k = KINDS.indexOf(kind);
    let n = 0;
    for (let i = 0; i < this.kinds.length; i++) if (this.kinds.at(i) === k) n++;
    return n;
  }

  *entities(kinds?: readonly DockerKind[]): Generator<Entity> {
    for (let i = 0; i < this.entityList.size; i++) {
      if (kinds && !kinds.includes(KINDS[this.kinds.at(i)]!)) continue;
      yield this.entityList.read(i);
    }
  }

  *relations(): Generator<Relation> {
    for (let i = 0; i < this.relationList.size; i++) yield this.relationList.read(i);
  }

  load(): Graph {
    return loadWhole(this);
  }

  close(): void {
    this.entityList.spill.close();
    this.relationList.spill.close();
  }
}

const KIND_SET = new Set<string>(KINDS);

/**
 * The graph file at `path`: `unreadable` with the error code when the file cannot be read,
 * `error` when its content is not a graph. The caller closes the graph (its spill files).
 */
export async function readGraphFile(
  path: string,
): Promise<{ graph: FileGraph } | { unreadable: string } | { error: string }> {
  const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path);
  } catch (err) {
    return { unreadable: code(err) };
  }
  const graph = new FileGraph();
  let problem: string | undefined;
  let count = 0;
  let read: Awaited<ReturnType<typeof readGraphStream>>;
  try {
    read = await readGraphStream(file.createReadStream({ autoClose: false }), {
      entity: (e) => {
        const at = count++;
        if (problem) return;
        if (!KIND_SET.has(e.kind))
          problem = `entities[${at}] has kind ${JSON.stringify(e.kind)}, not a Docker kind`;
        else graph.addEntity(e);
      },
      relation: (r) => {
        if (problem) return;
        if (!KIND_SET.has(r.source.kind) || !KIND_SET.has(r.target.kind))
          problem = `a relation joins ${r.source.kind} and ${r.target.kind}, not two Docker kinds`;
        else graph.addRelation(r);
      },
      receipt: (r) => {
        graph.receipts.push(r);
      },
    });
  } catch (err) {
    graph.close();
    return { unreadable: code(err) };
  } finally {
    await file.close().catch(() => undefined);
  }
  if ('error' in read || problem) {
    graph.close();
    return { error: 'error' in read ? read.error : problem! };
  }
  graph.generated_at = typeof read.generatedAt === 'string' ? read.generatedAt : '';
  if (read.shard && typeof read.shard === 'object') graph.setShard(read.shard as ShardRecord);
  return { graph };
}
