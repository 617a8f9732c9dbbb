// A finished graph as its readers see it. A discovery run's graph lives on disk while the run
// writes its outputs (entity-spill.ts), a merged or parsed one in memory; readers take entities
// one at a time either way, so none of them needs the whole graph at once.
import {
  type DockerKind,
  type Entity,
  GRAPH_FORMAT,
  type Graph,
  type GraphReceipt,
  type Relation,
  type ShardRecord,
} from '../model/graph.js';

export interface GraphSource {
  readonly format: typeof GRAPH_FORMAT;
  readonly generated_at: string;
  readonly shard?: ShardRecord;
  readonly receipts: GraphReceipt[];
  count(kind: DockerKind): number;
  /** The entities in graph order, each a fresh object the caller may keep; `kinds` picks some. */
  entities(kinds?: readonly DockerKind[]): Iterable<Entity>;
  relations(): Iterable<Relation>;
  /** The whole graph in memory: for the Devgraph upload, which plans over all of it, and tests. */
  load(): Graph;
  /** Frees what holds the entities (a spill file); the source cannot be read after. */
  close(): void;
}

/** A graph already in memory, read as a source. */
export function inMemory(graph: Graph): GraphSource {
  const { format, generated_at, shard, receipts } = graph;
  return {
    format,
    generated_at,
    ...(shard ? { shard } : {}),
    receipts,
    count: (kind) => graph.entities.reduce((n, e) => n + (e.kind === kind ? 1 : 0), 0),
    entities: (kinds) => (kinds ? graph.entities.filter((e) => kinds.includes(e.kind)) : graph.entities),
    relations: () => graph.relations,
    load: () => graph,
    close: () => {},
  };
}

/** A streamed source's whole graph in memory (its `load`), in the order it hands items out. */
export function loadWhole(source: GraphSource): Graph {
  return {
    format: GRAPH_FORMAT,
    generated_at: source.generated_at,
    ...(source.shard ? { shard: source.shard } : {}),
    entities: [...source.entities()],
    relations: [...source.relations()],
    receipts: source.receipts,
  };
}

export function asSource(graph: Graph | GraphSource): GraphSource {
  return 'load' in graph ? graph : inMemory(graph);
}

/**
 * The graph as the object graph.json is written from (jsonPieces), its entities and relations
 * handed out one at a time: same keys in the same order as a Graph, so the same file. `parts`
 * writes other entities or relations in their place (the state's slim comparison copy).
 */
export function graphDocument(
  graph: GraphSource,
  parts: { entities?: Iterable<Entity>; relations?: Iterable<Relation> } = {},
): object {
  return {
    format: GRAPH_FORMAT,
    generated_at: graph.generated_at,
    ...(graph.shard ? { shard: graph.shard } : {}),
    entities: each(parts.entities ?? graph.entities()),
    relations: each(parts.relations ?? graph.relations()),
    receipts: graph.receipts,
  };
}

// jsonPieces writes generators as arrays; an Iterable that is an array passes through as one.
function* each<T>(items: Iterable<T>): Generator<T> {
  yield* items;
}
