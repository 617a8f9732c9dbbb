// A fake JFrog Artifactory Docker repository (one repo key) on the demo registry's /v2 content,
// reachable the ways Artifactory offers:
// - /artifactory/api/docker/<key>/v2/... and /artifactory/api/oci/<key>/v2/...;
// - at the host root, either the repository-path method (/v2/<key>/<image>/...; the root catalog
//   lists <key>/<image>) or a port/subdomain dedicated to the repository (/v2/<image>/...).
// Every answer carries X-JFrog-Version. Challenges: `Basic realm="Artifactory Realm"` or
// `Bearer realm="<api path>/v2/token",service="<host>"`. Basic accepts the password or the user's
// API key / identity token; an access token also works directly as `Bearer`.
// Listings honour `n` (up to pageCap); `last` is a numeric offset and the next-page Link is relative
// and drops everything before /v2 and the repo key (RTFACT-18971), so following it verbatim lands
// on the wrong repository.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRegistryPath, startDemoRegistry } from '../../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../../src/demo/image-builder.js';
import { sampleRepositories } from '../../../src/demo/sample-repositories.js';
import { basicCredentials, registryErrorBody, sendJson } from './fake-http.js';
import { DEFAULT_FAKE_USERS, type FakeAuth, type FakeRequest, Throttles, TokenBook } from './nexus-fake.js';

export const JFROG_VERSION = 'Artifactory/7.77.5 77705900';

export interface ArtifactoryFakeOptions {
  repositories?: RepositoryContent[];
  key?: string;
  /** What /v2 at the host root is: the repository-path method, or this repository's own port. */
  root?: 'repository-path' | 'port';
  pageCap?: number;
  auth?: FakeAuth;
  users?: Record<string, string>;
  /** user -> API key or identity token, accepted as the Basic password. */
  apiKeys?: Record<string, string>;
  /** Access tokens accepted as `Authorization: Bearer` without an exchange. */
  accessTokens?: string[];
  tokenUses?: number;
}

export interface ArtifactoryFake {
  origin: string;
  host: string;
  key: string;
  /** api_url per access method. */
  urls: { docker: string; oci: string; root: string };
  requests: FakeRequest[];
  tokensIssued: number;
  throttle(count: number, opts?: { retryAfter?: string; kinds?: FakeRequest['kind'][] }): void;
  close(): Promise<void>;
}

function offsetPage(all: string[], url: URL, cap: number): { items: string[]; next?: number; n: number } {
  const last = Number(url.searchParams.get('last') ?? '0');
  const from = Number.isInteger(last) && last > 0 ? last : 0;
  const asked = Number(url.searchParams.get('n') ?? 'NaN');
  const n = Number.isInteger(asked) && asked >= 0 ? Math.min(asked, cap) : cap;
  const items = all.slice(from, from + n);
  return { items, n, ...(from + n < all.length ? { next: from + n } : {}) };
}

export async function startArtifactoryFake(opts: ArtifactoryFakeOptions = {}): Promise<ArtifactoryFake> {
  const repos = opts.repositories ?? sampleRepositories();
  const key = opts.key ?? 'docker-local';
  const root = opts.root ?? 'repository-path';
  const cap = opts.pageCap ?? 1000;
  const auth = opts.auth ?? 'bearer';
  const users = opts.users ?? DEFAULT_FAKE_USERS;
  const apiKeys = opts.apiKeys ?? {};
  const accessTokens = new Set(opts.accessTokens ?? []);
  const tokens = new TokenBook('jfrt-', opts.tokenUses ?? Number.POSITIVE_INFINITY);
  const throttles = new Throttles();
  const requests: FakeRequest[] = [];
  const catalog = repos.map((r) => r.name).sort();
  const tagsOf = new Map(repos.map((r) => [r.name, Object.keys(r.tags).sort()]));
  const validBasic = (header: string | undefined) => {
    const c = basicCredentials(header);
    return (
      !!c && (users[c.user] === c.secret || (apiKeys[c.user] !== undefined && apiKeys[c.user] === c.secret))
    );
  };
  const validAccessToken = (header: string | undefined) => {
    const m = /^bearer\s+(\S+)$/i.exec(header ?? '');
    return !!m && accessTokens.has(m[1]!);
  };

  const intercept = (req: IncomingMessage, res: ServerResponse): boolean => {
    const raw = req.url ?? '/';
    const origin = `http://${req.headers.host}`;
    const record: FakeRequest = { method: req.method ?? 'GET', path: raw, kind: 'other', status: 0 };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    res.setHeader('X-JFrog-Version', JFROG_VERSION);
    res.setHeader('X-Artifactory-Id', 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0');
    const url = new URL(raw, origin);
    let path = url.pathname;
    /** What precedes /v2 for this request (where its token realm lives). */
    let prefix = '';
    /** Listing names under the host root's repository-path method carry the key. */
    let keyed = false;
    const api = /^\/artifactory\/api\/(docker|oci)\/([^/]+)(\/v2(?:\/.*)?)$/.exec(path);
    if (api) {
      if (api[2] !== key) {
        sendJson(res, 404, registryErrorBody('NAME_UNKNOWN', 'Repository name not known to registry.'));
        return true;
      }
      prefix = `/artifactory/api/${api[1]}/${key}`;
      path = api[3]!;
    } else if (path.startsWith('/artifactory/')) {
      sendJson(res, 404, { errors: [{ status: 404, message: 'Not Found' }] });
      return true;
    } else if (root === 'repository-path' && path !== '/v2' && path !== '/v2/' && path !== '/v2/token') {
      if (path === '/v2/_catalog') {
        keyed = true;
      } else {
        const m = /^\/v2\/([^/]+)(\/.*)$/.exec(path);
        if (!m || m[1] !== key) {
          sendJson(res, 404, registryErrorBody('NAME_UNKNOWN', 'Repository name not known to registry.'));
          return true;
        }
        path = `/v2${m[2]}`;
        keyed = true;
      }
    }
    if (path === '/v2/token') {
      record.kind = 'token';
      if (!validBasic(req.headers.authorization) && !validAccessToken(req.headers.authorization)) {
        sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'Bad credentials' }] });
        return true;
      }
      sendJson(res, 200, {
        token: tokens.mint(url.searchParams.getAll('scope').join(' ')),
        expires_in: 3600,
      });
      return true;
    }
    const route = parseRegistryPath(path);
    record.kind = route.kind;
    if (throttles.apply(record.kind, res)) return true;
    const header = req.headers.authorization;
    if (auth !== 'anonymous' && !validAccessToken(header)) {
      const ok = auth === 'basic' ? validBasic(header) : tokens.use(header);
      if (!ok) {
        const expired = auth === 'bearer' && /^bearer /i.test(header ?? '');
        sendJson(res, 401, registryErrorBody('UNAUTHORIZED', 'authentication required'), {
          'WWW-Authenticate':
            auth === 'basic'
              ? 'Basic realm="Artifactory Realm"'
              : `Bearer realm="${origin}${prefix}/v2/token",service="${req.headers.host}"${expired ? ',error="invalid_token"' : ''}`,
        });
        return true;
      }
    }
    if (route.kind === 'catalog' || route.kind === 'tags') {
      const all = route.kind === 'catalog' ? catalog : tagsOf.get(route.name!);
      if (!all) {
        sendJson(res, 404, registryErrorBody('NAME_UNKNOWN', 'Repository name not known to registry.'));
        return true;
      }
      const p = offsetPage(all, url, cap);
      const headers: Record<string, string> = {};
      // The defect: the link keeps only /v2/<image>/..., losing the API prefix and the key.
      if (p.next !== undefined) headers.Link = `<${path}?last=${p.next}&n=${p.n}>; rel="next"`;
      const items = route.kind === 'catalog' && keyed ? p.items.map((r) => `${key}/${r}`) : p.items;
      sendJson(
        res,
        200,
        route.kind === 'catalog'
          ? { repositories: items }
          : { name: keyed ? `${key}/${route.name}` : route.name, tags: items },
        headers,
      );
      return true;
    }
    req.url = `${path}${url.search}`;
    return false;
  };

  const demo = await startDemoRegistry(repos, { referrers: 'api', intercept });
  return {
    origin: demo.url,
    host: demo.host,
    key,
    urls: {
      docker: `${demo.url}/artifactory/api/docker/${key}`,
      oci: `${demo.url}/artifactory/api/oci/${key}`,
      root: demo.url,
    },
    requests,
    get tokensIssued() {
      return tokens.issued;
    },
    throttle: (count, o) => throttles.set(count, o),
    close: () => demo.close(),
  };
}
