// Which registry a well-known host belongs to. A provider that gives api_url without
// registry_type is read as that vendor's registry; any other host is a plain OCI registry, and
// the products that only their answers reveal (Harbor, Quay, Nexus, Artifactory) are recognised
// by the `private` adapter from its first answer.
import type { RegistryType } from './schema.js';

export interface EcrHost {
  accountId: string;
  region: string;
  fips: boolean;
}

/** `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` and the dual-stack `….dkr-ecr….on.aws`. */
export function parseEcrHost(host: string): EcrHost | undefined {
  const m = /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|on\.aws)$/i.exec(host);
  return m ? { accountId: m[1]!, region: m[3]!.toLowerCase(), fips: !!m[2] } : undefined;
}

/** Docker Hub's registry and its aliases (docker.io is what image references say). */
const DOCKER_HUB_HOSTS = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** Hosts whose names say which vendor runs them, in the order they are tried. */
const VENDOR_HOSTS: ReadonlyArray<[RegistryType, (host: string) => boolean]> = [
  ['docker-hub', (h) => DOCKER_HUB_HOSTS.has(h)],
  ['ghcr', (h) => h === 'ghcr.io'],
  ['quay', (h) => h === 'quay.io'],
  ['ecr', (h) => h === 'public.ecr.aws' || parseEcrHost(h) !== undefined],
  // mirror.gcr.io is Google's cache of Docker Hub, not a project's registry.
  ['gcr', (h) => (h === 'gcr.io' || h.endsWith('.gcr.io')) && h !== 'mirror.gcr.io'],
  ['gcr', (h) => h.endsWith('-docker.pkg.dev')],
  ['acr', (h) => /\.azurecr\.(io|cn|us)$/.test(h)],
];

/** The vendor whose well-known host `host` (no port) is; undefined for any other host. */
export function vendorOfHost(host: string): RegistryType | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  return VENDOR_HOSTS.find(([, matches]) => matches(h))?.[0];
}

/**
 * A provider's registry_type: the one it sets, else what its api_url's host implies. `note` says
 * which was chosen when that is not the Docker Hub default, for the log.
 */
export function resolveRegistryType(
  registryType: RegistryType | undefined,
  apiUrl: string | undefined,
  hubUrlSet: boolean,
): { type: RegistryType; note?: string } {
  if (registryType) return { type: registryType };
  // Devgraph's default, and what a Docker Hub mirror (api_url elsewhere, hub_url for listing) means.
  if (!apiUrl || hubUrlSet) return { type: 'docker-hub' };
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    return { type: 'private' };
  }
  const type = vendorOfHost(url.hostname) ?? 'private';
  if (type === 'docker-hub') return { type };
  const what =
    type === 'private'
      ? 'private (a plain OCI registry; Harbor, Quay, Nexus and Artifactory are recognised from its answers)'
      : type;
  return {
    type,
    note: `registry_type not set: ${what} from api_url's host ${url.host}; set registry_type to choose another`,
  };
}
