// A tiny, read-only OCI Distribution registry served in-process on a loopback port. It backs
// `devgraph-docker demo`, the unit tests and the benchmark, so it mimics the behaviours of real
// registries that a client has to cope with: Link-header pagination (relative or absolute, `last`
// or an opaque cursor), Distribution's Accept-header content negotiation, ETags, Basic auth
// challenges and Distribution-style JSON errors.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MediaType } from '../oci/media-types.js';
import type { Content, RepositoryContent } from './image-builder.js';

export interface DemoRegistryOptions {
  /** Port to listen on (127.0.0.1 only); 0 (the default) picks a free port. */
  port?: number;
  /**
   * Paginate `tags/list`: honour `n` (capped at this size) and `last`, and send a `Link: rel="next"`
   * header while more tags remain. Unset: every tag in one page, `n`/`last` ignored (Distribution 2.8).
   */
  tagPageSize?: number;
  /** Default (and maximum) page size of `/v2/_catalog`. Unset: all repositories unless `n` asks for fewer. */
  catalogPageSize?: number;
  /** `n` above this answers 400 PAGINATION_NUMBER_INVALID, like Distribution. Default 1000. */
  catalogMaxEntries?: number;
  /** Require these Basic credentials on every /v2 request. */
  basicAuth?: { username: string; password: string };
  /** Whether `Link` headers carry a relative path (Distribution, default) or an absolute URL. */
  linkStyle?: 'relative' | 'absolute';
  /** Paginate with an opaque `next_page` cursor (Quay/GHCR style) instead of `last`, which is then ignored. */
  opaqueCursor?: boolean;
  /**
   * Sees every request first, for test fakes of vendor registries: answer it (vendor APIs, auth
   * challenges) and return true, or return false to let the registry serve it. It may rewrite
   * `req.url` before returning false (a vendor's path prefix).
   */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * The OCI 1.1 referrers API: `api` lists the manifests whose `subject` is the digest asked for,
   * `empty` always answers an empty index (as GHCR does). Unset: 404, as Distribution 2.8 has none.
   */
  referrers?: 'api' | 'empty';
  /**
   * `DELETE /v2/<name>/manifests/<digest>`: `enabled` deletes the manifest and every tag on it
   * (202); `denied` answers 403 DENIED as a registry does to a credential without delete
   * permission; unset or `disabled` answers 405 UNSUPPORTED, as Distribution does without
   * storage.delete.enabled.
   */
  deletes?: 'enabled' | 'disabled' | 'denied';
}

export type RequestKind = 'ping' | 'catalog' | 'tags' | 'manifest' | 'blob' | 'referrers' | 'other';

export interface RecordedRequest {
  method: string;
  /** Path including the query string, exactly as requested. */
  path: string;
  kind: RequestKind;
  status: number;
}

export interface DemoRegistry {
  /** e.g. `http://127.0.0.1:49152` */
  url: string;
  /** e.g. `127.0.0.1:49152` */
  host: string;
  /** Every request served, in order. Mutable: callers may clear it with `requests.length = 0`. */
  requests: RecordedRequest[];
  /**
   * Removes a manifest and every tag on it, as a DELETE does: for fakes whose vendor API deletes
   * (ECR's BatchDeleteImage, GitHub's package versions). False when it was not there.
   */
  removeManifest(name: string, digest: string): boolean;
  /** Removes one tag and leaves its manifest (Docker Hub's tag delete). False when it was not there. */
  removeTag(name: string, tag: string): boolean;
  close(): Promise<void>;
}

interface StoredRepository {
  tags: Map<string, string>;
  sortedTags: string[];
  manifests: Map<string, Content>;
  blobs: Map<string, Content>;
}

interface Route {
  kind: RequestKind;
  name?: string;
  reference?: string;
}

interface RegistryError {
  code: string;
  message: string;
  detail?: unknown;
}

const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const CURSOR_PREFIX = 'demo-cursor:';

/** Descriptors of the manifests that name `subject`, as the referrers API lists them. */
function referrersOf(manifests: Iterable<Content>, subject: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const m of manifests) {
    const doc = JSON.parse(m.bytes.toString('utf8')) as {
      subject?: { digest?: string };
      artifactType?: string;
      config?: { mediaType?: string };
      annotations?: Record<string, string>;
    };
    if (doc.subject?.digest !== subject) continue;
    const artifactType = doc.artifactType ?? doc.config?.mediaType;
    found.push({
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.bytes.length,
      ...(artifactType ? { artifactType } : {}),
      ...(doc.annotations ? { annotations: doc.annotations } : {}),
    });
  }
  return found;
}

function lexical(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * Splits `/v2/<name>/<operation>` where `<name>` may itself contain slashes (and even path
 * components such as `blobs`): the operation is whichever of `/tags/list`, `/manifests/`, `/blobs/`
 * occurs last.
 */
export function parseRegistryPath(pathname: string): Route {
  if (pathname === '/v2' || pathname === '/v2/') return { kind: 'ping' };
  if (pathname === '/v2/_catalog') return { kind: 'catalog' };
  if (!pathname.startsWith('/v2/')) return { kind: 'other' };
  const rest = pathname.slice('/v2/'.length);
  const candidates: Array<{ kind: RequestKind; at: number; marker: string }> = [
    { kind: 'manifest' as const, at: rest.lastIndexOf('/manifests/'), marker: '/manifests/' },
    { kind: 'blob' as const, at: rest.lastIndexOf('/blobs/'), marker: '/blobs/' },
    { kind: 'referrers' as const, at: rest.lastIndexOf('/referrers/'), marker: '/referrers/' },
    {
      kind: 'tags' as const,
      at: rest.endsWith('/tags/list') ? rest.length - '/tags/list'.length : -1,
      marker: '/tags/list',
    },
  ].filter((c) => c.at > 0);
  if (candidates.length === 0) return { kind: 'other' };
  const op = candidates.reduce((a, b) => (b.at > a.at ? b : a));
  const name = safeDecode(rest.slice(0, op.at));
  if (name === undefined) return { kind: 'other' };
  if (op.kind === 'tags') return { kind: 'tags', name };
  const reference = safeDecode(rest.slice(op.at + op.marker.length));
  if (reference === undefined || reference.includes('/')) return { kind: 'other' };
  if ((op.kind === 'blob' || op.kind === 'referrers') && !DIGEST_RE.test(reference)) return { kind: 'other' };
  if (op.kind === 'manifest' && !DIGEST_RE.test(reference) && !TAG_RE.test(reference)) {
    return { kind: 'other' };
  }
  return { kind: op.kind, name, reference };
}

function acceptedTypes(req: IncomingMessage): Set<string> {
  const types = new Set<string>();
  for (const part of (req.headers.accept ?? '').split(',')) {
    const type = part.split(';')[0]?.trim().toLowerCase();
    if (type) types.add(type);
  }
  return types;
}

function etagMatches(header: string | undefined, digest: string): boolean {
  if (!header) return false;
  return header.split(',').some((raw) => {
    const tag = raw.trim().replace(/^W\//, '');
    return tag === '*' || tag === digest || tag === `"${digest}"`;
  });
}

function encodeCursor(after: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${after}`).toString('base64url');
}

function decodeCursor(cursor: string): string | undefined {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  return decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : undefined;
}

function indexRepositories(repos: RepositoryContent[]): Map<string, StoredRepository> {
  const byName = new Map<string, StoredRepository>();
  for (const repo of repos) {
    if (byName.has(repo.name)) throw new Error(`demo registry: duplicate repository ${repo.name}`);
    const tags = new Map(Object.entries(repo.tags));
    byName.set(repo.name, {
      tags,
      sortedTags: [...tags.keys()].sort(lexical),
      manifests: new Map(repo.manifests.map((m) => [m.digest, m])),
      blobs: new Map(repo.blobs.map((b) => [b.digest, b])),
    });
  }
  return byName;
}

type PageResult = { error: RegistryError } | { items: string[]; next?: URLSearchParams };

export async function startDemoRegistry(
  repos: RepositoryContent[],
  opts: DemoRegistryOptions = {},
): Promise<DemoRegistry> {
  const store = indexRepositories(repos);
  const catalog = [...store.keys()].sort(lexical);
  const catalogMaxEntries = opts.catalogMaxEntries ?? 1000;
  const requests: RecordedRequest[] = [];
  const expectedAuth = opts.basicAuth
    ? `Basic ${Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64')}`
    : undefined;
  let origin = '';

  function removeManifest(name: string, digest: string): boolean {
    const repo = store.get(name);
    if (!repo?.manifests.delete(digest)) return false;
    for (const [tag, target] of repo.tags) if (target === digest) repo.tags.delete(tag);
    repo.sortedTags = [...repo.tags.keys()].sort(lexical);
    return true;
  }

  function removeTag(name: string, tag: string): boolean {
    const repo = store.get(name);
    if (!repo?.tags.delete(tag)) return false;
    repo.sortedTags = repo.sortedTags.filter((t) => t !== tag);
    return true;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (opts.intercept?.(req, res)) return;
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const url = new URL(rawPath, 'http://registry.invalid');
    const route = parseRegistryPath(url.pathname);
    const head = method === 'HEAD';

    const send = (status: number, headers: Record<string, string>, body?: Buffer | string): void => {
      requests.push({ method, path: rawPath, kind: route.kind, status });
      const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
      const all: Record<string, string> = { 'Docker-Distribution-API-Version': 'registry/2.0', ...headers };
      if (bytes && all['Content-Length'] === undefined) all['Content-Length'] = String(bytes.length);
      res.writeHead(status, all);
      res.end(head || !bytes ? undefined : bytes);
    };
    const sendJson = (status: number, value: unknown, headers: Record<string, string> = {}): void =>
      send(
        status,
        { 'Content-Type': 'application/json; charset=utf-8', ...headers },
        `${JSON.stringify(value)}\n`,
      );
    const fail = (status: number, error: RegistryError, headers: Record<string, string> = {}): void =>
      sendJson(status, { errors: [error] }, headers);

    if (!url.pathname.startsWith('/v2')) {
      send(404, { 'Content-Type': 'text/plain; charset=utf-8' }, '404 page not found\n');
      return;
    }
    if (expectedAuth !== undefined && req.headers.authorization !== expectedAuth) {
      fail(
        401,
        { code: 'UNAUTHORIZED', message: 'authentication required', detail: null },
        { 'WWW-Authenticate': 'Basic realm="demo"' },
      );
      return;
    }
    if (method === 'DELETE' && route.kind === 'manifest' && opts.deletes === 'enabled') {
      deleteManifest(route.name!, route.reference!);
      return;
    }
    if (method === 'DELETE' && route.kind === 'manifest' && opts.deletes === 'denied') {
      fail(403, { code: 'DENIED', message: 'requested access to the resource is denied' });
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      fail(405, { code: 'UNSUPPORTED', message: 'The operation is unsupported.' }, { Allow: 'GET, HEAD' });
      return;
    }

    // Distribution's rules: a digest only (a tag is DIGEST_INVALID), the repository must exist,
    // and every tag on the manifest goes with it; blobs stay until garbage collection.
    function deleteManifest(name: string, reference: string): void {
      if (!store.has(name)) {
        fail(404, {
          code: 'NAME_UNKNOWN',
          message: 'repository name not known to registry',
          detail: { name },
        });
        return;
      }
      if (!reference.includes(':')) {
        fail(400, { code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' });
        return;
      }
      if (!removeManifest(name, reference)) {
        fail(404, { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { digest: reference } });
        return;
      }
      send(202, { 'Content-Length': '0' });
    }

    // Builds the `Link: <...>; rel="next"` header value for a paginated listing.
    const linkHeader = (path: string, params: URLSearchParams): string => {
      const target = `${path}?${params.toString()}`;
      const base = opts.linkStyle === 'absolute' ? `http://${req.headers.host ?? origin.slice(7)}` : '';
      return `<${base}${target}>; rel="next"`;
    };

    const paginate = (
      all: string[],
      pageSize: number | undefined,
      honourN: boolean,
      max?: number,
    ): PageResult => {
      let n: number | undefined;
      const rawN = url.searchParams.get('n');
      if (honourN && rawN !== null && rawN !== '') {
        if (!/^\d+$/.test(rawN)) {
          return {
            error: { code: 'PAGINATION_NUMBER_INVALID', message: 'invalid number of results requested' },
          };
        }
        n = Number(rawN);
        if (max !== undefined && n > max) {
          return {
            error: { code: 'PAGINATION_NUMBER_INVALID', message: 'invalid number of results requested' },
          };
        }
      }
      const limit =
        pageSize !== undefined ? Math.min(n ?? pageSize, pageSize) : (n ?? Number.POSITIVE_INFINITY);
      let after: string | undefined;
      if (!honourN) {
        after = undefined;
      } else if (opts.opaqueCursor) {
        const cursor = url.searchParams.get('next_page');
        if (cursor) {
          after = decodeCursor(cursor);
          if (after === undefined) {
            return { error: { code: 'PAGINATION_NUMBER_INVALID', message: 'invalid pagination cursor' } };
          }
        }
      } else {
        after = url.searchParams.get('last') ?? undefined;
      }
      const remaining = after === undefined ? all : all.filter((item) => item > after);
      const items = remaining.slice(0, limit);
      if (limit === 0 || remaining.length <= limit) return { items };
      const lastItem = items[items.length - 1]!;
      const next = opts.opaqueCursor
        ? new URLSearchParams({ n: String(limit), next_page: encodeCursor(lastItem) })
        : new URLSearchParams({ last: lastItem, n: String(limit) });
      return { items, next };
    };

    switch (route.kind) {
      case 'ping':
        sendJson(200, {});
        return;

      case 'catalog': {
        const page = paginate(catalog, opts.catalogPageSize, true, catalogMaxEntries);
        if ('error' in page) {
          fail(400, page.error);
          return;
        }
        const headers: Record<string, string> = page.next
          ? { Link: linkHeader('/v2/_catalog', page.next) }
          : {};
        sendJson(200, { repositories: page.items }, headers);
        return;
      }

      case 'tags': {
        const name = route.name!;
        const repo = store.get(name);
        if (!repo) {
          fail(404, {
            code: 'NAME_UNKNOWN',
            message: 'repository name not known to registry',
            detail: { name },
          });
          return;
        }
        const paginated = opts.tagPageSize !== undefined;
        const page = paginate(repo.sortedTags, opts.tagPageSize, paginated);
        if ('error' in page) {
          fail(400, page.error);
          return;
        }
        const headers: Record<string, string> = page.next
          ? { Link: linkHeader(`/v2/${name}/tags/list`, page.next) }
          : {};
        sendJson(200, { name, tags: page.items }, headers);
        return;
      }

      case 'manifest': {
        const name = route.name!;
        const reference = route.reference!;
        const repo = store.get(name);
        const byTag = !DIGEST_RE.test(reference);
        const digest = byTag ? repo?.tags.get(reference) : reference;
        let manifest = digest === undefined ? undefined : repo?.manifests.get(digest);
        if (!repo || !manifest) {
          fail(404, {
            code: 'MANIFEST_UNKNOWN',
            message: 'manifest unknown',
            detail: byTag ? { Tag: reference } : { Name: name, Revision: reference },
          });
          return;
        }
        const accepted = acceptedTypes(req);
        // Distribution refuses to hand OCI documents to clients that did not ask for them...
        if (manifest.mediaType === MediaType.OciManifest && !accepted.has(MediaType.OciManifest)) {
          fail(404, {
            code: 'MANIFEST_UNKNOWN',
            message: 'OCI manifest found, but accept header does not support OCI manifests',
          });
          return;
        }
        if (manifest.mediaType === MediaType.OciIndex && !accepted.has(MediaType.OciIndex)) {
          fail(404, {
            code: 'MANIFEST_UNKNOWN',
            message: 'OCI index found, but accept header does not support OCI indexes',
          });
          return;
        }
        // ...and silently swaps a Docker manifest list, fetched by tag, for its linux/amd64 image.
        if (
          byTag &&
          manifest.mediaType === MediaType.DockerManifestList &&
          !accepted.has(MediaType.DockerManifestList)
        ) {
          const list = JSON.parse(manifest.bytes.toString('utf8')) as {
            manifests?: Array<{ digest: string; platform?: { architecture?: string; os?: string } }>;
          };
          const child = list.manifests?.find(
            (m) => m.platform?.architecture === 'amd64' && m.platform?.os === 'linux',
          );
          manifest = child ? repo.manifests.get(child.digest) : undefined;
          if (!manifest) {
            fail(404, { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: reference } });
            return;
          }
        }
        const etag = `"${manifest.digest}"`;
        if (etagMatches(req.headers['if-none-match'], manifest.digest)) {
          send(304, { 'Docker-Content-Digest': manifest.digest, Etag: etag });
          return;
        }
        send(
          200,
          {
            'Content-Type': manifest.mediaType,
            'Content-Length': String(manifest.bytes.length),
            'Docker-Content-Digest': manifest.digest,
            Etag: etag,
          },
          manifest.bytes,
        );
        return;
      }

      case 'blob': {
        const repo = store.get(route.name!);
        const digest = route.reference!;
        // Manifests are blobs too in Distribution's storage, so they can be fetched as such.
        const blob = repo?.blobs.get(digest) ?? repo?.manifests.get(digest);
        if (!blob) {
          fail(404, { code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: digest });
          return;
        }
        send(
          200,
          {
            'Content-Type': 'application/octet-stream',
            'Content-Length': String(blob.bytes.length),
            'Docker-Content-Digest': digest,
            Etag: `"${digest}"`,
            'Cache-Control': 'max-age=31536000',
          },
          blob.bytes,
        );
        return;
      }

      case 'referrers': {
        if (!opts.referrers) break;
        const repo = store.get(route.name!);
        const manifests =
          opts.referrers === 'api' ? referrersOf(repo?.manifests.values() ?? [], route.reference!) : [];
        const body = `${JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests })}\n`;
        const etag = `sha256:${createHash('sha256').update(body).digest('hex')}`;
        if (etagMatches(req.headers['if-none-match'], etag)) {
          send(304, { Etag: `"${etag}"` });
          return;
        }
        send(200, { 'Content-Type': MediaType.OciIndex, Etag: `"${etag}"` }, body);
        return;
      }
    }
    send(404, { 'Content-Type': 'text/plain; charset=utf-8' }, '404 page not found\n');
  }

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      }
      res.end(String(err));
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  origin = `http://${host}`;

  let closing: Promise<void> | undefined;
  return {
    url: origin,
    host,
    requests,
    removeManifest,
    removeTag,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Drop idle keep-alive sockets (fetch pools them) so close() does not wait for their timeout.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
