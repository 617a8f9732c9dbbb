// Nexus and Artifactory against fakes that reproduce their listing defects: a Nexus group cuts
// listings short with no Link, a Nexus connector's Link carries a path the connector rejects, and
// Artifactory's Link drops the repository prefix (with a numeric `last`). Each access path form,
// each credential form, the common failures with their exact messages, and request counts.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { RegistryAuth } from '../../src/auth/registry-auth.js';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { buildImage, RepositoryBuilder, type RepositoryContent } from '../../src/demo/image-builder.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { HttpClient } from '../../src/http/http-client.js';
import type { Log } from '../../src/log.js';
import { RegistryClient } from '../../src/oci/registry-client.js';
import { ARTIFACTORY_PAGINATION } from '../../src/registries/artifactory.js';
import { NEXUS_PAGINATION } from '../../src/registries/nexus.js';
import { Secrets } from '../../src/secrets.js';
import { comparableGraph } from '../support/comparable-graph.js';
import { discoverText } from '../support/discover-text.js';
import { type ArtifactoryFake, startArtifactoryFake } from '../support/fakes/artifactory-fake.js';
import {
  DEFAULT_FAKE_USERS,
  type FakeRequest,
  type NexusFake,
  startNexusFake,
} from '../support/fakes/nexus-fake.js';

const USER = 'ci';
const PASSWORD = DEFAULT_FAKE_USERS.ci!;
const BIG = 'acme/many-tags';
const BIG_TAGS = 250;
const GENERATED_AT = '2025-01-01T00:00:00Z';

/** The sample content plus one repository with enough tags to need several pages. */
function content(): RepositoryContent[] {
  const img = buildImage({ created: '2024-03-01T00:00:00Z', seed: BIG });
  const b = new RepositoryBuilder(BIG).addImage(img);
  for (let i = 0; i < BIG_TAGS; i++) b.tag(`v${String(i).padStart(4, '0')}`, img.manifest.digest);
  return [...sampleRepositories(), b.build()];
}
const TOTAL_TAGS = content().reduce((a, r) => a + Object.keys(r.tags).length, 0);

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

interface Provider {
  type: 'nexus' | 'artifactory' | 'private';
  apiUrl: string;
  username?: string;
  password?: string;
  token?: string;
  maxTags?: number;
}

function yamlFor(p: Provider): string {
  return stringify({
    providers: [
      {
        name: 'reg',
        type: 'docker',
        config: {
          registry_type: p.type,
          api_url: p.apiUrl,
          ...(p.username ? { username: p.username } : {}),
          ...(p.password ? { password: p.password } : {}),
          ...(p.token ? { token: p.token } : {}),
          selectors: [{ max_tags: p.maxTags ?? 2 }],
        },
      },
    ],
  });
}

function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`), debug: () => {} };
}

async function discover(yaml: string, env: Record<string, string> = {}) {
  const log = recordingLog();
  const r = await discoverText(yaml, { env, log, generatedAt: GENERATED_AT });
  const errors = r.graph.receipts.flatMap((x) => x.errors);
  return { ...r, errors, sleeps: r.waits, log: log.lines };
}

const listingRequests = (reqs: FakeRequest[]) =>
  reqs.filter((q) => q.kind === 'catalog' || q.kind === 'tags').length;
const tagsListed = (r: Awaited<ReturnType<typeof discover>>) =>
  r.graph.receipts.filter((x) => x.repository !== '*').reduce((a, x) => a + x.tags_listed, 0);

let plain: DemoRegistry;
let plainGraph: string;
beforeAll(async () => {
  plain = await startDemoRegistry(content());
  const r = await discover(yamlFor({ type: 'private', apiUrl: plain.url }));
  expect(r.complete).toBe(true);
  plainGraph = comparableGraph(r.graph.load());
});
afterAll(async () => {
  await plain.close();
});

function naiveClient(url: string, pagination?: typeof NEXUS_PAGINATION) {
  const http = new HttpClient({ sleep: async () => {} });
  closers.push(() => http.close());
  const auth = new RegistryAuth(
    http,
    new URL(url).host,
    { username: USER, password: PASSWORD },
    new Secrets(),
    5000,
  );
  return new RegistryClient(http, auth, {
    apiUrl: url,
    timeoutMs: 5000,
    maxPages: 100,
    ...(pagination ? { pagination } : {}),
  });
}

describe('nexus', () => {
  async function nexus(o: Parameters<typeof startNexusFake>[0] = {}): Promise<NexusFake> {
    const f = await startNexusFake({ repositories: content(), pageCap: 100, ...o });
    closers.push(() => f.close());
    return f;
  }

  it('the fake reproduces the group defect: a plain client silently stops after one page', async () => {
    const f = await nexus();
    const cut = await naiveClient(f.apiUrl).listTags(BIG);
    expect(cut).toMatchObject({ complete: true, pages: 1 });
    expect(cut.items).toHaveLength(100);
    const whole = await naiveClient(f.apiUrl, NEXUS_PAGINATION).listTags(BIG);
    expect(whole).toMatchObject({ complete: true, pages: 4 });
    expect(whole.items).toHaveLength(BIG_TAGS);
  });

  it('path form /repository/<name>, group, Basic auth: every tag across pages without Link, same graph as plain OCI', async () => {
    const f = await nexus();
    const r = await discover(
      yamlFor({ type: 'nexus', apiUrl: f.apiUrl, username: USER, password: PASSWORD }),
    );
    expect(r.errors).toEqual([]);
    expect(r.complete).toBe(true);
    expect(tagsListed(r)).toBe(TOTAL_TAGS);
    expect(comparableGraph(r.graph.load())).toBe(plainGraph);
    // Every request went under the repository path; the BASIC challenge was understood.
    expect(f.requests.every((q) => q.path.startsWith('/repository/docker-group/v2/'))).toBe(true);
    expect(f.requests.filter((q) => q.status === 401)).toHaveLength(1);
    // Catalog: 1 page + the empty page proving the end. Tags: big repo 3 pages + 1, others 1 + 1.
    const listing = listingRequests(f.requests);
    expect(listing).toBe(2 + 4 + 6 * 2);
    expect((listing / TOTAL_TAGS) * 100).toBeLessThanOrEqual(8);
    const bigPages = f.requests.filter((q) => q.kind === 'tags' && q.path.includes(`/v2/${BIG}/`)).length;
    expect(bigPages).toBe(4);
    expect((bigPages / BIG_TAGS) * 100).toBeLessThanOrEqual(3);
    expect(r.summary).toContain('Nexus: listings continue');
  });

  it('connector form, hosted repository: the Link with /repository/<name> is used for its cursor only', async () => {
    const f = await nexus({ form: 'connector', kind: 'hosted' });
    const naive = await naiveClient(f.apiUrl)
      .listTags(BIG)
      .catch((e: Error) => e.message);
    expect(naive).toMatch(/HTTP 400/);
    f.requests.length = 0;
    const r = await discover(
      yamlFor({ type: 'nexus', apiUrl: f.apiUrl, username: USER, password: PASSWORD }),
    );
    expect(r.errors).toEqual([]);
    expect(tagsListed(r)).toBe(TOTAL_TAGS);
    expect(comparableGraph(r.graph.load())).toBe(plainGraph);
    expect(f.requests.some((q) => q.path.startsWith('/repository/'))).toBe(false);
    expect(f.requests.filter((q) => q.kind === 'tags' && q.path.startsWith(`/v2/${BIG}/`))).toHaveLength(
      3 + 1,
    );
  });

  it('Docker Bearer Token Realm: tokens from <base>/v2/token, one per scope; an expired token is replaced once', async () => {
    const f = await nexus({ auth: 'bearer', tokenUses: 3 });
    const r = await discover(
      yamlFor({ type: 'nexus', apiUrl: f.apiUrl, username: USER, password: PASSWORD }),
    );
    expect(r.errors).toEqual([]);
    expect(comparableGraph(r.graph.load())).toBe(plainGraph);
    const tokenCalls = f.requests.filter((q) => q.kind === 'token');
    expect(tokenCalls[0]!.path).toMatch(/^\/repository\/docker-group\/v2\/token\?service=/);
    // 1 catalog scope + 7 repository scopes, plus re-issues after tokens wore out.
    expect(f.tokensIssued).toBeGreaterThan(8);
    expect(f.requests.some((q) => q.status === 401 && q.kind !== 'ping')).toBe(true);
  });

  it('wrong password (Basic): the exact message, and the password never shows', async () => {
    const f = await nexus();
    const r = await discover(
      yamlFor({ type: 'nexus', apiUrl: f.apiUrl, username: USER, password: 'wrong-pass' }),
    );
    expect(r.complete).toBe(false);
    expect(r.errors).toEqual([
      `cannot list repositories: registry ${f.host} denied access to registry:catalog:* (HTTP 401: UNAUTHORIZED access to the requested resource is not authorized); credential used: username "ci" with a password; check the credentials and their permissions`,
    ]);
    expect(JSON.stringify(r.graph) + r.summary + r.log.join('\n')).not.toContain('wrong-pass');
  });

  it('wrong password (token realm): the exact message', async () => {
    const f = await nexus({ auth: 'bearer' });
    const r = await discover(
      yamlFor({ type: 'nexus', apiUrl: f.apiUrl, username: USER, password: 'wrong-pass' }),
    );
    expect(r.errors).toEqual([
      `cannot list repositories: token service ${f.host} for registry ${f.host} refused registry:catalog:* (HTTP 401); credential used: username "ci" with a password; check username and password`,
    ]);
  });

  it('429 with Retry-After waits as asked; without it backs off; a wait too long is reported', async () => {
    const f = await nexus();
    const yaml = yamlFor({ type: 'nexus', apiUrl: f.apiUrl, username: USER, password: PASSWORD });
    f.throttle(1, { retryAfter: '2' });
    let r = await discover(yaml);
    expect(r.errors).toEqual([]);
    expect(r.sleeps).toContain(2000);
    f.throttle(2);
    r = await discover(yaml);
    expect(r.errors).toEqual([]);
    expect(r.sleeps).toHaveLength(2);
    f.throttle(100, { retryAfter: '600', kinds: ['catalog'] });
    r = await discover(yaml);
    expect(r.errors).toEqual([
      `cannot list repositories: ${f.host}/repository/docker-group/v2/_catalog: rate-limited (HTTP 429: TOOMANYREQUESTS too many requests); the registry asks to wait 600 s, longer than a run waits; run again later`,
    ]);
  });

  it('api_url mistakes get a message with the fix', async () => {
    const f = await nexus();
    let r = await discover(yamlFor({ type: 'nexus', apiUrl: f.origin }));
    expect(r.errors).toEqual([
      `cannot reach the registry: ${f.host} answers 404 at ${f.origin}/v2/: Nexus serves Docker at https://<host>/repository/<docker-repository-name> or on the repository's HTTP connector port; set api_url to one of those`,
    ]);
    r = await discover(yamlFor({ type: 'nexus', apiUrl: `${f.origin}/repository` }));
    expect(r.errors[0]).toBe(
      `cannot reach the registry: api_url ${f.origin}/repository names no repository: use https://<host>/repository/<docker-repository-name> or the repository's connector port`,
    );
    // A pasted /v2 suffix is tolerated.
    r = await discover(
      yamlFor({ type: 'nexus', apiUrl: `${f.apiUrl}/v2`, username: USER, password: PASSWORD }),
    );
    expect(r.errors).toEqual([]);
  });

  it('examples/configs/nexus.yml works as written (URL swapped for the fake)', async () => {
    const f = await nexus();
    const doc = parse(readFileSync('examples/configs/nexus.yml', 'utf8'));
    expect(doc.providers[0].config.api_url).toBe('https://nexus.example.com/repository/docker-group');
    doc.providers[0].config.api_url = f.apiUrl;
    const r = await discover(stringify(doc), { NEXUS_USERNAME: USER, NEXUS_PASSWORD: PASSWORD });
    expect(r.errors).toEqual([]);
    expect(r.graph.load().entities.filter((e) => e.kind === 'DockerImage').length).toBeGreaterThan(0);
    expect(JSON.stringify(r.graph) + r.summary).not.toContain(PASSWORD);
  });
});

describe('artifactory', () => {
  async function artifactory(o: Parameters<typeof startArtifactoryFake>[0] = {}): Promise<ArtifactoryFake> {
    const f = await startArtifactoryFake({ repositories: content(), pageCap: 100, ...o });
    closers.push(() => f.close());
    return f;
  }

  it('the fake reproduces RTFACT-18971: following the Link verbatim lands on another repository', async () => {
    const f = await artifactory();
    const naive = await naiveClient(f.urls.docker)
      .listTags(BIG)
      .catch((e: Error) => e.message);
    expect(naive).toMatch(/HTTP 404 \(NAME_UNKNOWN/);
    const whole = await naiveClient(f.urls.docker, ARTIFACTORY_PAGINATION).listTags(BIG);
    expect(whole).toMatchObject({ complete: true, pages: 3 });
    expect(whole.items).toHaveLength(BIG_TAGS);
  });

  it.each([
    ['/artifactory/api/docker/<key>', 'docker'],
    ['/artifactory/api/oci/<key>', 'oci'],
  ] as const)('%s: every tag across pages, token realm, same graph as plain OCI', async (_form, which) => {
    const f = await artifactory();
    const r = await discover(
      yamlFor({ type: 'artifactory', apiUrl: f.urls[which], username: USER, password: PASSWORD }),
    );
    expect(r.errors).toEqual([]);
    expect(tagsListed(r)).toBe(TOTAL_TAGS);
    expect(comparableGraph(r.graph.load())).toBe(plainGraph);
    const prefix = `/artifactory/api/${which}/docker-local/v2/`;
    expect(f.requests.every((q) => q.path.startsWith(prefix))).toBe(true);
    expect(f.requests.find((q) => q.kind === 'token')!.path).toMatch(new RegExp(`^${prefix}token\\?`));
    // Catalog 1 page; big repo 3 pages; the others 1 each: no extra requests.
    expect(listingRequests(f.requests)).toBe(1 + 3 + 6);
    expect(r.summary).toContain('Artifactory/7.77.5: next-page links are followed for their cursor only');
  });

  it('repository-path method: api_url is the host and names carry the repo key', async () => {
    const f = await artifactory({ pageCap: 3 });
    const r = await discover(
      yamlFor({ type: 'artifactory', apiUrl: f.urls.root, username: USER, password: PASSWORD }),
    );
    expect(r.errors).toEqual([]);
    expect(tagsListed(r)).toBe(TOTAL_TAGS);
    const repos = r.graph.receipts.map((x) => x.repository);
    expect(repos).toContain(`docker-local/${BIG}`);
    expect(repos.every((n) => n.startsWith('docker-local/'))).toBe(true);
    // Catalog: 7 names at 3 per page.
    expect(f.requests.filter((q) => q.kind === 'catalog')).toHaveLength(3);
  });

  it('port / subdomain method: plain /v2 at the host root', async () => {
    const f = await artifactory({ root: 'port' });
    const r = await discover(
      yamlFor({ type: 'artifactory', apiUrl: f.urls.root, username: USER, password: PASSWORD }),
    );
    expect(r.errors).toEqual([]);
    expect(comparableGraph(r.graph.load())).toBe(plainGraph);
  });

  it('credential forms: Basic password, API key as password, identity token as `token`, access token as Bearer', async () => {
    const f = await artifactory({
      auth: 'basic',
      apiKeys: { ci: 'AKCp8apikey0123456789' },
      accessTokens: ['eyJ2ZXIiOiIyIiwiYWNjZXNzLXRva2VuIn0'],
    });
    const base = { type: 'artifactory' as const, apiUrl: f.urls.docker };
    for (const p of [
      { ...base, username: USER, password: PASSWORD },
      { ...base, username: USER, password: 'AKCp8apikey0123456789' },
      { ...base, username: USER, token: 'AKCp8apikey0123456789' },
    ]) {
      const r = await discover(yamlFor(p));
      expect(r.errors).toEqual([]);
      expect(comparableGraph(r.graph.load())).toBe(plainGraph);
    }
    const bearer = await artifactory({
      auth: 'bearer',
      accessTokens: ['eyJ2ZXIiOiIyIiwiYWNjZXNzLXRva2VuIn0'],
    });
    const r = await discover(
      yamlFor({
        type: 'artifactory',
        apiUrl: bearer.urls.docker,
        token: 'eyJ2ZXIiOiIyIiwiYWNjZXNzLXRva2VuIn0',
      }),
    );
    expect(r.errors).toEqual([]);
    expect(bearer.tokensIssued).toBe(0);
    expect(JSON.stringify(r.graph) + r.summary + r.log.join('\n')).not.toContain('eyJ2ZXIi');
  });

  it('an expired token is replaced once and the run completes', async () => {
    const f = await artifactory({ tokenUses: 2 });
    const r = await discover(
      yamlFor({ type: 'artifactory', apiUrl: f.urls.docker, username: USER, password: PASSWORD }),
    );
    expect(r.errors).toEqual([]);
    expect(f.tokensIssued).toBeGreaterThan(8);
  });

  it('wrong credentials: the exact messages for Basic and for the token realm', async () => {
    const basic = await artifactory({ auth: 'basic' });
    let r = await discover(
      yamlFor({ type: 'artifactory', apiUrl: basic.urls.docker, username: USER, password: 'nope-nope' }),
    );
    expect(r.errors).toEqual([
      `cannot list repositories: registry ${basic.host} denied access to registry:catalog:* (HTTP 401: UNAUTHORIZED authentication required); credential used: username "ci" with a password; check the credentials and their permissions`,
    ]);
    const bearer = await artifactory();
    r = await discover(
      yamlFor({ type: 'artifactory', apiUrl: bearer.urls.docker, username: USER, password: 'nope-nope' }),
    );
    expect(r.errors).toEqual([
      `cannot list repositories: token service ${bearer.host} for registry ${bearer.host} refused registry:catalog:* (HTTP 401); credential used: username "ci" with a password; check username and password`,
    ]);
  });

  it('429 with and without Retry-After', async () => {
    const f = await artifactory();
    const yaml = yamlFor({ type: 'artifactory', apiUrl: f.urls.docker, username: USER, password: PASSWORD });
    f.throttle(1, { retryAfter: '3' });
    let r = await discover(yaml);
    expect(r.errors).toEqual([]);
    expect(r.sleeps).toContain(3000);
    f.throttle(1);
    r = await discover(yaml);
    expect(r.errors).toEqual([]);
    expect(r.sleeps).toHaveLength(1);
    f.throttle(100, { kinds: ['tags'] });
    r = await discover(yaml);
    expect(r.complete).toBe(false);
    expect(r.errors).toHaveLength(7);
    expect(r.errors).toContain(
      `cannot list tags: ${f.host}/artifactory/api/docker/docker-local/v2/${BIG}/tags/list: rate-limited (HTTP 429: TOOMANYREQUESTS too many requests); retried and gave up`,
    );
  });

  it('api_url mistakes get a message with the fix', async () => {
    const f = await artifactory();
    const r = await discover(
      yamlFor({ type: 'artifactory', apiUrl: `${f.origin}/artifactory/docker-local` }),
    );
    expect(r.errors).toEqual([
      `cannot reach the registry: api_url ${f.origin}/artifactory/docker-local is Artifactory's file path, not its Docker API: use ${f.origin}/artifactory/api/docker/docker-local`,
    ]);
  });

  it('examples/configs/artifactory.yml works as written (URL swapped for the fake)', async () => {
    const f = await artifactory({ apiKeys: { ci: 'identity-token-abcdef' } });
    const doc = parse(readFileSync('examples/configs/artifactory.yml', 'utf8'));
    expect(doc.providers[0].config.api_url).toBe('https://acme.jfrog.io/artifactory/api/docker/docker-local');
    doc.providers[0].config.api_url = f.urls.docker;
    const r = await discover(stringify(doc), {
      ARTIFACTORY_USERNAME: USER,
      ARTIFACTORY_IDENTITY_TOKEN: 'identity-token-abcdef',
    });
    expect(r.errors).toEqual([]);
    expect(r.graph.load().entities.filter((e) => e.kind === 'DockerImage').length).toBeGreaterThan(0);
    expect(JSON.stringify(r.graph) + r.summary).not.toContain('identity-token-abcdef');
  });
});
