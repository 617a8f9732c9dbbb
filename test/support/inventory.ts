// A whole, parsed graph made an Inventory at once: the reference the streamed reader
// (readInventory) is held to, and the quickest way for a test to give the comparison a previous
// graph. Production only ever reads an Inventory from a file (read-inventory.ts).
import {
  ConsumableInventory,
  type Inventory,
  InventoryBuilder,
  type RepositoryFilter,
} from '../../src/graph/diff.js';
import type { Graph } from '../../src/model/graph.js';

export function inventoryOf(graph: Graph, keep?: RepositoryFilter): Inventory {
  const builder = new InventoryBuilder(keep);
  for (const e of graph.entities) builder.entity(e);
  for (const r of graph.receipts) builder.receipt(r);
  return builder.finish(graph.generated_at);
}

/** `graph` as the comparison takes a previous graph; undefined stays undefined (a first run). */
export function previousOf(graph: Graph | undefined): ConsumableInventory | undefined {
  return graph && new ConsumableInventory(inventoryOf(graph));
}
