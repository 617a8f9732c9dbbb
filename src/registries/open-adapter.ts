// Picks the vendor adapter for a provider's registry_type, after settling which credentials it
// starts from (the config's, else Docker's config file), and reaches the registry once.
import { dockerConfigCredentials } from '../auth/docker-config.js';
import { RegistryAuth } from '../auth/registry-auth.js';
import type { Credentials, ProviderSettings } from '../config/settings.js';
import type { HttpClient } from '../http/http-client.js';
import type { Log } from '../log.js';
import { RegistryClient } from '../oci/registry-client.js';
import type { Secrets } from '../secrets.js';
import { openAcr } from './acr.js';
import { openArtifactory } from './artifactory.js';
import { openDockerHub } from './docker-hub.js';
import { openEcr } from './ecr.js';
import { openGcr } from './gcr.js';
import { openGhcr } from './ghcr.js';
import { openHarbor } from './harbor.js';
import { openNexus } from './nexus.js';
import { openPrivate } from './private.js';
import { openQuay } from './quay.js';
import type { Ambient, OpenAdapter, RegistryAdapter, VendorContext } from './registry-adapter.js';

const OPENERS: Record<ProviderSettings['registryType'], OpenAdapter> = {
  'docker-hub': openDockerHub,
  ecr: openEcr,
  gcr: openGcr,
  acr: openAcr,
  ghcr: openGhcr,
  private: openPrivate,
  harbor: openHarbor,
  quay: openQuay,
  nexus: openNexus,
  artifactory: openArtifactory,
};

export interface OpenOptions {
  settings: ProviderSettings;
  http: HttpClient;
  secrets: Secrets;
  log: Log;
  ambient: Ambient;
}

/**
 * The adapter for a provider, its registry reached (pinged) so that a wrong URL or an unreachable
 * host fails here, once, with a clear message.
 */
export async function openAdapter(o: OpenOptions): Promise<RegistryAdapter> {
  const p = o.settings;
  const { credentials, source } = providerCredentials(o);
  const ctx: VendorContext = {
    ...o,
    credentials,
    credentialSource: source,
    connect: (creds, hooks) =>
      new RegistryClient(
        o.http,
        new RegistryAuth(o.http, new URL(p.apiUrl).host, creds, o.secrets, p.timeoutMs),
        {
          apiUrl: p.apiUrl,
          timeoutMs: p.timeoutMs,
          maxPages: p.maxPages,
          ...(hooks?.onFailure ? { onFailure: hooks.onFailure } : {}),
        },
      ),
  };
  const adapter = await OPENERS[p.registryType](ctx);
  await adapter.client.ping();
  return adapter;
}

function hasCredentials(c: Credentials): boolean {
  return !!(c.username || c.password || c.token);
}

/** The provider's own credentials; Docker's config file fills in only when the config has none. */
function providerCredentials(o: OpenOptions): { credentials: Credentials; source: string } {
  if (hasCredentials(o.settings.credentials))
    return { credentials: o.settings.credentials, source: 'the config' };
  const file = o.ambient.dockerConfig;
  if (file) {
    const found = dockerConfigCredentials(file.text, new URL(o.settings.apiUrl).host);
    if (found.found) {
      const { username, password } = found.credentials;
      o.secrets.add(password);
      o.secrets.add(Buffer.from(`${username}:${password}`).toString('base64'));
      return { credentials: found.credentials, source: `${file.path} (auths "${found.key}")` };
    }
    if (found.reason) o.log.info(`${o.settings.name}: not using ${file.path}: ${found.reason}`);
  }
  return { credentials: {}, source: 'no credential source' };
}
