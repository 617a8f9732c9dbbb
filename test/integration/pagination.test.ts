// Distribution 2.8 ignores n/last on tags/list, so tag pagination is exercised against the demo
// registry (which paginates like Distribution 3, Quay and GHCR) and a scripted server for the
// hostile cases.
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryAuth } from '../../src/auth/registry-auth.js';
import { startDemoRegistry } from '../../src/demo/demo-registry.js';
import { buildImage, RepositoryBuilder } from '../../src/demo/image-builder.js';
import { HttpClient } from '../../src/http/http-client.js';
import { RegistryClient } from '../../src/oci/registry-client.js';
import { Secrets } from '../../src/secrets.js';
import { type ScriptedServer, startScriptedServer } from '../support/scripted-server.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function clientFor(url: string, opts: { maxPages?: number; pageSize?: number } = {}) {
  const http = new HttpClient({ sleep: async () => {} });
  closers.push(() => http.close());
  const auth = new RegistryAuth(http, new URL(url).host, {}, new Secrets(), 5000);
  return new RegistryClient(http, auth, {
    apiUrl: url,
    timeoutMs: 5000,
    maxPages: opts.maxPages ?? 1000,
    ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
  });
}

function repoWithTags(name: string, count: number) {
  const img = buildImage({ created: '2024-01-01T00:00:00Z', seed: name });
  const b = new RepositoryBuilder(name).addImage(img);
  for (let i = 0; i < count; i++) b.tag(`t${String(i).padStart(4, '0')}`, img.manifest.digest);
  return b.build();
}

describe('pagination', () => {
  it('follows relative Link headers to the end of tags/list, within the server page size', async () => {
    const reg = await startDemoRegistry([repoWithTags('big/repo', 250)], { tagPageSize: 40 });
    closers.push(() => reg.close());
    const listing = await clientFor(reg.url).listTags('big/repo');
    expect(listing.complete).toBe(true);
    expect(listing.items).toHaveLength(250);
    expect(new Set(listing.items).size).toBe(250);
    expect(listing.pages).toBe(7);
  });

  it('follows opaque next_page cursors (Quay, GHCR style)', async () => {
    const reg = await startDemoRegistry([repoWithTags('q/repo', 120)], {
      tagPageSize: 50,
      opaqueCursor: true,
      linkStyle: 'absolute',
    });
    closers.push(() => reg.close());
    const listing = await clientFor(reg.url).listTags('q/repo');
    expect(listing.items).toHaveLength(120);
    expect(listing.pages).toBe(3);
  });

  it('retries the catalog with a smaller n when the server rejects ours, and pages to the end', async () => {
    const repos = Array.from({ length: 230 }, (_, i) => repoWithTags(`ns/r${String(i).padStart(3, '0')}`, 1));
    const reg = await startDemoRegistry(repos, { catalogMaxEntries: 100 });
    closers.push(() => reg.close());
    const listing = await clientFor(reg.url).listRepositories();
    expect(listing.complete).toBe(true);
    expect(listing.items).toHaveLength(230);
    expect(reg.requests.filter((r) => r.kind === 'catalog').map((r) => r.status)).toEqual([
      400, 200, 200, 200,
    ]);
  });

  it('stops at max_pages with an incomplete listing that says why', async () => {
    const reg = await startDemoRegistry([repoWithTags('big/repo', 100)], { tagPageSize: 10 });
    closers.push(() => reg.close());
    const listing = await clientFor(reg.url, { maxPages: 3 }).listTags('big/repo');
    expect(listing).toMatchObject({
      complete: false,
      pages: 3,
      problem: 'stopped after 3 pages (max_pages); raise max_pages to list everything',
    });
    expect(listing.items).toHaveLength(30);
  });

  describe('hostile servers', () => {
    let server: ScriptedServer;
    async function serve(pages: Record<string, { body: string; link?: string; type?: string }>) {
      server = await startScriptedServer((req, res) => {
        if (req.url === '/v2/') return res.end('{}');
        const page = pages[req.url ?? ''];
        if (!page) {
          res.statusCode = 404;
          return res.end(
            '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}',
          );
        }
        if (page.link) res.setHeader('link', page.link);
        res.setHeader('content-type', page.type ?? 'application/json');
        res.end(page.body);
      });
      closers.push(() => server.close());
      return server;
    }

    it('never follows a Link to another origin (SSRF), and marks the listing incomplete', async () => {
      const s = await serve({
        '/v2/x/tags/list?n=1000': {
          body: '{"name":"x","tags":["a","b"]}',
          link: '<http://169.254.169.254/latest/meta-data/>; rel="next"',
        },
      });
      const listing = await clientFor(s.url).listTags('x');
      expect(listing).toMatchObject({ items: ['a', 'b'], complete: false });
      expect(listing.problem).toContain('points to another origin (169.254.169.254)');
      expect(s.seen).toHaveLength(1);
    });

    it('stops on a Link that loops back to a page already read', async () => {
      const s = await serve({
        '/v2/x/tags/list?n=1000': { body: '{"tags":["a"]}', link: '</v2/x/tags/list?last=a>; rel="next"' },
        '/v2/x/tags/list?last=a': {
          body: '{"tags":["a","b"]}',
          link: '</v2/x/tags/list?n=1000>; rel="next"',
        },
      });
      const listing = await clientFor(s.url).listTags('x');
      expect(listing).toMatchObject({ items: ['a', 'b'], complete: false, pages: 2 });
    });

    it('reads "tags": null as an empty list', async () => {
      const s = await serve({ '/v2/x/tags/list?n=1000': { body: '{"name":"x","tags":null}' } });
      expect(await clientFor(s.url).listTags('x')).toEqual({ items: [], pages: 1, complete: true });
    });

    it('rejects a 200 HTML page with a clear error', async () => {
      const s = await serve({ '/v2/x/tags/list?n=1000': { body: '<html>login</html>', type: 'text/html' } });
      await expect(clientFor(s.url).listTags('x')).rejects.toThrow(
        /expected a JSON listing but got something else \(text\/html, 18 bytes\)/,
      );
    });

    it('names the registry error code for an unknown repository', async () => {
      const s = await serve({});
      await expect(clientFor(s.url).listTags('nope')).rejects.toThrow(
        /\/v2\/nope\/tags\/list: HTTP 404 \(NAME_UNKNOWN repository name not known to registry\)/,
      );
    });
  });
});
