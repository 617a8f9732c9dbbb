// Docker Hub has no /v2/_catalog. Its Hub API lists a namespace's repositories
// (GET /v2/namespaces/{ns}/repositories, page_size ≤ 100, `next` links), so the namespaces to
// list come from the selectors, which must name them. The same API lists every tag with its
// digest and push time, so the registry is asked only for the manifests of the tags kept: on
// Docker Hub each manifest GET is a pull counted against a quota, a HEAD is not.
import { z } from 'zod';
import type { Credentials, ProviderSettings } from '../config/settings.js';
import { AuthError, RegistryError } from '../errors.js';
import type { HttpResponse, Tally } from '../http/http-client.js';
import { describeUrl, type HttpClient } from '../http/http-client.js';
import { optionalFact, PageWalk, readPage, readRows } from '../http/page-walker.js';
import type { RepositoryInfo } from '../model/discovery.js';
import type { RegistryClient } from '../oci/registry-client.js';
import type { Secrets } from '../secrets.js';
import {
  type DeleteAnswer,
  type OpenAdapter,
  ociAdapter,
  type RepositoryListing,
  type TagListing,
  type VendorTag,
} from './registry-adapter.js';
import { literalNamespaces } from './selector-names.js';
import { firstString } from './vendor-api.js';

/** The Hub API's largest page; it silently serves 100 when asked for more. */
const PAGE_SIZE = 100;
/** Hub JWTs live 10 minutes; one is replaced when less than this is left (or half its life). */
const JWT_RENEW_MARGIN_MS = 60_000;
const JWT_DEFAULT_LIFETIME_MS = 10 * 60_000;
const PAT_HINT = 'a Docker Hub personal access token (Account settings → Personal access tokens)';

/** `100;w=21600` → limit/remaining 100 over a 21600 s window. */
export function parseQuotaHeader(value: string | undefined): { value: number; window?: number } | undefined {
  const m = /^\s*(\d+)\s*(?:;\s*w=(\d+))?/.exec(value ?? '');
  if (!m) return undefined;
  return { value: Number(m[1]), ...(m[2] ? { window: Number(m[2]) } : {}) };
}

/** "6 h", "30 min", "45 s": a quota window the way people say it. */
export function describeWindow(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** When a JWT says it expires (its `exp` claim), or undefined when it cannot be read. */
export function jwtExpiry(jwt: string): number | undefined {
  const payload = jwt.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** A short server message from a Hub JSON error body (`message`, `detail` or `details`). */
function hubErrorText(res: HttpResponse): string | undefined {
  try {
    const doc = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    for (const key of ['message', 'detail', 'details']) {
      const v = doc[key];
      if (typeof v === 'string' && v.trim()) return v.trim().slice(0, 200);
    }
  } catch {
    // A plain-text or HTML error page: not worth echoing.
  }
  return undefined;
}

function unixTimeText(value: string | undefined, now: number): string | undefined {
  if (!value || !/^\d+$/.test(value.trim())) return undefined;
  const at = Number(value.trim()) * 1000;
  const minutes = Math.max(1, Math.ceil((at - now) / 60_000));
  return `${new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')} (in about ${minutes} min)`;
}

/**
 * The Hub API as one account (or anonymous) sees it: a JWT minted from username + PAT/password,
 * renewed before it runs out or when the Hub rejects it, and rate-limit answers turned into
 * messages that say what to do.
 */
export class HubApi {
  private jwt: { value: string; expiresAt: number; margin: number } | undefined;
  private pending: Promise<string> | undefined;
  /** Logins performed this run (the first one included). */
  logins = 0;
  /** True when /v2/auth/token is missing and the deprecated /v2/users/login was used. */
  legacyLogin = false;
  readonly origin: string;

  constructor(
    private readonly p: ProviderSettings,
    private readonly http: HttpClient,
    private readonly secrets: Secrets,
    private readonly login: { username: string; secret: string } | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.origin = new URL(p.hubUrl).origin;
  }

  get anonymous(): boolean {
    return !this.login;
  }

  /** Who the Hub sees, for messages. */
  get who(): string {
    return this.login ? `user "${this.login.username}"` : 'anonymous requests';
  }

  /**
   * A GET on the Hub API. 200 and 404 are returned; everything else becomes an error that names
   * the request and the fix.
   */
  async get(url: string, what: string, tally?: Tally): Promise<HttpResponse> {
    const res = await this.send('GET', url, tally);
    if (res.status === 200 || res.status === 404) return res;
    throw this.failure(res, url, what);
  }

  /** A DELETE on the Hub API (logged in); every answer is the caller's to read. */
  delete(url: string, tally: Tally): Promise<HttpResponse> {
    return this.send('DELETE', url, tally);
  }

  private async send(method: 'GET' | 'DELETE', url: string, tally?: Tally): Promise<HttpResponse> {
    let res: HttpResponse | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const jwt = this.login ? await this.token() : undefined;
      res = await this.http.request({
        method,
        url,
        kind: method === 'DELETE' ? 'delete' : 'vendor-api',
        timeoutMs: this.p.timeoutMs,
        headers: { accept: 'application/json', ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
        ...(tally ? { tally } : {}),
      });
      // The Hub's clock decides when a JWT is over; ours may disagree, so a 401 earns one new login.
      if (res.status !== 401 || !jwt) break;
      if (this.jwt?.value === jwt) this.jwt = undefined;
    }
    return res!;
  }

  private failure(res: HttpResponse, url: string, what: string): RegistryError {
    const where = describeUrl(url);
    const detail = hubErrorText(res);
    if (res.status === 429) {
      const until = unixTimeText(
        res.headers['x-retry-after'] ?? res.headers['x-ratelimit-reset'],
        this.now(),
      );
      return new RegistryError(
        until
          ? `Docker Hub API rate limit reached listing ${what} (HTTP 429 from ${where}); it asks to wait until ${until}: run again after that`
          : `Docker Hub API kept answering HTTP 429 (too many requests) listing ${what} (${where}), retries included; run again later or lower concurrency`,
        { status: 429, code: 'TOOMANYREQUESTS', retryable: true },
      );
    }
    if (res.status === 401) {
      return new AuthError(
        this.login
          ? `Docker Hub API refused a fresh login token of ${this.who} listing ${what} (HTTP 401 from ${where}); check that the token may read this namespace`
          : `Docker Hub API needs a login to list ${what} (HTTP 401 from ${where}); set username and password (${PAT_HINT})`,
        { status: 401, code: 'UNAUTHORIZED' },
      );
    }
    if (res.status === 403 && this.anonymous && /pagination offset/i.test(detail ?? '')) {
      return new AuthError(
        `Docker Hub refuses to page further anonymously listing ${what} (HTTP 403: ${detail}); set username and password (${PAT_HINT}) to list everything`,
        { status: 403, code: 'DENIED' },
      );
    }
    if (res.status === 403) {
      return new AuthError(
        `Docker Hub API denied ${this.who} listing ${what} (HTTP 403 from ${where}${detail ? `: ${detail}` : ''}); an organization access token needs the repository-list scope, a PAT read access`,
        { status: 403, code: 'DENIED' },
      );
    }
    return new RegistryError(`${where}: HTTP ${res.status} listing ${what}${detail ? ` (${detail})` : ''}`, {
      status: res.status,
      retryable: res.status >= 500,
    });
  }

  private token(): Promise<string> {
    if (this.jwt && this.jwt.expiresAt - this.jwt.margin > this.now()) return Promise.resolve(this.jwt.value);
    this.pending ??= this.mint().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async mint(): Promise<string> {
    const { username, secret } = this.login!;
    this.logins++;
    let url = new URL('/v2/auth/token', this.p.hubUrl).toString();
    let res = await this.post(url, { identifier: username, secret });
    // Hub-compatible services that predate /v2/auth/token only have the deprecated login.
    if (res.status === 404) {
      this.legacyLogin = true;
      url = new URL('/v2/users/login', this.p.hubUrl).toString();
      res = await this.post(url, { username, password: secret });
    }
    const detail = hubErrorText(res);
    if (res.status === 401 || res.status === 403) {
      throw new AuthError(
        `Docker Hub login failed for user "${username}" (HTTP ${res.status} from ${describeUrl(url)}${detail ? `: ${detail}` : ''}); check username and password (${PAT_HINT}; with SSO enforced a password no longer works)`,
        { status: res.status, code: 'UNAUTHORIZED' },
      );
    }
    if (res.status !== 200) {
      throw new AuthError(
        `Docker Hub login for user "${username}" failed: HTTP ${res.status} from ${describeUrl(url)}${detail ? ` (${detail})` : ''}`,
        { status: res.status, retryable: res.status >= 500 || res.status === 429 },
      );
    }
    let body: { access_token?: unknown; token?: unknown };
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new AuthError(`Docker Hub login at ${describeUrl(url)} did not answer with JSON`);
    }
    const value = firstString(body.access_token, body.token) ?? '';
    if (!value) throw new AuthError(`Docker Hub login at ${describeUrl(url)} sent no token`);
    this.secrets.add(value);
    const expiresAt = jwtExpiry(value) ?? this.now() + JWT_DEFAULT_LIFETIME_MS;
    // A token issued for less than two minutes is renewed at half its life, not every request.
    const margin = Math.min(JWT_RENEW_MARGIN_MS, Math.max(0, (expiresAt - this.now()) / 2));
    this.jwt = { value, expiresAt, margin };
    return value;
  }

  private post(url: string, body: Record<string, string>): Promise<HttpResponse> {
    return this.http.request({
      method: 'POST',
      url,
      kind: 'token',
      timeoutMs: this.p.timeoutMs,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  }
}

/** A Hub API listing page: `{count, next, previous, results}`. */
const HubPage = z.object({ next: z.string().nullish(), results: z.array(z.unknown()) });

const HubRepository = z.object({
  name: z.string(),
  namespace: optionalFact(z.string()),
  description: optionalFact(z.string()),
  star_count: optionalFact(z.number()),
  pull_count: optionalFact(z.number()),
  is_automated: optionalFact(z.boolean()),
  last_updated: optionalFact(z.string()),
});

const HubTag = z
  .object({
    name: z.string(),
    // Null while the Hub still processes a push, or for a legacy schema1 image.
    digest: z.string().nullish(),
    tag_last_pushed: optionalFact(z.string()),
    last_updated: optionalFact(z.string()),
  })
  // Older Hub APIs have only last_updated, which also moves when the tag's metadata changes.
  .transform((t) => ({
    name: t.name,
    digest: t.digest,
    pushedAt: firstString(t.tag_last_pushed, t.last_updated),
  }));

/**
 * A Hub API listing (`{count, next, results}`), page by page, each row checked against `row`.
 * `next` is followed only within the Hub's origin, up to max_pages.
 */
function hubPages<S extends z.ZodType>(
  p: ProviderSettings,
  hub: HubApi,
  first: string,
  what: string,
  row: S,
  opts: { tally?: Tally; pagesBefore?: number; notFound: string; noun: string },
): PageWalk<z.output<S>> {
  return PageWalk.links({
    source: 'the Hub API',
    maxPages: p.maxPages,
    first,
    origin: hub.origin,
    ...(opts.pagesBefore ? { pagesBefore: opts.pagesBefore } : {}),
    read: async (url) => {
      const res = await hub.get(url, what, opts.tally);
      if (res.status === 404) {
        throw new RegistryError(`${opts.notFound} (HTTP 404 from ${describeUrl(url)})`, { status: 404 });
      }
      let doc: unknown;
      try {
        doc = JSON.parse(res.body.toString('utf8'));
      } catch {
        throw new RegistryError(`${describeUrl(url)}: the Hub API answered with something that is not JSON`);
      }
      const page = readPage(doc, HubPage, `${describeUrl(url)}: the Hub API page`);
      return { ...readRows(page.results, row, opts.noun), next: page.next ?? undefined };
    },
  });
}

/** The repository facts the Hub's repository list carries, in the spec's field names. */
function repositoryInfo(r: z.output<typeof HubRepository>, namespace: string): RepositoryInfo {
  const info: RepositoryInfo = { official: namespace === 'library' };
  if (r.description) info.description = r.description;
  if (typeof r.star_count === 'number') info.star_count = r.star_count;
  if (typeof r.pull_count === 'number') info.pull_count = r.pull_count;
  if (typeof r.is_automated === 'boolean') info.automated = r.is_automated;
  if (r.last_updated) info.last_updated = r.last_updated;
  return info;
}

export async function dockerHubRepositories(p: ProviderSettings, hub: HubApi): Promise<RepositoryListing> {
  const namespaces = literalNamespaces(
    p.selectors,
    (pattern) =>
      new RegistryError(
        `Docker Hub cannot list every namespace: selector namespace_pattern ${JSON.stringify(pattern)} must name one (e.g. "library" for official images)`,
      ),
  );
  const items = new Set<string>();
  const info = new Map<string, RepositoryInfo>();
  let pages = 0;
  for (const ns of namespaces) {
    const first = new URL(
      `/v2/namespaces/${encodeURIComponent(ns)}/repositories?page_size=${PAGE_SIZE}`,
      p.hubUrl,
    ).toString();
    const walk = hubPages(p, hub, first, `namespace ${ns}`, HubRepository, {
      pagesBefore: pages,
      notFound: `Docker Hub has no namespace ${JSON.stringify(ns)}`,
      noun: 'repository',
    });
    for await (const page of walk) {
      for (const r of page.items) {
        const owner = r.namespace ?? ns;
        const name = `${owner}/${r.name}`;
        items.add(name);
        info.set(name, repositoryInfo(r, owner));
      }
    }
    const verdict = walk.verdict;
    pages = verdict.pages;
    if (!verdict.complete) return { items: [...items], info, ...verdict };
  }
  return { items: [...items], info, pages, complete: true };
}

/**
 * Every tag of a repository with its digest (the index digest for multi-arch images) and push
 * time, newest first, from the Hub API's tag list. These calls are not pulls, so a cold run
 * spends pull quota only on the manifests of the tags it keeps.
 */
export async function dockerHubTags(
  p: ProviderSettings,
  hub: HubApi,
  repo: string,
  tally: Tally,
): Promise<TagListing> {
  const [ns, ...rest] = repo.split('/');
  const first = new URL(
    `/v2/namespaces/${encodeURIComponent(ns!)}/repositories/${encodeURIComponent(rest.join('/'))}/tags?page_size=${PAGE_SIZE}&ordering=last_updated`,
    p.hubUrl,
  ).toString();
  const items = new Set<string>();
  const vendor = new Map<string, VendorTag>();
  const walk = hubPages(p, hub, first, `the tags of ${repo}`, HubTag, {
    tally,
    noun: 'tag',
    notFound: hub.anonymous
      ? `Docker Hub has no public repository ${JSON.stringify(repo)}; if it is private, set username and password (${PAT_HINT})`
      : `Docker Hub has no repository ${JSON.stringify(repo)} that ${hub.who} can see`,
  });
  for await (const page of walk) {
    for (const t of page.items) {
      items.add(t.name);
      // A tag without a digest is resolved the plain way.
      if (!t.digest || !/^sha256:[a-f0-9]{64}$/.test(t.digest)) continue;
      vendor.set(t.name, { digest: t.digest, ...(t.pushedAt ? { pushedAt: t.pushedAt } : {}) });
    }
  }
  return { items: [...items], vendor, ...walk.verdict };
}

/** What the registry's rate-limit headers said, and what this run spent. */
class PullQuota {
  limit: number | undefined;
  remaining: number | undefined;
  window: number | undefined;
  /** Manifest GETs answered 2xx: each one is a pull. */
  pulls = 0;
  limitHit = false;
  hubLimit: number | undefined;
  hubRemaining: number | undefined;

  observeRegistry(method: string, kind: string, res: HttpResponse): void {
    const limit = parseQuotaHeader(res.headers['ratelimit-limit']);
    const remaining = parseQuotaHeader(res.headers['ratelimit-remaining']);
    if (limit) {
      this.limit = limit.value;
      this.window = limit.window ?? remaining?.window ?? this.window;
    }
    // Answers arrive out of order under concurrency; the quota only shrinks within a window.
    if (remaining) this.remaining = Math.min(this.remaining ?? remaining.value, remaining.value);
    if (kind === 'manifest' && method === 'GET' && res.status >= 200 && res.status < 300) this.pulls++;
    if (res.status === 429 && remaining?.value === 0) this.limitHit = true;
  }

  observeHub(res: HttpResponse): void {
    const limit = Number(res.headers['x-ratelimit-limit']);
    const remaining = Number(res.headers['x-ratelimit-remaining']);
    if (Number.isFinite(limit) && res.headers['x-ratelimit-limit']) this.hubLimit = limit;
    if (Number.isFinite(remaining) && res.headers['x-ratelimit-remaining']) this.hubRemaining = remaining;
  }

  /** "0 of 100 left per 6 h window", or undefined when the registry sent no quota. */
  describe(): string | undefined {
    if (this.limit === undefined || this.remaining === undefined) return undefined;
    return `${this.remaining} of ${this.limit} left${this.window ? ` per ${describeWindow(this.window)} window` : ''}`;
  }
}

/**
 * The registry's pull-limit 429 on a manifest request, as a message that says what the limit is
 * and how to get past it; undefined for anything else.
 */
function pullLimitError(
  res: HttpResponse,
  path: string,
  quota: PullQuota,
  credentials: Credentials,
): RegistryError | undefined {
  const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
  if (res.status !== 429 || !quota.limitHit || !m) return undefined;
  const [, repo, ref] = m;
  const what = `${repo}${ref!.includes(':') ? '@' : ':'}${ref}`;
  const fix = credentials.username
    ? `the limit of user "${credentials.username}" is used up: wait for the window to pass or use an account with a higher limit`
    : `anonymous pulls are counted per IP address: authenticate with ${PAT_HINT} (username + password in the config) or wait for the window to pass`;
  return new RegistryError(
    `Docker Hub pull rate limit reached (${quota.describe() ?? 'no pulls left'}) reading ${what}; ${fix}`,
    { status: 429, code: 'TOOMANYREQUESTS' },
  );
}

/**
 * A manifest deleted the only way Docker Hub allows: its tags through the Hub API, one request
 * each, then the manifest by digest through the registry, which refuses a manifest that a tag or
 * an index still holds (403). Until that second step the manifest stays pullable by digest, so a
 * refusal there is a failure, not a deletion: what waits on it is then left alone.
 */
export async function deleteOnDockerHub(
  p: ProviderSettings,
  hub: HubApi,
  client: RegistryClient,
  repo: string,
  digest: string,
  tags: readonly string[],
  tally: Tally,
): Promise<DeleteAnswer> {
  const what = `docker.io/${repo}@${digest}`;
  if (hub.anonymous) {
    return {
      outcome: 'refused',
      why: 'unsupported',
      message: `${what}: Docker Hub deletes need a login: set username and password (${PAT_HINT} with the read, write, delete scope)`,
    };
  }
  const [ns, ...rest] = repo.split('/');
  const done: string[] = [];
  for (const tag of tags) {
    const url = new URL(
      `/v2/namespaces/${encodeURIComponent(ns!)}/repositories/${encodeURIComponent(rest.join('/'))}/tags/${encodeURIComponent(tag)}`,
      p.hubUrl,
    ).toString();
    const res = await hub.delete(url, tally);
    // 404: the tag is gone already (moved or deleted since the listing), which is what was wanted.
    if ((res.status >= 200 && res.status < 300) || res.status === 404) {
      done.push(tag);
      continue;
    }
    const detail = hubErrorText(res);
    const said = `HTTP ${res.status}${detail ? `: ${detail}` : ''}`;
    const partly = done.length > 0 ? `; tags ${done.join(', ')} were deleted before it` : '';
    if (res.status === 401 || res.status === 403) {
      return {
        outcome: 'refused',
        why: 'denied',
        status: res.status,
        message: `${what}: Docker Hub refused to delete tag ${tag} (${said})${partly}; the token needs the delete scope on ${repo}`,
      };
    }
    if (res.status === 405) {
      return {
        outcome: 'refused',
        why: 'unsupported',
        status: 405,
        message: `${what}: the Hub API at ${hub.origin} does not delete tags (${said})${partly}`,
      };
    }
    return {
      outcome: 'failed',
      status: res.status,
      message: `${what}: deleting tag ${tag}: ${said}${partly}`,
    };
  }
  const manifest = await client.deleteManifest(repo, digest, tally);
  if (manifest.outcome === 'deleted' || tags.length === 0) return manifest;
  return {
    outcome: 'failed',
    ...(manifest.status !== undefined ? { status: manifest.status } : {}),
    message: `${what}: tags ${tags.join(', ')} deleted, but the manifest stays pullable by digest: ${manifest.message}`,
  };
}

export const openDockerHub: OpenAdapter = async (ctx) => {
  const p = ctx.settings;
  const creds = ctx.credentials;
  const secret = creds.password ?? creds.token;
  if (!creds.username && secret) {
    // A PAT alone cannot be exchanged: both the Hub API and auth.docker.io want the account name with it.
    throw new AuthError(
      `Docker Hub needs username together with the ${creds.password ? 'password' : 'token'}: set username to the Docker Hub account the personal access token belongs to`,
    );
  }
  const quota = new PullQuota();
  const client = ctx.connect(creds, {
    onFailure: async (res, { path }) => pullLimitError(res, path, quota, creds),
  });
  const hub = new HubApi(
    p,
    ctx.http,
    ctx.secrets,
    creds.username && secret ? { username: creds.username, secret } : undefined,
  );
  ctx.http.onResponse((req, res) => {
    try {
      const origin = new URL(req.url).origin;
      if (origin === client.origin) quota.observeRegistry(req.method, req.kind, res);
      else if (origin === hub.origin) quota.observeHub(res);
    } catch {
      // A listener must never break a request.
    }
  });
  return {
    ...ociAdapter(ctx, client),
    listRepositories: () => dockerHubRepositories(p, hub),
    listTags: (repo, tally) => dockerHubTags(p, hub, repo, tally),
    deleteManifest: (repo, digest, tags, tally) =>
      deleteOnDockerHub(p, hub, client, repo, digest, tags, tally),
    headFirst: true,
    notes: () => {
      const lines: string[] = [];
      const left = quota.describe();
      const spent = `${quota.pulls} manifest GET${quota.pulls === 1 ? '' : 's'} (pulls) this run`;
      if (left) lines.push(`Docker Hub pull quota: ${left}; ${spent}.`);
      else if (quota.pulls > 0) lines.push(`Docker Hub: ${spent}; the registry sent no pull limit.`);
      if (quota.limitHit) {
        lines.push(
          creds.username
            ? 'Docker Hub pull rate limit reached: some manifests could not be read; run again after the window resets.'
            : `Docker Hub pull rate limit reached: some manifests could not be read; authenticate with ${PAT_HINT} (username + password in the config) or wait for the window to reset.`,
        );
      }
      if (quota.hubLimit !== undefined && quota.hubRemaining !== undefined)
        lines.push(
          `Docker Hub API: ${quota.hubRemaining} of ${quota.hubLimit} requests left in the current window.`,
        );
      if (hub.legacyLogin)
        lines.push(
          'Docker Hub API: /v2/auth/token is not available here; logged in with the deprecated /v2/users/login.',
        );
      if (hub.logins > 1)
        lines.push(`Docker Hub API: logged in ${hub.logins} times (the login token expired mid-run).`);
      return lines;
    },
  };
};
