// What an upload must change in Devgraph, decided from plain values: the graph we built, what the
// server holds, and the receipts that say how much of each registry we saw. Ownership and change
// detection follow Devgraph's own providers (reference/devgraph.md §2) so this action and a
// Devgraph-hosted docker provider can manage the same graph: an entity belongs to the provider
// named in `status.discovery_source`, and an unchanged fingerprint means "do not send".
//
// Unlike the reference implementation, deletes are allowed only where discovery was complete: a
// registry whose repository listing failed deletes nothing, and a repository whose tag listing
// failed keeps itself, its images and its manifests. A partial run can add and update, never remove.
import type { DockerKind, Entity, Graph, GraphReceipt, Relation } from '../model/graph.js';
import { DISCOVERY_SOURCE } from '../model/graph.js';
import { DOCKER_KINDS } from './definitions.js';
import { FINGERPRINT_ANNOTATION, fingerprint } from './fingerprint.js';
import { sourceLinks } from './source-links.js';
import type { ServerEntity, ServerRelation, WireEntity, WireRef, WireRelation } from './wire.js';

export interface EntityKey {
  kind: DockerKind;
  namespace: string;
  name: string;
}

export interface Plan {
  create: WireEntity[];
  update: WireEntity[];
  unchanged: EntityKey[];
  delete: EntityKey[];
  /** Owned entities absent from this run, kept because the discovery that would remove them was incomplete. */
  kept: EntityKey[];
  relations: { create: WireRelation[]; delete: WireRelation[]; unchanged: number };
}

export interface KindCounts {
  create: number;
  update: number;
  unchanged: number;
  delete: number;
  kept: number;
}

export interface PlanSummary {
  byKind: Record<DockerKind, KindCounts>;
  relations: { create: number; delete: number; unchanged: number };
}

/** Relation types a docker provider creates, and so the only ones it may remove. */
const DOCKER_RELATIONS = new Set(['BELONGS_TO', 'USES', 'BUILT_FROM', 'BUILDS']);
const REPOSITORY_LABEL = 'devgraph.ai/repository-name';
const DOCKER_KIND_SET = new Set<string>(DOCKER_KINDS);

export interface PlanInput {
  graph: Graph;
  existing: { entities: ServerEntity[]; relations: ServerRelation[] };
  /** RFC 3339 time stamped into `status.last_seen`/`last_updated` of what is sent. */
  now: string;
}

export function planUpload({ graph, existing, now }: PlanInput): Plan {
  const scope = deletionScope(graph.receipts);
  const existingByKey = new Map<string, ServerEntity>();
  for (const e of existing.entities) {
    if (DOCKER_KIND_SET.has(e.kind))
      existingByKey.set(entityKey(e.kind, e.metadata.namespace, e.metadata.name), e);
  }
  const ourProviders = new Set(graph.receipts.map((r) => r.provider));

  const plan: Plan = {
    create: [],
    update: [],
    unchanged: [],
    delete: [],
    kept: [],
    relations: { create: [], delete: [], unchanged: 0 },
  };
  const desiredKeys = new Set<string>();
  for (const entity of graph.entities) {
    const provider = providerOf(entity);
    const key = entityKey(entity.kind, entity.metadata.namespace, entity.metadata.name);
    desiredKeys.add(key);
    const fp = fingerprint(entity.spec, entity.metadata.labels);
    const found = existingByKey.get(key);
    const ref: EntityKey = {
      kind: entity.kind,
      namespace: entity.metadata.namespace,
      name: entity.metadata.name,
    };
    if (
      found &&
      found.status?.discovery_source === provider &&
      found.metadata.annotations?.[FINGERPRINT_ANNOTATION] === fp
    ) {
      plan.unchanged.push(ref);
      continue;
    }
    const wire: WireEntity = {
      apiVersion: entity.apiVersion,
      kind: entity.kind,
      metadata: {
        name: entity.metadata.name,
        namespace: entity.metadata.namespace,
        labels: { ...entity.metadata.labels },
        annotations: Object.assign({}, entity.metadata.annotations, { [FINGERPRINT_ANNOTATION]: fp }),
      },
      spec: entity.spec,
      status: {
        discovery_source: provider,
        last_seen: now,
        last_updated: now,
        generation: (found?.status?.generation ?? 0) + 1,
      },
    };
    (found ? plan.update : plan.create).push(wire);
  }

  // An owned entity whose registry (for a registry) or repository was discovered completely:
  // only there does absence mean "gone", for the entity and for its relations.
  const completeScope = (e: ServerEntity): boolean => {
    const owner = e.status?.discovery_source;
    if (!owner || !ourProviders.has(owner)) return false;
    if (e.kind === 'DockerRegistry') return scope.registryComplete(owner);
    const repository = repositoryOf(e);
    return repository !== undefined && scope.repositoryComplete(owner, repository);
  };
  const owned = (e: ServerEntity | undefined): boolean =>
    !!e?.status?.discovery_source && ourProviders.has(e.status.discovery_source);

  for (const [key, e] of existingByKey) {
    if (desiredKeys.has(key) || !owned(e)) continue;
    const ref = { kind: e.kind as DockerKind, namespace: e.metadata.namespace, name: e.metadata.name };
    (completeScope(e) ? plan.delete : plan.kept).push(ref);
  }

  const desiredRelations = new Map<string, WireRelation>();
  for (const r of graph.relations) {
    const wire = toWireRelation(r);
    desiredRelations.set(relationSignature(wire), wire);
  }
  for (const wire of sourceLinks(graph, existing.entities))
    desiredRelations.set(relationSignature(wire), wire);
  const existingSignatures = new Set<string>();
  for (const r of existing.relations) {
    const wire = normaliseServerRelation(r);
    const signature = relationSignature(wire);
    if (existingSignatures.has(signature)) continue;
    existingSignatures.add(signature);
    if (desiredRelations.has(signature)) {
      plan.relations.unchanged++;
      continue;
    }
    if (!DOCKER_RELATIONS.has(wire.relation)) continue;
    const managedBy = wire.metadata.labels['managed-by'];
    if (managedBy?.startsWith('file:')) continue;
    if (managedBy?.startsWith('provider:') && !ourProviders.has(managedBy.slice('provider:'.length)))
      continue;
    // Stale: one end is ours, and every end that is ours was discovered completely.
    const ends = [wire.source, wire.target].map((ref) =>
      existingByKey.get(entityKey(ref.kind, ref.namespace, ref.name)),
    );
    const ours = ends.filter(owned) as ServerEntity[];
    if (ours.length > 0 && ours.every(completeScope)) {
      plan.relations.delete.push(wire);
    }
  }
  for (const [signature, wire] of desiredRelations) {
    if (!existingSignatures.has(signature)) plan.relations.create.push(wire);
  }
  return plan;
}

export function summarizePlan(plan: Plan): PlanSummary {
  const byKind = Object.fromEntries(
    DOCKER_KINDS.map((k) => [k, { create: 0, update: 0, unchanged: 0, delete: 0, kept: 0 }]),
  ) as Record<DockerKind, KindCounts>;
  for (const e of plan.create) byKind[e.kind].create++;
  for (const e of plan.update) byKind[e.kind].update++;
  for (const e of plan.unchanged) byKind[e.kind].unchanged++;
  for (const e of plan.delete) byKind[e.kind].delete++;
  for (const e of plan.kept) byKind[e.kind].kept++;
  return {
    byKind,
    relations: {
      create: plan.relations.create.length,
      delete: plan.relations.delete.length,
      unchanged: plan.relations.unchanged,
    },
  };
}

/** One line per kind that has anything to report, then the relations. */
export function describePlan(summary: PlanSummary): string[] {
  const lines: string[] = [];
  for (const kind of DOCKER_KINDS) {
    const c = summary.byKind[kind];
    if (c.create + c.update + c.unchanged + c.delete + c.kept === 0) continue;
    const parts = [
      `${c.create} to create`,
      `${c.update} to update`,
      `${c.delete} to delete`,
      `${c.unchanged} unchanged`,
    ];
    if (c.kept) parts.push(`${c.kept} kept (incomplete discovery)`);
    lines.push(`${kind}: ${parts.join(', ')}`);
  }
  const r = summary.relations;
  lines.push(`relations: ${r.create} to create, ${r.delete} to delete, ${r.unchanged} unchanged`);
  return lines;
}

export function entityKey(kind: string, namespace: string, name: string): string {
  return `${kind}\u0000${namespace}\u0000${name}`;
}

function providerOf(entity: Entity): string {
  const provider = entity.metadata.annotations?.[DISCOVERY_SOURCE];
  if (!provider) {
    throw new Error(
      `graph entity ${entity.kind} ${entity.metadata.namespace}/${entity.metadata.name} has no ${DISCOVERY_SOURCE} annotation; rebuild the graph with this version`,
    );
  }
  return provider;
}

function repositoryOf(e: ServerEntity): string | undefined {
  const label = e.metadata.labels?.[REPOSITORY_LABEL];
  if (label) return label;
  const spec = e.spec ?? {};
  const name = e.kind === 'DockerRepository' ? spec.full_name : spec.repository;
  return typeof name === 'string' && name ? name : undefined;
}

interface DeletionScope {
  registryComplete(provider: string): boolean;
  repositoryComplete(provider: string, repository: string): boolean;
}

function deletionScope(receipts: GraphReceipt[]): DeletionScope {
  const seen = new Set<string>();
  const incompleteRegistry = new Set<string>();
  const incompleteRepository = new Set<string>();
  for (const r of receipts) {
    seen.add(r.provider);
    if (r.complete) continue;
    if (r.repository === '*') incompleteRegistry.add(r.provider);
    else incompleteRepository.add(`${r.provider}\u0000${r.repository}`);
  }
  const registryComplete = (p: string) => seen.has(p) && !incompleteRegistry.has(p);
  return {
    registryComplete,
    repositoryComplete: (p, repo) => registryComplete(p) && !incompleteRepository.has(`${p}\u0000${repo}`),
  };
}

export function toWireRelation(r: Relation): WireRelation {
  return {
    namespace: r.namespace,
    relation: r.relation,
    source: { ...r.source },
    target: { ...r.target },
    // Devgraph's docker provider sends its core relations with empty metadata and no managed-by
    // label; sending the same keeps the two sides' relation signatures equal.
    metadata: { labels: {}, annotations: {} },
    spec: {},
  };
}

export function normaliseServerRelation(r: ServerRelation): WireRelation {
  const ref = (x: ServerRelation['source']): WireRef => ({
    apiVersion: x.apiVersion,
    kind: x.kind,
    name: x.name,
    namespace: x.namespace ?? 'default',
  });
  return {
    namespace: r.namespace ?? r.source.namespace ?? 'default',
    relation: r.relation,
    source: ref(r.source),
    target: ref(r.target),
    metadata: {
      labels: { ...(r.metadata?.labels ?? {}) },
      annotations: { ...(r.metadata?.annotations ?? {}) },
    },
    spec: { ...(r.spec ?? {}) },
  };
}

/** Devgraph's relation identity: both ends, the type, and the managed-by label. */
export function relationSignature(r: WireRelation): string {
  const end = (x: WireRef) => `${x.apiVersion}/${x.kind}/${x.namespace}/${x.name}`;
  return `${end(r.source)}::${r.relation}::${end(r.target)}::${r.metadata.labels['managed-by'] ?? ''}`;
}
