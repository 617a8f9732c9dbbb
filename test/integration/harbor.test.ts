// Harbor through its API v2.0 against a fake Harbor (test/support/fakes/harbor-fake.ts): projects →
// repositories → artifacts with tags, push times and scan overviews; Basic credentials on the API,
// the registry's token flow for manifests.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { RepositoryContent } from '../../src/demo/image-builder.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { discover as discoverRepositories } from '../../src/discovery/discover.js';
import type { Storage } from '../../src/graph/storage-ledger.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import { openAdapter } from '../../src/registries/open-adapter.js';
import { inventoryOf } from '../../src/retention/from-discovery.js';
import { storageOf } from '../../src/retention/storage.js';
import { Secrets } from '../../src/secrets.js';
import { NoState } from '../../src/state/state-store.js';
import { comparableGraph } from '../support/comparable-graph.js';
import { discoverText } from '../support/discover-text.js';
import { tagFacts } from '../support/fakes/content-facts.js';
import { type HarborFake, type HarborFakeOptions, startHarborFake } from '../support/fakes/harbor-fake.js';
import { manyTagsRepository, newestOfMany } from '../support/fakes/many-tags.js';
import { buildReferrer, referrerFacts, withReferrers } from '../support/fakes/referrers.js';
import { runRetention, untaggedRepository } from '../support/untagged-content.js';

const EXAMPLE = new URL('../../examples/configs/harbor.yml', import.meta.url);
const ROBOT = 'robot$acme+inventory';
const ROBOT_SECRET = 'Rb0t-s3cret-value';
const MANY = 250;

const nginxFacts = tagFacts(sampleRepositories()[0]!);
const digestOf = (tag: string) => nginxFacts.find((f) => f.tag === tag)!.digest;

function fakeOptions(extra: Partial<HarborFakeOptions> = {}): HarborFakeOptions {
  return {
    repositories: [...sampleRepositories(), manyTagsRepository('acme/many-tags', MANY)],
    accounts: {
      admin: { password: 'Harbor12345', projects: '*', sysadmin: true },
      [ROBOT]: { password: ROBOT_SECRET, projects: ['acme'] },
      dev: { password: 'dev-password', projects: [] },
    },
    publicProjects: ['library', 'bulk'],
    emptyRepositories: Array.from({ length: 230 }, (_, i) => `bulk/app-${String(i).padStart(3, '0')}`),
    scans: {
      [digestOf('1.27.2')]: {
        status: 'Success',
        critical: 1,
        high: 3,
        medium: 5,
        low: 2,
        unknown: 0,
        fixable: 4,
      },
      [digestOf('1.26.1')]: { status: 'Running' },
    },
    ...extra,
  };
}

let harbor: HarborFake;
beforeAll(async () => {
  harbor = await startHarborFake(fakeOptions());
});
afterAll(async () => {
  await harbor?.close();
});

interface Run {
  type?: string;
  username?: string;
  password?: string;
  selectors?: Array<Record<string, unknown>>;
  vulnerabilities?: boolean;
  url?: string;
  readManifests?: boolean;
  supplyChain?: boolean;
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

/** The admin account over every sample repository and the newest 3 of many-tags. */
const ADMIN_SAMPLES: Run = {
  username: 'admin',
  password: 'Harbor12345',
  selectors: [
    ...SAMPLE_SELECTORS,
    { namespace_pattern: 'acme', repository_pattern: '^many-tags$', max_tags: 3 },
  ],
};

const discover = (yamlText: string, env: Record<string, string> = {}, http = new HttpClient()) =>
  discoverText(yamlText, { env, http });

function config(run: Run): string {
  return stringify({
    providers: [
      {
        name: 'harbor',
        type: 'docker',
        config: {
          registry_type: run.type ?? 'harbor',
          api_url: run.url ?? harbor.url,
          ...(run.username ? { username: run.username } : {}),
          ...(run.password ? { password: run.password } : {}),
          ...(run.vulnerabilities ? { discover_vulnerabilities: true } : {}),
          ...(run.readManifests !== undefined ? { read_manifests: run.readManifests } : {}),
          ...(run.supplyChain !== undefined ? { supply_chain: run.supplyChain } : {}),
          selectors: run.selectors ?? SAMPLE_SELECTORS,
        },
      },
    ],
  });
}

const images = (g: { entities: Array<{ kind: string; spec: Record<string, unknown> }> }) =>
  g.entities.filter((e) => e.kind === 'DockerImage');

describe('harbor listing', () => {
  it('walks projects, repositories and artifacts page by page; digests and push times from the API', async () => {
    harbor.requests.length = 0;
    harbor.registry.requests.length = 0;
    const r = await discover(
      config({
        username: 'admin',
        password: 'Harbor12345',
        selectors: [
          { namespace_pattern: '^(library|acme)$', max_tags: 0 },
          { namespace_pattern: '^bulk$', repository_pattern: '^app-00[01]$' },
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
    const api = harbor.requests.filter((q) => q.kind === 'api').map((q) => q.path.split('?')[0]!);
    // Namespace patterns that are not plain names: the projects list, then each matching project.
    expect(api.filter((p) => p.endsWith('/projects'))).toHaveLength(1);
    // 230 repositories in "bulk" at 100 a page: three pages.
    expect(api.filter((p) => p === '/api/v2.0/projects/bulk/repositories')).toHaveLength(3);
    expect(
      harbor.requests
        .filter((q) => q.path.includes('/bulk/repositories?'))
        .map((q) => /page=(\d+)/.exec(q.path)![1]),
    ).toEqual(['1', '2', '3']);
    // 250 tags (250 artifacts) of acme/many-tags: three artifact pages.
    expect(api.filter((p) => p.endsWith('/many-tags/artifacts'))).toHaveLength(3);
    // Never the catalog or tags/list, and no manifest by tag: digests come from the API.
    expect(harbor.registry.requests.filter((q) => q.kind === 'catalog' || q.kind === 'tags')).toEqual([]);
    expect(
      harbor.registry.requests.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:')),
    ).toEqual([]);
    // The cosign signature is an accessory in Harbor, yet its tag is known and marks the image signed.
    const payments = r.graph.receipts.find((x) => x.repository === 'acme/payments-api')!;
    expect(payments.tags_listed).toBe(8);
    const nginx = r.graph
      .load()
      .entities.find((e) => e.kind === 'DockerRepository' && e.spec.name === 'nginx');
    expect(nginx?.spec.description).toBe('Official build of Nginx.');
    expect(typeof nginx?.spec.pull_count).toBe('number');
    expect(images(r.graph.load()).find((e) => e.spec.tag === '1.27.2')?.spec.last_updated).toBe(
      '2024-10-02T17:55:35Z',
    );
  });

  it('keeps the newest max_tags by push time and spends at most 3 listing requests per 100 tags', async () => {
    harbor.requests.length = 0;
    harbor.registry.requests.length = 0;
    const r = await discover(
      config({
        username: 'admin',
        password: 'Harbor12345',
        selectors: [{ namespace_pattern: 'acme', repository_pattern: '^many-tags$', max_tags: 3 }],
      }),
    );
    expect(r.complete).toBe(true);
    expect(
      images(r.graph.load())
        .map((e) => e.spec.tag)
        .sort(),
    ).toEqual(newestOfMany(MANY, 3).sort());
    const listing = harbor.requests.filter((q) => q.kind === 'api' && q.path.includes('/artifacts'));
    expect((listing.length / MANY) * 100).toBeLessThanOrEqual(3);
    // Only the kept images are read: a manifest and a config each, nothing per listed tag.
    const v2 = harbor.registry.requests.filter((q) => q.kind === 'manifest' || q.kind === 'blob');
    expect(v2).toHaveLength(6);
  });

  it('goes the same way as the plain OCI path (same graph)', async () => {
    const admin = ADMIN_SAMPLES;
    const fast = await discover(config(admin));
    const oci = await discover(config({ ...admin, type: 'private' }));
    expect(fast.complete && oci.complete).toBe(true);
    expect(comparableGraph(fast.graph.load())).toBe(comparableGraph(oci.graph.load()));
    expect(images(fast.graph.load())).toHaveLength(images(oci.graph.load()).length);
  });

  it('double-encodes nested repository names (acme/platform/ingress-controller)', async () => {
    harbor.requests.length = 0;
    const r = await discover(
      config({
        username: ROBOT,
        password: ROBOT_SECRET,
        selectors: [{ namespace_pattern: 'acme', repository_pattern: '^platform/' }],
      }),
    );
    expect(r.complete).toBe(true);
    expect(harbor.requests.map((q) => q.path)).toContainEqual(
      expect.stringMatching(
        /^\/api\/v2\.0\/projects\/acme\/repositories\/platform%252Fingress-controller\/artifacts\?/,
      ),
    );
    expect(
      images(r.graph.load())
        .map((e) => e.spec.tag)
        .sort(),
    ).toEqual(['2.3.0', '2.3.1', '2.4.0', 'latest']);
    // What a single encoding gets from Harbor: the path splits and no route matches.
    const single = await fetch(
      `${harbor.url}/api/v2.0/projects/acme/repositories/platform%2Fingress-controller/artifacts`,
      {
        headers: { authorization: `Basic ${Buffer.from('admin:Harbor12345').toString('base64')}` },
      },
    );
    expect(single.status).toBe(404);
  });

  it('refuses page_size above 100 like Harbor (422), which is why the adapter asks for 100', async () => {
    const res = await fetch(`${harbor.url}/api/v2.0/projects?page_size=101`);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      errors: [
        {
          code: 'UNPROCESSABLE_ENTITY',
          message: 'validation failure list:\npage_size in query should be less than or equal to 100',
        },
      ],
    });
  });
});

describe('harbor read_manifests: false', () => {
  const admin = ADMIN_SAMPLES;
  // Facts of every platform image the fake serves, by digest: what Harbor's rows were built from.
  const platformFacts = new Map(
    [...sampleRepositories(), manyTagsRepository('acme/many-tags', MANY)]
      .flatMap((repo) => tagFacts(repo))
      .flatMap((f) => f.platforms.map((pl) => [pl.digest, pl] as const)),
  );

  it('takes single-platform images from the artifact rows: no manifest or config read for them', async () => {
    harbor.registry.requests.length = 0;
    const r = await discover(
      config({
        ...admin,
        readManifests: false,
        selectors: [{ namespace_pattern: 'acme', repository_pattern: '^many-tags$', max_tags: 3 }],
      }),
    );
    expect(r.complete).toBe(true);
    expect(images(r.graph.load()).map((e) => e.spec.tag)).toHaveLength(3);
    expect(harbor.registry.requests.filter((q) => q.kind === 'manifest' || q.kind === 'blob')).toEqual([]);
    // The repository's whole cost is its listing: 3 pages for 250 artifacts.
    expect(r.graph.receipts.map((x) => [x.pages, x.requests])).toEqual([[3, 3]]);
  });

  it('gives the graph of a full read, less the layers the rows do not carry; indexes are still read', async () => {
    // Without read_manifests the supply chain is not read unless asked for; the full read leaves
    // it out too, so the two differ only in what the rows describe.
    const full = await discover(config({ ...admin, supplyChain: false }));
    harbor.registry.requests.length = 0;
    const listed = await discover(config({ ...admin, readManifests: false }));
    expect(full.complete && listed.complete).toBe(true);

    const fullEntities = new Map(full.graph.load().entities.map((e) => [`${e.kind}/${e.metadata.name}`, e]));
    let described = 0;
    for (const e of listed.graph.load().entities) {
      const twin = fullEntities.get(`${e.kind}/${e.metadata.name}`);
      expect(twin, `${e.kind}/${e.metadata.name}`).toBeDefined();
      const field = e.kind === 'DockerManifest' ? 'layer_digests' : 'layers';
      const fromRow = e.spec[field] === undefined && twin!.spec[field] !== undefined;
      if (e.kind === 'DockerRegistry' || e.kind === 'DockerRepository') {
        // Storage adds up the bytes the manifests state; a row states no layers, so where the
        // rows described an image the figures are a lower bound, and say so.
        const { storage, ...spec } = e.spec as { storage: Storage };
        const { storage: read, ...twinSpec } = twin!.spec as { storage: Storage };
        expect(spec, `${e.kind}/${e.metadata.name}`).toEqual(twinSpec);
        expect(storage.total_bytes).toBeLessThanOrEqual(read.total_bytes);
        if (storage.total_bytes < read.total_bytes) expect(storage.partial).toBe(true);
        continue;
      }
      if (!fromRow) {
        expect(e.spec, `${e.kind}/${e.metadata.name}`).toEqual(twin!.spec);
        continue;
      }
      described++;
      const expected: Record<string, unknown> = { ...twin!.spec };
      delete expected.layers;
      delete expected.layer_digests;
      delete expected.config_digest;
      // Harbor's size counts the manifest document too.
      const fact = platformFacts.get(String(e.spec.digest))!;
      expected.size = (twin!.spec.size as number) + fact.documentSize;
      expect(e.spec, `${e.kind}/${e.metadata.name}`).toEqual(expected);
    }
    expect(described).toBeGreaterThan(10);
    expect(listed.graph.relations).toEqual(full.graph.relations);

    // What was read: only trees the rows cannot describe (indexes, arm/arm64 and non-image artifacts).
    const read = new Set(
      harbor.registry.requests
        .filter((q) => q.kind === 'manifest')
        .map((q) => decodeURIComponent(q.path.slice(q.path.lastIndexOf('/') + 1))),
    );
    const listedDigests = new Set(
      listed.graph
        .load()
        .entities.filter((e) => e.kind === 'DockerManifest' && e.spec.layer_digests === undefined)
        .map((e) => e.spec.digest),
    );
    for (const d of listedDigests) expect(read.has(String(d))).toBe(false);
    expect(read.size).toBeGreaterThan(0);
  });

  it('is refused for a registry without such a listing, naming the field', async () => {
    await expect(discover(config({ ...admin, type: 'private', readManifests: false }))).rejects.toThrow(
      'providers[0].config.read_manifests: false needs a registry whose listing describes each image (registry_type harbor); private has none, so remove read_manifests or set it to true',
    );
  });
});

describe('harbor credentials', () => {
  it('anonymous: public projects only, and says which project needs credentials', async () => {
    const r = await discover(config({}));
    expect(r.graph.receipts.filter((x) => x.repository !== '*').map((x) => x.repository)).toEqual([
      'library/nginx',
      'library/redis',
    ]);
    const registryReceipt = r.graph.receipts.find((x) => x.repository === '*')!;
    expect(registryReceipt.errors).toEqual([
      `repository listing: Harbor API ${harbor.host}/api/v2.0/projects/acme/repositories needs credentials to list the repositories of project "acme" (HTTP 401: UNAUTHORIZED unauthorized): the project is private; set username and password (a user or a robot account)`,
    ]);
  });

  it('a robot account: Basic on the API, the token flow on the registry', async () => {
    harbor.requests.length = 0;
    const r = await discover(config({ username: ROBOT, password: ROBOT_SECRET }));
    expect(r.complete).toBe(true);
    expect(r.graph.receipts.map((x) => x.repository)).toContain('acme/payments-api');
    const tokenRequests = harbor.requests.filter((q) => q.kind === 'token');
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(
      tokenRequests.every(
        (q) => q.path.startsWith('/service/token?') && q.path.includes('service=harbor-registry'),
      ),
    ).toBe(true);
    expect(r.summary).not.toContain(ROBOT_SECRET);
  });

  it('wrong credentials: one clear message, no secret in it', async () => {
    const r = await discover(config({ username: ROBOT, password: 'not-the-secret' }));
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors).toEqual([
      `cannot list repositories: Harbor API ${harbor.host}/api/v2.0/projects/acme/repositories refused the credentials listing the repositories of project "acme" (HTTP 401: UNAUTHORIZED unauthorized); credential used: username "${ROBOT}"; check username and password (a robot account's username is its full name, e.g. robot$project+ci)`,
    ]);
    expect(r.summary).not.toContain('not-the-secret');
  });

  it('insufficient permission: the project is reported, the others are still listed', async () => {
    const r = await discover(config({ username: 'dev', password: 'dev-password' }));
    expect(r.graph.receipts.filter((x) => x.repository !== '*').map((x) => x.repository)).toEqual([
      'library/nginx',
      'library/redis',
    ]);
    expect(r.graph.receipts.find((x) => x.repository === '*')!.errors).toEqual([
      `repository listing: Harbor API ${harbor.host}/api/v2.0/projects/acme/repositories denied listing the repositories of project "acme" (HTTP 403: FORBIDDEN forbidden); credential used: username "dev"; the project does not exist or this account cannot see it; give the user or robot account at least the Guest role (robot: "List Repository" permission) on the project`,
    ]);
  });

  it('an expired registry token is replaced and the run completes', async () => {
    const short = await startHarborFake(fakeOptions({ expireTokensAfter: 12 }));
    try {
      const baseline = await discover(config({ url: harbor.url, username: ROBOT, password: ROBOT_SECRET }));
      const r = await discover(config({ url: short.url, username: ROBOT, password: ROBOT_SECRET }));
      expect(r.graph.receipts.flatMap((x) => x.errors)).toEqual([]);
      expect(r.complete).toBe(true);
      expect(comparableGraph(r.graph.load())).toBe(comparableGraph(baseline.graph.load()));
      const rejected = short.requests.filter(
        (q) => q.kind === 'registry' && q.status === 401 && q.path !== '/v2/',
      );
      expect(rejected.length).toBeGreaterThan(0);
      // Rejections are answered with new tokens (requests in flight on one expired token share
      // one replacement, so there may be fewer tokens than rejections), then the requests succeed.
      const tokens = short.requests.filter((q) => q.kind === 'token').length;
      const firstRun = harbor.requests.filter((q) => q.kind === 'token').length;
      expect(tokens).toBeGreaterThan(firstRun > 0 ? 1 : 0);
      expect(tokens).toBeLessThanOrEqual(rejected.length + firstRun);
    } finally {
      await short.close();
    }
  });
});

describe('harbor rate limits', () => {
  const run = (http: HttpClient) =>
    discover(
      config({
        username: 'admin',
        password: 'Harbor12345',
        selectors: [{ namespace_pattern: 'library', repository_pattern: '^nginx$' }],
      }),
      {},
      http,
    );

  it('429 with Retry-After: waits as asked, then succeeds', async () => {
    const waits: number[] = [];
    harbor.rateLimit({ path: /\/artifacts\?/, times: 1, retryAfter: '2' });
    const r = await run(new HttpClient({ sleep: async (ms) => void waits.push(ms) }));
    expect(r.complete).toBe(true);
    expect(waits).toContain(2000);
  });

  it('429 without Retry-After: backs off, then succeeds', async () => {
    const waits: number[] = [];
    harbor.rateLimit({ path: /\/artifacts\?/, times: 2 });
    const r = await run(new HttpClient({ sleep: async (ms) => void waits.push(ms) }));
    expect(r.complete).toBe(true);
    expect(waits).toHaveLength(2);
  });

  it('a wait longer than a run allows is reported, not waited for', async () => {
    harbor.rateLimit({ path: /\/artifacts\?/, times: 1, retryAfter: '600' });
    const r = await run(new HttpClient({ sleep: async () => {} }));
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors).toEqual([
      `cannot list tags: Harbor API ${harbor.host}/api/v2.0/projects/library/repositories/nginx/artifacts: rate-limited listing the artifacts of library/nginx (HTTP 429); Harbor asks to wait 600 s, longer than a run waits; run again later`,
    ]);
  });
});

describe('harbor vulnerabilities', () => {
  const nginxOnly = [{ namespace_pattern: 'library', repository_pattern: '^nginx$', max_tags: 0 }];

  it('discover_vulnerabilities: scan overviews become counts on the images that were scanned', async () => {
    harbor.requests.length = 0;
    const r = await discover(
      config({ username: 'admin', password: 'Harbor12345', vulnerabilities: true, selectors: nginxOnly }),
    );
    expect(r.complete).toBe(true);
    const byTag = Object.fromEntries(images(r.graph.load()).map((e) => [e.spec.tag, e.spec.vulnerabilities]));
    expect(byTag['1.27.2']).toEqual({
      total: 11,
      fixable: 4,
      critical: 1,
      high: 3,
      medium: 5,
      low: 2,
      unknown: 0,
    });
    expect(byTag.latest).toEqual(byTag['1.27.2']);
    // Still scanning, and never scanned: no counts rather than zeros.
    expect(byTag['1.26.1']).toBeUndefined();
    expect(byTag['1.25.4']).toBeUndefined();
    expect(r.summary).not.toMatch(/vulnerabilities: not available/);
    expect(
      harbor.requests
        .filter((q) => q.path.includes('/artifacts?'))
        .every((q) => q.path.includes('with_scan_overview=true')),
    ).toBe(true);
  });

  it('discover_vulnerabilities off: no counts and no scan overview asked for', async () => {
    harbor.requests.length = 0;
    const r = await discover(config({ username: 'admin', password: 'Harbor12345', selectors: nginxOnly }));
    expect(images(r.graph.load()).some((e) => e.spec.vulnerabilities !== undefined)).toBe(false);
    expect(
      harbor.requests
        .filter((q) => q.path.includes('/artifacts?'))
        .every((q) => q.path.includes('with_scan_overview=false')),
    ).toBe(true);
  });
});

describe('examples/configs/harbor.yml', () => {
  it('runs as written against the fake (only the URL replaced)', async () => {
    const doc = parse(readFileSync(EXAMPLE, 'utf8'));
    expect(doc.providers[0].config.api_url).toBe('https://harbor.example.com');
    doc.providers[0].config.api_url = harbor.url;
    const r = await discover(stringify(doc), { HARBOR_ROBOT_SECRET: ROBOT_SECRET });
    expect(r.complete).toBe(true);
    expect(r.graph.receipts.map((x) => x.repository)).toEqual([
      'acme/legacy-batch',
      'acme/many-tags',
      'acme/payments-api',
      'acme/platform/ingress-controller',
      'acme/web-frontend',
      'library/nginx',
      'library/redis',
    ]);
    expect(images(r.graph.load()).find((e) => e.spec.tag === '1.27.2')?.spec.vulnerabilities).toMatchObject({
      critical: 1,
    });
    expect(r.summary).not.toContain(ROBOT_SECRET);
  });
});

describe('harbor accessories as referrers (adapter)', () => {
  const NOTATION = 'application/vnd.cncf.notary.signature';
  const HARBOR_SBOM = 'application/vnd.goharbor.harbor.sbom.v1';
  const SIGSTORE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const IN_TOTO = 'application/vnd.in-toto+json';

  /** web-frontend with its `latest` index signed by notation and cosign, an SBOM and an attestation. */
  function accessorised(): RepositoryContent {
    const base = sampleRepositories().find((r) => r.name === 'acme/web-frontend')!;
    const latest = base.manifests.find((m) => m.digest === base.tags.latest)!;
    const refs = [
      buildReferrer({
        subject: latest,
        artifactType: NOTATION,
        layerMediaType: 'application/jose+json',
        payload: '{"payload":"n"}',
      }),
      buildReferrer({
        subject: latest,
        artifactType: SIGSTORE,
        layerMediaType: SIGSTORE,
        payload: '{"b":1}',
      }),
      buildReferrer({
        subject: latest,
        artifactType: HARBOR_SBOM,
        layerMediaType: 'application/spdx+json',
        payload: '{"spdxVersion":"SPDX-2.3"}',
      }),
      buildReferrer({
        subject: latest,
        artifactType: IN_TOTO,
        layerMediaType: IN_TOTO,
        payload: '{"predicateType":"https://slsa.dev/provenance/v1"}',
      }),
    ];
    return withReferrers(base, refs);
  }

  it('hands every accessory on under its subject, typed; none becomes a tag but a cosign .sig', async () => {
    const payments = sampleRepositories().find((r) => r.name === 'acme/payments-api')!;
    const own = await startHarborFake(fakeOptions({ repositories: [accessorised(), payments] }));
    const http = new HttpClient();
    try {
      const secrets = new Secrets();
      const settings = loadConfig(config({ username: 'admin', password: 'Harbor12345', url: own.url }), {
        env: {},
        secrets,
        origin: 'test',
      });
      const adapter = await openAdapter({
        settings: settings.providers[0]!,
        http,
        secrets,
        log: silentLog,
        ambient: { env: {} },
      });
      own.requests.length = 0;
      const tally = { requests: 0 };
      const web = await adapter.listTags('acme/web-frontend', tally);
      const content = accessorised();
      const refs = referrerFacts(content);
      // Harbor types a sigstore bundle `signature.cosign` like a legacy cosign signature, so the
      // `.sig` tag a legacy one has is named for it too (docs/registries/harbor.md says so).
      const cosignTag = `${content.tags.latest!.replace(':', '-')}.sig`;
      expect(web.items.sort()).toEqual([...Object.keys(content.tags), cosignTag].sort());
      const typed = (artifactType: string) => refs.find((r) => r.artifactType === artifactType)!.digest;
      expect(Object.fromEntries(web.referrers!)).toEqual({
        [content.tags.latest!]: expect.arrayContaining([
          { digest: typed(NOTATION), artifactType: NOTATION },
          // Harbor calls a sigstore bundle a cosign signature, whatever it holds.
          { digest: typed(SIGSTORE), artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' },
          { digest: typed(HARBOR_SBOM), artifactType: HARBOR_SBOM },
          // subject.accessory: Harbor has no name for it, so its type is left to its manifest.
          { digest: typed(IN_TOTO) },
        ]),
      });
      expect(web.referrers!.get(content.tags.latest!)).toHaveLength(4);
      expect(own.requests.filter((q) => q.kind === 'api')).toHaveLength(1);
      expect(tally.requests).toBe(1);

      // The legacy cosign signature: its `.sig` tag is listed (Harbor's tags/list has it) and it
      // is a referrer of the image it signs.
      const pay = await adapter.listTags('acme/payments-api', { requests: 0 });
      const facts = tagFacts(payments);
      const sig = facts.find((f) => f.tag.endsWith('.sig'))!;
      const subject = sig.tag.slice(0, -'.sig'.length).replace('-', ':');
      expect(pay.items).toHaveLength(8);
      expect(pay.items).toContain(sig.tag);
      expect(Object.fromEntries(pay.referrers!)).toEqual({
        [subject]: [{ digest: sig.digest, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' }],
      });
    } finally {
      await http.close();
      await own.close();
    }
  });
});

describe('harbor untagged artifacts and untagged_older_than', () => {
  const repo = untaggedRepository('acme/untagged');
  let own: HarborFake;
  beforeAll(async () => {
    own = await startHarborFake({
      repositories: [repo.content],
      accounts: {
        admin: { password: 'Harbor12345', projects: '*', deletes: true },
        [ROBOT]: { password: ROBOT_SECRET, projects: ['acme'] },
      },
      publicProjects: [],
    });
  });
  afterAll(async () => {
    await own?.close();
  });

  const yaml = (username: string, password: string) =>
    config({
      url: own.url,
      username,
      password,
      selectors: [{ namespace_pattern: 'acme', max_tags: 0, retention: { untagged_older_than: '7d' } }],
    });

  const run = (username: string, password: string, apply: boolean) =>
    runRetention(yaml(username, password), apply);

  /** Bytes of manifests, configs and layers as Harbor sizes an untagged artifact row. */
  const bytes = (...cs: Array<{ bytes: Buffer }>) => cs.reduce((n, c) => n + c.bytes.length, 0);

  it('counts the untagged artifacts in untagged_bytes, beyond what the tagged images hold', async () => {
    const secrets = new Secrets();
    const settings = loadConfig(yaml('admin', 'Harbor12345'), { env: {}, secrets, origin: 'test' });
    const http = new HttpClient();
    const inventories: ReturnType<typeof inventoryOf>[] = [];
    const before = own.requests.filter((q) => q.kind === 'api').length;
    try {
      await discoverRepositories(settings, {
        http,
        state: new NoState(),
        secrets,
        log: silentLog,
        onRepository: (provider, r) => inventories.push(inventoryOf(provider.name, own.host, r)),
      });
    } finally {
      await http.close();
    }
    // One artifacts page for the repository, as without retention: the rows were there already.
    expect(own.requests.filter((q) => q.kind === 'api').length - before).toBe(2);
    const untagged = inventories[0]!.untagged!;
    expect(untagged.map((m) => m.digest).sort()).toEqual(
      [repo.oldImage.manifest.digest, repo.oldIndex.manifest.digest, repo.youngImage.manifest.digest].sort(),
    );
    expect(untagged.find((m) => m.digest === repo.oldIndex.manifest.digest)).toMatchObject({
      role: 'index',
      children: repo.oldIndex.children.map((c) => c.manifest.digest),
    });
    const single = (i: typeof repo.oldImage) => bytes(i.manifest, i.config, ...i.layers);
    // Harbor sizes an index by its platforms' configs and layers.
    const index = repo.oldIndex.children.reduce((n, c) => n + bytes(c.config, ...c.layers), 0);
    const storage = storageOf(inventories).repositories[0]!.storage;
    expect(storage.untagged_bytes).toBe(single(repo.oldImage) + single(repo.youngImage) + index);
    expect(storage.partial).toBe(false);
  });

  it('plans the old untagged artifacts, refuses an account without delete, and deletes them with one DELETE each', async () => {
    const robot = await run(ROBOT, ROBOT_SECRET, true);
    const plan = robot.retention!.plans[0]!;
    // The old single build and the old index; its children are no rows, and go with it.
    const old = [repo.oldImage.manifest.digest, repo.oldIndex.manifest.digest].sort();
    expect(plan.deletions.map((d) => d.digest).sort()).toEqual(old);
    expect(plan.deletions.map((d) => d.cause)).toEqual(['untagged', 'untagged']);
    expect(JSON.stringify(plan)).not.toContain(repo.youngImage.manifest.digest);
    // The kept v2 index's platform manifests are no untagged rows in Harbor: nothing wants them.
    for (const c of repo.kept.children) expect(JSON.stringify(plan)).not.toContain(c.manifest.digest);
    expect(robot.retention!.applied!.journal.map((e) => e.answer)).toEqual(['refused', 'skipped']);

    const start = own.registry.requests.length;
    const admin = await run('admin', 'Harbor12345', true);
    expect(admin.retention!.plans[0]!.deletions.map((d) => d.digest).sort()).toEqual(old);
    expect(admin.retention!.applied!.journal.map((e) => [e.digest, e.answer]).sort()).toEqual(
      old.map((d) => [d, 'deleted']),
    );
    const deletes = own.registry.requests.slice(start).filter((q) => q.method === 'DELETE');
    expect(deletes.map((q) => [q.path.split('/').at(-1), q.status]).sort()).toEqual(old.map((d) => [d, 202]));

    const after = await run('admin', 'Harbor12345', false);
    expect(after.retention!.plans[0]!.deletions).toEqual([]);
    expect(
      images(after.graph.load())
        .map((e) => e.spec.tag)
        .sort(),
    ).toEqual(['latest', 'v2', 'v3']);
    // Harbor took the old index's platform manifests with it.
    const token = await fetch(
      `${own.url}/service/token?service=harbor-registry&scope=repository:acme/untagged:pull`,
      {
        headers: { authorization: `Basic ${Buffer.from('admin:Harbor12345').toString('base64')}` },
      },
    ).then(async (r) => ((await r.json()) as { token: string }).token);
    for (const c of repo.oldIndex.children) {
      const r = await fetch(`${own.url}/v2/acme/untagged/manifests/${c.manifest.digest}`, {
        headers: { authorization: `Bearer ${token}`, accept: c.manifest.mediaType },
      });
      expect(r.status).toBe(404);
    }
  });

  it('counts a child Harbor deleted with its index as deleted: its own DELETE finds nothing, and the journal says why', async () => {
    const r = await runRetention(
      config({
        url: own.url,
        username: 'admin',
        password: 'Harbor12345',
        selectors: [{ namespace_pattern: 'acme', max_tags: 0, retention: { keep_newest: 1 } }],
      }),
      true,
    );
    const index = repo.kept.manifest.digest;
    const children = [...repo.kept.children, ...repo.kept.attestationImages].map((c) => c.manifest.digest);
    const journal = r.retention!.applied!.journal;
    // The index first, then what it held.
    expect(journal[0]!.digest).toBe(index);
    expect(
      journal
        .slice(1)
        .map((e) => e.digest)
        .sort(),
    ).toEqual([...children].sort());
    expect(journal.map((e) => e.answer)).toEqual(Array(1 + children.length).fill('deleted'));
    for (const e of journal.slice(1)) expect(e.detail).toBe(`Harbor deleted it with the index ${index}`);
    const after = await run('admin', 'Harbor12345', false);
    expect(
      images(after.graph.load())
        .map((e) => e.spec.tag)
        .sort(),
    ).toEqual(['latest', 'v3']);
  });
});
