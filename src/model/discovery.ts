// What discovery found, as plain values: the vendors fill it, discovery assembles it and the graph
// builder reads it, so it lives below all three (src/model).
import type { ProviderSettings } from '../config/settings.js';
import type { GraphReceipt } from './graph.js';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

/**
 * What a manifest is for: a runnable `image`, an `index` of platforms, or an accessory of another
 * manifest (a `signature`, an in-toto `attestation`, an `sbom`, or another `artifact`).
 */
export type ManifestRole = 'index' | 'image' | 'signature' | 'attestation' | 'sbom' | 'artifact';

/**
 * A record's role; one read before issue 16 (or built by a vendor listing) has none, and is an
 * index, an artifact or an image by its shape.
 */
export function roleOf(m: Pick<ManifestRecord, 'role' | 'children' | 'artifact'>): ManifestRole {
  return m.role ?? (m.children ? 'index' : m.artifact ? 'artifact' : 'image');
}

/** One manifest document: an image manifest, an index (manifest list), or an accessory of one. */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  schemaVersion: number;
  configDigest?: string;
  /** Unknown (absent) when the manifest was described by a vendor listing instead of read. */
  layerDigests?: string[];
  /** The config blob's bytes, as the manifest's descriptor states them. */
  configSize?: number;
  /**
   * Each layer's bytes as its descriptor states them, in the order of layerDigests. Absent where
   * the manifest states none (schema 1) or was not read.
   */
  layerSizes?: number[];
  /** The manifest document's own bytes; absent when a vendor listing described it instead. */
  documentSize?: number;
  /** Compressed layers + config, for an image manifest; for an index, the sum over its platforms. */
  size?: number;
  platform?: Platform;
  created?: string;
  labels: Record<string, string>;
  /** For an index: its platform manifests (attestations excluded). */
  children?: string[];
  /** For an index: how many attestation manifests it carries. */
  attestations?: number;
  /** True when the config is not a container image config (a signature, an SBOM, a chart). */
  artifact?: boolean;
  role?: ManifestRole;
  /** The manifest's `artifactType`, else its config's media type when that is not an image config. */
  artifactType?: string;
  /** In-toto predicate types the manifest carries (attestations, bundles). */
  predicateTypes?: string[];
  /** The digest this manifest refers to (OCI `subject`, a cosign tag's digest, BuildKit's reference). */
  subject?: string;
  /**
   * Further digests this accessory was found for (one manifest under two subjects' cosign tags, a
   * replayed signature): it refers to them too, though it names only `subject`.
   */
  alsoRefersTo?: string[];
  /** For an index: its BuildKit attestation manifests, with the platform manifest each describes. */
  attestationChildren?: Array<{ digest: string; subject?: string }>;
  /** For a signature or a signed attestation, with `verify` keys: what checking it against them found. */
  verification?: SignatureVerdict;
}

/** A signature checked against the configured keys: good, bad, or signed by none of them. */
export type SignatureVerdict = 'verified' | 'bad' | 'unknown-key';

/**
 * Supply-chain facts of a tagged image, each true when an accessory refers to the tag's digest
 * or to every platform manifest of it. Absent on an image whose accessories could not be looked for.
 */
export interface ImageTrust {
  signed: boolean;
  /**
   * Absent when the registry found none and a vendor attestation store that might hold one (GitHub's)
   * could not be asked: not looked for everywhere, so not false.
   */
  sbom?: boolean;
  /** Absent as `sbom` is. */
  provenance?: boolean;
  /** Only with `verify` keys configured: a signature by one of them refers to the image. */
  verified?: boolean;
}

/** Severity counts from a vendor's scanner, keys lowercase (critical, high, medium, low, unknown…). */
export interface VulnerabilityCounts {
  total: number;
  critical?: number;
  high?: number;
  medium?: number;
  low?: number;
  informational?: number;
  unknown?: number;
  fixable?: number;
  /** Where the counts came from when not the registry's own scanner (e.g. a cosign vuln attestation). */
  source?: string;
}

/** Repository facts only a vendor API knows; snake_case because they go into the spec as they are. */
export interface RepositoryInfo {
  description?: string;
  star_count?: number;
  pull_count?: number;
  official?: boolean;
  automated?: boolean;
  last_updated?: string;
}

export interface ImageRecord {
  tag: string;
  digest: string;
  /** When the tag was last pushed, from a vendor API. */
  pushedAt?: string;
  /** Scanner severity counts from the vendor, with discover_vulnerabilities. */
  vulnerabilities?: VulnerabilityCounts;
  /** Signed / SBOM / provenance; absent when the registry could not be asked. */
  trust?: ImageTrust;
}

/**
 * A manifest a vendor listing names with no tag on it (ECR, GHCR package versions, Harbor
 * artifacts, ACR manifests): old builds, and an index's platform manifests. Only what the listing
 * already says; nothing is fetched for it.
 */
export interface UntaggedManifest {
  digest: string;
  mediaType?: string;
  /** RFC 3339 push time, when the vendor reports one. */
  pushedAt?: string;
  /** RFC 3339 time of the last pull, when the vendor reports one (ECR lastRecordedPullTime). */
  lastPulledAt?: string;
  /** Bytes as the vendor counts them, when it reports a size. */
  size?: number;
  /** An index's platform manifests, when the listing names them (Harbor, ACR references). */
  children?: string[];
}

/**
 * One image as an ECR lifecycle policy sees it (a DescribeImages row, tagged or not): a manifest
 * digest with its tags and times. Here, below discovery and retention, since both hand it on.
 */
export interface LifecycleImage {
  digest: string;
  tags: string[];
  /** imagePushedAt (RFC 3339). */
  pushedAt: string;
  /** lastRecordedPullTime; absent when never pulled. */
  lastPulledAt?: string;
  /** ARCHIVED images are in the archive storage class; every other image is standard. */
  storageClass?: 'standard' | 'archive';
  /** lastArchivedAt: when the image last moved to archive. */
  lastArchivedAt?: string;
  /** lastActivatedAt: when the image was last restored from archive. */
  lastActivatedAt?: string;
  /** For a manifest list (index): the manifests it references. */
  children?: string[];
  /** For a referrer (signature, attestation, SBOM): the image it refers to. */
  subject?: string;
}

/** A receipt is written into the graph as it is (DESIGN.md "The graph file"). */
export type Receipt = GraphReceipt;

export interface RepositoryResult {
  name: string;
  images: ImageRecord[];
  /** Every manifest the selected images use, and every accessory referring to one, by digest. */
  manifests: Map<string, ManifestRecord>;
  /** Accessory tags read for the selected images, with the digest each points at. */
  accessoryTags?: Array<{ tag: string; digest: string }>;
  /**
   * Every untagged manifest of the repository, when the vendor's tag listing names them (absent
   * where the registry does not list untagged manifests: plain OCI, Docker Hub, GCR, Quay).
   */
  untagged?: UntaggedManifest[];
  /** The vendor listing's image rows for an ECR lifecycle preview (TagListing.lifecycleImages). */
  lifecycleImages?: LifecycleImage[];
  /** Vendor facts about the repository (description, stars, pulls…). */
  info?: RepositoryInfo;
  receipt: Receipt;
}

/** A provider's discovery, less its repositories: each went to the graph as it was done. */
export interface ProviderResult {
  settings: ProviderSettings;
  /** Problems that concern the registry as a whole (unreachable, catalog denied). */
  receipt?: Receipt;
  /** What the run summary should say about this provider: quota left, fallbacks taken. */
  notes: string[];
}

/** What the state of the previous run spared the registries in this one. */
export interface StateSavings {
  /** Manifests and configs read from the state instead of fetched. */
  fromState: number;
  /** Tags asked with If-None-Match, and of those, answered 304 Not Modified. */
  conditional: number;
  notModified: number;
}

export interface DiscoveryResult {
  providers: ProviderResult[];
  requests: Record<string, number>;
  /** What the previous run's state spared the registries (manifests and configs by digest, 304s). */
  savings: StateSavings;
}
