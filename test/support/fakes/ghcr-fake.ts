// A fake GHCR: the demo content under GitHub owners behind ghcr.io's token service, and a fake
// GitHub REST API with the Packages endpoints. Both describe one registry (versions come from
// tagFacts), and both behave the way the reference says the real ones do:
// - registry: /v2/ challenges with a meaningless scope; /token takes Basic <any user>:<token> or
//   nothing (public packages); raw Basic on /v2 endpoints is DENIED; a denial carries no
//   WWW-Authenticate header; _catalog is 403; tags/list pages by 100 with opaque Link cursors.
// - REST: per_page ≤ 100 with absolute Link headers, x-ratelimit-* headers counting down per
//   token, a GITHUB_TOKEN gets 400 "Invalid argument." listing an organisation's packages and 404
//   for packages its repository cannot access, `/` in package names must be URL-encoded.
// - attestations (/orgs|users/{owner}/attestations/{digest}): sigstore bundles in
//   `{"attestations":[…]}`, cursor pages (`after`) named by Link, 404 when none is stored, 403
//   "Resource not accessible by integration" for a GITHUB_TOKEN without attestations: read.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DemoRegistry, parseRegistryPath, startDemoRegistry } from '../../../src/demo/demo-registry.js';
import { buildImage, RepositoryBuilder, type RepositoryContent } from '../../../src/demo/image-builder.js';
import { sampleRepositories } from '../../../src/demo/sample-repositories.js';
import { type ScriptedServer, startScriptedServer } from '../scripted-server.js';
import { rebaseImage } from '../seed-data.js';
import { renameRepositories, tagFacts } from './content-facts.js';
import { sendJson } from './fake-http.js';
import { type UntaggedFact, untaggedFacts } from './untagged-facts.js';

export const PAT = 'ghp_fakeClassicPat0000000000000000000000';
export const GITHUB_TOKEN = 'ghs_fakeWorkflowToken00000000000000000';
export const ORG = 'acme-org';
export const USER = 'jdoe';
export const MANY = `${ORG}/many-builds`;
export const MANY_COUNT = 250;
/** Fixed reset time of every rate-limit window: 2030-01-01T12:00:00Z. */
export const RESET = Date.parse('2030-01-01T12:00:00Z') / 1000;

const RENAME: Record<string, string> = {
  'library/nginx': `${ORG}/nginx`,
  'library/redis': `${ORG}/redis`,
  'acme/payments-api': `${ORG}/payments-api`,
  'acme/platform/ingress-controller': `${ORG}/platform/ingress-controller`,
  'acme/web-frontend': `${ORG}/web-frontend`,
  'acme/legacy-batch': `${USER}/legacy-batch`,
};

export function buildNumber(i: number): string {
  return `build-${String(i).padStart(4, '0')}`;
}

let manyCache: RepositoryContent | undefined;
/** 250 single-platform images, one tag each, an hour apart: 3 pages of 100 versions. */
export function manyBuilds(): RepositoryContent {
  if (!manyCache) {
    const base = buildImage({
      created: '2024-03-01T00:00:00Z',
      seed: 'ghcr-many',
      layerCount: 1,
      layerSize: 64,
    });
    const b = new RepositoryBuilder(MANY);
    for (let i = 1; i <= MANY_COUNT; i++) {
      const created = new Date(Date.parse('2024-03-01T00:00:00Z') + i * 3_600_000)
        .toISOString()
        .replace('.000Z', 'Z');
      b.addImage(rebaseImage(base, created, `ghcr-many-${i}`), buildNumber(i));
    }
    manyCache = b.build();
  }
  return manyCache;
}

export function ghcrRepositories(): RepositoryContent[] {
  return [...renameRepositories(sampleRepositories(), (n) => RENAME[n] ?? n), manyBuilds()];
}

interface Version {
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
  metadata: { package_type: 'container'; container: { tags: string[] } };
}

interface Package {
  repo: string;
  owner: string;
  name: string;
  visibility: 'public' | 'private';
  versions: Version[];
}

/**
 * `updated_at` runs backwards (the oldest version was touched last, as when a tag is moved off
 * it), so a client that orders by updated_at instead of created_at picks the wrong "newest".
 */
function updatedAt(created: string): string {
  const t = Date.parse('2026-01-01T00:00:00Z') - (Date.parse(created) - Date.parse('2020-01-01T00:00:00Z'));
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

/** An index's platform images and attestations, which GHCR lists as versions of their own. */
function childrenOf(f: UntaggedFact): string[] {
  return f.isIndex ? [...f.platforms.map((p) => p.digest), ...f.attestations] : [];
}

function versionsOf(repo: RepositoryContent, idBase: number): Version[] {
  const byDigest = new Map<string, { tags: string[]; pushedAt: string; children: string[] }>();
  for (const f of tagFacts(repo)) {
    const v = byDigest.get(f.digest) ?? { tags: [], pushedAt: f.pushedAt, children: childrenOf(f) };
    v.tags.push(f.tag);
    byDigest.set(f.digest, v);
  }
  // A manifest no tag points at is a version too, with no tags (an old build whose tag moved on).
  for (const f of untaggedFacts(repo))
    byDigest.set(f.digest, { tags: [], pushedAt: f.pushedAt, children: childrenOf(f) });
  const out: Version[] = [];
  const named = new Set<string>();
  let id = idBase;
  for (const [digest, v] of byDigest) {
    const version = (name: string, tags: string[]) => {
      // One version per digest, however many indexes hold it.
      if (named.has(name)) return;
      named.add(name);
      out.push({
        id: id++,
        name,
        created_at: v.pushedAt,
        updated_at: updatedAt(v.pushedAt),
        metadata: { package_type: 'container', container: { tags } },
      });
    };
    version(digest, v.tags);
    // Platform images and attestations of an index are versions of their own, untagged.
    for (const child of v.children) version(child, []);
  }
  return out.sort((a, b) =>
    a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id - b.id,
  );
}

export interface GhcrFakeOptions {
  /** More packages beside the sample ones (their owner must be ORG or USER). */
  extraRepositories?: RepositoryContent[];
  /** Cap on per_page of the REST API (GitHub's is 100). */
  restPageSize?: number;
  /** Cap on n of tags/list (GHCR pages by 100). */
  tagPageSize?: number;
  /** Packages the workflow's GITHUB_TOKEN may read (its repository's); public ones it may only pull. */
  githubTokenPackages?: string[];
  publicPackages?: string[];
  /** Attestations in GitHub's store (actions/attest-build-provenance), by owner and subject digest. */
  attestations?: StoredAttestation[];
  /**
   * Whether the workflow's GITHUB_TOKEN may delete versions of its packages (a workflow with
   * `permissions: packages: write` whose repository administers them). The PAT always may.
   */
  githubTokenDeletes?: boolean;
  /** Whether the workflow's GITHUB_TOKEN has `attestations: read` (without it: 403). */
  githubTokenAttestations?: boolean;
}

export interface StoredAttestation {
  owner: string;
  digest: string;
  predicateType: string;
  /** The package name inside the owner, for the statement's subject name. */
  image?: string;
}

/**
 * A sigstore bundle shaped like those GitHub stores: a DSSE envelope around an in-toto statement
 * about the digest, and verification material. The signature is filler: nothing here checks it.
 */
export function attestationBundle(name: string, digest: string, predicateType: string, seed: number) {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name, digest: { sha256: digest.replace(/^sha256:/, '') } }],
    predicateType,
    predicate: {},
  };
  const filler = (what: string) =>
    createHash('sha256').update(`${what}/${name}/${digest}/${seed}`).digest('base64');
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: filler('certificate') },
      tlogEntries: [{ logIndex: String(1000 + seed), kindVersion: { kind: 'dsse', version: '0.0.1' } }],
    },
    dsseEnvelope: {
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      payloadType: 'application/vnd.in-toto+json',
      signatures: [{ sig: filler('signature'), keyid: '' }],
    },
  };
}

export interface ApiRequest {
  method: string;
  path: string;
  status: number;
}

export interface GhcrFake {
  /** Registry base URL (stands in for https://ghcr.io). */
  url: string;
  /** GitHub REST base URL (stands in for https://api.github.com). */
  apiUrl: string;
  registry: DemoRegistry;
  api: ScriptedServer;
  apiRequests: ApiRequest[];
  /** Token-service requests: scope and the credential kind used. */
  tokenRequests: Array<{ scope: string; auth: 'anonymous' | 'basic'; status: number }>;
  /** Registry requests refused before reaching the content (401/403), with the reason. */
  denials: Array<{ path: string; status: number; reason: string }>;
  /** Requests left in a token's hourly window (default 5000 for the PAT, 1000 for GITHUB_TOKEN). */
  setRemaining(token: string, remaining: number): void;
  /** The next REST answers, in order, before any route (e.g. 429s). */
  failNext(...answers: Array<{ status: number; headers?: Record<string, string>; body?: unknown }>): void;
  /** Every registry token issued from now on is rejected after this many uses (expired). */
  expireTokensAfter(uses: number | undefined): void;
  /** Lets _catalog answer (a plain registry serving the same content, for the OCI-path comparison). */
  allowCatalog: boolean;
  reset(): void;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  sendJson(res, status, body, { 'Content-Type': 'application/json; charset=utf-8', ...headers });

export async function startGhcrFake(opts: GhcrFakeOptions = {}): Promise<GhcrFake> {
  const repos = [...ghcrRepositories(), ...(opts.extraRepositories ?? [])];
  const publicPackages = new Set(opts.publicPackages ?? [`${ORG}/nginx`, `${ORG}/redis`]);
  const workflowPackages = new Set(
    opts.githubTokenPackages ?? [`${ORG}/web-frontend`, `${ORG}/payments-api`],
  );
  const restCap = opts.restPageSize ?? 100;
  const packages: Package[] = repos.map((r, i) => {
    const [owner, ...rest] = r.name.split('/');
    return {
      repo: r.name,
      owner: owner!,
      name: rest.join('/'),
      visibility: publicPackages.has(r.name) ? 'public' : 'private',
      versions: versionsOf(r, (i + 1) * 100_000),
    };
  });
  const orgs = new Set([ORG]);
  const users = new Set([USER]);

  const apiRequests: ApiRequest[] = [];
  const tokenRequests: GhcrFake['tokenRequests'] = [];
  const denials: GhcrFake['denials'] = [];
  const limits = new Map<string, { limit: number; remaining: number }>();
  const rateOf = (token: string) => {
    let r = limits.get(token);
    if (!r) {
      const limit = token === GITHUB_TOKEN ? 1000 : 5000;
      r = { limit, remaining: limit };
      limits.set(token, r);
    }
    return r;
  };
  let queued: Array<{ status: number; headers?: Record<string, string>; body?: unknown }> = [];
  let tokenUses: number | undefined;
  const issued = new Map<
    string,
    { scope: string; credential: string | undefined; uses: number; maxUses?: number }
  >();
  let tokenSeq = 0;

  /** Which repositories a credential may pull (undefined credential = anonymous). */
  const mayPull = (credential: string | undefined, repo: string): boolean => {
    if (publicPackages.has(repo)) return true;
    if (credential === PAT) return repos.some((r) => r.name === repo);
    if (credential === GITHUB_TOKEN) return workflowPackages.has(repo);
    return false;
  };

  let fake: GhcrFake;
  let origin = '';

  const intercept = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://ghcr.invalid');
    const auth = req.headers.authorization ?? '';
    if (url.pathname === '/token') {
      const scope = url.searchParams.get('scope') ?? '';
      let credential: string | undefined;
      if (auth.startsWith('Basic ')) {
        const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
        const password = decoded.slice(decoded.indexOf(':') + 1);
        if (password !== PAT && password !== GITHUB_TOKEN) {
          tokenRequests.push({ scope, auth: 'basic', status: 401 });
          json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
          return true;
        }
        credential = password;
      }
      tokenRequests.push({ scope, auth: credential ? 'basic' : 'anonymous', status: 200 });
      const token = `ghcr-registry-token-${++tokenSeq}`;
      issued.set(token, {
        scope,
        credential,
        uses: 0,
        ...(tokenUses !== undefined ? { maxUses: tokenUses } : {}),
      });
      // GHCR sends no expires_in: clients assume the spec's 60 s.
      json(res, 200, { token });
      return true;
    }
    if (!url.pathname.startsWith('/v2')) return false;
    const route = parseRegistryPath(url.pathname);
    const challenge = (scope: string, error?: string) =>
      `Bearer realm="${origin}/token",service="ghcr.io",scope="${scope}"${error ? `,error="${error}"` : ''}`;
    const deny = (status: number, reason: string, code: string, message: string, header?: string) => {
      denials.push({ path: url.pathname, status, reason });
      json(res, status, { errors: [{ code, message }] }, header ? { 'www-authenticate': header } : {});
      return true;
    };
    const scopeFor =
      route.kind === 'catalog' ? 'registry:catalog:*' : `repository:${route.name ?? 'user/image'}:pull`;
    if (!auth) {
      // The ping's scope names no real repository: clients must build their own.
      return deny(
        401,
        'no credentials',
        'UNAUTHORIZED',
        'authentication required',
        challenge(route.kind === 'ping' ? 'repository:user/image:pull' : scopeFor),
      );
    }
    if (auth.startsWith('Basic ')) return deny(403, 'raw basic', 'DENIED', 'invalid token');
    if (!auth.startsWith('Bearer '))
      return deny(401, 'unknown scheme', 'UNAUTHORIZED', 'authentication required', challenge(scopeFor));
    const presented = auth.slice(7);
    let grant = issued.get(presented);
    if (!grant) {
      // GHCR also takes base64(token) or base64(user:token) as a bearer without an exchange.
      const decoded = Buffer.from(presented, 'base64').toString('utf8');
      const secret = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : decoded;
      if (secret === PAT || secret === GITHUB_TOKEN) grant = { scope: '*', credential: secret, uses: 0 };
    }
    if (!grant)
      return deny(
        401,
        'unknown token',
        'UNAUTHORIZED',
        'authentication required',
        challenge(scopeFor, 'invalid_token'),
      );
    grant.uses++;
    if (grant.maxUses !== undefined && grant.uses > grant.maxUses) {
      return deny(
        401,
        'expired token',
        'UNAUTHORIZED',
        'authentication required',
        challenge(scopeFor, 'invalid_token'),
      );
    }
    if (route.kind === 'ping') return false;
    if (route.kind === 'catalog') {
      if (
        fake.allowCatalog &&
        (grant.scope === '*' || grant.scope === 'registry:catalog:*') &&
        grant.credential
      )
        return false;
      return deny(403, 'catalog', 'DENIED', 'requested access to the resource is denied');
    }
    const name = route.name ?? '';
    const covers = grant.scope === '*' || grant.scope === `repository:${name}:pull`;
    if (!covers || !mayPull(grant.credential, name)) {
      // GHCR's denials carry no WWW-Authenticate header.
      return deny(403, 'no access', 'DENIED', 'requested access to the resource is denied');
    }
    return false;
  };

  const registry = await startDemoRegistry(repos, {
    referrers: 'empty',
    tagPageSize: opts.tagPageSize ?? 100,
    opaqueCursor: true,
    linkStyle: 'relative',
    intercept,
  });
  origin = registry.url;

  const api = await startScriptedServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://api.invalid');
    const base = apiServerUrl;
    const record = (status: number) =>
      apiRequests.push({ method: req.method ?? 'GET', path: req.url ?? '', status });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record(status);
      json(res, status, body, headers);
    };
    const auth = req.headers.authorization ?? '';
    const token = /^(?:token|bearer) (.+)$/i.exec(auth)?.[1];
    if (!token)
      return send(401, {
        message: 'Requires authentication',
        documentation_url: 'https://docs.github.com/rest',
        status: '401',
      });
    if (token !== PAT && token !== GITHUB_TOKEN) {
      return send(401, {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
        status: '401',
      });
    }
    const rate = rateOf(token);
    const rateHeaders = () => ({
      'x-ratelimit-limit': String(rate.limit),
      'x-ratelimit-remaining': String(rate.remaining),
      'x-ratelimit-used': String(rate.limit - rate.remaining),
      'x-ratelimit-reset': String(RESET),
      'x-ratelimit-resource': 'core',
    });
    if (rate.remaining <= 0) {
      return send(
        403,
        {
          message: `API rate limit exceeded for ${token === GITHUB_TOKEN ? 'installation ID 4242' : 'user ID 1'}.`,
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
          status: '403',
        },
        rateHeaders(),
      );
    }
    rate.remaining--;
    const failure = queued.shift();
    if (failure)
      return send(failure.status, failure.body ?? { message: 'You have exceeded a secondary rate limit.' }, {
        ...rateHeaders(),
        ...(failure.headers ?? {}),
      });
    const notFound = () =>
      send(
        404,
        { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' },
        rateHeaders(),
      );

    const page = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
    const perPage = Math.min(restCap, Math.max(1, Number(url.searchParams.get('per_page') ?? '30') || 30));
    const paged = <T>(all: T[]) => {
      const items = all.slice((page - 1) * perPage, page * perPage);
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number) => {
        const u = new URL(url.pathname + url.search, base);
        u.searchParams.set('page', String(p));
        u.searchParams.set('per_page', String(perPage));
        return u.toString();
      };
      const rels: string[] = [];
      if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`);
      if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
      if (page > 1) rels.push(`<${link(1)}>; rel="first"`);
      return answer(items, rels);
    };
    /** A page as GitHub sends it: with an ETag, or a 304 when the client holds the same one. */
    const answer = (body: unknown, rels: string[]) => {
      // GitHub's ETags depend on the token as well as the content (github/docs#34689), and a 304
      // does not count against the rate limit.
      const etag = `W/"${createHash('sha256')
        .update(`${token}\n${JSON.stringify(body)}\n${rels.join(', ')}`)
        .digest('hex')}"`;
      if (req.headers['if-none-match'] === etag) {
        rate.remaining++;
        record(304);
        res.writeHead(304, { etag, ...rateHeaders() });
        return res.end();
      }
      return send(200, body, { ...rateHeaders(), etag, ...(rels.length ? { link: rels.join(', ') } : {}) });
    };

    const attested = /^\/(orgs|users)\/([^/]+)\/attestations\/([^/]+)$/.exec(url.pathname);
    if (attested) {
      const [, kind, owner, subject] = attested;
      if (!(kind === 'orgs' ? orgs : users).has(owner!)) return notFound();
      if (token === GITHUB_TOKEN && !opts.githubTokenAttestations) {
        return send(
          403,
          {
            message: 'Resource not accessible by integration',
            documentation_url: `https://docs.github.com/rest/${kind}/attestations#list-attestations`,
            status: '403',
          },
          rateHeaders(),
        );
      }
      const digest = decodeURIComponent(subject!);
      const all = (opts.attestations ?? [])
        .filter((a) => a.owner === owner && a.digest === digest)
        .map((a, i) => ({
          bundle: attestationBundle(`ghcr.io/${owner}/${a.image ?? 'image'}`, digest, a.predicateType, i),
          repository_id: 4242,
          bundle_url: `https://attestations.invalid/${owner}/${digest}/${i}`,
        }));
      // GitHub holds nothing for this digest: 404, not an empty list.
      if (all.length === 0) return notFound();
      // Cursor paging: `after` is an opaque position, handed out in the Link header.
      const offset = Number(Buffer.from(url.searchParams.get('after') ?? '', 'base64url').toString() || '0');
      const items = all.slice(offset, offset + perPage);
      const rels: string[] = [];
      if (offset + perPage < all.length) {
        const u = new URL(url.pathname, base);
        u.searchParams.set('per_page', String(perPage));
        u.searchParams.set('after', Buffer.from(String(offset + perPage)).toString('base64url'));
        rels.push(`<${u.toString()}>; rel="next"`);
      }
      return answer({ attestations: items }, rels);
    }

    const list = /^\/(orgs|users)\/([^/]+)\/packages$/.exec(url.pathname);
    if (list) {
      const [, kind, owner] = list;
      if (!(kind === 'orgs' ? orgs : users).has(owner!)) return notFound();
      if (url.searchParams.get('package_type') !== 'container')
        return send(400, { message: 'Invalid argument.', status: '400' }, rateHeaders());
      if (token === GITHUB_TOKEN) {
        return send(
          400,
          {
            message: 'Invalid argument.',
            documentation_url: `https://docs.github.com/rest/packages/packages#list-packages-for-${kind === 'orgs' ? 'an-organization' : 'a-user'}`,
            status: '400',
          },
          rateHeaders(),
        );
      }
      const owned = packages
        .filter((p) => p.owner === owner)
        .map((p) => ({
          id: p.versions[0]!.id - 1,
          name: p.name,
          package_type: 'container',
          owner: { login: owner, type: kind === 'orgs' ? 'Organization' : 'User' },
          version_count: p.versions.length,
          visibility: p.visibility,
          url: `${base}/${kind}/${owner}/packages/container/${encodeURIComponent(p.name)}`,
          created_at: p.versions.at(-1)!.created_at,
          updated_at: p.versions[0]!.created_at,
          html_url: `https://github.com/${kind}/${owner}/packages/container/package/${p.name}`,
        }));
      return paged(owned);
    }
    const version = /^\/(orgs|users)\/([^/]+)\/packages\/container\/([^/]+)\/versions\/(\d+)$/.exec(
      url.pathname,
    );
    if (version && req.method === 'DELETE') {
      // GitHub's package version delete: 204, and the manifest with every tag on it is gone from
      // the registry; GHCR does not stop a platform manifest of a kept index from going.
      const [, kind, owner, encoded, id] = version;
      if (!(kind === 'orgs' ? orgs : users).has(owner!)) return notFound();
      const pkg = packages.find((p) => p.owner === owner && p.name === decodeURIComponent(encoded!));
      if (!pkg || (token === GITHUB_TOKEN && !workflowPackages.has(pkg.repo))) return notFound();
      if (token === GITHUB_TOKEN && !opts.githubTokenDeletes) {
        return send(
          403,
          {
            message: 'Resource not accessible by integration',
            documentation_url: `https://docs.github.com/rest/packages/packages#delete-package-version-for-${kind === 'orgs' ? 'an-organization' : 'a-user'}`,
            status: '403',
          },
          rateHeaders(),
        );
      }
      const at = pkg.versions.findIndex((v) => v.id === Number(id));
      if (at < 0) return notFound();
      const [gone] = pkg.versions.splice(at, 1);
      registry.removeManifest(pkg.repo, gone!.name);
      record(204);
      res.writeHead(204, rateHeaders());
      return res.end();
    }
    const one = /^\/(orgs|users)\/([^/]+)\/packages\/container\/([^/]+)(\/versions)?$/.exec(url.pathname);
    if (one) {
      const [, kind, owner, encoded, versions] = one;
      if (!(kind === 'orgs' ? orgs : users).has(owner!)) return notFound();
      const pkg = packages.find((p) => p.owner === owner && p.name === decodeURIComponent(encoded!));
      if (!pkg) return notFound();
      if (token === GITHUB_TOKEN && !workflowPackages.has(pkg.repo)) return notFound();
      if (!versions) {
        return send(
          200,
          {
            id: pkg.versions[0]!.id - 1,
            name: pkg.name,
            package_type: 'container',
            visibility: pkg.visibility,
          },
          rateHeaders(),
        );
      }
      return paged(pkg.versions);
    }
    return notFound();
  });
  const apiServerUrl = api.url;

  fake = {
    url: registry.url,
    apiUrl: api.url,
    registry,
    api,
    apiRequests,
    tokenRequests,
    denials,
    setRemaining: (token, remaining) => {
      rateOf(token).remaining = remaining;
    },
    failNext: (...answers) => {
      queued.push(...answers);
    },
    expireTokensAfter: (uses) => {
      tokenUses = uses;
    },
    allowCatalog: false,
    reset: () => {
      apiRequests.length = 0;
      tokenRequests.length = 0;
      denials.length = 0;
      registry.requests.length = 0;
      limits.clear();
      queued = [];
      tokenUses = undefined;
      fake.allowCatalog = false;
    },
    close: async () => {
      await registry.close();
      await api.close();
    },
  };
  return fake;
}
