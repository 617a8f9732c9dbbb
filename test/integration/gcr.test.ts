// gcr.io and Artifact Registry against a fake that speaks Google's tags/list extension (child
// walk, manifest map with string numbers), its token endpoint and its catalog quirks.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { HttpClient } from '../../src/http/http-client.js';
import { leadingSegments, walkRoots } from '../../src/registries/gcr.js';
import { comparableGraph } from '../support/comparable-graph.js';
import { discoverText } from '../support/discover-text.js';
import { renameRepositories } from '../support/fakes/content-facts.js';
import {
  type GcrFake,
  GOOGLE_ACCESS_TOKEN,
  SERVICE_ACCOUNT_JSON,
  startGcrFake,
} from '../support/fakes/gcr-fake.js';
import { manyTagsRepository, newestOfMany } from '../support/fakes/many-tags.js';

const BIG = 250;
const EXAMPLE = new URL('../../examples/configs/gcr.yml', import.meta.url);

function content(prefix: string) {
  return [
    ...renameRepositories(sampleRepositories(), (n) => `${prefix}/${n}`),
    manyTagsRepository(`${prefix}/acme/big-service`, BIG),
    ...renameRepositories(sampleRepositories().slice(5), (n) => `other-project/${n}`),
  ];
}

let gcr: GcrFake;
let ar: GcrFake;
beforeAll(async () => {
  gcr = await startGcrFake({ flavour: 'gcr', repos: content('my-project') });
  ar = await startGcrFake({ flavour: 'ar', repos: content('my-project/containers'), tagPageSize: 100 });
});
afterAll(async () => {
  await gcr?.close();
  await ar?.close();
});

interface Provider {
  url: string;
  type?: string;
  creds?: Record<string, string>;
  selectors?: Array<Record<string, unknown>>;
  maxPages?: number;
}

function yamlFor(providers: Provider[]): string {
  return stringify({
    providers: providers.map((p, i) => ({
      name: `google-${i}`,
      type: 'docker',
      config: {
        registry_type: p.type ?? 'gcr',
        api_url: p.url,
        ...(p.creds ?? { username: 'oauth2accesstoken', password: GOOGLE_ACCESS_TOKEN }),
        ...(p.maxPages ? { max_pages: p.maxPages } : {}),
        selectors: p.selectors ?? [{ namespace_pattern: '^my-project$', max_tags: 0 }],
      },
    })),
  });
}

const discover = discoverText;

const receiptsOf = (r: Awaited<ReturnType<typeof discover>>) =>
  Object.fromEntries(r.graph.receipts.map((x) => [x.repository, x]));
const imageTags = (r: Awaited<ReturnType<typeof discover>>, repository: string) =>
  r.graph
    .load()
    .entities.filter((e) => e.kind === 'DockerImage' && e.spec.repository === repository)
    .map((e) => e.spec.tag as string)
    .sort();

describe('gcr: roots of the walk', () => {
  it('takes the project from namespace_pattern and the AR repository from repository_pattern', () => {
    expect(leadingSegments('^containers/')).toEqual(['containers']);
    expect(leadingSegments('(web|api)/.*')).toEqual(['web', 'api']);
    expect(leadingSegments('containers')).toBeUndefined();
    expect(leadingSegments('.*')).toBeUndefined();
    const sel = (ns: string, repo: string) => ({
      namespacePattern: { source: ns, test: () => true },
      repositoryPattern: { source: repo, test: () => true },
      excludeTags: [],
      maxTags: 1,
    });
    expect(walkRoots([sel('^my-project$', '.*'), sel('my-project', '^team/')])).toEqual(['my-project']);
    expect(walkRoots([sel('my-project', '^team/'), sel('other', '.*')])).toEqual([
      'my-project/team',
      'other',
    ]);
    expect(() => walkRoots([sel('.*', '.*')])).toThrow(/namespace_pattern ".\*" must name the project/);
  });
});

describe('gcr: the README example', () => {
  it('runs examples/configs/gcr.yml (gcr.io and Artifact Registry) against the fakes', async () => {
    const doc = parse(readFileSync(EXAMPLE, 'utf8'));
    const [first, second] = doc.providers;
    expect(first.config.api_url).toBe('https://gcr.io');
    expect(second.config.api_url).toMatch(/^https:\/\/[a-z0-9-]+-docker\.pkg\.dev$/);
    first.config.api_url = gcr.url;
    second.config.api_url = ar.url;
    gcr.requests.length = 0;
    ar.requests.length = 0;
    const r = await discover(stringify(doc), { env: { GCP_ACCESS_TOKEN: GOOGLE_ACCESS_TOKEN } });
    expect(r.complete).toBe(true);
    const receipts = receiptsOf(r);
    // Several child levels deep, no other project, nothing from _catalog.
    expect(
      r.graph.receipts
        .filter((x) => x.provider === first.name)
        .map((x) => x.repository)
        .sort(),
    ).toEqual([
      'my-project/acme/big-service',
      'my-project/acme/legacy-batch',
      'my-project/acme/payments-api',
      'my-project/acme/platform/ingress-controller',
      'my-project/acme/web-frontend',
      'my-project/library/nginx',
      'my-project/library/redis',
    ]);
    expect(receipts['my-project/containers/acme/platform/ingress-controller']?.complete).toBe(true);
    expect(receipts['my-project/containers/acme/big-service']).toMatchObject({ tags_listed: BIG, pages: 3 });
    expect(gcr.requests.some((q) => q.kind === 'catalog')).toBe(false);
    // The walk's answers are reused: each path's tags/list is read once.
    const lists = gcr.requests.filter((q) => q.kind === 'tags').map((q) => q.path.split('?')[0]);
    expect(new Set(lists).size).toBe(lists.length);
    expect(lists).toHaveLength(11);
    // Digests come from the manifest map: no HEAD, no manifest GET by tag.
    expect(gcr.requests.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:'))).toEqual([]);
    expect(r.summary).not.toContain(GOOGLE_ACCESS_TOKEN);
    expect(JSON.stringify(r.graph)).not.toContain(GOOGLE_ACCESS_TOKEN);
  });
});

describe('gcr: listing', () => {
  it('keeps the newest max_tags by upload time, reading manifests of the kept tags only', async () => {
    gcr.requests.length = 0;
    const r = await discover(
      yamlFor([
        {
          url: gcr.url,
          selectors: [
            { namespace_pattern: 'my-project', repository_pattern: '^acme/big-service$', max_tags: 3 },
          ],
        },
      ]),
    );
    expect(r.complete).toBe(true);
    expect(imageTags(r, 'my-project/acme/big-service')).toEqual(newestOfMany(BIG, 3).sort());
    const last = r.graph
      .load()
      .entities.filter((e) => e.kind === 'DockerImage')
      .map((e) => e.spec.last_updated);
    expect(last).toHaveLength(3);
    expect(last.every((v) => typeof v === 'string' && /^2023-/.test(v))).toBe(true);
    expect(gcr.requests.filter((q) => q.kind === 'manifest')).toHaveLength(3);
  });

  it('follows Artifact Registry Link pages and says when max_pages stops it', async () => {
    const r = await discover(
      yamlFor([
        {
          url: ar.url,
          maxPages: 2,
          selectors: [
            { namespace_pattern: 'my-project', repository_pattern: '^containers/acme/big', max_tags: 1 },
          ],
        },
      ]),
    );
    const big = receiptsOf(r)['my-project/containers/acme/big-service']!;
    expect(big.complete).toBe(false);
    expect(big.errors).toEqual([
      'tag listing: stopped after 2 pages (max_pages); raise max_pages to list everything',
    ]);
  });

  it('spends one tags/list per repository, whatever its tag count (≤ 3 listing requests per 100 tags)', async () => {
    gcr.requests.length = 0;
    const r = await discover(
      yamlFor([{ url: gcr.url, selectors: [{ namespace_pattern: 'my-project', max_tags: 1 }] }]),
    );
    expect(r.complete).toBe(true);
    const lists = gcr.requests.filter((q) => q.kind === 'tags');
    const bigLists = lists.filter((q) => q.path.startsWith('/v2/my-project/acme/big-service/tags/list'));
    expect(bigLists).toHaveLength(1);
    const tags = r.graph.receipts.reduce((a, x) => a + x.tags_listed, 0);
    expect(tags).toBe(34 + BIG);
    // 11 paths walked (4 inner nodes + 7 repositories) for 284 tags, plus one token per path.
    expect(lists).toHaveLength(11);
    expect((bigLists.length * 100) / BIG).toBeLessThanOrEqual(3);
    expect(gcr.requests.filter((q) => q.kind === 'token')).toHaveLength(11);
    expect(gcr.requests.filter((q) => q.method === 'HEAD')).toEqual([]);
  });

  it('the Google fast path and the plain OCI path give the same graph', async () => {
    const selectors = [{ namespace_pattern: 'my-project', max_tags: 0 }];
    const fast = await discover(yamlFor([{ url: gcr.url, selectors }]));
    const oci = await discover(yamlFor([{ url: gcr.url, type: 'private', selectors }]));
    expect(fast.complete && oci.complete).toBe(true);
    expect(comparableGraph(fast.graph.load())).toBe(comparableGraph(oci.graph.load()));
    expect(fast.graph.load().entities.filter((e) => e.kind === 'DockerImage').length).toBe(34 - 1 + BIG);
  });

  it('Artifact Registry: fast path == OCI path too (when its _catalog is not empty)', async () => {
    const arFull = await startGcrFake({
      flavour: 'ar',
      repos: content('my-project/containers').slice(0, 6),
      catalog: 'all',
    });
    try {
      const selectors = [
        { namespace_pattern: 'my-project', repository_pattern: '^containers/', max_tags: 0 },
      ];
      const fast = await discover(yamlFor([{ url: arFull.url, selectors }]));
      const oci = await discover(yamlFor([{ url: arFull.url, type: 'private', selectors }]));
      expect(fast.complete && oci.complete).toBe(true);
      expect(comparableGraph(fast.graph.load())).toBe(comparableGraph(oci.graph.load()));
    } finally {
      await arFull.close();
    }
  });
});

describe('gcr: credentials', () => {
  const one = { namespace_pattern: 'my-project', repository_pattern: '^acme/web-frontend$', max_tags: 1 };
  const arOne = {
    namespace_pattern: 'my-project',
    repository_pattern: '^containers/acme/web-frontend$',
    max_tags: 1,
  };
  const b64 = Buffer.from(SERVICE_ACCOUNT_JSON).toString('base64');
  it.each([
    [
      'oauth2accesstoken + access token',
      { username: 'oauth2accesstoken', password: GOOGLE_ACCESS_TOKEN },
      'gcr',
    ],
    ['a lone token (access token)', { token: GOOGLE_ACCESS_TOKEN }, 'gcr'],
    ['_json_key + service account JSON', { username: '_json_key', password: SERVICE_ACCOUNT_JSON }, 'gcr'],
    ['_json_key_base64 (Artifact Registry)', { username: '_json_key_base64', password: b64 }, 'ar'],
  ])('%s', async (_name, creds, flavour) => {
    const fake = flavour === 'gcr' ? gcr : ar;
    const r = await discover(
      yamlFor([{ url: fake.url, creds, selectors: [flavour === 'gcr' ? one : arOne] }]),
    );
    expect(r.complete).toBe(true);
    expect(r.graph.receipts).toHaveLength(1);
    expect(r.graph.receipts[0]!.tags_selected).toBe(1);
    for (const secret of [GOOGLE_ACCESS_TOKEN, SERVICE_ACCOUNT_JSON, b64])
      expect(r.summary).not.toContain(secret);
  });

  it('anonymous, for a public project', async () => {
    const pub = await startGcrFake({
      flavour: 'gcr',
      repos: renameRepositories(sampleRepositories().slice(0, 1), (n) => `distroless/${n}`),
      publicProjects: ['distroless'],
    });
    try {
      const r = await discover(
        yamlFor([{ url: pub.url, creds: {}, selectors: [{ namespace_pattern: 'distroless', max_tags: 1 }] }]),
      );
      expect(r.complete).toBe(true);
      expect(r.graph.receipts.map((x) => x.repository)).toEqual(['distroless/library/nginx']);
    } finally {
      await pub.close();
    }
  });

  it('anonymous on a private project: the denial names the missing credential', async () => {
    const r = await discover(yamlFor([{ url: gcr.url, creds: {}, selectors: [one] }]));
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: registry ${gcr.registry.host} denied access to repository:my-project/acme:pull (HTTP 403: DENIED Unauthenticated request. Unauthenticated requests do not have permission "artifactregistry.repositories.downloadArtifacts" on resource "projects/my-project"); credential used: no credentials (anonymous); this registry needs credentials: set username/password or token`,
    );
  });

  it('a wrong access token: the token service refusal, without the token', async () => {
    const wrong = 'ya29.expired-or-wrong-token-value';
    const r = await discover(yamlFor([{ url: gcr.url, creds: { token: wrong }, selectors: [one] }]));
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: token service ${gcr.registry.host} for registry ${gcr.registry.host} refused repository:my-project/acme:pull (HTTP 401); credential used: username "oauth2accesstoken" with a password; check username and password`,
    );
    expect(r.summary).not.toContain(wrong);
  });

  it('_json_key with something that is not the key file: says so before any request', async () => {
    const r = await discover(
      yamlFor([
        { url: gcr.url, creds: { username: '_json_key', password: 'not-json-at-all' }, selectors: [one] },
      ]),
    );
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      'cannot reach the registry: username _json_key needs the service account key JSON as password (the whole file, e.g. ${{ secrets.GCP_SA_KEY }}); for a base64-encoded key use username _json_key_base64',
    );
  });

  it('an expired registry token: one re-auth, then success', async () => {
    gcr.requests.length = 0;
    const http = new HttpClient({ sleep: async () => {} });
    let expired = false;
    http.onResponse((req) => {
      if (!expired && req.kind === 'manifest') {
        expired = true;
        gcr.expireTokens();
      }
    });
    const r = await discover(
      yamlFor([
        {
          url: gcr.url,
          selectors: [
            { namespace_pattern: 'my-project', repository_pattern: '^acme/platform/', max_tags: 1 },
          ],
        },
      ]),
      { http },
    );
    expect(r.complete).toBe(true);
    const after = gcr.requests.slice(gcr.requests.findIndex((q) => q.kind === 'manifest') + 1);
    expect(after.filter((q) => q.status === 401)).toHaveLength(1);
    expect(after.filter((q) => q.kind === 'token')).toHaveLength(1);
  });
});

describe('gcr: failures', () => {
  const narrow = [
    { namespace_pattern: 'my-project', repository_pattern: '^acme/web-frontend$', max_tags: 1 },
  ];

  it('a project-level start on Artifact Registry: says to name the repository', async () => {
    const r = await discover(yamlFor([{ url: ar.url, selectors: [{ namespace_pattern: 'my-project' }] }]));
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: ${ar.registry.host}/my-project was not found (HTTP 404): check that namespace_pattern names the project; on Artifact Registry, start repository_pattern with the repository, e.g. "^my-repository/"`,
    );
  });

  it('a namespace_pattern that names no project', async () => {
    const r = await discover(yamlFor([{ url: gcr.url, selectors: [{ namespace_pattern: '.*' }] }]));
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      'cannot list repositories: Google registries cannot list every project (their _catalog spans all projects the credential can see): selector namespace_pattern ".*" must name the project, e.g. "my-project"',
    );
  });

  it('429 with Retry-After: waits as asked, then succeeds', async () => {
    const slept: number[] = [];
    gcr.throttle(1, '2');
    const r = await discover(yamlFor([{ url: gcr.url, selectors: narrow }]), {
      http: new HttpClient({ sleep: async (ms) => void slept.push(ms) }),
    });
    expect(r.complete).toBe(true);
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThanOrEqual(2000);
  });

  it('429 without Retry-After: backs off, then succeeds', async () => {
    const slept: number[] = [];
    gcr.throttle(1);
    const r = await discover(yamlFor([{ url: gcr.url, selectors: narrow }]), {
      http: new HttpClient({ sleep: async (ms) => void slept.push(ms) }),
    });
    expect(r.complete).toBe(true);
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeLessThan(1000);
  });

  it('429 that does not stop: the message says so', async () => {
    gcr.throttle(4);
    const r = await discover(yamlFor([{ url: gcr.url, selectors: narrow }]));
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: ${gcr.registry.host}/v2/my-project/acme/tags/list: rate-limited (HTTP 429: TOOMANYREQUESTS Quota exceeded for quota metric 'Requests'); retried and gave up`,
    );
  });
});
