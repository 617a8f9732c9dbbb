// Quay (quay.io and Red Hat Quay). Its REST API (/api/v1 on the registry's origin) lists a
// namespace's repositories (cursor `next_page`) and a repository's tags with their manifest
// digests and push times (100 a page), so discovery needs no per-tag registry requests.
//
// Credentials, as Quay splits them:
// - `token`: an OAuth application token. The API takes it as `Authorization: Bearer`; the
//   registry takes it as the password of the user `$oauthtoken` in the normal token flow.
// - `username` + `password` (or + `token`): a robot account (`org+name` and its token) or a
//   user's CLI password. Quay's API does not accept these, so they reach the registry only:
//   public repositories still come from the API, private ones from the registry's catalog, and
//   their tags from tags/list (a request per tag to resolve digests).
// - both `password` and `token`: the password signs in to the registry, the token to the API.
import { z } from 'zod';
import type { Credentials, ProviderSettings } from '../config/settings.js';
import { AuthError, errorMessage, RegistryError } from '../errors.js';
import { describeUrl, type HttpResponse, type Tally } from '../http/http-client.js';
import { optionalFact, PageWalk, readPage, readRows } from '../http/page-walker.js';
import type { RepositoryInfo } from '../model/discovery.js';
import {
  type OpenAdapter,
  ociAdapter,
  type RepositoryListing,
  type TagListing,
  type VendorContext,
  type VendorTag,
} from './registry-adapter.js';
import { literalNamespaces } from './selector-names.js';
import { firstString, jsonBody, listingFailure, vendorApiGet } from './vendor-api.js';

/** Quay's maximum `limit` for the tag API (its default is 50). */
export const QUAY_TAG_PAGE_SIZE = 100;

/** The user name under which Quay's registry accepts an OAuth application token. */
export const QUAY_OAUTH_USER = '$oauthtoken';

export function quayApiBase(apiUrl: string): string {
  return `${new URL(apiUrl).origin}/api/v1`;
}

/** Which credential goes where (see the header comment). */
export function quayCredentials(c: Credentials): { apiToken?: string; registry: Credentials } {
  if (c.username && c.username !== QUAY_OAUTH_USER && (c.password ?? c.token) !== undefined) {
    const registry = { username: c.username, password: (c.password ?? c.token)! };
    return c.password !== undefined && c.token ? { apiToken: c.token, registry } : { registry };
  }
  const oauth = c.username === QUAY_OAUTH_USER ? (c.password ?? c.token) : c.token;
  if (oauth) return { apiToken: oauth, registry: { username: QUAY_OAUTH_USER, password: oauth } };
  return { registry: {} };
}

function repositoryPath(repo: string): string {
  return repo.split('/').map(encodeURIComponent).join('/');
}

interface QuayTag {
  name?: unknown;
  manifest_digest?: unknown;
  start_ts?: unknown;
  end_ts?: unknown;
  last_modified?: unknown;
}

const QuayRepositoriesPage = z.object({
  repositories: z.array(z.unknown()),
  next_page: z.string().nullish(),
});

const QuayRepository = z.object({
  name: z.string(),
  namespace: optionalFact(z.string()),
  description: optionalFact(z.string()),
  last_modified: optionalFact(z.number()),
  is_public: optionalFact(z.boolean()),
});

const QuayTagsPage = z.object({ tags: z.array(z.unknown()), has_additional: optionalFact(z.boolean()) });

const QuayTagRow = z.object({
  name: z.string(),
  // Tags of images pushed before manifests were kept (V1) carry none; they are left to the registry.
  manifest_digest: z.string().nullish(),
  start_ts: optionalFact(z.number()),
  end_ts: optionalFact(z.number()),
  last_modified: optionalFact(z.string()),
});

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function epochToIso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The live tags of one tag-API page, into `vendor`. A tag whose lifetime ended (`end_ts` in the
 * past) is history: the tag was deleted or moved. Quay leaves those out only when asked
 * (`onlyActiveTags=true`); they are dropped here as well, so an older Quay that ignores the
 * parameter cannot resurrect a deleted tag or an old digest. Pages are newest first, so the first
 * live entry of a name is its current one.
 */
export function quayLiveTags(tags: QuayTag[], vendor: Map<string, VendorTag>, now: number): void {
  for (const t of tags) {
    if (typeof t.name !== 'string' || vendor.has(t.name)) continue;
    if (typeof t.end_ts === 'number' && t.end_ts * 1000 <= now) continue;
    if (typeof t.manifest_digest !== 'string' || !DIGEST.test(t.manifest_digest)) continue;
    const pushedAt =
      typeof t.start_ts === 'number' && t.start_ts > 0
        ? epochToIso(t.start_ts)
        : typeof t.last_modified === 'string' && !Number.isNaN(Date.parse(t.last_modified))
          ? new Date(Date.parse(t.last_modified)).toISOString().replace('.000Z', 'Z')
          : undefined;
    vendor.set(t.name, { digest: t.manifest_digest, ...(pushedAt ? { pushedAt } : {}) });
  }
}

/** `detail` (or the older `error_message`) of Quay's problem+json error body. */
function quayErrorText(res: HttpResponse): string | undefined {
  const doc = jsonBody(res) as
    | { detail?: unknown; error_message?: unknown; error_type?: unknown }
    | undefined;
  if (!doc) return undefined;
  const message = firstString(doc.detail, doc.error_message) ?? '';
  const type = typeof doc.error_type === 'string' ? doc.error_type : '';
  return [type, message].filter(Boolean).join(' ') || undefined;
}

class QuayApi {
  readonly base: string;
  calls = 0;

  constructor(
    private readonly ctx: VendorContext,
    private readonly token: string | undefined,
  ) {
    this.base = quayApiBase(ctx.settings.apiUrl);
    if (token) ctx.secrets.add(token);
  }

  get authenticated(): boolean {
    return !!this.token;
  }

  private request(url: string, tally?: Tally): Promise<HttpResponse> {
    this.calls++;
    return vendorApiGet(this.ctx, url, {
      tally,
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
    });
  }

  /**
   * Quay serves a request with an invalid token as anonymous, so a wrong token would silently
   * hide every private repository from the listing. The signed-in user endpoint tells them apart:
   * 401 for anonymous, 200 or 403 (token without user:read) for a valid token.
   */
  async verifyToken(): Promise<void> {
    if (!this.token) return;
    const url = `${this.base}/user/`;
    const res = await this.request(url);
    if (res.status === 200 || res.status === 403) return;
    throw this.failure(res, url, 'the signed-in user');
  }

  async getJson(url: string, what: string, tally?: Tally): Promise<Record<string, unknown>> {
    const res = await this.request(url, tally);
    if (res.status !== 200) throw this.failure(res, url, what);
    const doc = jsonBody(res);
    if (doc && typeof doc === 'object' && !Array.isArray(doc)) return doc as Record<string, unknown>;
    // Content type and size tell a sign-in page (text/html) from a cut-short answer; the body itself
    // is not echoed.
    throw new RegistryError(
      `Quay API ${describeUrl(url)}: the answer listing ${what} is not a JSON object (${res.headers['content-type'] ?? 'no content type'}, ${res.body.length} bytes)`,
    );
  }

  private failure(res: HttpResponse, url: string, what: string): RegistryError {
    const detail = quayErrorText(res);
    const at = `Quay API ${describeUrl(url)}`;
    const status = `HTTP ${res.status}${detail ? `: ${detail}` : ''}`;
    if (res.status === 401) {
      return new AuthError(
        this.token
          ? `${at} refused the OAuth token (${status}); the token is wrong, expired or revoked: generate a new one (Organization → Applications → Generate Token)`
          : `${at} needs credentials to list ${what} (${status}): the repository is private; set token to an OAuth application token with "View all visible repositories" (repo:read)`,
        { status: 401, code: 'UNAUTHORIZED' },
      );
    }
    if (res.status === 403) {
      return new AuthError(
        `${at} denied listing ${what} (${status}); the OAuth token needs the "View all visible repositories" permission (repo:read) and its user read access to the repository`,
        { status: 403, code: 'DENIED' },
      );
    }
    if (res.status === 404) {
      return new RegistryError(
        `${at}: ${what} not found (${status}); check the namespace and repository names`,
        {
          status: 404,
        },
      );
    }
    return listingFailure(res, 'Quay', at, what, status);
  }
}

export const openQuay: OpenAdapter = async (ctx) => {
  const p: ProviderSettings = ctx.settings;
  const creds = quayCredentials(ctx.credentials);
  const api = new QuayApi(ctx, creds.apiToken);
  const client = ctx.connect(creds.registry);
  const registryLogin = !!creds.registry.username;
  /** Repositories the API cannot list tags for (private, no OAuth token): tags/list instead. */
  const throughRegistry = new Set<string>();
  const fallbacks: string[] = [];

  async function listRepositories(): Promise<RepositoryListing> {
    const namespaces = new Set(
      literalNamespaces(
        p.selectors,
        (pattern) =>
          new RegistryError(
            `Quay lists repositories per namespace: selector namespace_pattern ${JSON.stringify(pattern)} must name one (an organization or user, e.g. "coreos")`,
          ),
      ),
    );
    await api.verifyToken();
    const items = new Set<string>();
    const info = new Map<string, RepositoryInfo>();
    let pages = 0;
    for (const ns of [...namespaces].sort()) {
      const walk = PageWalk.cursors({
        source: 'the Quay API',
        maxPages: p.maxPages,
        pagesBefore: pages,
        read: async (cursor) => {
          // public=true adds the public repositories; with a token, the private ones it may read come too.
          const url = `${api.base}/repository?namespace=${encodeURIComponent(ns)}&public=true&last_modified=true${cursor ? `&next_page=${encodeURIComponent(cursor)}` : ''}`;
          const doc = await api.getJson(url, `the repositories of namespace "${ns}"`);
          const page = readPage(doc, QuayRepositoriesPage, `Quay API ${describeUrl(url)}`);
          return {
            ...readRows(page.repositories, QuayRepository, 'repository'),
            next: page.next_page ?? undefined,
          };
        },
      });
      for await (const page of walk) {
        for (const r of page.items) {
          const name = `${r.namespace ?? ns}/${r.name}`;
          items.add(name);
          const facts: RepositoryInfo = {};
          if (r.description) facts.description = r.description;
          if (typeof r.last_modified === 'number' && r.last_modified > 0)
            facts.last_updated = epochToIso(r.last_modified);
          info.set(name, facts);
          if (r.is_public === false && !api.authenticated) throughRegistry.add(name);
        }
      }
      const verdict = walk.verdict;
      pages = verdict.pages;
      if (!verdict.complete) return { items: [...items], info, ...verdict };
    }
    if (!api.authenticated && registryLogin) {
      // Without an OAuth token the API shows public repositories only; the registry's catalog
      // shows what the robot (or user) may pull, private ones included.
      let catalog: Awaited<ReturnType<typeof client.listRepositories>>;
      try {
        catalog = await client.listRepositories();
      } catch (err) {
        return {
          items: [...items],
          info,
          pages,
          complete: false,
          problem: `private repositories not listed: the registry catalog failed (${errorMessage(err)}); set token to an OAuth application token to list them through the API`,
        };
      }
      pages += catalog.pages;
      for (const name of catalog.items) {
        if (!namespaces.has(name.split('/')[0]!.toLowerCase()) || items.has(name)) continue;
        items.add(name);
        throughRegistry.add(name);
      }
      if (!catalog.complete)
        return {
          items: [...items],
          info,
          pages,
          complete: false,
          problem: `registry catalog: ${catalog.problem}`,
        };
    }
    return { items: [...items], info, pages, complete: true };
  }

  async function apiTags(repo: string, tally: Tally): Promise<TagListing> {
    const vendor = new Map<string, VendorTag>();
    const now = Date.now();
    const walk = PageWalk.cursors({
      source: 'the Quay API',
      maxPages: p.maxPages,
      read: async (cursor) => {
        const page = cursor === undefined ? 1 : Number(cursor);
        const url = `${api.base}/repository/${repositoryPath(repo)}/tag/?limit=${QUAY_TAG_PAGE_SIZE}&page=${page}&onlyActiveTags=true`;
        const doc = readPage(
          await api.getJson(url, `the tags of ${repo}`, tally),
          QuayTagsPage,
          `Quay API ${describeUrl(url)}`,
        );
        const more = doc.has_additional === true && doc.tags.length > 0;
        return { ...readRows(doc.tags, QuayTagRow, 'tag'), next: more ? String(page + 1) : undefined };
      },
    });
    for await (const page of walk) quayLiveTags(page.items, vendor, now);
    return { items: [...vendor.keys()], vendor, ...walk.verdict };
  }

  async function listTags(repo: string, tally: Tally): Promise<TagListing> {
    if (throughRegistry.has(repo) && registryLogin) return client.listTags(repo, tally);
    try {
      return await apiTags(repo, tally);
    } catch (err) {
      // A private repository the anonymous API may not show, with a registry login that may pull it.
      if (err instanceof AuthError && !api.authenticated && registryLogin) {
        fallbacks.push(repo);
        return client.listTags(repo, tally);
      }
      throw err;
    }
  }

  return {
    ...ociAdapter(ctx, client),
    listRepositories,
    listTags,
    notes: () => {
      const out = [`Quay API: ${api.calls} requests (repositories, tags)`];
      if (!api.authenticated && !registryLogin)
        out.push(
          'no credentials: public repositories only; set token (an OAuth application token) for private ones',
        );
      const viaRegistry = new Set([...throughRegistry, ...fallbacks]);
      if (viaRegistry.size > 0)
        out.push(
          `${viaRegistry.size} private repositories listed through the registry (tags/list and a request per tag): the robot account cannot use Quay's API; add token (an OAuth application token) to use the tag API`,
        );
      if (p.discoverVulnerabilities)
        out.push(
          'vulnerabilities: Quay reports scans per manifest only (a request per image); not collected',
        );
      return out;
    },
  };
};
