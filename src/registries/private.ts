// A plain OCI registry (CNCF Distribution and anything that speaks its API). Products with their
// own quirks or richer APIs often say who they are in the /v2/ ping (a header or the auth
// challenge); then their adapter is used, so `registry_type: private` on an Artifactory, Nexus,
// Harbor or Quay still gets that vendor's workarounds.
import { parseWwwAuthenticate } from '../auth/www-authenticate.js';
import type { RegistryType } from '../config/schema.js';
import type { HttpResponse } from '../http/http-client.js';
import { openArtifactory } from './artifactory.js';
import { openHarbor } from './harbor.js';
import { openNexus } from './nexus.js';
import { openQuay } from './quay.js';
import { type OpenAdapter, ociAdapter } from './registry-adapter.js';

export interface Detection {
  type: Extract<RegistryType, 'artifactory' | 'nexus' | 'harbor' | 'quay'>;
  /** What gave it away, for the log. */
  evidence: string;
}

const OPENERS: Record<Detection['type'], OpenAdapter> = {
  artifactory: openArtifactory,
  nexus: openNexus,
  harbor: openHarbor,
  quay: openQuay,
};

/** The product a /v2/ ping answer names, if any; plain Distribution names none. */
export function detectRegistry(res: HttpResponse): Detection | undefined {
  const h = res.headers;
  if (h['x-jfrog-version'])
    return { type: 'artifactory', evidence: `X-JFrog-Version: ${h['x-jfrog-version']}` };
  if (h['x-artifactory-id']) return { type: 'artifactory', evidence: 'an X-Artifactory-Id header' };
  if (/^nexus\//i.test(h.server ?? '')) return { type: 'nexus', evidence: `Server: ${h.server}` };
  const challenges = parseWwwAuthenticate(h['www-authenticate']);
  for (const c of challenges) {
    const realm = c.params.realm ?? '';
    const service = c.params.service ?? '';
    if (c.scheme === 'basic' && /sonatype nexus/i.test(realm))
      return { type: 'nexus', evidence: `the Basic realm "${realm}"` };
    if (c.scheme !== 'bearer') continue;
    if (service === 'harbor-registry' && /\/service\/token\/?$/.test(realm))
      return { type: 'harbor', evidence: `the token service "${service}" at ${realm}` };
    if (/quay/i.test(service) || /quay/i.test(hostOf(realm)))
      return { type: 'quay', evidence: `the token service "${service}" at ${realm}` };
  }
  if (Object.keys(h).some((k) => k.startsWith('x-quay-')))
    return { type: 'quay', evidence: 'an X-Quay-* header' };
  return undefined;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

export const openPrivate: OpenAdapter = async (ctx) => {
  const client = ctx.connect(ctx.credentials);
  let res: HttpResponse;
  try {
    res = await client.ping();
  } catch {
    // The caller pings this same client again and reports the (memoised) failure.
    return ociAdapter(ctx, client);
  }
  const found = detectRegistry(res);
  if (!found) return ociAdapter(ctx, client);
  ctx.log.info(
    `${ctx.settings.name}: ${client.host} looks like ${found.type} (${found.evidence}); using its adapter. Set registry_type: ${found.type} to pin this`,
  );
  return OPENERS[found.type](ctx);
};
