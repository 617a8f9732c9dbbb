// Executes a retention plan: deletes manifests one at a time, in an order that never leaves a
// tagged image with parts missing, and writes down every answer. Pure apart from the Deleter it is
// handed (a registry adapter's deleteManifest), so every safety rule is a table test.
//
// The rules, in the order they apply:
// 1. nothing in a repository whose discovery was incomplete: what was not seen cannot be judged;
// 2. never a protected or in-use digest, and never a manifest whose index or subject stays;
// 3. a cap on deletions per run: a plan over it deletes nothing and says so (a rule gone wrong
//    should cost a message, not the first hundred images);
// 4. an index before its children, a subject before its referrers: an interruption then leaves
//    orphans (which the next plan lists), never a kept image missing a platform or a signature;
// 5. a registry that refuses deletes is asked once, then told about, not failed;
// 6. a journal entry for every deletion planned, whatever became of it.
import { ConfigError, errorMessage } from '../errors.js';
import type { Tally } from '../http/http-client.js';
import type { ManifestRole } from '../model/discovery.js';
import type { DeleteAnswer } from '../oci/registry-client.js';
import type { RepositoryInventory } from './inventory.js';

export const DEFAULT_MAX_DELETIONS = 100;

/** One manifest to delete, as the plan's `deletions[]` gives it. */
export interface Deletion {
  /** The provider (registry) the repository belongs to, as in the receipts. */
  provider: string;
  repository: string;
  digest: string;
  /** Every tag on the digest: deleting a manifest by digest removes them all. */
  tags: string[];
  /** The rule that asked for it, for the journal. */
  reason: string;
  /** What deleting it gives back (the plan's bytes_reclaimed). */
  bytes: number;
  role?: ManifestRole;
  /**
   * Digests of the same repository that must be deleted first, in this run: the index that holds
   * this manifest, the subject this accessory describes. Empty for a top-level image and for an
   * orphan whose subject is already gone.
   */
  after: string[];
}

/** Whatever can delete manifests of one provider; a RegistryAdapter is one. */
export interface Deleter {
  deleteManifest?(repo: string, digest: string, tags: readonly string[], tally: Tally): Promise<DeleteAnswer>;
}

export interface ApplyOptions {
  /** At most this many deletions per run (default 100); a plan with more deletes nothing. */
  maxDeletions?: number;
  /** Repositories whose receipt was incomplete, by repositoryKey, with what went wrong. */
  incomplete?: ReadonlyMap<string, string>;
  /** Digests never to delete, anywhere, with why (named by the in-use input, in use in Devgraph, kept by a rule). */
  protect?: ReadonlyMap<string, string>;
  now?: () => Date;
}

export type JournalAnswer = 'deleted' | 'refused' | 'failed' | 'skipped';

export interface JournalEntry {
  provider: string;
  repository: string;
  digest: string;
  tags: string[];
  bytes: number;
  reason: string;
  answer: JournalAnswer;
  /** The registry's words for a refusal or failure; why nothing was asked for a skip. */
  detail?: string;
  status?: number;
  /** When the registry answered (absent when nothing was asked). */
  at?: string;
  /** Requests the deletion took, auth included. */
  requests: number;
}

export interface ApplyResult {
  /** One entry per planned deletion, in the order they were taken. */
  journal: JournalEntry[];
  counts: Record<JournalAnswer, number>;
  /** Bytes of the manifests that were deleted (their plan's bytes_reclaimed). */
  bytesDeleted: number;
  /** What a person must know: the cap, registries that refuse deletes, what was held back. */
  messages: string[];
  /** Set when the cap stopped the run before any deletion. */
  stopped?: string;
}

/**
 * A Deletion's `after` from what discovery saw: every index of the repository that lists the
 * digest among its manifests, and every subject the digest refers to that the repository holds.
 * Built from the inventory rather than the plan, so a plan that names a child but not its index
 * leaves the child held back instead of breaking the index.
 */
export function mustGoFirst(inventory: RepositoryInventory, digest: string): string[] {
  const first = new Set<string>();
  for (const m of inventory.manifests.values()) if (m.children.includes(digest)) first.add(m.digest);
  // An untagged index discovery never read names its children only in the vendor's listing.
  for (const m of inventory.untagged ?? []) if (m.children.includes(digest)) first.add(m.digest);
  for (const s of inventory.manifests.get(digest)?.subjects ?? []) {
    if (s !== digest && inventory.manifests.has(s)) first.add(s);
  }
  return [...first].sort();
}

/** The key of a repository in ApplyOptions.incomplete. */
export function repositoryKey(provider: string, repository: string): string {
  return `${provider}\u0000${repository}`;
}

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** A deletion that may be asked for, or why it may not. */
type Verdict = { ok: true } | { ok: false; why: string };

export async function applyPlan(
  deletions: readonly Deletion[],
  deleters: (provider: string) => Deleter | undefined,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const max = options.maxDeletions ?? DEFAULT_MAX_DELETIONS;
  if (!Number.isInteger(max) || max < 0) {
    throw new ConfigError([
      `max-deletions: ${JSON.stringify(max)} is not a whole number of 0 or more; set it to the most manifests one run may delete (default ${DEFAULT_MAX_DELETIONS})`,
    ]);
  }
  const now = options.now ?? (() => new Date());
  const key = (d: { provider: string; repository: string }, digest: string) =>
    `${repositoryKey(d.provider, d.repository)}\u0000${digest}`;

  const verdicts = new Map<Deletion, Verdict>();
  const byKey = new Map<string, Deletion>();
  for (const d of deletions) {
    if (byKey.has(key(d, d.digest))) {
      verdicts.set(d, { ok: false, why: 'listed twice in the plan; taken once' });
      continue;
    }
    byKey.set(key(d, d.digest), d);
    verdicts.set(d, screen(d, deleters, options));
  }
  holdBackDependents(deletions, verdicts, byKey, key);

  const eligible = deletions.filter((d) => verdicts.get(d)?.ok);
  const journal: JournalEntry[] = [];
  const messages: string[] = [];
  const skipped = deletions.filter((d) => !verdicts.get(d)?.ok);
  const held = skipped.filter((d) => !isDuplicate(verdicts.get(d))).length;
  if (held > 0)
    messages.push(
      `${held} planned deletion${held === 1 ? ' was' : 's were'} held back (the journal says why)`,
    );

  if (eligible.length > max) {
    const stopped = `the plan deletes ${eligible.length} manifests, more than max-deletions (${max}): nothing was deleted; check retention-plan.json, then raise max-deletions to at least ${eligible.length} or narrow the rules`;
    for (const d of deletions)
      journal.push(entry(d, 'skipped', { detail: skipWhy(verdicts.get(d)) ?? `not attempted: ${stopped}` }));
    return finish(journal, [stopped, ...messages], stopped);
  }

  for (const d of skipped) journal.push(entry(d, 'skipped', { detail: skipWhy(verdicts.get(d))! }));

  const answers = new Map<string, JournalAnswer>();
  const refusedRegistry = new Map<string, string>();
  const refusedRepository = new Map<string, string>();
  for (const d of order(eligible, byKey, key)) {
    const blocker = d.after
      .map((a) => ({ a, answer: answers.get(key(d, a)) }))
      .find((x) => x.answer !== 'deleted');
    const repoKey = repositoryKey(d.provider, d.repository);
    const refusal = refusedRegistry.get(d.provider) ?? refusedRepository.get(repoKey);
    if (blocker || refusal) {
      const detail = blocker
        ? `not attempted: ${blocker.a} (which must go first) was not deleted (${blocker.answer ?? 'skipped'})`
        : `not asked: ${refusal}`;
      answers.set(key(d, d.digest), 'skipped');
      journal.push(entry(d, 'skipped', { detail }));
      continue;
    }
    const tally: Tally = { requests: 0 };
    let answer: DeleteAnswer;
    try {
      answer = await deleters(d.provider)!.deleteManifest!(d.repository, d.digest, d.tags, tally);
    } catch (err) {
      answer = { outcome: 'failed', message: errorMessage(err) };
    }
    const at = now().toISOString();
    answers.set(key(d, d.digest), answer.outcome);
    if (answer.outcome === 'deleted') {
      journal.push(
        entry(d, 'deleted', {
          at,
          requests: tally.requests,
          ...(answer.note ? { detail: answer.note } : {}),
        }),
      );
      continue;
    }
    journal.push(
      entry(d, answer.outcome, {
        at,
        requests: tally.requests,
        detail: answer.message,
        ...(answer.status !== undefined ? { status: answer.status } : {}),
      }),
    );
    if (answer.outcome === 'refused') {
      if (answer.why === 'unsupported' && !refusedRegistry.has(d.provider)) {
        refusedRegistry.set(d.provider, `${d.provider} refused an earlier delete: ${answer.message}`);
        messages.push(
          `${d.provider}: the registry does not allow deletes, so nothing more was asked of it: ${answer.message}`,
        );
      } else if (answer.why === 'denied' && !refusedRepository.has(repoKey)) {
        refusedRepository.set(repoKey, `${d.repository} refused an earlier delete: ${answer.message}`);
        messages.push(
          `${d.provider} ${d.repository}: delete refused, so nothing more was asked there: ${answer.message}`,
        );
      }
    }
  }
  return finish(journal, messages);
}

function isDuplicate(v: Verdict | undefined): boolean {
  return !!v && !v.ok && v.why.startsWith('listed twice');
}

function skipWhy(v: Verdict | undefined): string | undefined {
  return v && !v.ok ? v.why : undefined;
}

/** Rules 1 and 2 for one deletion on its own. */
function screen(
  d: Deletion,
  deleters: (provider: string) => Deleter | undefined,
  options: ApplyOptions,
): Verdict {
  const problem = options.incomplete?.get(repositoryKey(d.provider, d.repository));
  if (problem !== undefined) {
    return {
      ok: false,
      why: `discovery of ${d.repository} was incomplete (${problem}): nothing in it is deleted`,
    };
  }
  if (!DIGEST.test(d.digest))
    return { ok: false, why: `${JSON.stringify(d.digest)} is not a manifest digest` };
  const protectedWhy = options.protect?.get(d.digest);
  if (protectedWhy !== undefined) return { ok: false, why: `protected: ${protectedWhy}` };
  if (!deleters(d.provider)?.deleteManifest) {
    return { ok: false, why: `${d.provider} has no delete path in this tool` };
  }
  return { ok: true };
}

/**
 * A manifest whose index or subject is not deleted in this run stays, whatever its own rule said:
 * an index's children go only with the index, referrers only after their subject. Repeated until
 * nothing changes, as holding one back can hold back what waits on it.
 */
function holdBackDependents(
  deletions: readonly Deletion[],
  verdicts: Map<Deletion, Verdict>,
  byKey: ReadonlyMap<string, Deletion>,
  key: (d: Deletion, digest: string) => string,
): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const d of deletions) {
      if (!verdicts.get(d)?.ok) continue;
      for (const a of d.after) {
        const first = byKey.get(key(d, a));
        const why =
          a === d.digest
            ? 'it is listed as having to go before itself'
            : !first
              ? `${a}, which must go first, is not deleted by this plan`
              : verdicts.get(first)?.ok
                ? undefined
                : `${a}, which must go first, is held back (${skipWhy(verdicts.get(first))})`;
        if (why) {
          verdicts.set(d, { ok: false, why });
          changed = true;
          break;
        }
      }
    }
  }
}

/**
 * Rule 4: every deletion after the ones it names, otherwise in plan order. Constraints that loop
 * are impossible for manifests (a digest cannot contain itself), so a loop in the plan is a planner
 * fault: what is left is taken in plan order and its `after` check keeps it safe.
 */
function order(
  eligible: readonly Deletion[],
  byKey: ReadonlyMap<string, Deletion>,
  key: (d: Deletion, digest: string) => string,
): Deletion[] {
  const placed = new Set<Deletion>();
  const out: Deletion[] = [];
  const visiting = new Set<Deletion>();
  const visit = (d: Deletion) => {
    if (placed.has(d) || visiting.has(d)) return;
    visiting.add(d);
    for (const a of d.after) {
      const first = byKey.get(key(d, a));
      if (first) visit(first);
    }
    visiting.delete(d);
    placed.add(d);
    out.push(d);
  };
  for (const d of eligible) visit(d);
  return out;
}

function entry(
  d: Deletion,
  answer: JournalAnswer,
  extra: { detail?: string; status?: number; at?: string; requests?: number },
): JournalEntry {
  return {
    provider: d.provider,
    repository: d.repository,
    digest: d.digest,
    tags: [...d.tags],
    bytes: d.bytes,
    reason: d.reason,
    answer,
    ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
    ...(extra.status !== undefined ? { status: extra.status } : {}),
    ...(extra.at !== undefined ? { at: extra.at } : {}),
    requests: extra.requests ?? 0,
  };
}

function finish(journal: JournalEntry[], messages: string[], stopped?: string): ApplyResult {
  const counts: Record<JournalAnswer, number> = { deleted: 0, refused: 0, failed: 0, skipped: 0 };
  let bytesDeleted = 0;
  for (const e of journal) {
    counts[e.answer]++;
    if (e.answer === 'deleted') bytesDeleted += e.bytes;
  }
  return { journal, counts, bytesDeleted, messages, ...(stopped ? { stopped } : {}) };
}
