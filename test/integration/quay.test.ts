// Quay through its REST API against a fake Quay (test/support/fakes/quay-fake.ts): repositories per
// namespace with a body cursor, tags with manifest digests and push times (onlyActiveTags), OAuth
// tokens on the API, robot accounts and $oauthtoken on the registry.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { HttpClient } from '../../src/http/http-client.js';
import { comparableGraph } from '../support/comparable-graph.js';
import { discoverText } from '../support/discover-text.js';
import { tagFacts } from '../support/fakes/content-facts.js';
import { manyTagsRepository, newestOfMany } from '../support/fakes/many-tags.js';
import { type QuayFake, type QuayFakeOptions, startQuayFake } from '../support/fakes/quay-fake.js';

const EXAMPLE = new URL('../../examples/configs/quay.yml', import.meta.url);
const OAUTH = 'q0AuthTok3nReaderAlice0123456789abcdef';
const NOSCOPE = 'q0AuthTok3nWithoutRepoRead0123456789ab';
const ROBOT = 'acme+inventory';
const ROBOT_TOKEN = 'R0B0T-T0KEN-4S7E9Q2W1X0Z';
const MANY = 250;

const nginxFacts = tagFacts(sampleRepositories()[0]!);
const digestOf = (tag: string) => nginxFacts.find((f) => f.tag === tag)!.digest;

function fakeOptions(extra: Partial<QuayFakeOptions> = {}): QuayFakeOptions {
  return {
    repositories: [...sampleRepositories(), manyTagsRepository('acme/many-tags', MANY)],
    publicRepositories: ['library/nginx', 'library/redis', 'acme/web-frontend', 'acme/many-tags'],
    oauthTokens: {
      [OAUTH]: { user: 'alice', scopes: ['repo:read', 'user:read'], reads: ['acme', 'library'] },
      [NOSCOPE]: { user: 'bob', scopes: ['user:read'], reads: ['acme'] },
    },
    robots: { [ROBOT]: { password: ROBOT_TOKEN, reads: ['acme'] } },
    history: [
      // `latest` used to point at 1.26.1 until 1.27.2 was pushed; 1.27.0 was deleted (and GC'd).
      {
        repository: 'library/nginx',
        name: 'latest',
        digest: digestOf('1.26.1'),
        start: '2024-06-11T21:04:12Z',
        end: '2024-10-02T17:55:35Z',
      },
      {
        repository: 'library/nginx',
        name: '1.27.0',
        digest: `sha256:${'0'.repeat(63)}1`,
        start: '2024-08-01T00:00:00Z',
        end: '2024-08-20T00:00:00Z',
      },
    ],
    emptyRepositories: Array.from({ length: 230 }, (_, i) => `bulk/app-${String(i).padStart(3, '0')}`),
    ...extra,
  };
}

let quay: QuayFake;
beforeAll(async () => {
  quay = await startQuayFake(fakeOptions());
});
afterAll(async () => {
  await quay?.close();
});

interface Run {
  type?: string;
  username?: string;
  password?: string;
  token?: string;
  selectors?: Array<Record<string, unknown>>;
  url?: string;
  vulnerabilities?: boolean;
}

const SAMPLE_SELECTORS = [
  { namespace_pattern: 'library', max_tags: 0 },
  // Every sample repository of acme but many-tags (patterns run on RE2: no lookahead).
  {
    namespace_pattern: 'acme',
    repository_pattern: '^(payments-api|platform/ingress-controller|web-frontend|legacy-batch)$',
    max_tags: 0,
  },
];

function config(run: Run): string {
  return stringify({
    providers: [
      {
        name: 'quay',
        type: 'docker',
        config: {
          registry_type: run.type ?? 'quay',
          api_url: run.url ?? quay.url,
          ...(run.username ? { username: run.username } : {}),
          ...(run.password ? { password: run.password } : {}),
          ...(run.token ? { token: run.token } : {}),
          ...(run.vulnerabilities ? { discover_vulnerabilities: true } : {}),
          selectors: run.selectors ?? SAMPLE_SELECTORS,
        },
      },
    ],
  });
}

const discover = (yamlText: string, env: Record<string, string> = {}, http = new HttpClient()) =>
  discoverText(yamlText, { env, http });

const images = (g: { entities: Array<{ kind: string; spec: Record<string, unknown> }> }) =>
  g.entities.filter((e) => e.kind === 'DockerImage');
const repositories = (r: { graph: { receipts: Array<{ repository: string }> } }) =>
  r.graph.receipts.map((x) => x.repository).filter((x) => x !== '*');

describe('quay listing', () => {
  it('lists namespaces with the body cursor and tags 100 a page; digests and push times from the API', async () => {
    quay.requests.length = 0;
    quay.registry.requests.length = 0;
    const r = await discover(
      config({
        token: OAUTH,
        selectors: [
          ...SAMPLE_SELECTORS,
          { namespace_pattern: 'acme', repository_pattern: '^many-tags$', max_tags: 0 },
          { namespace_pattern: 'bulk', repository_pattern: '^app-00[01]$' },
        ],
      }),
    );
    expect(r.complete).toBe(true);
    expect(r.graph.receipts.map((x) => [x.repository, x.tags_listed])).toEqual([
      ['acme/legacy-batch', 3],
      ['acme/many-tags', MANY],
      ['acme/payments-api', 8],
      ['acme/platform/ingress-controller', 4],
      ['acme/web-frontend', 4],
      ['bulk/app-000', 0],
      ['bulk/app-001', 0],
      ['library/nginx', 7],
      ['library/redis', 8],
    ]);
    const api = quay.requests.filter((q) => q.kind === 'api').map((q) => q.path);
    // 230 repositories in "bulk" at 100 a page: the cursor is followed twice.
    const bulk = api.filter((p) => p.startsWith('/api/v1/repository?namespace=bulk&'));
    expect(bulk).toHaveLength(3);
    expect(bulk.filter((p) => p.includes('next_page='))).toHaveLength(2);
    // 250 tags: three pages of 100, active tags only.
    const manyPages = api.filter((p) => p.startsWith('/api/v1/repository/acme/many-tags/tag/'));
    expect(manyPages.map((p) => new URL(p, 'http://x').searchParams.get('page'))).toEqual(['1', '2', '3']);
    expect(
      api
        .filter((p) => p.includes('/tag/'))
        .every((p) => p.includes('limit=100') && p.includes('onlyActiveTags=true')),
    ).toBe(true);
    expect(quay.registry.requests.filter((q) => q.kind === 'catalog' || q.kind === 'tags')).toEqual([]);
    expect(
      quay.registry.requests.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:')),
    ).toEqual([]);
    const nginx = r.graph
      .load()
      .entities.find((e) => e.kind === 'DockerRepository' && e.spec.name === 'nginx');
    expect(nginx?.spec.description).toBe('Official build of Nginx.');
    expect(nginx?.spec.last_updated).toBe('2024-10-02T17:55:35Z');
    expect(images(r.graph.load()).find((e) => e.spec.tag === '1.27.2')?.spec.last_updated).toBe(
      '2024-10-02T17:55:35Z',
    );
  });

  it('keeps the newest max_tags by push time and spends at most 3 listing requests per 100 tags', async () => {
    quay.requests.length = 0;
    quay.registry.requests.length = 0;
    const r = await discover(
      config({
        token: OAUTH,
        selectors: [{ namespace_pattern: 'acme', repository_pattern: '^many-tags$', max_tags: 3 }],
      }),
    );
    expect(r.complete).toBe(true);
    expect(
      images(r.graph.load())
        .map((e) => e.spec.tag)
        .sort(),
    ).toEqual(newestOfMany(MANY, 3).sort());
    const listing = quay.requests.filter((q) => q.kind === 'api' && q.path.includes('/tag/'));
    expect((listing.length / MANY) * 100).toBeLessThanOrEqual(3);
    expect(quay.registry.requests.filter((q) => q.kind === 'manifest' || q.kind === 'blob')).toHaveLength(6);
  });

  it('does not report dead tags, even from a Quay that ignores onlyActiveTags', async () => {
    const baseline = await discover(
      config({
        token: OAUTH,
        selectors: [{ namespace_pattern: 'library', repository_pattern: '^nginx$', max_tags: 0 }],
      }),
    );
    const old = await startQuayFake(fakeOptions({ ignoreOnlyActiveTags: true }));
    try {
      const history = await (await fetch(`${old.url}/api/v1/repository/library/nginx/tag/?limit=100`)).json();
      // The fake does send the history: a deleted 1.27.0 and the former `latest`.
      expect(
        history.tags
          .filter((t: { end_ts?: number }) => t.end_ts)
          .map((t: { name: string }) => t.name)
          .sort(),
      ).toEqual(['1.27.0', 'latest']);
      const r = await discover(
        config({
          url: old.url,
          token: OAUTH,
          selectors: [{ namespace_pattern: 'library', repository_pattern: '^nginx$', max_tags: 0 }],
        }),
      );
      expect(r.graph.receipts.flatMap((x) => x.errors)).toEqual([]);
      expect(images(r.graph.load()).map((e) => e.spec.tag)).not.toContain('1.27.0');
      const latest = images(r.graph.load()).find((e) => e.spec.tag === 'latest')!;
      expect(latest.spec.digest).toBe(digestOf('1.27.2'));
      expect(comparableGraph(r.graph.load())).toBe(comparableGraph(baseline.graph.load()));
    } finally {
      await old.close();
    }
  });

  it('goes the same way as the plain OCI path (same graph)', async () => {
    const selectors = [
      ...SAMPLE_SELECTORS,
      { namespace_pattern: 'acme', repository_pattern: '^many-tags$', max_tags: 3 },
    ];
    const fast = await discover(config({ token: OAUTH, selectors }));
    quay.registry.requests.length = 0;
    const oci = await discover(
      config({ type: 'private', username: '$oauthtoken', password: OAUTH, selectors }),
    );
    expect(fast.complete && oci.complete).toBe(true);
    expect(comparableGraph(fast.graph.load())).toBe(comparableGraph(oci.graph.load()));
    expect(images(fast.graph.load())).toHaveLength(images(oci.graph.load()).length);
    // The OCI path walked Quay's tags/list, 50 a page with opaque next_page cursors: 5 pages for 250 tags.
    const manyPages = quay.registry.requests.filter(
      (q) => q.kind === 'tags' && q.path.startsWith('/v2/acme/many-tags/'),
    );
    expect(manyPages).toHaveLength(5);
    expect(manyPages.slice(1).every((q) => q.path.includes('next_page='))).toBe(true);
  });

  it('refuses a namespace pattern it cannot enumerate, with the fix', async () => {
    const r = await discover(config({ token: OAUTH, selectors: [{ namespace_pattern: '.*' }] }));
    expect(r.graph.receipts[0]!.errors).toEqual([
      'cannot list repositories: Quay lists repositories per namespace: selector namespace_pattern ".*" must name one (an organization or user, e.g. "coreos")',
    ]);
  });
});

describe('quay credentials', () => {
  it('anonymous: public repositories, and the summary says so', async () => {
    const r = await discover(config({}));
    expect(r.complete).toBe(true);
    expect(repositories(r)).toEqual(['acme/web-frontend', 'library/nginx', 'library/redis']);
    expect(r.summary).toContain('no credentials: public repositories only');
  });

  it('an OAuth token: Bearer on the API, $oauthtoken on the registry', async () => {
    quay.requests.length = 0;
    const r = await discover(config({ token: OAUTH }));
    expect(r.complete).toBe(true);
    expect(repositories(r)).toContain('acme/payments-api');
    const tokens = quay.requests.filter((q) => q.kind === 'token');
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.every((q) => q.path.includes('account=%24oauthtoken'))).toBe(true);
    expect(r.summary).not.toContain(OAUTH);
  });

  it('a robot account: private repositories from the catalog and tags/list, public ones from the API', async () => {
    quay.requests.length = 0;
    quay.registry.requests.length = 0;
    const r = await discover(config({ username: ROBOT, password: ROBOT_TOKEN }));
    expect(r.graph.receipts.flatMap((x) => x.errors)).toEqual([]);
    expect(repositories(r)).toEqual([
      'acme/legacy-batch',
      'acme/payments-api',
      'acme/platform/ingress-controller',
      'acme/web-frontend',
      'library/nginx',
      'library/redis',
    ]);
    const oauth = await discover(config({ token: OAUTH }));
    expect(comparableGraph(r.graph.load())).toBe(comparableGraph(oauth.graph.load()));
    // Private repositories through the registry's tags/list; the public ones through the tag API.
    const viaRegistry = new Set(
      quay.registry.requests.filter((q) => q.kind === 'tags').map((q) => q.path.split('/tags/list')[0]),
    );
    expect([...viaRegistry].sort()).toEqual([
      '/v2/acme/legacy-batch',
      '/v2/acme/payments-api',
      '/v2/acme/platform/ingress-controller',
    ]);
    expect(r.summary).toContain('3 private repositories listed through the registry');
    expect(r.summary).not.toContain(ROBOT_TOKEN);
  });

  it('a wrong OAuth token: one clear message instead of a silently shorter listing', async () => {
    const r = await discover(config({ token: 'wrong-token-value-123' }));
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors).toEqual([
      `cannot list repositories: Quay API ${quay.host}/api/v1/user/ refused the OAuth token (HTTP 401: invalid_token Requires authentication); the token is wrong, expired or revoked: generate a new one (Organization → Applications → Generate Token)`,
    ]);
    expect(r.summary).not.toContain('wrong-token-value-123');
  });

  it('a wrong robot password: the registry says which login failed', async () => {
    const r = await discover(config({ username: ROBOT, password: 'not-the-robot-token' }));
    expect(r.complete).toBe(false);
    const registryReceipt = r.graph.receipts.find((x) => x.repository === '*')!;
    expect(registryReceipt.errors[0]).toBe(
      `repository listing: private repositories not listed: the registry catalog failed (token service ${quay.host} for registry ${quay.host} refused registry:catalog:* (HTTP 401); credential used: username "${ROBOT}" with a password; check username and password); set token to an OAuth application token to list them through the API`,
    );
    expect(r.summary).not.toContain('not-the-robot-token');
  });

  it('insufficient permission: a token without repo:read is told what it lacks', async () => {
    const r = await discover(config({ token: NOSCOPE }));
    expect(r.graph.receipts[0]!.errors).toEqual([
      `cannot list repositories: Quay API ${quay.host}/api/v1/repository denied listing the repositories of namespace "acme" (HTTP 403: insufficient_scope Unauthorized); the OAuth token needs the "View all visible repositories" permission (repo:read) and its user read access to the repository`,
    ]);
  });

  it('an expired registry token is replaced and the run completes', async () => {
    const short = await startQuayFake(fakeOptions({ expireTokensAfter: 12 }));
    try {
      const baseline = await discover(config({ token: OAUTH }));
      const r = await discover(config({ url: short.url, token: OAUTH }));
      expect(r.graph.receipts.flatMap((x) => x.errors)).toEqual([]);
      expect(comparableGraph(r.graph.load())).toBe(comparableGraph(baseline.graph.load()));
      expect(
        short.requests.filter((q) => q.kind === 'registry' && q.status === 401 && q.path !== '/v2/').length,
      ).toBeGreaterThan(0);
    } finally {
      await short.close();
    }
  });
});

describe('quay rate limits', () => {
  const run = (http: HttpClient) =>
    discover(
      config({ token: OAUTH, selectors: [{ namespace_pattern: 'library', repository_pattern: '^nginx$' }] }),
      {},
      http,
    );

  it('429 with Retry-After: waits as asked, then succeeds', async () => {
    const waits: number[] = [];
    quay.rateLimit({ path: /\/tag\/\?/, times: 1, retryAfter: '3' });
    const r = await run(new HttpClient({ sleep: async (ms) => void waits.push(ms) }));
    expect(r.complete).toBe(true);
    expect(waits).toContain(3000);
  });

  it('429 without Retry-After (quay.io under load): backs off, then succeeds', async () => {
    const waits: number[] = [];
    quay.rateLimit({ path: /\/tag\/\?/, times: 2 });
    const r = await run(new HttpClient({ sleep: async (ms) => void waits.push(ms) }));
    expect(r.complete).toBe(true);
    expect(waits).toHaveLength(2);
  });

  it('still limited after every retry: a clear message', async () => {
    // Every attempt the HTTP client makes (4) is answered 429.
    quay.rateLimit({ path: /\/tag\/\?/, times: 4 });
    const r = await run(new HttpClient({ sleep: async () => {} }));
    expect(r.graph.receipts[0]!.errors).toEqual([
      `cannot list tags: Quay API ${quay.host}/api/v1/repository/library/nginx/tag/: rate-limited listing the tags of library/nginx (HTTP 429) and still limited after retries; run again later or lower concurrency`,
    ]);
  });
});

describe('quay notes', () => {
  it('says vulnerabilities are not collected', async () => {
    const r = await discover(
      config({
        token: OAUTH,
        vulnerabilities: true,
        selectors: [{ namespace_pattern: 'library', repository_pattern: '^nginx$' }],
      }),
    );
    expect(r.summary).toContain('Quay reports scans per manifest only');
    expect(images(r.graph.load()).some((e) => e.spec.vulnerabilities !== undefined)).toBe(false);
  });
});

describe('examples/configs/quay.yml', () => {
  it('runs as written against the fake (only the URL replaced)', async () => {
    const doc = parse(readFileSync(EXAMPLE, 'utf8'));
    expect(doc.providers[0].config.api_url).toBe('https://quay.io');
    doc.providers[0].config.api_url = quay.url;
    const r = await discover(stringify(doc), { QUAY_OAUTH_TOKEN: OAUTH });
    expect(r.complete).toBe(true);
    expect(repositories(r)).toEqual([
      'acme/legacy-batch',
      'acme/many-tags',
      'acme/payments-api',
      'acme/platform/ingress-controller',
      'acme/web-frontend',
    ]);
    expect(images(r.graph.load()).some((e) => String(e.spec.tag).startsWith('pr-'))).toBe(false);
  });
});
