// A stand-in for Docker Hub's three services, each on its own loopback origin, all describing the
// same content:
// - hub.docker.com: the Hub API (namespace repository and tag pages with absolute `next` links,
//   page_size silently capped at 100, anonymous paging refused past an offset, JWT logins through
//   /v2/auth/token and the deprecated /v2/users/login, private repositories visible only to
//   members, X-RateLimit-* headers, 429 + X-Retry-After);
// - auth.docker.io: the registry token service (GET /token, service registry.docker.io, anonymous
//   tokens for public repositories, Basic username:password-or-PAT for private ones);
// - registry-1.docker.io: the demo registry behind a Bearer challenge, with `ratelimit-*` headers
//   on manifest requests, GETs counted as pulls (HEADs free) and the pull-limit 429 once the
//   quota is spent.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DemoRegistry, parseRegistryPath, startDemoRegistry } from '../../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../../src/demo/image-builder.js';
import { sampleRepositories } from '../../../src/demo/sample-repositories.js';
import { renameRepositories, type TagFact, tagFacts } from './content-facts.js';
import { sendJson } from './fake-http.js';
import { manyTagsRepository } from './many-tags.js';

export const REGISTRY_SERVICE = 'registry.docker.io';

export interface HubUser {
  /** The account password (what /v2/users/login and Basic accept besides PATs). */
  password?: string;
  /** Personal access tokens (dckr_pat_…), accepted wherever the password is. */
  pats?: string[];
  /** Namespaces whose private repositories this user may see and pull. */
  namespaces?: string[];
}

export interface DockerHubFakeOptions {
  /** Repositories served; default: the sample content (Docker Hub names) plus acme/many-tags. */
  content?: RepositoryContent[];
  /** Repositories only members of their namespace can see. */
  privateRepositories?: string[];
  users?: Record<string, HubUser>;
}

export interface HubRequest {
  method: string;
  /** Path and query. */
  path: string;
  status: number;
  /** The account the request authenticated as, or undefined for anonymous. */
  user?: string;
}

export interface RegistryRequest {
  method: string;
  path: string;
  kind: string;
  status: number;
}

export interface TokenRequest {
  scopes: string[];
  user?: string;
  status: number;
}

/** Behaviour tests switch on and off between runs. */
export interface DockerHubKnobs {
  /** /v2/auth/token answers 404: only the deprecated /v2/users/login works. */
  legacyLoginOnly: boolean;
  /** Lifetime of a Hub JWT, seconds (the Hub's is 600). */
  jwtLifetimeSeconds: number;
  /** A JWT is rejected (401) after this many Hub API calls: expiry the client's clock cannot see. */
  jwtUses: number | undefined;
  /** The next `count` Hub API requests answer 429; `retryAfterSeconds` adds X-Retry-After. */
  hubThrottle: { count: number; retryAfterSeconds?: number } | undefined;
  /** Hub API requests per window before 429 (the Hub's X-RateLimit-Limit). */
  hubRateLimit: number;
  /** Anonymous tag pages past this offset answer 403 (the Hub: 1000). */
  anonymousTagOffset: number;
  /** Anonymous repository pages past this offset answer 403 (the Hub: 100). */
  anonymousRepositoryOffset: number;
  /** Pulls per window: anonymous per IP, authenticated per account. */
  anonymousPullLimit: number;
  authenticatedPullLimit: number;
  pullWindowSeconds: number;
  /** "repo:tag" listed by the Hub API without a digest (still processing). */
  undigested: Set<string>;
}

export interface DockerHubFake {
  hubUrl: string;
  authUrl: string;
  registryUrl: string;
  content: RepositoryContent[];
  knobs: DockerHubKnobs;
  hubRequests: HubRequest[];
  tokenRequests: TokenRequest[];
  /** Every request to the registry origin, challenges and pull-limit answers included. */
  registryRequests: RegistryRequest[];
  /** Hub logins answered 200, by endpoint. */
  logins: { token: number; legacy: number };
  /** Every Hub JWT handed out, so tests can check none leaks. */
  issuedJwts: string[];
  /** Manifest GETs counted against a pull quota (HEADs are free). */
  readonly pulls: number;
  /** Forget spent pull quota and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

/** Docker Hub has no nested repository names, so the sample's nested one moves up a level. */
export function hubSampleContent(): RepositoryContent[] {
  return [
    ...renameRepositories(sampleRepositories(), (n) =>
      n === 'acme/platform/ingress-controller' ? 'acme/ingress-controller' : n,
    ),
    manyTagsRepository('acme/many-tags', 250),
  ];
}

const REPO_DESCRIPTIONS: Record<string, string> = {
  'library/nginx': 'Official build of Nginx.',
  'library/redis': 'Redis is the world’s fastest data platform.',
};

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{
  server: Server;
  url: string;
}> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const json = sendJson;

export async function startDockerHubFake(opts: DockerHubFakeOptions = {}): Promise<DockerHubFake> {
  const content = opts.content ?? hubSampleContent();
  const privateRepos = new Set(opts.privateRepositories ?? []);
  const users = opts.users ?? {};
  const facts = new Map<string, TagFact[]>(content.map((r) => [r.name, tagFacts(r)]));
  const knobs: DockerHubKnobs = {
    legacyLoginOnly: false,
    jwtLifetimeSeconds: 600,
    jwtUses: undefined,
    hubThrottle: undefined,
    hubRateLimit: 180,
    anonymousTagOffset: 1000,
    anonymousRepositoryOffset: 100,
    anonymousPullLimit: 100,
    authenticatedPullLimit: 200,
    pullWindowSeconds: 21_600,
    undigested: new Set(),
  };
  const hubRequests: HubRequest[] = [];
  const tokenRequests: TokenRequest[] = [];
  const registryRequests: RegistryRequest[] = [];
  const logins = { token: 0, legacy: 0 };
  const issuedJwts: string[] = [];
  const jwts = new Map<string, { user: string; exp: number; uses: number }>();
  const registryTokens = new Map<
    string,
    { user?: string; repos: Set<string>; deletes: Set<string>; exp: number }
  >();
  /** Only members of a repository's namespace may delete in it (a PAT with the delete scope). */
  const mayDelete = (user: string | undefined, repo: string): boolean =>
    !!user && (users[user]?.namespaces ?? []).includes(repo.split('/')[0]!);
  const removed = new Set<string>();
  /** Why the registry refuses to delete `digest` in `repo`: a tag still on it, or an index holding it. */
  const stillReferenced = (repo: string, digest: string): string | undefined => {
    const tag = (facts.get(repo) ?? []).find((t) => t.digest === digest);
    if (tag) return `the manifest is still tagged (${tag.tag}): delete its tags first`;
    const r = content.find((c) => c.name === repo);
    for (const m of r?.manifests ?? []) {
      if (removed.has(`${repo}@${m.digest}`)) continue;
      const doc = JSON.parse(m.bytes.toString('utf8')) as { manifests?: Array<{ digest?: string }> };
      if (doc.manifests?.some((c) => c.digest === digest))
        return `the manifest is still referenced by the image ${m.digest}`;
    }
    return undefined;
  };
  const pullsBySource = new Map<string, number>();
  const hubCalls = new Map<string, number>();
  let pulls = 0;

  const userFor = (username: string, secret: string): string | undefined => {
    const u = users[username];
    if (!u) return undefined;
    return secret === u.password || (u.pats ?? []).includes(secret) ? username : undefined;
  };
  const mayPull = (user: string | undefined, repo: string): boolean =>
    !privateRepos.has(repo) || (!!user && (users[user]?.namespaces ?? []).includes(repo.split('/')[0]!));
  const now = () => Math.floor(Date.now() / 1000);

  // ---- auth.docker.io ----
  const auth = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://auth');
    const scopes = url.searchParams.getAll('scope');
    let user: string | undefined;
    const finish = (status: number, body: unknown) => {
      tokenRequests.push({ scopes, ...(user ? { user } : {}), status });
      json(res, status, body);
    };
    if (req.method !== 'GET' || url.pathname !== '/token') return finish(404, { details: 'not found' });
    if (url.searchParams.get('service') !== REGISTRY_SERVICE)
      return finish(400, { details: 'invalid service' });
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      user = userFor(decoded.slice(0, colon), decoded.slice(colon + 1));
      if (!user) return finish(401, { details: 'incorrect username or password' });
    }
    const repos = new Set<string>();
    const deletes = new Set<string>();
    for (const s of scopes) {
      const m = /^repository:([^:]+):(.+)$/.exec(s);
      // Partial grants are not errors: a repository the caller may not pull is left out of the token.
      if (m && m[2]!.split(',').includes('pull') && mayPull(user, m[1]!)) repos.add(m[1]!);
      if (m && m[2]!.split(',').includes('delete') && mayDelete(user, m[1]!)) deletes.add(m[1]!);
    }
    const token = randomBytes(24).toString('hex');
    registryTokens.set(token, { ...(user ? { user } : {}), repos, deletes, exp: now() + 300 });
    finish(200, { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
  });

  // ---- registry-1.docker.io (demo registry behind the token challenge) ----
  const challenge = (scope?: string, error?: string) =>
    `Bearer realm="${auth.url}/token",service="${REGISTRY_SERVICE}"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`;
  const registry: DemoRegistry = await startDemoRegistry(content, {
    referrers: 'api',
    deletes: 'enabled',
    intercept(req, res) {
      const url = new URL(req.url ?? '/', 'http://registry');
      const route = parseRegistryPath(url.pathname);
      const method = req.method ?? 'GET';
      res.on('finish', () =>
        registryRequests.push({ method, path: req.url ?? '/', kind: route.kind, status: res.statusCode }),
      );
      const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
      const grant = bearer ? registryTokens.get(bearer[1]!) : undefined;
      const deny = (scope?: string, error?: string) => {
        json(
          res,
          401,
          {
            errors: [
              {
                code: 'UNAUTHORIZED',
                message: 'authentication required',
                detail: route.name ? [{ Type: 'repository', Name: route.name, Action: 'pull' }] : null,
              },
            ],
          },
          { 'www-authenticate': challenge(scope, error), 'docker-distribution-api-version': 'registry/2.0' },
        );
        return true;
      };
      if (!grant || grant.exp < now()) return deny();
      if (route.kind === 'ping') return false;
      if (route.kind === 'catalog') return deny('registry:catalog:*', 'insufficient_scope');
      if (!route.name) return false;
      if (method === 'DELETE' && route.kind === 'manifest') {
        // The registry API deletes untagged, unreferenced manifests only, and answers 403 otherwise.
        if (!grant.deletes.has(route.name))
          return deny(`repository:${route.name}:delete`, 'insufficient_scope');
        const why = stillReferenced(route.name, route.reference!);
        if (why) {
          json(res, 403, { errors: [{ code: 'DENIED', message: why }] });
          return true;
        }
        removed.add(`${route.name}@${route.reference}`);
        return false;
      }
      const scope = `repository:${route.name}:pull`;
      if (!grant.repos.has(route.name)) return deny(scope, 'insufficient_scope');
      if (route.kind !== 'manifest') return false;
      const source = grant.user ?? '127.0.0.1';
      const limit = grant.user ? knobs.authenticatedPullLimit : knobs.anonymousPullLimit;
      const w = knobs.pullWindowSeconds;
      const used = pullsBySource.get(source) ?? 0;
      if (method === 'GET' && used >= limit) {
        json(
          res,
          429,
          {
            errors: [
              {
                code: 'TOOMANYREQUESTS',
                message:
                  'You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
              },
            ],
          },
          {
            'ratelimit-limit': `${limit};w=${w}`,
            'ratelimit-remaining': `0;w=${w}`,
            'docker-ratelimit-source': source,
          },
        );
        return true;
      }
      if (method === 'GET') {
        pullsBySource.set(source, used + 1);
        pulls++;
      }
      const left = limit - (pullsBySource.get(source) ?? 0);
      res.setHeader('ratelimit-limit', `${limit};w=${w}`);
      res.setHeader('ratelimit-remaining', `${left};w=${w}`);
      res.setHeader('docker-ratelimit-source', source);
      return false;
    },
  });

  // ---- hub.docker.com ----
  const hubUrlRef = { url: '' };
  const repoResult = (r: RepositoryContent) => {
    const [namespace, name] = r.name.split('/') as [string, string];
    const f = facts.get(r.name)!;
    const lastUpdated =
      f
        .map((t) => t.pushedAt)
        .sort()
        .pop() ?? null;
    return {
      name,
      namespace,
      repository_type: 'image',
      status: 1,
      status_description: 'active',
      description: REPO_DESCRIPTIONS[r.name] ?? `${name} images`,
      is_private: privateRepos.has(r.name),
      is_automated: false,
      star_count: name.length * 7,
      pull_count: name.length * 1000,
      last_updated: lastUpdated,
      date_registered: '2023-01-01T00:00:00Z',
      affiliation: '',
      media_types: [...new Set(f.map((t) => t.mediaType))],
      content_types: ['image'],
      categories: [],
      storage_size: f.reduce((a, t) => a + t.size, 0),
    };
  };
  const tagResult = (repoName: string, t: TagFact, id: number) => {
    const undigested = knobs.undigested.has(`${repoName}:${t.tag}`);
    return {
      creator: 1,
      id,
      images: t.platforms.map((p) => ({
        architecture: p.architecture,
        features: '',
        ...(p.variant ? { variant: p.variant } : { variant: null }),
        digest: p.digest,
        os: p.os,
        os_features: '',
        os_version: null,
        size: p.size,
        status: 'active',
        last_pulled: null,
        last_pushed: t.pushedAt,
      })),
      last_updated: t.pushedAt,
      last_updater: 1,
      last_updater_username: 'publisher',
      name: t.tag,
      repository: 1,
      full_size: t.size,
      v2: true,
      tag_status: 'active',
      tag_last_pulled: null,
      tag_last_pushed: t.pushedAt,
      media_type: t.mediaType,
      content_type: 'image',
      digest: undigested ? null : t.digest,
    };
  };

  /** One page of a `{count, next, previous, results}` listing, with the Hub's page rules. */
  const page = <T>(
    res: ServerResponse,
    url: URL,
    all: T[],
    anonymousOffset: number | undefined,
    headers: Record<string, string>,
  ) => {
    const rawSize = url.searchParams.get('page_size');
    const rawPage = url.searchParams.get('page');
    const size = Math.min(
      rawSize && /^\d+$/.test(rawSize) && Number(rawSize) > 0 ? Number(rawSize) : 10,
      100,
    );
    const number = rawPage === null ? 1 : /^\d+$/.test(rawPage) ? Number(rawPage) : Number.NaN;
    if (!(number >= 1)) return json(res, 400, { message: 'invalid page', errinfo: {} }, headers);
    const offset = (number - 1) * size;
    if (anonymousOffset !== undefined && offset >= anonymousOffset) {
      return json(
        res,
        403,
        {
          message: 'pagination offset too large for anonymous requests; sign in to page further',
          errinfo: {},
        },
        headers,
      );
    }
    if (offset > 0 && offset >= all.length)
      return json(res, 404, { message: 'object not found', errinfo: {} }, headers);
    const link = (n: number) => {
      const u = new URL(url.pathname, hubUrlRef.url);
      for (const [k, v] of url.searchParams) if (k !== 'page' && k !== 'page_size') u.searchParams.set(k, v);
      u.searchParams.set('page', String(n));
      u.searchParams.set('page_size', String(size));
      return u.toString();
    };
    json(
      res,
      200,
      {
        count: all.length,
        next: offset + size < all.length ? link(number + 1) : null,
        previous: number > 1 ? link(number - 1) : null,
        results: all.slice(offset, offset + size),
      },
      headers,
    );
  };

  const hub = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const method = req.method ?? 'GET';
    let user: string | undefined;
    res.on('finish', () =>
      hubRequests.push({ method, path: req.url ?? '/', status: res.statusCode, ...(user ? { user } : {}) }),
    );

    // Logins are not rate limited here; the listing endpoints are.
    if (method === 'POST' && url.pathname === '/v2/auth/token') {
      if (knobs.legacyLoginOnly) return json(res, 404, { message: 'object not found', errinfo: {} });
      const body = parseJson(await readBody(req));
      const identifier = typeof body?.identifier === 'string' ? body.identifier : '';
      const secret = typeof body?.secret === 'string' ? body.secret : '';
      if (!identifier || !secret)
        return json(res, 400, { message: 'identifier and secret are required', errinfo: {} });
      const who = userFor(identifier, secret);
      if (!who) return json(res, 401, { message: 'Incorrect authentication credentials', errinfo: {} });
      logins.token++;
      return json(res, 200, { access_token: mintJwt(who) });
    }
    if (method === 'POST' && url.pathname === '/v2/users/login') {
      const body = parseJson(await readBody(req));
      const who = userFor(String(body?.username ?? ''), String(body?.password ?? ''));
      if (!who) return json(res, 401, { detail: 'Incorrect authentication credentials.' });
      logins.legacy++;
      return json(res, 200, { token: mintJwt(who) });
    }

    const authz = /^(?:Bearer|JWT) (.+)$/i.exec(req.headers.authorization ?? '');
    if (authz) {
      const session = jwts.get(authz[1]!);
      const expired =
        !session || session.exp < now() || (knobs.jwtUses !== undefined && session.uses >= knobs.jwtUses);
      if (expired) return json(res, 401, { message: 'authentication token expired or invalid', errinfo: {} });
      session.uses++;
      user = session.user;
    }

    // Rate limit per caller: X-RateLimit-* on every answer, 429 + X-Retry-After when spent.
    const caller = user ?? '127.0.0.1';
    const reset = now() + 60;
    const calls = (hubCalls.get(caller) ?? 0) + 1;
    hubCalls.set(caller, calls);
    const throttle = knobs.hubThrottle;
    if (throttle && throttle.count > 0) {
      throttle.count--;
      if (throttle.retryAfterSeconds === undefined) {
        // The anti-abuse limit: a bare 429 without any header.
        res.writeHead(429, { 'content-type': 'text/plain' });
        return res.end('Too Many Requests');
      }
      const until = String(now() + throttle.retryAfterSeconds);
      return json(
        res,
        429,
        { message: 'Too Many Requests', errinfo: {} },
        {
          'x-ratelimit-limit': String(knobs.hubRateLimit),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': until,
          'x-retry-after': until,
        },
      );
    }
    const headers = {
      'x-ratelimit-limit': String(knobs.hubRateLimit),
      'x-ratelimit-remaining': String(Math.max(0, knobs.hubRateLimit - calls)),
      'x-ratelimit-reset': String(reset),
    };
    if (calls > knobs.hubRateLimit)
      return json(
        res,
        429,
        { message: 'Too Many Requests', errinfo: {} },
        { ...headers, 'x-retry-after': String(reset) },
      );

    const tagDelete = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags\/([^/]+)$/.exec(url.pathname);
    if (method === 'DELETE' && tagDelete) {
      // A tag goes, its manifest stays (pullable by digest) until deleted through the registry.
      const name = `${decodeURIComponent(tagDelete[1]!)}/${decodeURIComponent(tagDelete[2]!)}`;
      const tag = decodeURIComponent(tagDelete[3]!);
      if (!user) return json(res, 401, { message: 'authentication required', errinfo: {} }, headers);
      const f = facts.get(name);
      if (!f || !mayPull(user, name))
        return json(res, 404, { message: 'object not found', errinfo: {} }, headers);
      if (!mayDelete(user, name)) return json(res, 403, { message: 'forbidden', errinfo: {} }, headers);
      const at = f.findIndex((t) => t.tag === tag);
      if (at < 0) return json(res, 404, { message: 'tag not found', errinfo: {} }, headers);
      f.splice(at, 1);
      registry.removeTag(name, tag);
      res.writeHead(204, headers);
      return res.end();
    }
    const repos = /^\/v2\/namespaces\/([^/]+)\/repositories\/?$/.exec(url.pathname);
    if (method === 'GET' && repos) {
      const ns = decodeURIComponent(repos[1]!);
      const inNs = content.filter((r) => r.name.split('/')[0] === ns);
      if (inNs.length === 0) return json(res, 404, { message: 'object not found', errinfo: {} }, headers);
      const visible = inNs.filter((r) => mayPull(user, r.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
      return page(
        res,
        url,
        visible.map(repoResult),
        user ? undefined : knobs.anonymousRepositoryOffset,
        headers,
      );
    }
    const tags = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags\/?$/.exec(url.pathname);
    if (method === 'GET' && tags) {
      const name = `${decodeURIComponent(tags[1]!)}/${decodeURIComponent(tags[2]!)}`;
      const f = facts.get(name);
      // A private repository is indistinguishable from a missing one to those who may not see it.
      if (!f || !mayPull(user, name))
        return json(res, 404, { message: 'object not found', errinfo: {} }, headers);
      const ordering = url.searchParams.get('ordering');
      const ids = new Map(f.map((t, i) => [t.tag, i + 1]));
      const sorted = [...f].sort((a, b) => {
        if (ordering === 'last_updated' || ordering === '-last_updated') {
          const newestFirst = a.pushedAt === b.pushedAt ? 0 : a.pushedAt < b.pushedAt ? 1 : -1;
          const order = newestFirst || (a.tag < b.tag ? -1 : 1);
          return ordering === 'last_updated' ? order : -order;
        }
        return a.tag < b.tag ? -1 : 1;
      });
      return page(
        res,
        url,
        sorted.map((t) => tagResult(name, t, ids.get(t.tag)!)),
        user ? undefined : knobs.anonymousTagOffset,
        headers,
      );
    }
    json(res, 404, { message: 'object not found', errinfo: {} }, headers);
  });
  hubUrlRef.url = hub.url;

  function mintJwt(who: string): string {
    const iat = now();
    const exp = iat + knobs.jwtLifetimeSeconds;
    const jwt = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ sub: `uuid-${who}`, username: who, iat, exp, jti: randomBytes(8).toString('hex') })}.${randomBytes(32).toString('base64url')}`;
    jwts.set(jwt, { user: who, exp, uses: 0 });
    issuedJwts.push(jwt);
    return jwt;
  }

  return {
    hubUrl: hub.url,
    authUrl: auth.url,
    registryUrl: registry.url,
    content,
    knobs,
    hubRequests,
    tokenRequests,
    registryRequests,
    logins,
    issuedJwts,
    get pulls() {
      return pulls;
    },
    reset() {
      pullsBySource.clear();
      hubCalls.clear();
      pulls = 0;
      hubRequests.length = 0;
      tokenRequests.length = 0;
      registryRequests.length = 0;
      registry.requests.length = 0;
      logins.token = 0;
      logins.legacy = 0;
      issuedJwts.length = 0;
    },
    async close() {
      await Promise.all([registry.close(), closeServer(hub.server), closeServer(auth.server)]);
    },
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
