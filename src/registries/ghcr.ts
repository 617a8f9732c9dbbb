// GitHub Container Registry. ghcr.io has no usable _catalog and its tags/list carries no digests
// or dates, so packages and their versions (digest, tags, created_at) come from the GitHub
// Packages REST API. That API is picky about tokens: a workflow's GITHUB_TOKEN cannot list an
// organisation's packages (HTTP 400 "Invalid argument."), yet it can read the versions of the
// packages its repository may access. So the listing falls back to the packages we can name (the
// selectors', the workflow repository's), and the versions fall back to the registry itself.
// Attestations made in GitHub Actions live in GitHub's attestation store rather than the
// registry, so their predicate types are asked of the REST API per selected digest.
import { getOctokit } from '@actions/github';
import { z } from 'zod';
import { selectorFor } from '../config/select.js';
import type { Credentials } from '../config/settings.js';
import { AuthError, RegistryError } from '../errors.js';
import type { Tally } from '../http/http-client.js';
import { nextLinkTarget } from '../http/link-header.js';
import { optionalFact, PageWalk, readPage, readRows } from '../http/page-walker.js';
import type { RepositoryInfo, UntaggedManifest } from '../model/discovery.js';
import type { RegistryClient } from '../oci/registry-client.js';
import type {
  DeleteAnswer,
  OpenAdapter,
  RegistryAdapter,
  RepositoryListing,
  TagListing,
  VendorAttestations,
  VendorContext,
  VendorTag,
} from './registry-adapter.js';
import { literalNames, literalNamespace, namingAdvice } from './selector-names.js';
import { firstString } from './vendor-api.js';

const PER_PAGE = 100;
/** Below this many requests left, the API is kept for other jobs sharing the token's hourly budget. */
export const LOW_BUDGET = 50;
const PAT_FIX = 'a classic PAT with read:packages';
const DEFAULT_API = 'https://api.github.com';
const DIGEST = /^sha256:[a-f0-9]{64}$/;

type OwnerKind = 'orgs' | 'users';

interface RateLimit {
  limit: number;
  remaining: number;
  used?: number;
  /** Unix seconds. */
  reset?: number;
}

interface ApiAnswer {
  status: number;
  data: unknown;
  headers: Record<string, string>;
}

export function formatReset(reset: number | undefined): string {
  if (reset === undefined) return '';
  const d = new Date(reset * 1000);
  return `resets ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
}

function apiMessage(data: unknown): string | undefined {
  if (data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string')
    return (data as { message: string }).message;
  return undefined;
}

function isRateLimited(a: ApiAnswer): boolean {
  if (a.status === 429) return true;
  if (a.status !== 403) return false;
  return a.headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(apiMessage(a.data) ?? '');
}

/**
 * The GitHub REST API through Octokit, with every request sent by our HttpClient (so it is
 * retried, capped, and counted in receipts) and its rate-limit headers watched.
 */
class GitHubApi {
  spent = 0;
  rate: RateLimit | undefined;
  /** Why the API is no longer used this run (rate limit reached or nearly so). */
  stopped: string | undefined;
  readonly host: string;
  private readonly octokit: ReturnType<typeof getOctokit>;

  constructor(
    private readonly ctx: VendorContext,
    token: string,
    readonly baseUrl: string,
  ) {
    this.host = new URL(baseUrl).host;
    const log = ctx.log;
    this.octokit = getOctokit(token, {
      baseUrl,
      userAgent: 'devgraph-docker-action',
      request: { fetch: this.fetchVia(undefined) },
      log: {
        debug: (m: string) => log.debug(m),
        info: (m: string) => log.debug(m),
        warn: (m: string) => log.warn(m),
        error: (m: string) => log.warn(m),
      },
    });
  }

  get usable(): boolean {
    return this.stopped === undefined;
  }

  /** `GET` a route or an absolute next-page URL; any HTTP status comes back as an answer. */
  get(url: string, tally: Tally | undefined): Promise<ApiAnswer> {
    return this.send('GET', url, tally);
  }

  /** `DELETE` a route (a package version); any HTTP status comes back as an answer. */
  delete(url: string, tally: Tally): Promise<ApiAnswer> {
    return this.send('DELETE', url, tally);
  }

  private async send(method: 'GET' | 'DELETE', url: string, tally: Tally | undefined): Promise<ApiAnswer> {
    const low = this.rate && this.rate.remaining < LOW_BUDGET;
    if (low && !this.stopped) {
      this.stop(
        `only ${this.rate!.remaining} of ${this.rate!.limit} GitHub API requests left (${formatReset(this.rate!.reset)})`,
      );
    }
    if (this.stopped) throw new ApiStopped(this.stopped);
    try {
      const res = await this.octokit.request({
        method,
        url,
        headers: { 'x-github-api-version': '2022-11-28' },
        request: { fetch: this.fetchVia(tally) },
      });
      return { status: res.status, data: res.data, headers: res.headers as Record<string, string> };
    } catch (err) {
      const e = err as { status?: number; response?: { data?: unknown; headers?: Record<string, string> } };
      // Octokit wraps our own failures (DNS, timeouts) as status 500 without a response.
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof RegistryError) throw cause;
      if (typeof e.status === 'number' && e.response) {
        const answer = { status: e.status, data: e.response.data, headers: e.response.headers ?? {} };
        if (isRateLimited(answer)) this.stop(this.rateLimitText(answer));
        return answer;
      }
      throw new RegistryError(`GitHub API ${this.host}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.ctx.log.warn(
      `${this.ctx.settings.name}: ${reason}; the remaining repositories are listed through the registry (tags/list + HEAD per tag)`,
    );
  }

  private rateLimitText(a: ApiAnswer): string {
    const r = this.rate;
    const parts = [`HTTP ${a.status}${apiMessage(a.data) ? ` "${apiMessage(a.data)}"` : ''}`];
    if (r) parts.push(`${r.remaining} of ${r.limit} left`);
    if (r?.reset !== undefined) parts.push(formatReset(r.reset));
    if (a.headers['retry-after']) parts.push(`retry after ${a.headers['retry-after']} s`);
    return `GitHub API rate limit reached (${parts.join('; ')})`;
  }

  private observe(headers: Record<string, string>): void {
    const num = (k: string) => {
      const v = headers[k];
      return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
    };
    const limit = num('x-ratelimit-limit');
    const remaining = num('x-ratelimit-remaining');
    if (limit === undefined || remaining === undefined) return;
    const used = num('x-ratelimit-used');
    const reset = num('x-ratelimit-reset');
    this.rate = {
      limit,
      remaining,
      ...(used !== undefined ? { used } : {}),
      ...(reset !== undefined ? { reset } : {}),
    };
  }

  private fetchVia(tally: Tally | undefined): typeof fetch {
    return async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((v, k) => {
        headers[k] = v;
      });
      const attempts: Tally = { requests: 0 };
      let res: Awaited<ReturnType<VendorContext['http']['request']>>;
      try {
        const method = init?.method === 'DELETE' ? 'DELETE' : 'GET';
        res = await this.ctx.http.request({
          method,
          url,
          kind: method === 'DELETE' ? 'delete' : 'vendor-api',
          headers,
          timeoutMs: this.ctx.settings.timeoutMs,
          tally: attempts,
        });
      } finally {
        this.spent += attempts.requests;
        if (tally) tally.requests += attempts.requests;
      }
      this.observe(res.headers);
      const empty = res.status === 204 || res.status === 205 || res.status === 304;
      return new Response(empty ? null : new Uint8Array(res.body), {
        status: res.status,
        headers: res.headers,
      });
    };
  }
}

class ApiStopped extends Error {}

const BUDGET_SPENT = 'the GitHub API rate limit is reached';
const REFUSED = 'the token may not read them';

interface Refusal {
  owner: string;
  reason: string;
  why: 'token' | 'budget';
}

interface Walk {
  /** The refused answer, when the first page was not a 200. */
  refused?: ApiAnswer;
  pages: number;
  complete: boolean;
  problem?: string;
}

/** A first page other than 200, handed to the caller to decide (another owner kind, a fallback). */
class Refused extends Error {
  constructor(readonly answer: ApiAnswer) {
    super(`HTTP ${answer.status}`);
  }
}

/** Every GitHub Packages list answer is a bare JSON array. */
const GitHubPage = z.array(z.unknown());

const GitHubPackage = z.object({ name: z.string(), updated_at: optionalFact(z.string()) });

const GitHubVersion = z
  .object({
    // What a version delete names it by.
    id: optionalFact(z.number().int()),
    // The version's digest.
    name: z.string(),
    created_at: optionalFact(z.string()),
    updated_at: optionalFact(z.string()),
    // Untagged versions (platform images and attestations inside an index) have an empty list.
    metadata: z.object({ container: z.object({ tags: z.array(z.string()) }).nullish() }).nullish(),
  })
  // created_at is when this digest was pushed; updated_at also moves when a tag is added to or
  // taken away from it, which would make an old image look fresh: it only stands in.
  .transform((v) => ({
    id: v.id ?? undefined,
    digest: v.name,
    tags: v.metadata?.container?.tags,
    pushedAt: firstString(v.created_at, v.updated_at),
  }));

/** An attestations answer is an object holding the page's rows. */
const AttestationsPage = z.object({ attestations: z.array(z.unknown()) }).transform((o) => o.attestations);

/** A DSSE payload as the in-toto statement it encodes, or null when it is not base64 JSON. */
function decodeStatement(payload: string): unknown {
  try {
    return JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

/**
 * One stored attestation: a sigstore bundle whose DSSE envelope carries the in-toto statement,
 * read for its predicate type only. The signature is not checked here: a type says what GitHub
 * keeps about the image, not that the attestation is genuine (`gh attestation verify` does that).
 */
const GitHubAttestation = z
  .object({
    bundle: z.object({
      dsseEnvelope: z.object({
        payload: z
          .string()
          .transform(decodeStatement)
          .pipe(z.looseObject({ predicateType: z.string() })),
      }),
    }),
  })
  .transform((a) => a.bundle.dsseEnvelope.payload.predicateType);

export const ATTESTATIONS_SOURCE = 'GitHub attestations API';

/** Credentials for the registry and the API token, and where they came from. */
function ghcrCredentials(ctx: VendorContext): { creds: Credentials; token?: string; source: string } {
  const c = ctx.credentials;
  const user = ctx.ambient.env.GITHUB_ACTOR || 'x-access-token';
  // ghcr.io accepts any user name with the token on its token service; raw Bearer PATs are refused.
  if (c.username && (c.password ?? c.token)) {
    const token = (c.password ?? c.token)!;
    return { creds: { username: c.username, password: token }, token, source: ctx.credentialSource };
  }
  if (c.token || c.password) {
    const token = (c.token ?? c.password)!;
    return { creds: { username: user, password: token }, token, source: ctx.credentialSource };
  }
  if (ctx.ambient.githubToken) {
    return {
      creds: { username: user, password: ctx.ambient.githubToken },
      token: ctx.ambient.githubToken,
      source: "the workflow's GITHUB_TOKEN (github-token)",
    };
  }
  return { creds: {}, source: 'no credential source' };
}

class Ghcr implements RegistryAdapter {
  readonly headFirst = false;
  readonly scansVulnerabilities = false;
  private readonly api: GitHubApi | undefined;
  private readonly ownerKind = new Map<string, OwnerKind>();
  private listingFallback: string | undefined;
  private readonly versionFallbacks: string[] = [];
  /** Owners whose attestations the token may not read, with GitHub's answer: asked once each. */
  private readonly attestationRefusals = new Map<string, string>();
  private readonly attestationCounts = { asked: 0, found: 0 };
  /** Digests not looked up, by why: no token, the budget spent, a refusing token. */
  private readonly attestationsUnasked = new Map<string, number>();
  /** Package version ids by digest, per repository, from the versions listing (what a delete names). */
  private readonly versionIds = new Map<string, Map<string, number>>();

  constructor(
    private readonly ctx: VendorContext,
    readonly client: RegistryClient,
    private readonly source: string,
    token: string | undefined,
  ) {
    const p = ctx.settings;
    const base = (p.githubApiUrl ?? ctx.ambient.env.GITHUB_API_URL ?? DEFAULT_API).replace(/\/+$/, '');
    if (token) this.api = new GitHubApi(ctx, token, base);
  }

  describeCredential(): string {
    return `${this.client.auth.describeCredential()} from ${this.source}`;
  }

  notes(): string[] {
    const out: string[] = [];
    const api = this.api;
    if (api && (api.spent > 0 || api.rate)) {
      const r = api.rate;
      const left = r
        ? `, ${r.remaining} of ${r.limit} left${r.reset !== undefined ? ` (${formatReset(r.reset)})` : ''}`
        : '';
      out.push(`GitHub API: ${api.spent} request${api.spent === 1 ? '' : 's'} spent${left}`);
    }
    if (this.listingFallback) out.push(this.listingFallback);
    if (api?.stopped) out.push(`${api.stopped}; later repositories were listed through the registry`);
    if (this.versionFallbacks.length > 0) {
      out.push(
        `GitHub API: versions not readable for ${this.versionFallbacks.join('; ')}; listed through the registry (tags/list + HEAD per tag)`,
      );
    }
    out.push(...this.attestationNotes());
    return out;
  }

  private attestationNotes(): string[] {
    const out: string[] = [];
    const { asked, found } = this.attestationCounts;
    if (asked > 0)
      out.push(`${ATTESTATIONS_SOURCE}: ${asked} image digests looked up, ${found} with attestations`);
    if (this.attestationRefusals.size > 0) {
      const who = [...this.attestationRefusals].map(([owner, why]) => `${owner} (${why})`).join(', ');
      out.push(
        `${ATTESTATIONS_SOURCE}: the token may not read the attestations of ${who}; their images were not checked against GitHub's attestation store; give a fine-grained token or the workflow's GITHUB_TOKEN attestations: read (in a workflow: permissions: attestations: read)`,
      );
    }
    for (const [why, n] of this.attestationsUnasked)
      out.push(`${ATTESTATIONS_SOURCE}: not asked for ${n} image digests (${why})`);
    return out;
  }

  /**
   * The in-toto predicate types GitHub keeps for a digest (actions/attest-build-provenance and
   * friends), every page read. GitHub answers 404 when it holds none. A token that may not read
   * them is asked once per owner: the refusal becomes one note, not one error per image.
   */
  async vendorAttestations(
    repo: string,
    digest: string,
    tally: Tally,
  ): Promise<VendorAttestations | undefined> {
    const api = this.api;
    const owner = repo.split('/')[0]!;
    if (!DIGEST.test(digest)) return undefined;
    if (!api) return this.unasked('no GitHub token');
    if (!api.usable) return this.unasked(BUDGET_SPENT);
    if (this.attestationRefusals.has(owner)) return this.unasked(REFUSED);
    const kinds = this.kindsOf(owner);
    try {
      for (const kind of kinds) {
        const types = new Set<string>();
        const walk = await this.walk(
          // Encoded: Octokit would read the `:hex` of a bare digest as a URL template parameter.
          `/${kind}/${encodeURIComponent(owner)}/attestations/${encodeURIComponent(digest)}?per_page=${PER_PAGE}`,
          `the attestations of ${repo}@${digest}`,
          { row: GitHubAttestation, noun: 'attestation', page: AttestationsPage },
          tally,
          0,
          (items) => {
            for (const t of items) types.add(t);
          },
        );
        const refused = walk.refused;
        if (refused?.status === 404 && kind === 'orgs' && kinds.length > 1) continue;
        if (refused?.status === 404) return this.attested(owner, undefined, []);
        if (refused || (!walk.complete && api.stopped)) {
          if (api.stopped) return this.unasked(BUDGET_SPENT);
          if (refused!.status === 429 || refused!.status >= 500) {
            throw new RegistryError(
              `GitHub API ${api.host}: ${this.versionRefusal(refused!)} reading the attestations of ${repo}@${digest}`,
              { status: refused!.status, retryable: true },
            );
          }
          this.refuseAttestations(owner, this.versionRefusal(refused!));
          return undefined;
        }
        if (!walk.complete) {
          throw new RegistryError(
            `GitHub API ${api.host}: the attestations of ${repo}@${digest}: ${walk.problem}`,
          );
        }
        return this.attested(owner, kind, [...types].sort());
      }
    } catch (err) {
      if (err instanceof ApiStopped) return this.unasked(BUDGET_SPENT);
      if (err instanceof AuthError) {
        this.refuseAttestations(owner, `HTTP ${err.details.status ?? 401}`);
        return undefined;
      }
      throw err;
    }
    return this.attested(owner, undefined, []);
  }

  private attested(owner: string, kind: OwnerKind | undefined, predicateTypes: string[]): VendorAttestations {
    // A 404 may only say "none for this digest": the owner's kind is learnt from a 200 alone.
    if (kind) this.ownerKind.set(owner, kind);
    this.attestationCounts.asked++;
    if (predicateTypes.length > 0) this.attestationCounts.found++;
    return { source: ATTESTATIONS_SOURCE, predicateTypes };
  }

  private unasked(why: string): undefined {
    this.attestationsUnasked.set(why, (this.attestationsUnasked.get(why) ?? 0) + 1);
    return undefined;
  }

  private refuseAttestations(owner: string, reason: string): void {
    this.unasked(REFUSED);
    if (this.attestationRefusals.has(owner)) return;
    this.attestationRefusals.set(owner, reason);
    // Said once in the log and in the summary note; a warning on every run would be noise for the
    // default GITHUB_TOKEN, which lacks attestations: read.
    this.ctx.log.info(`${this.ctx.settings.name}: ${ATTESTATIONS_SOURCE}: ${owner}: ${reason}`);
  }

  /** Owners (users or organisations) the selectors name; the workflow's owner when they name none. */
  private owners(): string[] {
    const p = this.ctx.settings;
    const owners = new Set<string>();
    const workflowOwner = (
      this.ctx.ambient.env.GITHUB_REPOSITORY_OWNER ?? this.ctx.ambient.env.GITHUB_REPOSITORY?.split('/')[0]
    )?.toLowerCase();
    for (const s of p.selectors) {
      const ns = literalNamespace(s.namespacePattern.source);
      if (ns) owners.add(ns);
      else if (workflowOwner && s.namespacePattern.test(workflowOwner)) owners.add(workflowOwner);
      else {
        throw new RegistryError(
          `GHCR cannot list every owner: selector namespace_pattern ${JSON.stringify(s.namespacePattern.source)} must name a user or organisation (e.g. "my-org"); in a workflow, a pattern matching the repository owner lists that owner`,
        );
      }
    }
    return [...owners].sort();
  }

  async listRepositories(): Promise<RepositoryListing> {
    const items = new Set<string>();
    const info = new Map<string, RepositoryInfo>();
    const refused: Refusal[] = [];
    let pages = 0;
    for (const owner of this.owners()) {
      const api = this.api;
      if (!api) {
        refused.push({ owner, reason: 'no GitHub token', why: 'token' });
        continue;
      }
      if (!api.usable) {
        refused.push({ owner, reason: BUDGET_SPENT, why: 'budget' });
        continue;
      }
      let walk: Walk | undefined;
      try {
        walk = await this.listOwner(owner, pages, (pkg) => {
          const name = `${owner}/${pkg.name}`.toLowerCase();
          items.add(name);
          if (pkg.updated_at) info.set(name, { last_updated: pkg.updated_at });
        });
      } catch (err) {
        if (!(err instanceof ApiStopped)) throw err;
        refused.push({ owner, reason: BUDGET_SPENT, why: 'budget' });
        continue;
      }
      pages = walk.pages;
      if (walk.refused) {
        refused.push(
          api.stopped
            ? { owner, reason: BUDGET_SPENT, why: 'budget' }
            : { owner, reason: this.refusalText(walk.refused), why: 'token' },
        );
        continue;
      }
      if (!walk.complete) return { items: [...items], pages, complete: false, problem: walk.problem!, info };
    }
    if (refused.length === 0) return { items: [...items], pages, complete: true, info };
    const fallback = await this.fallbackRepositories(refused.map((r) => r.owner));
    for (const name of fallback.names) items.add(name);
    const line = this.fallbackLine(refused, fallback);
    this.listingFallback = line;
    this.ctx.log.warn(`${this.ctx.settings.name}: ${line}`);
    return {
      items: [...items],
      pages,
      // Selectors that can match names we could not spell may have missed packages.
      complete: fallback.exact,
      ...(fallback.exact ? {} : { problem: line }),
      info,
    };
  }

  private refusalText(a: ApiAnswer): string {
    const msg = apiMessage(a.data);
    const quoted = `HTTP ${a.status}${msg ? ` "${msg}"` : ''}`;
    if (a.status === 400)
      return `${quoted}: a workflow's GITHUB_TOKEN cannot list an organisation's packages`;
    if (a.status === 404)
      return `${quoted}: no such user or organisation, or the token cannot see its packages`;
    if (a.status === 403) return `${quoted}: the token may not list its packages`;
    return quoted;
  }

  private fallbackLine(
    refused: Refusal[],
    fallback: { selectorNamed: string[]; workflow: string[]; advice: string[] },
  ): string {
    const who = refused.map((r) => `${r.owner} (${r.reason})`).join(', ');
    const parts: string[] = [];
    if (fallback.selectorNamed.length > 0)
      parts.push(`${fallback.selectorNamed.join(', ')} (named by the selectors)`);
    if (fallback.workflow.length > 0) parts.push(`${fallback.workflow.join(', ')} (the workflow repository)`);
    const what =
      parts.length > 0 ? `discovering only ${parts.join(' and ')}` : 'no repository can be discovered';
    const fix = !this.api
      ? `to list packages, pass a token (github-token / GITHUB_TOKEN, or ${PAT_FIX})`
      : refused.every((r) => r.why === 'budget')
        ? 'run again after the rate limit resets'
        : `to list every package, use ${PAT_FIX}`;
    return [`GitHub API cannot list the packages of ${who}`, what, ...fallback.advice, fix].join('; ');
  }

  /**
   * Repositories we can name without listing: exact selector names, and the package named like
   * the workflow repository, kept only when it exists (it is guessed, not asked for).
   */
  private async fallbackRepositories(owners: string[]): Promise<{
    names: string[];
    selectorNamed: string[];
    workflow: string[];
    exact: boolean;
    advice: string[];
  }> {
    const p = this.ctx.settings;
    const selectorNamed = new Set<string>();
    const advice = new Set<string>();
    let exact = true;
    for (const s of p.selectors) {
      const ns = literalNamespace(s.namespacePattern.source);
      const covers = owners.filter((o) => (ns ? ns === o : s.namespacePattern.test(o)));
      if (covers.length === 0) continue;
      const names = literalNames(s.repositoryPattern.source);
      if (!names) {
        // Packages that match but that we cannot spell are missed; a prefix must not become one.
        exact = false;
        const hint = namingAdvice('repository_pattern', s.repositoryPattern.source);
        if (hint) advice.add(hint);
        continue;
      }
      for (const o of covers) for (const n of names) selectorNamed.add(`${o}/${n}`);
    }
    const workflow: string[] = [];
    const repo = this.ctx.ambient.env.GITHUB_REPOSITORY?.toLowerCase();
    if (repo && owners.includes(repo.split('/')[0]!) && !selectorNamed.has(repo)) {
      if (selectorFor(repo, p.selectors) && (await this.packageExists(repo))) workflow.push(repo);
    }
    const named = [...selectorNamed].sort();
    return { names: [...named, ...workflow], selectorNamed: named, workflow, exact, advice: [...advice] };
  }

  private async packageExists(repo: string): Promise<boolean> {
    const [owner, ...rest] = repo.split('/');
    const api = this.api;
    if (api?.usable) {
      try {
        for (const kind of this.kindsOf(owner!)) {
          const a = await api.get(
            `/${kind}/${owner}/packages/container/${encodeURIComponent(rest.join('/'))}`,
            undefined,
          );
          if (a.status === 200) {
            this.ownerKind.set(owner!, kind);
            return true;
          }
          if (a.status !== 404) break;
        }
        return false;
      } catch (err) {
        if (!(err instanceof ApiStopped)) throw err;
      }
    }
    // Without the API, ask the registry: a package that is missing or hidden from us answers 401/403/404.
    try {
      await this.client.request('GET', `/v2/${repo}/tags/list?n=1`, 'tags', `repository:${repo}:pull`);
      return true;
    } catch {
      return false;
    }
  }

  private kindsOf(owner: string): OwnerKind[] {
    const known = this.ownerKind.get(owner);
    return known ? [known] : ['orgs', 'users'];
  }

  /** An owner's container packages: as an organisation, and as a user when that is 404. */
  private async listOwner(
    owner: string,
    pagesBefore: number,
    onPackage: (pkg: z.output<typeof GitHubPackage>) => void,
  ): Promise<Walk> {
    let walk: Walk | undefined;
    for (const kind of this.kindsOf(owner)) {
      walk = await this.walk(
        `/${kind}/${encodeURIComponent(owner)}/packages?package_type=container&per_page=${PER_PAGE}`,
        `the packages of ${owner}`,
        { row: GitHubPackage, noun: 'package' },
        undefined,
        pagesBefore,
        (items) => {
          for (const pkg of items) onPackage(pkg);
        },
      );
      // 404 as an organisation: perhaps a user. Any other answer says the organisation exists.
      if (walk.refused?.status === 404 && kind === 'orgs') continue;
      this.ownerKind.set(owner, kind);
      return walk;
    }
    return walk!;
  }

  /**
   * Reads an API listing page by page, each row checked against `rows.row`. A first page other
   * than 200 is handed back as `refused` for the caller to decide; later failures and a wrong
   * token (401) throw, and a budget spent halfway ends the listing incomplete.
   */
  private async walk<S extends z.ZodType>(
    first: string,
    what: string,
    rows: { row: S; noun: string; page?: z.ZodType<unknown[]> },
    tally: Tally | undefined,
    pagesBefore: number,
    onItems: (items: z.output<S>[]) => void,
  ): Promise<Walk> {
    const api = this.api!;
    const walk = PageWalk.links({
      source: 'the GitHub API',
      maxPages: this.ctx.settings.maxPages,
      first: `${api.baseUrl}${first}`,
      pagesBefore,
      read: async (url, index) => {
        const a = await api.get(url, tally);
        if (a.status === 401) {
          throw new AuthError(
            `GitHub API ${api.host} rejected the token (HTTP 401${apiMessage(a.data) ? `: ${apiMessage(a.data)}` : ''}) listing ${what}; credential used: ${this.describeCredential()}; use a valid token: the workflow's GITHUB_TOKEN or ${PAT_FIX}`,
            { status: 401, code: 'UNAUTHORIZED' },
          );
        }
        if (a.status !== 200) {
          if (index === 0) throw new Refused(a);
          if (api.stopped) return { items: [], end: `${what}: ${api.stopped}` };
          throw new RegistryError(
            `GitHub API ${api.host}: HTTP ${a.status}${apiMessage(a.data) ? ` (${apiMessage(a.data)})` : ''} listing ${what}`,
            { status: a.status },
          );
        }
        const page = readPage(
          a.data,
          rows.page ?? GitHubPage,
          `GitHub API ${api.host}: the answer listing ${what}`,
        );
        return { ...readRows(page, rows.row, rows.noun), next: nextLinkTarget(a.headers.link) };
      },
    });
    try {
      for await (const page of walk) onItems(page.items);
    } catch (err) {
      if (err instanceof Refused) return { refused: err.answer, pages: pagesBefore, complete: false };
      // The budget ran out before a later page was asked for: what was read stays, incomplete.
      const { pages, problem } = walk.verdict;
      if (!(err instanceof ApiStopped) || pages === pagesBefore) throw err;
      return {
        pages,
        complete: false,
        problem: [`${what}: ${err.message}`, problem].filter(Boolean).join('; '),
      };
    }
    return walk.verdict;
  }

  async listTags(repo: string, tally: Tally): Promise<TagListing> {
    const api = this.api;
    if (!api?.usable) return this.client.listTags(repo, tally);
    const [owner, ...rest] = repo.split('/');
    const pkg = encodeURIComponent(rest.join('/'));
    const items = new Set<string>();
    const vendor = new Map<string, VendorTag>();
    const ids = new Map<string, number>();
    const untagged = new Map<string, UntaggedManifest>();
    const onVersions = (versions: z.output<typeof GitHubVersion>[]) => {
      for (const v of versions) {
        if (v.id !== undefined) ids.set(v.digest, v.id);
        // Untagged versions (an index's platform images and attestations, old builds whose tag
        // moved on, referrers pushed by digest) are no tags, but retention may delete them.
        if (!v.tags?.length) {
          if (DIGEST.test(v.digest))
            untagged.set(v.digest, { digest: v.digest, ...(v.pushedAt ? { pushedAt: v.pushedAt } : {}) });
          continue;
        }
        for (const t of v.tags) {
          items.add(t);
          if (!DIGEST.test(v.digest)) continue;
          const prev = vendor.get(t);
          if (prev?.pushedAt && v.pushedAt && prev.pushedAt > v.pushedAt) continue;
          vendor.set(t, { digest: v.digest, ...(v.pushedAt ? { pushedAt: v.pushedAt } : {}) });
        }
      }
    };

    let refusal: string | undefined;
    try {
      const kinds = this.kindsOf(owner!);
      for (const kind of kinds) {
        items.clear();
        vendor.clear();
        untagged.clear();
        const walk = await this.walk(
          `/${kind}/${encodeURIComponent(owner!)}/packages/container/${pkg}/versions?per_page=${PER_PAGE}`,
          `the versions of ${repo}`,
          { row: GitHubVersion, noun: 'version' },
          tally,
          0,
          onVersions,
        );
        if (walk.refused?.status === 404 && kind === 'orgs' && kinds.length > 1) continue;
        if (walk.refused) {
          refusal = api.stopped ?? this.versionRefusal(walk.refused);
          break;
        }
        this.ownerKind.set(owner!, kind);
        this.versionIds.set(repo, ids);
        // Budget gone halfway through: the registry can still give the whole list.
        if (!walk.complete && api.stopped) return this.client.listTags(repo, tally);
        return {
          items: [...items],
          vendor,
          pages: walk.pages,
          complete: walk.complete,
          ...(walk.complete ? { untagged: [...untagged.values()] } : {}),
          ...(walk.problem ? { problem: walk.problem } : {}),
        };
      }
    } catch (err) {
      if (!(err instanceof ApiStopped)) throw err;
      return this.client.listTags(repo, tally);
    }
    if (refusal && !api.stopped) this.versionFallbacks.push(`${repo} (${refusal})`);
    return this.client.listTags(repo, tally);
  }

  /**
   * GHCR deletes package versions, not manifests: the version whose name is the digest, by the id
   * the versions listing gave (read again when this run listed the tags another way). A version
   * delete takes the manifest and every tag on it. Tokens need delete:packages (a PAT) or
   * `packages: write` on a repository that administers the package (GITHUB_TOKEN).
   */
  async deleteManifest(
    repo: string,
    digest: string,
    _tags: readonly string[],
    tally: Tally,
  ): Promise<DeleteAnswer> {
    const api = this.api;
    const what = `ghcr ${repo}@${digest}`;
    if (!api) {
      return {
        outcome: 'refused',
        why: 'unsupported',
        message: `${what}: GHCR deletes through the GitHub API, and no token was given (github-token, or a classic PAT with read:packages and delete:packages)`,
      };
    }
    try {
      let id = this.versionIds.get(repo)?.get(digest);
      if (id === undefined) {
        this.versionIds.delete(repo);
        await this.listTags(repo, tally);
        id = this.versionIds.get(repo)?.get(digest);
      }
      const kind = this.ownerKind.get(repo.split('/')[0]!);
      if (id === undefined || !kind) {
        return {
          outcome: 'failed',
          message: `${what}: no package version of that digest in the versions listing`,
        };
      }
      const [owner, ...rest] = repo.split('/');
      const a = await api.delete(
        `/${kind}/${encodeURIComponent(owner!)}/packages/container/${encodeURIComponent(rest.join('/'))}/versions/${id}`,
        tally,
      );
      if (a.status === 204 || a.status === 200) {
        this.versionIds.get(repo)?.delete(digest);
        return { outcome: 'deleted' };
      }
      const said = this.versionRefusal(a);
      if (a.status === 401 || a.status === 403) {
        return {
          outcome: 'refused',
          why: 'denied',
          status: a.status,
          message: `${what}: GitHub refused to delete package version ${id} (${said}); a classic PAT needs delete:packages, a GITHUB_TOKEN packages: write on a repository with admin access to the package`,
        };
      }
      return {
        outcome: 'failed',
        status: a.status,
        message: `${what}: deleting package version ${id}: ${said}`,
      };
    } catch (err) {
      if (err instanceof ApiStopped)
        return { outcome: 'failed', message: `${what}: not asked: ${err.message}` };
      if (err instanceof RegistryError) return { outcome: 'failed', message: err.message };
      throw err;
    }
  }

  private versionRefusal(a: ApiAnswer): string {
    const msg = apiMessage(a.data);
    return `HTTP ${a.status}${msg ? ` "${msg}"` : ''}`;
  }
}

export const openGhcr: OpenAdapter = async (ctx) => {
  const { creds, token, source } = ghcrCredentials(ctx);
  ctx.secrets.add(token);
  return new Ghcr(ctx, ctx.connect(creds), source, token);
};
