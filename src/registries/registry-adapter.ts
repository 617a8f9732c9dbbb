// What differs between registries, behind one small interface: which credentials reach the
// registry, how repositories are listed and, where a vendor API can, how tags are listed together
// with their digests, push times and scanner results (so digests cost no manifest requests).
// Manifests, configs and the graph stay on the shared OCI client. One file per vendor; each
// exports an `open…` function with the `OpenAdapter` signature, listed in open-adapter.ts.

import type { Credentials, ProviderSettings } from '../config/settings.js';
import type { HttpClient, Tally } from '../http/http-client.js';
import type { Log } from '../log.js';
import type {
  LifecycleImage,
  RepositoryInfo,
  UntaggedManifest,
  VulnerabilityCounts,
} from '../model/discovery.js';
import type { DeleteAnswer, FailureHook, Listing, RegistryClient } from '../oci/registry-client.js';
import type { Secrets } from '../secrets.js';

export interface VendorTag {
  /** The digest the tag points at (the index digest for a multi-platform image). */
  digest: string;
  /** RFC 3339 push time, when the vendor reports one. */
  pushedAt?: string;
  /** Severity counts, only when discover_vulnerabilities is on and the vendor scanned the image. */
  vulnerabilities?: VulnerabilityCounts;
  /** With read_manifests: false, what the listing says about a single-platform image, when enough. */
  listed?: ListedManifest;
}

/**
 * An image manifest as a vendor listing describes it: its config's platform, creation time and
 * labels, without the manifest or config being read. Layer and config digests are not in it.
 */
export interface ListedManifest {
  mediaType: string;
  platform: { architecture: string; os: string };
  created?: string;
  /** As the vendor counts it (Harbor: manifest document + config + layers, compressed). */
  size?: number;
  labels: Record<string, string>;
}

export interface RepositoryListing extends Listing {
  /** Vendor facts per repository name, when the listing API returns them. */
  info?: Map<string, RepositoryInfo>;
}

/** An accessory of a manifest as a vendor API lists it (Harbor accessories, ECR's subjectManifestDigest). */
export interface ReferrerDescriptor {
  digest: string;
  mediaType?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** In-toto predicate types a vendor's own store holds for an image (GitHub's attestations API). */
export interface VendorAttestations {
  /** Where they were read, for the summary ("GitHub attestations API"). */
  source: string;
  predicateTypes: string[];
}

export interface TagListing extends Listing {
  /** Digest (and push time) per tag, from a vendor API; absent for plain OCI listings. */
  vendor?: Map<string, VendorTag>;
  /** Vendor facts about the repository, when the tag API returns them. */
  info?: RepositoryInfo;
  /** Accessories by the digest they refer to, when the vendor listing names them. */
  referrers?: Map<string, ReferrerDescriptor[]>;
  /** Scan summaries of untagged manifests (an index's platforms) by digest, for the image roll-up. */
  scans?: Map<string, VulnerabilityCounts>;
  /**
   * Every untagged manifest of the repository, where the vendor's listing names them without
   * extra requests. Set only when the listing is complete: retention's untagged_older_than
   * deletes from it, and a partial list would read as "nothing else is untagged".
   */
  untagged?: UntaggedManifest[];
  /**
   * Every image row of the listing, tagged and untagged, as an ECR lifecycle policy evaluates
   * them (push and pull times, tags, archive state); set only when the listing is complete and a
   * selector previews a lifecycle policy.
   */
  lifecycleImages?: LifecycleImage[];
}

export interface RegistryAdapter {
  /** The OCI client for manifests and configs, authenticated the way this vendor needs. */
  readonly client: RegistryClient;
  /** Which credential is in use and where it came from, for the log; never its value. */
  describeCredential(): string;
  listRepositories(): Promise<RepositoryListing>;
  listTags(repo: string, tally: Tally): Promise<TagListing>;
  /** Resolve tags with HEAD even when never seen before: where a manifest GET counts as a pull. */
  readonly headFirst: boolean;
  /** True when listTags fills `vulnerabilities` (discover_vulnerabilities on, vendor has a scanner). */
  readonly scansVulnerabilities: boolean;
  /**
   * Lines for the run summary: quota left, API budget spent, fallbacks taken. A line starting with
   * "vulnerabilities:" replaces the generic "not available for this registry" line.
   */
  notes(): string[];
  /**
   * Attestations a vendor keeps outside the registry for one image digest; undefined when it
   * keeps none or the credential cannot read them. Only vendors with such a store implement it.
   */
  vendorAttestations?(repo: string, digest: string, tally: Tally): Promise<VendorAttestations | undefined>;
  /**
   * Deletes one manifest and, with it, every tag on it (`tags`: those tags, for vendors that
   * delete by tag). Never throws for an answer from the registry: it becomes a DeleteAnswer.
   */
  deleteManifest?(repo: string, digest: string, tags: readonly string[], tally: Tally): Promise<DeleteAnswer>;
}

/** What the shells know about the machine that vendors may use; plain values, read by the shell. */
export interface Ambient {
  env: Readonly<Record<string, string | undefined>>;
  /** The workflow's GITHUB_TOKEN (action input github-token), for GHCR. */
  githubToken?: string;
  /** Docker's config.json as docker/login-action leaves it, with the path it was read from. */
  dockerConfig?: { path: string; text: string };
}

export interface VendorContext {
  settings: ProviderSettings;
  http: HttpClient;
  secrets: Secrets;
  log: Log;
  ambient: Ambient;
  /** Credentials for the registry: from the config, else from Docker's config file; may be empty. */
  credentials: Credentials;
  /** Where `credentials` came from, for the log ("config", "~/.docker/config.json", "none"). */
  credentialSource: string;
  /** The shared OCI client for this registry, authenticating with the given credentials. */
  connect(credentials: Credentials, hooks?: { onFailure?: FailureHook }): RegistryClient;
}

export type { DeleteAnswer, UntaggedManifest };

export type OpenAdapter = (ctx: VendorContext) => Promise<RegistryAdapter>;

/** The plain OCI Distribution behaviour every vendor adapter starts from. */
export function ociAdapter(ctx: VendorContext, client: RegistryClient): RegistryAdapter {
  return {
    client,
    describeCredential: () => `${client.auth.describeCredential()} from ${ctx.credentialSource}`,
    listRepositories: () => client.listRepositories(),
    listTags: (repo, tally) => client.listTags(repo, tally),
    deleteManifest: (repo, digest, _tags, tally) => client.deleteManifest(repo, digest, tally),
    headFirst: false,
    scansVulnerabilities: false,
    notes: () => [],
  };
}
