// How a provider's repositories are enumerated. Most registries answer /v2/_catalog; the ones
// that do not (Docker Hub, GHCR, ...) list through their own APIs, one file per vendor.
import type { ProviderSettings } from '../config/settings.js';
import type { HttpClient } from '../http/http-client.js';
import type { Listing, RegistryClient } from '../oci/registry-client.js';
import { dockerHubRepositories } from './docker-hub.js';

export type RepositoryLister = () => Promise<Listing>;

export function repositoryLister(
  p: ProviderSettings,
  client: RegistryClient,
  http: HttpClient,
): RepositoryLister {
  switch (p.registryType) {
    case 'docker-hub':
      return () => dockerHubRepositories(p, http);
    default:
      return () => client.listRepositories();
  }
}
