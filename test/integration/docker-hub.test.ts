// Docker Hub has no _catalog: repositories come from the Hub API, namespace by namespace. A fake
// Hub API (paged like the real one: page_size ≤ 100, absolute `next` links) stands in for
// hub.docker.com; the demo registry stands in for registry-1.docker.io.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import { runDiscovery } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';
import { comparableGraph } from '../support/comparable-graph.js';
import { type ScriptedServer, startScriptedServer } from '../support/scripted-server.js';

let registry: DemoRegistry;
let hub: ScriptedServer;
beforeAll(async () => {
  registry = await startDemoRegistry(sampleRepositories());
  hub = await startScriptedServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    res.setHeader('content-type', 'application/json');
    const tagsPath = /^\/v2\/namespaces\/library\/repositories\/([^/]+)\/tags$/.exec(url.pathname);
    if (tagsPath)
      return serveTags(res, `library/${tagsPath[1]}`, Number(url.searchParams.get('page') ?? '1'));
    if (url.pathname !== '/v2/namespaces/library/repositories') {
      res.statusCode = 404;
      return res.end('{"message":"object not found","errinfo":{}}');
    }
    const page = Number(url.searchParams.get('page') ?? '1');
    const all = ['nginx', 'redis'];
    const results = [all[page - 1]!].map((name) => ({
      name,
      namespace: 'library',
      star_count: 1,
      pull_count: 2,
    }));
    const next =
      page < all.length
        ? `${hub.url}/v2/namespaces/library/repositories?page=${page + 1}&page_size=100`
        : null;
    res.end(JSON.stringify({ count: all.length, next, previous: null, results }));
  });
});
/** The Hub's tag list for a sample repository: digest and push time (= the image's created), 3 per page, newest first. */
/** Tags the fake Hub lists without a digest (as the Hub does for images still processing). */
const undigested = new Set<string>();

function serveTags(res: import('node:http').ServerResponse, repo: string, page: number) {
  const content = sampleRepositories().find((r) => r.name === repo)!;
  const bytes = (digest: string) =>
    [...content.manifests, ...content.blobs].find((c) => c.digest === digest)!.bytes;
  const created = (digest: string): string => {
    const doc = JSON.parse(bytes(digest).toString());
    if (doc.manifests) return created(doc.manifests[0].digest);
    return JSON.parse(bytes(doc.config.digest).toString()).created;
  };
  const all = Object.entries(content.tags)
    .map(([name, digest]) => ({
      name,
      digest: undigested.has(`${repo}:${name}`) ? null : digest,
      tag_last_pushed: created(digest),
      full_size: 1,
    }))
    .sort((a, b) => (a.tag_last_pushed < b.tag_last_pushed ? 1 : -1));
  const results = all.slice((page - 1) * 3, page * 3);
  const next =
    page * 3 < all.length
      ? `${hub.url}/v2/namespaces/library/repositories/${repo.split('/')[1]}/tags?page=${page + 1}&page_size=100`
      : null;
  res.end(JSON.stringify({ count: all.length, next, previous: null, results }));
}

afterAll(async () => {
  await registry.close();
  await hub.close();
});

async function discoverHub(namespacePattern: string, registryType = 'docker-hub') {
  const secrets = new Secrets();
  const settings = loadConfig(
    `providers:
  - name: hub
    type: docker
    config:
      registry_type: ${registryType}
      api_url: ${registry.url}
      hub_url: ${hub.url}
      selectors:
        - namespace_pattern: "${namespacePattern}"
          repository_pattern: "^(nginx|redis)$"
          max_tags: 2
`,
    { env: {}, secrets, origin: 'test' },
  );
  const http = new HttpClient();
  try {
    const r = await runDiscovery(settings, { secrets, log: silentLog, http });
    return { ...r, counts: Object.fromEntries(http.counts) };
  } finally {
    await http.close();
  }
}

describe('docker-hub repository listing', () => {
  it('lists a named namespace through the Hub API, page by page, and discovers its images', async () => {
    registry.requests.length = 0;
    const r = await discoverHub('library');
    expect(r.complete).toBe(true);
    expect(r.graph.receipts.map((x) => [x.repository, x.tags_selected])).toEqual([
      ['library/nginx', 2],
      ['library/redis', 2],
    ]);
    // 2 repository pages, and per repository 3 tag pages (library/nginx and library/redis have 7 and 8 tags).
    expect(r.counts['vendor-api']).toBe(2 + 3 + 3);
    expect(registry.requests.some((q) => q.kind === 'catalog' || q.kind === 'tags')).toBe(false);
    // Digests come from the Hub API: no HEAD and no GET by tag. Manifest GETs (pulls) only for the kept tags' trees.
    expect(registry.requests.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:'))).toEqual([]);
    const kept = r.graph.entities.filter((e) => e.kind === 'DockerManifest').length;
    expect(registry.requests.filter((q) => q.kind === 'manifest')).toHaveLength(kept);
    expect(r.graph.entities.find((e) => e.kind === 'DockerRegistry')?.metadata.name).toBe('docker-hub');
  });

  it('the Hub fast path and the plain OCI path give the same graph', async () => {
    const hubGraph = (await discoverHub('library')).graph;
    const ociGraph = (await discoverHub('library', 'private')).graph;
    // Only the registry's identity and vendor-only facts differ; every repository, image and manifest is the same.
    expect(comparableGraph(hubGraph)).toBe(comparableGraph(ociGraph));
    expect(hubGraph.entities.filter((e) => e.kind === 'DockerImage').map((e) => e.spec.tag)).toEqual(
      ociGraph.entities.filter((e) => e.kind === 'DockerImage').map((e) => e.spec.tag),
    );
  });

  it('resolves a tag the Hub lists without a digest through the registry, and still agrees', async () => {
    const ociGraph = (await discoverHub('library', 'private')).graph;
    undigested.add('library/redis:7.4.1');
    try {
      registry.requests.length = 0;
      const r = await discoverHub('library');
      expect(r.complete).toBe(true);
      expect(registry.requests.some((q) => q.method === 'HEAD' && q.path.endsWith('/manifests/7.4.1'))).toBe(
        true,
      );
      expect(comparableGraph(r.graph)).toBe(comparableGraph(ociGraph));
    } finally {
      undigested.clear();
    }
  });

  it('refuses a namespace pattern it cannot enumerate, with the fix', async () => {
    const r = await discoverHub('.*');
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      'cannot list repositories: Docker Hub cannot list every namespace: selector namespace_pattern ".*" must name one (e.g. "library" for official images)',
    );
  });

  it('says when a namespace does not exist', async () => {
    const r = await discoverHub('nosuchorg');
    expect(r.graph.receipts[0]!.errors[0]).toMatch(/Docker Hub has no namespace "nosuchorg" \(HTTP 404/);
  });
});
