// What differs between registries, behind one small interface: how repositories are listed and,
// where a vendor API can, how tags are listed together with their digests and push times (so
// digests cost no manifest requests). Manifests, configs and the graph stay on the shared OCI client.
import type { ProviderSettings } from '../config/settings.js';
import type { HttpClient, Tally } from '../http/http-client.js';
import type { Listing, RegistryClient } from '../oci/registry-client.js';
import { dockerHubRepositories, dockerHubTags } from './docker-hub.js';

export interface VendorTag {
  digest: string;
  /** RFC 3339 push time, when the vendor reports one. */
  pushedAt?: string;
}

export interface TagListing extends Listing {
  /** Digest (and push time) per tag, from a vendor API; absent for plain OCI listings. */
  vendor?: Map<string, VendorTag>;
}

export interface RegistryAdapter {
  listRepositories(): Promise<Listing>;
  listTags(repo: string, tally: Tally): Promise<TagListing>;
  /** Resolve tags with HEAD even when never seen before: where a manifest GET counts as a pull. */
  headFirst: boolean;
}

export function registryAdapter(
  p: ProviderSettings,
  client: RegistryClient,
  http: HttpClient,
): RegistryAdapter {
  switch (p.registryType) {
    case 'docker-hub':
      return {
        listRepositories: () => dockerHubRepositories(p, http),
        listTags: (repo, tally) => dockerHubTags(p, http, repo, tally),
        headFirst: true,
      };
    default:
      return {
        listRepositories: () => client.listRepositories(),
        listTags: (repo, tally) => client.listTags(repo, tally),
        headFirst: false,
      };
  }
}
