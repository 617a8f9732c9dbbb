// A built graph whose entities wait in a spill file, and the little kept in memory to sort and
// relate them: per entity its kind, namespace, name and place in the file; per relation its type
// and two entity numbers: typed-array columns hold a fraction of what an object per entity and
// per relation would.

import {
  API_VERSION,
  type DockerKind,
  type Entity,
  type EntityRef,
  GRAPH_FORMAT,
  type Graph,
  type GraphReceipt,
  type Relation,
  type ShardRecord,
} from '../model/graph.js';
import type { EntitySpill } from './entity-spill.js';
import { type GraphSource, loadWhole } from './graph-source.js';

export type Numbers = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/** A growing list of numbers in a typed array: 1 to 8 bytes an item, where a JS array takes 8 or more. */
export class Column<A extends Numbers> {
  private data: A;
  length = 0;

  constructor(private readonly make: (size: number) => A) {
    this.data = make(1024);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = this.make(this.data.length * 2);
      (grown as Float64Array).set(this.data as Float64Array);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  at(i: number): number {
    return this.data[i]!;
  }

  set(i: number, value: number): void {
    this.data[i] = value;
  }
}

export const KINDS: readonly DockerKind[] = [
  'DockerRegistry',
  'DockerRepository',
  'DockerImage',
  'DockerManifest',
];
const RELATIONS: readonly Relation['relation'][] = ['BELONGS_TO', 'REFERS_TO', 'USES'];

/**
 * The entities of a graph by number, 0, 1, 2… in the order they were added, each stored in the
 * spill. A relation may also name an entity that is not in the graph (a manifest an image uses
 * that discovery did not keep); such a `dangling` one is numbered -1, -2…
 */
export class EntityTable {
  private readonly kinds = new Column((n) => new Uint8Array(n));
  private readonly namespaces: string[] = [];
  private readonly names: string[] = [];
  // Float64: a spill past 4 GB (some 1.3 million images) still has exact offsets.
  private readonly offsets = new Column((n) => new Float64Array(n));
  private readonly lengths = new Column((n) => new Uint32Array(n));
  private readonly dangling: EntityRef[] = [];

  constructor(readonly spill: EntitySpill) {}

  get size(): number {
    return this.names.length;
  }

  /** Spills `json` (one entity) and numbers it. */
  add(kind: DockerKind, namespace: string, name: string, json: string): number {
    const { offset, length } = this.spill.append(json);
    this.kinds.push(KINDS.indexOf(kind));
    this.namespaces.push(namespace);
    this.names.push(name);
    this.offsets.push(offset);
    this.lengths.push(length);
    return this.names.length - 1;
  }

  addDangling(kind: DockerKind, namespace: string, name: string): number {
    this.dangling.push({ apiVersion: API_VERSION, kind, name, namespace });
    return -this.dangling.length;
  }

  kind(id: number): DockerKind {
    return id < 0 ? this.dangling[-id - 1]!.kind : KINDS[this.kinds.at(id)]!;
  }

  namespace(id: number): string {
    return id < 0 ? this.dangling[-id - 1]!.namespace : this.namespaces[id]!;
  }

  name(id: number): string {
    return id < 0 ? this.dangling[-id - 1]!.name : this.names[id]!;
  }

  rename(id: number, name: string): void {
    this.names[id] = name;
  }

  /**
   * Spills a new text for entity `id`, of the same kind and name, for facts known only after it was
   * added; the old text stays in the file, unread.
   */
  replace(id: number, json: string): void {
    const { offset, length } = this.spill.append(json);
    this.offsets.set(id, offset);
    this.lengths.set(id, length);
  }

  ref(id: number): EntityRef {
    return {
      apiVersion: API_VERSION,
      kind: this.kind(id),
      name: this.name(id),
      namespace: this.namespace(id),
    };
  }

  /** Entity `id` as it was spilled, with its name as it is now. */
  read(id: number): Entity {
    const e = JSON.parse(this.spill.read(this.offsets.at(id), this.lengths.at(id))) as Entity;
    // A collision may have renamed it after it was spilled.
    e.metadata.name = this.names[id]!;
    return e;
  }

  /**
   * Takes out every entity `gone` picks (a deletion the run itself made), closing the gaps so
   * every other part of the table goes on numbering from 0. Returns each old number's new one, -1
   * for those taken out, for RelationTable.renumber. Dangling numbers do not change. Their text
   * stays in the spill, never read again.
   */
  remove(gone: (id: number) => boolean): Int32Array {
    const moved = new Int32Array(this.size);
    let kept = 0;
    for (let id = 0; id < this.size; id++) {
      if (gone(id)) {
        moved[id] = -1;
        continue;
      }
      moved[id] = kept;
      if (kept !== id) {
        this.kinds.set(kept, this.kinds.at(id));
        this.namespaces[kept] = this.namespaces[id]!;
        this.names[kept] = this.names[id]!;
        this.offsets.set(kept, this.offsets.at(id));
        this.lengths.set(kept, this.lengths.at(id));
      }
      kept++;
    }
    this.kinds.length = kept;
    this.offsets.length = kept;
    this.lengths.length = kept;
    this.namespaces.length = kept;
    this.names.length = kept;
    return moved;
  }

  /** Graph order (compareEntities): kind, namespace, name. */
  compare(a: number, b: number): number {
    return (
      cmp(this.kind(a), this.kind(b)) ||
      cmp(this.namespace(a), this.namespace(b)) ||
      cmp(this.name(a), this.name(b))
    );
  }
}

/** Relations as entity numbers; the namespace of a relation is its source's. */
export class RelationTable {
  private readonly types = new Column((n) => new Uint8Array(n));
  // Entity numbers, negative for dangling ones.
  private readonly sources = new Column((n) => new Int32Array(n));
  private readonly targets = new Column((n) => new Int32Array(n));

  get size(): number {
    return this.types.length;
  }

  add(relation: Relation['relation'], source: number, target: number): void {
    this.types.push(RELATIONS.indexOf(relation));
    this.sources.push(source);
    this.targets.push(target);
  }

  /**
   * Follows EntityTable.remove: a relation with an end taken out goes too, the others name their
   * entities by the new numbers. Returns how many went.
   */
  renumber(moved: Int32Array): number {
    // Undefined for an end taken out; a dangling end keeps its (negative) number.
    const to = (id: number) => (id < 0 ? id : moved[id] === -1 ? undefined : moved[id]);
    let kept = 0;
    for (let i = 0; i < this.size; i++) {
      const source = to(this.sources.at(i));
      const target = to(this.targets.at(i));
      if (source === undefined || target === undefined) continue;
      this.types.set(kept, this.types.at(i));
      this.sources.set(kept, source);
      this.targets.set(kept, target);
      kept++;
    }
    const gone = this.size - kept;
    this.types.length = kept;
    this.sources.length = kept;
    this.targets.length = kept;
    return gone;
  }

  relation(i: number): Relation['relation'] {
    return RELATIONS[this.types.at(i)]!;
  }

  source(i: number): number {
    return this.sources.at(i);
  }

  target(i: number): number {
    return this.targets.at(i);
  }
}

export interface SpilledParts {
  entities: EntityTable;
  relations: RelationTable;
  receipts: GraphReceipt[];
  generatedAt: string;
  shard?: ShardRecord;
}

/** A built graph read from its spill; `close` removes the file. */
export class SpilledGraph implements GraphSource {
  readonly format = GRAPH_FORMAT;
  readonly generated_at: string;
  // Declared, not defined: a graph that is no shard has no `shard` member at all, as a Graph has none.
  declare readonly shard?: ShardRecord;
  readonly receipts: GraphReceipt[];
  private readonly table: EntityTable;
  private readonly links: RelationTable;
  /** Entity and relation numbers in graph order. */
  private readonly entityOrder: Uint32Array;
  private readonly relationOrder: Uint32Array;
  private readonly counts = new Map<DockerKind, number>();

  constructor(parts: SpilledParts) {
    this.table = parts.entities;
    this.links = parts.relations;
    this.receipts = parts.receipts;
    this.generated_at = parts.generatedAt;
    if (parts.shard) this.shard = parts.shard;
    const table = this.table;
    this.entityOrder = numbers(table.size).sort((a, b) => table.compare(a, b));
    this.relationOrder = numbers(this.links.size).sort((a, b) => this.compareRelations(a, b));
    for (let id = 0; id < table.size; id++) {
      const kind = table.kind(id);
      this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    }
  }

  count(kind: DockerKind): number {
    return this.counts.get(kind) ?? 0;
  }

  *entities(kinds?: readonly DockerKind[]): Generator<Entity> {
    for (const id of this.entityOrder) {
      if (kinds && !kinds.includes(this.table.kind(id))) continue;
      yield this.table.read(id);
    }
  }

  *relations(): Generator<Relation> {
    const { table, links } = this;
    for (const i of this.relationOrder) {
      const source = links.source(i);
      yield {
        namespace: table.namespace(source),
        relation: links.relation(i),
        source: table.ref(source),
        target: table.ref(links.target(i)),
      };
    }
  }

  load(): Graph {
    return loadWhole(this);
  }

  close(): void {
    this.table.spill.close();
  }

  /** compareRelations (build-graph.ts), by numbers. */
  private compareRelations(a: number, b: number): number {
    const { table, links } = this;
    const sa = links.source(a);
    const sb = links.source(b);
    const ta = links.target(a);
    const tb = links.target(b);
    return (
      cmp(links.relation(a), links.relation(b)) ||
      cmp(table.kind(sa), table.kind(sb)) ||
      cmp(table.namespace(sa), table.namespace(sb)) ||
      cmp(table.name(sa), table.name(sb)) ||
      cmp(table.kind(ta), table.kind(tb)) ||
      cmp(table.name(ta), table.name(tb))
    );
  }
}

function numbers(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
