// Entities and relations as they travel to and from the Devgraph API: what the server lists and
// what an upload sends. Plain types, below both the planner (reconcile.ts) and the client.
import type { DockerKind } from '../model/graph.js';

/** An entity as the server lists it; only the fields reconciliation reads. */
export interface ServerEntity {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string> | null;
    annotations?: Record<string, string> | null;
  };
  spec?: Record<string, unknown> | null;
  status?: { discovery_source?: string | null; generation?: number | null } | null;
}

export interface WireRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

export interface WireRelation {
  namespace: string;
  relation: string;
  source: WireRef;
  target: WireRef;
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown>;
}

/** A relation as the server lists it (references may carry a read-only `id`). */
export interface ServerRelation {
  namespace?: string | null;
  relation: string;
  source: { apiVersion: string; kind: string; name: string; namespace?: string | null };
  target: { apiVersion: string; kind: string; name: string; namespace?: string | null };
  metadata?: { labels?: Record<string, string> | null; annotations?: Record<string, string> | null } | null;
  spec?: Record<string, unknown> | null;
}

export interface WireEntity {
  apiVersion: string;
  kind: DockerKind;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status: {
    discovery_source: string;
    last_seen: string;
    last_updated: string;
    generation: number;
  };
}
