// An OCI 1.1 referrers API in front of a real registry that has none (Distribution 2.8). Every
// request but `GET /v2/<name>/referrers/<digest>` is streamed to the registry and back untouched
// (headers, auth challenges, bodies, status), so the registry stays the real one; the referrers
// answer is computed from the content the test pushed, as distribution-spec 1.1 "Listing
// Referrers" describes: an OCI index of the descriptors of every manifest whose `subject` is the
// digest, `Link` pagination, the `artifactType` filter with `OCI-Filters-Applied`, and an ETag
// for conditional requests. Modes reproduce how registries without the API answer instead.
import { createHash } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RepositoryContent } from '../../src/demo/image-builder.js';
import { MediaType } from '../../src/oci/media-types.js';
import { type ReferrerDescriptorDoc, referrerDescriptor, referrersIndex } from './supply-chain-content.js';

/**
 * How the referrers endpoint answers.
 * - `api`: the OCI 1.1 API.
 * - `absent`: 404 with an OCI error body (a registry that routes the path but has no API).
 * - `passthrough`: whatever the registry itself says (Distribution 2.8: a plain-text 404).
 * - `status-400` / `status-405` / `status-406`: that status with an OCI error body.
 * - `empty`: 200 with an empty index whatever is stored (GHCR).
 * - `not-index`: 200 `application/json` that is not an OCI index.
 * - `gitlab`: no API (404), and `GET/HEAD manifests/sha256-<hex>` answers with the manifest
 *   `sha256:<hex>` itself, as GitLab resolves such a tag to the subject.
 */
export type ReferrersMode =
  | 'api'
  | 'absent'
  | 'passthrough'
  | 'status-400'
  | 'status-405'
  | 'status-406'
  | 'empty'
  | 'not-index'
  | 'gitlab';

/** What a request asked for, by the path it used. */
export type RequestKind =
  | 'base'
  | 'catalog'
  | 'tags'
  | 'manifests'
  | 'blobs'
  | 'uploads'
  | 'referrers'
  | 'other';

export interface ProxyRequest {
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  kind: RequestKind;
  status: number;
}

export interface ReferrersProxyOptions {
  /** The registry's base URL (http://127.0.0.1:PORT). */
  upstream: string;
  /** What was pushed: referrers are every manifest whose `subject` names the asked digest. */
  content: RepositoryContent[];
  mode?: ReferrersMode;
  /** Descriptors per page; the rest follows a `Link: <…>; rel="next"`. Unlimited by default. */
  pageSize?: number;
  /** `apply` (default) filters by `?artifactType=` and says so in `OCI-Filters-Applied`; `ignore` does not. */
  filter?: 'apply' | 'ignore';
  /** Send an ETag and answer 304 to a matching If-None-Match (default true). */
  etag?: boolean;
}

export interface ReferrersProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  /** Requests answered so far, by kind (live; zeroed by resetCounts). */
  counts: Record<RequestKind, number>;
  /** Every request answered, in order (cleared by resetCounts). */
  requests: ProxyRequest[];
  setMode(mode: ReferrersMode): void;
  /** Replace the content referrers are computed from (after pushing a new referrer, say). */
  setContent(content: RepositoryContent[]): void;
  resetCounts(): void;
  close(): Promise<void>;
}

const REFERRERS_PATH = /^\/v2\/(.+)\/referrers\/([^/]+)$/;
const FALLBACK_TAG_PATH = /^\/v2\/(.+)\/manifests\/sha256-([a-f0-9]{64})$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the answer.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'upgrade', 'proxy-connection']);

function requestKind(pathname: string): RequestKind {
  if (pathname === '/v2' || pathname === '/v2/') return 'base';
  if (pathname === '/v2/_catalog') return 'catalog';
  if (/^\/v2\/.+\/tags\/list$/.test(pathname)) return 'tags';
  if (/^\/v2\/.+\/manifests\/[^/]+$/.test(pathname)) return 'manifests';
  if (/^\/v2\/.+\/blobs\/uploads(\/.*)?$/.test(pathname)) return 'uploads';
  if (/^\/v2\/.+\/blobs\/[^/]+$/.test(pathname)) return 'blobs';
  if (REFERRERS_PATH.test(pathname)) return 'referrers';
  return 'other';
}

function zeroCounts(): Record<RequestKind, number> {
  return { base: 0, catalog: 0, tags: 0, manifests: 0, blobs: 0, uploads: 0, referrers: 0, other: 0 };
}

function ociError(code: string, message: string): Buffer {
  return Buffer.from(JSON.stringify({ errors: [{ code, message, detail: null }] }));
}

function withoutHopByHop(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** Referrer descriptors by repository, then by subject digest, in push order. */
function indexReferrers(content: RepositoryContent[]): Map<string, Map<string, ReferrerDescriptorDoc[]>> {
  const byRepo = new Map<string, Map<string, ReferrerDescriptorDoc[]>>();
  for (const repo of content) {
    const bySubject = new Map<string, ReferrerDescriptorDoc[]>();
    for (const m of repo.manifests) {
      const r = referrerDescriptor(m);
      if (!r) continue;
      const list = bySubject.get(r.subject) ?? [];
      list.push(r.descriptor);
      bySubject.set(r.subject, list);
    }
    byRepo.set(repo.name, bySubject);
  }
  return byRepo;
}

export async function startReferrersProxy(options: ReferrersProxyOptions): Promise<ReferrersProxy> {
  const upstream = new URL(options.upstream);
  const agent = new Agent({ keepAlive: true });
  let mode: ReferrersMode = options.mode ?? 'api';
  let referrers = indexReferrers(options.content);
  const counts = zeroCounts();
  const requests: ProxyRequest[] = [];

  /** Streams the request to the registry (at `path`) and its answer back, untouched. */
  function forward(req: IncomingMessage, res: ServerResponse, path: string): void {
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path,
        // Host stays the proxy's, so the registry's absolute Location URLs point back here.
        headers: withoutHopByHop(req.headers),
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, withoutHopByHop(up.headers));
        up.pipe(res);
      },
    );
    out.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`referrers proxy: ${String(err)}`);
    });
    req.pipe(out);
  }

  /**
   * Asks the registry whether this client may read the repository (a tag listing with its
   * credentials): the registry's own 401/403/404 answer, or undefined when it may.
   */
  function denied(
    req: IncomingMessage,
    name: string,
  ): Promise<{ status: number; headers: OutgoingHttpHeaders; body: Buffer } | undefined> {
    return new Promise((resolve, reject) => {
      const probe = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: 'GET',
          path: `/v2/${name}/tags/list?n=1`,
          headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
          agent,
        },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('error', reject);
          up.on('end', () => {
            const status = up.statusCode ?? 502;
            if (status === 200) return resolve(undefined);
            const headers = withoutHopByHop(up.headers);
            delete headers['transfer-encoding'];
            resolve({ status, headers, body: Buffer.concat(chunks) });
          });
        },
      );
      probe.on('error', reject);
      probe.end();
    });
  }

  function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body?: Buffer): void {
    res.writeHead(status, { ...headers, 'content-length': String(body?.length ?? 0) });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  function listing(req: IncomingMessage, res: ServerResponse, name: string, digest: string, url: URL) {
    if (!DIGEST.test(digest)) {
      return send(
        res,
        400,
        { 'content-type': 'application/json' },
        ociError('DIGEST_INVALID', 'invalid digest'),
      );
    }
    let list = referrers.get(name)?.get(digest) ?? [];
    const headers: OutgoingHttpHeaders = { 'content-type': MediaType.OciIndex };
    const wanted = url.searchParams.get('artifactType');
    if (wanted && (options.filter ?? 'apply') === 'apply') {
      list = list.filter((d) => d.artifactType === wanted);
      headers['oci-filters-applied'] = 'artifactType';
    }
    const from = Number(url.searchParams.get('cursor') ?? '0');
    const size = options.pageSize ?? list.length;
    const page = list.slice(from, from + Math.max(size, 1));
    if (from + page.length < list.length) {
      const next = new URL(url.pathname, 'http://proxy');
      if (wanted) next.searchParams.set('artifactType', wanted);
      next.searchParams.set('cursor', String(from + page.length));
      headers.link = `<${next.pathname}${next.search}>; rel="next"`;
    }
    const body = referrersIndex(page).bytes;
    if (options.etag ?? true) {
      const etag = `"sha256:${createHash('sha256').update(body).digest('hex')}"`;
      headers.etag = etag;
      if (req.headers['if-none-match'] === etag) return send(res, 304, { etag });
    }
    send(res, 200, headers, body);
  }

  async function referrersAnswer(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    digest: string,
    url: URL,
  ): Promise<void> {
    if (mode === 'passthrough') return forward(req, res, req.url ?? '/');
    if (mode === 'absent' || mode === 'gitlab') {
      return send(res, 404, { 'content-type': 'application/json' }, ociError('UNSUPPORTED', 'not found'));
    }
    const refusal = await denied(req, name);
    if (refusal) return send(res, refusal.status, refusal.headers, refusal.body);
    switch (mode) {
      case 'status-400':
      case 'status-405':
      case 'status-406': {
        const status = Number(mode.slice('status-'.length));
        const body = ociError('UNSUPPORTED', `referrers: ${status}`);
        return send(res, status, { 'content-type': 'application/json' }, body);
      }
      case 'empty':
        return send(res, 200, { 'content-type': MediaType.OciIndex }, referrersIndex([]).bytes);
      case 'not-index':
        return send(
          res,
          200,
          { 'content-type': 'application/json' },
          Buffer.from(JSON.stringify({ detail: 'no referrers index here' })),
        );
      default:
        return listing(req, res, name, digest, url);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const kind = requestKind(url.pathname);
    counts[kind]++;
    res.on('finish', () => {
      requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', kind, status: res.statusCode });
    });

    const referrer = REFERRERS_PATH.exec(url.pathname);
    if (referrer && req.method === 'GET') return referrersAnswer(req, res, referrer[1]!, referrer[2]!, url);
    const fallback = mode === 'gitlab' ? FALLBACK_TAG_PATH.exec(url.pathname) : null;
    if (fallback && (req.method === 'GET' || req.method === 'HEAD')) {
      return forward(req, res, `/v2/${fallback[1]}/manifests/sha256:${fallback[2]}`);
    }
    forward(req, res, req.url ?? '/');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`referrers proxy: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    counts,
    requests,
    setMode(next) {
      mode = next;
    },
    setContent(content) {
      referrers = indexReferrers(content);
    },
    resetCounts() {
      Object.assign(counts, zeroCounts());
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          agent.destroy();
          resolve();
        });
      }),
  };
}
