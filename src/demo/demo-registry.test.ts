import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MANIFEST_ACCEPT, MediaType } from '../oci/media-types.js';
import {
  type DemoRegistry,
  type DemoRegistryOptions,
  parseRegistryPath,
  startDemoRegistry,
} from './demo-registry.js';
import { buildImage, RepositoryBuilder, type RepositoryContent } from './image-builder.js';
import { sampleRepositories } from './sample-repositories.js';

const sha256 = (bytes: ArrayBuffer | Buffer) =>
  `sha256:${createHash('sha256')
    .update(Buffer.from(bytes as ArrayBuffer))
    .digest('hex')}`;

const running: DemoRegistry[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

async function start(opts?: DemoRegistryOptions, repos: RepositoryContent[] = sampleRepositories()) {
  const registry = await startDemoRegistry(repos, opts);
  running.push(registry);
  return registry;
}

function nextLink(res: Response): string | undefined {
  const link = res.headers.get('link');
  if (!link) return undefined;
  const m = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  expect(m, `malformed Link header ${link}`).not.toBeNull();
  return m![1];
}

/** Follows `Link: rel="next"` from `first`, returning every page's items and the URLs visited. */
async function walk(base: string, first: string, key: 'repositories' | 'tags', init?: RequestInit) {
  const items: string[] = [];
  const visited: string[] = [];
  let next: string | undefined = first;
  while (next) {
    const target = new URL(next, base).toString();
    visited.push(target);
    const res = await fetch(target, init);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string[]>;
    items.push(...body[key]!);
    next = nextLink(res);
    expect(visited.length).toBeLessThan(100);
  }
  return { items, visited };
}

function allTags(repos: RepositoryContent[], name: string): string[] {
  return Object.keys(repos.find((r) => r.name === name)!.tags).sort();
}

describe('parseRegistryPath', () => {
  it('uses the last operation segment so nested names (even ones containing "blobs") work', () => {
    expect(parseRegistryPath('/v2/')).toEqual({ kind: 'ping' });
    expect(parseRegistryPath('/v2')).toEqual({ kind: 'ping' });
    expect(parseRegistryPath('/v2/_catalog')).toEqual({ kind: 'catalog' });
    expect(parseRegistryPath('/v2/a/b/c/tags/list')).toEqual({ kind: 'tags', name: 'a/b/c' });
    expect(parseRegistryPath('/v2/a/blobs/c/manifests/latest')).toEqual({
      kind: 'manifest',
      name: 'a/blobs/c',
      reference: 'latest',
    });
    expect(parseRegistryPath('/v2/x/manifests/y/blobs/sha256:abc')).toEqual({
      kind: 'blob',
      name: 'x/manifests/y',
      reference: 'sha256:abc',
    });
    expect(parseRegistryPath('/v2/x/tags/list/manifests/v1')).toEqual({
      kind: 'manifest',
      name: 'x/tags/list',
      reference: 'v1',
    });
    expect(parseRegistryPath('/v2/x/blobs/not-a-digest').kind).toBe('other');
    expect(parseRegistryPath('/v2/x/manifests/a/b').kind).toBe('other');
    expect(parseRegistryPath('/v2/x/tags/list/extra').kind).toBe('other');
    expect(parseRegistryPath('/v2/manifests/latest').kind).toBe('other');
    expect(parseRegistryPath('/healthz').kind).toBe('other');
  });
});

describe('demo registry', () => {
  it('answers the version check', async () => {
    const reg = await start();
    expect(reg.url).toBe(`http://${reg.host}`);
    expect(reg.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`${reg.url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(await res.json()).toEqual({});
  });

  describe('catalog', () => {
    it('lists every repository, sorted, in one page by default', async () => {
      const repos = sampleRepositories();
      const reg = await start({}, repos);
      const res = await fetch(`${reg.url}/v2/_catalog`);
      expect(res.status).toBe(200);
      expect(res.headers.get('link')).toBeNull();
      const body = (await res.json()) as { repositories: string[] };
      expect(body.repositories).toEqual(repos.map((r) => r.name).sort());
      expect(body.repositories).toContain('acme/platform/ingress-controller');
    });

    it('paginates with a relative Link header and honours n and last', async () => {
      const repos = sampleRepositories();
      const reg = await start({ catalogPageSize: 2 }, repos);
      const sorted = repos.map((r) => r.name).sort();

      const res = await fetch(`${reg.url}/v2/_catalog`);
      expect(((await res.json()) as { repositories: string[] }).repositories).toEqual(sorted.slice(0, 2));
      expect(res.headers.get('link')).toBe(
        `</v2/_catalog?last=${encodeURIComponent(sorted[1]!)}&n=2>; rel="next"`,
      );

      // n below the page size wins; n above it is capped.
      const one = await fetch(`${reg.url}/v2/_catalog?n=1&last=${encodeURIComponent(sorted[0]!)}`);
      expect(((await one.json()) as { repositories: string[] }).repositories).toEqual([sorted[1]]);
      expect(nextLink(one)).toBe(`/v2/_catalog?last=${encodeURIComponent(sorted[1]!)}&n=1`);
      const capped = await fetch(`${reg.url}/v2/_catalog?n=50`);
      expect(((await capped.json()) as { repositories: string[] }).repositories).toHaveLength(2);

      const { items, visited } = await walk(reg.url, '/v2/_catalog', 'repositories');
      expect(items).toEqual(sorted);
      expect(visited).toHaveLength(Math.ceil(sorted.length / 2));

      // The last page carries no Link.
      const last = await fetch(`${reg.url}/v2/_catalog?last=${encodeURIComponent(sorted.at(-2)!)}`);
      expect(((await last.json()) as { repositories: string[] }).repositories).toEqual([sorted.at(-1)]);
      expect(last.headers.get('link')).toBeNull();
    });

    it('rejects n above the configured maximum like Distribution', async () => {
      const reg = await start({ catalogPageSize: 10 });
      const res = await fetch(`${reg.url}/v2/_catalog?n=1001`);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        errors: [{ code: 'PAGINATION_NUMBER_INVALID', message: 'invalid number of results requested' }],
      });
      expect((await fetch(`${reg.url}/v2/_catalog?n=1000`)).status).toBe(200);
      expect((await fetch(`${reg.url}/v2/_catalog?n=-1`)).status).toBe(400);
      expect((await fetch(`${reg.url}/v2/_catalog?n=lots`)).status).toBe(400);

      const strict = await start({ catalogMaxEntries: 3 });
      expect((await fetch(`${strict.url}/v2/_catalog?n=4`)).status).toBe(400);
      const ok = await fetch(`${strict.url}/v2/_catalog?n=3`);
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { repositories: string[] }).repositories).toHaveLength(3);
      expect(nextLink(ok)).toMatch(/^\/v2\/_catalog\?last=.+&n=3$/);
    });

    it('can send absolute Link URLs', async () => {
      const reg = await start({ catalogPageSize: 4, linkStyle: 'absolute' });
      const res = await fetch(`${reg.url}/v2/_catalog`);
      const link = nextLink(res)!;
      expect(link.startsWith(`${reg.url}/v2/_catalog?last=`)).toBe(true);
      const { items } = await walk(reg.url, '/v2/_catalog', 'repositories');
      expect(items).toEqual(
        sampleRepositories()
          .map((r) => r.name)
          .sort(),
      );
    });
  });

  describe('tags/list', () => {
    it('returns every tag, sorted, in one page and ignores n when pagination is off', async () => {
      const repos = sampleRepositories();
      const reg = await start({}, repos);
      const res = await fetch(`${reg.url}/v2/library/nginx/tags/list?n=2`);
      expect(res.status).toBe(200);
      expect(res.headers.get('link')).toBeNull();
      expect(await res.json()).toEqual({ name: 'library/nginx', tags: allTags(repos, 'library/nginx') });
    });

    it('paginates with n and last, and walking the Link chain yields every tag exactly once', async () => {
      const repos = sampleRepositories();
      const reg = await start({ tagPageSize: 3 }, repos);
      const expected = allTags(repos, 'acme/payments-api');
      expect(expected.length).toBeGreaterThan(6);

      const first = await fetch(`${reg.url}/v2/acme/payments-api/tags/list`);
      expect(((await first.json()) as { tags: string[] }).tags).toEqual(expected.slice(0, 3));
      expect(first.headers.get('link')).toBe(
        `</v2/acme/payments-api/tags/list?last=${encodeURIComponent(expected[2]!)}&n=3>; rel="next"`,
      );

      const small = await fetch(`${reg.url}/v2/acme/payments-api/tags/list?n=2&last=${expected[0]}`);
      expect(((await small.json()) as { tags: string[] }).tags).toEqual(expected.slice(1, 3));
      expect(nextLink(small)).toBe(`/v2/acme/payments-api/tags/list?last=${expected[2]}&n=2`);

      for (const start of ['/v2/acme/payments-api/tags/list', '/v2/acme/payments-api/tags/list?n=1']) {
        const { items, visited } = await walk(reg.url, start, 'tags');
        expect(items).toEqual(expected);
        expect(new Set(items).size).toBe(items.length);
        expect(visited.length).toBeGreaterThan(1);
      }
    });

    it('supports an opaque next_page cursor and then ignores last', async () => {
      const repos = sampleRepositories();
      const reg = await start({ tagPageSize: 2, opaqueCursor: true, catalogPageSize: 2 }, repos);
      const expected = allTags(repos, 'library/redis');

      const first = await fetch(`${reg.url}/v2/library/redis/tags/list?last=${expected[3]}`);
      expect(((await first.json()) as { tags: string[] }).tags).toEqual(expected.slice(0, 2));
      const link = nextLink(first)!;
      expect(link).toMatch(/^\/v2\/library\/redis\/tags\/list\?n=2&next_page=[\w-]+$/);
      expect(link).not.toContain('last=');

      const { items } = await walk(reg.url, '/v2/library/redis/tags/list', 'tags');
      expect(items).toEqual(expected);

      const catalog = await walk(reg.url, '/v2/_catalog', 'repositories');
      expect(catalog.items).toEqual(repos.map((r) => r.name).sort());
      expect(catalog.visited.every((u) => !u.includes('last='))).toBe(true);

      const bad = await fetch(`${reg.url}/v2/library/redis/tags/list?next_page=garbage`);
      expect(bad.status).toBe(400);
    });

    it('answers 404 NAME_UNKNOWN for an unknown repository', async () => {
      const reg = await start();
      const res = await fetch(`${reg.url}/v2/acme/nope/tags/list`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
      expect(body.errors[0]).toMatchObject({
        code: 'NAME_UNKNOWN',
        message: 'repository name not known to registry',
      });
    });
  });

  describe('manifests', () => {
    it('serves a manifest by tag and by digest with matching digest headers (GET and HEAD)', async () => {
      const repos = sampleRepositories();
      const reg = await start({}, repos);
      const repo = repos.find((r) => r.name === 'acme/payments-api')!;
      const digest = repo.tags['v1.4.0']!;
      const headers = { Accept: MANIFEST_ACCEPT };

      const get = await fetch(`${reg.url}/v2/acme/payments-api/manifests/v1.4.0`, { headers });
      expect(get.status).toBe(200);
      const body = await get.arrayBuffer();
      expect(sha256(body)).toBe(digest);
      expect(get.headers.get('docker-content-digest')).toBe(digest);
      expect(get.headers.get('content-type')).toBe(MediaType.OciManifest);
      expect(get.headers.get('content-length')).toBe(String(body.byteLength));
      expect(get.headers.get('etag')).toBe(`"${digest}"`);

      const head = await fetch(`${reg.url}/v2/acme/payments-api/manifests/v1.4.0`, {
        method: 'HEAD',
        headers,
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('docker-content-digest')).toBe(digest);
      expect(head.headers.get('content-type')).toBe(MediaType.OciManifest);
      expect(head.headers.get('content-length')).toBe(String(body.byteLength));
      expect((await head.arrayBuffer()).byteLength).toBe(0);

      const byDigest = await fetch(`${reg.url}/v2/acme/payments-api/manifests/${digest}`, { headers });
      expect(byDigest.status).toBe(200);
      expect(sha256(await byDigest.arrayBuffer())).toBe(digest);

      // Children of an index are fetchable by digest too.
      const index = await fetch(`${reg.url}/v2/library/redis/manifests/latest`, { headers });
      expect(index.headers.get('content-type')).toBe(MediaType.DockerManifestList);
      const list = (await index.json()) as { manifests: Array<{ digest: string; mediaType: string }> };
      expect(list.manifests).toHaveLength(3);
      for (const child of list.manifests) {
        const res = await fetch(`${reg.url}/v2/library/redis/manifests/${child.digest}`, { headers });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe(child.mediaType);
        expect(sha256(await res.arrayBuffer())).toBe(child.digest);
      }
    });

    it('answers 304 when If-None-Match carries the ETag', async () => {
      const reg = await start();
      const url = `${reg.url}/v2/library/nginx/manifests/latest`;
      const first = await fetch(url, { headers: { Accept: MANIFEST_ACCEPT } });
      const etag = first.headers.get('etag')!;
      await first.arrayBuffer();
      const again = await fetch(url, { headers: { Accept: MANIFEST_ACCEPT, 'If-None-Match': etag } });
      expect(again.status).toBe(304);
      expect(again.headers.get('docker-content-digest')).toBe(etag.slice(1, -1));
      const stale = await fetch(url, {
        headers: { Accept: MANIFEST_ACCEPT, 'If-None-Match': '"sha256:0000"' },
      });
      expect(stale.status).toBe(200);
      await stale.arrayBuffer();
    });

    it('negotiates content like Distribution', async () => {
      const repos = sampleRepositories();
      const reg = await start({}, repos);
      const dockerOnly = [MediaType.DockerManifestList, MediaType.DockerManifest].join(', ');

      const oci = await fetch(`${reg.url}/v2/acme/payments-api/manifests/v1.0.0`, {
        headers: { Accept: dockerOnly },
      });
      expect(oci.status).toBe(404);
      expect(await oci.json()).toEqual({
        errors: [
          {
            code: 'MANIFEST_UNKNOWN',
            message: 'OCI manifest found, but accept header does not support OCI manifests',
          },
        ],
      });

      const index = await fetch(`${reg.url}/v2/library/nginx/manifests/latest`, {
        headers: { Accept: dockerOnly },
      });
      expect(index.status).toBe(404);
      expect(((await index.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
        'MANIFEST_UNKNOWN',
      );
      const noAccept = await fetch(`${reg.url}/v2/library/nginx/manifests/latest`, { method: 'HEAD' });
      expect(noAccept.status).toBe(404);

      // Parameters and multiple values in Accept are understood.
      const withParams = await fetch(`${reg.url}/v2/library/nginx/manifests/latest`, {
        headers: { Accept: `${MediaType.OciIndex};q=0.9, */*;q=0.1` },
      });
      expect(withParams.status).toBe(200);
      expect(withParams.headers.get('content-type')).toBe(MediaType.OciIndex);
      await withParams.arrayBuffer();

      // A Docker manifest list fetched by tag without the list type is rewritten to linux/amd64.
      const redis = repos.find((r) => r.name === 'library/redis')!;
      const listBytes = redis.manifests.find((m) => m.digest === redis.tags.latest)!.bytes;
      const amd64 = (
        JSON.parse(listBytes.toString()) as {
          manifests: Array<{ digest: string; platform: { architecture: string } }>;
        }
      ).manifests.find((m) => m.platform.architecture === 'amd64')!.digest;
      const rewritten = await fetch(`${reg.url}/v2/library/redis/manifests/latest`, {
        headers: { Accept: MediaType.DockerManifest },
      });
      expect(rewritten.status).toBe(200);
      expect(rewritten.headers.get('content-type')).toBe(MediaType.DockerManifest);
      expect(rewritten.headers.get('docker-content-digest')).toBe(amd64);
      expect(sha256(await rewritten.arrayBuffer())).toBe(amd64);

      // Docker schema 2 images are served whatever the Accept header says.
      const docker = await fetch(`${reg.url}/v2/acme/platform/ingress-controller/manifests/latest`);
      expect(docker.status).toBe(200);
      expect(docker.headers.get('content-type')).toBe(MediaType.DockerManifest);
      await docker.arrayBuffer();
    });

    it('answers 404 MANIFEST_UNKNOWN for unknown tags, digests and repositories', async () => {
      const reg = await start();
      const headers = { Accept: MANIFEST_ACCEPT };
      for (const path of [
        '/v2/library/nginx/manifests/0.0.1',
        `/v2/library/nginx/manifests/sha256:${'0'.repeat(64)}`,
        '/v2/nobody/here/manifests/latest',
      ]) {
        const res = await fetch(`${reg.url}${path}`, { headers });
        expect(res.status).toBe(404);
        const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
        expect(body.errors[0]).toMatchObject({ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' });
      }
    });
  });

  describe('blobs', () => {
    it('serves blobs by digest (GET and HEAD) and 404s unknown ones', async () => {
      const repos = sampleRepositories();
      const reg = await start({}, repos);
      const repo = repos.find((r) => r.name === 'acme/legacy-batch')!;
      for (const blob of repo.blobs) {
        const res = await fetch(`${reg.url}/v2/acme/legacy-batch/blobs/${blob.digest}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/octet-stream');
        expect(res.headers.get('docker-content-digest')).toBe(blob.digest);
        expect(sha256(await res.arrayBuffer())).toBe(blob.digest);
      }
      const blob = repo.blobs[0]!;
      const head = await fetch(`${reg.url}/v2/acme/legacy-batch/blobs/${blob.digest}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(blob.bytes.length));

      const missing = await fetch(`${reg.url}/v2/acme/legacy-batch/blobs/sha256:${'1'.repeat(64)}`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
        'BLOB_UNKNOWN',
      );
      // Blobs are scoped to their repository.
      const other = await fetch(`${reg.url}/v2/library/nginx/blobs/${blob.digest}`);
      expect(other.status).toBe(404);
      await other.arrayBuffer();
    });
  });

  describe('basic auth', () => {
    const creds = { username: 'demo', password: 's3cret!' };
    const authorization = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

    it('challenges requests without the right credentials', async () => {
      const reg = await start({ basicAuth: creds });
      const attempts: Array<Record<string, string>> = [
        {},
        { Authorization: authorization('demo', 'wrong') },
        { Authorization: 'Bearer x' },
      ];
      for (const headers of attempts) {
        const res = await fetch(`${reg.url}/v2/`, { headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="demo"');
        expect(await res.json()).toEqual({
          errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }],
        });
      }
      const tags = await fetch(`${reg.url}/v2/library/nginx/tags/list`);
      expect(tags.status).toBe(401);
      await tags.arrayBuffer();
      const blobHead = await fetch(`${reg.url}/v2/library/nginx/blobs/sha256:${'2'.repeat(64)}`, {
        method: 'HEAD',
      });
      expect(blobHead.status).toBe(401);
    });

    it('serves requests with the right credentials', async () => {
      const reg = await start({ basicAuth: creds });
      const headers = {
        Authorization: authorization(creds.username, creds.password),
        Accept: MANIFEST_ACCEPT,
      };
      expect((await fetch(`${reg.url}/v2/`, { headers })).status).toBe(200);
      const tags = await fetch(`${reg.url}/v2/library/nginx/tags/list`, { headers });
      expect(tags.status).toBe(200);
      expect(((await tags.json()) as { tags: string[] }).tags).toContain('latest');
      const manifest = await fetch(`${reg.url}/v2/library/nginx/manifests/latest`, { headers });
      expect(manifest.status).toBe(200);
      await manifest.arrayBuffer();
    });
  });

  it('serves nested repository names, including ones with operation-like components', async () => {
    const image = buildImage({ created: '2024-01-01T00:00:00Z', seed: 'odd' });
    const odd = new RepositoryBuilder('team/blobs/manifests').addImage(image, 'v1').build();
    const repos = [...sampleRepositories(), odd];
    const reg = await start({}, repos);
    const headers = { Accept: MANIFEST_ACCEPT };

    const tags = await fetch(`${reg.url}/v2/acme/platform/ingress-controller/tags/list`);
    expect(await tags.json()).toEqual({
      name: 'acme/platform/ingress-controller',
      tags: allTags(repos, 'acme/platform/ingress-controller'),
    });
    const manifest = await fetch(`${reg.url}/v2/acme/platform/ingress-controller/manifests/2.4.0`, {
      headers,
    });
    const doc = (await manifest.json()) as { config: { digest: string } };
    const config = await fetch(`${reg.url}/v2/acme/platform/ingress-controller/blobs/${doc.config.digest}`);
    expect(config.status).toBe(200);
    expect(sha256(await config.arrayBuffer())).toBe(doc.config.digest);

    expect(await (await fetch(`${reg.url}/v2/team/blobs/manifests/tags/list`)).json()).toEqual({
      name: 'team/blobs/manifests',
      tags: ['v1'],
    });
    const oddManifest = await fetch(`${reg.url}/v2/team/blobs/manifests/manifests/v1`, { headers });
    expect(oddManifest.headers.get('docker-content-digest')).toBe(image.manifest.digest);
    await oddManifest.arrayBuffer();
    const oddBlob = await fetch(`${reg.url}/v2/team/blobs/manifests/blobs/${image.config.digest}`);
    expect(oddBlob.status).toBe(200);
    await oddBlob.arrayBuffer();
  });

  it('is read-only', async () => {
    const reg = await start();
    const res = await fetch(`${reg.url}/v2/library/nginx/manifests/latest`, { method: 'PUT', body: '{}' });
    expect(res.status).toBe(405);
    expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('UNSUPPORTED');
    const del = await fetch(`${reg.url}/v2/library/nginx/blobs/sha256:${'3'.repeat(64)}`, {
      method: 'DELETE',
    });
    expect(del.status).toBe(405);
    await del.arrayBuffer();
  });

  it('records every request with its kind and status', async () => {
    const reg = await start({ tagPageSize: 5 });
    const headers = { Accept: MANIFEST_ACCEPT };
    const paths: Array<[string, string]> = [
      ['GET', '/v2/'],
      ['GET', '/v2/_catalog?n=2'],
      ['GET', '/v2/library/nginx/tags/list?n=1'],
      ['HEAD', '/v2/library/nginx/manifests/latest'],
      ['GET', '/v2/library/nginx/manifests/nope'],
      ['GET', `/v2/library/nginx/blobs/sha256:${'4'.repeat(64)}`],
      ['GET', '/v2/library/nginx/whatever'],
      ['GET', '/favicon.ico'],
    ];
    for (const [method, path] of paths) {
      const res = await fetch(`${reg.url}${path}`, { method, headers });
      await res.arrayBuffer();
    }
    expect(reg.requests).toEqual([
      { method: 'GET', path: '/v2/', kind: 'ping', status: 200 },
      { method: 'GET', path: '/v2/_catalog?n=2', kind: 'catalog', status: 200 },
      { method: 'GET', path: '/v2/library/nginx/tags/list?n=1', kind: 'tags', status: 200 },
      { method: 'HEAD', path: '/v2/library/nginx/manifests/latest', kind: 'manifest', status: 200 },
      { method: 'GET', path: '/v2/library/nginx/manifests/nope', kind: 'manifest', status: 404 },
      { method: 'GET', path: `/v2/library/nginx/blobs/sha256:${'4'.repeat(64)}`, kind: 'blob', status: 404 },
      { method: 'GET', path: '/v2/library/nginx/whatever', kind: 'other', status: 404 },
      { method: 'GET', path: '/favicon.ico', kind: 'other', status: 404 },
    ]);
    reg.requests.length = 0;
    await (await fetch(`${reg.url}/v2/`)).arrayBuffer();
    expect(reg.requests).toHaveLength(1);
  });

  it('closes promptly with keep-alive connections open, and close() is idempotent', async () => {
    const reg = await startDemoRegistry(sampleRepositories(), {});
    await (await fetch(`${reg.url}/v2/`)).arrayBuffer();
    await Promise.all([reg.close(), reg.close()]);
    await expect(fetch(`${reg.url}/v2/`)).rejects.toThrow();
  });

  it('listens on a requested port and refuses duplicate repository names', async () => {
    const probe = await startDemoRegistry([]);
    const port = Number(probe.host.split(':')[1]);
    await probe.close();
    const reg = await start({ port });
    expect(reg.url).toBe(`http://127.0.0.1:${port}`);
    const repo = sampleRepositories()[0]!;
    await expect(startDemoRegistry([repo, repo])).rejects.toThrow(/duplicate repository/);
  });
});

describe('sample repositories', () => {
  it('are deterministic', () => {
    const a = sampleRepositories();
    const b = sampleRepositories();
    expect(a.map((r) => ({ name: r.name, tags: r.tags }))).toEqual(
      b.map((r) => ({ name: r.name, tags: r.tags })),
    );
    expect(a.flatMap((r) => r.manifests.map((m) => m.bytes.toString('base64')))).toEqual(
      b.flatMap((r) => r.manifests.map((m) => m.bytes.toString('base64'))),
    );
  });

  it('are a realistic handful: ~6 repositories, 25-35 tags, small layers', () => {
    const repos = sampleRepositories();
    expect(repos.length).toBeGreaterThanOrEqual(5);
    expect(repos.length).toBeLessThanOrEqual(8);
    const tagCount = repos.reduce((n, r) => n + Object.keys(r.tags).length, 0);
    expect(tagCount).toBeGreaterThanOrEqual(25);
    expect(tagCount).toBeLessThanOrEqual(35);
    const totalBytes = repos.flatMap((r) => r.blobs).reduce((n, b) => n + b.bytes.length, 0);
    expect(totalBytes).toBeLessThan(2_000_000);
    expect(new Set(repos.map((r) => r.name)).size).toBe(repos.length);
  });

  it('are self-contained: every tag, child manifest and blob referenced is present', () => {
    for (const repo of sampleRepositories()) {
      const manifests = new Map(repo.manifests.map((m) => [m.digest, m]));
      const blobs = new Set(repo.blobs.map((b) => b.digest));
      for (const [tag, digest] of Object.entries(repo.tags)) {
        expect(manifests.has(digest), `${repo.name}:${tag}`).toBe(true);
      }
      for (const m of repo.manifests) {
        const doc = JSON.parse(m.bytes.toString()) as {
          mediaType: string;
          manifests?: Array<{ digest: string }>;
          config?: { digest: string };
          layers?: Array<{ digest: string }>;
        };
        expect(doc.mediaType).toBe(m.mediaType);
        for (const child of doc.manifests ?? []) expect(manifests.has(child.digest)).toBe(true);
        for (const d of [doc.config, ...(doc.layers ?? [])]) if (d) expect(blobs.has(d.digest)).toBe(true);
      }
    }
  });

  it('cover the interesting cases', () => {
    const repos = sampleRepositories();
    const byName = new Map(repos.map((r) => [r.name, r]));
    const docOf = (repo: RepositoryContent, tag: string) => {
      const m = repo.manifests.find((x) => x.digest === repo.tags[tag])!;
      return { mediaType: m.mediaType, doc: JSON.parse(m.bytes.toString()) as Record<string, unknown> };
    };
    const configOf = (repo: RepositoryContent, tag: string) => {
      const { doc } = docOf(repo, tag);
      const digest = (doc.config as { digest: string }).digest;
      return JSON.parse(repo.blobs.find((b) => b.digest === digest)!.bytes.toString()) as {
        created: string;
        config: { Labels: Record<string, string> };
      };
    };

    const nginx = byName.get('library/nginx')!;
    expect(nginx.tags.latest).toBe(nginx.tags['1.27.2']);
    expect(nginx.tags['1.27']).toBe(nginx.tags['1.27.2']);
    expect(nginx.tags['1.26.1']).not.toBe(nginx.tags['1.27.2']);
    const nginxIndex = docOf(nginx, 'latest');
    expect(nginxIndex.mediaType).toBe(MediaType.OciIndex);
    const children = nginxIndex.doc.manifests as Array<{
      platform: { architecture: string; variant?: string };
      annotations?: Record<string, string>;
    }>;
    expect(
      children.filter((c) => c.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'),
    ).toHaveLength(2);
    expect(children.some((c) => c.platform.architecture === 'arm64' && c.platform.variant === 'v8')).toBe(
      true,
    );

    const redis = byName.get('library/redis')!;
    expect(docOf(redis, '7-alpine').mediaType).toBe(MediaType.DockerManifestList);
    expect((docOf(redis, '7.4.1').doc.manifests as unknown[]).length).toBe(3);

    const payments = byName.get('acme/payments-api')!;
    const labels = configOf(payments, 'v1.4.0').config.Labels;
    expect(labels['org.opencontainers.image.source']).toBe('https://github.com/acme/payments-api');
    expect(labels['org.opencontainers.image.version']).toBe('1.4.0');
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
    const shaTag = Object.keys(payments.tags).find((t) => t.startsWith('sha-'))!;
    expect(shaTag).toMatch(/^sha-[0-9a-f]{7}$/);
    expect(payments.tags[shaTag]).toBe(payments.tags.main);
    const sigTag = `${payments.tags['v1.4.0']!.replace(':', '-')}.sig`;
    expect(payments.tags[sigTag]).toBeDefined();
    for (const v of ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0', 'v1.4.0'])
      expect(payments.tags[v]).toBeDefined();

    const ingress = byName.get('acme/platform/ingress-controller')!;
    expect(docOf(ingress, 'latest').mediaType).toBe(MediaType.DockerManifest);

    const legacy = byName.get('acme/legacy-batch')!;
    expect(configOf(legacy, 'latest').created).toBe('1970-01-01T00:00:00Z');
  });
});
