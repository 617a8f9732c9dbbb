// Listing pages (tags/list, catalog, vendor API pages) kept with the ETag the server gave them, so
// the next run can ask "changed since?" with If-None-Match. A 304 carries no body: the stored page
// stands in for it. Pages are only stored when the server gave an ETag, and only those read in
// this run are kept for the next one, so the store never outgrows one run's listing.
import type { HttpRequest, HttpResponse, PageRevalidation, RequestKind } from './http-client.js';

export interface StoredPage {
  etag: string;
  status: number;
  /** Headers the reader of a page relies on (Link for the next page, Content-Type). */
  headers: Record<string, string>;
  body: string;
}

export type StoredPages = Record<string, StoredPage>;

/** Kinds whose GET answers are listings: manifests and blobs are kept by digest instead. */
const LISTING_KINDS: ReadonlySet<RequestKind> = new Set(['catalog', 'tags', 'vendor-api', 'referrers']);
/** Headers a listing page is read by; everything else (dates, cookies, rate limits) is per answer. */
const KEPT_HEADERS = ['content-type', 'link', 'docker-distribution-api-version'];
/** A page bigger than this is not worth its room in the Actions cache. */
const MAX_STORED_BODY = 4 * 1024 * 1024;

export class Revalidator implements PageRevalidation {
  /** Requests that carried If-None-Match. */
  conditional = 0;
  /** Of those, answered 304 Not Modified: the stored page was used. */
  notModified = 0;
  private readonly kept = new Map<string, StoredPage>();

  constructor(private readonly stored: StoredPages = {}) {}

  /** The If-None-Match header to add to a request, if it is a listing GET with a stored page. */
  condition(req: HttpRequest): string | undefined {
    if (!revalidates(req)) return undefined;
    return this.stored[req.url]?.etag;
  }

  /**
   * The answer the caller sees: a 304 to a conditional request becomes the stored page (as a
   * 200); a fresh page with an ETag is remembered for the next run.
   */
  settle(req: HttpRequest, sentCondition: string | undefined, res: HttpResponse): HttpResponse {
    if (!revalidates(req)) return res;
    const stored = this.stored[req.url];
    if (sentCondition) this.conditional++;
    if (res.status === 304 && sentCondition && stored) {
      this.notModified++;
      this.kept.set(req.url, stored);
      // The 304's own headers are current (rate limits, dates); the page's come from the store.
      const { 'content-length': _length, ...fresh } = res.headers;
      return {
        status: stored.status,
        headers: Object.assign({}, fresh, stored.headers),
        body: Buffer.from(stored.body, 'utf8'),
        url: res.url,
      };
    }
    const etag = res.headers.etag;
    if (res.status === 200 && etag && res.body.length <= MAX_STORED_BODY) {
      const body = res.body.toString('utf8');
      // Only text that survives the round trip is stored; anything else would come back altered.
      if (Buffer.byteLength(body, 'utf8') === res.body.length) {
        const headers: Record<string, string> = {};
        for (const name of KEPT_HEADERS)
          if (res.headers[name] !== undefined) headers[name] = res.headers[name];
        this.kept.set(req.url, { etag, status: 200, headers, body });
      }
    } else {
      this.kept.delete(req.url);
    }
    return res;
  }

  /** The pages to keep for the next run: those this run read. */
  pages(): StoredPages {
    return Object.fromEntries([...this.kept.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}

function revalidates(req: HttpRequest): boolean {
  return (
    req.method === 'GET' &&
    LISTING_KINDS.has(req.kind) &&
    req.headers?.['if-none-match'] === undefined &&
    req.headers?.['If-None-Match'] === undefined
  );
}

/** Reads stored pages back from untrusted JSON (the state may be from an older version, or damaged). */
export function parseStoredPages(doc: unknown): StoredPages {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return {};
  const pages: StoredPages = {};
  for (const [url, p] of Object.entries(doc as Record<string, unknown>)) {
    const page = p as Partial<StoredPage> | null;
    if (
      page &&
      typeof page.etag === 'string' &&
      typeof page.body === 'string' &&
      page.status === 200 &&
      page.headers &&
      typeof page.headers === 'object' &&
      Object.values(page.headers).every((v) => typeof v === 'string')
    )
      pages[url] = { etag: page.etag, status: 200, headers: { ...page.headers }, body: page.body };
  }
  return pages;
}
