// A fake Azure Container Registry, as clients see <registry>.azurecr.io:
// - every /v2 and /acr/v1 request needs an ACR access token; without one the answer is 401 with
//   `Bearer realm="<origin>/oauth2/token",service="<host>"` and ACR's error body;
// - GET /oauth2/token (Basic: admin user, repository-scoped token, or the null GUID with an ACR
//   refresh token), POST /oauth2/token (grant_type=refresh_token) and POST /oauth2/exchange
//   (grant_type=access_token: an Entra ID token → an ACR refresh token);
// - tokens carry only the actions the identity has (partial grants, as ACR does): the scoped token
//   has `pull` but no `metadata_read` and no catalog; a missing action answers 401
//   `error="insufficient_scope"`;
// - /acr/v1/_catalog and /acr/v1/<repo>/_tags (orderby timedesc|timeasc, n default 100, capped at
//   1000 per Azure/acr#749, `last`) page with relative `Link: rel="next"`;
// - /acr/v1/<repo>/_manifests pages the same way, one row per manifest (tagged or not, an index's
//   platform and attestation manifests included) with its tags, createdTime, lastUpdateTime,
//   imageSize, mediaType and, for an index, its `references`; an untagged row has no `tags`;
// - /v2 is the demo registry (tags/list pages of up to 1000 with Link); DELETE of a manifest by
//   digest needs the `delete` action (not in the scoped token's grant) and takes its tags along,
//   after which both listings leave it out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DemoRegistry, parseRegistryPath, startDemoRegistry } from '../../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../../src/demo/image-builder.js';
import { tagFacts } from './content-facts.js';
import { untaggedFacts } from './untagged-facts.js';

export const ADMIN = { username: 'myregistry', password: 'admin-password-0123456789' };
export const SCOPED_TOKEN = { username: 'ci-pull-token', password: 'scoped-token-password-0123456789' };
export const ENTRA_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake-entra-access-token.sig';
export const NULL_GUID = '00000000-0000-0000-0000-000000000000';

const AUTH_MESSAGE = 'authentication required, visit https://aka.ms/acr/authorization for more information.';
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

type Identity = 'admin' | 'scoped' | 'entra';

interface Issued {
  identity: Identity;
  /** Granted `type:name:action` entries. */
  access: Set<string>;
  expired: boolean;
}

export interface AcrFakeOptions {
  repos: RepositoryContent[];
}

export interface AcrLogged {
  method: string;
  path: string;
  status: number;
  kind:
    | 'token'
    | 'exchange'
    | 'acr'
    | 'ping'
    | 'catalog'
    | 'tags'
    | 'manifest'
    | 'blob'
    | 'referrers'
    | 'other';
}

export interface AcrFake {
  url: string;
  host: string;
  registry: DemoRegistry;
  requests: AcrLogged[];
  /** Tenants sent to /oauth2/exchange. */
  tenants: Array<string | undefined>;
  /** Lowers the /acr/v1 page cap (default 1000) so small content spans several pages. */
  pageCap: number;
  expireTokens(): void;
  /** The next `count` /acr/v1 requests answer 429, with `Retry-After` when given. */
  throttle(count: number, retryAfter?: string): void;
  close(): Promise<void>;
}

/** ACR's timestamp form: seven fractional digits. */
function acrTime(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** When the fake says a referrer (pushed by digest, so dated by no tag) was pushed. */
const REFERRER_PUSHED = '2024-11-08T00:00:00Z';

interface ManifestDoc {
  config?: { size: number };
  layers?: Array<{ size: number }>;
  manifests?: Array<{ digest: string; platform?: { architecture?: string; os?: string } }>;
}

interface ManifestRow {
  digest: string;
  tags: string[];
  pushedAt: string;
  imageSize: number;
  mediaType: string;
  references?: Array<{ digest: string; architecture?: string; os?: string }>;
}

/**
 * Every manifest of a repository as `_manifests` describes it. Push times: a tag's, else the
 * index's that holds it, else a referrer's fixed time; sizes: config and layers, an index's the
 * sum of its manifests'.
 */
function manifestRows(repo: RepositoryContent): ManifestRow[] {
  const docs = new Map(
    repo.manifests.map((m) => [m.digest, JSON.parse(m.bytes.toString('utf8')) as ManifestDoc]),
  );
  const pushed = new Map<string, string>();
  for (const f of [...tagFacts(repo), ...untaggedFacts(repo)])
    for (const d of [f.digest, ...f.platforms.map((p) => p.digest), ...f.attestations])
      if (!pushed.has(d)) pushed.set(d, f.pushedAt);
  const sizeOf = (digest: string): number => {
    const doc = docs.get(digest);
    if (!doc) return 0;
    if (doc.manifests) return doc.manifests.reduce((n, c) => n + sizeOf(c.digest), 0);
    return (doc.config?.size ?? 0) + (doc.layers ?? []).reduce((n, l) => n + l.size, 0);
  };
  const tags = Object.entries(repo.tags).sort(([a], [b]) => (a < b ? -1 : 1));
  return repo.manifests.map((m) => {
    const doc = docs.get(m.digest)!;
    return {
      digest: m.digest,
      tags: tags.filter(([, d]) => d === m.digest).map(([t]) => t),
      pushedAt: pushed.get(m.digest) ?? REFERRER_PUSHED,
      imageSize: sizeOf(m.digest),
      mediaType: m.mediaType,
      ...(doc.manifests
        ? {
            references: doc.manifests.map((c) => ({
              digest: c.digest,
              ...(c.platform?.architecture ? { architecture: c.platform.architecture } : {}),
              ...(c.platform?.os ? { os: c.platform.os } : {}),
            })),
          }
        : {}),
    };
  });
}

const CHANGEABLE = { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true };

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

export async function startAcrFake(opts: AcrFakeOptions): Promise<AcrFake> {
  // What the registry holds now: a delete takes the manifest and its tags out.
  const byName = new Map(opts.repos.map((r) => [r.name, r]));
  const forget = (repo: string, digest: string) => {
    const c = byName.get(repo);
    if (!c) return;
    byName.set(repo, {
      ...c,
      manifests: c.manifests.filter((m) => m.digest !== digest),
      tags: Object.fromEntries(Object.entries(c.tags).filter(([, d]) => d !== digest)),
    });
  };
  const issued = new Map<string, Issued>();
  const refreshTokens = new Map<string, Identity>();
  const requests: AcrLogged[] = [];
  const tenants: Array<string | undefined> = [];
  const throttled = { count: 0, retryAfter: undefined as string | undefined };
  let serial = 0;
  let host = '';
  let origin = '';
  const fake = { pageCap: MAX_PAGE };

  const challenge = (scope?: string, error?: string) =>
    `Bearer realm="${origin}/oauth2/token",service="${host}"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`;
  const unauthorized = (res: ServerResponse, scope?: string, error?: string) => {
    const [type, name, action] = (scope ?? '').split(':');
    sendJson(
      res,
      401,
      {
        errors: [
          {
            code: 'UNAUTHORIZED',
            message: AUTH_MESSAGE,
            ...(scope ? { detail: [{ Type: type, Name: name, Action: action }] } : {}),
          },
        ],
      },
      { 'www-authenticate': challenge(scope, error) },
    );
  };

  const allowed = (identity: Identity, entry: string): boolean => {
    if (identity !== 'scoped') return true;
    const [type, , action] = entry.split(':');
    return type === 'repository' && action === 'pull';
  };

  const mint = (identity: Identity, scopes: string[]): string => {
    const access = new Set<string>();
    for (const s of scopes) {
      const [type, name, actions] = s.split(':');
      for (const a of (actions ?? '').split(',')) {
        const entry = `${type}:${name}:${a}`;
        if (allowed(identity, entry)) access.add(entry);
      }
    }
    const token = `acr-access-${++serial}-${Math.random().toString(36).slice(2)}`;
    issued.set(token, { identity, access, expired: false });
    return token;
  };

  const basicIdentity = (header: string | undefined): Identity | 'bad' | undefined => {
    if (!header) return undefined;
    if (!header.startsWith('Basic ')) return 'bad';
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    const user = decoded.slice(0, i);
    const pass = decoded.slice(i + 1);
    if (user === ADMIN.username && pass === ADMIN.password) return 'admin';
    if (user === SCOPED_TOKEN.username && pass === SCOPED_TOKEN.password) return 'scoped';
    if (user === NULL_GUID && refreshTokens.has(pass)) return refreshTokens.get(pass)!;
    return 'bad';
  };

  const page = <T>(all: T[], key: (t: T) => string, url: URL) => {
    const asked = Number(url.searchParams.get('n') ?? DEFAULT_PAGE);
    const n = Math.min(Number.isFinite(asked) && asked > 0 ? asked : DEFAULT_PAGE, MAX_PAGE, fake.pageCap);
    const last = url.searchParams.get('last');
    const start = last === null ? 0 : all.findIndex((t) => key(t) === last) + 1;
    const items = all.slice(start, start + n);
    const more = start + n < all.length;
    let link: string | undefined;
    if (more) {
      const q = new URLSearchParams(url.searchParams);
      q.set('last', key(items[items.length - 1]!));
      q.set('n', String(n));
      link = `<${url.pathname}?${q.toString()}>; rel="next"`;
    }
    return { items, link };
  };

  const tokenEndpoint = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method === 'GET') {
      const who = basicIdentity(req.headers.authorization);
      if (who === 'bad' || who === undefined) return unauthorized(res);
      return sendJson(res, 200, { access_token: mint(who, url.searchParams.getAll('scope')) });
    }
    const form = await readBody(req);
    if (form.get('grant_type') !== 'refresh_token')
      return sendJson(res, 400, { errors: [{ code: 'UNSUPPORTED', message: 'unsupported grant_type' }] });
    const who = refreshTokens.get(form.get('refresh_token') ?? '');
    if (!who) return unauthorized(res);
    sendJson(res, 200, { access_token: mint(who, (form.get('scope') ?? '').split(' ').filter(Boolean)) });
  };

  const exchange = async (req: IncomingMessage, res: ServerResponse) => {
    const form = await readBody(req);
    tenants.push(form.get('tenant') ?? undefined);
    if (form.get('grant_type') !== 'access_token' || form.get('service') !== host)
      return sendJson(res, 400, {
        errors: [{ code: 'BAD_REQUEST', message: 'invalid grant_type or service' }],
      });
    if (form.get('access_token') !== ENTRA_TOKEN) return unauthorized(res);
    const refresh = `acr-refresh-${++serial}-${Math.random().toString(36).slice(2)}`;
    refreshTokens.set(refresh, 'entra');
    sendJson(res, 200, { refresh_token: refresh });
  };

  const acrApi = (res: ServerResponse, url: URL, granted: Issued) => {
    if (url.pathname === '/acr/v1/_catalog') {
      if (!granted.access.has('registry:catalog:*'))
        return unauthorized(res, 'registry:catalog:*', 'insufficient_scope');
      const { items, link } = page([...byName.keys()].sort(), (r) => r, url);
      return sendJson(res, 200, { repositories: items }, link ? { link } : {});
    }
    const m = /^\/acr\/v1\/(.+)\/(_tags|_manifests)$/.exec(url.pathname);
    if (!m) return sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });
    const repo = m[1]!;
    const scope = `repository:${repo}:metadata_read`;
    if (!granted.access.has(scope)) return unauthorized(res, scope, 'insufficient_scope');
    const content = byName.get(repo);
    if (!content)
      return sendJson(res, 404, {
        errors: [
          { code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: repo } },
        ],
      });
    const order = url.searchParams.get('orderby');
    if (m[2] === '_manifests') {
      const rows = manifestRows(content).sort(
        (a, b) =>
          (order === 'timeasc' || order === 'timedesc'
            ? (a.pushedAt < b.pushedAt ? -1 : a.pushedAt > b.pushedAt ? 1 : 0) *
              (order === 'timedesc' ? -1 : 1)
            : 0) || (a.digest < b.digest ? -1 : 1),
      );
      const { items, link } = page(rows, (r) => r.digest, url);
      return sendJson(
        res,
        200,
        {
          registry: host,
          imageName: repo,
          manifests: items.map((r) => ({
            digest: r.digest,
            imageSize: r.imageSize,
            createdTime: acrTime(r.pushedAt),
            lastUpdateTime: acrTime(r.pushedAt),
            mediaType: r.mediaType,
            ...(r.tags.length > 0 ? { tags: r.tags } : {}),
            ...(r.references ? { references: r.references } : {}),
            changeableAttributes: CHANGEABLE,
          })),
        },
        link ? { link } : {},
      );
    }
    const all = tagFacts(content);
    const sorted = [...all].sort((a, b) =>
      order === 'timeasc' || order === 'timedesc'
        ? (a.pushedAt < b.pushedAt ? -1 : a.pushedAt > b.pushedAt ? 1 : a.tag < b.tag ? -1 : 1) *
          (order === 'timedesc' ? -1 : 1)
        : a.tag < b.tag
          ? -1
          : 1,
    );
    const { items, link } = page(sorted, (t) => t.tag, url);
    sendJson(
      res,
      200,
      {
        registry: host,
        imageName: repo,
        tags: items.map((t) => ({
          name: t.tag,
          digest: t.digest,
          createdTime: acrTime(t.pushedAt),
          lastUpdateTime: acrTime(t.pushedAt),
          signed: false,
          changeableAttributes: CHANGEABLE,
        })),
      },
      link ? { link } : {},
    );
  };

  const intercept = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = parseRegistryPath(url.pathname);
    const kind: AcrLogged['kind'] =
      url.pathname === '/oauth2/token'
        ? 'token'
        : url.pathname === '/oauth2/exchange'
          ? 'exchange'
          : url.pathname.startsWith('/acr/v1/')
            ? 'acr'
            : route.kind;
    const entry = { method: req.method ?? 'GET', path: req.url ?? '/', kind };
    res.on('finish', () => requests.push({ ...entry, status: res.statusCode }));
    const fail = (err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { errors: [{ code: 'INTERNAL', message: String(err) }] });
    };

    if (kind === 'token') {
      tokenEndpoint(req, res, url).catch(fail);
      return true;
    }
    if (kind === 'exchange') {
      if (req.method !== 'POST') {
        sendJson(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'use POST' }] });
        return true;
      }
      exchange(req, res).catch(fail);
      return true;
    }
    if (kind !== 'acr' && !url.pathname.startsWith('/v2')) return false;
    const auth = req.headers.authorization ?? '';
    const granted = auth.startsWith('Bearer ') ? issued.get(auth.slice(7)) : undefined;
    const needed =
      kind === 'acr'
        ? undefined
        : route.kind === 'catalog'
          ? 'registry:catalog:*'
          : route.name !== undefined
            ? `repository:${route.name}:${req.method === 'DELETE' ? 'delete' : 'pull'}`
            : undefined;
    if (!granted || granted.expired) {
      unauthorized(res, needed);
      return true;
    }
    if (kind === 'acr') {
      if (throttled.count > 0) {
        throttled.count--;
        sendJson(
          res,
          429,
          { errors: [{ code: 'TOOMANYREQUESTS', message: 'too many requests' }] },
          {
            ...(throttled.retryAfter ? { 'retry-after': throttled.retryAfter } : {}),
          },
        );
        return true;
      }
      acrApi(res, url, granted);
      return true;
    }
    if (needed && !granted.access.has(needed)) {
      unauthorized(res, needed, 'insufficient_scope');
      return true;
    }
    if (req.method === 'DELETE' && route.kind === 'manifest') {
      const name = route.name!;
      const digest = route.reference!;
      res.on('finish', () => {
        if (res.statusCode === 202) forget(name, digest);
      });
    }
    return false;
  };

  const registry = await startDemoRegistry(opts.repos, {
    referrers: 'api',
    intercept,
    tagPageSize: MAX_PAGE,
    deletes: 'enabled',
  });
  host = registry.host;
  origin = registry.url;
  return Object.assign(fake, {
    url: registry.url,
    host: registry.host,
    registry,
    requests,
    tenants,
    expireTokens() {
      for (const t of issued.values()) t.expired = true;
    },
    throttle(count: number, retryAfter?: string) {
      throttled.count = count;
      throttled.retryAfter = retryAfter;
    },
    close: () => registry.close(),
  });
}
