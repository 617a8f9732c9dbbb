// Azure Container Registry (<registry>.azurecr.io).
//
// Credentials reach ACR's token endpoint (`/oauth2/token`, named by the registry's challenge) as
// Basic: the admin user, a repository-scoped token (scope map), or an ACR refresh token with the
// null GUID as username. An Entra ID access token (azure/login, then `az account get-access-token`)
// is first exchanged for such a refresh token at `/oauth2/exchange`.
//
// ACR's own listing API lives on the registry host and takes registry tokens: `/acr/v1/_catalog`
// for repositories and `/acr/v1/<repo>/_tags?orderby=timedesc` for every tag with its digest and
// last update time, so discovery needs no per-tag HEAD. Those tag pages need the
// `metadata_read` action, which repository-scoped tokens may lack: then tags come from
// /v2/<repo>/tags/list and are resolved one manifest request each, and the summary says why.
//
// Untagged manifests are only in `/acr/v1/<repo>/_manifests`, one row per manifest (an index's
// platform and attestation manifests each a row) where `_tags` has one per tag. A multi-arch
// repository has several times more manifests than tags, so that listing costs more pages: it is
// read instead of `_tags` only for repositories whose selector has retention.untagged_older_than.

import { z } from 'zod';
import { registryErrorText } from '../auth/registry-auth.js';
import { selectorFor } from '../config/select.js';
import type { Credentials, Selector } from '../config/settings.js';
import { AuthError, RegistryError } from '../errors.js';
import { describeUrl, type Tally } from '../http/http-client.js';
import { nextLinkTarget } from '../http/link-header.js';
import { collectPages, optionalFact, PageWalk, readPage, readRows } from '../http/page-walker.js';
import type { UntaggedManifest } from '../model/discovery.js';
import type { RegistryClient } from '../oci/registry-client.js';
import {
  type OpenAdapter,
  ociAdapter,
  type RepositoryListing,
  type TagListing,
  type VendorContext,
  type VendorTag,
} from './registry-adapter.js';
import { literalNames, literalNamespace, namingAdvice } from './selector-names.js';
import { jsonBody } from './vendor-api.js';

/** Username that tells ACR's token endpoint the password is an ACR refresh token. */
export const ACR_REFRESH_TOKEN_USER = '00000000-0000-0000-0000-000000000000';
/** ACR caps `n` on its listing API at 1000 (a larger n is cut to 1000: Azure/acr#749). */
const PAGE_SIZE = 1000;
const CATALOG_SCOPE = 'registry:catalog:*';
const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

function metadataScope(repo: string): string {
  return `repository:${repo}:metadata_read`;
}

/**
 * Trades an Entra ID access token for an ACR refresh token (POST /oauth2/exchange), which then
 * works as the password of the null-GUID user on the normal token flow.
 */
export async function exchangeEntraToken(ctx: VendorContext, aadToken: string): Promise<string> {
  const api = new URL(ctx.settings.apiUrl);
  const tenant = ctx.ambient.env.AZURE_TENANT_ID;
  const form = new URLSearchParams({
    grant_type: 'access_token',
    service: api.host,
    ...(tenant ? { tenant } : {}),
    access_token: aadToken,
  });
  const url = `${api.origin}/oauth2/exchange`;
  const res = await ctx.http.request({
    method: 'POST',
    url,
    kind: 'token',
    timeoutMs: ctx.settings.timeoutMs,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
  });
  if (res.status !== 200) {
    const detail = registryErrorText(res);
    const fix =
      res.status === 401 || res.status === 403 || res.status === 400
        ? '; config token must be a current Entra ID access token (after azure/login: az account get-access-token --query accessToken -o tsv) whose identity has AcrPull on the registry, or set username/password instead'
        : '';
    throw new AuthError(
      `${api.host} refused the Entra ID token at ${describeUrl(url)} (HTTP ${res.status}${detail ? `: ${detail}` : ''})${fix}`,
      { status: res.status, retryable: res.status >= 500 },
    );
  }
  const refresh = (jsonBody(res) as { refresh_token?: unknown } | null | undefined)?.refresh_token;
  if (typeof refresh !== 'string' || !refresh)
    throw new AuthError(`${describeUrl(url)}: the exchange answered without a refresh_token`);
  ctx.secrets.add(refresh);
  return refresh;
}

/** Names the selectors spell out in full (`^acme$` + `^web$` → acme/web), or undefined if any is a real pattern. */
export function literalRepositories(selectors: readonly Selector[]): string[] | undefined {
  const out = new Set<string>();
  for (const s of selectors) {
    const ns = literalNamespace(s.namespacePattern.source);
    const names = literalNames(s.repositoryPattern.source);
    if (ns === undefined || names === undefined) return undefined;
    for (const name of names) {
      const full = ns ? `${ns}/${name}` : name;
      if (!full.split('/').every((part) => NAME.test(part))) return undefined;
      out.add(full);
    }
  }
  return [...out].sort();
}

/** ACR's pushed time (7-digit fractions, e.g. 2024-10-02T17:55:35.1234567Z) as plain RFC 3339. */
function normaliseTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * True when the registry refused a token that lacks an action (a partial grant), as opposed to
 * the token service refusing the credential itself: only the first can be worked around.
 */
function deniedAction(err: unknown): err is AuthError {
  return (
    err instanceof AuthError &&
    (err.details.status === 401 || err.details.status === 403) &&
    !err.message.startsWith('token service ')
  );
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

// An empty registry answers its catalog without a list (`az acr repository list` failed on it with
// "'NoneType' object is not iterable", Azure/azure-cli#6977): that page lists nothing.
const AcrCatalogPage = z.object({ repositories: z.array(z.unknown()).nullish() });
const AcrTagsPage = z.object({ tags: z.array(z.unknown()) });

const AcrTag = z.object({
  name: z.string(),
  digest: z.string(),
  lastUpdateTime: optionalFact(z.string()),
});

const AcrManifestsPage = z.object({ manifests: z.array(z.unknown()).nullish() });

const AcrManifest = z.object({
  digest: z.string(),
  tags: optionalFact(z.array(z.string())),
  createdTime: optionalFact(z.string()),
  lastUpdateTime: optionalFact(z.string()),
  imageSize: optionalFact(z.number()),
  mediaType: optionalFact(z.string()),
  // An index's platform manifests.
  references: optionalFact(z.array(z.object({ digest: z.string() }))),
});

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** An untagged row of `_manifests`: pushed at createdTime (lastUpdateTime also moves when a tag leaves it). */
function acrUntagged(m: z.output<typeof AcrManifest>): UntaggedManifest {
  const pushedAt = normaliseTime(m.createdTime) ?? normaliseTime(m.lastUpdateTime);
  const children = (m.references ?? []).map((r) => r.digest).filter((d) => DIGEST.test(d));
  return {
    digest: m.digest,
    ...(m.mediaType ? { mediaType: m.mediaType } : {}),
    ...(pushedAt ? { pushedAt } : {}),
    ...(typeof m.imageSize === 'number' && m.imageSize > 0 ? { size: m.imageSize } : {}),
    ...(children.length > 0 ? { children } : {}),
  };
}

class AcrLister {
  private metadataDenied: string | undefined;
  private fallbackRepos = 0;
  private vendorPages = 0;
  /** Repositories listed by manifest (`_manifests`) for untagged_older_than. */
  private manifestListed = 0;
  private catalogNote: string | undefined;

  constructor(
    private readonly client: RegistryClient,
    private readonly ctx: VendorContext,
  ) {}

  /** An /acr/v1 listing, followed by its `Link: rel="next"` (same origin, max_pages). */
  private pages<T>(
    first: string,
    scope: string,
    readPageRows: (doc: unknown, url: string) => { items: T[]; rejected: string[] },
    tally?: Tally,
  ): PageWalk<T> {
    return PageWalk.links({
      source: 'ACR',
      maxPages: this.ctx.settings.maxPages,
      first,
      origin: this.client.origin,
      read: async (url) => {
        const res = await this.client.request(
          'GET',
          url,
          'tags',
          scope,
          { accept: 'application/json' },
          { tally },
        );
        this.vendorPages++;
        const doc = jsonBody(res);
        if (doc === undefined)
          throw new RegistryError(`${describeUrl(url)}: ACR answered with something that is not JSON`);
        return { ...readPageRows(doc, url), next: nextLinkTarget(res.headers.link) };
      },
    });
  }

  async repositories(): Promise<RepositoryListing> {
    try {
      const walk = this.pages(
        `${this.client.origin}/acr/v1/_catalog?n=${PAGE_SIZE}`,
        CATALOG_SCOPE,
        (doc, url) =>
          readRows(
            readPage(doc, AcrCatalogPage, describeUrl(url)).repositories ?? [],
            z.string(),
            'repository',
          ),
      );
      return await collectPages(walk);
    } catch (err) {
      if (!deniedAction(err)) throw err;
      // Repository-scoped tokens cannot read the catalog; selectors that name repositories still work.
      const named = literalRepositories(this.ctx.settings.selectors);
      if (!named) {
        const advice = this.ctx.settings.selectors.flatMap(
          (s) => namingAdvice('repository_pattern', s.repositoryPattern.source) ?? [],
        );
        throw new AuthError(
          [
            `${err.message}. ACR lists repositories only for credentials with catalog access (admin user, or an Entra ID identity with AcrPull); with a repository-scoped token, name each repository in the selectors (namespace_pattern "^acme$", repository_pattern "^web$")`,
            ...new Set(advice),
          ].join('; '),
          err.details,
        );
      }
      this.catalogNote = `the credential cannot list the catalog (${CATALOG_SCOPE}); used the ${plural(named.length, 'repository', 'repositories')} the selectors name`;
      return { items: named, pages: 0, complete: true };
    }
  }

  async tags(repo: string, tally: Tally): Promise<TagListing> {
    if (this.metadataDenied) return this.plainTags(repo, tally);
    const items = new Set<string>();
    const vendor = new Map<string, VendorTag>();
    try {
      if (selectorFor(repo, this.ctx.settings.selectors)?.retention?.untaggedOlderThan)
        return await this.manifests(repo, tally);
      const first = `${this.client.origin}/acr/v1/${repo}/_tags?orderby=timedesc&n=${PAGE_SIZE}`;
      const walk = this.pages(
        first,
        metadataScope(repo),
        (doc, url) => readRows(readPage(doc, AcrTagsPage, describeUrl(url)).tags, AcrTag, 'tag'),
        tally,
      );
      for await (const page of walk) {
        for (const t of page.items) {
          items.add(t.name);
          if (!/^sha256:[a-f0-9]{64}$/.test(t.digest)) continue;
          const pushedAt = normaliseTime(t.lastUpdateTime);
          vendor.set(t.name, { digest: t.digest, ...(pushedAt ? { pushedAt } : {}) });
        }
      }
      return { items: [...items], vendor, ...walk.verdict };
    } catch (err) {
      if (!deniedAction(err)) throw err;
      this.metadataDenied = repo;
      return this.plainTags(repo, tally);
    }
  }

  /**
   * Tags and untagged manifests from `_manifests`. A tag's time is then its manifest's last
   * update, as `_tags` gives it for the tag.
   */
  private async manifests(repo: string, tally: Tally): Promise<TagListing> {
    const items = new Set<string>();
    const vendor = new Map<string, VendorTag>();
    const untagged: UntaggedManifest[] = [];
    const walk = this.pages(
      `${this.client.origin}/acr/v1/${repo}/_manifests?orderby=timedesc&n=${PAGE_SIZE}`,
      metadataScope(repo),
      (doc, url) =>
        readRows(readPage(doc, AcrManifestsPage, describeUrl(url)).manifests ?? [], AcrManifest, 'manifest'),
      tally,
    );
    for await (const page of walk) {
      for (const m of page.items) {
        const valid = DIGEST.test(m.digest);
        if (!m.tags?.length) {
          if (valid) untagged.push(acrUntagged(m));
          continue;
        }
        const pushedAt = normaliseTime(m.lastUpdateTime);
        for (const tag of m.tags) {
          items.add(tag);
          if (valid) vendor.set(tag, { digest: m.digest, ...(pushedAt ? { pushedAt } : {}) });
        }
      }
    }
    this.manifestListed++;
    const verdict = walk.verdict;
    return { items: [...items], vendor, ...(verdict.complete ? { untagged } : {}), ...verdict };
  }

  private async plainTags(repo: string, tally: Tally): Promise<TagListing> {
    this.fallbackRepos++;
    return this.client.listTags(repo, tally);
  }

  notes(): string[] {
    const out: string[] = [];
    if (this.catalogNote) out.push(this.catalogNote);
    if (this.metadataDenied)
      out.push(
        `the credential lacks metadata_read (first seen on ${this.metadataDenied}), so ACR's tag API was not usable: ${plural(this.fallbackRepos, 'repository', 'repositories')} listed with /v2 tags/list and one manifest request per tag; add content/metadata/read to the token's scope map to avoid it`,
      );
    else if (this.vendorPages > 0)
      out.push(`${this.vendorPages} ACR listing pages (/acr/v1) gave tags with digests and push times`);
    if (this.manifestListed > 0)
      out.push(
        `${plural(this.manifestListed, 'repository', 'repositories')} listed by manifest (/acr/v1/<repo>/_manifests) for retention's untagged_older_than: one row per manifest, index children included, where the tag listing has one per tag`,
      );
    return out;
  }
}

export const openAcr: OpenAdapter = async (ctx) => {
  const c = ctx.credentials;
  let credentials: Credentials = c;
  let described: string | undefined;
  if (c.token && !c.username && !c.password) {
    ctx.secrets.add(c.token);
    const refresh = await exchangeEntraToken(ctx, c.token);
    credentials = { username: ACR_REFRESH_TOKEN_USER, password: refresh };
    described = `an Entra ID token (exchanged for an ACR refresh token) from ${ctx.credentialSource}`;
  }
  const client = ctx.connect(credentials);
  const lister = new AcrLister(client, ctx);
  const base = ociAdapter(ctx, client);
  return {
    ...base,
    describeCredential: () => described ?? base.describeCredential(),
    listRepositories: () => lister.repositories(),
    listTags: (repo, tally) => lister.tags(repo, tally),
    notes: () => lister.notes(),
  };
};
