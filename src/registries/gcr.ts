// Google Container Registry (gcr.io, *.gcr.io) and Artifact Registry (<location>-docker.pkg.dev).
//
// Neither has a catalog to trust: gcr.io's _catalog spans every project the credential can see,
// and Artifact Registry's has been seen answering an empty list. Both answer tags/list with a
// Google extension instead: `child` (the paths one level down) and `manifest` (digest → tags,
// upload time, size). Walking `child` from the project enumerates the repositories, and the same
// answers carry every tag's digest and push time, so one request per repository does both jobs.
//
// api_url is the registry host (https://gcr.io, https://europe-west1-docker.pkg.dev). A
// selector's namespace_pattern names the project; for Artifact Registry the repository_pattern
// starts with the Artifact Registry repository (`^containers/`), which is where its walk begins.
import { z } from 'zod';
import type { Credentials, ProviderSettings, Selector } from '../config/settings.js';
import { RegistryError } from '../errors.js';
import { describeUrl, type Tally } from '../http/http-client.js';
import { nextLinkTarget } from '../http/link-header.js';
import { collectPages, optionalFact, PageWalk, readPage, readRows } from '../http/page-walker.js';
import { mapLimit } from '../http/semaphore.js';
import { type RegistryClient, repositoryScope } from '../oci/registry-client.js';
import {
  type OpenAdapter,
  ociAdapter,
  type RepositoryListing,
  type TagListing,
  type VendorTag,
} from './registry-adapter.js';
import { literalNamespace, literalPrefixes } from './selector-names.js';
import { jsonBody } from './vendor-api.js';

/** Artifact Registry pages tags/list at up to 10,000 entries; asking for fewer showed only ~1000. */
const TAGS_PAGE_SIZE = 10_000;
/** Paths listed at once during a walk (the per-host bound in the HTTP client still applies). */
const WALK_CONCURRENCY = 4;

export function isArtifactRegistry(apiUrl: string): boolean {
  return /-docker\.pkg\.dev$/i.test(new URL(apiUrl).hostname);
}

/**
 * What reaches Google's token service. A lone `token` is an OAuth access token (what
 * google-github-actions/auth gives as `access_token`), which Google takes as the password of the
 * fixed user `oauth2accesstoken`.
 */
export function googleCredentials(c: Credentials): Credentials {
  if (c.token && !c.username && !c.password) return { username: 'oauth2accesstoken', password: c.token };
  return c;
}

/** A clear message for a key that cannot work, before any request is spent on it. */
export function checkGoogleCredentials(c: Credentials): void {
  const secret = c.password ?? c.token;
  if (c.username === '_json_key' && secret !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(secret);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || !('private_key' in parsed)) {
      throw new RegistryError(
        'username _json_key needs the service account key JSON as password (the whole file, e.g. ${{ secrets.GCP_SA_KEY }}); for a base64-encoded key use username _json_key_base64',
      );
    }
  }
  if (c.username === '_json_key_base64' && secret !== undefined) {
    const decoded = Buffer.from(secret, 'base64').toString('utf8');
    if (!decoded.trimStart().startsWith('{')) {
      throw new RegistryError(
        'username _json_key_base64 needs the base64 of the service account key JSON as password; for the JSON itself use username _json_key',
      );
    }
  }
}

/** The literal first path segments a repository_pattern requires, if it requires any. */
export function leadingSegments(pattern: string): string[] | undefined {
  const heads = literalPrefixes(pattern);
  if (!heads?.every((h) => h.indexOf('/') > 0)) return undefined;
  return [...new Set(heads.map((h) => h.slice(0, h.indexOf('/'))))];
}

/**
 * Where the walk starts: the project on gcr.io (or the part of it the repository_pattern
 * narrows to), `<project>/<repository>` on Artifact Registry when the pattern names it.
 */
export function walkRoots(selectors: readonly Selector[]): string[] {
  const roots = new Set<string>();
  for (const s of selectors) {
    const project = literalNamespace(s.namespacePattern.source);
    if (!project) {
      throw new RegistryError(
        `Google registries cannot list every project (their _catalog spans all projects the credential can see): selector namespace_pattern ${JSON.stringify(s.namespacePattern.source)} must name the project, e.g. "my-project"`,
      );
    }
    const segments = leadingSegments(s.repositoryPattern.source);
    if (segments) for (const seg of segments) roots.add(`${project}/${seg}`);
    else roots.add(project);
  }
  // A root inside another root is walked anyway.
  return [...roots].filter((r) => ![...roots].some((o) => o !== r && r.startsWith(`${o}/`))).sort();
}

/** Google's tags/list: the OCI `tags`, plus the paths one level down and a digest → facts map. */
const GooglePage = z.object({
  tags: z.array(z.unknown()),
  child: z.array(z.unknown()).nullish(),
  manifest: z.record(z.string(), z.unknown()).nullish(),
});

/** One entry of the manifest map, named by its digest. */
const GoogleManifestRow = z.object({
  name: z.string(),
  entry: z.object({
    tag: z.array(z.string()).nullish(),
    timeUploadedMs: optionalFact(z.union([z.string(), z.number()])),
  }),
});

/** One path's tags/list, all pages: its tags with digests and upload times, and its children. */
interface PathListing {
  tags: string[];
  children: string[];
  vendor: Map<string, VendorTag>;
  /** Tags listed that no manifest entry names; discovery resolves those through the registry. */
  undated: number;
  pages: number;
  complete: boolean;
  problem?: string;
}

/** Google sends epoch milliseconds as strings on gcr.io and as numbers on Artifact Registry. */
function millisToIso(value: unknown): string | undefined {
  const ms = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return undefined;
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

class GoogleLister {
  /** tags/list answers kept from the walk, so listing a repository's tags costs nothing more. */
  private readonly cache = new Map<string, PathListing>();
  private walked = 0;
  private fromCache = 0;
  private undated = 0;

  constructor(
    private readonly client: RegistryClient,
    private readonly settings: ProviderSettings,
  ) {}

  /** Every page of one path's tags/list. A missing path answers undefined when `allow404`. */
  async list(path: string, tally?: Tally, allow404 = false): Promise<PathListing | undefined> {
    const tags = new Set<string>();
    const children = new Set<string>();
    const vendor = new Map<string, VendorTag>();
    let missing = false;
    const walk = PageWalk.links<string>({
      source: 'the registry',
      maxPages: this.settings.maxPages,
      first: `${this.client.base}/v2/${path}/tags/list?n=${TAGS_PAGE_SIZE}`,
      origin: this.client.origin,
      read: async (url, index) => {
        const res = await this.client.request(
          'GET',
          url,
          'tags',
          repositoryScope(path),
          { accept: 'application/json' },
          { allow404: allow404 && index === 0, tally },
        );
        if (res.status === 404) {
          missing = true;
          return { items: [] };
        }
        const doc = jsonBody(res);
        if (doc === undefined) {
          throw new RegistryError(
            `${describeUrl(url)}: expected Google's tag list (JSON) but got ${res.headers['content-type'] ?? 'no content type'}`,
          );
        }
        const page = readPage(doc, GooglePage, describeUrl(url));
        const listed = readRows(page.tags, z.string(), 'tag');
        const below = readRows(page.child ?? [], z.string(), 'child path');
        const described = readRows(
          Object.entries(page.manifest ?? {}).map(([name, entry]) => ({ name, entry })),
          GoogleManifestRow,
          'manifest',
        );
        for (const t of listed.items) tags.add(t);
        for (const c of below.items) children.add(c);
        for (const { name: digest, entry } of described.items) {
          if (!/^sha256:[a-f0-9]{64}$/.test(digest)) continue;
          const pushedAt = millisToIso(entry.timeUploadedMs);
          for (const t of entry.tag ?? []) {
            tags.add(t);
            vendor.set(t, { digest, ...(pushedAt ? { pushedAt } : {}) });
          }
        }
        return {
          items: listed.items,
          rejected: [...listed.rejected, ...below.rejected, ...described.rejected],
          next: nextLinkTarget(res.headers.link),
        };
      },
    });
    const { items: _read, ...verdict } = await collectPages(walk);
    if (missing) return undefined;
    const listedTags = [...tags];
    return {
      tags: listedTags,
      children: [...children].sort(),
      vendor,
      undated: listedTags.filter((t) => !vendor.has(t)).length,
      ...verdict,
    };
  }

  async repositories(): Promise<RepositoryListing> {
    const roots = walkRoots(this.settings.selectors);
    const repositories = new Set<string>();
    const problems: string[] = [];
    let pages = 0;
    const visit = async (path: string, root: boolean): Promise<void> => {
      const listing = await this.list(path, undefined, true);
      if (!listing) {
        // A child deleted since its parent was listed is simply gone; a missing root is a config error.
        if (root) throw new RegistryError(this.missingRoot(path), { status: 404 });
        return;
      }
      this.walked++;
      pages += listing.pages;
      if (!listing.complete) problems.push(`${path}: ${listing.problem}`);
      if (listing.tags.length > 0 || listing.vendor.size > 0) {
        repositories.add(path);
        this.cache.set(path, listing);
      }
      await mapLimit(listing.children, WALK_CONCURRENCY, (child) => visit(`${path}/${child}`, false));
    };
    await mapLimit(roots, WALK_CONCURRENCY, (r) => visit(r, true));
    return {
      items: [...repositories],
      pages,
      complete: problems.length === 0,
      ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
    };
  }

  async tags(repo: string, tally: Tally): Promise<TagListing> {
    let listing = this.cache.get(repo);
    if (listing) {
      this.cache.delete(repo);
      this.fromCache++;
    } else {
      listing = await this.list(repo, tally);
    }
    this.undated += listing!.undated;
    const { tags, vendor, pages, complete, problem } = listing!;
    return { items: tags, vendor, pages, complete, ...(problem ? { problem } : {}) };
  }

  private missingRoot(path: string): string {
    const host = new URL(this.settings.apiUrl).host;
    if (!path.includes('/')) {
      const where = isArtifactRegistry(this.settings.apiUrl)
        ? 'Artifact Registry is walked from a repository, so'
        : 'on Artifact Registry,';
      return `${host}/${path} was not found (HTTP 404): check that namespace_pattern names the project; ${where} start repository_pattern with the repository, e.g. "^my-repository/"`;
    }
    return `${host}/${path} was not found (HTTP 404): check that namespace_pattern names the project and that repository_pattern starts with an existing repository path`;
  }

  notes(): string[] {
    const out: string[] = [];
    if (this.walked > 0)
      out.push(
        `listed ${this.walked} paths through Google's tags/list (child walk); tag digests and upload times came with them${this.fromCache > 0 ? `, ${this.fromCache} repositories needed no further listing` : ''}`,
      );
    if (this.undated > 0)
      out.push(`${this.undated} tags had no entry in Google's manifest map; resolved through the registry`);
    return out;
  }
}

export const openGcr: OpenAdapter = async (ctx) => {
  const credentials = googleCredentials(ctx.credentials);
  checkGoogleCredentials(credentials);
  ctx.secrets.add(credentials.password);
  const client = ctx.connect(credentials);
  const lister = new GoogleLister(client, ctx.settings);
  return {
    ...ociAdapter(ctx, client),
    listRepositories: () => lister.repositories(),
    listTags: (repo, tally) => lister.tags(repo, tally),
    notes: () => lister.notes(),
  };
};
