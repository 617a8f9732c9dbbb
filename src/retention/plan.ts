// What a selector's retention rules would delete in one repository, and everything that deletion
// touches, before anything is deleted. Registries delete by digest, and a digest carries every tag
// on it, an index's platform manifests and the accessories that refer to it; rules written about
// tags (Harbor's, GHCR cleanup actions') go wrong exactly there: an alias kept by one rule vanishes
// with a digest another rule deletes, or "untagged" platform manifests go while their index stays.
// So the plan decides per digest, keeps whatever a kept manifest needs, and lists what goes along.
import { accessoryOf } from '../config/select.js';
import type { RetentionRules } from '../config/settings.js';
import { compareNewestFirst, createdMs, type Dated } from '../discovery/order-tags.js';
import type { ManifestRole } from '../model/discovery.js';
import type { InventoryManifest, RepositoryInventory } from './inventory.js';

/** Why a deletion is planned: a rule, or the deletion of what it belongs to. */
export type DeletionCause =
  | 'rules'
  | 'untagged'
  | 'lifecycle'
  | 'index_deleted'
  | 'subject_deleted'
  | 'orphan';

/** One manifest to delete by digest. Deletions are ordered: an index before its children, a subject before its accessories. */
export interface Deletion {
  repository: string;
  digest: string;
  /** Every tag on the digest: deleting a manifest removes all of them. */
  tags: string[];
  role: ManifestRole;
  cause: DeletionCause;
  /** Names the rule (`keep_newest 5 and older_than 30d: …`) or what this goes with. */
  reason: string;
  /** For a child or an accessory: the deletion it goes with. */
  with?: string;
  /**
   * Bytes freed by this deletion and not by an earlier one: the manifest itself, and its blobs no
   * kept manifest references. A blob several deletions share counts in the first, so the
   * deletions add up to reclaimable_bytes.
   */
  bytes_reclaimed: number;
}

export type ProtectionKind = 'keep_tags' | 'in_use' | 'kept_index' | 'kept_subject' | 'undated';

export interface Protection {
  by: ProtectionKind;
  detail: string;
}

/** A manifest a rule (or a deletion it belongs to) would have deleted, and what kept it. */
export interface ProtectedManifest {
  repository: string;
  digest: string;
  tags: string[];
  role: ManifestRole;
  /** What would have deleted it. */
  wanted: string;
  why: Protection[];
}

export type BlastRadiusKind = 'tags' | 'kept_alias' | 'child' | 'accessory' | 'orphan';

/** What a deletion takes with it beyond what its rule named, or a deletion withheld for it. */
export interface BlastRadiusEntry {
  kind: BlastRadiusKind;
  /** The manifest concerned: deleted, or (kept_alias) the one whose deletion is withheld. */
  digest: string;
  /** Tags that go with it; for kept_alias, the tags the rule wanted gone. */
  tags: string[];
  role: ManifestRole;
  /** child, accessory: the deletion it goes with. */
  because?: string;
  /** kept_alias: the tags keep_tags keeps on that digest. */
  kept_tags?: string[];
  /** kept_alias: the deletion is not in deletions[]. */
  withheld?: true;
  detail: string;
}

export interface RetentionPlan {
  provider: string;
  registry: string;
  repository: string;
  /** Set when no plan was made, saying why; everything else is then empty. */
  skipped?: string;
  deletions: Deletion[];
  protected: ProtectedManifest[];
  blast_radius: BlastRadiusEntry[];
  /** Bytes of the deleted manifests and of the blobs no kept manifest references. */
  reclaimable_bytes: number;
  /** What the plan could not do, or did against the grain (unlisted untagged manifests, in-use deletions). */
  notes: string[];
}

interface Node {
  m: InventoryManifest;
  /** Every tag on the digest. */
  tags: string[];
  /** Tags that name images, not accessories: what keep_newest counts and older_than dates. */
  imageTags: string[];
  /** Listed by the registry as untagged. */
  untagged: boolean;
  /** What it refers to: its subjects, and the digest its accessory tags name. */
  subjects: Set<string>;
  /** Indexes in the repository that list it. */
  parents: Set<string>;
  /** Accessories in the repository that refer to it. */
  accessories: Set<string>;
  /** When it was pushed, else created (ms), where the registry or the image says. */
  time?: number;
  /** The newest time its image tags give, when they give one. */
  tagTime?: number;
}

type Want =
  | { reason: string; cause: 'rules' | 'untagged' | 'lifecycle' | 'orphan' }
  | { undated: string }
  | undefined;

const HOUR_MS = 3_600_000;

/**
 * The plan of one repository under one selector's rules. `inUse`: digests running somewhere
 * (in-use.ts, Devgraph), protected unless protect_in_use is off; as a map, each with why. `expired`: digests another rule
 * model wants gone (an ECR lifecycle policy), each with its reason; they get the same protections
 * and blast radius as the rules' own. Pure: same inputs, same plan.
 */
export function planRetention(
  inventory: RepositoryInventory,
  rules: RetentionRules,
  inUse: ReadonlySet<string> | ReadonlyMap<string, readonly string[]>,
  now: Date,
  expired: ReadonlyMap<string, string> = new Map(),
): RetentionPlan {
  const plan: RetentionPlan = {
    provider: inventory.provider,
    registry: inventory.registry,
    repository: inventory.repository,
    deletions: [],
    protected: [],
    blast_radius: [],
    reclaimable_bytes: 0,
    notes: [],
  };
  if (!inventory.complete)
    return {
      ...plan,
      skipped:
        'discovery of this repository was incomplete (its receipt says what failed): without every tag and manifest, a deletion could take what was not seen',
    };
  if (inventory.partial)
    return {
      ...plan,
      skipped:
        'some of this repository was not read (max_tags left tags unread, or a manifest was described by a listing rather than read), and what was not read may share a digest with a deletion; set max_tags: 0 on the selector to plan retention',
    };

  const unread = (inventory.tagsListed ?? 0) - inventory.tags.length;
  if (unread > 0)
    return {
      ...plan,
      skipped: `${unread} of the ${inventory.tagsListed} tags listed were not read (include_tags or exclude_tags), and an unread tag may share a digest with a deletion; plan retention with a selector that reads every tag`,
    };

  const nodes = graphOf(inventory);
  const ranked = rankImages(nodes);
  const wants = wantedGone(nodes, ranked, rules, now.getTime());
  for (const [digest, reason] of expired) {
    const want = wants.get(digest);
    if (nodes.has(digest) && !(want && 'reason' in want)) wants.set(digest, { reason, cause: 'lifecycle' });
  }
  if (rules.untaggedOlderThan && !inventory.untagged)
    plan.notes.push(
      `untagged_older_than ${rules.untaggedOlderThan.text}: this registry's untagged manifests are not listed, so none is planned`,
    );
  const own = new Map<string, Protection[]>();
  for (const n of nodes.values()) {
    const why = ownProtections(n, rules, inUse);
    if (why.length > 0) own.set(n.m.digest, why);
  }
  const { kept, keptBy } = keptManifests(nodes, wants, own);

  const repository = inventory.repository;
  const keptBlobs = new Set<string>();
  for (const d of kept) for (const b of nodes.get(d)!.m.blobs) keptBlobs.add(b.digest);
  const freed = new Set<string>();
  for (const d of deletionOrder(nodes, kept, ranked)) {
    const n = nodes.get(d)!;
    let bytes = n.m.size;
    for (const b of n.m.blobs) {
      if (keptBlobs.has(b.digest) || freed.has(b.digest)) continue;
      freed.add(b.digest);
      bytes += b.size;
    }
    const deletion: Deletion = {
      repository,
      digest: d,
      tags: n.tags,
      role: n.m.role,
      ...whyDeleted(n, wants.get(d), nodes, kept),
      bytes_reclaimed: bytes,
    };
    plan.deletions.push(deletion);
    plan.reclaimable_bytes += bytes;
    if (!rules.protectInUse && inUse.has(d))
      plan.notes.push(`deletes ${d} although it is in use: protect_in_use is off`);
    plan.blast_radius.push(...blastOf(n, deletion, nodes));
  }

  const others = [...nodes.values()].filter((x) => x.imageTags.length === 0);
  for (const n of [...ranked, ...others.sort((a, b) => byText(a.m.digest, b.m.digest))]) {
    const d = n.m.digest;
    if (!kept.has(d)) continue;
    const entry = protectedEntry(n, wants.get(d), own.get(d), keptBy.get(d), nodes, kept);
    if (!entry) continue;
    plan.protected.push({ repository, digest: d, tags: n.tags, role: n.m.role, ...entry });
    const alias = keptAlias(n, rules, entry.wanted);
    if (alias && own.get(d)?.some((p) => p.by === 'keep_tags')) plan.blast_radius.push(alias);
  }
  return plan;
}

/** What a rule wants gone, or could not date: images by rank, untagged manifests, orphans. */
function wantedGone(
  nodes: Map<string, Node>,
  ranked: Node[],
  rules: RetentionRules,
  nowMs: number,
): Map<string, Want> {
  const wants = new Map<string, Want>();
  ranked.forEach((n, rank) => {
    wants.set(n.m.digest, wantImage(n, rank, rules, nowMs));
  });
  for (const n of nodes.values()) {
    if (n.imageTags.length > 0) continue;
    if (isOrphan(n, nodes)) wants.set(n.m.digest, { reason: orphanReason(n), cause: 'orphan' });
    else if (n.untagged && n.tags.length === 0) wants.set(n.m.digest, wantUntagged(n, rules, nowMs));
  }
  return wants;
}

/**
 * What stays: what nothing wants gone, what is protected, and then whatever a kept manifest
 * needs, an index its children and a subject its accessories. A child or accessory nothing keeps
 * goes with what it belongs to.
 */
function keptManifests(
  nodes: Map<string, Node>,
  wants: Map<string, Want>,
  own: Map<string, Protection[]>,
): { kept: Set<string>; keptBy: Map<string, Protection> } {
  const kept = new Set<string>();
  const keptBy = new Map<string, Protection>();
  for (const n of nodes.values()) {
    const d = n.m.digest;
    const want = wants.get(d);
    const wanted = want !== undefined && 'reason' in want;
    const belongs = n.imageTags.length === 0 && !wanted && dependsOnOthers(n, nodes);
    if (own.has(d) || (!wanted && !belongs)) kept.add(d);
  }
  const keep = (d: string, by: Protection, queue: string[]) => {
    kept.add(d);
    keptBy.set(d, by);
    queue.push(d);
  };
  const queue = [...kept];
  while (queue.length > 0) {
    const n = nodes.get(queue.pop()!)!;
    for (const c of n.m.children)
      if (nodes.has(c) && !kept.has(c))
        keep(
          c,
          { by: 'kept_index', detail: `${childName(nodes.get(c)!)} of the kept index ${label(n)}` },
          queue,
        );
    for (const a of n.accessories)
      if (!kept.has(a))
        keep(a, { by: 'kept_subject', detail: `${roleName(nodes.get(a)!)} of the kept ${label(n)}` }, queue);
  }
  return { kept, keptBy };
}

/** A deletion's cause and reason: its own rule, else the index or subject it goes with. */
function whyDeleted(
  n: Node,
  want: Want,
  nodes: Map<string, Node>,
  kept: ReadonlySet<string>,
): Pick<Deletion, 'cause' | 'reason' | 'with'> {
  const parent = [...n.parents].sort().find((p) => !kept.has(p));
  const subject = [...n.subjects].sort().find((s) => nodes.has(s) && !kept.has(s));
  const goesWith = parent ?? subject;
  const withIt = goesWith ? { with: goesWith } : {};
  if (want && 'reason' in want) return { cause: want.cause, reason: want.reason, ...withIt };
  if (parent)
    return { cause: 'index_deleted', reason: `${childName(n)} of the deleted index ${parent}`, ...withIt };
  return { cause: 'subject_deleted', reason: `${roleName(n)} of the deleted ${subject}`, ...withIt };
}

/** Every manifest of the repository as a node, with the tags, parents and accessories of each. */
function graphOf(inventory: RepositoryInventory): Map<string, Node> {
  const nodes = new Map<string, Node>();
  const add = (m: InventoryManifest, untagged: boolean) => {
    const known = nodes.get(m.digest);
    if (known) {
      // The same manifest reached by discovery and listed as untagged: the listing may be the
      // one that knows when it was pushed.
      known.untagged ||= untagged;
      known.time ??= firstUsable(m.pushedAt, m.created);
      return known;
    }
    const n: Node = {
      m,
      tags: [],
      imageTags: [],
      untagged,
      subjects: new Set(m.subjects.filter((s) => s !== m.digest)),
      parents: new Set(),
      accessories: new Set(),
    };
    const time = firstUsable(m.pushedAt, m.created);
    if (time !== undefined) n.time = time;
    nodes.set(m.digest, n);
    return n;
  };
  for (const m of inventory.manifests.values()) add(m, false);
  for (const m of inventory.untagged ?? []) add(m, true);
  const tagTimes = new Map<string, number>();
  for (const t of inventory.tags) {
    const accessory = accessoryOf(t.tag);
    // A referrers fallback index is not itself read as a manifest: it stands here by its tag,
    // with no bytes known.
    const n =
      nodes.get(t.digest) ??
      add(
        {
          digest: t.digest,
          role: accessory ? 'artifact' : 'image',
          size: 0,
          blobs: [],
          children: [],
          subjects: [],
        },
        false,
      );
    n.tags.push(t.tag);
    if (!accessory) n.imageTags.push(t.tag);
    else if (accessory.subject !== t.digest) n.subjects.add(accessory.subject);
    const time = firstUsable(t.pushedAt, t.created);
    if (time !== undefined) tagTimes.set(t.tag, time);
  }
  for (const n of nodes.values()) {
    n.tags.sort();
    n.imageTags.sort();
    // A tag pushed again later makes the image that recent: the newest push of any tag on it.
    for (const t of n.imageTags) {
      const time = tagTimes.get(t);
      if (time !== undefined && (n.tagTime === undefined || time > n.tagTime)) n.tagTime = time;
    }
    if (n.tagTime !== undefined) n.time = n.tagTime;
    for (const c of n.m.children) nodes.get(c)?.parents.add(n.m.digest);
    for (const s of n.subjects) nodes.get(s)?.accessories.add(n.m.digest);
  }
  return nodes;
}

function firstUsable(...times: Array<string | undefined>): number | undefined {
  for (const t of times) {
    const ms = createdMs(t);
    if (ms !== undefined) return ms;
  }
  return undefined;
}

/**
 * Images (digests with an image tag), newest first, in max_tags' order: by time, then version,
 * then name, each image standing for the newest of its tags. Aliases count once.
 */
function rankImages(nodes: Map<string, Node>): Node[] {
  const images = [...nodes.values()].filter((n) => n.imageTags.length > 0);
  const dated = new Map<Node, Dated>();
  for (const n of images) {
    const created = n.time === undefined ? undefined : new Date(n.time).toISOString();
    const tags = n.imageTags
      .map((tag) => ({ tag, ...(created ? { created } : {}) }))
      .sort(compareNewestFirst);
    dated.set(n, tags[0]!);
  }
  return images.sort((a, b) => compareNewestFirst(dated.get(a)!, dated.get(b)!));
}

function wantImage(n: Node, rank: number, rules: RetentionRules, nowMs: number): Want {
  const { keepNewest, olderThan } = rules;
  if (keepNewest === undefined && olderThan === undefined) return undefined;
  if (keepNewest !== undefined && rank < keepNewest) return undefined;
  const byCount =
    keepNewest === undefined ? undefined : `keep_newest ${keepNewest}: number ${rank + 1} from the newest`;
  if (!olderThan) return { reason: byCount!, cause: 'rules' };
  if (n.time === undefined)
    return {
      undated: `${byCount ? `${byCount}, ` : ''}older_than ${olderThan.text}, but no push or created time says how old it is`,
    };
  const age = nowMs - n.time;
  if (age <= olderThan.ms) return undefined;
  const rule = byCount
    ? `keep_newest ${keepNewest} and older_than ${olderThan.text}: number ${rank + 1} from the newest`
    : `older_than ${olderThan.text}:`;
  return { reason: `${rule}${byCount ? ',' : ''} ${ageText(age)} old`, cause: 'rules' };
}

function wantUntagged(n: Node, rules: RetentionRules, nowMs: number): Want {
  const limit = rules.untaggedOlderThan;
  if (!limit) return undefined;
  if (n.time === undefined)
    return { undated: `untagged_older_than ${limit.text}, but no push or created time says how old it is` };
  const age = nowMs - n.time;
  return age > limit.ms
    ? { reason: `untagged_older_than ${limit.text}: untagged, ${ageText(age)} old`, cause: 'untagged' }
    : undefined;
}

function ageText(ms: number): string {
  const hours = Math.floor(ms / HOUR_MS);
  return hours >= 48 ? `${Math.floor(hours / 24)} days` : `${hours} hours`;
}

/** Refers to something, yet nothing it refers to is in the repository, and no index holds it. */
function isOrphan(n: Node, nodes: Map<string, Node>): boolean {
  return n.subjects.size > 0 && n.parents.size === 0 && ![...n.subjects].some((s) => nodes.has(s));
}

function orphanReason(n: Node): string {
  return `orphan: ${roleName(n)} of ${[...n.subjects].sort().join(', ')}, which is not in the repository`;
}

/** Belongs to another manifest of the repository (an index's child, an accessory): it goes with it. */
function dependsOnOthers(n: Node, nodes: Map<string, Node>): boolean {
  return n.parents.size > 0 || [...n.subjects].some((s) => nodes.has(s));
}

function ownProtections(
  n: Node,
  rules: RetentionRules,
  inUse: ReadonlySet<string> | ReadonlyMap<string, readonly string[]>,
): Protection[] {
  const why: Protection[] = [];
  if (rules.protectInUse && inUse.has(n.m.digest)) {
    const details = 'get' in inUse ? inUse.get(n.m.digest) : undefined;
    for (const detail of details?.length ? details : ['in use: named by the in-use input or by Devgraph'])
      why.push({ by: 'in_use', detail });
  }
  for (const tag of n.tags) {
    const pattern = rules.keepTags.find((p) => p.test(tag));
    if (pattern)
      why.push({ by: 'keep_tags', detail: `tag ${tag} matches keep_tags ${JSON.stringify(pattern.source)}` });
  }
  return why;
}

/** The protected entry of a kept manifest, when something wanted it gone. */
function protectedEntry(
  n: Node,
  want: Want,
  own: Protection[] | undefined,
  keptBy: Protection | undefined,
  nodes: Map<string, Node>,
  kept: ReadonlySet<string>,
): { wanted: string; why: Protection[] } | undefined {
  const why = [...(own ?? []), ...(keptBy ? [keptBy] : [])];
  if (want && 'reason' in want) return { wanted: want.reason, why };
  if (want && 'undated' in want) return { wanted: want.undated, why: [...why, undatedProtection] };
  // A child or accessory of a deletion, kept by something else that needs it.
  const gone = [...n.parents, ...n.subjects].find((d) => nodes.has(d) && !kept.has(d));
  // Kept by no protection: its own tag keeps it, and the rules did not want that gone.
  if (!gone || why.length === 0) return undefined;
  const wanted = n.parents.has(gone)
    ? `${childName(n)} of the deleted index ${gone}`
    : `${roleName(n)} of the deleted ${gone}`;
  return { wanted, why };
}

const undatedProtection: Protection = {
  by: 'undated',
  detail: 'its age is unknown, so an age rule cannot show it is old enough',
};

/** A digest kept by keep_tags on one tag while the rule wanted its other tags gone. */
function keptAlias(n: Node, rules: RetentionRules, wanted: string): BlastRadiusEntry | undefined {
  const keptTags = n.tags.filter((t) => rules.keepTags.some((p) => p.test(t)));
  const others = n.tags.filter((t) => !keptTags.includes(t));
  if (keptTags.length === 0 || others.length === 0) return undefined;
  return {
    kind: 'kept_alias',
    digest: n.m.digest,
    tags: others,
    role: n.m.role,
    kept_tags: keptTags,
    withheld: true,
    detail: `${wanted}; but deleting ${n.m.digest} would also remove ${keptTags.join(', ')} (keep_tags), so ${others.join(', ')} stay${others.length === 1 ? 's' : ''}`,
  };
}

/**
 * Deletions in an order an interruption cannot hurt: an index before its children and a subject
 * before its accessories (stopping half-way leaves orphans for the next plan, never a tagged image
 * with parts missing). Among equals: images newest first as ranked, then untagged manifests and
 * orphans, indexes first, by digest, each followed by what goes with it.
 */
function deletionOrder(nodes: Map<string, Node>, kept: ReadonlySet<string>, ranked: Node[]): string[] {
  const deleted = [...nodes.keys()].filter((d) => !kept.has(d));
  const deletedSet = new Set(deleted);
  const edgesOut = (d: string) => {
    const n = nodes.get(d)!;
    return [...n.m.children, ...[...n.accessories].sort()].filter((x) => deletedSet.has(x));
  };
  const inDegree = new Map<string, number>(deleted.map((d) => [d, 0]));
  for (const d of deleted) for (const x of new Set(edgesOut(d))) inDegree.set(x, inDegree.get(x)! + 1);
  const rank = new Map(ranked.map((n, i) => [n.m.digest, i]));
  // An index whose children nothing read (an untagged old build a vendor listed) goes before
  // other untagged manifests, which may be those children: a registry refuses them first.
  const isIndex = (d: string) => (nodes.get(d)!.m.role === 'index' ? 0 : 1);
  const roots = deleted
    .filter((d) => inDegree.get(d) === 0)
    .sort(
      (a, b) =>
        (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity) || isIndex(a) - isIndex(b) || byText(a, b),
    );
  // Visit order from the roots gives each deletion its place among those free to go.
  const key = new Map<string, number>();
  const visit = (d: string) => {
    if (key.has(d)) return;
    key.set(d, key.size);
    for (const x of edgesOut(d)) visit(x);
  };
  for (const r of roots) visit(r);
  for (const d of [...deleted].sort()) visit(d);
  const out: string[] = [];
  let layer = roots;
  while (layer.length > 0) {
    out.push(...layer);
    const next: string[] = [];
    for (const d of layer)
      for (const x of new Set(edgesOut(d))) {
        const left = inDegree.get(x)! - 1;
        inDegree.set(x, left);
        if (left === 0) next.push(x);
      }
    layer = next.sort((a, b) => key.get(a)! - key.get(b)!);
  }
  // Only a reference cycle, which no registry should hold, leaves any behind.
  const placed = new Set(out);
  out.push(...deleted.filter((d) => !placed.has(d)).sort((a, b) => key.get(a)! - key.get(b)!));
  return out;
}

/** What deleting `n` takes with it beyond what its rule named. */
function blastOf(n: Node, deletion: Deletion, nodes: Map<string, Node>): BlastRadiusEntry[] {
  const out: BlastRadiusEntry[] = [];
  const base = { digest: n.m.digest, tags: n.tags, role: n.m.role };
  if (n.imageTags.length > 1)
    out.push({
      kind: 'tags',
      ...base,
      detail: `deleting ${n.m.digest} removes every tag on it: ${n.tags.join(', ')}`,
    });
  if (deletion.cause === 'orphan') out.push({ kind: 'orphan', ...base, detail: deletion.reason });
  const parent = [...n.parents].find((p) => p === deletion.with);
  if (parent)
    out.push({
      kind: 'child',
      ...base,
      because: parent,
      detail: `the ${childName(n)} goes with the index ${label(nodes.get(parent)!)}`,
    });
  else if (deletion.with)
    out.push({
      kind: 'accessory',
      ...base,
      because: deletion.with,
      detail: `the ${roleName(n)}${n.tags.length > 0 ? ` (tags ${n.tags.join(', ')})` : ''} goes with ${label(nodes.get(deletion.with)!)}`,
    });
  return out;
}

function childName(n: Node): string {
  return n.m.role === 'attestation' ? 'attestation manifest' : 'platform manifest';
}

function roleName(n: Node): string {
  return n.m.role === 'index' || n.m.role === 'image' ? `${n.m.role} manifest` : n.m.role;
}

/** A manifest for a message: its digest, and its tags when it has any. */
function label(n: Node): string {
  return n.tags.length > 0 ? `${n.m.digest} (${n.tags.join(', ')})` : n.m.digest;
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
