import { describe, expect, it } from 'vitest';
import { inMemory } from '../graph/graph-source.js';
import {
  API_VERSION,
  DISCOVERY_SOURCE,
  type DockerKind,
  type Entity,
  type EntityRef,
  GRAPH_FORMAT,
  type Graph,
  type GraphReceipt,
  type Relation,
} from '../model/graph.js';
import { fingerprint } from './fingerprint.js';
import { describePlan, type EntityKey, type PlanSummary, UploadPlan } from './reconcile.js';
import type { ServerEntity, ServerRelation, WireEntity, WireRelation } from './wire.js';

const NOW = '2026-01-01T00:00:00Z';

/** An UploadPlan's decisions gathered into lists, for a graph this small. */
interface Plan {
  create: WireEntity[];
  update: WireEntity[];
  unchanged: EntityKey[];
  delete: EntityKey[];
  kept: EntityKey[];
  relations: { create: WireRelation[]; delete: WireRelation[]; unchanged: number };
  summary: PlanSummary;
}

function planUpload(input: {
  graph: Graph;
  existing: { entities: ServerEntity[]; relations: ServerRelation[] };
  now: string;
}): Plan {
  const plan = new UploadPlan(inMemory(input.graph), input.now);
  plan.addExisting(input.existing);
  const summary = plan.finish();
  const upserts = [...plan.upserts()];
  const sent = new Set(upserts.map((u) => `${u.entity.kind}/${u.entity.metadata.name}`));
  return {
    create: upserts.filter((u) => u.create).map((u) => u.entity),
    update: upserts.filter((u) => !u.create).map((u) => u.entity),
    unchanged: input.graph.entities
      .filter((e) => !sent.has(`${e.kind}/${e.metadata.name}`))
      .map((e) => ({ kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name })),
    delete: plan.delete,
    kept: plan.kept,
    relations: {
      create: [...plan.relationCreates()],
      delete: plan.relationDeletes,
      unchanged: summary.relations.unchanged,
    },
    summary,
  };
}

const summarizePlan = (plan: Plan): PlanSummary => plan.summary;

function entity(kind: DockerKind, name: string, repository?: string, provider = 'hub'): Entity {
  const labels: Record<string, string> = { 'devgraph.ai/provider': 'docker' };
  if (repository) labels['devgraph.ai/repository-name'] = repository;
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { name, namespace: 'default', labels, annotations: { [DISCOVERY_SOURCE]: provider } },
    spec: repository ? { repository, name } : { name },
  };
}

function receipt(repository: string, complete = true, provider = 'hub'): GraphReceipt {
  return {
    provider,
    repository,
    complete,
    tags_listed: 0,
    tags_selected: 0,
    pages: 1,
    requests: 1,
    errors: [],
  };
}

function rel(relation: Relation['relation'], source: Entity, target: Entity): Relation {
  const ref = (e: Entity): EntityRef => ({
    apiVersion: API_VERSION,
    kind: e.kind,
    name: e.metadata.name,
    namespace: 'default',
  });
  return { namespace: 'default', relation, source: ref(source), target: ref(target) };
}

/** What the server would hold after storing `e` for `owner`; `stale` gives it an old fingerprint. */
function stored(e: Entity, owner: string | null = 'hub', stale = false): ServerEntity {
  return {
    apiVersion: e.apiVersion,
    kind: e.kind,
    metadata: {
      ...e.metadata,
      annotations: { fingerprint: stale ? 'old' : fingerprint(e.spec, e.metadata.labels) },
    },
    spec: e.spec,
    status: { discovery_source: owner, generation: 3 },
  };
}

function serverRel(r: Relation, labels: Record<string, string> = {}): ServerRelation {
  const id = (x: Relation['source']) => ({ ...x, id: `${x.apiVersion}/${x.kind}/${x.namespace}/${x.name}` });
  return {
    ...r,
    source: id(r.source),
    target: id(r.target),
    metadata: { labels, annotations: {} },
    spec: {},
  };
}

function graph(entities: Entity[], relations: Relation[], receipts: GraphReceipt[]): Graph {
  return { format: GRAPH_FORMAT, generated_at: NOW, entities, relations, receipts };
}

const registry = entity('DockerRegistry', 'docker-hub');
const repoA = entity('DockerRepository', 'library-a', 'library/a');
const imgA1 = entity('DockerImage', 'library-a-1', 'library/a');
const imgA2 = entity('DockerImage', 'library-a-2', 'library/a');
const repoB = entity('DockerRepository', 'library-b', 'library/b');
const imgB1 = entity('DockerImage', 'library-b-1', 'library/b');

const everything = [registry, repoA, imgA1, imgA2, repoB, imgB1];
const allRelations = [
  rel('BELONGS_TO', repoA, registry),
  rel('BELONGS_TO', imgA1, repoA),
  rel('BELONGS_TO', imgA2, repoA),
  rel('BELONGS_TO', repoB, registry),
  rel('BELONGS_TO', imgB1, repoB),
];
const completeReceipts = [receipt('*'), receipt('library/a'), receipt('library/b')];
const existingAll = {
  entities: everything.map((e) => stored(e)),
  relations: allRelations.map((r) => serverRel(r)),
};

describe('planUpload', () => {
  it('creates everything on an empty server, stamped with owner, fingerprint and time', () => {
    const plan = planUpload({
      graph: graph(everything, allRelations, completeReceipts),
      existing: { entities: [], relations: [] },
      now: NOW,
    });
    expect(plan.create).toHaveLength(6);
    expect(plan.relations.create).toHaveLength(5);
    const sent = plan.create.find((e) => e.metadata.name === 'library-a-1')!;
    expect(sent.status).toEqual({
      discovery_source: 'hub',
      last_seen: NOW,
      last_updated: NOW,
      generation: 1,
    });
    expect(sent.metadata.annotations.fingerprint).toBe(fingerprint(imgA1.spec, imgA1.metadata.labels));
    expect(sent.metadata.annotations[DISCOVERY_SOURCE]).toBe('hub');
    expect(plan.relations.create[0]).toMatchObject({ metadata: { labels: {}, annotations: {} }, spec: {} });
  });

  it('sends nothing for an unchanged graph', () => {
    const plan = planUpload({
      graph: graph(everything, allRelations, completeReceipts),
      existing: existingAll,
      now: NOW,
    });
    expect(summarizePlan(plan).relations).toEqual({ create: 0, delete: 0, unchanged: 5 });
    expect(plan.create.length + plan.update.length + plan.delete.length).toBe(0);
    expect(plan.unchanged).toHaveLength(6);
  });

  it('updates a changed fingerprint and takes over an entity owned by nobody, bumping generation', () => {
    const existing = {
      entities: [
        stored(registry, 'hub', true),
        stored(repoA, null),
        ...[imgA1, imgA2, repoB, imgB1].map((e) => stored(e)),
      ],
      relations: existingAll.relations,
    };
    const plan = planUpload({ graph: graph(everything, allRelations, completeReceipts), existing, now: NOW });
    expect(plan.update.map((e) => e.metadata.name).sort()).toEqual(['docker-hub', 'library-a']);
    expect(plan.update[0]!.status.generation).toBe(4);
  });

  it('deletes an owned, absent image of a complete repository with its relations', () => {
    const plan = planUpload({
      graph: graph(
        everything.filter((e) => e !== imgA2),
        allRelations.filter((r) => r.source.name !== 'library-a-2'),
        completeReceipts,
      ),
      existing: existingAll,
      now: NOW,
    });
    expect(plan.delete).toEqual([{ kind: 'DockerImage', namespace: 'default', name: 'library-a-2' }]);
    expect(plan.relations.delete.map((r) => `${r.source.name} ${r.relation} ${r.target.name}`)).toEqual([
      'library-a-2 BELONGS_TO library-a',
    ]);
  });

  it('an incomplete repository keeps itself and its images; other repositories still reconcile', () => {
    const plan = planUpload({
      graph: graph(
        [registry, repoB],
        [rel('BELONGS_TO', repoB, registry)],
        [receipt('*'), receipt('library/a', false), receipt('library/b')],
      ),
      existing: existingAll,
      now: NOW,
    });
    expect(plan.delete.map((e) => e.name)).toEqual(['library-b-1']);
    expect(plan.kept.map((e) => e.name).sort()).toEqual(['library-a', 'library-a-1', 'library-a-2']);
    expect(plan.relations.delete.map((r) => r.source.name)).toEqual(['library-b-1']);
  });

  it('an incomplete registry listing deletes nothing at all', () => {
    const plan = planUpload({
      graph: graph([registry], [], [receipt('*', false)]),
      existing: existingAll,
      now: NOW,
    });
    expect(plan.delete).toEqual([]);
    expect(plan.relations.delete).toEqual([]);
    expect(plan.kept).toHaveLength(5);
  });

  it('never deletes what another provider, a provider not in this run, or nobody owns', () => {
    const ghcrImage = entity('DockerImage', 'ghcr-x', 'org/x', 'ghcr');
    const foreign = entity('DockerImage', 'foreign', 'library/a');
    const unowned = entity('DockerImage', 'unowned', 'library/a');
    const plan = planUpload({
      graph: graph([registry], [], [receipt('*')]),
      existing: {
        entities: [
          stored(registry),
          stored(ghcrImage, 'ghcr'),
          stored(foreign, 'someone-else'),
          stored(unowned, null),
        ],
        relations: [],
      },
      now: NOW,
    });
    expect(plan.delete).toEqual([]);
    expect(plan.kept).toEqual([]);
  });

  it('keeps relations it does not manage: file-managed, other providers’, other types, foreign ends', () => {
    const service = { apiVersion: API_VERSION, kind: 'Service', name: 'api', namespace: 'default' };
    const toService: ServerRelation = {
      namespace: 'default',
      relation: 'DEPLOYS',
      source: { ...rel('USES', imgA1, repoA).source },
      target: service,
    };
    const plan = planUpload({
      graph: graph(everything, allRelations, completeReceipts),
      existing: {
        entities: existingAll.entities,
        relations: [
          ...existingAll.relations,
          serverRel(rel('USES', imgA1, imgA2), { 'managed-by': 'file:catalog.yaml' }),
          serverRel(rel('USES', imgA2, imgA1), { 'managed-by': 'provider:argo' }),
          toService,
          { namespace: 'default', relation: 'USES', source: service, target: { ...service, name: 'db' } },
        ],
      },
      now: NOW,
    });
    expect(plan.relations.delete).toEqual([]);
  });

  it('deletes a stale relation it manages between owned, complete ends', () => {
    const plan = planUpload({
      graph: graph(everything, allRelations, completeReceipts),
      existing: {
        entities: existingAll.entities,
        relations: [
          ...existingAll.relations,
          serverRel(rel('USES', imgA1, imgA2), { 'managed-by': 'provider:hub' }),
        ],
      },
      now: NOW,
    });
    expect(plan.relations.delete).toHaveLength(1);
    expect(plan.relations.delete[0]!.metadata.labels).toEqual({ 'managed-by': 'provider:hub' });
  });

  it('describes the plan by kind', () => {
    const plan = planUpload({
      graph: graph(everything, allRelations, completeReceipts),
      existing: { entities: [], relations: [] },
      now: NOW,
    });
    expect(describePlan(summarizePlan(plan))).toEqual([
      'DockerRegistry: 1 to create, 0 to update, 0 to delete, 0 unchanged',
      'DockerRepository: 2 to create, 0 to update, 0 to delete, 0 unchanged',
      'DockerImage: 3 to create, 0 to update, 0 to delete, 0 unchanged',
      'relations: 5 to create, 0 to delete, 0 unchanged',
    ]);
  });
});
