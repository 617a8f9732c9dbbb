// Harbor (API v2.0). Its catalog needs system-level permission, so repositories come from the
// projects API instead, and one artifacts listing per repository (100 artifacts a page, tags,
// push times and scanner summaries included) replaces tags/list plus a manifest request per tag.
// Basic credentials (a user, or a robot account `robot$…`) serve both the API and the registry's
// token service (/service/token, service "harbor-registry"). The same listing names each
// artifact's accessories (signatures, SBOMs, other referrers), handed on as its referrers.
import { z } from 'zod';
import type { ProviderSettings } from '../config/settings.js';
import { AuthError, RegistryError } from '../errors.js';
import { describeUrl, type HttpResponse, type Tally } from '../http/http-client.js';
import { nextLinkTarget } from '../http/link-header.js';
import { optionalFact, PageWalk, readPage, readRows } from '../http/page-walker.js';
import type { RepositoryInfo, UntaggedManifest, VulnerabilityCounts } from '../model/discovery.js';
import { MediaType } from '../oci/media-types.js';
import {
  type DeleteAnswer,
  type ListedManifest,
  type OpenAdapter,
  ociAdapter,
  type ReferrerDescriptor,
  type RepositoryListing,
  type TagListing,
  type VendorContext,
  type VendorTag,
} from './registry-adapter.js';
import { literalNamespaces } from './selector-names.js';
import { jsonBody, listingFailure, vendorApiGet } from './vendor-api.js';

/** Harbor's documented maximum; a larger page_size is refused (422), not capped. */
export const HARBOR_PAGE_SIZE = 100;

/** Both report formats Harbor's scanners produce; without this header the overview may be empty. */
export const HARBOR_VULNERABILITY_ACCEPT =
  'application/vnd.security.vulnerability.report; version=1.1, application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0';

/** Where Harbor's REST API lives for a registry URL (the API shares the registry's origin). */
export function harborApiBase(apiUrl: string): string {
  return `${new URL(apiUrl).origin}/api/v2.0`;
}

/**
 * A repository name inside a project as Harbor's API wants it in a path: encoded twice, because
 * its router decodes once before matching and a single `%2F` would split the path (`a/b` → `a%252Fb`).
 */
export function harborRepositoryPath(name: string): string {
  return encodeURIComponent(encodeURIComponent(name));
}

interface HarborTag {
  name?: unknown;
  push_time?: unknown;
}

interface HarborAccessory {
  type?: unknown;
  digest?: unknown;
  subject_artifact_digest?: unknown;
  creation_time?: unknown;
}

interface HarborScanSummary {
  scan_status?: unknown;
  summary?: { total?: unknown; fixable?: unknown; summary?: Record<string, unknown> | null } | null;
}

interface HarborArtifact {
  digest?: unknown;
  type?: unknown;
  manifest_media_type?: unknown;
  size?: unknown;
  /** For an image: its config's created, architecture, os, author and config (with Labels). */
  extra_attrs?: {
    created?: unknown;
    architecture?: unknown;
    os?: unknown;
    config?: { Labels?: unknown } | null;
  } | null;
  push_time?: unknown;
  /** An index's children (`child_digest`), which are not rows of their own. */
  references?: Array<{ child_digest?: unknown }> | null;
  tags?: HarborTag[] | null;
  accessories?: HarborAccessory[] | null;
  scan_overview?: Record<string, HarborScanSummary> | null;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

const VARIANT_ARCHITECTURES: ReadonlySet<string> = new Set(['arm', 'arm64']);
const IMAGE_MANIFEST_TYPES: ReadonlySet<unknown> = new Set([MediaType.OciManifest, MediaType.DockerManifest]);

/**
 * What an artifacts row says about a single-platform image, or undefined when it says too little
 * and the manifest must be read: an index (its children are not rows), a chart or signature, a
 * row without platform, and an arm or arm64 image, whose variant (v7, v8) Harbor does not keep.
 */
export function harborListedManifest(a: HarborArtifact): ListedManifest | undefined {
  const x = a.extra_attrs;
  if (a.type !== 'IMAGE' || !IMAGE_MANIFEST_TYPES.has(a.manifest_media_type) || !x) return undefined;
  const { architecture, os } = x;
  if (typeof architecture !== 'string' || !architecture || typeof os !== 'string' || !os) return undefined;
  if (VARIANT_ARCHITECTURES.has(architecture)) return undefined;
  const labels: Record<string, string> = {};
  const raw = x.config?.Labels;
  if (raw && typeof raw === 'object')
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') labels[k] = v;
  // Go's zero time is what Harbor writes for a config without `created`.
  const created =
    typeof x.created === 'string' && x.created && !x.created.startsWith('0001-') ? x.created : undefined;
  return {
    mediaType: a.manifest_media_type as string,
    platform: { architecture, os },
    ...(created ? { created } : {}),
    ...(typeof a.size === 'number' && a.size > 0 ? { size: a.size } : {}),
    labels,
  };
}

function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  // Harbor reports "0001-01-01T00:00:00.000Z" for times it never recorded.
  if (value.startsWith('0001-')) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString().replace('.000Z', 'Z');
}

/** Severity counts from a scan overview, or undefined when the artifact has no finished scan. */
export function harborVulnerabilities(
  overview: HarborArtifact['scan_overview'],
): VulnerabilityCounts | undefined {
  if (!overview || typeof overview !== 'object') return undefined;
  for (const report of Object.values(overview)) {
    if (report?.scan_status !== 'Success' || !report.summary) continue;
    const s = report.summary;
    const counts: VulnerabilityCounts = { total: typeof s.total === 'number' ? s.total : 0 };
    if (typeof s.fixable === 'number') counts.fixable = s.fixable;
    const bySeverity = s.summary ?? {};
    const add = (key: Exclude<keyof VulnerabilityCounts, 'source'>, n: unknown) => {
      if (typeof n === 'number') counts[key] = (counts[key] ?? 0) + n;
    };
    for (const [severity, n] of Object.entries(bySeverity)) {
      switch (severity.toLowerCase()) {
        case 'critical':
          add('critical', n);
          break;
        case 'high':
          add('high', n);
          break;
        case 'medium':
          add('medium', n);
          break;
        case 'low':
          add('low', n);
          break;
        // Trivy's "Negligible" is below low: not a risk to act on, so it is informational.
        case 'negligible':
          add('informational', n);
          break;
        default:
          add('unknown', n);
      }
    }
    return counts;
  }
  return undefined;
}

/**
 * The artifact type each Harbor accessory type stands for, as Harbor's subject middleware assigns
 * the types (src/server/middleware/subject). Types not here (`subject.accessory`, any OCI 1.1
 * referrer Harbor has no name for; `accelerator.nydus`) say nothing of the artifact's type.
 */
export const HARBOR_ACCESSORY_TYPES: Readonly<Record<string, string>> = {
  'signature.cosign': 'application/vnd.dev.cosign.artifact.sig.v1+json',
  'signature.notation': 'application/vnd.cncf.notary.signature',
  'sbom.harbor': 'application/vnd.goharbor.harbor.sbom.v1',
};

/**
 * Every accessory of one artifacts page, by the digest it refers to, into `referrers`. Harbor
 * lists accessories under the artifact rows only: those of an index's platform manifests (which
 * are not rows) are not here.
 */
export function harborAccessories(
  artifacts: HarborArtifact[],
  referrers: Map<string, ReferrerDescriptor[]>,
): void {
  for (const a of artifacts) {
    for (const acc of a.accessories ?? []) {
      if (typeof acc.digest !== 'string' || !DIGEST.test(acc.digest)) continue;
      const subject =
        typeof acc.subject_artifact_digest === 'string' && DIGEST.test(acc.subject_artifact_digest)
          ? acc.subject_artifact_digest
          : a.digest;
      if (typeof subject !== 'string' || !DIGEST.test(subject)) continue;
      const list = referrers.get(subject) ?? [];
      if (list.some((d) => d.digest === acc.digest)) continue;
      const artifactType = typeof acc.type === 'string' ? HARBOR_ACCESSORY_TYPES[acc.type] : undefined;
      list.push({ digest: acc.digest, ...(artifactType ? { artifactType } : {}) });
      referrers.set(subject, list);
    }
  }
}

/**
 * The VendorTag facts for every tag of one artifacts page, into `vendor`. Cosign signatures are
 * accessories in Harbor 2.5+, listed under their subject rather than as artifacts, while the
 * registry still lists their `sha256-<hex>.sig` tag; that tag is rebuilt from the subject digest.
 */
export function harborArtifactTags(
  artifacts: HarborArtifact[],
  vendor: Map<string, VendorTag>,
  opts: { vulnerabilities: boolean; describe: boolean },
): void {
  for (const a of artifacts) {
    if (typeof a.digest !== 'string' || !DIGEST.test(a.digest)) continue;
    const vulnerabilities = opts.vulnerabilities ? harborVulnerabilities(a.scan_overview) : undefined;
    const listed = opts.describe ? harborListedManifest(a) : undefined;
    for (const t of a.tags ?? []) {
      if (typeof t.name !== 'string') continue;
      const pushedAt = isoTime(t.push_time) ?? isoTime(a.push_time);
      vendor.set(t.name, {
        digest: a.digest,
        ...(pushedAt ? { pushedAt } : {}),
        ...(vulnerabilities ? { vulnerabilities } : {}),
        ...(listed ? { listed } : {}),
      });
    }
    for (const acc of a.accessories ?? []) {
      if (acc.type !== 'signature.cosign' || typeof acc.digest !== 'string' || !DIGEST.test(acc.digest))
        continue;
      const subject =
        typeof acc.subject_artifact_digest === 'string' ? acc.subject_artifact_digest : a.digest;
      const tag = `${subject.replace(':', '-')}.sig`;
      if (vendor.has(tag)) continue;
      const pushedAt = isoTime(acc.creation_time);
      vendor.set(tag, { digest: acc.digest, ...(pushedAt ? { pushedAt } : {}) });
    }
  }
}

/** The manifests an index artifact lists, from its `references`. */
function referencedChildren(a: HarborArtifact): string[] {
  return (a.references ?? [])
    .map((r) => r.child_digest)
    .filter((d): d is string => typeof d === 'string' && DIGEST.test(d));
}

/**
 * The artifacts of one page that carry no tag, into `untagged`: old builds whose tag moved on and
 * images pushed by digest. An index's children and the accessories are not rows, so they are not
 * here; Harbor deletes an index's children with it unless another artifact or a tag holds them.
 */
export function harborUntagged(artifacts: HarborArtifact[], untagged: UntaggedManifest[]): void {
  for (const a of artifacts) {
    if (typeof a.digest !== 'string' || !DIGEST.test(a.digest) || (a.tags ?? []).length > 0) continue;
    const pushedAt = isoTime(a.push_time);
    const children = referencedChildren(a);
    untagged.push({
      digest: a.digest,
      ...(typeof a.manifest_media_type === 'string' ? { mediaType: a.manifest_media_type } : {}),
      ...(pushedAt ? { pushedAt } : {}),
      ...(typeof a.size === 'number' && a.size > 0 ? { size: a.size } : {}),
      ...(children.length > 0 ? { children } : {}),
    });
  }
}

/** Every Harbor list answer is a bare JSON array; its length is counted against X-Total-Count. */
const HarborPage = z.array(z.unknown());

const HarborProject = z.object({ name: z.string() });

const HarborRepository = z.object({
  name: z.string(),
  description: optionalFact(z.string()),
  pull_count: optionalFact(z.number()),
  update_time: optionalFact(z.string()),
});

/**
 * What an artifacts row must carry to be read: its digest and, when present, named tags and
 * accessories; the descriptive rest (platform, scans) stays optional as HarborArtifact says.
 */
const HarborArtifactRow = z.looseObject({
  digest: z.string(),
  tags: z.array(z.looseObject({ name: z.string() })).nullish(),
  accessories: z.array(z.looseObject({})).nullish(),
});

class HarborApi {
  readonly base: string;
  private readonly authorization: string | undefined;
  calls = 0;

  constructor(
    private readonly ctx: VendorContext,
    private readonly username: string | undefined,
    secret: string | undefined,
  ) {
    this.base = harborApiBase(ctx.settings.apiUrl);
    if (username && secret !== undefined) {
      const value = Buffer.from(`${username}:${secret}`).toString('base64');
      ctx.secrets.add(secret);
      ctx.secrets.add(value);
      this.authorization = `Basic ${value}`;
    }
  }

  private get p(): ProviderSettings {
    return this.ctx.settings;
  }

  get authenticated(): boolean {
    return this.authorization !== undefined;
  }

  describe(): string {
    return this.username ? `username "${this.username}"` : 'no credentials (anonymous)';
  }

  private async get(url: string, headers: Record<string, string>, tally?: Tally): Promise<HttpResponse> {
    this.calls++;
    return vendorApiGet(this.ctx, url, {
      headers,
      tally,
      ...(this.authorization ? { authorization: this.authorization } : {}),
    });
  }

  /** A clear error for an answer other than 200, naming what was listed and the likely fix. */
  failure(res: HttpResponse, url: string, what: string, hint403: string): RegistryError {
    const detail = harborErrorText(res);
    const at = `Harbor API ${describeUrl(url)}`;
    const status = `HTTP ${res.status}${detail ? `: ${detail}` : ''}`;
    if (res.status === 401) {
      return new AuthError(
        this.authorization
          ? `${at} refused the credentials listing ${what} (${status}); credential used: ${this.describe()}; check username and password (a robot account's username is its full name, e.g. robot$project+ci)`
          : `${at} needs credentials to list ${what} (${status}): the project is private; set username and password (a user or a robot account)`,
        { status: 401, code: 'UNAUTHORIZED' },
      );
    }
    if (res.status === 403) {
      return new AuthError(
        `${at} denied listing ${what} (${status}); credential used: ${this.describe()}; ${hint403}`,
        {
          status: 403,
          code: 'DENIED',
        },
      );
    }
    return listingFailure(res, 'Harbor', at, what, status);
  }

  /**
   * A paged list (`page`, `page_size`, `X-Total-Count`, `Link`), each row checked against `row`.
   * Page URLs are built here rather than copied from Link: Harbor's Link unescapes the query.
   */
  pages<S extends z.ZodType>(
    url: (page: number) => string,
    what: string,
    row: S,
    noun: string,
    opts: { tally?: Tally; pagesBefore?: number; headers?: Record<string, string>; hint403: string },
  ): PageWalk<z.output<S>> {
    let seen = 0;
    return PageWalk.cursors({
      source: 'the Harbor API',
      maxPages: this.p.maxPages,
      ...(opts.pagesBefore ? { pagesBefore: opts.pagesBefore } : {}),
      read: async (cursor) => {
        const page = cursor === undefined ? 1 : Number(cursor);
        const target = url(page);
        const res = await this.get(target, opts.headers ?? {}, opts.tally);
        if (res.status !== 200) throw this.failure(res, target, what, opts.hint403);
        const doc = jsonBody(res);
        if (doc === undefined)
          throw new RegistryError(
            `Harbor API ${describeUrl(target)}: the answer listing ${what} is not JSON`,
          );
        const rows = readPage(
          doc,
          HarborPage,
          `Harbor API ${describeUrl(target)}: the answer listing ${what}`,
        );
        seen += rows.length;
        const total = Number(res.headers['x-total-count']);
        // Counted by rows seen, not pages: a proxy or an older Harbor may serve fewer than asked.
        const more = Number.isFinite(total) ? seen < total : nextLinkTarget(res.headers.link) !== undefined;
        return { ...readRows(rows, row, noun), next: more && rows.length > 0 ? String(page + 1) : undefined };
      },
    });
  }
}

/** `code message` of Harbor's `{"errors":[{code, message}]}` body. */
function harborErrorText(res: HttpResponse): string | undefined {
  const doc = jsonBody(res) as { errors?: Array<{ code?: unknown; message?: unknown }> } | undefined;
  const e = doc?.errors?.[0];
  if (!e) return undefined;
  return [e.code, e.message].filter((x) => typeof x === 'string' && x).join(' ') || undefined;
}

const REPO_HINT =
  'the project does not exist or this account cannot see it; give the user or robot account at least the Guest role (robot: "List Repository" permission) on the project';
const ARTIFACT_HINT =
  'give the user or robot account at least the Guest role (robot: "List Artifact" and "Read Artifact" permissions) on the project';

async function harborRepositories(api: HarborApi, p: ProviderSettings): Promise<RepositoryListing> {
  let pages = 0;
  let projects = literalNamespaces(p.selectors);
  if (!projects) {
    const found: string[] = [];
    const walk = api.pages(
      (page) => `${api.base}/projects?page=${page}&page_size=${HARBOR_PAGE_SIZE}&with_detail=false`,
      'projects',
      HarborProject,
      'project',
      { hint403: REPO_HINT },
    );
    for await (const page of walk) for (const it of page.items) found.push(it.name);
    const verdict = walk.verdict;
    pages = verdict.pages;
    if (!verdict.complete) return { items: [], ...verdict };
    projects = found.filter((name) => p.selectors.some((s) => s.namespacePattern.test(name))).sort();
  }
  const items: string[] = [];
  const info = new Map<string, RepositoryInfo>();
  const problems: string[] = [];
  for (const project of projects) {
    try {
      const walk = api.pages(
        (page) =>
          `${api.base}/projects/${encodeURIComponent(project)}/repositories?page=${page}&page_size=${HARBOR_PAGE_SIZE}`,
        `the repositories of project "${project}"`,
        HarborRepository,
        'repository',
        { pagesBefore: pages, hint403: REPO_HINT },
      );
      for await (const page of walk) {
        for (const r of page.items) {
          items.push(r.name);
          const facts: RepositoryInfo = {};
          if (r.description) facts.description = r.description;
          if (typeof r.pull_count === 'number') facts.pull_count = r.pull_count;
          const updated = isoTime(r.update_time);
          if (updated) facts.last_updated = updated;
          info.set(r.name, facts);
        }
      }
      const verdict = walk.verdict;
      pages = verdict.pages;
      if (!verdict.complete) return { items, info, ...verdict };
    } catch (err) {
      // Wrong credentials fail every project alike; a project this account (or an anonymous
      // client) may not see leaves the others listable.
      if (err instanceof AuthError && (err.details.status === 403 || !api.authenticated)) {
        problems.push(err.message);
        continue;
      }
      throw err;
    }
  }
  return {
    items,
    info,
    pages,
    complete: problems.length === 0,
    ...(problems.length ? { problem: problems.join('; ') } : {}),
  };
}

/**
 * Harbor deletes an index's children along with it, unless a tag or another artifact still holds
 * them. The plan deletes them after their index, so each such DELETE finds nothing: an answer of
 * 404 for a child of an index this run deleted says it went with the index. The children come from
 * the artifacts listing's `references`.
 */
class TakenAlong {
  /** Per repository: each index's children, from the listing. */
  private readonly children = new Map<string, Map<string, string[]>>();
  /** Per repository: child digest → the index this run deleted with it. */
  private readonly gone = new Map<string, Map<string, string>>();

  listed(repo: string, artifacts: HarborArtifact[]): void {
    const byIndex = this.children.get(repo) ?? new Map<string, string[]>();
    this.children.set(repo, byIndex);
    for (const a of artifacts) {
      const children = referencedChildren(a);
      if (typeof a.digest === 'string' && children.length > 0) byIndex.set(a.digest, children);
    }
  }

  async delete(repo: string, digest: string, send: () => Promise<DeleteAnswer>): Promise<DeleteAnswer> {
    const answer = await send();
    const index = this.gone.get(repo)?.get(digest);
    if (answer.outcome === 'failed' && answer.status === 404 && index)
      return { outcome: 'deleted', note: `Harbor deleted it with the index ${index}` };
    if (answer.outcome === 'deleted') {
      const gone = this.gone.get(repo) ?? new Map<string, string>();
      this.gone.set(repo, gone);
      for (const child of this.children.get(repo)?.get(digest) ?? []) gone.set(child, digest);
    }
    return answer;
  }
}

async function harborTags(
  api: HarborApi,
  p: ProviderSettings,
  repo: string,
  tally: Tally,
  along: TakenAlong,
): Promise<TagListing> {
  const slash = repo.indexOf('/');
  if (slash < 0)
    throw new RegistryError(`Harbor repository "${repo}" has no project part (expected <project>/<name>)`);
  const project = repo.slice(0, slash);
  const name = repo.slice(slash + 1);
  const scan = p.discoverVulnerabilities;
  const vendor = new Map<string, VendorTag>();
  const referrers = new Map<string, ReferrerDescriptor[]>();
  const untagged: UntaggedManifest[] = [];
  const walk = api.pages(
    (page) =>
      `${api.base}/projects/${encodeURIComponent(project)}/repositories/${harborRepositoryPath(name)}/artifacts?page=${page}&page_size=${HARBOR_PAGE_SIZE}&with_tag=true&with_accessory=true&with_scan_overview=${scan}`,
    `the artifacts of ${repo}`,
    HarborArtifactRow,
    'artifact',
    {
      tally,
      hint403: ARTIFACT_HINT,
      ...(scan ? { headers: { 'x-accept-vulnerabilities': HARBOR_VULNERABILITY_ACCEPT } } : {}),
    },
  );
  for await (const page of walk) {
    harborArtifactTags(page.items as HarborArtifact[], vendor, {
      vulnerabilities: scan,
      describe: !p.readManifests,
    });
    harborAccessories(page.items as HarborArtifact[], referrers);
    harborUntagged(page.items as HarborArtifact[], untagged);
    along.listed(repo, page.items as HarborArtifact[]);
  }
  const verdict = walk.verdict;
  return {
    items: [...vendor.keys()],
    vendor,
    referrers,
    ...(verdict.complete ? { untagged } : {}),
    ...verdict,
  };
}

export const openHarbor: OpenAdapter = async (ctx) => {
  const { username, password, token } = ctx.credentials;
  if (!username && (password || token)) {
    throw new RegistryError(
      'Harbor authenticates with a username and password: set username (a user, or a robot account such as robot$project+ci) next to the password or token',
    );
  }
  const secret = password ?? token;
  const api = new HarborApi(ctx, username, secret);
  const client = ctx.connect(username && secret !== undefined ? { username, password: secret } : {});
  const p = ctx.settings;
  const along = new TakenAlong();
  return {
    ...ociAdapter(ctx, client),
    listRepositories: () => harborRepositories(api, p),
    listTags: (repo, tally) => harborTags(api, p, repo, tally, along),
    deleteManifest: (repo, digest, _tags, tally) =>
      along.delete(repo, digest, () => client.deleteManifest(repo, digest, tally)),
    scansVulnerabilities: true,
    notes: () => [`Harbor API: ${api.calls} requests (projects, repositories, artifacts)`],
  };
};
