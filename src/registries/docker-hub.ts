// Docker Hub has no /v2/_catalog. Its Hub API lists a namespace's repositories
// (GET /v2/namespaces/{ns}/repositories, page_size ≤ 100, `next` links), so the namespaces to
// list come from the selectors, which must name them.
import type { ProviderSettings } from '../config/settings.js';
import { RegistryError } from '../errors.js';
import type { Tally } from '../http/http-client.js';
import { describeUrl, type HttpClient } from '../http/http-client.js';
import type { Listing } from '../oci/registry-client.js';
import { type OpenAdapter, ociAdapter, type TagListing, type VendorTag } from './registry-adapter.js';

const PAGE_SIZE = 100;
const LITERAL_NAMESPACE = /^\^?([a-z0-9][a-z0-9._-]*)\$?$/i;

/** The namespace a selector names, or undefined when its pattern is a real regex. */
export function literalNamespace(pattern: string): string | undefined {
  const m = LITERAL_NAMESPACE.exec(pattern);
  return m ? m[1]!.toLowerCase() : undefined;
}

interface HubWalk {
  pages: number;
  complete: boolean;
  problem?: string;
}

/**
 * Follows a Hub API listing (`{count, next, results}`) page by page, handing each page's
 * `results` to `onResults`. `next` is followed only within the Hub's origin, up to max_pages.
 */
async function walkHubPages(
  p: ProviderSettings,
  http: HttpClient,
  first: string,
  what: string,
  onResults: (results: unknown[]) => void,
  opts: { tally?: Tally; pagesBefore?: number; notFound?: string } = {},
): Promise<HubWalk> {
  const origin = new URL(p.hubUrl).origin;
  let pages = opts.pagesBefore ?? 0;
  let url: string | undefined = first;
  while (url) {
    if (pages >= p.maxPages) {
      return {
        pages,
        complete: false,
        problem: `stopped after ${pages} pages (max_pages); raise max_pages to list everything`,
      };
    }
    const res = await http.request({
      method: 'GET',
      url,
      kind: 'vendor-api',
      timeoutMs: p.timeoutMs,
      headers: { accept: 'application/json' },
      ...(opts.tally ? { tally: opts.tally } : {}),
    });
    pages++;
    if (res.status === 404 && opts.notFound) {
      throw new RegistryError(`${opts.notFound} (HTTP 404 from ${describeUrl(url)})`, { status: 404 });
    }
    if (res.status !== 200)
      throw new RegistryError(`${describeUrl(url)}: HTTP ${res.status} listing ${what}`, {
        status: res.status,
      });
    let doc: { next?: unknown; results?: unknown };
    try {
      doc = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new RegistryError(`${describeUrl(url)}: the Hub API answered with something that is not JSON`);
    }
    if (!Array.isArray(doc.results))
      throw new RegistryError(`${describeUrl(url)}: the Hub API page has no "results" list`);
    onResults(doc.results);
    const next: URL | undefined =
      typeof doc.next === 'string' && doc.next ? new URL(doc.next, url) : undefined;
    if (next && next.origin !== origin) {
      return {
        pages,
        complete: false,
        problem: `the Hub API's next page points to another origin (${next.host}); not followed`,
      };
    }
    url = next?.toString();
  }
  return { pages, complete: true };
}

export async function dockerHubRepositories(p: ProviderSettings, http: HttpClient): Promise<Listing> {
  const namespaces = new Set<string>();
  for (const s of p.selectors) {
    const ns = literalNamespace(s.namespacePattern.source);
    if (!ns) {
      throw new RegistryError(
        `Docker Hub cannot list every namespace: selector namespace_pattern ${JSON.stringify(s.namespacePattern.source)} must name one (e.g. "library" for official images)`,
      );
    }
    namespaces.add(ns);
  }
  const items = new Set<string>();
  let pages = 0;
  for (const ns of [...namespaces].sort()) {
    const first = new URL(
      `/v2/namespaces/${encodeURIComponent(ns)}/repositories?page_size=${PAGE_SIZE}`,
      p.hubUrl,
    ).toString();
    const walk = await walkHubPages(
      p,
      http,
      first,
      `namespace ${ns}`,
      (results) => {
        for (const r of results as Array<{ name?: unknown; namespace?: unknown }>) {
          if (typeof r.name === 'string')
            items.add(`${typeof r.namespace === 'string' ? r.namespace : ns}/${r.name}`);
        }
      },
      { pagesBefore: pages, notFound: `Docker Hub has no namespace ${JSON.stringify(ns)}` },
    );
    pages = walk.pages;
    if (!walk.complete) return { items: [...items], ...walk };
  }
  return { items: [...items], pages, complete: true };
}

/**
 * Every tag of a repository with its digest (the index digest for multi-arch images) and push
 * time, from the Hub API's tag list. These calls are not pulls, so a cold run spends pull quota
 * only on the manifests of the tags it keeps.
 */
export async function dockerHubTags(
  p: ProviderSettings,
  http: HttpClient,
  repo: string,
  tally: Tally,
): Promise<TagListing> {
  const [ns, ...rest] = repo.split('/');
  const first = new URL(
    `/v2/namespaces/${encodeURIComponent(ns!)}/repositories/${encodeURIComponent(rest.join('/'))}/tags?page_size=${PAGE_SIZE}`,
    p.hubUrl,
  ).toString();
  const items = new Set<string>();
  const vendor = new Map<string, VendorTag>();
  const walk = await walkHubPages(
    p,
    http,
    first,
    `the tags of ${repo}`,
    (results) => {
      for (const t of results as Array<{
        name?: unknown;
        digest?: unknown;
        tag_last_pushed?: unknown;
        last_updated?: unknown;
      }>) {
        if (typeof t.name !== 'string') continue;
        items.add(t.name);
        // A tag without a digest (still processing, or a legacy schema1 image) is resolved the plain way.
        if (typeof t.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(t.digest)) continue;
        const pushed =
          typeof t.tag_last_pushed === 'string'
            ? t.tag_last_pushed
            : typeof t.last_updated === 'string'
              ? t.last_updated
              : undefined;
        vendor.set(t.name, { digest: t.digest, ...(pushed ? { pushedAt: pushed } : {}) });
      }
    },
    { tally },
  );
  return { items: [...items], vendor, ...walk };
}

export const openDockerHub: OpenAdapter = async (ctx) => {
  const client = ctx.connect(ctx.credentials);
  const p = ctx.settings;
  return {
    ...ociAdapter(ctx, client),
    listRepositories: () => dockerHubRepositories(p, ctx.http),
    listTags: (repo, tally) => dockerHubTags(p, ctx.http, repo, tally),
    headFirst: true,
  };
};
