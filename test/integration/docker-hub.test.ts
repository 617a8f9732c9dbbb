// Docker Hub against a fake of its three services (Hub API, token service, registry): the README
// example config, run as a user would, with each credential form, the failures users hit (wrong
// password, expired Hub JWT, Hub API 429s, the pull limit) and the request budget (Hub API pages
// per 100 tags, no pull quota spent on a warm run).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { HttpClient } from '../../src/http/http-client.js';
import type { Graph } from '../../src/model/graph.js';
import { HubApi } from '../../src/registries/docker-hub.js';
import type { Ambient } from '../../src/registries/registry-adapter.js';
import { Secrets } from '../../src/secrets.js';
import { comparableGraph } from '../support/comparable-graph.js';
import { discoverText } from '../support/discover-text.js';
import { type DockerHubFake, startDockerHubFake } from '../support/fakes/docker-hub-fake.js';
import { newestOfMany } from '../support/fakes/many-tags.js';

const EXAMPLE = readFileSync(join(import.meta.dirname, '../../examples/configs/docker-hub.yml'), 'utf8');
const PAT = 'dckr_pat_alice_5eCr3tV4lue0123456789';
const PASSWORD = 'alice-account-password';
const PAT_HINT = 'a Docker Hub personal access token (Account settings → Personal access tokens)';

let fake: DockerHubFake;
beforeAll(async () => {
  fake = await startDockerHubFake({
    privateRepositories: ['acme/payments-api'],
    users: { alice: { password: PASSWORD, pats: [PAT], namespaces: ['acme'] } },
  });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  Object.assign(fake.knobs, {
    legacyLoginOnly: false,
    jwtUses: undefined,
    hubThrottle: undefined,
    anonymousTagOffset: 1000,
    anonymousPullLimit: 100,
    authenticatedPullLimit: 200,
  });
  fake.knobs.undigested.clear();
});

interface RunSpec {
  /** username + PAT as password (default), as token, the account password, a wrong one, or none. */
  creds?: 'pat' | 'pat-as-token' | 'password' | 'wrong' | 'none' | 'token-only';
  selectors?: Array<Record<string, unknown>>;
  registryType?: 'docker-hub' | 'private';
  apiUrl?: string;
  maxPages?: number;
  /** supply_chain: off on Docker Hub unless asked for. */
  supplyChain?: boolean;
  stateDir?: string;
  ambient?: Ambient;
}

/** The README example with the fake's URLs, the credential form asked for and optional selectors. */
function configFor(spec: RunSpec): { text: string; env: Record<string, string> } {
  const doc = parse(EXAMPLE) as { providers: Array<{ config: Record<string, unknown> }> };
  const config = doc.providers[0]!.config;
  config.api_url = spec.apiUrl ?? fake.registryUrl;
  config.hub_url = fake.hubUrl;
  if (spec.registryType) config.registry_type = spec.registryType;
  if (spec.selectors) config.selectors = spec.selectors;
  if (spec.maxPages) config.max_pages = spec.maxPages;
  if (spec.supplyChain !== undefined) config.supply_chain = spec.supplyChain;
  const creds = spec.creds ?? 'pat';
  const env: Record<string, string> = { DOCKERHUB_USERNAME: 'alice', DOCKERHUB_TOKEN: PAT };
  if (creds === 'none' || creds === 'token-only') {
    delete config.username;
    delete config.password;
  }
  if (creds === 'token-only') config.token = '${DOCKERHUB_TOKEN}';
  if (creds === 'pat-as-token') {
    delete config.password;
    config.token = '${DOCKERHUB_TOKEN}';
  }
  if (creds === 'password') env.DOCKERHUB_TOKEN = PASSWORD;
  if (creds === 'wrong') env.DOCKERHUB_TOKEN = 'not-the-password';
  return { text: stringify(doc), env };
}

const ORIGIN = 'examples/configs/docker-hub.yml';

function settingsFor(spec: RunSpec, secrets: Secrets) {
  const { text, env } = configFor(spec);
  return loadConfig(text, { env, secrets, origin: ORIGIN });
}

async function discover(spec: RunSpec = {}) {
  const { text, env } = configFor(spec);
  return discoverText(text, { env, origin: ORIGIN, stateDir: spec.stateDir, ambient: spec.ambient });
}

const LIBRARY = [{ namespace_pattern: 'library', repository_pattern: '^(nginx|redis)$', max_tags: 2 }];
const hubHost = () => new URL(fake.hubUrl).host;
const receipt = (g: Graph, repo: string) => g.receipts.find((r) => r.repository === repo);
const repositories = (g: Graph) => g.receipts.map((r) => r.repository);
const manifestRequests = () => fake.registryRequests.filter((q) => q.kind === 'manifest');

describe('docker-hub: listing', () => {
  it('runs the README example anonymously: public repositories only, with the Hub facts', async () => {
    const r = await discover({ creds: 'none' });
    expect(r.complete).toBe(true);
    expect(repositories(r.graph.load())).toEqual([
      'acme/ingress-controller',
      'acme/legacy-batch',
      'acme/many-tags',
      'acme/web-frontend',
      'library/nginx',
      'library/redis',
    ]);
    expect(fake.logins).toEqual({ token: 0, legacy: 0 });
    expect(fake.hubRequests.every((q) => q.user === undefined)).toBe(true);
    const nginx = r.graph
      .load()
      .entities.find((e) => e.kind === 'DockerRepository' && e.spec.full_name === 'library/nginx');
    expect(nginx?.spec).toMatchObject({
      description: 'Official build of Nginx.',
      official: true,
      automated: false,
      star_count: 35,
      pull_count: 5000,
      last_updated: '2024-10-02T17:55:35Z',
    });
    const web = r.graph
      .load()
      .entities.find((e) => e.kind === 'DockerRepository' && e.spec.full_name === 'acme/web-frontend');
    expect(web?.spec.official).toBe(false);
    // Push times from the Hub reach the images.
    const image = r.graph.load().entities.find((e) => e.kind === 'DockerImage' && e.spec.tag === '1.27.2');
    expect(image?.spec.last_updated).toBe('2024-10-02T17:55:35Z');
  });

  it('lists every tag across pages of 100, newest first, and keeps the newest max_tags', async () => {
    const r = await discover({
      creds: 'none',
      selectors: [{ namespace_pattern: 'acme', repository_pattern: '^many-tags$', max_tags: 5 }],
    });
    const rc = receipt(r.graph.load(), 'acme/many-tags')!;
    expect(rc).toMatchObject({ complete: true, tags_listed: 250, tags_selected: 5, pages: 3 });
    const tagPages = fake.hubRequests.filter((q) => q.path.includes('/repositories/many-tags/tags'));
    expect(tagPages).toHaveLength(3);
    expect(tagPages[0]!.path).toContain('page_size=100');
    expect(tagPages[0]!.path).toContain('ordering=last_updated');
    // Listing requests per 100 tags: 3 pages for 250 tags.
    expect((tagPages.length / 250) * 100).toBeLessThanOrEqual(3);
    const kept = r.graph
      .load()
      .entities.filter((e) => e.kind === 'DockerImage')
      .map((e) => e.spec.tag);
    expect([...kept].sort()).toEqual(newestOfMany(250, 5).sort());
    // Digests from the Hub: no HEAD, no GET by tag; one GET per kept single-platform image.
    expect(manifestRequests().filter((q) => q.method === 'HEAD')).toEqual([]);
    expect(manifestRequests().filter((q) => !q.path.includes('sha256:'))).toEqual([]);
    expect(manifestRequests().filter((q) => q.method === 'GET')).toHaveLength(5);
  });

  it('marks a listing cut by max_pages incomplete', async () => {
    const r = await discover({
      creds: 'none',
      maxPages: 2,
      selectors: [{ namespace_pattern: 'acme', repository_pattern: '^many-tags$', max_tags: 1 }],
    });
    const rc = receipt(r.graph.load(), 'acme/many-tags')!;
    expect(rc.complete).toBe(false);
    expect(rc.errors).toContain(
      'tag listing: stopped after 2 pages (max_pages); raise max_pages to list everything',
    );
  });

  it('the Hub fast path and the plain OCI path give the same graph', async () => {
    fake.knobs.authenticatedPullLimit = 10_000;
    const plain: DemoRegistry = await startDemoRegistry(fake.content);
    try {
      const selectors = [{ namespace_pattern: 'acme' }, { namespace_pattern: 'library' }].map((s) => ({
        ...s,
        max_tags: 0,
      }));
      // The plain OCI path reads the supply chain by default; on the Hub it is asked for.
      const hub = await discover({ selectors, supplyChain: true });
      const oci = await discover({ selectors, registryType: 'private', apiUrl: plain.url, creds: 'none' });
      expect(hub.complete).toBe(true);
      expect(oci.complete).toBe(true);
      expect(repositories(hub.graph.load())).toEqual(repositories(oci.graph.load()));
      expect(comparableGraph(hub.graph.load())).toBe(comparableGraph(oci.graph.load()));
    } finally {
      await plain.close();
    }
  });

  it('resolves a tag the Hub lists without a digest with a HEAD (no pull), and still agrees', async () => {
    const plain: DemoRegistry = await startDemoRegistry(fake.content);
    try {
      const oci = await discover({
        selectors: LIBRARY,
        registryType: 'private',
        apiUrl: plain.url,
        creds: 'none',
      });
      fake.knobs.undigested.add('library/redis:7.4.1');
      const r = await discover({ creds: 'none', selectors: LIBRARY, supplyChain: true });
      expect(r.complete).toBe(true);
      const byTag = manifestRequests().filter((q) => !q.path.includes('sha256:'));
      expect(byTag.map((q) => `${q.method} ${q.path}`)).toEqual(['HEAD /v2/library/redis/manifests/7.4.1']);
      expect(comparableGraph(r.graph.load())).toBe(comparableGraph(oci.graph.load()));
    } finally {
      await plain.close();
    }
  });

  it('refuses a namespace pattern it cannot enumerate, with the fix', async () => {
    const r = await discover({ creds: 'none', selectors: [{ namespace_pattern: '.*' }] });
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      'cannot list repositories: Docker Hub cannot list every namespace: selector namespace_pattern ".*" must name one (e.g. "library" for official images)',
    );
  });

  it('says when a namespace does not exist', async () => {
    const r = await discover({ creds: 'none', selectors: [{ namespace_pattern: 'nosuchorg' }] });
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: Docker Hub has no namespace "nosuchorg" (HTTP 404 from ${hubHost()}/v2/namespaces/nosuchorg/repositories)`,
    );
  });
});

describe('docker-hub: credentials', () => {
  it('with a PAT (via /v2/auth/token) sees the private repository and never shows a secret', async () => {
    const r = await discover();
    expect(r.complete).toBe(true);
    expect(repositories(r.graph.load())).toContain('acme/payments-api');
    expect(receipt(r.graph.load(), 'acme/payments-api')).toMatchObject({ complete: true, tags_selected: 5 });
    expect(fake.logins).toEqual({ token: 1, legacy: 0 });
    expect(fake.hubRequests.filter((q) => q.method === 'GET').every((q) => q.user === 'alice')).toBe(true);
    // The registry token service got Basic alice:PAT and granted the private repository.
    expect(
      fake.tokenRequests.some(
        (t) => t.user === 'alice' && t.scopes[0] === 'repository:acme/payments-api:pull',
      ),
    ).toBe(true);
    const out = `${r.summary}\n${JSON.stringify(r.graph)}`;
    expect(out).not.toContain(PAT);
    // The minted Hub JWT is registered as a secret the moment it arrives.
    expect(fake.issuedJwts).toHaveLength(1);
    expect(r.secrets.redact(`x ${fake.issuedJwts[0]} y`)).toBe('x *** y');
  });

  it('uses the login docker/login-action left in Docker config.json when the config has none', async () => {
    const auth = Buffer.from(`alice:${PAT}`).toString('base64');
    const r = await discover({
      creds: 'none',
      selectors: [{ namespace_pattern: 'acme', max_tags: 1 }],
      ambient: {
        env: {},
        dockerConfig: {
          path: '/home/runner/.docker/config.json',
          text: JSON.stringify({ auths: { [new URL(fake.registryUrl).host]: { auth } } }),
        },
      },
    });
    expect(r.complete).toBe(true);
    expect(repositories(r.graph.load())).toContain('acme/payments-api');
    expect(fake.logins.token).toBe(1);
  });

  it('renews the Hub JWT before it runs out, without waiting for a 401', async () => {
    const secrets = new Secrets();
    const settings = settingsFor({}, secrets).providers[0]!;
    const http = new HttpClient();
    let clock = Date.now();
    const hub = new HubApi(settings, http, secrets, { username: 'alice', secret: PAT }, () => clock);
    const url = `${fake.hubUrl}/v2/namespaces/acme/repositories?page_size=100`;
    try {
      await hub.get(url, 'namespace acme');
      clock += 5 * 60_000;
      await hub.get(url, 'namespace acme');
      expect(fake.logins.token).toBe(1);
      // 30 s before the 10-minute token ends: a new one, not a request that would fail.
      clock += 4.5 * 60_000;
      await hub.get(url, 'namespace acme');
      expect(fake.logins.token).toBe(2);
      expect(fake.hubRequests.filter((q) => q.status === 401)).toEqual([]);
    } finally {
      await http.close();
    }
  });

  it('the private repository stays invisible anonymously', async () => {
    const r = await discover({ creds: 'none', selectors: [{ namespace_pattern: 'acme' }] });
    expect(repositories(r.graph.load())).not.toContain('acme/payments-api');
    expect(fake.tokenRequests.some((t) => t.scopes.includes('repository:acme/payments-api:pull'))).toBe(
      false,
    );
  });

  it('accepts the PAT as `token` next to username, like a password', async () => {
    const r = await discover({
      creds: 'pat-as-token',
      selectors: [{ namespace_pattern: 'acme', max_tags: 1 }],
    });
    expect(r.complete).toBe(true);
    expect(repositories(r.graph.load())).toContain('acme/payments-api');
    expect(fake.logins.token).toBe(1);
  });

  it('falls back to the deprecated /v2/users/login when /v2/auth/token answers 404', async () => {
    fake.knobs.legacyLoginOnly = true;
    const r = await discover({ creds: 'password', selectors: [{ namespace_pattern: 'acme', max_tags: 1 }] });
    expect(r.complete).toBe(true);
    expect(repositories(r.graph.load())).toContain('acme/payments-api');
    expect(fake.logins).toEqual({ token: 0, legacy: 1 });
    expect(r.summary).toContain(
      'Docker Hub API: /v2/auth/token is not available here; logged in with the deprecated /v2/users/login.',
    );
    expect(r.summary).not.toContain(PASSWORD);
  });

  it('says which login failed and how to fix it for a wrong password', async () => {
    const r = await discover({ creds: 'wrong' });
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: Docker Hub login failed for user "alice" (HTTP 401 from ${hubHost()}/v2/auth/token: Incorrect authentication credentials); check username and password (${PAT_HINT}; with SSO enforced a password no longer works)`,
    );
    expect(r.summary).not.toContain('not-the-password');
  });

  it('refuses a token without username before any request', async () => {
    const r = await discover({ creds: 'token-only' });
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      'cannot reach the registry: Docker Hub needs username together with the token: set username to the Docker Hub account the personal access token belongs to',
    );
    expect(fake.hubRequests).toEqual([]);
  });

  it('logs in once more when the Hub rejects an expired JWT, then succeeds', async () => {
    fake.knobs.jwtUses = 2;
    const r = await discover({ selectors: LIBRARY });
    expect(r.complete).toBe(true);
    expect(fake.logins.token).toBe(2);
    expect(fake.hubRequests.filter((q) => q.status === 401)).toHaveLength(1);
    expect(r.summary).toContain('Docker Hub API: logged in 2 times (the login token expired mid-run).');
  });

  it('explains the anonymous paging limit and that a login lifts it', async () => {
    fake.knobs.anonymousTagOffset = 100;
    const selectors = [{ namespace_pattern: 'acme', repository_pattern: '^many-tags$', max_tags: 1 }];
    const anon = await discover({ creds: 'none', selectors });
    expect(receipt(anon.graph.load(), 'acme/many-tags')!.errors).toEqual([
      `cannot list tags: Docker Hub refuses to page further anonymously listing the tags of acme/many-tags (HTTP 403: pagination offset too large for anonymous requests; sign in to page further); set username and password (${PAT_HINT}) to list everything`,
    ]);
    const authed = await discover({ selectors });
    expect(receipt(authed.graph.load(), 'acme/many-tags')).toMatchObject({
      complete: true,
      tags_listed: 250,
    });
  });
});

describe('docker-hub: rate limits', () => {
  it('waits for a short X-Retry-After on the Hub API and goes on', async () => {
    fake.knobs.hubThrottle = { count: 1, retryAfterSeconds: 2 };
    const r = await discover({ creds: 'none', selectors: LIBRARY });
    expect(r.complete).toBe(true);
    expect(r.waits).toHaveLength(1);
    expect(r.waits[0]).toBeGreaterThan(500);
    expect(r.waits[0]).toBeLessThanOrEqual(2000);
  });

  it('reports a long X-Retry-After on the Hub API instead of waiting', async () => {
    fake.knobs.hubThrottle = { count: 1, retryAfterSeconds: 3600 };
    const r = await discover({ creds: 'none', selectors: LIBRARY });
    expect(r.waits).toEqual([]);
    expect(r.graph.receipts[0]!.errors[0]).toMatch(
      new RegExp(
        `^cannot list repositories: Docker Hub API rate limit reached listing namespace library \\(HTTP 429 from ${hubHost()}/v2/namespaces/library/repositories\\); it asks to wait until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(in about 60 min\\): run again after that$`,
      ),
    );
  });

  it('retries a bare 429 (no Retry-After) with backoff, and gives a clear message when it persists', async () => {
    fake.knobs.hubThrottle = { count: 1 };
    const once = await discover({ creds: 'none', selectors: LIBRARY });
    expect(once.complete).toBe(true);
    expect(once.retries).toBe(1);

    fake.knobs.hubThrottle = { count: 100 };
    const always = await discover({ creds: 'none', selectors: LIBRARY });
    expect(always.graph.receipts[0]!.errors[0]).toBe(
      `cannot list repositories: Docker Hub API kept answering HTTP 429 (too many requests) listing namespace library (${hubHost()}/v2/namespaces/library/repositories), retries included; run again later or lower concurrency`,
    );
  });

  it('shows the pull quota left in the summary', async () => {
    const r = await discover({ creds: 'none', selectors: LIBRARY });
    expect(fake.pulls).toBeGreaterThan(0);
    expect(r.summary).toContain(
      `docker-hub: Docker Hub pull quota: ${100 - fake.pulls} of 100 left per 6 h window; ${fake.pulls} manifest GETs (pulls) this run.`,
    );
    expect(r.summary).toContain('docker-hub: Docker Hub API: ');
    // The quota's source (an IP address or account id) stays out of the summary.
    expect(r.summary).not.toContain('127.0.0.1');
  });

  it('names the pull limit and the fix when it is reached, without retrying', async () => {
    fake.knobs.anonymousPullLimit = 2;
    const r = await discover({ creds: 'none', selectors: LIBRARY });
    expect(r.complete).toBe(false);
    expect(r.retries).toBe(0);
    // Nothing was still asking, or retrying, when the run returned: the close found nothing to wait for.
    expect({ retries: r.http.retries, counts: Object.fromEntries(r.http.counts) }).toEqual({
      retries: 0,
      counts: r.counts,
    });
    const errors = r.graph.receipts.flatMap((x) => x.errors);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(
      /^[^:]+: Docker Hub pull rate limit reached \(0 of 2 left per 6 h window\) reading library\/(nginx|redis)@sha256:[a-f0-9]{64}; anonymous pulls are counted per IP address: authenticate with a Docker Hub personal access token \(Account settings → Personal access tokens\) \(username \+ password in the config\) or wait for the window to pass$/,
    );
    expect(r.summary).toContain('Docker Hub pull rate limit reached: some manifests could not be read;');
  });

  it('a warm run (state directory) makes no manifest GET, so spends no pull quota', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'hub-state-'));
    try {
      const cold = await discover({ creds: 'none', selectors: LIBRARY, stateDir });
      const kept = cold.graph.load().entities.filter((e) => e.kind === 'DockerManifest').length;
      expect(manifestRequests().filter((q) => q.method === 'GET')).toHaveLength(kept);
      expect(manifestRequests().filter((q) => q.method === 'HEAD')).toEqual([]);
      const coldPulls = fake.pulls;
      expect(coldPulls).toBe(kept);

      fake.registryRequests.length = 0;
      const warm = await discover({ creds: 'none', selectors: LIBRARY, stateDir });
      expect(manifestRequests()).toEqual([]);
      expect(fake.pulls).toBe(coldPulls);
      expect(comparableGraph(warm.graph.load())).toBe(comparableGraph(cold.graph.load()));
      // Per repository, the warm run costs one Hub API tag page and nothing on the registry.
      expect(warm.graph.receipts.map((x) => x.requests)).toEqual([1, 1]);
      expect(warm.summary).not.toContain('pull quota');
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
