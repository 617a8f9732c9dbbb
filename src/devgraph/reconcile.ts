// What an upload must change in Devgraph, decided from plain values: the graph we built, what the
// server holds, and the receipts that say how much of each registry we saw. Ownership and change
// detection follow Devgraph's own providers (reference/devgraph.md §2) so this action and a
// Devgraph-hosted docker provider can manage the same graph: an entity belongs to the provider
// named in `status.discovery_source`, and an unchanged fingerprint means "do not send".
//
// Unlike the reference implementation, deletes are allowed only where discovery was complete: a
// registry whose repository listing failed deletes nothing, and a repository whose tag listing
// failed keeps itself, its images and its manifests. A partial run can add and update, never remove;
// and what it updates in such a repository keeps the fields the server has that the partial run
// could not learn (a repository's source_repository comes from its images' labels).
import { createHash } from 'node:crypto';
import type { GraphSource } from '../graph/graph-source.js';
import { Column } from '../graph/spilled-graph.js';
import type { DockerKind, Entity, GraphReceipt, Relation } from '../model/graph.js';
import { DISCOVERY_SOURCE } from '../model/graph.js';
import { DOCKER_KINDS } from './definitions.js';
import { FINGERPRINT_ANNOTATION, fingerprint } from './fingerprint.js';
import { githubRepositories, linksOf } from './source-links.js';
import type { ServerEntity, ServerRelation, WireEntity, WireRef, WireRelation } from './wire.js';

const GITHUB_REPOSITORY = 'GithubRepository';

export interface EntityKey {
  kind: DockerKind;
  namespace: string;
  name: string;
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

/** An entity to send, and whether the server lacks it (create) or holds an older one (update). */
export interface Upsert {
  entity: WireEntity;
  create: boolean;
}

/** Relation types a docker provider creates, and so the only ones it may remove. */
const DOCKER_RELATIONS = new Set(['BELONGS_TO', 'USES', 'REFERS_TO', 'BUILT_FROM', 'BUILDS']);
const REPOSITORY_LABEL = 'devgraph.ai/repository-name';
const DOCKER_KIND_SET = new Set<string>(DOCKER_KINDS);

/** What is kept of one listed Docker entity: enough to decide, never the entity itself. */
interface Known {
  kind: DockerKind;
  owner: string | undefined;
  fingerprint: string | undefined;
  generation: number;
  repository: string | undefined;
  /**
   * What the server holds, for an entity of ours in a repository this run saw only in part: the
   * fields the partial discovery could not learn (a repository's source_repository comes from
   * its images) are kept rather than erased until the next complete run.
   */
  held?: { spec: Record<string, unknown>; labels: Record<string, string> };
  /** Set when this run's graph has the entity. */
  desired: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The Known of every listed Docker entity, in columns: one flat key string and a few numbers
 * each, the fingerprint as its 32 bytes. As objects with their strings, one per entity of a large
 * registry, they were the largest part of what an upload holds.
 */
class KnownStore {
  private readonly index = new Map<string, number>();
  private readonly kinds = new Column((n) => new Uint8Array(n));
  private readonly desired = new Column((n) => new Uint8Array(n));
  private readonly generations = new Column((n) => new Float64Array(n));
  /** Index + 1 into `texts`; 0 for none. */
  private readonly owners = new Column((n) => new Uint32Array(n));
  private readonly repositories = new Column((n) => new Uint32Array(n));
  private fingerprints = new Uint8Array(32 * 1024);
  /** A fingerprint that is not 64 hex digits (another tool's), as it is; '' for none. */
  private readonly otherFingerprints = new Map<number, string>();
  private readonly held = new Map<number, NonNullable<Known['held']>>();
  private readonly texts: string[] = [];
  private readonly textIds = new Map<string, number>();

  set(key: string, k: Known): void {
    let i = this.index.get(key);
    const text = (t: string | undefined) => {
      if (t === undefined) return 0;
      let id = this.textIds.get(t);
      if (id === undefined) {
        id = this.texts.push(t);
        this.textIds.set(t, id);
      }
      return id;
    };
    if (i === undefined) {
      i = this.kinds.length;
      this.index.set(key, i);
      this.kinds.push(DOCKER_KINDS.indexOf(k.kind));
      this.desired.push(k.desired ? 1 : 0);
      this.generations.push(k.generation);
      this.owners.push(text(k.owner));
      this.repositories.push(text(k.repository));
    } else {
      this.kinds.set(i, DOCKER_KINDS.indexOf(k.kind));
      this.desired.set(i, k.desired ? 1 : 0);
      this.generations.set(i, k.generation);
      this.owners.set(i, text(k.owner));
      this.repositories.set(i, text(k.repository));
    }
    this.otherFingerprints.delete(i);
    if (k.fingerprint !== undefined && HEX64.test(k.fingerprint)) {
      if ((i + 1) * 32 > this.fingerprints.length) {
        const grown = new Uint8Array(this.fingerprints.length * 2);
        grown.set(this.fingerprints);
        this.fingerprints = grown;
      }
      this.fingerprints.set(Buffer.from(k.fingerprint, 'hex'), i * 32);
    } else this.otherFingerprints.set(i, k.fingerprint ?? '');
    if (k.held) this.held.set(i, k.held);
    else this.held.delete(i);
  }

  get(key: string): Known | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.at(i);
  }

  markDesired(key: string): void {
    const i = this.index.get(key);
    if (i !== undefined) this.desired.set(i, 1);
  }

  *entries(): Generator<[string, Known]> {
    for (const [key, i] of this.index) yield [key, this.at(i)];
  }

  private at(i: number): Known {
    const other = this.otherFingerprints.get(i);
    const held = this.held.get(i);
    return {
      kind: DOCKER_KINDS[this.kinds.at(i)]!,
      owner: this.texts[this.owners.at(i) - 1],
      fingerprint:
        other === undefined
          ? Buffer.from(this.fingerprints.subarray(i * 32, i * 32 + 32)).toString('hex')
          : other || undefined,
      generation: this.generations.at(i),
      repository: this.texts[this.repositories.at(i) - 1],
      ...(held ? { held } : {}),
      desired: this.desired.at(i) === 1,
    };
  }
}

/**
 * The upload's plan, made from the graph as a stream and the server's listing a page at a time,
 * so neither side is held whole: per listed Docker entity a few fields (Known), per relation its
 * signature. Use: `addExisting` for every listing page, `finish` once, then `upserts()` and
 * `relationCreates()` stream what to send (they read the graph again); `delete`, `kept` and
 * `relationDeletes` are lists (what is gone is few).
 */
export class UploadPlan {
  readonly delete: EntityKey[] = [];
  readonly kept: EntityKey[] = [];
  readonly relationDeletes: WireRelation[] = [];
  private readonly scope: DeletionScope;
  private readonly providers: Set<string>;
  private readonly known = new KnownStore();
  private readonly githubEntities: ServerEntity[] = [];
  /** Signature of every relation the graph has → whether the server already holds it. */
  private readonly wanted = new SignatureTable();
  /** Listed relations the graph does not have that this provider may manage: stale, or source links. */
  private readonly candidates = new Map<string, WireRelation>();
  /** Source links (BUILT_FROM / BUILDS) the server lacks. */
  private readonly links: WireRelation[] = [];
  private summary: PlanSummary | undefined;

  /**
   * `redact` masks credentials in what is sent (as graph.json shows them); it is applied to each
   * entity and relation on its own, as it is read.
   */
  constructor(
    private readonly graph: GraphSource,
    private readonly now: string,
    private readonly redact: (json: string) => string = (json) => json,
  ) {
    this.scope = deletionScope(graph.receipts);
    this.providers = new Set(graph.receipts.map((r) => r.provider));
    for (const r of this.graphRelations()) this.wanted.add(relationDigest(r));
  }

  /** Takes in one page of the server's listing. */
  addExisting(page: { entities: readonly ServerEntity[]; relations: readonly ServerRelation[] }): void {
    for (const e of page.entities) {
      if (e.kind === GITHUB_REPOSITORY) {
        // Only what source links read: the reference and the URL.
        this.githubEntities.push({
          apiVersion: e.apiVersion,
          kind: e.kind,
          metadata: { name: e.metadata.name, namespace: e.metadata.namespace },
          spec: { url: e.spec?.url },
        });
        continue;
      }
      if (!DOCKER_KIND_SET.has(e.kind)) continue;
      this.known.set(entityKey(e.kind, e.metadata.namespace, e.metadata.name), this.knownOf(e));
    }
    for (const r of page.relations) {
      const managedBy = r.metadata?.labels?.['managed-by'] ?? undefined;
      const digest = digestOf(r.source, r.relation, r.target, managedBy);
      if (this.wanted.hold(digest)) continue;
      if (!DOCKER_RELATIONS.has(r.relation)) continue;
      if (managedBy?.startsWith('file:')) continue;
      if (managedBy?.startsWith('provider:') && !this.providers.has(managedBy.slice('provider:'.length)))
        continue;
      this.candidates.set(digest.toString('base64'), normaliseServerRelation(r));
    }
  }

  /**
   * Decides everything once the listing is in: reads the graph's entities once. Throws when the
   * graph has an entity without its discovery-source annotation (nothing can be planned).
   */
  finish(): PlanSummary {
    if (this.summary) return this.summary;
    const byKind = Object.fromEntries(
      DOCKER_KINDS.map((k) => [k, { create: 0, update: 0, unchanged: 0, delete: 0, kept: 0 }]),
    ) as Record<DockerKind, KindCounts>;
    const github = githubRepositories(this.githubEntities);
    let unchangedLinks = 0;
    for (const entity of this.graphEntities()) {
      const decision = this.decide(entity);
      byKind[entity.kind][decision.action]++;
      if (github.size === 0 || entity.kind !== 'DockerRepository') continue;
      for (const link of linksOf({ ...entity, spec: decision.spec }, github)) {
        if (this.candidates.delete(relationSignature(link))) unchangedLinks++;
        else this.links.push(link);
      }
    }

    for (const [key, e] of this.known.entries()) {
      if (e.desired || !this.owned(e)) continue;
      const [kind, namespace, name] = key.split('\u0000') as [DockerKind, string, string];
      const gone = this.completeScope(e);
      (gone ? this.delete : this.kept).push({ kind, namespace, name });
      byKind[kind][gone ? 'delete' : 'kept']++;
    }

    // Stale: one end is ours, and every end that is ours was discovered completely.
    for (const wire of this.candidates.values()) {
      const ends = [wire.source, wire.target].map((ref) =>
        this.known.get(entityKey(ref.kind, ref.namespace, ref.name)),
      );
      const ours = ends.filter((e): e is Known => !!e && this.owned(e));
      if (ours.length > 0 && ours.every((e) => this.completeScope(e))) this.relationDeletes.push(wire);
    }
    this.candidates.clear();

    const wanted = this.wanted.counts();
    const create = this.links.length + wanted.missing;
    const unchanged = unchangedLinks + wanted.held;
    this.summary = {
      byKind,
      relations: { create, delete: this.relationDeletes.length, unchanged },
    };
    return this.summary;
  }

  /**
   * Keeps every delete (a merge of shards that did not all see everything): the entities are
   * counted as kept. Returns how many relation deletes were dropped.
   */
  withholdDeletes(): number {
    const summary = this.finish();
    const relations = this.relationDeletes.length;
    for (const e of this.delete) {
      summary.byKind[e.kind].delete--;
      summary.byKind[e.kind].kept++;
    }
    this.kept.push(...this.delete.splice(0));
    this.relationDeletes.splice(0);
    summary.relations.delete = 0;
    return relations;
  }

  /** The entities to send, in graph order. */
  *upserts(): Generator<Upsert> {
    this.finish();
    for (const entity of this.graphEntities()) {
      const d = this.decide(entity);
      if (d.wire) yield { entity: d.wire, create: d.action === 'create' };
    }
  }

  /** The relations to create, in graph order, then the source links; each once. */
  *relationCreates(): Generator<WireRelation> {
    this.finish();
    for (const r of this.graphRelations()) {
      // Sent (or given up) once: a graph that lists a relation twice does not send it twice.
      if (!this.wanted.take(relationDigest(r))) continue;
      yield r;
    }
    yield* this.links;
  }

  private knownOf(e: ServerEntity): Known {
    const owner = e.status?.discovery_source ?? undefined;
    const repository = repositoryOf(e);
    const known: Known = {
      kind: e.kind as DockerKind,
      owner,
      fingerprint: e.metadata.annotations?.[FINGERPRINT_ANNOTATION],
      generation: e.status?.generation ?? 0,
      repository,
      desired: false,
    };
    // A registry holds its repositories' storage: one of them read only in part makes its figures a
    // lower bound too.
    const partial = (p: string) =>
      repository
        ? this.scope.repositoryPartial(p, repository)
        : e.kind === 'DockerRegistry' && this.scope.anyRepositoryPartial(p);
    if (owner && this.providers.has(owner) && partial(owner))
      known.held = { spec: { ...(e.spec ?? {}) }, labels: { ...(e.metadata.labels ?? {}) } };
    return known;
  }

  private decide(entity: Entity): {
    action: 'create' | 'update' | 'unchanged';
    spec: Record<string, unknown>;
    wire?: WireEntity;
  } {
    const provider = providerOf(entity);
    const key = entityKey(entity.kind, entity.metadata.namespace, entity.metadata.name);
    const found = this.known.get(key);
    if (found) this.known.markDesired(key);
    let { spec } = entity;
    let labels = entity.metadata.labels;
    if (found?.held && found.owner === provider) {
      spec = keepHeld(found.held.spec, spec);
      labels = keepHeld(found.held.labels, labels) as Record<string, string>;
    }
    const fp = fingerprint(spec, labels);
    if (found && found.owner === provider && found.fingerprint === fp) return { action: 'unchanged', spec };
    const wire: WireEntity = {
      apiVersion: entity.apiVersion,
      kind: entity.kind,
      metadata: {
        name: entity.metadata.name,
        namespace: entity.metadata.namespace,
        labels: { ...labels },
        annotations: Object.assign({}, entity.metadata.annotations, { [FINGERPRINT_ANNOTATION]: fp }),
      },
      spec,
      status: {
        discovery_source: provider,
        last_seen: this.now,
        last_updated: this.now,
        generation: (found?.generation ?? 0) + 1,
      },
    };
    return { action: found ? 'update' : 'create', spec, wire };
  }

  private owned(e: Known): boolean {
    return !!e.owner && this.providers.has(e.owner);
  }

  /** Only where a registry (for a registry) or repository was discovered completely does absence mean "gone". */
  private completeScope(e: Known): boolean {
    if (!this.owned(e)) return false;
    if (e.kind === 'DockerRegistry') return this.scope.registryComplete(e.owner!);
    return e.repository !== undefined && this.scope.repositoryComplete(e.owner!, e.repository);
  }

  private *graphEntities(): Generator<Entity> {
    for (const e of this.graph.entities()) yield redacted(e, this.redact);
  }

  private *graphRelations(): Generator<WireRelation> {
    for (const r of this.graph.relations()) yield toWireRelation(redacted(r, this.redact));
  }
}

/**
 * `value` as `redact` leaves its JSON: the same object when nothing was masked (almost always),
 * else a copy with the masks in.
 */
function redacted<T>(value: T, redact: (json: string) => string): T {
  const text = JSON.stringify(value);
  const masked = redact(text);
  return masked === text ? value : (JSON.parse(masked) as T);
}

/** `partial` over `held`: what the partial run knows wins, what it lacks stays as the server has it. */
function keepHeld(held: Record<string, unknown>, partial: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...held };
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined || v === null) continue;
    // Storage counted from a partial run is a lower bound: the figures the server has stand.
    if (k === 'storage' && held.storage != null && (v as { partial?: unknown }).partial === true) continue;
    out[k] = v;
  }
  return out;
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

/**
 * An entity's identity as one string. Joined, not concatenated: a joined string is flat, where a
 * template literal can keep its parts alive with it, and the plan holds one per listed entity.
 */
export function entityKey(kind: string, namespace: string, name: string): string {
  return [kind, namespace, name].join('\u0000');
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
  /** The repository's own listing was incomplete: its entities in the graph may lack fields. */
  repositoryPartial(provider: string, repository: string): boolean;
  /** Some repository of the provider was read only in part. */
  anyRepositoryPartial(provider: string): boolean;
}

function deletionScope(receipts: GraphReceipt[]): DeletionScope {
  const seen = new Set<string>();
  const incompleteRegistry = new Set<string>();
  const incompleteRepository = new Set<string>();
  const partialProviders = new Set<string>();
  for (const r of receipts) {
    seen.add(r.provider);
    if (r.complete) continue;
    if (r.repository === '*') incompleteRegistry.add(r.provider);
    else {
      incompleteRepository.add(`${r.provider}\u0000${r.repository}`);
      partialProviders.add(r.provider);
    }
  }
  const registryComplete = (p: string) => seen.has(p) && !incompleteRegistry.has(p);
  return {
    registryComplete,
    repositoryComplete: (p, repo) => registryComplete(p) && !incompleteRepository.has(`${p}\u0000${repo}`),
    repositoryPartial: (p, repo) => incompleteRepository.has(`${p}\u0000${repo}`),
    anyRepositoryPartial: (p) => partialProviders.has(p),
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

/**
 * Devgraph's relation identity (both ends, the type, and the managed-by label) as a digest: one
 * short flat string, where the joined text would keep its parts alive with it.
 */
export function relationSignature(r: WireRelation): string {
  return relationDigest(r).toString('base64');
}

function relationDigest(r: WireRelation): Buffer {
  return digestOf(r.source, r.relation, r.target, r.metadata.labels['managed-by']);
}

/** The relation signature's digest from the parts, a reference's namespace defaulting as Devgraph's does. */
function digestOf(
  source: ServerRelation['source'],
  relation: string,
  target: ServerRelation['target'],
  managedBy: string | undefined,
): Buffer {
  const end = (x: ServerRelation['source']) =>
    `${x.apiVersion}/${x.kind}/${x.namespace ?? 'default'}/${x.name}`;
  return createHash('sha1')
    .update(`${end(source)}::${relation}::${end(target)}::${managedBy ?? ''}`)
    .digest();
}

const EMPTY = 0;
const MISSING = 1;
const HELD = 2;

/**
 * A set of relation digests, each by its first 64 bits, with whether the server holds it: open
 * addressing over typed arrays, since the plan keeps one for every relation of the graph and a
 * Map of digest strings costs a string and an entry each.
 */
class SignatureTable {
  private lows = new Uint32Array(1024);
  private highs = new Uint32Array(1024);
  private states = new Uint8Array(1024);
  private size = 0;

  /** Adds a relation the graph has (as missing from the server, until `hold`). */
  add(digest: Buffer): void {
    if (2 * (this.size + 1) > this.states.length) this.grow();
    const low = digest.readUInt32LE(0);
    const high = digest.readUInt32LE(4);
    const i = this.slot(low, high);
    if (this.states[i] !== EMPTY) return;
    this.lows[i] = low;
    this.highs[i] = high;
    this.states[i] = MISSING;
    this.size++;
  }

  /** Marks a listed relation as held; false when the graph does not have it. */
  hold(digest: Buffer): boolean {
    const i = this.slot(digest.readUInt32LE(0), digest.readUInt32LE(4));
    if (this.states[i] === EMPTY) return false;
    this.states[i] = HELD;
    return true;
  }

  /** True once for a relation the graph has and the server lacks; it then counts as held. */
  take(digest: Buffer): boolean {
    const i = this.slot(digest.readUInt32LE(0), digest.readUInt32LE(4));
    if (this.states[i] !== MISSING) return false;
    this.states[i] = HELD;
    return true;
  }

  counts(): { held: number; missing: number } {
    let held = 0;
    let missing = 0;
    for (const state of this.states) {
      if (state === HELD) held++;
      else if (state === MISSING) missing++;
    }
    return { held, missing };
  }

  /** Where the digest is, or the empty slot where it would go. */
  private slot(low: number, high: number): number {
    const mask = this.states.length - 1;
    for (let i = low & mask; ; i = (i + 1) & mask) {
      if (this.states[i] === EMPTY || (this.lows[i] === low && this.highs[i] === high)) return i;
    }
  }

  private grow(): void {
    const { lows, highs, states } = this;
    this.lows = new Uint32Array(states.length * 2);
    this.highs = new Uint32Array(states.length * 2);
    this.states = new Uint8Array(states.length * 2);
    for (let j = 0; j < states.length; j++) {
      if (states[j] === EMPTY) continue;
      const i = this.slot(lows[j]!, highs[j]!);
      this.lows[i] = lows[j]!;
      this.highs[i] = highs[j]!;
      this.states[i] = states[j]!;
    }
  }
}
