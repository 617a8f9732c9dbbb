// The OCI Distribution API as one registry speaks it: ping, catalog and tag listings paginated to
// the end, manifests and blobs verified against their digests. Authentication is delegated to
// RegistryAuth; every request carries the scope it needs.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type RegistryAuth, registryErrorText } from '../auth/registry-auth.js';
import { AuthError, RegistryError } from '../errors.js';
import {
  describeUrl,
  type HttpClient,
  type HttpResponse,
  type RequestKind,
  type Tally,
} from '../http/http-client.js';
import { nextLinkTarget } from '../http/link-header.js';
import { PageWalk, readRows } from '../http/page-walker.js';
import { askedWaitMs } from '../http/retry-after.js';
import { type IndexChild, inferManifestMediaType, parseReferrersIndex } from './manifest.js';
import { MANIFEST_ACCEPT, MediaType } from './media-types.js';

export interface Listing {
  items: string[];
  pages: number;
  /** False when the listing stopped early; `problem` says why. */
  complete: boolean;
  problem?: string;
}

/**
 * What a registry answered when asked to delete one manifest. `refused` is the registry saying
 * no for a reason that asking again will not change: deletes switched off (Distribution's 405
 * UNSUPPORTED), no permission (401/403), or a vendor rule; `failed` is anything else (a 5xx, a
 * timeout, a manifest that was not there). `message` carries the registry's own words.
 */
export type DeleteAnswer =
  | { outcome: 'deleted'; note?: string }
  | {
      outcome: 'refused';
      /** `unsupported`: this registry deletes nothing; `denied`: this credential may not, here. */
      why: 'unsupported' | 'denied';
      status?: number;
      message: string;
    }
  | { outcome: 'failed'; status?: number; message: string };

/**
 * What the OCI 1.1 referrers API says of one digest: `api: false` when the registry has none (it
 * answered 404, 400, 405, 406, or something that is not an OCI index), else every descriptor on
 * every page.
 */
export type Referrers =
  | { api: false; answer: string }
  | { api: true; descriptors: IndexChild[]; pages: number; complete: boolean; problem?: string };

/** What a registry without the referrers API answers for it (OCI distribution spec 1.1). */
const NO_REFERRERS_API = [400, 404, 405, 406];

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface ClientOptions {
  apiUrl: string;
  timeoutMs: number;
  maxPages: number;
  /** Page size asked of tags/list and _catalog; servers may cap it lower. */
  pageSize?: number;
  /** Workarounds for registries whose listings break the Link contract; off for plain registries. */
  pagination?: PaginationQuirks;
  /** A vendor's say on an answer about to become an error (see FailureHook). */
  onFailure?: FailureHook;
}

export interface FailureContext {
  method: 'GET' | 'HEAD' | 'DELETE';
  /** The path below the registry's base, e.g. /v2/library/nginx/manifests/latest. */
  path: string;
  /** The Authorization header the failed request carried. */
  sentAuthorization: string | undefined;
}

/**
 * Called once per request with a non-2xx answer that would otherwise become an error. A vendor
 * returns 'retry' after fixing what it knows went wrong (ECR re-mints an expired registry password),
 * an Error to throw instead of the generic one (Docker Hub explains its pull limit), or undefined
 * for the usual handling.
 */
export type FailureHook = (res: HttpResponse, ctx: FailureContext) => Promise<'retry' | Error | undefined>;

export interface PaginationQuirks {
  /**
   * Take only the query (the cursor: `last`, `n`) from a `Link: rel="next"` and apply it to our own
   * listing path: Artifactory's links drop the repository-key prefix (RTFACT-18971) and Nexus
   * connectors add a /repository/<name> prefix that the connector port does not serve.
   */
  linkQueryOnly?: boolean;
  /**
   * After a non-empty page without a Link, ask for what follows its last item (`last=`), until a
   * page adds nothing: Nexus group repositories cut listings short and send no Link. Costs one
   * request per listing (the empty page that proves the end).
   */
  resumeWithoutLink?: boolean;
}

const CATALOG_SCOPE = 'registry:catalog:*';
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function repositoryScope(repo: string): string {
  return `repository:${repo}:pull`;
}

/**
 * The token scope a manifest DELETE needs: Distribution's token spec names the action `delete`,
 * and its token servers, Docker Hub's, Harbor's and ACR's grant it.
 */
export function deleteScope(repo: string): string {
  return `repository:${repo}:delete`;
}

export function digestOf(bytes: Buffer, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function isDigest(ref: string): boolean {
  return /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/.test(ref);
}

export class RegistryClient {
  readonly origin: string;
  readonly host: string;
  /** Origin plus any path prefix the registry lives under (Nexus, Artifactory), no trailing slash. */
  readonly base: string;
  private pinged: Promise<HttpResponse> | undefined;

  constructor(
    private readonly http: HttpClient,
    readonly auth: RegistryAuth,
    private readonly opts: ClientOptions,
  ) {
    const u = new URL(opts.apiUrl);
    this.origin = u.origin;
    this.host = u.host;
    this.base = `${u.origin}${u.pathname}`.replace(/\/+$/, '');
  }

  /**
   * Checks that the URL is a v2 registry and learns its auth challenge. Once per client: the
   * answer (its headers name some vendors) is kept for whoever asks again.
   */
  ping(): Promise<HttpResponse> {
    this.pinged ??= this.send('GET', '/v2/', 'ping', undefined, {}, { allow404: true }).then((res) => {
      if (res.status === 404) {
        throw new RegistryError(
          `${this.host} has no /v2/ API (HTTP 404): api_url must point at an OCI/Docker registry`,
          { status: 404 },
        );
      }
      return res;
    });
    return this.pinged;
  }

  /**
   * An authenticated request to any path on this registry (vendor APIs that share its tokens,
   * such as ACR's /acr/v1 or GCR's tags/list extensions). Paths starting with /v2 are resolved
   * under the registry's base; other paths against its origin.
   */
  request(
    method: 'GET' | 'HEAD',
    pathOrUrl: string,
    kind: RequestKind,
    scope: string | undefined,
    headers: Record<string, string> = {},
    opts: { allow404?: boolean; maxBytes?: number; tally?: Tally | undefined } = {},
  ): Promise<HttpResponse> {
    return this.send(method, pathOrUrl, kind, scope, headers, opts);
  }

  listRepositories(): Promise<Listing> {
    return this.paginate('/v2/_catalog', 'repositories', 'catalog', CATALOG_SCOPE);
  }

  listTags(repo: string, tally?: Tally): Promise<Listing> {
    return this.paginate(`/v2/${repo}/tags/list`, 'tags', 'tags', repositoryScope(repo), tally);
  }

  /** A tag's current digest, from a HEAD (free of pull quota where registries count pulls). */
  async headManifest(
    repo: string,
    ref: string,
    tally?: Tally,
  ): Promise<{ digest: string; mediaType?: string } | FetchedManifest> {
    const res = await this.send(
      'HEAD',
      `/v2/${repo}/manifests/${ref}`,
      'manifest-head',
      repositoryScope(repo),
      {
        accept: MANIFEST_ACCEPT,
      },
      { tally },
    );
    const digest = res.headers['docker-content-digest'];
    // Old registries omit the header on HEAD; the body is then the only trustworthy source.
    if (!digest || !isDigest(digest)) return this.getManifest(repo, ref, tally);
    return { digest, mediaType: contentType(res) };
  }

  /** A manifest by tag or digest; its bytes are verified against the digest we record. */
  async getManifest(repo: string, ref: string, tally?: Tally): Promise<FetchedManifest> {
    const res = await this.send(
      'GET',
      `/v2/${repo}/manifests/${ref}`,
      'manifest',
      repositoryScope(repo),
      { accept: MANIFEST_ACCEPT },
      {
        maxBytes: MAX_MANIFEST_BYTES,
        tally,
      },
    );
    return this.verifiedManifest(repo, ref, res);
  }

  /**
   * A tag's manifest unless it still points at `knownDigest`: registries use the digest as the
   * manifest's ETag, so If-None-Match with it answers 304 for an unchanged tag (one request, like a
   * HEAD) and the new manifest for a moved one (one request where HEAD + GET took two). A server
   * that ignores the condition simply sends the manifest.
   */
  async getManifestIfChanged(
    repo: string,
    tag: string,
    knownDigest: string,
    tally?: Tally,
  ): Promise<FetchedManifest | { unchanged: true }> {
    const res = await this.send(
      'GET',
      `/v2/${repo}/manifests/${tag}`,
      'manifest',
      repositoryScope(repo),
      { accept: MANIFEST_ACCEPT, 'if-none-match': `"${knownDigest}"` },
      { maxBytes: MAX_MANIFEST_BYTES, tally, allow304: true },
    );
    if (res.status !== 304) return this.verifiedManifest(repo, tag, res);
    const header = res.headers['docker-content-digest'];
    // A 304 naming another digest contradicts itself; ask again without the condition.
    if (header && isDigest(header) && header !== knownDigest) return this.getManifest(repo, tag, tally);
    return { unchanged: true };
  }

  private verifiedManifest(repo: string, ref: string, res: HttpResponse): FetchedManifest {
    const bytes = res.body;
    const header = res.headers['docker-content-digest'];
    const algorithm = isDigest(ref) ? ref.split(':')[0]! : 'sha256';
    const computed = digestOf(bytes, algorithm);
    const mediaType = inferManifestMediaType(bytes, contentType(res));
    if (!mediaType) {
      // A body that is not JSON at all (a login portal's HTML, a proxy's error text) is not "a
      // manifest without a media type": say what arrived instead, never echoing its content.
      let json = true;
      try {
        JSON.parse(bytes.toString('utf8'));
      } catch {
        json = false;
      }
      throw new RegistryError(
        json
          ? `${this.host}/${repo}:${ref}: the manifest names no media type and the registry sent no Content-Type`
          : `${this.host}/${repo}:${ref}: the registry answered with something that is not a manifest (${res.headers['content-type'] ?? 'no content type'}, ${bytes.length} bytes)`,
      );
    }
    // Signed schema1 manifests are digested without their signatures, so only the header can say.
    const digest = mediaType === MediaType.DockerSchema1Signed && header ? header : computed;
    if (isDigest(ref) && digest !== ref) {
      throw new RegistryError(
        `${this.host}/${repo}@${ref}: the registry sent a manifest whose sha256 is ${computed}; refusing it`,
        {
          code: 'DIGEST_INVALID',
        },
      );
    }
    if (header && isDigest(header) && header !== digest && header.startsWith('sha256:')) {
      throw new RegistryError(
        `${this.host}/${repo}:${ref}: Docker-Content-Digest says ${header} but the body hashes to ${computed}; refusing it`,
        {
          code: 'DIGEST_INVALID',
        },
      );
    }
    return { digest, mediaType, bytes };
  }

  /**
   * The referrers of a digest through the OCI 1.1 API, every page. No artifactType filter is
   * asked: every kind is wanted, and a registry may ignore the filter anyway. `kind` is
   * 'referrers-probe' for the question whether the API exists at all.
   */
  async referrers(
    repo: string,
    digest: string,
    tally?: Tally,
    kind: 'referrers' | 'referrers-probe' = 'referrers',
  ): Promise<Referrers> {
    let absent: string | undefined;
    const walk = PageWalk.links<IndexChild>({
      source: 'the registry',
      maxPages: this.opts.maxPages,
      first: `${this.base}/v2/${repo}/referrers/${digest}`,
      origin: this.origin,
      read: async (url, index) => {
        const res = await this.send(
          'GET',
          url,
          kind,
          repositoryScope(repo),
          { accept: MediaType.OciIndex },
          { tally, ...(index === 0 ? { allowStatuses: NO_REFERRERS_API } : {}) },
        );
        const descriptors = res.status === 200 ? parseReferrersIndex(res.body) : undefined;
        if (!descriptors) {
          if (index > 0) throw new RegistryError(`${describeUrl(url)}: a referrers page is not an OCI index`);
          absent =
            res.status === 200
              ? `HTTP 200 with ${contentType(res) ?? 'no content type'}`
              : `HTTP ${res.status}`;
          return { items: [] };
        }
        return { items: descriptors, url, next: nextLinkTarget(res.headers.link) };
      },
    });
    const items: IndexChild[] = [];
    for await (const page of walk) items.push(...page.items);
    if (absent) return { api: false, answer: absent };
    return { api: true, descriptors: items, ...walk.verdict };
  }

  /**
   * Deletes a manifest by digest, and with it every tag on it (`DELETE /v2/<name>/manifests/<digest>`,
   * 202 Accepted). Only a digest is accepted: deleting "by tag" would remove whatever the tag points
   * at by the time the request lands. The registry's refusals come back as answers, not errors.
   */
  async deleteManifest(repo: string, digest: string, tally?: Tally): Promise<DeleteAnswer> {
    if (!isDigest(digest)) {
      return {
        outcome: 'failed',
        message: `${JSON.stringify(digest)} is not a manifest digest; nothing sent`,
      };
    }
    let res: HttpResponse;
    try {
      res = await this.send(
        'DELETE',
        `/v2/${repo}/manifests/${digest}`,
        'delete',
        deleteScope(repo),
        {},
        { tally, allowStatuses: [400, 404, 405] },
      );
    } catch (err) {
      if (err instanceof AuthError) {
        return { outcome: 'refused', why: 'denied', ...statusOf(err), message: err.message };
      }
      if (err instanceof RegistryError) return { outcome: 'failed', ...statusOf(err), message: err.message };
      throw err;
    }
    return deleteAnswer(res, `${this.host}/${repo}@${digest}`);
  }

  /** A (small) blob such as an image config, verified against its digest. */
  async getBlob(repo: string, digest: string, tally?: Tally): Promise<Buffer> {
    const res = await this.send(
      'GET',
      `/v2/${repo}/blobs/${digest}`,
      'blob',
      repositoryScope(repo),
      {},
      { maxBytes: MAX_CONFIG_BYTES, tally },
    );
    const computed = digestOf(res.body, digest.split(':')[0]);
    if (computed !== digest) {
      throw new RegistryError(
        `${this.host}/${repo}: blob ${digest} arrived with sha256 ${computed}; refusing it`,
        { code: 'DIGEST_INVALID' },
      );
    }
    return res.body;
  }

  private async paginate(
    path: string,
    key: 'repositories' | 'tags',
    kind: RequestKind,
    scope: string,
    tally?: Tally,
  ): Promise<Listing> {
    const quirks = this.opts.pagination ?? {};
    const listing = `${this.base}${path}`;
    let pageSize = this.opts.pageSize ?? 1000;
    const seen = new Set<string>();
    let previousPageLength = 0;
    const walk = PageWalk.links<string>({
      source: 'the registry',
      maxPages: this.opts.maxPages,
      first: `${listing}?n=${pageSize}`,
      origin: this.origin,
      ...(quirks.linkQueryOnly ? { rewrite: (next: URL) => `${listing}${next.search}` } : {}),
      read: async (asked, index) => {
        let url = asked;
        const get = () =>
          this.send(
            'GET',
            url,
            kind,
            scope,
            { accept: 'application/json' },
            { allow400: index === 0, tally },
          );
        let res = await get();
        if (res.status === 400 && index === 0 && pageSize > 100) {
          // Distribution rejects n above catalog.maxentries (default 1000) with PAGINATION_NUMBER_INVALID.
          pageSize = 100;
          url = `${listing}?n=${pageSize}`;
          res = await get();
        }
        if (res.status === 400) throw this.statusError(res, url);
        const page = parseListPage(res, key, url);
        let next = nextLinkTarget(res.headers.link);
        let end: string | undefined;
        if (!next && quirks.resumeWithoutLink && page.items.length > 0) {
          if (page.items.some((item) => !seen.has(item))) {
            next = `${listing}?n=${pageSize}&last=${encodeURIComponent(page.items[page.items.length - 1]!)}`;
          } else if (previousPageLength >= pageSize) {
            // The same full page again: the server ignores `last`, so what lies past it is unreachable.
            end = `the registry returned a full page of ${pageSize} with no next-page link and ignores \`last\`; the listing may be cut short`;
          }
        }
        previousPageLength = page.items.length;
        return { ...page, url, next, ...(end ? { end } : {}) };
      },
    });
    for await (const page of walk) for (const item of page.items) seen.add(item);
    return { items: [...seen], ...walk.verdict };
  }

  /**
   * One request with authentication: the header we already have, and on a 401 one more try after
   * learning the challenge or replacing an expired token. Non-2xx answers other than those the
   * caller allows become RegistryErrors naming the registry and the resource.
   */
  private async send(
    method: 'GET' | 'HEAD' | 'DELETE',
    pathOrUrl: string,
    kind: RequestKind,
    scope: string | undefined,
    headers: Record<string, string>,
    opts: {
      allow404?: boolean;
      allow400?: boolean;
      allow304?: boolean;
      /** Further statuses the caller reads itself. */
      allowStatuses?: readonly number[];
      maxBytes?: number;
      tally?: Tally | undefined;
    } = {},
  ): Promise<HttpResponse> {
    const url = pathOrUrl.startsWith('/v2')
      ? `${this.base}${pathOrUrl}`
      : pathOrUrl.startsWith('/')
        ? `${this.origin}${pathOrUrl}`
        : pathOrUrl;
    for (let round = 0; ; round++) {
      let res: HttpResponse | undefined;
      let sent: string | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        sent = await this.auth.header(scope);
        res = await this.http.request({
          method,
          url,
          kind,
          timeoutMs: this.opts.timeoutMs,
          headers: { ...headers, ...(sent ? { authorization: sent } : {}) },
          ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}),
          ...(opts.tally ? { tally: opts.tally } : {}),
        });
        if (res.status !== 401) break;
        if (kind === 'ping') {
          this.auth.onUnauthorized(res, scope, sent);
          return res;
        }
        if (!this.auth.onUnauthorized(res, scope, sent)) break;
      }
      res = res!;
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 404 && opts.allow404) return res;
      if (res.status === 304 && opts.allow304) return res;
      if (res.status === 400 && opts.allow400) return res;
      if (opts.allowStatuses?.includes(res.status)) return res;
      const path = url.startsWith(this.base) ? url.slice(this.base.length) : new URL(url).pathname;
      const verdict = await this.opts.onFailure?.(res, { method, path, sentAuthorization: sent });
      if (verdict === 'retry' && round === 0) continue;
      if (verdict instanceof Error) throw verdict;
      if (res.status === 401 || res.status === 403) throw this.auth.denied(res.status, scope, res);
      throw this.statusError(res, url);
    }
  }

  private statusError(res: HttpResponse, url: string): RegistryError {
    const detail = registryErrorText(res);
    const retry = res.headers['retry-after'];
    const what = describeUrl(url);
    if (res.status === 429) {
      // The HTTP client hands back, unretried, a 429 that asks for a longer wait than it allows:
      // "retried and gave up" would then be untrue, and the fix is to run later, not to retry.
      const asked = askedWaitMs(res.headers);
      const tooLong = asked !== undefined && asked > this.http.maxRetryAfterMs;
      const wait = retry
        ? `the registry asks to wait ${/^\d+$/.test(retry.trim()) ? `${retry.trim()} s` : retry}`
        : '';
      const outcome = tooLong
        ? `; ${wait || 'the registry asks for a wait'}, longer than a run waits; run again later`
        : `${wait ? `; ${wait}` : ''}; retried and gave up`;
      return new RegistryError(`${what}: rate-limited (HTTP 429${detail ? `: ${detail}` : ''})${outcome}`, {
        status: 429,
        retryable: true,
      });
    }
    const code = detail?.split(' ')[0];
    return new RegistryError(`${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`, {
      status: res.status,
      ...(code ? { code } : {}),
      retryable: res.status >= 500,
    });
  }
}

function statusOf(err: RegistryError): { status?: number } {
  return err.details.status !== undefined ? { status: err.details.status } : {};
}

/**
 * A DELETE's answer as the OCI distribution spec and its registries give it: 202 (or any 2xx)
 * deleted; 405 the registry deletes nothing (Distribution without storage.delete.enabled answers
 * UNSUPPORTED); 403 no permission, or a vendor rule (Docker Hub: a manifest still tagged or
 * referenced); 404 nothing there by that digest; 400 a digest or name the registry rejects.
 */
export function deleteAnswer(res: HttpResponse, what: string): DeleteAnswer {
  if (res.status >= 200 && res.status < 300) return { outcome: 'deleted' };
  const detail = registryErrorText(res);
  const said = `HTTP ${res.status}${detail ? `: ${detail}` : ''}`;
  if (res.status === 405) {
    return {
      outcome: 'refused',
      why: 'unsupported',
      status: 405,
      message: `${what}: the registry does not allow deletes (${said}); on Distribution set storage.delete.enabled: true`,
    };
  }
  if (res.status === 403 || res.status === 401) {
    return {
      outcome: 'refused',
      why: 'denied',
      status: res.status,
      message: `${what}: the registry refused the delete (${said}); the credential needs delete permission on the repository`,
    };
  }
  if (res.status === 404) {
    return {
      outcome: 'failed',
      status: 404,
      message: `${what}: not found (${said}); deleted already, or never in this repository`,
    };
  }
  return { outcome: 'failed', status: res.status, message: `${what}: ${said}` };
}

function contentType(res: HttpResponse): string | undefined {
  const ct = res.headers['content-type'];
  return ct ? ct.split(';')[0]!.trim() : undefined;
}

function parseListPage(
  res: HttpResponse,
  key: 'repositories' | 'tags',
  url: string,
): { items: string[]; rejected: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(res.body.toString('utf8'));
  } catch {
    const ct = res.headers['content-type'] ?? 'no content type';
    throw new RegistryError(
      `${describeUrl(url)}: expected a JSON listing but got something else (${ct}, ${res.body.length} bytes)`,
      {
        code: 'INVALID_JSON',
      },
    );
  }
  if (!doc || typeof doc !== 'object')
    throw new RegistryError(`${describeUrl(url)}: the listing is not a JSON object`);
  const value = (doc as Record<string, unknown>)[key];
  // Distribution answers `"tags": null` for a repository whose tags were all deleted.
  if (value === null) return { items: [], rejected: [] };
  // No key at all is some other JSON (a gateway, a login page's API): read as "empty", a complete
  // listing would let the upload delete every repository or tag it used to hold.
  if (value === undefined)
    throw new RegistryError(
      `${describeUrl(url)}: the answer has no "${key}" list; it is not a registry listing`,
    );
  if (!Array.isArray(value)) {
    throw new RegistryError(`${describeUrl(url)}: "${key}" in the listing is not a list of names`);
  }
  return readRows(value, z.string(), key === 'tags' ? 'tag' : 'repository');
}
