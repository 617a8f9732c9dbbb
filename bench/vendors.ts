// `npm run bench:vendors` (or `npm run bench -- --vendors`): discovery against each vendor fake
// (test/support/fakes) with 25 ms added to every request the engine's HttpClient sends, a cold run
// (empty state directory) then a warm run (the state it left), counting requests per 100 listed
// tags. Targets: ≤ 3 listing requests per 100 tags where the vendor has a listing API, and no
// Docker Hub manifest GET (pull quota) on a warm run. Selectors keep `max_tags: 10` (the default).
//   node --import tsx bench/vendors.ts [--json]
// ECR's API calls go through the AWS SDK, not the HttpClient: they are counted from the fake's
// log (DescribeRepositories/DescribeImages as listing requests) and get no added delay.
// Where the vendor has a delete path (Docker Hub, ECR, GHCR, Harbor, plain OCI), an apply pass
// follows: retention `keep_newest` on one repository, applied (`retention-apply`), counting the
// requests each deletion took (target: one per deletion plus authentication; Docker Hub one per
// tag plus one). The apply pass runs last, as it deletes from the fake.
// Exits 0 whether the targets are met or not; non-zero only when something crashed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent, type Dispatcher } from 'undici';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { startDemoRegistry } from '../src/demo/demo-registry.js';
import { buildImage, RepositoryBuilder, type RepositoryContent } from '../src/demo/image-builder.js';
import { sampleRepositories } from '../src/demo/sample-repositories.js';
import { HttpClient } from '../src/http/http-client.js';
import { silentLog } from '../src/log.js';
import { type RunOptions, type RunResult, runDiscovery } from '../src/run-discovery.js';
import { Secrets } from '../src/secrets.js';
import { ADMIN, startAcrFake } from '../test/support/fakes/acr-fake.js';
import { startArtifactoryFake } from '../test/support/fakes/artifactory-fake.js';
import { startDockerHubFake } from '../test/support/fakes/docker-hub-fake.js';
import { FAKE_ACCESS_KEY, FAKE_SECRET_KEY, startEcrFake } from '../test/support/fakes/ecr-fake.js';
import { GOOGLE_ACCESS_TOKEN, startGcrFake } from '../test/support/fakes/gcr-fake.js';
import {
  MANY as GHCR_MANY,
  PAT as GHCR_PAT,
  USER as GHCR_USER,
  MANY_COUNT,
  ORG,
  startGhcrFake,
} from '../test/support/fakes/ghcr-fake.js';
import { startHarborFake } from '../test/support/fakes/harbor-fake.js';
import { startNexusFake } from '../test/support/fakes/nexus-fake.js';
import { startQuayFake } from '../test/support/fakes/quay-fake.js';

const DELAY_MS = 25;
const MAX_TAGS = 10;
const BIG_REPOSITORY = 'acme/many-tags';
const BIG_TAGS = 300;
/** Listing requests per 100 listed tags, where the vendor has a listing API. */
const LISTING_TARGET = 3;
/** Nexus and Artifactory: the user the integration tests use, passed to the fakes explicitly. */
const CI_USER = { ci: 'ci-password-1234' };

/** 300 single-arch images, one tag each, an hour apart (newest last). */
function manyTags(name = BIG_REPOSITORY, count = BIG_TAGS): RepositoryContent {
  const repo = new RepositoryBuilder(name);
  const start = Date.parse('2024-01-01T00:00:00Z');
  for (let i = 0; i < count; i++) {
    const created = new Date(start + i * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const image = buildImage({ created, seed: `bench-${name}-${i}`, layerCount: 1, layerSize: 64 });
    repo.addImage(image, `build-${String(i).padStart(4, '0')}`);
  }
  return repo.build();
}

const rename = (repos: RepositoryContent[], to: (name: string) => string): RepositoryContent[] =>
  repos.map((r) => ({ ...r, name: to(r.name) }));

/** The demo's six repositories (34 tags) plus the 300-tag one. */
const benchContent = (): RepositoryContent[] => [...sampleRepositories(), manyTags()];

/** A dispatcher that holds every request 25 ms before sending it. */
function delayedAgent(): Agent & { composed: Dispatcher } {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });
  const composed = agent.compose((dispatch) => (opts, handler) => {
    setTimeout(() => dispatch(opts, handler), DELAY_MS);
    return true;
  });
  return Object.assign(agent, { composed });
}

interface SdkCalls {
  listing: number;
  total: number;
}

interface Target {
  yaml: string;
  env?: Record<string, string>;
  ambientEnv?: Record<string, string>;
  /** Requests made outside the HttpClient so far (ECR's AWS SDK calls). */
  sdkCalls?: () => SdkCalls;
  /** Docker Hub: pulls counted so far. */
  pulls?: () => number;
  /** Run before the apply pass (Docker Hub: its discovery reads every tag, beyond a personal pull limit). */
  beforeApply?: () => void;
  close: () => Promise<void>;
}

interface Vendor {
  name: string;
  registryType: string;
  /** Whether the vendor has its own listing API (tags with digests), so the ≤ 3 target applies. */
  listingApi: boolean;
  content: string;
  start: () => Promise<Target>;
  /** The repository the apply pass prunes, where the vendor has a delete path, and its images. */
  apply?: { repository: string; images: number };
}

/** Deletions the apply pass plans: `keep_newest` keeps all but these many images. */
const APPLY_DELETIONS = 10;

const provider = (registryType: string, config: Record<string, unknown>) =>
  stringify({
    providers: [{ name: 'bench', type: 'docker', config: { registry_type: registryType, ...config } }],
  });

const sel = (namespace?: string, repository?: string) => ({
  ...(namespace ? { namespace_pattern: namespace } : {}),
  ...(repository ? { repository_pattern: repository } : {}),
  max_tags: MAX_TAGS,
});

const SAMPLE = 'demo sample (6 repos, 34 tags) + acme/many-tags (300 tags)';

const VENDORS: Vendor[] = [
  {
    name: 'Docker Hub',
    registryType: 'docker-hub',
    listingApi: true,
    content: `${SAMPLE}; acme/platform/ingress-controller renamed acme/ingress-controller (Hub has no nested names)`,
    async start() {
      const PAT = 'dckr_pat_alice_5eCr3tV4lue0123456789';
      const fake = await startDockerHubFake({
        content: rename(benchContent(), (n) =>
          n === 'acme/platform/ingress-controller' ? 'acme/ingress-controller' : n,
        ),
        privateRepositories: ['acme/payments-api'],
        users: { alice: { password: 'alice-account-password', pats: [PAT], namespaces: ['acme'] } },
      });
      return {
        yaml: provider('docker-hub', {
          api_url: fake.registryUrl,
          hub_url: fake.hubUrl,
          username: 'alice',
          password: PAT,
          selectors: [sel('library'), sel('acme')],
        }),
        pulls: () => fake.pulls,
        // Retention reads every tag of the repository (max_tags: 0): 300 pulls, over a personal
        // account's 200 a window; the pass runs as a paid account, which has no pull limit.
        beforeApply: () => {
          fake.knobs.authenticatedPullLimit = Number.POSITIVE_INFINITY;
        },
        close: () => fake.close(),
      };
    },
    apply: { repository: BIG_REPOSITORY, images: BIG_TAGS },
  },
  {
    name: 'ECR',
    registryType: 'ecr',
    listingApi: true,
    content: SAMPLE,
    async start() {
      const fake = await startEcrFake({ repositories: benchContent() });
      const LISTING = new Set(['DescribeRepositories', 'DescribeImages']);
      return {
        yaml: provider('ecr', { api_url: fake.url, ecr_api_url: fake.url, selectors: [sel()] }),
        ambientEnv: {
          AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY,
          AWS_SECRET_ACCESS_KEY: FAKE_SECRET_KEY,
          AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN',
          AWS_REGION: 'eu-west-1',
        },
        sdkCalls: () => ({
          listing: fake.apiCalls.filter((c) => LISTING.has(c.op)).length,
          total: fake.apiCalls.length,
        }),
        close: () => fake.close(),
      };
    },
    apply: { repository: BIG_REPOSITORY, images: BIG_TAGS },
  },
  {
    name: 'GCR (gcr.io)',
    registryType: 'gcr',
    listingApi: true,
    content: `${SAMPLE}, under my-project/`,
    async start() {
      const fake = await startGcrFake({
        flavour: 'gcr',
        repos: rename(benchContent(), (n) => `my-project/${n}`),
      });
      return {
        yaml: provider('gcr', {
          api_url: fake.url,
          username: 'oauth2accesstoken',
          password: GOOGLE_ACCESS_TOKEN,
          selectors: [sel('^my-project$')],
        }),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Artifact Registry',
    registryType: 'gcr',
    listingApi: true,
    content: `${SAMPLE}, under my-project/containers/; tags/list pages of 100`,
    async start() {
      const fake = await startGcrFake({
        flavour: 'ar',
        repos: rename(benchContent(), (n) => `my-project/containers/${n}`),
        tagPageSize: 100,
      });
      return {
        yaml: provider('gcr', {
          api_url: fake.url,
          token: GOOGLE_ACCESS_TOKEN,
          selectors: [sel('^my-project$', '^containers/')],
        }),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'ACR',
    registryType: 'acr',
    listingApi: true,
    content: SAMPLE,
    async start() {
      const fake = await startAcrFake({ repos: benchContent() });
      return {
        yaml: provider('acr', { api_url: fake.url, ...ADMIN, selectors: [sel()] }),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'GHCR',
    registryType: 'ghcr',
    listingApi: true,
    content:
      'the fake’s fixed content: demo sample under acme-org/ and jdoe/ + acme-org/many-builds (250 tags)',
    async start() {
      const fake = await startGhcrFake();
      return {
        yaml: provider('ghcr', {
          api_url: fake.url,
          github_api_url: fake.apiUrl,
          token: GHCR_PAT,
          selectors: [sel(ORG), sel(GHCR_USER)],
        }),
        close: () => fake.close(),
      };
    },
    apply: { repository: GHCR_MANY, images: MANY_COUNT },
  },
  {
    name: 'Quay',
    registryType: 'quay',
    listingApi: true,
    content: SAMPLE,
    async start() {
      const OAUTH = 'q0AuthTok3nReaderAlice0123456789abcdef';
      const fake = await startQuayFake({
        repositories: benchContent(),
        publicRepositories: ['library/nginx', 'library/redis', 'acme/web-frontend', BIG_REPOSITORY],
        oauthTokens: {
          [OAUTH]: { user: 'alice', scopes: ['repo:read', 'user:read'], reads: ['acme', 'library'] },
        },
        robots: {},
      });
      return {
        yaml: provider('quay', { api_url: fake.url, token: OAUTH, selectors: [sel('library'), sel('acme')] }),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Harbor',
    registryType: 'harbor',
    listingApi: true,
    content: SAMPLE,
    async start() {
      const fake = await startHarborFake({
        repositories: benchContent(),
        accounts: { admin: { password: 'Harbor12345', projects: '*', sysadmin: true } },
        publicProjects: ['library'],
        deletes: 'enabled',
      });
      return {
        yaml: provider('harbor', {
          api_url: fake.url,
          username: 'admin',
          password: 'Harbor12345',
          selectors: [sel('^(library|acme)$')],
        }),
        close: () => fake.close(),
      };
    },
    apply: { repository: BIG_REPOSITORY, images: BIG_TAGS },
  },
  {
    name: 'Distribution (plain OCI)',
    registryType: 'private',
    listingApi: false,
    content: `${SAMPLE}; tags/list unpaged; DELETE enabled`,
    async start() {
      const fake = await startDemoRegistry(benchContent(), { deletes: 'enabled' });
      return {
        yaml: provider('private', { api_url: fake.url, selectors: [sel()] }),
        close: () => fake.close(),
      };
    },
    apply: { repository: BIG_REPOSITORY, images: BIG_TAGS },
  },
  {
    name: 'Nexus',
    registryType: 'nexus',
    listingApi: false,
    content: `${SAMPLE}; group repository, pages cut at 100`,
    async start() {
      const fake = await startNexusFake({ repositories: benchContent(), pageCap: 100, users: CI_USER });
      return {
        yaml: provider('nexus', {
          api_url: fake.apiUrl,
          username: 'ci',
          password: CI_USER.ci,
          selectors: [sel()],
        }),
        close: () => fake.close(),
      };
    },
  },
  {
    name: 'Artifactory',
    registryType: 'artifactory',
    listingApi: false,
    content: `${SAMPLE}; pages of up to 1000`,
    async start() {
      const fake = await startArtifactoryFake({ repositories: benchContent(), users: CI_USER });
      return {
        yaml: provider('artifactory', {
          api_url: fake.urls.docker,
          username: 'ci',
          password: CI_USER.ci,
          selectors: [sel()],
        }),
        close: () => fake.close(),
      };
    },
  },
];

export interface VendorRun {
  vendor: string;
  registryType: string;
  run: 'cold' | 'warm';
  complete: boolean;
  repositories: number;
  tagsListed: number;
  /** Repository-listing pages (the registry receipt's `pages`). */
  repositoryPages: number;
  /** The repository with the most tags: its name, tags and listing pages (its receipt's `pages`). */
  largest: { repository: string; tags: number; pages: number; per100: number };
  listing: number;
  total: number;
  manifestGets: number;
  manifestHeads: number;
  blobGets: number;
  /** Requests made outside the HttpClient (ECR SDK), included in listing/total. */
  sdk: number;
  /** Docker Hub: pulls the fake counted. */
  pulls?: number;
  wallMs: number;
  listingPer100: number;
  totalPer100: number;
  /**
   * ≤ 3 listing requests per 100 tags, measured on the largest repository (its tag pages per 100
   * tags, as the integration tests do); undefined where the vendor has no listing API.
   */
  listingTargetMet?: boolean;
  errors: string[];
}

/** One run of `yaml` as the bench makes them: a fixed time, the vendor's ambient, the state in stateDir. */
function discoverOnce(
  target: Target,
  yaml: string,
  stateDir: string,
  http: HttpClient,
  extra: Pick<RunOptions, 'applyRetention'> = {},
): Promise<RunResult> {
  const secrets = new Secrets();
  const settings = loadConfig(yaml, { env: target.env ?? {}, secrets, origin: 'bench/vendors.ts' });
  return runDiscovery(settings, {
    secrets,
    log: silentLog,
    http,
    generatedAt: '2025-01-01T00:00:00Z',
    stateDir,
    ambient: { env: target.ambientEnv ?? {} },
    ...extra,
  });
}

async function runOnce(
  vendor: Vendor,
  target: Target,
  stateDir: string,
  run: 'cold' | 'warm',
): Promise<VendorRun> {
  const agent = delayedAgent();
  const http = new HttpClient({ dispatcher: agent.composed });
  const sdkBefore = target.sdkCalls?.() ?? { listing: 0, total: 0 };
  const pullsBefore = target.pulls?.();
  const started = performance.now();
  try {
    const r = await discoverOnce(target, target.yaml, stateDir, http);
    const wallMs = performance.now() - started;
    const sdkAfter = target.sdkCalls?.() ?? { listing: 0, total: 0 };
    const sdk = { listing: sdkAfter.listing - sdkBefore.listing, total: sdkAfter.total - sdkBefore.total };
    const count = (k: string) => r.requests[k] ?? 0;
    const receipts = r.graph.receipts.filter((x) => x.repository !== '*');
    const registryReceipt = r.graph.receipts.find((x) => x.repository === '*');
    const big = receipts.reduce((a, x) => (x.tags_listed > a.tags_listed ? x : a), receipts[0]!);
    const largest = {
      repository: big.repository,
      tags: big.tags_listed,
      pages: big.pages,
      per100: big.tags_listed > 0 ? (big.pages / big.tags_listed) * 100 : Number.NaN,
    };
    const tagsListed = receipts.reduce((a, x) => a + (x.tags_listed ?? 0), 0);
    const listing = count('vendor-api') + count('tags') + count('catalog') + sdk.listing;
    const total = Object.values(r.requests).reduce((a, b) => a + b, 0) + sdk.total;
    const per100 = (n: number) => (tagsListed > 0 ? (n / tagsListed) * 100 : Number.NaN);
    const listingPer100 = per100(listing);
    return {
      vendor: vendor.name,
      registryType: vendor.registryType,
      run,
      complete: r.complete,
      repositories: receipts.length,
      tagsListed,
      repositoryPages: registryReceipt?.pages ?? 0,
      largest,
      listing,
      total,
      manifestGets: count('manifest'),
      manifestHeads: count('manifest-head'),
      blobGets: count('blob'),
      sdk: sdk.total,
      ...(pullsBefore !== undefined ? { pulls: target.pulls!() - pullsBefore } : {}),
      wallMs,
      listingPer100,
      totalPer100: per100(total),
      ...(vendor.listingApi ? { listingTargetMet: largest.per100 <= LISTING_TARGET } : {}),
      errors: receipts.flatMap((x) => x.errors),
    };
  } finally {
    await http.close();
    await agent.close();
  }
}

export interface ApplyRun {
  vendor: string;
  repository: string;
  /** Deletions the plan listed, and what became of them. */
  planned: number;
  counts: Record<'deleted' | 'refused' | 'failed' | 'skipped', number>;
  /** Tags that went with the deleted manifests. */
  tags: number;
  /** Requests the apply sent, auth included. */
  requests: number;
  /** The HttpClient's requests of the apply, by kind (ECR's AWS SDK calls are not among them). */
  byKind: Record<string, number>;
  perDeletion: number;
  errors: string[];
}

/**
 * Retention on the vendor's apply repository, applied: the same discovery as a run with
 * `retention-apply: true`, with every request the apply sent counted. `keep_newest` keeps all
 * but APPLY_DELETIONS images, so the plan deletes that many single-arch images.
 */
async function applyOnce(vendor: Vendor, target: Target, stateDir: string): Promise<ApplyRun> {
  const repository = vendor.apply!.repository;
  const slash = repository.indexOf('/');
  const literal = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const doc = parse(target.yaml) as { providers: Array<{ config: Record<string, unknown> }> };
  doc.providers[0]!.config.selectors = [
    {
      namespace_pattern: `^${literal(repository.slice(0, slash))}$`,
      repository_pattern: `^${literal(repository.slice(slash + 1))}$`,
      max_tags: 0,
      retention: { keep_newest: vendor.apply!.images - APPLY_DELETIONS },
    },
  ];
  target.beforeApply?.();
  const agent = delayedAgent();
  const http = new HttpClient({ dispatcher: agent.composed });
  try {
    const r = await discoverOnce(target, stringify(doc), stateDir, http, {
      applyRetention: { maxDeletions: APPLY_DELETIONS },
    });
    const applied = r.retention?.applied;
    const byKind: Record<string, number> = {};
    for (const [kind, n] of http.counts) {
      const during = n - (r.requests[kind] ?? 0);
      if (during > 0) byKind[kind] = during;
    }
    const deleted = applied?.journal.filter((e) => e.answer === 'deleted') ?? [];
    // The HttpClient's count, where the deletes went through it; ECR's go through the AWS SDK,
    // which only the journal counts.
    const sent = Object.values(byKind).reduce((n, v) => n + v, 0);
    const requests = sent > 0 ? sent : (applied?.journal.reduce((n, e) => n + e.requests, 0) ?? 0);
    r.graph.close();
    return {
      vendor: vendor.name,
      repository,
      planned: r.retention?.deletions ?? 0,
      counts: applied?.counts ?? { deleted: 0, refused: 0, failed: 0, skipped: 0 },
      tags: deleted.reduce((n, e) => n + e.tags.length, 0),
      requests,
      byKind,
      perDeletion: deleted.length > 0 ? requests / deleted.length : Number.NaN,
      errors: [
        ...r.graph.receipts.flatMap((x) => x.errors),
        ...(applied?.journal.filter((e) => e.answer !== 'deleted').map((e) => e.detail ?? e.answer) ?? []),
        ...(applied?.messages ?? []),
      ],
    };
  } finally {
    await http.close();
    await agent.close();
  }
}

/** The apply's delete requests: HttpClient deletes, or (ECR) the SDK calls the journal counts. */
function deleteRequests(a: ApplyRun): number {
  return Object.keys(a.byKind).length > 0 ? (a.byKind.delete ?? 0) : a.requests;
}

/** One per deletion; Docker Hub also one per tag, deleted through its Hub API first. */
function expectedDeletes(a: ApplyRun): number {
  return a.counts.deleted + (a.vendor === 'Docker Hub' ? a.tags : 0);
}

/** Requests beyond the deletes, by kind: the authentication a delete scope takes. */
function authCell(a: ApplyRun, deletes: number): string {
  const kinds = Object.entries(a.byKind).filter(([k]) => k !== 'delete');
  const detail = kinds.map(([k, v]) => `${k} ${v}`).join(', ');
  return `${a.requests - deletes}${detail ? ` (${detail})` : ''}`;
}

function applyMarkdown(applies: ApplyRun[]): string {
  const rows = [
    '| registry | repository | deleted / planned | tags gone | requests | delete requests | auth requests | requests per deletion |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const a of applies) {
    const deletes = deleteRequests(a);
    const cells = [
      a.vendor,
      a.repository,
      `${a.counts.deleted} / ${a.planned}`,
      String(a.tags),
      String(a.requests),
      String(deletes),
      authCell(a, deletes),
      a.perDeletion.toFixed(2),
    ];
    rows.push(`| ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

function markdown(runs: VendorRun[]): string {
  const rows = [
    '| registry | run | repos / tags listed | listing req. (per 100 tags) | largest repo: pages / tags (per 100) | total req. (per 100 tags) | manifest GETs | HEADs | blob GETs | wall | ≤ 3 listing / 100 tags |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of runs) {
    const target =
      r.listingTargetMet === undefined ? 'n/a (no listing API)' : r.listingTargetMet ? 'yes' : '**MISS**';
    const sdk = r.sdk > 0 ? '¹' : '';
    const pulls = r.pulls !== undefined ? ` (${r.pulls} pulls)` : '';
    const cells = [
      r.vendor,
      `${r.run}${r.complete ? '' : ' (INCOMPLETE)'}`,
      `${r.repositories} / ${r.tagsListed}`,
      `${r.listing}${sdk} (${r.listingPer100.toFixed(2)})`,
      `${r.largest.pages} / ${r.largest.tags} (${r.largest.per100.toFixed(2)})`,
      `${r.total}${sdk} (${r.totalPer100.toFixed(2)})`,
      `${r.manifestGets}${pulls}`,
      String(r.manifestHeads),
      String(r.blobGets),
      `${(r.wallMs / 1000).toFixed(2)} s`,
      target,
    ];
    rows.push(`| ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

export async function runVendors(argv: string[]): Promise<void> {
  let json = false;
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a !== '--vendors') throw new Error(`unknown argument ${a}; usage: vendors.ts [--json]`);
  }
  const progress = (m: string) => process.stderr.write(`bench:vendors: ${m}\n`);
  const work = await mkdtemp(join(tmpdir(), 'devgraph-bench-vendors-'));
  const runs: VendorRun[] = [];
  const applies: ApplyRun[] = [];
  try {
    for (const vendor of VENDORS) {
      const target = await vendor.start();
      try {
        const stateDir = join(work, vendor.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
        for (const run of ['cold', 'warm'] as const) {
          progress(`${vendor.name}: ${run}…`);
          runs.push(await runOnce(vendor, target, stateDir, run));
        }
        if (vendor.apply) {
          progress(`${vendor.name}: apply…`);
          applies.push(await applyOnce(vendor, target, stateDir));
        }
      } finally {
        await target.close();
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const hubWarm = runs.find((r) => r.registryType === 'docker-hub' && r.run === 'warm');
  const checks = [
    ...runs
      .filter((r) => r.listingTargetMet !== undefined)
      .map((r) => ({
        name: `${r.vendor} ${r.run}: listing requests per 100 tags (${r.largest.repository})`,
        ok: r.listingTargetMet!,
        detail: `${r.largest.per100.toFixed(2)} ≤ ${LISTING_TARGET}`,
      })),
    {
      name: 'Docker Hub warm: no manifest GET (pull quota)',
      ok: hubWarm !== undefined && hubWarm.manifestGets === 0 && (hubWarm.pulls ?? 0) === 0,
      detail: `${hubWarm?.manifestGets ?? '?'} manifest GETs, ${hubWarm?.pulls ?? '?'} pulls = 0`,
    },
    ...applies.map((a) => ({
      name: `${a.vendor} apply: ${APPLY_DELETIONS} deletions, one request each (Docker Hub: one per tag plus one) plus auth`,
      ok:
        a.counts.deleted === APPLY_DELETIONS &&
        a.errors.length === 0 &&
        deleteRequests(a) === expectedDeletes(a),
      detail: `${a.counts.deleted} deleted, ${deleteRequests(a)} delete requests (expected ${expectedDeletes(a)}), ${a.requests - deleteRequests(a)} auth${a.errors.length ? `; ${a.errors.slice(0, 3).join('; ')}` : ''}`,
    })),
    ...runs.map((r) => ({
      name: `${r.vendor} ${r.run}: complete`,
      ok: r.complete && r.errors.length === 0,
      detail: r.errors.length ? r.errors.slice(0, 3).join('; ') : 'every receipt complete',
    })),
  ];
  const failed = checks.filter((c) => !c.ok);
  const verdict = failed.length
    ? `FAIL: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`
    : `PASS: every vendor with a listing API ≤ ${LISTING_TARGET} listing requests per 100 tags of its largest repository, cold and warm; Docker Hub warm run 0 manifest GETs; apply one request per deletion plus auth (Docker Hub one per tag plus one)`;

  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          delayMs: DELAY_MS,
          maxTags: MAX_TAGS,
          listingTarget: LISTING_TARGET,
          content: Object.fromEntries(VENDORS.map((v) => [v.name, v.content])),
          runs,
          applies,
          checks,
          pass: failed.length === 0,
          verdict,
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  process.stdout.write(
    [
      '',
      `Vendor fakes, +${DELAY_MS} ms per HttpClient request, selectors max_tags: ${MAX_TAGS}; cold = empty state directory, warm = the state it left.`,
      'Listing requests = vendor API + tags/list + _catalog (+ ECR SDK DescribeRepositories/DescribeImages), over every repository:',
      'each repository costs at least one, so small repositories dominate the per-100 figure. The ≤ 3 target is checked on',
      'the largest repository: its listing pages (receipt `pages`) per 100 of its tags.',
      '',
      markdown(runs),
      '',
      '¹ ECR: includes the AWS SDK calls (DescribeRepositories, DescribeImages, GetAuthorizationToken) counted by the fake; they bypass the HttpClient and its 25 ms delay.',
      '',
      `Apply: retention keep_newest on one repository, all but ${APPLY_DELETIONS} of its single-arch images kept, applied as retention-apply does; requests from the journal (auth included).`,
      '',
      applyMarkdown(applies),
      '',
      ...VENDORS.map((v) => `- ${v.name}: ${v.content}`),
      '',
      verdict,
      '',
    ].join('\n'),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runVendors(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(
      `bench:vendors: crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  });
}
