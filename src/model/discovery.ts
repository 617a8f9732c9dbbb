// What discovery found, as plain values: the vendors fill it, discovery assembles it and the graph
// builder reads it, so it lives below all three (src/model).
import type { ProviderSettings } from '../config/settings.js';
import type { GraphReceipt } from './graph.js';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

/** One manifest document: an image manifest or an index (manifest list). */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  schemaVersion: number;
  configDigest?: string;
  /** Unknown (absent) when the manifest was described by a vendor listing instead of read. */
  layerDigests?: string[];
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
}

/** A receipt is written into the graph as it is (DESIGN.md "The graph file"). */
export type Receipt = GraphReceipt;

export interface RepositoryResult {
  name: string;
  images: ImageRecord[];
  /** Every manifest the selected images use, by digest. */
  manifests: Map<string, ManifestRecord>;
  /** Digests that have a cosign signature tag (sha256-<hex>.sig) in this repository. */
  signed: Set<string>;
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
