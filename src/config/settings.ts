import type { Duration } from './duration.js';
import type { Pattern } from './pattern.js';
import type { RegistryType } from './schema.js';
import type { VerifyKey } from './verify-keys.js';

export interface Selector {
  namespacePattern: Pattern;
  repositoryPattern: Pattern;
  /** Exact tag names; when set, only these tags are candidates. */
  includeTags?: ReadonlySet<string>;
  excludeTags: Pattern[];
  /** 0 keeps every tag. */
  maxTags: number;
  /** `require:`: what every image this selector picks must show (src/supply-chain/policy.ts). */
  require?: Requirements;
  /** `retention:`: what a plan deletes of this selector's repositories (src/retention/plan.ts). */
  retention?: RetentionRules;
}

/** A selector's retention rules; a rule absent does not apply. */
export interface RetentionRules {
  /** Images (distinct digests of image tags), newest first, that are never deleted. */
  keepNewest?: number;
  /** Tags never deleted, nor any digest carrying one. */
  keepTags: Pattern[];
  /** Only images older than this are deleted. */
  olderThan?: Duration;
  /** Untagged manifests older than this are deleted, where the registry lists them. */
  untaggedOlderThan?: Duration;
  /** Digests in use (the in-use input, Devgraph) are never deleted. */
  protectInUse: boolean;
  /** As written in the config; validated and evaluated as an ECR lifecycle policy elsewhere. */
  ecrLifecyclePolicy?: unknown;
}

/** A selector's policy; each rule absent is not required. */
export interface Requirements {
  signed?: true;
  verified?: true;
  sbom?: true;
  provenance?: true;
  /** `os/architecture[/variant]`; a required platform without a variant accepts any variant. */
  platforms?: string[];
  maxCritical?: number;
}

export interface Credentials {
  username?: string;
  password?: string;
  token?: string;
}

export interface ProviderSettings {
  name: string;
  namespace: string;
  registryType: RegistryType;
  /** Set when registryType was inferred from api_url's host: which type and why, for the log. */
  registryTypeNote?: string;
  /** Normalised registry base URL, no trailing slash, e.g. https://registry-1.docker.io */
  apiUrl: string;
  /** Docker Hub API base, for repository listing on docker-hub. */
  hubUrl: string;
  /** GitHub REST API base for GHCR, when configured (else GITHUB_API_URL or api.github.com). */
  githubApiUrl?: string;
  /** AWS ECR API endpoint override. */
  ecrApiUrl?: string;
  /** AWS region override for ECR. */
  region?: string;
  credentials: Credentials;
  timeoutMs: number;
  discoverVulnerabilities: boolean;
  /** false: images the vendor listing fully describes are not read (read_manifests; Harbor). */
  readManifests: boolean;
  /** Read signatures, attestations and SBOMs (supply_chain); unset: on, except where a manifest GET is a pull. */
  supplyChain?: boolean;
  selectors: Selector[];
  concurrency?: number;
  maxPages: number;
  /** Keys from `verify:`; absent when none are configured, and then nothing is `verified`. */
  verifyKeys?: VerifyKey[];
}

export interface Settings {
  providers: ProviderSettings[];
  devgraph?: { apiBaseUrl?: string; environment?: string; token?: string };
}
