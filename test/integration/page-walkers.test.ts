// Every listing walker (registry tags and catalog, and each vendor API's repositories or tags)
// against the same hostile pages. Each vendor's page format is scripted here from its documented
// shape (Link or body `next`, cursors, page numbers, where the list sits), served in order by a
// loopback server whatever URL or cursor is asked, so one script means the same thing to every
// walker; the fakes under test/support/fakes serve the well-behaved paths. Each walker runs
// through the real adapter (openAdapter), the registry client through RegistryClient.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { RegistryAuth } from '../../src/auth/registry-auth.js';
import { loadConfig } from '../../src/config/load-config.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import type { Listing } from '../../src/oci/registry-client.js';
import { RegistryClient } from '../../src/oci/registry-client.js';
import { openAdapter } from '../../src/registries/open-adapter.js';
import { Secrets } from '../../src/secrets.js';
import { type ScriptedServer, startScriptedServer } from '../support/scripted-server.js';

/** Where a page says the next one is. `fresh`: a new page (relative link, new cursor, page n+1). */
type Next = 'fresh' | 'elsewhere' | 'metadata' | 'repeat';

/** One scripted page: names of rows (or BAD for the dialect's malformed row), where to go next. */
interface ScriptPage {
  rows: string[];
  next?: Next;
  /** The page without its list key. */
  keyless?: boolean;
}

const BAD = '<bad>';
const METADATA = 'http://169.254.169.254/latest/meta-data/iam/';
const REPO = 'acme/app';

/** How a walker's server speaks: its listing requests, page bodies and next-page pointers. */
interface Dialect {
  name: string;
  /** link: the next page is a URL; cursor: an opaque token; numbered: page numbers. */
  kind: 'link' | 'cursor' | 'numbered';
  /** Whether a request is one of the listing's pages (not a ping or a token). */
  isPage(req: IncomingMessage, url: URL): boolean;
  /** The cursor or URL the request asked for, for `repeat`. */
  asked?(url: URL, body: Record<string, unknown>): string | undefined;
  /** The answer for a page; `next` is the resolved pointer (URL or cursor), if any. */
  render(page: ScriptPage, next: string | undefined): { body: unknown; headers?: Record<string, string> };
  /** What the listing holds for a row name. */
  item(name: string): string;
  /** Provider config beyond api_url/max_pages; absent for the plain registry client. */
  config?(url: string): Record<string, unknown>;
  env?: Record<string, string>;
  list(open: Opened): Promise<Listing>;
  /** A page without its list key: the error names it. */
  keyless: RegExp;
}

type Opened = {
  repositories(): Promise<Listing>;
  tags(repo: string): Promise<Listing>;
};

const digestOf = (name: string) => `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64)}`;
const linkHeader = (next: string | undefined): Record<string, string> =>
  next ? { link: `<${next}>; rel="next"` } : {};
const rowsOf = <T>(page: ScriptPage, row: (name: string) => T, bad: unknown) =>
  page.rows.map((r) => (r === BAD ? bad : row(r)));

const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_REGION: 'eu-west-1',
};
const ECR_TARGET = 'amazonec2containerregistry_v20150921.';
const ecrOp = (req: IncomingMessage) =>
  String(req.headers['x-amz-target'] ?? '')
    .toLowerCase()
    .replace(ECR_TARGET, '');

const DIALECTS: Dialect[] = [
  {
    name: 'registry tags/list',
    kind: 'link',
    isPage: (_req, url) => url.pathname === `/v2/${REPO}/tags/list`,
    render: (page, next) => ({
      body: page.keyless ? { name: REPO } : { name: REPO, tags: rowsOf(page, (n) => n, 5) },
      headers: linkHeader(next),
    }),
    item: (n) => n,
    list: (o) => o.tags(REPO),
    keyless: /no "tags" list/,
  },
  {
    name: 'registry _catalog',
    kind: 'link',
    isPage: (_req, url) => url.pathname === '/v2/_catalog',
    render: (page, next) => ({
      body: page.keyless ? {} : { repositories: rowsOf(page, (n) => `acme/${n}`, null) },
      headers: linkHeader(next),
    }),
    item: (n) => `acme/${n}`,
    list: (o) => o.repositories(),
    keyless: /no "repositories" list/,
  },
  {
    name: 'Docker Hub tags',
    kind: 'link',
    isPage: (_req, url) => url.pathname === `/v2/namespaces/acme/repositories/app/tags`,
    render: (page, next) => ({
      body: page.keyless
        ? { count: 0, next: next ?? null }
        : {
            count: page.rows.length,
            next: next ?? null,
            results: rowsOf(page, (n) => ({ name: n, digest: digestOf(n) }), { name: 'x', digest: 7 }),
          },
    }),
    item: (n) => n,
    config: (url) => ({ registry_type: 'docker-hub', hub_url: url }),
    list: (o) => o.tags(REPO),
    keyless: /no "results" field/,
  },
  {
    name: 'GHCR packages',
    kind: 'link',
    isPage: (_req, url) => url.pathname === '/orgs/acme/packages',
    render: (page, next) => ({
      body: page.keyless
        ? { message: 'Not a list' }
        : rowsOf(page, (n) => ({ name: n, updated_at: '2025-01-01T00:00:00Z' }), { id: 3 }),
      headers: linkHeader(next),
    }),
    item: (n) => `acme/${n}`,
    config: (url) => ({ registry_type: 'ghcr', github_api_url: url, token: 'ghp_pagewalkertoken' }),
    list: (o) => o.repositories(),
    keyless: /not a list \(an object\)/,
  },
  {
    name: 'ACR tags',
    kind: 'link',
    isPage: (_req, url) => url.pathname === `/acr/v1/${REPO}/_tags`,
    render: (page, next) => ({
      body: page.keyless
        ? { registry: 'r', imageName: REPO }
        : { tags: rowsOf(page, (n) => ({ name: n, digest: digestOf(n) }), { name: 'x', digest: 7 }) },
      headers: linkHeader(next),
    }),
    item: (n) => n,
    config: () => ({ registry_type: 'acr' }),
    list: (o) => o.tags(REPO),
    keyless: /no "tags" field/,
  },
  {
    name: 'GCR tags/list',
    kind: 'link',
    isPage: (_req, url) => url.pathname === `/v2/${REPO}/tags/list`,
    render: (page, next) => ({
      body: page.keyless
        ? { child: [], manifest: {}, name: REPO }
        : { child: [], manifest: {}, name: REPO, tags: rowsOf(page, (n) => n, 5) },
      headers: linkHeader(next),
    }),
    item: (n) => n,
    config: () => ({ registry_type: 'gcr' }),
    list: (o) => o.tags(REPO),
    keyless: /no "tags" field/,
  },
  {
    name: 'Harbor artifacts',
    kind: 'numbered',
    isPage: (_req, url) => url.pathname === '/api/v2.0/projects/acme/repositories/app/artifacts',
    render: (page, next) => ({
      body: page.keyless
        ? { errors: [] }
        : rowsOf(page, (n) => ({ digest: digestOf(n), tags: [{ name: n }] }), { digest: 7, tags: [] }),
      headers: linkHeader(next),
    }),
    item: (n) => n,
    config: () => ({ registry_type: 'harbor' }),
    list: (o) => o.tags(REPO),
    keyless: /not a list \(an object\)/,
  },
  {
    name: 'Quay repositories',
    kind: 'cursor',
    isPage: (_req, url) => url.pathname === '/api/v1/repository',
    asked: (url) => url.searchParams.get('next_page') ?? undefined,
    render: (page, next) => ({
      body: {
        ...(page.keyless
          ? {}
          : { repositories: rowsOf(page, (n) => ({ namespace: 'acme', name: n }), { namespace: 'acme' }) }),
        ...(next ? { next_page: next } : {}),
      },
    }),
    item: (n) => `acme/${n}`,
    config: () => ({ registry_type: 'quay' }),
    list: (o) => o.repositories(),
    keyless: /no "repositories" field/,
  },
  {
    name: 'Quay tags',
    kind: 'numbered',
    isPage: (_req, url) => url.pathname === `/api/v1/repository/${REPO}/tag/`,
    render: (page, next) => ({
      body: {
        ...(page.keyless
          ? {}
          : {
              tags: rowsOf(page, (n) => ({ name: n, manifest_digest: digestOf(n) }), {
                manifest_digest: 'x',
              }),
            }),
        has_additional: next !== undefined,
      },
    }),
    item: (n) => n,
    config: () => ({ registry_type: 'quay' }),
    list: (o) => o.tags(REPO),
    keyless: /no "tags" field/,
  },
  ...(['DescribeRepositories', 'DescribeImages'] as const).map(
    (op): Dialect => ({
      name: `ECR ${op}`,
      kind: 'cursor',
      isPage: (req) => ecrOp(req) === op.toLowerCase(),
      asked: (_url, body) => (typeof body.nextToken === 'string' ? body.nextToken : undefined),
      render: (page, next) => {
        const key = op === 'DescribeRepositories' ? 'repositories' : 'imageDetails';
        const row = (n: string) =>
          op === 'DescribeRepositories'
            ? { repositoryName: `acme/${n}` }
            : { imageDigest: digestOf(n), imageTags: [n], imagePushedAt: 1_700_000_000 };
        return {
          body: {
            ...(page.keyless ? {} : { [key]: rowsOf(page, row, { repositoryName: 5, imageDigest: 5 }) }),
            ...(next ? { nextToken: next } : {}),
          },
          headers: { 'content-type': 'application/x-amz-json-1.1' },
        };
      },
      item: (n) => (op === 'DescribeRepositories' ? `acme/${n}` : n),
      config: (url) => ({ registry_type: 'ecr', ecr_api_url: url, region: 'eu-west-1' }),
      env: AWS_ENV,
      list: (o) => (op === 'DescribeRepositories' ? o.repositories() : o.tags(REPO)),
      keyless: op === 'DescribeRepositories' ? /no "repositories" field/ : /no "imageDetails" field/,
    }),
  ),
];

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch {
        resolve({});
      }
    });
  });
}

function send(res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Serves the script's pages in order to whatever the walker asks; a page whose next is `repeat`
 * is served again on a page-numbered API (one that cannot be told to go back by its URL).
 */
async function serve(d: Dialect, script: ScriptPage[], elsewhere: ScriptedServer) {
  let at = 0;
  let pageRequests = 0;
  const server = await startScriptedServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://h');
    const body = req.method === 'POST' ? await readJson(req) : {};
    if (req.method === 'GET' && url.pathname === '/v2/') return send(res, {});
    if (ecrOp(req) === 'getauthorizationtoken') {
      return send(
        res,
        {
          authorizationData: [
            { authorizationToken: Buffer.from('AWS:pw').toString('base64'), expiresAt: 4_000_000_000 },
          ],
        },
        { 'content-type': 'application/x-amz-json-1.1' },
      );
    }
    // The script is the tag listing; the ECR adapter's second listing (untagged images, for
    // referrers and platform scans) finds none, as in a repository holding only tagged images.
    if (ecrOp(req) === 'describeimages' && (body.filter as { tagStatus?: string })?.tagStatus === 'UNTAGGED')
      return send(res, { imageDetails: [] }, { 'content-type': 'application/x-amz-json-1.1' });
    if (!d.isPage(req, url) || at >= script.length) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"NOT_FOUND","message":"not scripted"}]}');
    }
    pageRequests++;
    const page = script[at]!;
    const self = `${server.url}${req.url}`;
    const pointer: Record<Next, string> =
      d.kind === 'cursor'
        ? {
            fresh: `c${at + 2}`,
            elsewhere: `${elsewhere.url}/v2/stolen`,
            metadata: METADATA,
            repeat: d.asked!(url, body) ?? '',
          }
        : {
            fresh: `?page=${at + 2}&n=2`,
            elsewhere: `${elsewhere.url}${url.pathname}?page=${at + 2}`,
            metadata: METADATA,
            repeat: self,
          };
    const answer = d.render(page, page.next ? pointer[page.next] : undefined);
    if (!(page.next === 'repeat' && d.kind === 'numbered')) at++;
    send(res, answer.body, answer.headers);
  });
  closers.push(() => server.close());
  return { server, pageRequests: () => pageRequests };
}

async function walk(d: Dialect, script: ScriptPage[], maxPages = 100) {
  const elsewhere = await startScriptedServer((_req, res) => res.end('{"tags":["stolen"]}'));
  closers.push(() => elsewhere.close());
  const { server, pageRequests } = await serve(d, script, elsewhere);
  const http = new HttpClient({ sleep: async () => {}, baseBackoffMs: 1 });
  closers.push(() => http.close());
  const secrets = new Secrets();
  let opened: Opened;
  if (!d.config) {
    const auth = new RegistryAuth(http, new URL(server.url).host, {}, secrets, 5000);
    const client = new RegistryClient(http, auth, { apiUrl: server.url, timeoutMs: 5000, maxPages });
    opened = { repositories: () => client.listRepositories(), tags: (repo) => client.listTags(repo) };
  } else {
    const config = {
      ...d.config(server.url),
      api_url: server.url,
      max_pages: maxPages,
      selectors: [{ namespace_pattern: '^acme$', repository_pattern: '.*' }],
    };
    const yaml = stringify({ providers: [{ name: 'walker', type: 'docker', config }] });
    const settings = loadConfig(yaml, { env: {}, secrets, origin: 'test' });
    const adapter = await openAdapter({
      settings: settings.providers[0]!,
      http,
      secrets,
      log: silentLog,
      ambient: { env: d.env ?? {} },
    });
    opened = {
      repositories: () => adapter.listRepositories(),
      tags: (repo) => adapter.listTags(repo, { requests: 0 }),
    };
  }
  const listing = await d.list(opened).catch((err: Error) => err);
  expect(elsewhere.seen).toEqual([]);
  return { listing, requests: pageRequests() };
}

function listed(listing: Listing | Error) {
  if (listing instanceof Error) throw listing;
  return { ...listing, items: [...listing.items].sort() };
}

describe.each(DIALECTS)('$name', (d) => {
  const items = (...names: string[]) => names.map(d.item).sort();

  it('follows a relative link (or a new cursor, or the next page number) to the end', async () => {
    const r = await walk(d, [{ rows: ['a', 'b'], next: 'fresh' }, { rows: ['c'] }]);
    expect(listed(r.listing)).toMatchObject({ items: items('a', 'b', 'c'), complete: true, pages: 2 });
    expect(r.requests).toBe(2);
  });

  it.each([
    ['another origin', 'elsewhere' as const],
    ['the cloud metadata address', 'metadata' as const],
  ])('never reads a next page on %s', async (_what, next) => {
    const r = await walk(d, [{ rows: ['a', 'b'], next }, { rows: ['c'] }]);
    if (d.kind === 'link') {
      const host = next === 'metadata' ? '169.254.169.254' : '127.0.0.1';
      const l = listed(r.listing);
      expect(l).toMatchObject({ items: items('a', 'b'), complete: false, pages: 1 });
      expect(l.problem).toMatch(new RegExp(`next-page link points to another origin \\(${host}[:)]`));
      expect(r.requests).toBe(1);
    } else {
      // A cursor or page number is sent back to the listing's own origin, never followed as a URL.
      expect(listed(r.listing)).toMatchObject({ items: items('a', 'b', 'c'), complete: true });
    }
  });

  it('ends a loop (the same page or cursor again) as incomplete', async () => {
    const r = await walk(d, [
      { rows: ['a', 'b'], next: 'fresh' },
      { rows: ['c'], next: 'repeat' },
    ]);
    const l = listed(r.listing);
    expect(l).toMatchObject({ items: items('a', 'b', 'c'), complete: false });
    expect(l.problem).toMatch(/next page repeats a page already read; stopped$/);
    // A page-numbered API can only be caught answering the same page twice.
    expect(r.requests).toBe(d.kind === 'numbered' ? 3 : 2);
  });

  it('stops at max_pages and says so', async () => {
    const r = await walk(
      d,
      [{ rows: ['a'], next: 'fresh' }, { rows: ['b'], next: 'fresh' }, { rows: ['c'] }],
      2,
    );
    expect(listed(r.listing)).toMatchObject({
      items: items('a', 'b'),
      complete: false,
      pages: 2,
      problem: 'stopped after 2 pages (max_pages); raise max_pages to list everything',
    });
    expect(r.requests).toBe(2);
  });

  it('reads an empty page as an empty, complete listing', async () => {
    const r = await walk(d, [{ rows: [] }]);
    expect(listed(r.listing)).toMatchObject({ items: [], complete: true, pages: 1 });
  });

  it('refuses a page without its list, naming the key', async () => {
    const r = await walk(d, [{ rows: [], keyless: true }]);
    expect(r.listing).toBeInstanceOf(Error);
    expect((r.listing as Error).message).toMatch(d.keyless);
  });

  it('names a malformed row and marks the listing incomplete, keeping the others', async () => {
    const r = await walk(d, [{ rows: ['a', BAD, 'c'] }]);
    const l = listed(r.listing);
    expect(l).toMatchObject({ items: items('a', 'c'), complete: false });
    expect(l.problem).toMatch(/^1 unreadable entry left out: \w[\w ]* 2\b.*: .+ \(page 1\)$/);
  });
});

describe('a walk its source ends', () => {
  it('GHCR: a budget spent after the first page keeps that page, incomplete, and asks nothing more', async () => {
    const ghcr = DIALECTS.find((d) => d.name === 'GHCR packages')!;
    const lowBudget: Dialect = {
      ...ghcr,
      render: (page, next) => {
        const answer = ghcr.render(page, next);
        return {
          ...answer,
          headers: { ...answer.headers, 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '10' },
        };
      },
    };
    const r = await walk(lowBudget, [{ rows: ['a', 'b'], next: 'fresh' }, { rows: ['c'] }]);
    const l = listed(r.listing);
    expect(l).toMatchObject({ items: ['acme/a', 'acme/b'], complete: false, pages: 1 });
    expect(l.problem).toMatch(/^the packages of acme: only 10 of 5000 GitHub API requests left/);
    expect(r.requests).toBe(1);
  });
});
