// A fake Sonatype Nexus Repository 3 Docker repository, on the demo registry's /v2 content, with
// the behaviours clients trip over:
// - path form (main port): /repository/<name>/v2/...; the main port answers 404 at /v2/ (no
//   path-based routing), or connector form: /v2/ at the root, /repository/... answers 400;
// - `Server: Nexus/3…` on every answer; Basic challenge `BASIC realm="Sonatype Nexus Repository
//   Manager"` (upper-case scheme, as Nexus sends it) or, with the Docker Bearer Token Realm,
//   `Bearer realm="<base>/v2/token",service="<base>/v2/token"` and tokens `DockerToken.<n>`;
// - listings: a *group* repository stops after `pageCap` items whatever `n` asks, honours `last`
//   and sends no Link (renovate#18447, nexus-public#117); a *hosted* repository honours `n` (up
//   to pageCap) and sends an absolute Link that always carries /repository/<name>, which the
//   connector port rejects with 400 (nexus-public#1011);
// - 429 on demand (with or without Retry-After), tokens that stop working after a few uses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRegistryPath, startDemoRegistry } from '../../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../../src/demo/image-builder.js';
import { sampleRepositories } from '../../../src/demo/sample-repositories.js';
import { basicCredentials, registryErrorBody, sendJson } from './fake-http.js';

export type FakeAuth = 'anonymous' | 'basic' | 'bearer';

export interface FakeRequest {
  method: string;
  /** The path as the client sent it, query included. */
  path: string;
  kind: 'ping' | 'catalog' | 'tags' | 'manifest' | 'blob' | 'referrers' | 'token' | 'other';
  status: number;
}

export interface NexusFakeOptions {
  repositories?: RepositoryContent[];
  /** The Docker repository's name in Nexus. */
  repository?: string;
  form?: 'path' | 'connector';
  kind?: 'group' | 'hosted';
  /** Most items one listing page holds. */
  pageCap?: number;
  auth?: FakeAuth;
  users?: Record<string, string>;
  /** Requests a token is good for before Nexus answers 401 for it (an expired token). */
  tokenUses?: number;
}

export interface Throttle {
  count: number;
  retryAfter?: string;
  kinds: FakeRequest['kind'][];
}

export interface NexusFake {
  /** The api_url a user would configure for this form. */
  apiUrl: string;
  origin: string;
  host: string;
  requests: FakeRequest[];
  tokensIssued: number;
  /** The next `count` requests of these kinds (default: listings) answer 429. */
  throttle(count: number, opts?: { retryAfter?: string; kinds?: FakeRequest['kind'][] }): void;
  close(): Promise<void>;
}

export const NEXUS_SERVER = 'Nexus/3.68.1-02 (OSS)';
export const NEXUS_REALM = 'Sonatype Nexus Repository Manager';
export const DEFAULT_FAKE_USERS: Readonly<Record<string, string>> = { ci: 'ci-password-1234' };

/** Tokens handed out by a fake token endpoint, each good for a number of uses. */
export class TokenBook {
  issued = 0;
  private readonly uses = new Map<string, number>();
  constructor(
    private readonly prefix: string,
    private readonly maxUses: number,
  ) {}
  private readonly scopes = new Set<string>();
  /** A token for `scope`; only a scope's first token expires, its replacement lasts the run. */
  mint(scope: string): string {
    this.issued++;
    const token = `${this.prefix}${this.issued.toString().padStart(4, '0')}-${Math.random().toString(36).slice(2, 10)}`;
    this.uses.set(token, this.scopes.has(scope) ? Number.NEGATIVE_INFINITY : 0);
    this.scopes.add(scope);
    return token;
  }
  /** True while the token is known and not worn out; counts one use. */
  use(header: string | undefined): boolean {
    const m = /^bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m || !this.uses.has(m[1]!)) return false;
    const used = this.uses.get(m[1]!)!;
    if (used >= this.maxUses) return false;
    this.uses.set(m[1]!, used + 1);
    return true;
  }
}

export class Throttles {
  private current: Throttle | undefined;
  set(count: number, opts: { retryAfter?: string; kinds?: FakeRequest['kind'][] } = {}): void {
    this.current = {
      count,
      kinds: opts.kinds ?? ['catalog', 'tags'],
      ...(opts.retryAfter ? { retryAfter: opts.retryAfter } : {}),
    };
  }
  /** Answers 429 (returns true) when a throttle covers this request. */
  apply(kind: FakeRequest['kind'], res: ServerResponse): boolean {
    const t = this.current;
    if (!t || t.count <= 0 || !t.kinds.includes(kind)) return false;
    t.count--;
    sendJson(
      res,
      429,
      registryErrorBody('TOOMANYREQUESTS', 'too many requests'),
      t.retryAfter ? { 'Retry-After': t.retryAfter } : {},
    );
    return true;
  }
}

/** The names after `last` (lexical), as a group or hosted repository pages them. */
function page(all: string[], url: URL, cap: number, honourN: boolean): { items: string[]; more: boolean } {
  const last = url.searchParams.get('last');
  const rest = last === null ? all : all.filter((x) => x > last);
  const n = Number(url.searchParams.get('n') ?? 'NaN');
  const limit = honourN && Number.isInteger(n) && n >= 0 ? Math.min(n, cap) : cap;
  return { items: rest.slice(0, limit), more: rest.length > limit };
}

export async function startNexusFake(opts: NexusFakeOptions = {}): Promise<NexusFake> {
  const repos = opts.repositories ?? sampleRepositories();
  const name = opts.repository ?? 'docker-group';
  const form = opts.form ?? 'path';
  const kind = opts.kind ?? 'group';
  const cap = opts.pageCap ?? 100;
  const auth = opts.auth ?? 'basic';
  const users = opts.users ?? DEFAULT_FAKE_USERS;
  const tokens = new TokenBook('DockerToken.', opts.tokenUses ?? Number.POSITIVE_INFINITY);
  const throttles = new Throttles();
  const requests: FakeRequest[] = [];
  const catalog = repos.map((r) => r.name).sort();
  const tagsOf = new Map(repos.map((r) => [r.name, Object.keys(r.tags).sort()]));
  const prefix = form === 'path' ? `/repository/${name}` : '';

  const intercept = (req: IncomingMessage, res: ServerResponse): boolean => {
    const raw = req.url ?? '/';
    const origin = `http://${req.headers.host}`;
    const record: FakeRequest = { method: req.method ?? 'GET', path: raw, kind: 'other', status: 0 };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    res.setHeader('Server', NEXUS_SERVER);
    const url = new URL(raw, origin);
    let path = url.pathname;
    if (form === 'path') {
      if (!path.startsWith(`${prefix}/`)) {
        res.writeHead(404, { 'Content-Type': 'text/html' });
        res.end('<html><body>Not Found</body></html>');
        return true;
      }
      path = path.slice(prefix.length);
    } else if (path.startsWith('/repository/')) {
      // A connector serves only /v2; the main port's paths are a bad request there.
      sendJson(res, 400, registryErrorBody('UNSUPPORTED', `Not a docker request: ${path}`));
      return true;
    }
    const base = `${origin}${prefix}`;
    if (path === '/v2/token') {
      record.kind = 'token';
      const creds = basicCredentials(req.headers.authorization);
      if (!creds || users[creds.user] !== creds.secret) {
        sendJson(res, 401, registryErrorBody('UNAUTHORIZED', 'authentication required'));
        return true;
      }
      sendJson(res, 200, { token: tokens.mint(url.searchParams.getAll('scope').join(' ')) });
      return true;
    }
    const route = parseRegistryPath(path);
    record.kind = route.kind;
    if (throttles.apply(record.kind, res)) return true;
    if (auth === 'basic') {
      const creds = basicCredentials(req.headers.authorization);
      if (!creds || users[creds.user] !== creds.secret) {
        sendJson(
          res,
          401,
          registryErrorBody('UNAUTHORIZED', 'access to the requested resource is not authorized'),
          { 'WWW-Authenticate': `BASIC realm="${NEXUS_REALM}"` },
        );
        return true;
      }
    } else if (auth === 'bearer' && !tokens.use(req.headers.authorization)) {
      const expired = /^bearer /i.test(req.headers.authorization ?? '');
      sendJson(res, 401, registryErrorBody('UNAUTHORIZED', 'authentication required'), {
        'WWW-Authenticate': `Bearer realm="${base}/v2/token",service="${base}/v2/token"${expired ? ',error="invalid_token"' : ''}`,
      });
      return true;
    }
    if (route.kind === 'catalog' || route.kind === 'tags') {
      const all = route.kind === 'catalog' ? catalog : tagsOf.get(route.name!);
      if (!all) {
        sendJson(res, 404, registryErrorBody('NAME_UNKNOWN', 'repository name not known to registry'));
        return true;
      }
      const p = page(all, url, cap, kind === 'hosted');
      const headers: Record<string, string> = {};
      if (kind === 'hosted' && p.more) {
        // Nexus builds the link from its internal path, even when the request came to a connector.
        const next = new URLSearchParams({ n: String(p.items.length), last: p.items[p.items.length - 1]! });
        headers.Link = `<${origin}/repository/${name}${path}?${next}>; rel="next"`;
      }
      sendJson(
        res,
        200,
        route.kind === 'catalog' ? { repositories: p.items } : { name: route.name, tags: p.items },
        headers,
      );
      return true;
    }
    req.url = `${path}${url.search}`;
    return false;
  };

  const demo = await startDemoRegistry(repos, { intercept });
  return {
    apiUrl: `${demo.url}${prefix}`,
    origin: demo.url,
    host: demo.host,
    requests,
    get tokensIssued() {
      return tokens.issued;
    },
    throttle: (count, o) => throttles.set(count, o),
    close: () => demo.close(),
  };
}
