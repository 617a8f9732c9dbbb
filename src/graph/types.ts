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
  relation: 'BELONGS_TO' | 'USES';
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
}

export interface Graph {
  format: typeof GRAPH_FORMAT;
  generated_at: string;
  entities: Entity[];
  relations: Relation[];
  receipts: GraphReceipt[];
}
