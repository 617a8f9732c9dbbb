// The graph file's types and constants: what discovery's receipts become, the graph builder writes,
// and the comparison, the merge, the summary and the upload read; below all of them (src/model).
export const API_VERSION = 'entities.devgraph.ai/v1';
export const GRAPH_FORMAT = 'devgraph-docker/graph@1';
/** Annotation naming the provider (config `name`) that discovered an entity. */
export const DISCOVERY_SOURCE = 'devgraph.ai/discovery-source';

export type DockerKind = 'DockerRegistry' | 'DockerRepository' | 'DockerImage' | 'DockerManifest';

export interface Entity {
  apiVersion: typeof API_VERSION;
  kind: DockerKind;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
}

export interface EntityRef {
  apiVersion: typeof API_VERSION;
  kind: DockerKind;
  name: string;
  namespace: string;
}

export interface Relation {
  namespace: string;
  relation: 'BELONGS_TO' | 'USES' | 'REFERS_TO';
  source: EntityRef;
  target: EntityRef;
}

export interface GraphReceipt {
  provider: string;
  repository: string;
  complete: boolean;
  tags_listed: number;
  tags_selected: number;
  pages: number;
  requests: number;
  errors: string[];
  /**
   * Tags that only hold accessories of other manifests (cosign `.sig/.att/.sbom`, referrers
   * fallback `sha256-<hex>`): counted in tags_listed, never DockerImages. Absent when none.
   */
  accessory_tags?: number;
  /**
   * Manifests this run's retention apply deleted from the repository: they, the images of their
   * tags and their relations are not in the graph. Absent when the run deleted nothing there.
   */
  deleted_by_retention?: number;
  /** In a shard graph only: the shard (`2/3`) that wrote the receipt. A merged graph has none. */
  shard?: string;
  /**
   * In a shard graph only: what the repository's storage is counted from. A shard cannot know
   * which blobs other shards' repositories share, so merge recounts every shard's here and writes
   * the `storage` fields; a merged graph has none.
   */
  storage_blobs?: StorageBlobs;
}

/** A repository's digests as a shard graph's receipt gives them, each once, as `<digest> <bytes>`. */
export interface StorageBlobs {
  /** As Storage.partial: the repository was not read whole. */
  partial: boolean;
  /** What its tagged manifests reference (index children and accessories included). */
  tagged: string[];
  /** What only its untagged manifests reference; only where the registry lists untagged manifests. */
  untagged?: string[];
}

/**
 * What a shard graph carries beyond an unsharded one, so that merging every shard reproduces the
 * unsharded graph exactly and checks that the shards belong together. A merged graph has none.
 */
export interface ShardRecord {
  /** 1-based */
  index: number;
  count: number;
  /** configHash() of the settings: shards of one inventory share it. */
  config: string;
  /** This shard's requests by kind; the merged summary adds them up. */
  requests: Record<string, number>;
  /** The provider notes of this shard's summary (quota left, fallbacks taken). */
  notes: string[];
  /**
   * Every repository receipt carries `storage_blobs`, from which merge writes the `storage` fields
   * (a discovery run's shards); absent in shards built without storage, whose merge has none.
   */
  storage_blobs?: true;
}

export interface Graph {
  format: typeof GRAPH_FORMAT;
  generated_at: string;
  /** Only in the graph of one shard of a sharded run (see ShardRecord). */
  shard?: ShardRecord;
  entities: Entity[];
  relations: Relation[];
  receipts: GraphReceipt[];
}
