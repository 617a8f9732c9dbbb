// A fake Quay (quay.io / Red Hat Quay 3.x): the REST API under /api/v1 and the registry under /v2
// on one origin. What it imitates, from quay/quay (endpoints/api/repository.py, tag.py,
// endpoints/exception.py, auth/decorators.py):
// - repository listing per namespace, `public=true` adding public repositories, 100 a page with
//   an opaque `next_page` cursor in the body; at least one of namespace/public/starred required;
// - tag listing: `limit` default 50, capped at 100, `page`, `has_additional`, newest first; the
//   tag *history* (deleted and moved tags, with `end_ts`) unless `onlyActiveTags=true`;
// - API auth: OAuth bearer tokens only; an invalid token is treated as anonymous (no error), a
//   private repository then answers 401 invalid_token "Requires authentication", and a signed-in
//   token without the scope or permission 403 insufficient_scope "Unauthorized", both as
//   problem+json with the deprecated `error_message`/`error_type` copies;
// - registry auth: 401 challenge `Bearer realm="<origin>/v2/auth",service="<host>"`, the token
//   endpoint taking robot accounts (`org+name`) or `$oauthtoken` + an OAuth token via Basic;
//   tags/list 50 a page with an opaque `next_page` cursor in Link; the catalog shows only what the
//   signed-in account may read.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DemoRegistry, parseRegistryPath, startDemoRegistry } from '../../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../../src/demo/image-builder.js';
import { tagFacts } from './content-facts.js';
import { basicCredentials, type RateLimit, refuseScripted, sendJson } from './fake-http.js';
import type { FakeRequest } from './harbor-fake.js';

export type { FakeRequest, RateLimit };

export interface QuayOAuthToken {
  user: string;
  scopes: Array<'repo:read' | 'user:read'>;
  /** Namespaces whose private repositories the user may read. */
  reads: string[];
}

export interface QuayRobot {
  password: string;
  reads: string[];
}

/** A tag lifetime that ended: a deleted tag, or where a moved tag used to point. */
export interface QuayDeadTag {
  repository: string;
  name: string;
  digest: string;
  start: string;
  end: string;
}

export interface QuayFakeOptions {
  repositories: RepositoryContent[];
  /** Repositories anyone may read; the others are private. */
  publicRepositories: string[];
  oauthTokens: Record<string, QuayOAuthToken>;
  robots: Record<string, QuayRobot>;
  history?: QuayDeadTag[];
  /** Repositories with no tags, listed by the API only (to page through many). */
  emptyRepositories?: string[];
  /** Behave like a Quay that ignores onlyActiveTags: always send the history. */
  ignoreOnlyActiveTags?: boolean;
  /** After this many token-authenticated registry requests, every token issued so far expires. */
  expireTokensAfter?: number;
}

export interface QuayFake {
  url: string;
  host: string;
  registry: DemoRegistry;
  requests: FakeRequest[];
  rateLimit(limit: RateLimit): void;
  close(): Promise<void>;
}

const REPOS_PER_PAGE = 100;

const json = sendJson;

function rfc2822(iso: string): string {
  return new Date(iso).toUTCString().replace('GMT', '-0000');
}

const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export async function startQuayFake(opts: QuayFakeOptions): Promise<QuayFake> {
  const requests: FakeRequest[] = [];
  const limits: RateLimit[] = [];
  const tokens = new Map<string, { who?: string; access: Set<string>; catalog: boolean; expired: boolean }>();
  const byName = new Map(opts.repositories.map((r) => [r.name, r]));
  const allRepos = [...opts.repositories.map((r) => r.name), ...(opts.emptyRepositories ?? [])].sort();
  const isPublic = (repo: string) => opts.publicRepositories.includes(repo) || !byName.has(repo);
  const nsOf = (repo: string) => repo.split('/')[0]!;
  let origin = '';
  let served = 0;

  const record = (req: IncomingMessage, status: number, kind: FakeRequest['kind']): undefined => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', status, kind });
  };

  function problem(res: ServerResponse, status: number, type: string, detail: string): void {
    json(res, status, {
      detail,
      error_message: detail,
      error_type: type,
      title: type,
      type: `${origin}/api/v1/error/${type}`,
      status,
    });
  }

  /** The OAuth token's grant, or undefined: Quay treats a missing or invalid token as anonymous. */
  function oauth(req: IncomingMessage): QuayOAuthToken | undefined {
    const h = req.headers.authorization ?? '';
    return h.startsWith('Bearer ') ? opts.oauthTokens[h.slice(7)] : undefined;
  }

  const oauthReads = (t: QuayOAuthToken | undefined, repo: string) =>
    isPublic(repo) || (!!t && t.scopes.includes('repo:read') && t.reads.includes(nsOf(repo)));

  function tagEntries(repo: string, activeOnly: boolean) {
    const content = byName.get(repo);
    const live = content
      ? tagFacts(content).map((f) => ({
          name: f.tag,
          reversion: false,
          start_ts: epoch(f.pushedAt),
          manifest_digest: f.digest,
          is_manifest_list: f.isIndex,
          size: f.size,
          last_modified: rfc2822(f.pushedAt),
        }))
      : [];
    const dead = (opts.history ?? [])
      .filter((h) => h.repository === repo)
      .map((h) => ({
        name: h.name,
        reversion: false,
        start_ts: epoch(h.start),
        end_ts: epoch(h.end),
        manifest_digest: h.digest,
        is_manifest_list: false,
        size: 1024,
        last_modified: rfc2822(h.start),
        expiration: rfc2822(h.end),
      }));
    const all = activeOnly && !opts.ignoreOnlyActiveTags ? live : [...live, ...dead];
    return all.sort((a, b) => b.start_ts - a.start_ts || (a.name < b.name ? -1 : 1));
  }

  function api(req: IncomingMessage, res: ServerResponse): undefined {
    const url = new URL(req.url ?? '/', 'http://quay.invalid');
    const token = oauth(req);
    const denied = (): undefined => {
      if (token) problem(res, 403, 'insufficient_scope', 'Unauthorized');
      else problem(res, 401, 'invalid_token', 'Requires authentication');
      return record(req, token ? 403 : 401, 'api');
    };
    if (url.pathname === '/api/v1/user/') {
      if (!token) {
        problem(res, 401, 'invalid_token', 'Requires authentication');
        return record(req, 401, 'api');
      }
      if (!token.scopes.includes('user:read')) return denied();
      json(res, 200, { username: token.user, anonymous: false });
      return record(req, 200, 'api');
    }
    if (url.pathname === '/api/v1/repository') {
      if (token && !token.scopes.includes('repo:read')) return denied();
      const namespace = url.searchParams.get('namespace');
      const pub = ['true', '1'].includes(url.searchParams.get('public') ?? '');
      if (!namespace && !pub) {
        problem(res, 400, 'invalid_request', 'namespace, starred or public are required for this API call');
        return record(req, 400, 'api');
      }
      const visible = allRepos.filter(
        (r) =>
          (!namespace || nsOf(r) === namespace) &&
          ((pub && isPublic(r)) || (!!token && token.reads.includes(nsOf(r)))),
      );
      const cursor = url.searchParams.get('next_page');
      let offset = 0;
      if (cursor) {
        const decoded = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
        if (!decoded) {
          problem(res, 400, 'invalid_request', 'Invalid page token');
          return record(req, 400, 'api');
        }
        offset = Number(decoded[1]);
      }
      const page = visible.slice(offset, offset + REPOS_PER_PAGE).map((name) => {
        const facts = byName.has(name) ? tagFacts(byName.get(name)!) : [];
        const newest =
          facts
            .map((f) => f.pushedAt)
            .sort()
            .pop() ?? '2024-01-01T00:00:00Z';
        return {
          namespace: nsOf(name),
          name: name.slice(name.indexOf('/') + 1),
          description: name === 'library/nginx' ? 'Official build of Nginx.' : null,
          is_public: isPublic(name),
          kind: 'image',
          state: 'NORMAL',
          ...(url.searchParams.get('last_modified') === 'true' ? { last_modified: epoch(newest) } : {}),
          is_starred: false,
        };
      });
      const next = offset + REPOS_PER_PAGE < visible.length;
      json(res, 200, {
        repositories: page,
        ...(next
          ? { next_page: Buffer.from(`offset:${offset + REPOS_PER_PAGE}`).toString('base64url') }
          : {}),
      });
      return record(req, 200, 'api');
    }
    const tags = /^\/api\/v1\/repository\/(.+)\/tag\/$/.exec(url.pathname);
    if (tags) {
      const repo = decodeURIComponent(tags[1]!);
      if (!oauthReads(token, repo)) return denied();
      if (!allRepos.includes(repo)) {
        problem(res, 404, 'not_found', 'Not Found');
        return record(req, 404, 'api');
      }
      const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? '50')));
      const page = Math.max(1, Number(url.searchParams.get('page') ?? '1'));
      const activeOnly = ['true', '1'].includes(url.searchParams.get('onlyActiveTags') ?? '');
      const all = tagEntries(repo, activeOnly);
      json(res, 200, {
        tags: all.slice((page - 1) * limit, page * limit),
        page,
        has_additional: page * limit < all.length,
      });
      return record(req, 200, 'api');
    }
    problem(res, 404, 'not_found', 'Not Found');
    return record(req, 404, 'api');
  }

  function tokenEndpoint(req: IncomingMessage, res: ServerResponse): undefined {
    const url = new URL(req.url ?? '/', 'http://quay.invalid');
    const h = req.headers.authorization ?? '';
    let who: string | undefined;
    let reads: string[] = [];
    const basic = basicCredentials(h);
    if (basic) {
      const { user, secret } = basic;
      const oauthToken = user === '$oauthtoken' ? opts.oauthTokens[secret] : undefined;
      const robot = opts.robots[user];
      if (oauthToken) {
        who = oauthToken.user;
        reads = oauthToken.reads;
      } else if (robot && robot.password === secret) {
        who = user;
        reads = robot.reads;
      } else {
        json(res, 401, {
          errors: [{ code: 'UNAUTHORIZED', detail: {}, message: 'Invalid Username or Password' }],
        });
        return record(req, 401, 'token');
      }
    }
    const access = new Set<string>();
    let catalog = false;
    for (const scope of url.searchParams.getAll('scope')) {
      const [type, name] = scope.split(':');
      if (type === 'repository' && name && (isPublic(name) || reads.includes(nsOf(name)))) access.add(name);
      if (type === 'registry' && who) catalog = true;
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, { ...(who ? { who } : {}), access, catalog, expired: false });
    json(res, 200, { token });
    return record(req, 200, 'token');
  }

  function registryGate(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://quay.invalid');
    const route = parseRegistryPath(url.pathname);
    const challenge = `Bearer realm="${origin}/v2/auth",service="${new URL(origin).host}"`;
    const h = req.headers.authorization ?? '';
    const issued = h.startsWith('Bearer ') ? tokens.get(h.slice(7)) : undefined;
    if (issued && opts.expireTokensAfter !== undefined && ++served === opts.expireTokensAfter)
      for (const t of tokens.values()) t.expired = true;
    const unauthorized = (): false => {
      json(
        res,
        401,
        {
          errors: [
            {
              code: 'UNAUTHORIZED',
              detail: {},
              message: 'access to the requested resource is not authorized',
            },
          ],
        },
        { 'WWW-Authenticate': challenge },
      );
      record(req, 401, 'registry');
      return false;
    };
    if (!issued || issued.expired) return unauthorized();
    if (route.kind === 'catalog') {
      if (!issued.catalog) return unauthorized();
      const who = issued.who;
      const reads = who
        ? (opts.robots[who]?.reads ??
          Object.values(opts.oauthTokens).find((t) => t.user === who)?.reads ??
          [])
        : [];
      json(res, 200, { repositories: [...byName.keys()].filter((r) => reads.includes(nsOf(r))).sort() });
      record(req, 200, 'registry');
      return false;
    }
    if (route.kind !== 'ping' && (!route.name || !issued.access.has(route.name))) return unauthorized();
    record(req, 200, 'registry');
    return true;
  }

  const intercept = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = req.url ?? '/';
    if (
      refuseScripted(
        limits,
        req,
        res,
        '<html><head><title>429 Too Many Requests</title></head><body>Too Many Requests</body></html>',
      )
    ) {
      record(
        req,
        429,
        path.startsWith('/api/') ? 'api' : /^\/v2\/auth(\?|$)/.test(path) ? 'token' : 'registry',
      );
      return true;
    }
    if (path.startsWith('/api/')) return api(req, res) ?? true;
    if (/^\/v2\/auth(\?|$)/.test(path)) return tokenEndpoint(req, res) ?? true;
    return !registryGate(req, res);
  };

  const registry = await startDemoRegistry(opts.repositories, {
    referrers: 'api',
    intercept,
    tagPageSize: 50,
    opaqueCursor: true,
  });
  origin = registry.url;
  return {
    url: registry.url,
    host: registry.host,
    registry,
    requests,
    rateLimit: (l) => limits.push({ ...l }),
    close: () => registry.close(),
  };
}
