// What changed between two inventories: the PR check and the after-push step read this. Pure:
// two graphs in, plain lists out. A tag is identified by the provider that found it (the
// discovery-source annotation), its repository and its name, so two registries holding the same
// repository name never mix.

import {
  DISCOVERY_SOURCE,
  type Entity,
  GRAPH_FORMAT,
  type Graph,
  type GraphReceipt,
} from '../model/graph.js';
import { asSource, type GraphSource, graphDocument } from './graph-source.js';

export interface RepositoryRef {
  provider: string;
  repository: string;
}

export interface TagRef extends RepositoryRef {
  tag: string;
  digest: string;
}

export interface MovedTag extends RepositoryRef {
  tag: string;
  from: string;
  to: string;
}

export interface NewPlatforms extends RepositoryRef {
  tag: string;
  digest: string;
  /** Platform strings (`linux/arm64/v8`) the tag has now and did not have before. */
  platforms: string[];
}

/**
 * Previously inventoried tags that this run did not see, in a repository (or registry) whose
 * discovery was incomplete: they may still exist, so they are not called removed.
 */
export interface UnverifiedRepository extends RepositoryRef {
  tags: string[];
  reason: string;
}

export interface GraphChanges {
  /** No previous graph existed: nothing is compared, and nothing is reported as new or removed. */
  firstRun: boolean;
  /** When the graph compared against was generated. */
  previousGeneratedAt?: string;
  newRepositories: RepositoryRef[];
  removedRepositories: RepositoryRef[];
  newTags: TagRef[];
  movedTags: MovedTag[];
  removedTags: TagRef[];
  newPlatforms: NewPlatforms[];
  unverified: UnverifiedRepository[];
  /**
   * Tags this run saw that the previous inventory lacks, where that inventory was incomplete for
   * their repository or registry: they may have been there all along, so they are not called new.
   */
  firstSeen: UnverifiedRepository[];
}

interface TagFacts {
  digest: string;
  /** Shared by every tag with the same list: never changed in place. */
  platforms: readonly string[];
}

/**
 * What diffGraphsConsuming reads of a graph, and all of it: a run holds the previous graph in this
 * form while it discovers, a fraction of what the parsed graph would hold.
 */
export interface Inventory {
  generatedAt: string;
  providers: Set<string>;
  /** Providers whose repository listing failed or was cut short. */
  incompleteProviders: Map<string, string>;
  /** `provider\0repository` → tag → facts. Repositories with no selected tags are present, empty. */
  repositories: Map<string, Map<string, TagFacts>>;
  /** `provider\0repository` → why its receipt is incomplete. */
  incompleteRepositories: Map<string, string>;
}

const SEP = '\u0000';

function annotationSource(e: Entity): string {
  return e.metadata.annotations?.[DISCOVERY_SOURCE] ?? '';
}

/** What an Inventory takes from one entity; undefined for entities it does not read. */
type InventoryFact =
  | { kind: 'registry'; provider: string }
  | { kind: 'repository'; provider: string; repository: string }
  | {
      kind: 'image';
      provider: string;
      repository: string;
      tag: string;
      digest: string;
      platforms: string[];
    };

function inventoryFact(e: Entity): InventoryFact | undefined {
  const provider = annotationSource(e);
  if (e.kind === 'DockerRegistry') return { kind: 'registry', provider };
  if (e.kind === 'DockerRepository' && typeof e.spec.full_name === 'string')
    return { kind: 'repository', provider, repository: e.spec.full_name };
  const { repository, tag, digest, platforms } = e.spec;
  if (
    e.kind === 'DockerImage' &&
    typeof repository === 'string' &&
    typeof tag === 'string' &&
    typeof digest === 'string'
  ) {
    const listed = Array.isArray(platforms)
      ? platforms.filter((p): p is string => typeof p === 'string')
      : [];
    return { kind: 'image', provider, repository, tag, digest, platforms: listed };
  }
  return undefined;
}

/** Whether a repository counts (a shard's own), by provider and repository name. */
export type RepositoryFilter = (provider: string, repository: string) => boolean;

/**
 * An Inventory built entity by entity and receipt by receipt, so a graph file can be read into one
 * as it streams in (read-inventory.ts) instead of parsed whole. With `keep`, only the repositories
 * it accepts are taken (registries always).
 */
export class InventoryBuilder {
  private readonly inv: Inventory = {
    generatedAt: '',
    providers: new Set(),
    incompleteProviders: new Map(),
    repositories: new Map(),
    incompleteRepositories: new Map(),
  };
  // Parsed JSON holds a list per image; one copy of each distinct list serves them all (most
  // images share a handful).
  private readonly platformLists = new Map<string, readonly string[]>();

  constructor(private readonly keep?: RepositoryFilter) {}

  entity(e: Entity): void {
    const fact = inventoryFact(e);
    if (fact?.kind === 'registry') this.inv.providers.add(fact.provider);
    else if (fact?.kind === 'repository') this.repo(fact.provider, fact.repository);
    else if (fact?.kind === 'image')
      this.repo(fact.provider, fact.repository)?.set(fact.tag, {
        digest: fact.digest,
        platforms: this.shared(fact.platforms),
      });
  }

  receipt(r: GraphReceipt): void {
    if (r.complete) return;
    const why = r.errors[0] ?? 'incomplete';
    if (r.repository === '*') this.inv.incompleteProviders.set(r.provider, why);
    else if (!this.keep || this.keep(r.provider, r.repository))
      this.inv.incompleteRepositories.set(`${r.provider}${SEP}${r.repository}`, why);
  }

  finish(generatedAt: string): Inventory {
    this.inv.generatedAt = generatedAt;
    return this.inv;
  }

  private repo(provider: string, repository: string): Map<string, TagFacts> | undefined {
    if (this.keep && !this.keep(provider, repository)) return undefined;
    const key = `${provider}${SEP}${repository}`;
    let tags = this.inv.repositories.get(key);
    if (!tags) {
      tags = new Map();
      this.inv.repositories.set(key, tags);
    }
    return tags;
  }

  private shared(platforms: string[]): readonly string[] {
    const key = platforms.join('\u0000');
    const held = this.platformLists.get(key);
    if (held !== undefined) return held;
    this.platformLists.set(key, platforms);
    return platforms;
  }
}

/** The kinds an Inventory is made from. */
const INVENTORY_KINDS = ['DockerRegistry', 'DockerRepository', 'DockerImage'] as const;

/**
 * A previous Inventory on its way to the one comparison it was read for. diffGraphsConsuming takes
 * it apart as it compares, so it is handed over as this handle rather than as the Inventory: its
 * holder knows the comparison spends it, and a second take throws instead of comparing against
 * what the first left.
 */
export class ConsumableInventory {
  #inventory: Inventory | undefined;

  constructor(inventory: Inventory) {
    this.#inventory = inventory;
  }

  /** The Inventory, for the one caller that takes it apart; the handle lets go of it. */
  take(): Inventory {
    const inventory = this.#inventory;
    if (!inventory)
      throw new Error(
        'this previous inventory was already taken apart by a comparison; read the previous graph again to compare once more',
      );
    this.#inventory = undefined;
    return inventory;
  }
}

/**
 * `inventory` with only the repositories `keep` accepts (a shard's own); changed in place. A
 * named previous graph is the unsharded one, read before the shard is applied.
 */
export function keepRepositories(inventory: Inventory, keep: RepositoryFilter): Inventory {
  for (const map of [inventory.repositories, inventory.incompleteRepositories])
    for (const key of [...map.keys()]) {
      const { provider, repository } = split(key);
      if (!keep(provider, repository)) map.delete(key);
    }
  return inventory;
}

/**
 * `ref` with `fields`. Not `{ ...ref, ...fields }`: V8 gives every object that starts with a spread
 * and goes on a hidden class of its own, which stays in old space until a full collection.
 */
function at<T extends object>(ref: RepositoryRef, fields: T): RepositoryRef & T {
  return { provider: ref.provider, repository: ref.repository, ...fields };
}

function split(key: string): RepositoryRef {
  const at = key.indexOf(SEP);
  return { provider: key.slice(0, at), repository: key.slice(at + 1) };
}

function emptyChanges(firstRun: boolean): GraphChanges {
  return {
    firstRun,
    newRepositories: [],
    removedRepositories: [],
    newTags: [],
    movedTags: [],
    removedTags: [],
    newPlatforms: [],
    unverified: [],
    firstSeen: [],
  };
}

/**
 * Compares `current` with `previous`, and takes `previous` apart doing it. Without a previous graph
 * the result is a first run with every list empty: calling a whole registry "new" would drown a PR
 * check in noise and trip nothing useful. Tags the current run did not see count as removed only
 * where the current receipts prove the run saw everything; elsewhere they are listed as unverified.
 *
 * The current graph is read one entity at a time and never made an Inventory of its own: each
 * tag is looked up in the previous Inventory and taken out of it, so what is left there at the end
 * is what the current graph lacks. Building the current Inventory first held a second copy of
 * every tag and digest, at the point of a warm run where the heap is largest; marking seen tags
 * instead would keep the whole previous Inventory alive to the end of the comparison.
 */
export function diffGraphsConsuming(
  previous: ConsumableInventory | undefined,
  current: Graph | GraphSource,
): GraphChanges {
  if (!previous) return emptyChanges(true);
  const before = previous.take();
  const changes = emptyChanges(false);
  changes.previousGeneratedAt = before.generatedAt;
  const source = asSource(current);
  // The current graph's registries and incomplete receipts; its repositories are only named.
  const after = new InventoryBuilder();
  for (const r of source.receipts) after.receipt(r);
  const present = new Set<string>();
  // Tags the previous inventory lacks where it cannot vouch they were not there, by repository.
  const unseen = new Map<string, string[]>();

  for (const e of source.entities(INVENTORY_KINDS)) {
    const fact = inventoryFact(e);
    if (fact?.kind === 'registry') after.entity(e);
    if (fact?.kind !== 'repository' && fact?.kind !== 'image') continue;
    const key = `${fact.provider}${SEP}${fact.repository}`;
    present.add(key);
    if (fact.kind !== 'image') continue;
    const ref = { provider: fact.provider, repository: fact.repository };
    const old = before.repositories.get(key);
    const was = old?.get(fact.tag);
    old?.delete(fact.tag);
    if (was) {
      if (was.digest !== fact.digest)
        changes.movedTags.push(at(ref, { tag: fact.tag, from: was.digest, to: fact.digest }));
      const added = fact.platforms.filter((p) => !was.platforms.includes(p));
      if (added.length > 0)
        changes.newPlatforms.push(at(ref, { tag: fact.tag, digest: fact.digest, platforms: added }));
    } else if (previousDoubt(before, key, fact.provider)) {
      const tags = unseen.get(key);
      if (tags) tags.push(fact.tag);
      else unseen.set(key, [fact.tag]);
    } else {
      // Everything in a new repository is new; its tags are listed so the outputs name them.
      changes.newTags.push(at(ref, { tag: fact.tag, digest: fact.digest }));
    }
  }

  for (const key of present) {
    const ref = split(key);
    const doubt = previousDoubt(before, key, ref.provider);
    const tags = unseen.get(key);
    if (doubt) {
      if (tags) changes.firstSeen.push(at(ref, { tags: tags.sort(), reason: doubt }));
    } else if (!before.repositories.has(key)) changes.newRepositories.push(ref);
  }

  // What is left of the previous inventory is what the current graph does not have.
  const now = after.finish(source.generated_at);
  for (const [key, gone] of before.repositories) {
    const ref = split(key);
    const reason = unverifiedReason(now, key, ref.provider, present.has(key));
    if (reason) {
      if (gone.size > 0) changes.unverified.push(at(ref, { tags: [...gone.keys()].sort(), reason }));
      continue;
    }
    if (!present.has(key)) changes.removedRepositories.push(ref);
    for (const [tag, facts] of gone) changes.removedTags.push(at(ref, { tag, digest: facts.digest }));
  }

  const byRef = (a: RepositoryRef & { tag?: string }, b: RepositoryRef & { tag?: string }) =>
    cmp(a.provider, b.provider) || cmp(a.repository, b.repository) || cmp(a.tag ?? '', b.tag ?? '');
  for (const list of [
    changes.newRepositories,
    changes.removedRepositories,
    changes.newTags,
    changes.movedTags,
    changes.removedTags,
    changes.newPlatforms,
    changes.unverified,
    changes.firstSeen,
  ])
    list.sort(byRef);
  return changes;
}

/** Why the previous inventory cannot vouch that a tag it lacks was not there, if it cannot. */
function previousDoubt(before: Inventory, key: string, provider: string): string | undefined {
  const repository = before.incompleteRepositories.get(key);
  if (repository !== undefined)
    return `the previous inventory of the repository was incomplete (${repository})`;
  const registry = before.incompleteProviders.get(provider);
  if (registry !== undefined) return `the previous repository listing was incomplete (${registry})`;
  return undefined;
}

/** Why the current run cannot vouch that a previous repository's missing tags are gone, if it cannot. */
function unverifiedReason(
  after: Inventory,
  key: string,
  provider: string,
  repositoryPresent: boolean,
): string | undefined {
  if (repositoryPresent) {
    const why = after.incompleteRepositories.get(key);
    return why === undefined ? undefined : `discovery of the repository was incomplete (${why})`;
  }
  if (!after.providers.has(provider)) return 'the provider is not in this run (was the config changed?)';
  const why = after.incompleteProviders.get(provider);
  return why === undefined ? undefined : `the registry's repository listing was incomplete (${why})`;
}

/**
 * The part of a graph that diffGraphsConsuming reads, as the state saves it for the next run's
 * comparison: registries, repositories and images with their provider, names, tags, digests and
 * platforms, and every receipt; no manifests, relations or labels, so a warm run does not parse the
 * whole graph to learn its digests. Written with jsonPieces, which takes the entities as they are
 * made, one at a time: the copy is never held whole. Read back, it compares as `graph` itself would.
 */
export function comparisonView(graph: Graph | GraphSource): object {
  const source = asSource(graph);
  function* entities(): Generator<Entity> {
    for (const e of source.entities(INVENTORY_KINDS)) {
      const slim = comparisonEntity(e);
      if (slim) yield slim;
    }
  }
  return graphDocument(source, { entities: entities(), relations: [] });
}

function comparisonEntity(e: Entity): Entity | undefined {
  if (e.kind !== 'DockerRegistry' && e.kind !== 'DockerRepository' && e.kind !== 'DockerImage')
    return undefined;
  const source = e.metadata.annotations?.[DISCOVERY_SOURCE];
  const { full_name, repository, tag, digest, platforms } = e.spec;
  return {
    apiVersion: e.apiVersion,
    kind: e.kind,
    metadata: {
      name: e.metadata.name,
      namespace: e.metadata.namespace,
      labels: {},
      ...(source !== undefined ? { annotations: { [DISCOVERY_SOURCE]: source } } : {}),
    },
    spec: { full_name, repository, tag, digest, platforms },
  };
}

/** True when anything was added, moved or removed; unverified tags alone are not a change. */
export function hasChanges(c: GraphChanges): boolean {
  return (
    c.newRepositories.length +
      c.removedRepositories.length +
      c.newTags.length +
      c.movedTags.length +
      c.removedTags.length +
      c.newPlatforms.length >
    0
  );
}

/**
 * Reads a graph file's text. Only the shape the diff relies on is checked: a previous graph is
 * our own output, so a mismatch means the wrong file (or another format version) was given.
 */
export function parseGraph(text: string): { graph: Graph } | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { error: `not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { error: 'not a JSON object' };
  const g = doc as Partial<Graph>;
  if (g.format !== GRAPH_FORMAT)
    return {
      error: `"format" is ${JSON.stringify(g.format)}, expected ${JSON.stringify(GRAPH_FORMAT)}; give a graph.json written by devgraph-docker`,
    };
  if (!Array.isArray(g.entities) || !Array.isArray(g.receipts) || !Array.isArray(g.relations))
    return { error: '"entities", "relations" and "receipts" must be arrays' };
  const badEntity = g.entities.findIndex(
    (e) => !e || typeof e !== 'object' || typeof e.kind !== 'string' || !e.metadata || !e.spec,
  );
  if (badEntity >= 0) return { error: `entities[${badEntity}] is not an entity (kind, metadata, spec)` };
  const badReceipt = g.receipts.findIndex(
    (r) =>
      !r ||
      typeof r !== 'object' ||
      typeof r.provider !== 'string' ||
      typeof r.repository !== 'string' ||
      typeof r.complete !== 'boolean' ||
      !Array.isArray(r.errors),
  );
  if (badReceipt >= 0) return { error: `receipts[${badReceipt}] is not a receipt` };
  return { graph: g as Graph };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
