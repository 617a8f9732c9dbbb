// A fake of gcr.io / Artifact Registry as a registry client sees them:
// - `/v2/` answers 401 with `Bearer realm="<host>/v2/token",service="gcr.io"` (AR: the AR host);
// - the token endpoint takes Basic `oauth2accesstoken:<OAuth access token>` or
//   `_json_key:<service account JSON>` (AR also `_json_key_base64:<base64 JSON>`), or nothing
//   (a token that can read only public projects), and mints opaque tokens for one scope;
// - tags/list answers Google's extension `{name, child, tags, manifest}` for any path, repository
//   or not, with the manifest map's numbers as strings (AR sends timeUploadedMs as a number, as
//   go-containerregistry's google/list.go notes); gcr.io ignores `n`, AR honours it up to 10,000;
// - `_catalog` lists every project's repositories on gcr.io and nothing on AR;
// - AR has no project-level tags/list: this fake answers 404 there (an assumption, documented in
//   src/registries/gcr.ts's message for it), and HEAD on tags/list gets the HTML 405 Google serves.
// Manifests and blobs come from the demo registry, behind the same token check.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DemoRegistry, parseRegistryPath, startDemoRegistry } from '../../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../../src/demo/image-builder.js';
import { type TagFact, tagFacts } from './content-facts.js';

export const GOOGLE_ACCESS_TOKEN = 'ya29.a0AfB_fake-google-access-token-0123456789';
export const SERVICE_ACCOUNT_JSON = JSON.stringify({
  type: 'service_account',
  project_id: 'my-project',
  private_key_id: '0123456789abcdef',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIfakeKEYfortests\n-----END PRIVATE KEY-----\n',
  client_email: 'inventory@my-project.iam.gserviceaccount.com',
});

export interface GcrFakeOptions {
  flavour: 'gcr' | 'ar';
  /** Full repository names under the host: `<project>/<image…>` (AR: `<project>/<repository>/<image…>`). */
  repos: RepositoryContent[];
  /** Projects anyone may read without credentials. */
  publicProjects?: string[];
  /** Forces tags/list pages of this size (AR only; gcr.io never pages). */
  tagPageSize?: number;
  /** What `_catalog` answers; default: every project on gcr.io, nothing on AR. */
  catalog?: 'all' | 'empty';
}

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  kind: 'token' | 'ping' | 'catalog' | 'tags' | 'manifest' | 'blob' | 'referrers' | 'other';
}

export interface GcrFake {
  url: string;
  registry: DemoRegistry;
  requests: LoggedRequest[];
  /** Registry tokens issued so far become expired (the registry answers 401 to them). */
  expireTokens(): void;
  /** The next `count` tags/list requests answer 429, with `Retry-After` when given. */
  throttle(count: number, retryAfter?: string): void;
  close(): Promise<void>;
}

interface Issued {
  scope: string;
  identity: 'user' | 'anonymous';
  expired: boolean;
}

const AR_MAX_PAGE = 10_000;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function googleError(res: ServerResponse, status: number, code: string, message: string, headers = {}) {
  json(res, status, { errors: [{ code, message }] }, headers);
}

function credentialOk(header: string | undefined, flavour: 'gcr' | 'ar'): 'user' | 'anonymous' | 'bad' {
  if (!header) return 'anonymous';
  if (!header.startsWith('Basic ')) return 'bad';
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (user === 'oauth2accesstoken' && secret === GOOGLE_ACCESS_TOKEN) return 'user';
  if (user === '_json_key' && secret === SERVICE_ACCOUNT_JSON) return 'user';
  if (
    flavour === 'ar' &&
    user === '_json_key_base64' &&
    Buffer.from(secret, 'base64').toString('utf8') === SERVICE_ACCOUNT_JSON
  )
    return 'user';
  return 'bad';
}

/** Upload time per digest: a tag's vendor push time; untagged children take their index's. */
function uploadTimes(
  repo: RepositoryContent,
  facts: TagFact[],
): Map<string, { uploaded: number; created: number; size: number }> {
  const out = new Map<string, { uploaded: number; created: number; size: number }>();
  for (const f of facts) {
    const uploaded = Date.parse(f.pushedAt);
    const created = f.created ? Date.parse(f.created) : 0;
    out.set(f.digest, { uploaded, created, size: f.size });
    for (const p of f.platforms)
      if (!out.has(p.digest))
        out.set(p.digest, { uploaded, created: p.created ? Date.parse(p.created) : 0, size: p.size });
    for (const a of f.attestations) if (!out.has(a)) out.set(a, { uploaded, created: 0, size: 0 });
  }
  for (const m of repo.manifests)
    if (!out.has(m.digest))
      out.set(m.digest, { uploaded: Date.parse('2024-01-01T00:00:00Z'), created: 0, size: 0 });
  return out;
}

export async function startGcrFake(opts: GcrFakeOptions): Promise<GcrFake> {
  const byName = new Map(opts.repos.map((r) => [r.name, r]));
  const facts = new Map(opts.repos.map((r) => [r.name, tagFacts(r)]));
  const tokens = new Map<string, Issued>();
  const requests: LoggedRequest[] = [];
  const throttled = { count: 0, retryAfter: undefined as string | undefined };
  let serial = 0;
  let origin = '';
  const service = () => (opts.flavour === 'gcr' ? 'gcr.io' : new URL(origin).host);
  const challenge = (scope?: string) =>
    `Bearer realm="${origin}/v2/token",service="${service()}"${scope ? `,scope="${scope}"` : ''}`;
  const projectOf = (name: string) => name.split('/')[0]!;
  const readable = (identity: Issued['identity'], name: string) =>
    identity === 'user' || (opts.publicProjects ?? []).includes(projectOf(name));

  const tagsList = (res: ServerResponse, url: URL, path: string) => {
    const exact = byName.get(path);
    const below = opts.repos.filter((r) => r.name.startsWith(`${path}/`));
    const projectLevel = !path.includes('/');
    if ((!exact && below.length === 0) || (opts.flavour === 'ar' && projectLevel)) {
      return googleError(res, 404, 'NAME_UNKNOWN', `Repository "${path}" not found`);
    }
    const child = [...new Set(below.map((r) => r.name.slice(path.length + 1).split('/')[0]!))].sort();
    let tags = exact ? Object.keys(exact.tags).sort() : [];
    let link: string | undefined;
    if (opts.flavour === 'ar') {
      const asked = Number(url.searchParams.get('n') ?? '1000');
      const n = Math.min(asked, AR_MAX_PAGE, opts.tagPageSize ?? AR_MAX_PAGE);
      const last = url.searchParams.get('last');
      const rest = last ? tags.filter((t) => t > last) : tags;
      const first = !last;
      tags = rest.slice(0, n);
      if (rest.length > n)
        link = `</v2/${path}/tags/list?n=${n}&last=${encodeURIComponent(tags[tags.length - 1]!)}>; rel="next"`;
      if (!first) child.length = 0;
    }
    const manifest: Record<string, unknown> = {};
    if (exact) {
      const onPage = new Set(tags);
      const times = uploadTimes(exact, facts.get(path)!);
      for (const m of exact.manifests) {
        const all = Object.entries(exact.tags)
          .filter(([, d]) => d === m.digest)
          .map(([t]) => t)
          .sort();
        const here = all.filter((t) => onPage.has(t));
        // Untagged manifests ride on the first page; tagged ones on the page that lists their tags.
        if (all.length > 0 ? here.length === 0 : url.searchParams.has('last')) continue;
        const t = times.get(m.digest)!;
        manifest[m.digest] = {
          imageSizeBytes: String(t.size),
          layerId: '',
          mediaType: m.mediaType,
          tag: here,
          timeCreatedMs: String(t.created),
          timeUploadedMs: opts.flavour === 'ar' ? t.uploaded : String(t.uploaded),
        };
      }
    }
    json(res, 200, { child, manifest, name: path, tags }, link ? { link } : {});
  };

  const intercept = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = parseRegistryPath(url.pathname);
    const kind: LoggedRequest['kind'] =
      url.pathname === '/v2/token' ? 'token' : route.kind === 'other' ? 'other' : route.kind;
    const entry = { method: req.method ?? 'GET', path: req.url ?? '/', kind };
    res.on('finish', () => requests.push({ ...entry, status: res.statusCode }));

    if (url.pathname === '/v2/token') {
      const who = credentialOk(req.headers.authorization, opts.flavour);
      if (who === 'bad') {
        googleError(res, 401, 'UNAUTHORIZED', 'Not Authorized.');
        return true;
      }
      const scope = url.searchParams.get('scope') ?? '';
      const token = `gcr-token-${++serial}-${Math.random().toString(36).slice(2)}`;
      tokens.set(token, { scope, identity: who, expired: false });
      json(res, 200, { expires_in: 3600, issued_at: new Date().toISOString(), token });
      return true;
    }
    if (!url.pathname.startsWith('/v2')) return false;
    const auth = req.headers.authorization ?? '';
    const issued = auth.startsWith('Bearer ') ? tokens.get(auth.slice(7)) : undefined;
    const needed =
      route.kind === 'catalog'
        ? 'registry:catalog:*'
        : route.name !== undefined
          ? `repository:${route.name}:pull`
          : undefined;
    if (!issued || issued.expired) {
      googleError(
        res,
        401,
        'UNAUTHORIZED',
        "You don't have the needed permissions to perform this operation, and you may have invalid credentials. To authenticate your request, follow the steps in: https://cloud.google.com/container-registry/docs/advanced-authentication",
        {
          'www-authenticate': challenge(needed),
        },
      );
      return true;
    }
    if (route.kind === 'ping') return false;
    if (needed && issued.scope !== needed) {
      googleError(res, 401, 'UNAUTHORIZED', 'token does not cover this request', {
        'www-authenticate': `${challenge(needed)},error="insufficient_scope"`,
      });
      return true;
    }
    if (route.kind === 'catalog') {
      const all = opts.catalog ?? (opts.flavour === 'gcr' ? 'all' : 'empty');
      const names =
        all === 'all' ? [...byName.keys()].filter((n) => readable(issued.identity, n)).sort() : [];
      json(res, 200, { repositories: names });
      return true;
    }
    if (route.name !== undefined && !readable(issued.identity, route.name)) {
      googleError(
        res,
        403,
        'DENIED',
        `Unauthenticated request. Unauthenticated requests do not have permission "artifactregistry.repositories.downloadArtifacts" on resource "projects/${projectOf(route.name)}"`,
      );
      return true;
    }
    if (route.kind === 'tags') {
      if (req.method !== 'GET') {
        res.writeHead(405, { 'content-type': 'text/html; charset=UTF-8' });
        res.end('<!DOCTYPE html><html lang=en><title>Error 405 (Method Not Allowed)!!1</title></html>');
        return true;
      }
      if (throttled.count > 0) {
        throttled.count--;
        googleError(res, 429, 'TOOMANYREQUESTS', "Quota exceeded for quota metric 'Requests'", {
          ...(throttled.retryAfter ? { 'retry-after': throttled.retryAfter } : {}),
        });
        return true;
      }
      tagsList(res, url, route.name!);
      return true;
    }
    return false;
  };

  const registry = await startDemoRegistry(opts.repos, { referrers: 'api', intercept });
  origin = registry.url;
  return {
    url: registry.url,
    registry,
    requests,
    expireTokens() {
      for (const t of tokens.values()) t.expired = true;
    },
    throttle(count, retryAfter) {
      throttled.count = count;
      throttled.retryAfter = retryAfter;
    },
    close: () => registry.close(),
  };
}
