// The one walk over `GET /entities/` to its end, for every reader of what Devgraph holds (the
// upload's plan, retention's in-use check).
import { type DevgraphClient, DevgraphError, type EntityPage } from './devgraph-client.js';
import { entityKey } from './reconcile.js';

// Devgraph's own default `limit`: a page carries its entities' relations and their other ends, so a
// larger page is a larger answer to hold at once.
export const DEFAULT_PAGE_SIZE = 100;

/** How a walk ended: at the listing's end, or cut short where the server began again. */
export type WalkEnd = { complete: true } | { complete: false; repeatedAt: number };

/**
 * Every page of `GET /entities/` to `onPage`. Devgraph's reference provider reads one page of
 * 10000 and treats everything beyond it as absent; a server may also hand out fewer than asked
 * (a cap on `limit`). So the next page starts after what this one returned, and the listing ends
 * at an empty page, or at a page shorter than one the server already gave (its last). Errors
 * throw (DevgraphError); a server that hands out its first page again ends the walk, and the
 * caller decides what a walk cut short means.
 */
export async function walkEntityPages(
  client: DevgraphClient,
  pageSize: number,
  onPage: (page: EntityPage) => void,
): Promise<WalkEnd> {
  let offset = 0;
  let longest = 0;
  let limit = pageSize;
  let previous: string | undefined;
  for (;;) {
    let page: EntityPage;
    try {
      page = await client.listEntities(offset, limit);
    } catch (err) {
      // A page holds the relations of its entities: the registry's alone are one per repository.
      // Too large an answer is asked again in halves, down to one entity.
      if (err instanceof DevgraphError && err.tooLarge && limit > 1) {
        limit = Math.ceil(limit / 2);
        continue;
      }
      throw err;
    }
    // Nothing returned: nothing malformed either (`returned` counts every item).
    if (page.returned === 0) return { complete: true };
    // A server that ignores `offset` would hand out its first page forever.
    const first = page.entities[0];
    const opening = first && entityKey(first.kind, first.metadata.namespace, first.metadata.name);
    if (opening !== undefined && opening === previous) return { complete: false, repeatedAt: offset };
    previous = opening;
    onPage(page);
    offset += page.returned;
    // Shorter than a page the server gave before (and than asked for): the last one.
    if (page.returned < Math.min(longest, limit)) return { complete: true };
    longest = Math.max(longest, page.returned);
    limit = Math.min(pageSize, limit * 2);
  }
}
