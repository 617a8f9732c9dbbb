// JFrog Artifactory (and JFrog Container Registry). A Docker repository is reached through the
// repository API path (api_url https://host/artifactory/api/docker/<repo-key>, or .../api/oci/<key>),
// or through the repository-path method (api_url https://host; repository names then start with
// the repo key: <key>/<image>), or a subdomain / port per repository (api_url https://host).
// Credentials: Basic with a password, API key or identity/access token as the password, or a
// Bearer token from the realm Artifactory names. Tags and digests come from the OCI API.
import { RegistryError } from '../errors.js';
import type { PaginationQuirks } from '../oci/registry-client.js';
import { quirkyClient, withoutV2 } from './nexus.js';
import { type OpenAdapter, ociAdapter } from './registry-adapter.js';

/**
 * Artifactory's next-page Link drops the path before /v2 (the /artifactory/api/docker/<key> prefix
 * or, with the repository-path method, the repo key) (RTFACT-18971), and its `last` is a numeric
 * offset; so only the Link's cursor is used, on our own listing path, as Renovate does.
 */
export const ARTIFACTORY_PAGINATION: PaginationQuirks = { linkQueryOnly: true };

export function artifactoryPathProblem(apiUrl: string): string | undefined {
  const path = new URL(apiUrl).pathname.replace(/\/+$/, '');
  if (path === '' || /^\/artifactory\/api\/(docker|oci)\/[^/]+$/.test(path)) return undefined;
  const key = /^\/artifactory\/(?:api\/(?:docker|oci)\/)?([^/]+)/.exec(path)?.[1];
  if (path === '/artifactory' || path === '/artifactory/api/docker' || path === '/artifactory/api/oci')
    return `api_url ${apiUrl} names no repository: use https://<host>/artifactory/api/docker/<repo-key> (or https://<host> with the repository-path method)`;
  if (path.startsWith('/artifactory/') && key && key !== 'api')
    return `api_url ${apiUrl} is Artifactory's file path, not its Docker API: use ${new URL(apiUrl).origin}/artifactory/api/docker/${key}`;
  return undefined;
}

export const openArtifactory: OpenAdapter = async (ctx) => {
  const apiUrl = withoutV2(ctx.settings.apiUrl);
  const problem = artifactoryPathProblem(apiUrl);
  if (problem) throw new RegistryError(problem);
  const client = quirkyClient(ctx, apiUrl, ARTIFACTORY_PAGINATION);
  let version: string | undefined;
  try {
    version = (await client.ping()).headers['x-jfrog-version'];
  } catch (err) {
    if (err instanceof RegistryError && err.details.status === 404) {
      throw new RegistryError(
        `${client.host} answers 404 at ${client.base}/v2/: use api_url https://<host>/artifactory/api/docker/<repo-key>, or https://<host> when the repository-path, subdomain or port method is configured`,
        { status: 404 },
      );
    }
    throw err;
  }
  if (!version)
    ctx.log.info(
      `${ctx.settings.name}: ${client.host} sent no X-JFrog-Version header; if it is not Artifactory, use registry_type: private`,
    );
  return {
    ...ociAdapter(ctx, client),
    notes: () => [
      `${version ? version.split(' ')[0]! : 'Artifactory'}: next-page links are followed for their cursor only, on the repository's own path (their path drops the repository key)`,
    ],
  };
};
