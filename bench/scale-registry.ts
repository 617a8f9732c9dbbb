// A synthetic registry for `npm run bench -- --scale`: `repositories × tagsPerRepository`
// single-platform OCI images, none of them stored. Each manifest and config is a few hundred bytes
// computed from (repository index, tag index) on first use, so 100,000 tags cost a second of
// hashing instead of minutes of pushing images. Served two ways on one origin:
// - OCI Distribution: /v2/, _catalog and tags/list with `n`/`last` and a `Link` to the next page
//   (lexical order, as Distribution does), manifests by tag or digest (GET and HEAD; ETag = the
//   quoted digest, If-None-Match answered with 304), config blobs;
// - Harbor API v2.0 (the vendor fast path): project repositories and per-repository artifacts,
//   `page`/`page_size` ≤ 100, `X-Total-Count`, `Link`, artifacts newest first with digest, push
//   times and `extra_attrs` (the config's platform, created and labels), so the engine selects
//   max_tags before it reads a manifest, and with read_manifests: false reads none.
// Anonymous throughout (a public Harbor project): token requests would add one per repository and
// say nothing about the engine's scaling.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const PROJECT = 'scale';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** Distribution's catalog.maxentries default: a larger `n` is refused with 400. */
const MAX_N = 1000;
const DEFAULT_N = 100;
const HARBOR_MAX_PAGE = 100;
const BASE = Date.parse('2024-01-01T00:00:00Z');

export interface Shape {
  repositories: number;
  tagsPerRepository: number;
}

interface Image {
  tag: string;
  /** Push time = config `created`: push order and tag-name order disagree (see pushSlot). */
  created: string;
  manifest: Buffer;
  digest: string;
  config: Buffer;
  configDigest: string;
  /** Harbor's artifact size: manifest document + config + layers. */
  harborSize: number;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

export function repositoryName(r: number): string {
  return `${PROJECT}/app-${pad(r, 5)}`;
}

/**
 * Tag t's slot in push order: (t·37) mod count, a permutation whenever 37 does not divide count,
 * so "newest ten" is neither the first nor the last ten tag names.
 */
function pushSlot(t: number, count: number): number {
  return count % 37 === 0 ? t : (t * 37) % count;
}

export class SyntheticContent {
  /** Images per repository index, built when the repository is first touched. */
  private readonly repos = new Map<number, Image[]>();
  /** Digest → [repository index, tag index, is config]: what a by-digest request needs. */
  private readonly byDigest = new Map<string, [number, number, boolean]>();

  constructor(readonly shape: Shape) {}

  get tags(): number {
    return this.shape.repositories * this.shape.tagsPerRepository;
  }

  repositoryIndex(name: string): number | undefined {
    const m = /^scale\/app-(\d{5})$/.exec(name);
    if (!m) return undefined;
    const r = Number(m[1]);
    return r < this.shape.repositories ? r : undefined;
  }

  /** Tag names of a repository in lexical order (Distribution's tags/list order). */
  tagNames(): string[] {
    const width = String(this.shape.tagsPerRepository - 1).length;
    return Array.from({ length: this.shape.tagsPerRepository }, (_, t) => `1.0.${pad(t, width)}`).sort();
  }

  images(r: number): Image[] {
    let list = this.repos.get(r);
    if (!list) {
      const count = this.shape.tagsPerRepository;
      const width = String(count - 1).length;
      list = [];
      for (let t = 0; t < count; t++) {
        const tag = `1.0.${pad(t, width)}`;
        const created = new Date(BASE + pushSlot(t, count) * 3_600_000 + r * 1000)
          .toISOString()
          .replace('.000Z', 'Z');
        const config = Buffer.from(
          JSON.stringify({
            architecture: 'amd64',
            os: 'linux',
            created,
            config: {
              Labels: {
                'org.opencontainers.image.source': `https://git.example.com/${repositoryName(r)}`,
                'org.opencontainers.image.version': tag,
              },
            },
            rootfs: { type: 'layers', diff_ids: [sha256(Buffer.from(`diff ${r} ${t}`))] },
          }),
        );
        const configDigest = sha256(config);
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
            // Layers are never fetched by the engine; one shared base and one own layer each.
            layers: [
              { mediaType: OCI_LAYER, digest: sha256(Buffer.from(`base ${r}`)), size: 2_000_000 },
              { mediaType: OCI_LAYER, digest: sha256(Buffer.from(`layer ${r} ${t}`)), size: 10_000 + t },
            ],
          }),
        );
        const digest = sha256(manifest);
        this.byDigest.set(digest, [r, t, false]);
        this.byDigest.set(configDigest, [r, t, true]);
        const harborSize = manifest.length + config.length + 2_000_000 + 10_000 + t;
        list.push({ tag, created, manifest, digest, config, configDigest, harborSize });
      }
      this.repos.set(r, list);
    }
    return list;
  }

  image(r: number, ref: string): Image | undefined {
    const images = this.images(r);
    if (!ref.startsWith('sha256:')) return images.find((i) => i.tag === ref);
    const at = this.byDigest.get(ref);
    return at && at[0] === r && !at[2] ? images[at[1]] : undefined;
  }

  config(r: number, digest: string): Buffer | undefined {
    this.images(r);
    const at = this.byDigest.get(digest);
    return at && at[0] === r && at[2] ? this.images(r)[at[1]]!.config : undefined;
  }
}

export interface SyntheticRegistry {
  url: string;
  content: SyntheticContent;
  /** Swaps the content (another shape) without restarting: the proxy in front keeps its port. */
  setShape(shape: Shape): void;
  close(): Promise<void>;
}

function send(
  res: http.ServerResponse,
  status: number,
  body: Buffer | string | object,
  headers: Record<string, string> = {},
  head = false,
): void {
  const bytes = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(bytes.length),
    'docker-distribution-api-version': 'registry/2.0',
    ...headers,
  });
  res.end(head ? undefined : bytes);
}

const ociError = (code: string, message: string) => ({ errors: [{ code, message, detail: null }] });

/**
 * One page of a sorted name list, Distribution style: entries after `last`, at most `n`, and a
 * Link to the next page only when more follow.
 */
function distributionPage(
  path: string,
  url: URL,
  sorted: string[],
  res: http.ServerResponse,
  key: 'repositories' | 'tags',
  name?: string,
): void {
  const nParam = url.searchParams.get('n');
  const n = nParam === null ? DEFAULT_N : Number(nParam);
  if (!Number.isInteger(n) || n < 0 || n > MAX_N) {
    send(res, 400, ociError('PAGINATION_NUMBER_INVALID', `invalid number of results requested: ${nParam}`));
    return;
  }
  const last = url.searchParams.get('last');
  let from = 0;
  if (last !== null) {
    // Binary search: the first entry strictly after `last`.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= last) lo = mid + 1;
      else hi = mid;
    }
    from = lo;
  }
  const items = sorted.slice(from, from + n);
  const headers: Record<string, string> = {};
  if (from + n < sorted.length && items.length > 0)
    headers.link = `<${path}?last=${encodeURIComponent(items[items.length - 1]!)}&n=${n}>; rel="next"`;
  send(res, 200, key === 'tags' ? { name, tags: items } : { repositories: items }, headers);
}

function harborExtraAttrs(config: Buffer): Record<string, unknown> {
  const c = JSON.parse(config.toString('utf8')) as Record<string, unknown>;
  return { architecture: c.architecture, os: c.os, created: c.created, author: '', config: c.config };
}

function harborPage(
  url: URL,
  total: number,
  items: (from: number, to: number) => unknown[],
  res: http.ServerResponse,
): void {
  const page = Number(url.searchParams.get('page') ?? '1');
  const size = Number(url.searchParams.get('page_size') ?? '10');
  if (!Number.isInteger(size) || size < 1 || size > HARBOR_MAX_PAGE) {
    send(res, 422, { errors: [{ code: 'UNPROCESSABLE_ENTITY', message: 'page_size ≤ 100' }] });
    return;
  }
  const from = (page - 1) * size;
  const to = Math.min(total, from + size);
  const headers: Record<string, string> = { 'x-total-count': String(total) };
  if (to < total) {
    const q = new URLSearchParams(url.searchParams);
    q.set('page', String(page + 1));
    headers.link = `<${url.pathname}?${decodeURIComponent(q.toString())}>; rel="next"`;
  }
  send(res, 200, from < total ? items(from, to) : [], headers);
}

export async function startSyntheticRegistry(shape: Shape): Promise<SyntheticRegistry> {
  let content = new SyntheticContent(shape);
  let repositoryNames: string[] = [];
  let tagNames: string[] = [];
  const reshape = (s: Shape) => {
    content = new SyntheticContent(s);
    repositoryNames = Array.from({ length: s.repositories }, (_, r) => repositoryName(r));
    tagNames = content.tagNames();
  };
  reshape(shape);

  const harbor = (url: URL, res: http.ServerResponse): void => {
    const path = url.pathname;
    if (path === '/api/v2.0/projects') {
      harborPage(url, 1, () => [{ project_id: 1, name: PROJECT, metadata: { public: 'true' } }], res);
      return;
    }
    if (path === `/api/v2.0/projects/${PROJECT}/repositories`) {
      harborPage(
        url,
        repositoryNames.length,
        (from, to) =>
          repositoryNames.slice(from, to).map((name, i) => ({
            id: from + i + 1,
            project_id: 1,
            name,
            artifact_count: content.shape.tagsPerRepository,
            pull_count: 0,
          })),
        res,
      );
      return;
    }
    // Harbor matches a nested repository name only double-encoded (a%252Fb).
    const m = /^\/api\/v2\.0\/projects\/scale\/repositories\/([^/]+)\/artifacts$/.exec(path);
    const r = m
      ? content.repositoryIndex(`${PROJECT}/${decodeURIComponent(decodeURIComponent(m[1]!))}`)
      : undefined;
    if (r === undefined) {
      send(res, 404, { errors: [{ code: 'NOT_FOUND', message: `${path} not found` }] });
      return;
    }
    const newestFirst = [...content.images(r)].sort((a, b) => (a.created < b.created ? 1 : -1));
    harborPage(
      url,
      newestFirst.length,
      (from, to) =>
        newestFirst.slice(from, to).map((img) => {
          const pushed = img.created.replace('Z', '.000Z');
          return {
            type: 'IMAGE',
            digest: img.digest,
            manifest_media_type: OCI_MANIFEST,
            media_type: OCI_CONFIG,
            repository_name: repositoryName(r),
            size: img.harborSize,
            push_time: pushed,
            // Harbor's image processor copies these from the config at push.
            extra_attrs: harborExtraAttrs(img.config),
            pull_time: '0001-01-01T00:00:00.000Z',
            tags: [{ name: img.tag, push_time: pushed, pull_time: '0001-01-01T00:00:00.000Z' }],
            accessories: null,
          };
        }),
      res,
    );
  };

  const registry = (req: http.IncomingMessage, url: URL, res: http.ServerResponse): void => {
    const head = req.method === 'HEAD';
    const path = url.pathname;
    if (path === '/v2/' || path === '/v2') {
      send(res, 200, {});
      return;
    }
    if (path === '/v2/_catalog') {
      distributionPage(path, url, repositoryNames, res, 'repositories');
      return;
    }
    const m = /^\/v2\/(.+)\/(tags\/list|manifests\/[^/]+|blobs\/[^/]+)$/.exec(path);
    const r = m ? content.repositoryIndex(m[1]!) : undefined;
    if (!m || r === undefined) {
      send(res, 404, ociError('NAME_UNKNOWN', 'repository name not known to registry'));
      return;
    }
    const [what, ref] = m[2]!.split('/') as [string, string];
    if (what === 'tags') {
      distributionPage(path, url, tagNames, res, 'tags', m[1]!);
      return;
    }
    if (what === 'manifests') {
      const img = content.image(r, decodeURIComponent(ref));
      if (!img) {
        send(res, 404, ociError('MANIFEST_UNKNOWN', 'manifest unknown'), {}, head);
        return;
      }
      const etag = `"${img.digest}"`;
      const headers = { 'content-type': OCI_MANIFEST, 'docker-content-digest': img.digest, etag };
      // Distribution's manifest ETag is the quoted digest and it answers If-None-Match with 304.
      if (req.headers['if-none-match']?.split(/\s*,\s*/).includes(etag)) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      send(res, 200, img.manifest, headers, head);
      return;
    }
    const config = content.config(r, ref);
    if (!config) {
      send(res, 404, ociError('BLOB_UNKNOWN', 'blob unknown to registry'), {}, head);
      return;
    }
    send(
      res,
      200,
      config,
      { 'content-type': 'application/octet-stream', 'docker-content-digest': ref },
      head,
    );
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://synthetic.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, ociError('UNSUPPORTED', 'read-only registry'));
      return;
    }
    if (url.pathname.startsWith('/api/v2.0/')) harbor(url, res);
    else registry(req, url, res);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get content() {
      return content;
    },
    setShape: reshape,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
