// Canary credentials through every path the two shells have: distinctive values stand in for the
// registry password, a registry token, a minted Bearer token, a docker config.json login, a
// Docker Hub PAT, the Devgraph token, the GitHub token and the Actions runtime token. The runs
// cover success, each way authentication fails, registry faults (5xx burst, 429, HTML and broken
// JSON answered 200, a redirect to another host), debug logging on, the Actions cache, the
// artifact, the PR comment and the Devgraph upload. Afterwards nothing a run produced may hold a
// canary, raw or base64-encoded: stdout/stderr, every file under the run's directories, what was
// handed to the cache and the artifact, and every request the Devgraph and GitHub fakes received
// (their Authorization header aside, which must carry the token).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DemoRegistry, parseRegistryPath, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { runActionInProcess } from '../support/action-in-process.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import type { ActionsCacheFake } from '../support/fakes/actions-cache-fake.js';
import { createActionsCacheFake } from '../support/fakes/actions-cache-fake.js';
import { type DevgraphFake, startDevgraphFake } from '../support/fakes/devgraph-fake.js';
import { type DockerHubFake, startDockerHubFake } from '../support/fakes/docker-hub-fake.js';
import { type GitHubCommentsFake, startGitHubCommentsFake } from '../support/fakes/github-comments-fake.js';

// The action reaches the cache service and the artifact service through these two libraries;
// standing in for them here runs the action's own code paths (state-cache.ts, graph-artifact.ts)
// and keeps what they were handed, so it can be searched too.
const services = vi.hoisted(() => ({
  cache: undefined as ActionsCacheFake | undefined,
  artifacts: [] as Array<{ name: string; files: Map<string, string> }>,
}));
vi.mock('@actions/cache', () => ({
  isFeatureAvailable: () => services.cache?.isFeatureAvailable() ?? false,
  restoreCache: (paths: string[], key: string, restoreKeys?: string[]) =>
    services.cache!.restoreCache(paths, key, restoreKeys),
  saveCache: (paths: string[], key: string) => services.cache!.saveCache(paths, key),
}));
vi.mock('@actions/artifact', () => ({
  DefaultArtifactClient: class {
    async uploadArtifact(name: string, files: string[], rootDirectory: string) {
      const { readFile: read } = await import('node:fs/promises');
      const { relative: rel } = await import('node:path');
      const contents = new Map<string, string>();
      for (const f of files) contents.set(rel(rootDirectory, f), await read(f, 'utf8'));
      services.artifacts.push({ name, files: contents });
      return { id: services.artifacts.length, size: 1 };
    }
  },
}));

const USER = 'ci';
const CFG_USER = 'cfguser';
const HUB_USER = 'hubuser';
const PASSWORD = 'CANARY-pw-7f3a9e';
const WRONG_PASSWORD = 'CANARY-wrongpw-51c0d8';
const REGISTRY_TOKEN = 'CANARY-regtoken-a83f20';
const MINTED = 'CANARY-bearer-4d9e1b';
const DOCKER_CONFIG_PASSWORD = 'CANARY-dockercfg-0b7c44';
const URL_PASSWORD = 'CANARY-urlpw-c5e217';
const HUB_PAT = 'CANARY-hubpat-90d1f3';
const DEVGRAPH_TOKEN = 'CANARY-devgraph-e21f9a';
const GITHUB_TOKEN = 'CANARY-github-6a0d3c';
const RUNTIME_TOKEN = 'CANARY-runtime-3e8b57';
const CANARIES = [
  PASSWORD,
  WRONG_PASSWORD,
  REGISTRY_TOKEN,
  MINTED,
  DOCKER_CONFIG_PASSWORD,
  URL_PASSWORD,
  HUB_PAT,
  DEVGRAPH_TOKEN,
  GITHUB_TOKEN,
  RUNTIME_TOKEN,
];
const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const basic = (user: string, secret: string) => `Basic ${b64(`${user}:${secret}`)}`;

/** Every form a canary could leak in: raw, base64 (plain, URL-safe, as `user:secret`). */
function forbiddenForms(extra: string[] = []): Map<string, string> {
  const forms = new Map<string, string>();
  for (const c of [...CANARIES, ...extra]) {
    forms.set(c, c);
    forms.set(b64(c), `base64(${c})`);
    forms.set(b64url(c), `base64url(${c})`);
    forms.set(encodeURIComponent(c), `urlencoded(${c})`);
    for (const user of [USER, CFG_USER, HUB_USER]) forms.set(b64(`${user}:${c}`), `base64(${user}:${c})`);
  }
  return forms;
}

/** Where each forbidden form was found; the word CANARY alone catches a canary cut short or re-cased. */
function leaks(where: Record<string, string>, extra: string[] = []): string[] {
  const forms = forbiddenForms(extra);
  const found: string[] = [];
  for (const [place, text] of Object.entries(where)) {
    if (/canary/i.test(text)) found.push(`${place}: "${excerpt(text, text.search(/canary/i))}"`);
    for (const [form, label] of forms) if (text.includes(form)) found.push(`${place}: ${label}`);
  }
  return [...new Set(found)];
}

function excerpt(text: string, at: number): string {
  return text.slice(Math.max(0, at - 60), at + 60).replace(/\n/g, '\\n');
}

// ---------------------------------------------------------------------------------------------
// A registry whose authentication and faults a scenario sets: the demo registry's content behind
// a Basic or Bearer challenge, a token server on another origin minting MINTED, and a "storage"
// origin that redirected blob downloads land on.

interface Behaviour {
  auth: 'basic' | 'bearer';
  tokenRefuses: boolean;
  /** A repository whose requests answer 403 DENIED even with a valid token. */
  denyRepository?: string;
  /** The catalog answers 401 insufficient_scope to the valid token. */
  denyCatalog: boolean;
  fault?:
    | 'burst-500'
    | 'throttle-429'
    | 'html-200'
    | 'invalid-json-catalog'
    | 'invalid-json-manifest'
    | 'redirect';
}

const calm = (): Behaviour => ({ auth: 'bearer', tokenRefuses: false, denyCatalog: false });

interface CanaryRegistry {
  url: string;
  host: string;
  behaviour: Behaviour;
  /** Headers the storage origin received: no credential may ever arrive there. */
  storageHeaders: Array<Record<string, string | string[] | undefined>>;
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(bytes.length),
    ...headers,
  });
  res.end(bytes);
}

/** A registry error body that repeats the request's Authorization header, as a careless proxy might. */
function echoError(code: string, message: string, req: IncomingMessage) {
  return {
    errors: [
      { code, message: `${message} (request had Authorization: ${req.headers.authorization ?? 'none'})` },
    ],
  };
}

async function startCanaryRegistry(): Promise<CanaryRegistry> {
  const behaviour = calm();
  const storageHeaders: CanaryRegistry['storageHeaders'] = [];
  let burst = 0;
  let catalogThrottled = 0;

  const tokenServer = createServer((req, res) => {
    const sent = req.headers.authorization;
    const known = sent === basic(USER, PASSWORD) || sent === basic(CFG_USER, DOCKER_CONFIG_PASSWORD);
    if (behaviour.tokenRefuses || !known)
      return json(res, 401, { details: `incorrect username or password; you sent ${sent ?? 'nothing'}` });
    json(res, 200, {
      token: MINTED,
      access_token: MINTED,
      expires_in: 300,
      issued_at: new Date().toISOString(),
    });
  });
  const tokenUrl = await listen(tokenServer);

  let registryUrl = '';
  const storage = createServer((req, res) => {
    storageHeaders.push({ ...req.headers });
    const [, name, digest] = /^\/storage\/([^/]+)\/([^/?]+)/.exec(req.url ?? '') ?? [];
    if (!name || !digest) return json(res, 404, { message: 'no such object' });
    // The storage origin serves the bytes it was pointed at; it fetches them itself, out of band.
    fetch(`${registryUrl}/v2/${decodeURIComponent(name)}/blobs/${digest}`, {
      headers: { authorization: `Bearer ${MINTED}`, 'x-storage-fetch': '1' },
    })
      .then(async (r) => {
        const bytes = Buffer.from(await r.arrayBuffer());
        res.writeHead(r.status, {
          'content-type': 'application/octet-stream',
          'content-length': String(bytes.length),
        });
        res.end(bytes);
      })
      .catch(() => json(res, 502, { message: 'storage failed' }));
  });
  const storageUrl = await listen(storage);

  const intercept = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://registry.invalid');
    if (!url.pathname.startsWith('/v2')) return false;
    const route = parseRegistryPath(url.pathname);
    const catalog = url.pathname === '/v2/_catalog';
    const scope = catalog ? 'registry:catalog:*' : route.name ? `repository:${route.name}:pull` : undefined;
    const sent = req.headers.authorization ?? '';
    const valid =
      behaviour.auth === 'basic'
        ? sent === basic(USER, PASSWORD) || sent === basic(CFG_USER, DOCKER_CONFIG_PASSWORD)
        : sent === `Bearer ${MINTED}` || sent === `Bearer ${REGISTRY_TOKEN}`;
    if (!valid) {
      const challenge =
        behaviour.auth === 'basic'
          ? 'Basic realm="canary"'
          : `Bearer realm="${tokenUrl}/token",service="canary-registry"${scope ? `,scope="${scope}"` : ''}`;
      json(res, 401, echoError('UNAUTHORIZED', 'authentication required', req), {
        'www-authenticate': challenge,
      });
      return true;
    }
    if (req.headers['x-storage-fetch']) return false;
    if (catalog && behaviour.denyCatalog) {
      json(res, 401, echoError('UNAUTHORIZED', 'insufficient scope', req), {
        'www-authenticate': `Bearer realm="${tokenUrl}/token",service="canary-registry",scope="registry:catalog:*",error="insufficient_scope"`,
      });
      return true;
    }
    if (route.name && route.name === behaviour.denyRepository) {
      json(res, 403, echoError('DENIED', 'requested access to the resource is denied', req));
      return true;
    }
    const echoPage = `<!doctype html><html><body><h1>Oops</h1><pre>Authorization: ${sent}</pre></body></html>`;
    switch (behaviour.fault) {
      case 'burst-500':
        // A short burst (a client may retry through it) and one request that keeps failing.
        if (
          (route.kind === 'manifest' && burst < 6) ||
          (route.kind === 'tags' && route.name === 'library/redis')
        ) {
          burst++;
          res.writeHead(500, { 'content-type': 'text/html' });
          res.end(echoPage);
          return true;
        }
        break;
      case 'throttle-429':
        if (catalog && catalogThrottled < 2) {
          catalogThrottled++;
          json(res, 429, echoError('TOOMANYREQUESTS', 'slow down', req), { 'retry-after': '0' });
          return true;
        }
        // Longer than the client waits: reported at once, the repository incomplete.
        if (route.kind === 'tags' && route.name === 'acme/payments-api') {
          json(res, 429, echoError('TOOMANYREQUESTS', 'slow down', req), { 'retry-after': '3600' });
          return true;
        }
        break;
      case 'html-200':
        if (route.kind === 'tags' && route.name === 'library/nginx') {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(echoPage);
          return true;
        }
        break;
      case 'invalid-json-catalog':
        if (catalog) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(`{"repositories":["library/nginx","${sent}`);
          return true;
        }
        break;
      case 'invalid-json-manifest':
        if (route.kind === 'manifest' && route.name === 'library/redis' && route.reference === 'latest') {
          res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
          res.end(`{"schemaVersion":2,"manifests":[{"auth":"${sent}"`);
          return true;
        }
        break;
      case 'redirect':
        if (route.kind === 'blob' && req.method === 'GET') {
          res.writeHead(307, {
            location: `${storageUrl}/storage/${encodeURIComponent(route.name!)}/${route.reference}?X-Amz-Signature=0a1b2c`,
          });
          res.end();
          return true;
        }
        break;
    }
    return false;
  };

  const registry: DemoRegistry = await startDemoRegistry(sampleRepositories(), { intercept });
  registryUrl = registry.url;
  return {
    url: registry.url,
    host: registry.host,
    behaviour,
    storageHeaders,
    reset(next: Partial<Behaviour>) {
      Object.assign(behaviour, calm(), { denyRepository: undefined, fault: undefined }, next);
      burst = 0;
      catalogThrottled = 0;
    },
    close: async () => {
      await registry.close();
      await closeServer(tokenServer);
      await closeServer(storage);
    },
  } as CanaryRegistry & { reset(next: Partial<Behaviour>): void };
}

// ---------------------------------------------------------------------------------------------

type Credentials =
  | 'password'
  | 'wrong-password'
  | 'token'
  | 'docker-config'
  | 'url-userinfo'
  | 'hub-pat'
  | 'hub-wrong';

interface Scenario {
  name: string;
  credentials: Credentials;
  behaviour?: Partial<Behaviour>;
  /** complete = every receipt complete; incomplete = the run goes on and says what it missed; config = it cannot start. */
  outcome: 'complete' | 'incomplete' | 'config';
  /** What a config error says. */
  message?: string;
}

const SCENARIOS: Scenario[] = [
  { name: 'bearer token minted by the token server', credentials: 'password', outcome: 'complete' },
  { name: 'basic auth', credentials: 'password', behaviour: { auth: 'basic' }, outcome: 'complete' },
  { name: 'registry token sent as Bearer', credentials: 'token', outcome: 'complete' },
  { name: 'docker config.json login', credentials: 'docker-config', outcome: 'complete' },
  { name: 'Docker Hub PAT (vendor fake, Hub JWTs)', credentials: 'hub-pat', outcome: 'complete' },
  {
    name: 'wrong password, basic (401)',
    credentials: 'wrong-password',
    behaviour: { auth: 'basic' },
    outcome: 'incomplete',
  },
  { name: 'wrong password, token server (401)', credentials: 'wrong-password', outcome: 'incomplete' },
  {
    name: 'token endpoint refusing',
    credentials: 'password',
    behaviour: { tokenRefuses: true },
    outcome: 'incomplete',
  },
  {
    name: 'repository scope denied (403)',
    credentials: 'password',
    behaviour: { denyRepository: 'acme/payments-api' },
    outcome: 'incomplete',
  },
  {
    name: 'catalog scope denied (insufficient_scope)',
    credentials: 'password',
    behaviour: { denyCatalog: true },
    outcome: 'incomplete',
  },
  { name: 'wrong Docker Hub PAT', credentials: 'hub-wrong', outcome: 'incomplete' },
  { name: '500 burst', credentials: 'password', behaviour: { fault: 'burst-500' }, outcome: 'incomplete' },
  {
    name: '429 with Retry-After',
    credentials: 'password',
    behaviour: { fault: 'throttle-429' },
    outcome: 'incomplete',
  },
  {
    name: 'HTML answered 200',
    credentials: 'password',
    behaviour: { fault: 'html-200' },
    outcome: 'incomplete',
  },
  {
    name: 'invalid JSON catalog',
    credentials: 'password',
    behaviour: { fault: 'invalid-json-catalog' },
    outcome: 'incomplete',
  },
  {
    name: 'invalid JSON manifest',
    credentials: 'password',
    behaviour: { fault: 'invalid-json-manifest' },
    outcome: 'incomplete',
  },
  {
    name: 'blob redirect to another host',
    credentials: 'password',
    behaviour: { fault: 'redirect' },
    outcome: 'complete',
  },
  {
    name: 'credentials inside api_url',
    credentials: 'url-userinfo',
    outcome: 'config',
    message: 'api_url: must not contain a username or password (value not shown)',
  },
  {
    name: 'config error next to a password',
    credentials: 'password',
    outcome: 'config',
    message: 'selector: unknown key',
  },
];

let root: string;
let inputs: string;
let registry: CanaryRegistry & { reset(next: Partial<Behaviour>): void };
let hub: DockerHubFake;
let devgraph: DevgraphFake;
let comments: GitHubCommentsFake;
let runCounter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dg-secrets-'));
  inputs = await mkdtemp(join(tmpdir(), 'dg-secrets-in-'));
  registry = (await startCanaryRegistry()) as typeof registry;
  hub = await startDockerHubFake({
    privateRepositories: ['acme/payments-api'],
    users: { [HUB_USER]: { pats: [HUB_PAT], namespaces: ['acme'] } },
  });
  devgraph = await startDevgraphFake({ token: DEVGRAPH_TOKEN, environment: 'env-1' });
  comments = await startGitHubCommentsFake({
    owner: 'acme-org',
    repo: 'platform',
    pulls: [7],
    token: GITHUB_TOKEN,
  });
  services.cache = createActionsCacheFake();
  // docker/login-action's file: the only place DOCKER_CONFIG_PASSWORD is written.
  await mkdir(join(inputs, 'docker'), { recursive: true });
  await writeFile(
    join(inputs, 'docker', 'config.json'),
    JSON.stringify({ auths: { [registry.host]: { auth: b64(`${CFG_USER}:${DOCKER_CONFIG_PASSWORD}`) } } }),
  );
  await writeFile(join(inputs, 'event.json'), JSON.stringify({ pull_request: { number: 7 } }));
});

afterAll(async () => {
  await registry.close();
  await hub.close();
  await devgraph.close();
  await comments.close();
  await rm(root, { recursive: true, force: true });
  await rm(inputs, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

function configFor(s: Scenario): string {
  if (s.credentials === 'hub-pat' || s.credentials === 'hub-wrong') {
    return `providers:
  - name: hub
    type: docker
    config:
      registry_type: docker-hub
      api_url: ${hub.registryUrl}
      hub_url: ${hub.hubUrl}
      username: ${HUB_USER}
      password: \${REGISTRY_PASSWORD}
      timeout: 5
      selectors: [{ namespace_pattern: acme, max_tags: 3 }]
`;
  }
  const apiUrl =
    s.credentials === 'url-userinfo'
      ? registry.url.replace('http://', `http://${USER}:\${URL_PASSWORD}@`)
      : registry.url;
  const credentials =
    s.credentials === 'token'
      ? '      token: ${REGISTRY_TOKEN}\n'
      : s.credentials === 'docker-config' || s.credentials === 'url-userinfo'
        ? ''
        : `      username: ${USER}\n      password: \${REGISTRY_PASSWORD}\n`;
  const broken = s.message?.startsWith('selector') ? '      selector: []\n' : '';
  return `providers:
  - name: regprov
    type: docker
    config:
      registry_type: private
      api_url: ${apiUrl}
${credentials}${broken}      timeout: 5
      selectors:
        - namespace_pattern: acme
          max_tags: 4
        - namespace_pattern: library
          max_tags: 3
`;
}

/** The environment a scenario's credentials come from; the Hub scenarios put their PAT in the same variable. */
function envFor(s: Scenario): Record<string, string> {
  const password =
    s.credentials === 'wrong-password' || s.credentials === 'hub-wrong'
      ? WRONG_PASSWORD
      : s.credentials === 'hub-pat'
        ? HUB_PAT
        : PASSWORD;
  return {
    REGISTRY_PASSWORD: password,
    REGISTRY_TOKEN,
    URL_PASSWORD,
    GITHUB_TOKEN,
    ...(s.credentials === 'docker-config' ? { DOCKER_CONFIG: join(inputs, 'docker') } : {}),
  };
}

function prepare(s: Scenario): void {
  registry.reset(s.behaviour ?? {});
  hub.reset();
}

/** Every file under `dir`, path → text (binary content blobs included: a canary is ASCII). */
async function filesUnder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(e.parentPath, e.name);
    const rel = relative(root, path);
    out[`path ${rel}`] = rel;
    if (e.isFile()) out[`file ${rel}`] = await readFile(path, 'latin1');
  }
  return out;
}

function servicesSeen(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of services.cache?.entries ?? []) {
    out[`cache key ${entry.key}`] = entry.key;
    for (const [rel, bytes] of entry.files)
      out[`cache ${entry.key} ${rel}`] = `${rel}\n${bytes.toString('latin1')}`;
  }
  for (const [i, a] of services.artifacts.entries())
    for (const [rel, text] of a.files) out[`artifact #${i + 1} ${a.name} ${rel}`] = text;
  for (const [i, r] of devgraph.requests.entries()) {
    const { authorization, ...headers } = r.headers;
    expect(authorization).toBe(`Bearer ${DEVGRAPH_TOKEN}`);
    out[`devgraph request #${i} ${r.method} ${r.url}`] =
      `${r.url}\n${JSON.stringify(headers)}\n${JSON.stringify(r.body ?? null)}`;
  }
  for (const [i, r] of comments.requests.entries()) {
    expect(r.authorization === `token ${GITHUB_TOKEN}` || r.authorization === `Bearer ${GITHUB_TOKEN}`).toBe(
      true,
    );
    out[`github request #${i} ${r.method} ${r.path}`] =
      `${r.path}\n${JSON.stringify(r.query)}\n${JSON.stringify(r.body ?? null)}`;
  }
  for (const [i, h] of registry.storageHeaders.entries())
    out[`storage request #${i} headers`] = JSON.stringify(h);
  return out;
}

describe('CLI with canary credentials', () => {
  it.each(SCENARIOS)('$name: nothing the run wrote holds a canary', async (s) => {
    prepare(s);
    const dir = join(root, `cli-${SCENARIOS.indexOf(s)}`);
    const configPath = join(inputs, `cli-${SCENARIOS.indexOf(s)}.yml`);
    await writeFile(configPath, configFor(s));
    const env = { ...envFor(s), DEVGRAPH_DOCKER_DEBUG: '1', SOURCE_DATE_EPOCH: '1767225600' };
    const args = [
      'discover',
      '--config',
      configPath,
      '--out',
      join(dir, 'out'),
      '--state',
      join(dir, 'state'),
    ];
    const runs: Array<{ code: number; stdout: string; stderr: string }> = [];
    // Twice: the second run reads the state the first one left (conditional requests, stored manifests).
    for (let i = 0; i < (s.outcome === 'config' ? 1 : 2); i++) {
      prepare(s);
      runs.push(await runCliInProcess(args, env));
    }
    const expected = { complete: 0, incomplete: 2, config: 1 }[s.outcome];
    expect(
      runs.map((r) => r.code),
      runs[0]!.stderr,
    ).toEqual(runs.map(() => expected));
    if (s.outcome === 'incomplete') expect(runs[0]!.stderr).toMatch(/warning:|INCOMPLETE/);
    if (s.message) expect(runs[0]!.stderr).toContain(s.message);

    const seen: Record<string, string> = { ...(await filesUnder(dir)), ...servicesSeen() };
    runs.forEach((r, i) => {
      seen[`run ${i + 1} stdout`] = r.stdout;
      seen[`run ${i + 1} stderr`] = r.stderr;
    });
    expect(leaks(seen, hub.issuedJwts)).toEqual([]);
  });
});

async function runAction(s: Scenario, dir: string, extraInputs: Record<string, string> = {}) {
  await mkdir(dir, { recursive: true });
  runCounter++;
  const given: Record<string, string> = {
    config: configFor(s),
    'output-dir': join(dir, 'out'),
    'state-dir': join(dir, 'state'),
    cache: 'true',
    'comment-on-pr': 'true',
    'github-token': GITHUB_TOKEN,
    'devgraph-url': devgraph.url,
    'devgraph-token': DEVGRAPH_TOKEN,
    'devgraph-environment': 'env-1',
    ...extraInputs,
  };
  const env: Record<string, string> = {
    ...envFor(s),
    RUNNER_TEMP: join(dir, 'runner-temp'),
    RUNNER_DEBUG: '1',
    ACTIONS_STEP_DEBUG: 'true',
    ACTIONS_RUNTIME_TOKEN: RUNTIME_TOKEN,
    GITHUB_REPOSITORY: 'acme-org/platform',
    GITHUB_RUN_ID: String(1000 + runCounter),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: join(inputs, 'event.json'),
    GITHUB_API_URL: comments.url,
    SOURCE_DATE_EPOCH: '1767225600',
  };
  return runActionInProcess(dir, given, env, { jobSummary: true });
}

/**
 * The action log with the `::add-mask::` lines taken out: those hand each secret to the runner
 * so it masks it everywhere, and are the one place a secret must be written.
 */
function withoutMaskCommands(log: string): string {
  return log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
}

describe('action with canary credentials', () => {
  it.each(SCENARIOS)('$name: nothing the run wrote or sent holds a canary', async (s) => {
    prepare(s);
    const dir = join(root, `action-${SCENARIOS.indexOf(s)}`);
    const runs = [];
    for (let i = 0; i < (s.outcome === 'config' ? 1 : 2); i++) {
      prepare(s);
      runs.push(await runAction(s, dir));
    }
    for (const r of runs) {
      if (s.outcome === 'config') expect(r.exitCode).toBe(1);
      else expect(r.exitCode).toBeUndefined();
      if (s.outcome === 'complete') expect(r.outputs).toMatch(/^complete<<.*\ntrue\n/m);
      if (s.outcome === 'incomplete') expect(r.log).toContain('::warning::');
      if (s.outcome !== 'config') expect(r.jobSummary).toContain('# Registry inventory');
    }
    if (s.outcome !== 'config') {
      // The credentials that were read were handed to the runner to mask.
      const masks = runs[0]!.log;
      expect(masks).toContain(`::add-mask::${DEVGRAPH_TOKEN}`);
      expect(masks).toContain(`::add-mask::${GITHUB_TOKEN}`);
      if (s.credentials === 'password') expect(masks).toContain(`::add-mask::${PASSWORD}`);
      if (s === SCENARIOS[0]) expect(masks).toContain(`::add-mask::${MINTED}`);
    }

    const seen: Record<string, string> = { ...(await filesUnder(dir)), ...servicesSeen() };
    runs.forEach((r, i) => {
      seen[`run ${i + 1} stdout`] = withoutMaskCommands(r.log);
      seen[`run ${i + 1} stderr`] = r.stderr;
      seen[`run ${i + 1} outputs`] = r.outputs;
      seen[`run ${i + 1} job summary`] = r.jobSummary;
    });
    expect(leaks(seen, hub.issuedJwts)).toEqual([]);
  });

  it('the paths were taken: cache saved and restored, artifact and PR comment made, graph uploaded', () => {
    expect(services.cache!.calls.some((c) => c.fn === 'saveCache')).toBe(true);
    expect(services.cache!.calls.some((c) => c.fn === 'restoreCache')).toBe(true);
    expect(services.artifacts.length).toBeGreaterThan(0);
    // changes.json: a run with a state directory compares (a first run, with nothing: empty lists).
    expect([...services.artifacts[0]!.files.keys()].sort()).toEqual([
      'changes.json',
      'graph.json',
      'report.html',
      'summary.md',
    ]);
    expect(comments.comments.length).toBeGreaterThan(0);
    expect(devgraph.writes().length).toBeGreaterThan(0);
    expect(registry.storageHeaders.length).toBeGreaterThan(0);
    for (const h of registry.storageHeaders) expect(h.authorization).toBeUndefined();
  });

  it('Devgraph refusing the token, failing with the token in its answer, and a dry run', async () => {
    const s = SCENARIOS[0]!;
    prepare(s);
    const dir = join(root, 'action-devgraph');
    const refusing = await startDevgraphFake({ token: 'some-other-token', environment: 'env-1' });
    try {
      const refused = await runAction(s, join(dir, 'refused'), { 'devgraph-url': refusing.url });
      expect(refused.log).toContain('::warning::Devgraph');
      expect(refusing.requests.length).toBeGreaterThan(0);
      for (const r of refusing.requests) expect(r.headers.authorization).toBe(`Bearer ${DEVGRAPH_TOKEN}`);

      // A server (or a proxy in front of it) that repeats the token in its error answers.
      devgraph.fault({
        operation: 'get_entities',
        status: 400,
        detail: `token ${DEVGRAPH_TOKEN} is not valid here`,
      });
      const failing = await runAction(s, join(dir, 'failing'));
      expect(failing.log).toContain('::warning::Devgraph');
      const dry = await runAction(s, join(dir, 'dry'), { 'devgraph-dry-run': 'true' });
      expect(dry.exitCode).toBeUndefined();

      const seen: Record<string, string> = { ...(await filesUnder(dir)), ...servicesSeen() };
      for (const [name, r] of Object.entries({ refused, failing, dry })) {
        seen[`${name} stdout`] = withoutMaskCommands(r.log);
        seen[`${name} stderr`] = r.stderr;
        seen[`${name} outputs`] = r.outputs;
        seen[`${name} job summary`] = r.jobSummary;
      }
      for (const [i, r] of refusing.requests.entries()) {
        const { authorization: _sent, ...headers } = r.headers;
        seen[`refusing devgraph request #${i}`] =
          `${r.url}\n${JSON.stringify(headers)}\n${JSON.stringify(r.body ?? null)}`;
      }
      expect(leaks(seen)).toEqual([]);
    } finally {
      await refusing.close();
    }
  });
});
