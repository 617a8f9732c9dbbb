// Azure Container Registry against a fake of its token endpoints (Basic, refresh-token grant,
// Entra ID exchange), its /acr/v1 listing API with scopes enforced, and its error bodies.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import { literalRepositories } from '../../src/registries/acr.js';
import { openAdapter } from '../../src/registries/open-adapter.js';
import type { RunResult } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';
import { comparableGraph } from '../support/comparable-graph.js';
import { discoverText } from '../support/discover-text.js';
import {
  type AcrFake,
  ADMIN,
  ENTRA_TOKEN,
  NULL_GUID,
  SCOPED_TOKEN,
  startAcrFake,
} from '../support/fakes/acr-fake.js';
import { manyTagsRepository, newestOfMany } from '../support/fakes/many-tags.js';
import { runRetention, untaggedRepository } from '../support/untagged-content.js';

const BIG = 250;
const EXAMPLE = new URL('../../examples/configs/acr.yml', import.meta.url);
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

let acr: AcrFake;
beforeAll(async () => {
  acr = await startAcrFake({ repos: [...sampleRepositories(), manyTagsRepository('acme/big-service', BIG)] });
});
afterAll(async () => {
  await acr?.close();
});

interface Provider {
  type?: string;
  creds?: Record<string, string>;
  selectors?: Array<Record<string, unknown>>;
  maxPages?: number;
}

function yamlFor(p: Provider): string {
  return stringify({
    providers: [
      {
        name: 'acr',
        type: 'docker',
        config: {
          registry_type: p.type ?? 'acr',
          api_url: acr.url,
          ...(p.creds ?? ADMIN),
          ...(p.maxPages ? { max_pages: p.maxPages } : {}),
          selectors: p.selectors ?? [{ max_tags: 0 }],
        },
      },
    ],
  });
}

const discover = (
  text: string,
  opts: { env?: Record<string, string>; http?: HttpClient; ambientEnv?: Record<string, string> } = {},
) => discoverText(text, { env: opts.env, http: opts.http, ambient: { env: opts.ambientEnv ?? {} } });

type Result = Pick<RunResult, 'graph'>;
const receiptsOf = (r: Result) =>
  Object.fromEntries(r.graph.receipts.map((x) => [`${x.provider}:${x.repository}`, x]));
const imageTags = (r: Result, repository: string) =>
  r.graph
    .load()
    .entities.filter((e) => e.kind === 'DockerImage' && e.spec.repository === repository)
    .map((e) => e.spec.tag as string)
    .sort();
const noTokens = (text: string) => {
  for (const t of [ENTRA_TOKEN, ADMIN.password, SCOPED_TOKEN.password, 'acr-refresh-', 'acr-access-'])
    expect(text).not.toContain(t);
};
const ALL = [
  'acme/big-service',
  'acme/legacy-batch',
  'acme/payments-api',
  'acme/platform/ingress-controller',
  'acme/web-frontend',
  'library/nginx',
  'library/redis',
];

describe('acr: the README example', () => {
  it('runs examples/configs/acr.yml (Entra ID and a repository-scoped token) against the fake', async () => {
    const doc = parse(readFileSync(EXAMPLE, 'utf8'));
    for (const p of doc.providers) {
      expect(p.config.api_url).toBe('https://myregistry.azurecr.io');
      p.config.api_url = acr.url;
    }
    acr.requests.length = 0;
    acr.tenants.length = 0;
    const r = await discover(stringify(doc), {
      env: {
        ACR_ENTRA_TOKEN: ENTRA_TOKEN,
        ACR_USERNAME: SCOPED_TOKEN.username,
        ACR_PASSWORD: SCOPED_TOKEN.password,
      },
      ambientEnv: { AZURE_TENANT_ID: TENANT },
    });
    expect(r.complete).toBe(true);
    expect(acr.tenants).toEqual([TENANT]);
    expect(r.graph.receipts.filter((x) => x.provider === 'acr').map((x) => x.repository)).toEqual(ALL);
    expect(r.graph.receipts.filter((x) => x.provider === 'acr-scoped').map((x) => x.repository)).toEqual([
      'acme/web-frontend',
    ]);
    expect(r.summary).toContain(
      'acr-scoped: the credential cannot list the catalog (registry:catalog:*); used the 1 repository the selectors name',
    );
    expect(r.summary).toContain(
      "acr-scoped: the credential lacks metadata_read (first seen on acme/web-frontend), so ACR's tag API was not usable: 1 repository listed with /v2 tags/list and one manifest request per tag; add content/metadata/read to the token's scope map to avoid it",
    );
    noTokens(r.summary);
    noTokens(JSON.stringify(r.graph));
  });
});

describe('acr: listing', () => {
  it('reads the catalog and _tags page by page (Link), to the end', async () => {
    acr.pageCap = 2;
    acr.requests.length = 0;
    try {
      const r = await discover(
        yamlFor({ selectors: [{ repository_pattern: '^(payments-api|platform/.*)$', max_tags: 0 }] }),
      );
      expect(r.complete).toBe(true);
      expect(acr.requests.filter((q) => q.path.startsWith('/acr/v1/_catalog')).length).toBe(4);
      const receipts = receiptsOf(r);
      expect(receipts['acr:acme/payments-api']).toMatchObject({ tags_listed: 8, pages: 4, complete: true });
      expect(receipts['acr:acme/platform/ingress-controller']).toMatchObject({ tags_listed: 4, pages: 2 });
      expect(acr.requests.filter((q) => q.method === 'HEAD')).toEqual([]);
      expect(acr.requests.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:'))).toEqual([]);
    } finally {
      acr.pageCap = 1000;
    }
  });

  it('says when max_pages cuts a listing short', async () => {
    acr.pageCap = 2;
    try {
      const r = await discover(
        yamlFor({
          maxPages: 2,
          selectors: [{ namespace_pattern: '^acme$', repository_pattern: '^payments-api$', max_tags: 1 }],
        }),
      );
      expect(r.complete).toBe(false);
      expect(r.graph.receipts.find((x) => x.repository === '*')!.errors).toEqual([
        'repository listing: stopped after 2 pages (max_pages); raise max_pages to list everything',
      ]);
    } finally {
      acr.pageCap = 1000;
    }
  });

  it('keeps the newest max_tags by ACR push time (orderby=timedesc), manifests of kept tags only', async () => {
    acr.requests.length = 0;
    const r = await discover(
      yamlFor({
        selectors: [{ namespace_pattern: 'acme', repository_pattern: '^big-service$', max_tags: 3 }],
      }),
    );
    expect(r.complete).toBe(true);
    expect(imageTags(r, 'acme/big-service')).toEqual(newestOfMany(BIG, 3).sort());
    expect(
      acr.requests.some((q) => q.path.startsWith('/acr/v1/acme/big-service/_tags?orderby=timedesc')),
    ).toBe(true);
    expect(acr.requests.filter((q) => q.kind === 'manifest')).toHaveLength(3);
    const pushed = r.graph
      .load()
      .entities.filter((e) => e.kind === 'DockerImage')
      .map((e) => e.spec.last_updated);
    expect(pushed.every((v) => typeof v === 'string' && /^2023-\d\d-\d\dT\d\d:00:00Z$/.test(v))).toBe(true);
  });

  it('spends ≤ 3 listing requests per 100 tags (cold), no HEAD, no manifest GET by tag', async () => {
    acr.requests.length = 0;
    const r = await discover(yamlFor({ selectors: [{ max_tags: 1 }] }));
    expect(r.complete).toBe(true);
    const listing = acr.requests.filter((q) => q.kind === 'acr');
    const tags = r.graph.receipts.reduce((a, x) => a + x.tags_listed, 0);
    expect(tags).toBe(34 + BIG);
    // 1 catalog page + 1 _tags page per repository (7) for 284 tags.
    expect(listing).toHaveLength(8);
    expect((listing.length * 100) / tags).toBeLessThanOrEqual(3);
    expect(listing.filter((q) => q.path.startsWith('/acr/v1/acme/big-service/'))).toHaveLength(1);
    expect(acr.requests.filter((q) => q.method === 'HEAD')).toEqual([]);
    expect(acr.requests.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:'))).toEqual([]);
  });

  it('the ACR fast path and the plain OCI path give the same graph', async () => {
    const fast = await discover(yamlFor({ selectors: [{ max_tags: 0 }] }));
    const oci = await discover(yamlFor({ type: 'private', selectors: [{ max_tags: 0 }] }));
    expect(fast.complete && oci.complete).toBe(true);
    expect(comparableGraph(fast.graph.load())).toBe(comparableGraph(oci.graph.load()));
    expect(fast.graph.load().entities.filter((e) => e.kind === 'DockerImage').length).toBe(34 - 1 + BIG);
  });

  it('names repositories only when selectors spell them out', () => {
    const sel = (ns: string, repo: string) => ({
      namespacePattern: { source: ns, test: () => true },
      repositoryPattern: { source: repo, test: () => true },
      excludeTags: [],
      maxTags: 1,
    });
    expect(
      literalRepositories([sel('^acme$', '^platform/ingress-controller$'), sel('library', '^nginx$')]),
    ).toEqual(['acme/platform/ingress-controller', 'library/nginx']);
    expect(literalRepositories([sel('^acme$', '^web')])).toBeUndefined();
    expect(literalRepositories([sel('.*', '^web$')])).toBeUndefined();
    // One reading for every registry (selector-names.ts): alternations, and `^$` for no namespace.
    expect(literalRepositories([sel('^acme$', '^(web|api)$'), sel('^$', '^nginx$')])).toEqual([
      'acme/api',
      'acme/web',
      'nginx',
    ]);
    expect(literalRepositories([sel('^acme$', 'web')])).toBeUndefined();
  });
});

describe('acr: credentials', () => {
  const one = [{ namespace_pattern: '^acme$', repository_pattern: '^web-frontend$', max_tags: 2 }];

  it('admin user (Basic on the token endpoint)', async () => {
    const r = await discover(yamlFor({ selectors: one }));
    expect(r.complete).toBe(true);
    expect(imageTags(r, 'acme/web-frontend')).toEqual(['2024.11.1', 'pr-418']);
    noTokens(r.summary);
  });

  it('an Entra ID token: exchanged once at /oauth2/exchange, tenant from AZURE_TENANT_ID', async () => {
    acr.requests.length = 0;
    acr.tenants.length = 0;
    const r = await discover(yamlFor({ creds: { token: ENTRA_TOKEN }, selectors: one }), {
      ambientEnv: { AZURE_TENANT_ID: TENANT },
    });
    expect(r.complete).toBe(true);
    expect(acr.tenants).toEqual([TENANT]);
    expect(acr.requests.filter((q) => q.kind === 'exchange')).toHaveLength(1);
    noTokens(r.summary);
    noTokens(JSON.stringify(r.graph));
  });

  it('an Entra ID token without a tenant', async () => {
    acr.tenants.length = 0;
    const r = await discover(yamlFor({ creds: { token: ENTRA_TOKEN }, selectors: one }));
    expect(r.complete).toBe(true);
    expect(acr.tenants).toEqual([undefined]);
  });

  it('an ACR refresh token as password of the null-GUID user (az acr login --expose-token)', async () => {
    const res = await fetch(`${acr.url}/oauth2/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'access_token',
        service: acr.host,
        access_token: ENTRA_TOKEN,
      }).toString(),
    });
    const { refresh_token } = (await res.json()) as { refresh_token: string };
    const r = await discover(
      yamlFor({ creds: { username: NULL_GUID, password: refresh_token }, selectors: one }),
    );
    expect(r.complete).toBe(true);
    expect(r.summary).not.toContain(refresh_token);
  });

  it('a repository-scoped token without metadata_read: /v2 tags and HEADs, same images, and a note', async () => {
    const admin = await discover(yamlFor({ selectors: one }));
    acr.requests.length = 0;
    const r = await discover(yamlFor({ creds: SCOPED_TOKEN, selectors: one }));
    expect(r.complete).toBe(true);
    expect(comparableGraph(r.graph.load())).toBe(comparableGraph(admin.graph.load()));
    // The catalog and one _tags page denied, then /v2 tags/list and one manifest request per tag (4 tags).
    expect(acr.requests.filter((q) => q.kind === 'acr').map((q) => [q.path.split('?')[0], q.status])).toEqual(
      [
        ['/acr/v1/_catalog', 401],
        ['/acr/v1/acme/web-frontend/_tags', 401],
      ],
    );
    expect(acr.requests.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:'))).toHaveLength(4);
    expect(r.summary).toContain('the credential lacks metadata_read (first seen on acme/web-frontend)');
  });

  it('a repository-scoped token with selectors that name no repository: says what to do', async () => {
    const r = await discover(yamlFor({ creds: SCOPED_TOKEN, selectors: [{ namespace_pattern: 'acme' }] }));
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: registry ${acr.host} denied access to registry:catalog:* (HTTP 401: UNAUTHORIZED authentication required, visit https://aka.ms/acr/authorization for more information.); credential used: username "${SCOPED_TOKEN.username}" with a password; check the credentials and their permissions. ACR lists repositories only for credentials with catalog access (admin user, or an Entra ID identity with AcrPull); with a repository-scoped token, name each repository in the selectors (namespace_pattern "^acme$", repository_pattern "^web$")`,
    );
  });

  it('a repository-scoped token with a prefix pattern: no repository made of it, and the exact pattern to write', async () => {
    const r = await discover(
      yamlFor({
        creds: SCOPED_TOKEN,
        selectors: [{ namespace_pattern: '^acme$', repository_pattern: '^web' }],
      }),
    );
    expect(r.graph.receipts.map((x) => [x.repository, x.complete])).toEqual([['*', false]]);
    expect(r.graph.receipts[0]!.errors[0]).toContain(
      'name each repository in the selectors (namespace_pattern "^acme$", repository_pattern "^web$"); repository_pattern "^web" names no repository without a listing (it also matches every longer name that starts with it); write "^web$" to name web alone',
    );
    expect(acr.requests.filter((q) => q.path.includes('/acme/web/'))).toEqual([]);
  });

  it('a wrong password: the token service refusal, without the password', async () => {
    const r = await discover(
      yamlFor({ creds: { username: ADMIN.username, password: 'wrong-password-123' } }),
    );
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: token service ${acr.host} for registry ${acr.host} refused registry:catalog:* (HTTP 401); credential used: username "${ADMIN.username}" with a password; check username and password`,
    );
    expect(r.summary).not.toContain('wrong-password-123');
  });

  it('a wrong or expired Entra ID token: the exchange refusal and the fix', async () => {
    const r = await discover(yamlFor({ creds: { token: 'eyJ-not-a-valid-entra-token' } }));
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot reach the registry: ${acr.host} refused the Entra ID token at ${acr.host}/oauth2/exchange (HTTP 401: UNAUTHORIZED authentication required, visit https://aka.ms/acr/authorization for more information.); config token must be a current Entra ID access token (after azure/login: az account get-access-token --query accessToken -o tsv) whose identity has AcrPull on the registry, or set username/password instead`,
    );
    expect(r.summary).not.toContain('eyJ-not-a-valid-entra-token');
  });

  it('an expired access token: one re-auth, then success (Entra ID refresh token reused)', async () => {
    acr.requests.length = 0;
    const http = new HttpClient({ sleep: async () => {} });
    let expired = false;
    http.onResponse((req) => {
      if (!expired && req.kind === 'manifest') {
        expired = true;
        acr.expireTokens();
      }
    });
    const r = await discover(
      yamlFor({
        creds: { token: ENTRA_TOKEN },
        selectors: [
          { namespace_pattern: '^acme$', repository_pattern: '^platform/ingress-controller$', max_tags: 1 },
        ],
      }),
      { http },
    );
    expect(r.complete).toBe(true);
    const after = acr.requests.slice(acr.requests.findIndex((q) => q.kind === 'manifest') + 1);
    expect(after.filter((q) => q.status === 401)).toHaveLength(1);
    expect(after.filter((q) => q.kind === 'token')).toHaveLength(1);
    expect(acr.requests.filter((q) => q.kind === 'exchange')).toHaveLength(1);
  });
});

describe('acr: rate limits', () => {
  const one = [{ namespace_pattern: '^acme$', repository_pattern: '^web-frontend$', max_tags: 1 }];

  it('429 with Retry-After: waits as asked, then succeeds', async () => {
    const slept: number[] = [];
    acr.throttle(1, '3');
    const r = await discover(yamlFor({ selectors: one }), {
      http: new HttpClient({ sleep: async (ms) => void slept.push(ms) }),
    });
    expect(r.complete).toBe(true);
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThanOrEqual(3000);
  });

  it('429 without Retry-After: backs off, then succeeds', async () => {
    const slept: number[] = [];
    acr.throttle(2);
    const r = await discover(yamlFor({ selectors: one }), {
      http: new HttpClient({ sleep: async (ms) => void slept.push(ms) }),
    });
    expect(r.complete).toBe(true);
    expect(slept).toHaveLength(2);
    expect(slept[1]!).toBeGreaterThan(slept[0]! / 2);
  });

  it('429 that does not stop: the message says so', async () => {
    acr.throttle(4, '1');
    const r = await discover(yamlFor({ selectors: one }));
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: ${acr.host}/acr/v1/_catalog: rate-limited (HTTP 429: TOOMANYREQUESTS too many requests); the registry asks to wait 1 s; retried and gave up`,
    );
  });
});

describe('acr: untagged manifests and untagged_older_than', () => {
  const repo = untaggedRepository('acme/untagged');
  let own: AcrFake;
  beforeAll(async () => {
    own = await startAcrFake({
      repos: [repo.content, sampleRepositories().find((r) => r.name === 'library/nginx')!],
    });
  });
  afterAll(async () => {
    await own?.close();
  });

  const run = (selectors: Array<Record<string, unknown>>, apply = false) =>
    runRetention(
      stringify({
        providers: [
          {
            name: 'acr',
            type: 'docker',
            config: { registry_type: 'acr', api_url: own.url, ...ADMIN, selectors },
          },
        ],
      }),
      apply,
    );
  const untaggedRule = { untagged_older_than: '7d' };

  it('lists by manifest only where a selector has untagged_older_than, since it costs more pages', async () => {
    own.pageCap = 5;
    own.requests.length = 0;
    try {
      const r = await run([
        { namespace_pattern: '^library$', max_tags: 0, retention: untaggedRule },
        { namespace_pattern: '^acme$', max_tags: 0 },
      ]);
      expect(r.complete).toBe(true);
      const listed = (what: string) =>
        own.requests.filter((q) => q.path.startsWith(`/acr/v1/${what}?`)).length;
      // nginx: 7 tags on 3 indexes, whose 6 platform and 6 attestation manifests are rows too.
      expect(listed('library/nginx/_manifests')).toBe(3);
      expect(listed('library/nginx/_tags')).toBe(0);
      expect(listed('acme/untagged/_tags')).toBe(1);
      expect(listed('acme/untagged/_manifests')).toBe(0);
      const receipts = receiptsOf(r);
      expect(receipts['acr:library/nginx']).toMatchObject({ tags_listed: 7, pages: 3, complete: true });
      expect(r.summary).toContain('1 repository listed by manifest (/acr/v1/<repo>/_manifests)');
      const plan = r.retention!.plans.find((p) => p.repository === 'library/nginx')!;
      // Every untagged nginx manifest belongs to a kept index.
      expect(plan.deletions).toEqual([]);
      expect(new Set(plan.protected.map((p) => p.why[0]!.by))).toEqual(new Set(['kept_index']));
    } finally {
      own.pageCap = 1000;
    }
    // The same repository by _tags: 7 rows, 2 pages of 5.
    own.pageCap = 5;
    own.requests.length = 0;
    try {
      await run([{ namespace_pattern: '^library$', max_tags: 0 }]);
      expect(own.requests.filter((q) => q.path.startsWith('/acr/v1/library/nginx/_tags?')).length).toBe(2);
    } finally {
      own.pageCap = 1000;
    }
  });

  it('refuses a delete to a repository-scoped token without the delete action', async () => {
    const secrets = new Secrets();
    const settings = loadConfig(
      stringify({
        providers: [
          {
            name: 'acr',
            type: 'docker',
            config: { registry_type: 'acr', api_url: own.url, ...SCOPED_TOKEN, selectors: [{ max_tags: 0 }] },
          },
        ],
      }),
      { env: {}, secrets, origin: 'test' },
    ).providers[0]!;
    const http = new HttpClient({ sleep: async () => {} });
    try {
      const adapter = await openAdapter({ settings, http, secrets, log: silentLog, ambient: { env: {} } });
      const start = own.requests.length;
      const answer = await adapter.deleteManifest!('acme/untagged', repo.oldImage.manifest.digest, [], {
        requests: 0,
      });
      expect(answer).toMatchObject({ outcome: 'refused', why: 'denied' });
      // The token the registry gave carries pull only: the DELETE is refused, nothing removed.
      const deletes = own.requests.slice(start).filter((q) => q.method === 'DELETE');
      expect(deletes.length).toBeGreaterThan(0);
      expect(deletes.every((q) => q.status === 401)).toBe(true);
      expect(own.registry.requests.filter((q) => q.method === 'DELETE')).toEqual([]);
    } finally {
      await http.close();
    }
  });

  it("plans the old untagged manifests, an index before its platforms, not the young one nor the kept index's, and deletes them", async () => {
    const selectors = [{ namespace_pattern: '^acme$', max_tags: 0, retention: untaggedRule }];
    own.requests.length = 0;
    const first = await run(selectors, true);
    const plan = first.retention!.plans.find((p) => p.repository === 'acme/untagged')!;
    expect(plan.deletions.map((d) => d.digest).sort()).toEqual(repo.oldDigests);
    expect(plan.deletions.every((d) => d.cause === 'untagged')).toBe(true);
    const order = plan.deletions.map((d) => d.digest);
    for (const c of repo.oldIndex.children)
      expect(order.indexOf(c.manifest.digest)).toBeGreaterThan(order.indexOf(repo.oldIndex.manifest.digest));
    expect(JSON.stringify(plan)).not.toContain(repo.youngImage.manifest.digest);
    const keptChildren = [...repo.kept.children, ...repo.kept.attestationImages].map(
      (c) => c.manifest.digest,
    );
    expect(plan.protected.map((p) => [p.digest, p.why.map((w) => w.by)]).sort()).toEqual(
      keptChildren.map((d) => [d, ['kept_index']]).sort(),
    );
    expect(first.retention!.applied!.journal.map((e) => [e.digest, e.answer])).toEqual(
      order.map((d) => [d, 'deleted']),
    );
    // One DELETE per manifest (plus the token for the delete action).
    expect(own.requests.filter((q) => q.method === 'DELETE').map((q) => q.status)).toEqual(
      order.map(() => 202),
    );

    const after = await run(selectors);
    const again = after.retention!.plans.find((p) => p.repository === 'acme/untagged')!;
    expect(again.deletions).toEqual([]);
    expect(again.protected).toHaveLength(keptChildren.length);
    const tags = after.graph
      .load()
      .entities.filter((e) => e.kind === 'DockerImage' && e.spec.repository === 'acme/untagged')
      .map((e) => e.spec.tag);
    expect(tags.sort()).toEqual(['latest', 'v2', 'v3']);
  });
});
