// GHCR: packages and versions from the GitHub Packages API (fake api.github.com), images from the
// registry (fake ghcr.io behind its token service). The GITHUB_TOKEN's limits, the fallbacks they
// force, the rate-limit budget and the usual auth failures are each exercised against the fake.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { HttpClient } from '../../src/http/http-client.js';
import { Revalidator, type StoredPages } from '../../src/http/revalidation.js';
import type { Log } from '../../src/log.js';
import { silentLog } from '../../src/log.js';
import { openAdapter } from '../../src/registries/open-adapter.js';
import type { Ambient } from '../../src/registries/registry-adapter.js';
import { Secrets } from '../../src/secrets.js';
import { comparableGraph } from '../support/comparable-graph.js';
import { discoverText as discoverWith } from '../support/discover-text.js';
import {
  buildNumber,
  type GhcrFake,
  type GhcrFakeOptions,
  GITHUB_TOKEN,
  MANY,
  MANY_COUNT,
  ORG,
  PAT,
  startGhcrFake,
  USER,
} from '../support/fakes/ghcr-fake.js';
import { runRetention, untaggedRepository } from '../support/untagged-content.js';

let fake: GhcrFake;
beforeAll(async () => {
  fake = await startGhcrFake();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const WORKFLOW_ENV = {
  GITHUB_REPOSITORY: `${ORG}/web-frontend`,
  GITHUB_REPOSITORY_OWNER: ORG,
  GITHUB_ACTOR: 'octocat',
};
const SOME = '^(nginx|redis|payments-api|platform/ingress-controller|web-frontend)$';

interface RunOpts {
  type?: string;
  credentials?: string;
  selectors: string;
  ambient?: Ambient;
  env?: Record<string, string>;
}

function providerYaml(o: RunOpts, at: GhcrFake = fake): string {
  return `providers:
  - name: ghcr
    type: docker
    config:
      registry_type: ${o.type ?? 'ghcr'}
      api_url: ${at.url}
      github_api_url: ${at.apiUrl}
${o.credentials ? `      ${o.credentials}\n` : ''}      selectors:
${o.selectors}`;
}

function selector(ns: string, repo: string, maxTags = 2): string {
  return `        - namespace_pattern: "${ns}"
          repository_pattern: "${repo}"
          max_tags: ${maxTags}
`;
}

async function discoverText(
  text: string,
  o: { ambient?: Ambient; env?: Record<string, string>; stateDir?: string } = {},
) {
  const warnings: string[] = [];
  const log: Log = { info() {}, debug() {}, warn: (m) => void warnings.push(m) };
  const r = await discoverWith(text, { ...o, log });
  return { ...r, warnings };
}

const discover = (o: RunOpts) => discoverText(providerYaml(o), o);

const receipts = (r: Awaited<ReturnType<typeof discover>>) =>
  r.graph.receipts.map((x) => [x.repository, x.complete, x.tags_listed, x.tags_selected]);

const manifestGetsByTag = () =>
  fake.registry.requests.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:'));

describe('ghcr with a classic PAT', () => {
  it('lists the packages of an organisation and a user across REST pages (the README example)', async () => {
    const pageFake = await startGhcrFake({ restPageSize: 2 });
    try {
      const doc = parse(await readFile(new URL('../../examples/configs/ghcr.yml', import.meta.url), 'utf8'));
      const config = doc.providers[0].config;
      expect(config.api_url).toBe('https://ghcr.io');
      expect(config.github_api_url).toBe('https://api.github.com');
      config.api_url = pageFake.url;
      config.github_api_url = pageFake.apiUrl;
      const r = await discoverText(stringify(doc), { env: { GHCR_PAT: PAT } });
      expect(r.complete).toBe(true);
      expect(receipts(r)).toEqual([
        [`${ORG}/many-builds`, true, MANY_COUNT, 5],
        [`${ORG}/nginx`, true, 7, 5],
        [`${ORG}/payments-api`, true, 8, 5],
        [`${ORG}/platform/ingress-controller`, true, 4, 4],
        [`${ORG}/redis`, true, 8, 5],
        [`${ORG}/web-frontend`, true, 4, 4],
        ['jdoe/legacy-batch', true, 3, 3],
      ]);
      const paths = pageFake.apiRequests.map((q) => q.path.split('?')[0]);
      // 6 packages of acme-org at 2 per page; jdoe is a user: 404 as an organisation first.
      expect(paths.filter((p) => p === `/orgs/${ORG}/packages`)).toHaveLength(3);
      expect(paths.filter((p) => p === '/orgs/jdoe/packages')).toHaveLength(1);
      expect(paths.filter((p) => p === '/users/jdoe/packages')).toHaveLength(1);
      // Nested package names are URL-encoded; versions are paged too (nginx: 3 tagged + 12 untagged).
      expect(paths).toContain(`/orgs/${ORG}/packages/container/platform%2Fingress-controller/versions`);
      expect(paths.filter((p) => p === `/orgs/${ORG}/packages/container/nginx/versions`)).toHaveLength(8);
      // Digests come from the API: no tags/list, no HEAD, no manifest GET by tag.
      expect(pageFake.registry.requests.filter((q) => q.kind === 'tags' || q.method === 'HEAD')).toEqual([]);
      expect(
        pageFake.registry.requests.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:')),
      ).toEqual([]);
      expect(r.counts['vendor-api']).toBe(pageFake.apiRequests.length);
      expect(r.summary).toMatch(
        new RegExp(
          `GitHub API: ${pageFake.apiRequests.length} requests spent, ${5000 - pageFake.apiRequests.length} of 5000 left \\(resets 12:00 UTC\\)`,
        ),
      );
      expect(r.summary).not.toContain(PAT);
      expect(r.warnings).toEqual([]);
    } finally {
      await pageFake.close();
    }
  });

  it('keeps the newest tags by push time (created_at), fetching manifests only for them; ≤ 3 listing requests per 100 tags', async () => {
    const r = await discover({ credentials: `token: ${PAT}`, selectors: selector(ORG, '^many-builds$', 3) });
    expect(r.complete).toBe(true);
    const images = r.graph
      .load()
      .entities.filter((e) => e.kind === 'DockerImage')
      .map((e) => e.spec.tag);
    expect(images).toEqual([
      buildNumber(MANY_COUNT - 2),
      buildNumber(MANY_COUNT - 1),
      buildNumber(MANY_COUNT),
    ]);
    const receipt = r.graph.receipts.find((x) => x.repository === MANY)!;
    const versionPages = fake.apiRequests.filter((q) => q.path.includes('/many-builds/versions')).length;
    expect(versionPages).toBe(3);
    expect(receipt.pages).toBe(3);
    expect((versionPages / MANY_COUNT) * 100).toBeLessThanOrEqual(3);
    // One token, then each kept image's manifest, config and referrers (GHCR answers the referrers
    // API with an empty index), and the run's one question whether the API exists; nothing per
    // other tag.
    expect(fake.registry.requests.map((q) => q.kind).sort()).toEqual([
      'blob',
      'blob',
      'blob',
      'manifest',
      'manifest',
      'manifest',
      'referrers',
      'referrers',
      'referrers',
      'referrers',
    ]);
    // Listing pages, manifests, configs, referrers, and one GitHub attestations lookup per image.
    expect(receipt.requests).toBe(3 + 3 + 3 + 3 + 3);
    expect(manifestGetsByTag()).toEqual([]);
  });

  it('a warm run revalidates the package pages with their ETags: 304s, free of the rate limit, same graph', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'dg-ghcr-state-'));
    try {
      const text = providerYaml({ credentials: `token: ${PAT}`, selectors: selector(ORG, SOME, 2) });
      const cold = await discoverText(text, { stateDir });
      // Listing pages; attestation lookups are kept in the state for a day, not revalidated.
      const coldPages = fake.apiRequests.filter((q) => !q.path.includes('/attestations/')).length;
      fake.reset();
      const warm = await discoverText(text, { stateDir });
      expect(fake.apiRequests.map((q) => q.status)).toEqual(Array(coldPages).fill(304));
      // Referrers answers are listings too, revalidated the same way (a 401 is the token challenge
      // of a scope not yet asked for, answered before the request is sent again). The run's one
      // question whether the API exists goes to whichever repository comes first, so it is asked
      // afresh.
      const probe = `/referrers/sha256:${'0'.repeat(64)}`;
      const referrers = fake.registry.requests.filter(
        (q) => q.kind === 'referrers' && q.status !== 401 && !q.path.endsWith(probe),
      );
      expect(referrers.length).toBeGreaterThan(0);
      expect(referrers.every((q) => q.status === 304)).toBe(true);
      expect(fake.registry.requests.filter((q) => q.path.endsWith(probe) && q.status !== 401)).toHaveLength(
        1,
      );
      const revalidated = coldPages + referrers.length;
      expect(warm.summary).toContain(
        `${revalidated} of ${revalidated} listing pages unchanged (304 Not Modified)`,
      );
      // The warm run's listing took nothing from the hourly budget.
      const left = (summary: string) => /(\d+) of 5000 left/.exec(summary)?.[1];
      // (reset() refilled the fake's budget between the runs, and a cold run spends from it.)
      expect(left(cold.summary)).not.toBe('5000');
      expect(left(warm.summary)).toBe('5000');
      expect(warm.graph.entities).toEqual(cold.graph.entities);
      expect(warm.graph.relations).toEqual(cold.graph.relations);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('gives the same graph as the plain OCI path with the same credentials', async () => {
    const vendor = await discover({ credentials: `token: ${PAT}`, selectors: selector(ORG, SOME, 0) });
    fake.reset();
    fake.allowCatalog = true;
    const oci = await discover({
      type: 'private',
      credentials: `username: octocat\n      password: ${PAT}`,
      selectors: selector(ORG, SOME, 0),
    });
    expect(vendor.complete).toBe(true);
    expect(oci.complete).toBe(true);
    expect(comparableGraph(vendor.graph.load())).toBe(comparableGraph(oci.graph.load()));
    // Push times only come from the API.
    const images = vendor.graph.load().entities.filter((e) => e.kind === 'DockerImage');
    expect(images.every((e) => typeof e.spec.last_updated === 'string')).toBe(true);
  });

  it('trades an expired registry token for a new one and carries on', async () => {
    fake.expireTokensAfter(2);
    const r = await discover({ credentials: `token: ${PAT}`, selectors: selector(ORG, '^nginx$', 2) });
    expect(r.complete).toBe(true);
    expect(fake.denials.filter((d) => d.reason === 'expired token').length).toBeGreaterThan(0);
    const scopes = fake.tokenRequests.map((t) => t.scope);
    expect(scopes.filter((s) => s === `repository:${ORG}/nginx:pull`).length).toBeGreaterThan(1);
    expect(fake.tokenRequests.every((t) => t.auth === 'basic' && t.status === 200)).toBe(true);
  });

  it('says the token is wrong, naming the credential and the fix', async () => {
    const r = await discover({
      credentials: 'token: ghp_wrong0000000000000000000000',
      selectors: selector(ORG, SOME),
    });
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: GitHub API ${new URL(fake.apiUrl).host} rejected the token (HTTP 401: Bad credentials) listing the packages of acme-org; credential used: username "x-access-token" with a password from the config; use a valid token: the workflow's GITHUB_TOKEN or a classic PAT with read:packages`,
    );
    expect(r.summary).not.toContain('ghp_wrong0000000000000000000000');
  });
});

describe('ghcr owners', () => {
  it('asks for an owner when a namespace pattern names none and there is no workflow repository', async () => {
    const r = await discover({ credentials: `token: ${PAT}`, selectors: selector('acme-.*', '.*') });
    expect(r.graph.receipts[0]!.errors).toEqual([
      'cannot list repositories: GHCR cannot list every owner: selector namespace_pattern "acme-.*" must name a user or organisation (e.g. "my-org"); in a workflow, a pattern matching the repository owner lists that owner',
    ]);
    expect(fake.apiRequests).toEqual([]);
  });
});

describe("ghcr with the workflow's GITHUB_TOKEN", () => {
  const ambient: Ambient = { env: WORKFLOW_ENV, githubToken: GITHUB_TOKEN };

  it('falls back to the packages the selectors name when the organisation cannot be listed, in one line', async () => {
    const r = await discover({ selectors: selector(ORG, '^(nginx|redis|web-frontend)$'), ambient });
    expect(fake.apiRequests[0]).toMatchObject({
      path: expect.stringMatching(/^\/orgs\/acme-org\/packages\?/),
      status: 400,
    });
    expect(r.complete).toBe(true);
    expect(receipts(r)).toEqual([
      [`${ORG}/nginx`, true, 7, 2],
      [`${ORG}/redis`, true, 8, 2],
      [`${ORG}/web-frontend`, true, 4, 2],
    ]);
    expect(r.warnings).toEqual([
      'ghcr: GitHub API cannot list the packages of acme-org (HTTP 400 "Invalid argument.": a workflow\'s GITHUB_TOKEN cannot list an organisation\'s packages); discovering only acme-org/nginx, acme-org/redis, acme-org/web-frontend (named by the selectors); to list every package, use a classic PAT with read:packages',
    ]);
    // web-frontend is the workflow repository's package: its versions are readable. nginx and
    // redis are public but not the workflow's: the registry lists them, HEAD resolves the tags.
    const versions = fake.apiRequests.filter((q) => q.path.includes('/versions'));
    expect(versions.map((q) => [q.path.split('?')[0], q.status])).toEqual(
      expect.arrayContaining([
        [`/orgs/${ORG}/packages/container/web-frontend/versions`, 200],
        [`/orgs/${ORG}/packages/container/nginx/versions`, 404],
      ]),
    );
    expect(
      fake.registry.requests.some((q) => q.kind === 'tags' && q.path.startsWith(`/v2/${ORG}/nginx/`)),
    ).toBe(true);
    expect(
      fake.registry.requests.some((q) => q.kind === 'tags' && q.path.startsWith(`/v2/${ORG}/web-frontend/`)),
    ).toBe(false);
    expect(r.summary).toContain(
      'GitHub API: versions not readable for acme-org/nginx (HTTP 404 "Not Found")',
    );
    expect(r.summary).toMatch(/GitHub API: \d+ requests spent, \d+ of 1000 left \(resets 12:00 UTC\)/);
    expect(fake.tokenRequests.every((t) => t.auth === 'basic')).toBe(true);
  });

  it("adds the workflow repository's package when the selectors name none, and marks the listing incomplete", async () => {
    const r = await discover({ selectors: selector('.*', '.*'), ambient });
    expect(receipts(r)).toEqual([
      ['*', false, 0, 0],
      [`${ORG}/web-frontend`, true, 4, 2],
    ]);
    expect(r.graph.receipts[0]!.errors).toEqual([
      'repository listing: GitHub API cannot list the packages of acme-org (HTTP 400 "Invalid argument.": a workflow\'s GITHUB_TOKEN cannot list an organisation\'s packages); discovering only acme-org/web-frontend (the workflow repository); to list every package, use a classic PAT with read:packages',
    ]);
    expect(r.warnings).toHaveLength(1);
  });

  // re.match reads "ap" as "any name starting with ap": without the listing no package can be
  // named from it, and a made-up acme-org/ap would be uploaded as a repository that is not there.
  it('makes no repository of a prefix pattern, and says how to name packages or list them', async () => {
    const r = await discover({ selectors: selector(ORG, 'ap'), ambient });
    const entities = r.graph.load().entities;
    expect(entities.filter((e) => e.kind === 'DockerRepository')).toEqual([]);
    expect(receipts(r)).toEqual([['*', false, 0, 0]]);
    expect(r.complete).toBe(false);
    const line =
      'GitHub API cannot list the packages of acme-org (HTTP 400 "Invalid argument.": a workflow\'s GITHUB_TOKEN cannot list an organisation\'s packages); no repository can be discovered; repository_pattern "ap" names no repository without a listing (it also matches every longer name that starts with it); write "^ap$" to name ap alone; to list every package, use a classic PAT with read:packages';
    expect(r.graph.receipts[0]!.errors).toEqual([`repository listing: ${line}`]);
    expect(r.warnings).toEqual([`ghcr: ${line}`]);
    expect(fake.registry.requests.filter((q) => q.path.includes(`/${ORG}/ap/`))).toEqual([]);
  });

  it('reads a bare dot as any character: the workflow package it matches is found, no other is made up', async () => {
    const r = await discover({ selectors: selector(ORG, '^web.frontend$'), ambient });
    expect(receipts(r)).toEqual([
      ['*', false, 0, 0],
      [`${ORG}/web-frontend`, true, 4, 2],
    ]);
    expect(r.warnings).toEqual([
      'ghcr: GitHub API cannot list the packages of acme-org (HTTP 400 "Invalid argument.": a workflow\'s GITHUB_TOKEN cannot list an organisation\'s packages); discovering only acme-org/web-frontend (the workflow repository); repository_pattern "^web.frontend$" names no repository without a listing ("." matches any character); write "^web\\\\.frontend$" to name web.frontend alone; to list every package, use a classic PAT with read:packages',
    ]);
  });

  it('discovers the exact names beside a prefix, and the workflow package the prefix matches', async () => {
    const r = await discover({
      selectors: selector(ORG, '^(nginx|redis)$') + selector(ORG, '(web|api)'),
      ambient,
    });
    expect(
      r.graph
        .load()
        .entities.filter((e) => e.kind === 'DockerRepository')
        .map((e) => e.spec.full_name),
    ).toEqual([`${ORG}/nginx`, `${ORG}/redis`, `${ORG}/web-frontend`]);
    expect(receipts(r)).toEqual([
      ['*', false, 0, 0],
      [`${ORG}/nginx`, true, 7, 2],
      [`${ORG}/redis`, true, 8, 2],
      [`${ORG}/web-frontend`, true, 4, 2],
    ]);
    expect(r.warnings).toEqual([
      'ghcr: GitHub API cannot list the packages of acme-org (HTTP 400 "Invalid argument.": a workflow\'s GITHUB_TOKEN cannot list an organisation\'s packages); discovering only acme-org/nginx, acme-org/redis (named by the selectors) and acme-org/web-frontend (the workflow repository); repository_pattern "(web|api)" names no repository without a listing (it also matches every longer name that starts with one of its names); write "^(api|web)$" to name api, web alone; to list every package, use a classic PAT with read:packages',
    ]);
  });
});

describe('ghcr anonymous', () => {
  it('discovers public packages through the registry alone', async () => {
    const r = await discover({ selectors: selector(ORG, '^(nginx|redis)$') });
    expect(r.complete).toBe(true);
    expect(receipts(r)).toEqual([
      [`${ORG}/nginx`, true, 7, 2],
      [`${ORG}/redis`, true, 8, 2],
    ]);
    expect(fake.apiRequests).toEqual([]);
    expect(fake.tokenRequests.every((t) => t.auth === 'anonymous')).toBe(true);
    expect(r.warnings[0]).toContain('no GitHub token');
    expect(r.warnings[0]).toContain(
      'pass a token (github-token / GITHUB_TOKEN, or a classic PAT with read:packages)',
    );
  });

  it('says a private package needs credentials (GHCR denies without a challenge)', async () => {
    const r = await discover({ selectors: selector(ORG, '^payments-api$') });
    const receipt = r.graph.receipts.find((x) => x.repository === `${ORG}/payments-api`)!;
    expect(receipt.complete).toBe(false);
    expect(receipt.errors[0]).toBe(
      `cannot list tags: registry ${fake.registry.host} denied access to repository:acme-org/payments-api:pull (HTTP 403: DENIED requested access to the resource is denied); credential used: no credentials (anonymous); this registry needs credentials: set username/password or token`,
    );
  });
});

describe('ghcr and the GitHub API budget', () => {
  it('reports an exhausted rate limit with its reset time and falls back to the registry', async () => {
    fake.setRemaining(PAT, 0);
    const r = await discover({ credentials: `token: ${PAT}`, selectors: selector(ORG, '^(nginx|redis)$') });
    expect(r.complete).toBe(true);
    expect(receipts(r)).toEqual([
      [`${ORG}/nginx`, true, 7, 2],
      [`${ORG}/redis`, true, 8, 2],
    ]);
    expect(fake.apiRequests).toHaveLength(1);
    expect(r.summary).toContain(
      'ghcr: GitHub API rate limit reached (HTTP 403 "API rate limit exceeded for user ID 1."; 0 of 5000 left; resets 12:00 UTC); later repositories were listed through the registry',
    );
    expect(r.warnings).toEqual([
      'ghcr: GitHub API rate limit reached (HTTP 403 "API rate limit exceeded for user ID 1."; 0 of 5000 left; resets 12:00 UTC); the remaining repositories are listed through the registry (tags/list + HEAD per tag)',
      'ghcr: GitHub API cannot list the packages of acme-org (the GitHub API rate limit is reached); discovering only acme-org/nginx, acme-org/redis (named by the selectors); run again after the rate limit resets',
    ]);
    expect(r.summary).toContain('GitHub API: 1 request spent, 0 of 5000 left (resets 12:00 UTC)');
  });

  it('stops using the API when little budget is left and lists the rest through the registry', async () => {
    fake.setRemaining(PAT, 50);
    const r = await discover({ credentials: `token: ${PAT}`, selectors: selector(ORG, SOME) });
    expect(r.complete).toBe(true);
    // 50 → 49 after the package listing: below the floor, so every repository's tags come from
    // tags/list and the API budget is left to other jobs on the token.
    expect(fake.apiRequests.length).toBe(1);
    expect(fake.registry.requests.filter((q) => q.kind === 'tags').length).toBeGreaterThanOrEqual(5);
    expect(r.summary).toMatch(/only 49 of 5000 GitHub API requests left \(resets 12:00 UTC\)/);
    expect(r.summary).toContain('GitHub API: 1 request spent, 49 of 5000 left (resets 12:00 UTC)');
  });

  it('waits as Retry-After asks on a 429, and backs off on a bare 429', async () => {
    fake.failNext({ status: 429, headers: { 'retry-after': '7' } }, { status: 429 });
    const r = await discover({ credentials: `token: ${PAT}`, selectors: selector(ORG, '^nginx$') });
    expect(r.complete).toBe(true);
    expect(r.waits[0]).toBe(7000);
    expect(r.waits[1]).toBeLessThan(7000);
    expect(fake.apiRequests.slice(0, 3).map((q) => q.status)).toEqual([429, 429, 200]);
    // The listing's four, and the two kept images' attestation lookups.
    expect(r.summary).toContain('GitHub API: 6 requests spent');
  });

  it('names the rate limit when 429s do not stop, and still discovers through the registry', async () => {
    fake.failNext(...Array.from({ length: 4 }, () => ({ status: 429 })));
    const r = await discover({ credentials: `token: ${PAT}`, selectors: selector(ORG, '^nginx$') });
    expect(receipts(r)).toEqual([[`${ORG}/nginx`, true, 7, 2]]);
    expect(r.summary).toContain(
      'GitHub API rate limit reached (HTTP 429 "You have exceeded a secondary rate limit."; 4996 of 5000 left; resets 12:00 UTC)',
    );
  });
});

describe('GitHub attestations API (vendorAttestations)', () => {
  const SUBJECT = `sha256:${'a'.repeat(64)}`;
  const OTHER = `sha256:${'b'.repeat(64)}`;
  const SLSA = 'https://slsa.dev/provenance/v1';
  const SPDX = 'https://spdx.dev/Document/v2.3';
  const stored: GhcrFakeOptions['attestations'] = [
    { owner: ORG, digest: SUBJECT, predicateType: SLSA, image: 'web-frontend' },
    { owner: ORG, digest: SUBJECT, predicateType: SPDX, image: 'web-frontend' },
    { owner: ORG, digest: SUBJECT, predicateType: SLSA, image: 'web-frontend' },
    { owner: USER, digest: OTHER, predicateType: SLSA, image: 'legacy-batch' },
  ];

  /** The real GHCR adapter over a fake holding `stored`, REST pages of two. */
  async function open(
    credentials: string,
    extra: GhcrFakeOptions = {},
    env: Record<string, string> = {},
    warm?: { pages: StoredPages; fake: GhcrFake },
  ) {
    const own = warm?.fake ?? (await startGhcrFake({ restPageSize: 2, attestations: stored, ...extra }));
    const pages = warm?.pages ?? {};
    const secrets = new Secrets();
    const text = `providers:
  - name: ghcr
    type: docker
    config:
      registry_type: ghcr
      api_url: ${own.url}
      github_api_url: ${own.apiUrl}
      ${credentials}
      selectors:
        - namespace_pattern: "${ORG}"
`;
    const settings = loadConfig(text, { env: {}, secrets, origin: 'test' });
    const http = new HttpClient({ sleep: async () => {} });
    const revalidator = new Revalidator(pages);
    http.revalidator = revalidator;
    const adapter = await openAdapter({
      settings: settings.providers[0]!,
      http,
      secrets,
      log: silentLog,
      ambient: { env, ...(credentials ? {} : { githubToken: GITHUB_TOKEN }) },
    });
    const attestationCalls = () => own.apiRequests.filter((q) => q.path.includes('/attestations/'));
    return {
      fake: own,
      adapter,
      revalidator,
      attestationCalls,
      close: async () => {
        await http.close();
        if (!warm) await own.close();
      },
    };
  }

  it('reads the predicate types of every page, and an empty list from a 404', async () => {
    const o = await open(`token: ${PAT}`);
    try {
      const tally = { requests: 0 };
      const found = await o.adapter.vendorAttestations!(`${ORG}/web-frontend`, SUBJECT, tally);
      expect(found).toEqual({ source: 'GitHub attestations API', predicateTypes: [SPDX, SLSA].sort() });
      // Three attestations at two a page: two pages, followed by the cursor GitHub's Link names.
      expect(o.attestationCalls().map((q) => [q.path, q.status])).toEqual([
        [`/orgs/${ORG}/attestations/${encodeURIComponent(SUBJECT)}?per_page=100`, 200],
        [
          expect.stringMatching(new RegExp(`^/orgs/${ORG}/attestations/sha256%3Aa{64}\\?per_page=2&after=`)),
          200,
        ],
      ]);
      expect(tally.requests).toBe(2);
      // The organisation is known now: a digest without attestations costs one request.
      const none = await o.adapter.vendorAttestations!(`${ORG}/web-frontend`, OTHER, tally);
      expect(none).toEqual({ source: 'GitHub attestations API', predicateTypes: [] });
      expect(
        o
          .attestationCalls()
          .slice(2)
          .map((q) => q.status),
      ).toEqual([404]);
      expect(tally.requests).toBe(3);
      expect(o.adapter.notes()).toContain(
        'GitHub attestations API: 2 image digests looked up, 1 with attestations',
      );
    } finally {
      await o.close();
    }
  });

  it('revalidates stored pages with their ETags on a warm run: 304s, same types', async () => {
    const cold = await open(`token: ${PAT}`);
    try {
      await cold.adapter.vendorAttestations!(`${ORG}/web-frontend`, SUBJECT, { requests: 0 });
      const warm = await open(`token: ${PAT}`, {}, {}, { pages: cold.revalidator.pages(), fake: cold.fake });
      try {
        const found = await warm.adapter.vendorAttestations!(`${ORG}/web-frontend`, SUBJECT, {
          requests: 0,
        });
        expect(found?.predicateTypes).toEqual([SPDX, SLSA].sort());
        expect(warm.attestationCalls().map((q) => q.status)).toEqual([200, 200, 304, 304]);
        expect(warm.revalidator.notModified).toBe(2);
      } finally {
        await warm.close();
      }
    } finally {
      await cold.close();
    }
  });

  it("asks a user's store when the owner is not an organisation", async () => {
    const o = await open(`token: ${PAT}`);
    try {
      const found = await o.adapter.vendorAttestations!(`${USER}/legacy-batch`, OTHER, { requests: 0 });
      expect(found?.predicateTypes).toEqual([SLSA]);
      expect(o.attestationCalls().map((q) => [q.path.split('?')[0], q.status])).toEqual([
        [`/orgs/${USER}/attestations/${encodeURIComponent(OTHER)}`, 404],
        [`/users/${USER}/attestations/${encodeURIComponent(OTHER)}`, 200],
      ]);
    } finally {
      await o.close();
    }
  });

  it('asks once when the token may not read attestations, and says so in one note', async () => {
    const o = await open('', {}, WORKFLOW_ENV);
    try {
      const tally = { requests: 0 };
      expect(await o.adapter.vendorAttestations!(`${ORG}/web-frontend`, SUBJECT, tally)).toBeUndefined();
      expect(await o.adapter.vendorAttestations!(`${ORG}/web-frontend`, OTHER, tally)).toBeUndefined();
      expect(await o.adapter.vendorAttestations!(`${ORG}/payments-api`, SUBJECT, tally)).toBeUndefined();
      expect(o.attestationCalls().map((q) => q.status)).toEqual([403]);
      const notes = o.adapter.notes().filter((n) => n.startsWith('GitHub attestations API'));
      expect(notes).toEqual([
        `GitHub attestations API: the token may not read the attestations of ${ORG} (HTTP 403 "Resource not accessible by integration"); their images were not checked against GitHub's attestation store; give a fine-grained token or the workflow's GITHUB_TOKEN attestations: read (in a workflow: permissions: attestations: read)`,
        'GitHub attestations API: not asked for 3 image digests (the token may not read them)',
      ]);
    } finally {
      await o.close();
    }
  });

  it('reads them with a GITHUB_TOKEN granted attestations: read', async () => {
    const o = await open('', { githubTokenAttestations: true }, WORKFLOW_ENV);
    try {
      const found = await o.adapter.vendorAttestations!(`${ORG}/web-frontend`, SUBJECT, { requests: 0 });
      expect(found?.predicateTypes).toEqual([SPDX, SLSA].sort());
    } finally {
      await o.close();
    }
  });

  it('makes a server failure an error for that image, not a refusal of the token', async () => {
    const o = await open(`token: ${PAT}`);
    try {
      const fail = { status: 502, body: { message: 'Server Error' } };
      o.fake.failNext(fail, fail, fail, fail);
      await expect(
        o.adapter.vendorAttestations!(`${ORG}/web-frontend`, SUBJECT, { requests: 0 }),
      ).rejects.toThrow(`HTTP 502 "Server Error" reading the attestations of ${ORG}/web-frontend@${SUBJECT}`);
      // The next image is asked as usual.
      const found = await o.adapter.vendorAttestations!(`${ORG}/web-frontend`, SUBJECT, { requests: 0 });
      expect(found?.predicateTypes).toEqual([SPDX, SLSA].sort());
      expect(o.adapter.notes().some((n) => n.includes('may not read'))).toBe(false);
    } finally {
      await o.close();
    }
  });

  it('an image the store could not be asked about has no sbom or provenance false: unknown, unless the registry shows one', async () => {
    const flags = async (granted: boolean) => {
      const own = await startGhcrFake({ attestations: stored, githubTokenAttestations: granted });
      try {
        const r = await discoverText(providerYaml({ selectors: selector(ORG, '^web-frontend$', 0) }, own), {
          ambient: { env: WORKFLOW_ENV, githubToken: GITHUB_TOKEN },
        });
        return r.graph
          .load()
          .entities.filter((e) => e.kind === 'DockerImage')
          .map((e) => ({
            tag: e.spec.tag,
            signed: e.spec.signed,
            sbom: e.spec.sbom,
            provenance: e.spec.provenance,
          }));
      } finally {
        await own.close();
      }
    };
    const asked = await flags(true);
    const refused = await flags(false);
    expect(asked.length).toBeGreaterThan(0);
    for (const image of asked)
      expect(typeof image.sbom === 'boolean' && typeof image.provenance === 'boolean').toBe(true);
    expect(asked.some((image) => image.provenance === false)).toBe(true);
    // Refused: what the registry shows stays true, what only GitHub's store could say is left
    // out, never written false.
    const unknownUnlessFound = (v: unknown) => (v === true ? true : undefined);
    expect(refused).toEqual(
      asked.map((image) => ({
        tag: image.tag,
        signed: image.signed,
        sbom: unknownUnlessFound(image.sbom),
        provenance: unknownUnlessFound(image.provenance),
      })),
    );
  });

  it('keeps the rest of the budget for other jobs', async () => {
    const o = await open(`token: ${PAT}`, { restPageSize: 100 });
    try {
      o.fake.setRemaining(PAT, 10);
      const first = await o.adapter.vendorAttestations!(`${ORG}/web-frontend`, SUBJECT, { requests: 0 });
      // The answer that reported the low budget is still used; nothing is asked after it.
      expect(first?.predicateTypes).toEqual([SPDX, SLSA].sort());
      expect(o.attestationCalls()).toHaveLength(1);
      expect(
        await o.adapter.vendorAttestations!(`${ORG}/web-frontend`, OTHER, { requests: 0 }),
      ).toBeUndefined();
      expect(o.attestationCalls()).toHaveLength(1);
      expect(o.adapter.notes()).toContain(
        'GitHub attestations API: not asked for 1 image digests (the GitHub API rate limit is reached)',
      );
    } finally {
      await o.close();
    }
  });
});

describe('ghcr untagged versions and untagged_older_than', () => {
  const name = `${ORG}/untagged`;
  const repo = untaggedRepository(name);
  let own: GhcrFake;
  beforeAll(async () => {
    own = await startGhcrFake({ extraRepositories: [repo.content] });
  });
  afterAll(async () => {
    await own.close();
  });

  const run = (apply: boolean) =>
    runRetention(
      providerYaml(
        {
          credentials: `token: ${PAT}`,
          selectors: `${selector(`^${ORG}$`, '^untagged$', 0)}          retention: { untagged_older_than: 7d }\n`,
        },
        own,
      ),
      apply,
    );

  it("plans the old untagged versions, not the young one nor the kept index's platforms, and deletes them by version id", async () => {
    const first = await run(true);
    const plan = first.retention!.plans.find((p) => p.repository === name)!;
    // The old single build, the old index and its two platform images: all untagged versions.
    expect(plan.deletions.map((d) => d.digest).sort()).toEqual(repo.oldDigests);
    expect(plan.deletions.every((d) => d.cause === 'untagged' && d.tags.length === 0)).toBe(true);
    expect(plan.deletions.find((d) => d.digest === repo.oldImage.manifest.digest)!.reason).toBe(
      'untagged_older_than 7d: untagged, 61 days old',
    );
    // The tagged v2 index stays, so its old untagged platform and attestation versions stay too.
    const keptChildren = [...repo.kept.children, ...repo.kept.attestationImages].map(
      (c) => c.manifest.digest,
    );
    expect(plan.protected.map((p) => [p.digest, p.why.map((w) => w.by)]).sort()).toEqual(
      keptChildren.map((d) => [d, ['kept_index']]).sort(),
    );
    expect(JSON.stringify(plan)).not.toContain(repo.youngImage.manifest.digest);
    const applied = first.retention!.applied!;
    expect(applied.journal.map((e) => [e.digest, e.answer]).sort()).toEqual(
      repo.oldDigests.map((d) => [d, 'deleted']),
    );
    // One version delete each; the version ids came from the listing discovery read.
    const deletes = own.apiRequests.filter((q) => q.method === 'DELETE');
    expect(deletes.map((q) => q.status)).toEqual(Array(repo.oldDigests.length).fill(204));
    expect(applied.journal.every((e) => e.requests === 1)).toBe(true);

    own.reset();
    const second = await run(false);
    const again = second.retention!.plans.find((p) => p.repository === name)!;
    expect(again.deletions).toEqual([]);
    expect(again.protected).toHaveLength(keptChildren.length);
    const images = second.graph.load().entities.filter((e) => e.kind === 'DockerImage');
    expect(images.map((e) => e.spec.tag).sort()).toEqual(['latest', 'v2', 'v3']);
  });
});
