// Sonatype Nexus Repository 3. A Docker repository is reached either under the main port at
// /repository/<name> (api_url https://host/repository/<name>; /v2 lives below it) or on its own
// connector port / subdomain (api_url https://host:port). Auth is Basic (realm "Sonatype Nexus
// Repository Manager", sent as "BASIC") or, with the Docker Bearer Token Realm, a token from /v2/token.
// No vendor listing or scanner API is used: tags and digests come from the OCI API, with two
// pagination defects worked around (see paginationQuirks).
import { RegistryAuth } from '../auth/registry-auth.js';
import { RegistryError } from '../errors.js';
import { type PaginationQuirks, RegistryClient } from '../oci/registry-client.js';
import { type OpenAdapter, ociAdapter, type VendorContext } from './registry-adapter.js';

/**
 * Group repositories cut `_catalog` and `tags/list` short and send no Link (renovate#18447,
 * nexus-public#117), and connectors put a /repository/<name> prefix into the Link that the
 * connector port does not serve (nexus-public#1011). So a page without a Link is followed by a
 * `last=` request until one adds nothing, and a Link lends only its cursor.
 */
export const NEXUS_PAGINATION: PaginationQuirks = { linkQueryOnly: true, resumeWithoutLink: true };

/** api_url without a trailing /v2 (people paste the API path); the client adds /v2 itself. */
export function withoutV2(apiUrl: string): string {
  return apiUrl.replace(/\/v2\/?$/, '');
}

/** The registry client for a vendor whose listings need workarounds, on the vendor's base URL. */
export function quirkyClient(
  ctx: VendorContext,
  apiUrl: string,
  pagination: PaginationQuirks,
): RegistryClient {
  const p = ctx.settings;
  return new RegistryClient(
    ctx.http,
    new RegistryAuth(ctx.http, new URL(apiUrl).host, ctx.credentials, ctx.secrets, p.timeoutMs),
    { apiUrl, timeoutMs: p.timeoutMs, maxPages: p.maxPages, pagination },
  );
}

export function nexusPathProblem(apiUrl: string): string | undefined {
  const path = new URL(apiUrl).pathname.replace(/\/+$/, '');
  if (path === '' || /^\/repository\/[^/]+$/.test(path)) return undefined;
  if (path === '/repository')
    return `api_url ${apiUrl} names no repository: use https://<host>/repository/<docker-repository-name> or the repository's connector port`;
  if (path.startsWith('/service/') || path.startsWith('/#'))
    return `api_url ${apiUrl} is a Nexus UI or REST address: use https://<host>/repository/<docker-repository-name> or the repository's connector port`;
  return undefined;
}

export const openNexus: OpenAdapter = async (ctx) => {
  const apiUrl = withoutV2(ctx.settings.apiUrl);
  const problem = nexusPathProblem(apiUrl);
  if (problem) throw new RegistryError(problem);
  const client = quirkyClient(ctx, apiUrl, NEXUS_PAGINATION);
  try {
    await client.ping();
  } catch (err) {
    if (err instanceof RegistryError && err.details.status === 404) {
      throw new RegistryError(
        `${client.host} answers 404 at ${client.base}/v2/: Nexus serves Docker at https://<host>/repository/<docker-repository-name> or on the repository's HTTP connector port; set api_url to one of those`,
        { status: 404 },
      );
    }
    throw err;
  }
  return {
    ...ociAdapter(ctx, client),
    notes: () => [
      'Nexus: listings continue with `last=` after a page without a next link (group repositories omit it), so each listing ends with one extra, empty page',
    ],
  };
};
