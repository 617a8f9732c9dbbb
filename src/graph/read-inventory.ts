// A graph file read straight into the Inventory the change report compares with, one entity at a
// time as the bytes arrive. JSON.parse of the whole file held the text and every parsed entity at
// once, garbage that a warm run's peak RSS kept. The checks and messages are parseGraph's.
import { open } from 'node:fs/promises';
import { type Inventory, InventoryBuilder, type RepositoryFilter } from './diff.js';
import { readGraphStream } from './graph-reader.js';

export async function readInventory(
  chunks: AsyncIterable<Uint8Array | string>,
  keep?: RepositoryFilter,
): Promise<{ inventory: Inventory } | { error: string }> {
  const builder = new InventoryBuilder(keep);
  const read = await readGraphStream(chunks, {
    entity: (e) => builder.entity(e),
    receipt: (r) => builder.receipt(r),
  });
  if ('error' in read) return read;
  return { inventory: builder.finish(typeof read.generatedAt === 'string' ? read.generatedAt : '') };
}

/** What reading a graph file gave: its inventory, no file, a file that could not be read, or bad content. */
export type InventoryFile =
  | { inventory: Inventory }
  | { missing: true }
  | { unreadable: string }
  | { error: string };

/**
 * readInventory over the file at `path`. A missing file and an unreadable one (`unreadable`: the
 * error code, at open or midway, e.g. EISDIR) are told apart from content that is not a graph, as
 * each caller words them differently.
 */
export async function readInventoryFile(path: string, keep?: RepositoryFilter): Promise<InventoryFile> {
  const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path);
  } catch (err) {
    return code(err) === 'ENOENT' ? { missing: true } : { unreadable: code(err) };
  }
  try {
    return await readInventory(file.createReadStream({ autoClose: false }), keep);
  } catch (err) {
    return { unreadable: code(err) };
  } finally {
    await file.close().catch(() => undefined);
  }
}
