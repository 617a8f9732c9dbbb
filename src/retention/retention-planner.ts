// The retention plans of one run: each repository whose selector has `retention:` is planned as it
// is discovered (its inventory is at hand then and dropped after), and the plans are gathered for
// retention-plan.json, the summary and the outputs.
import { selectorFor } from '../config/select.js';
import type { ProviderSettings, RetentionRules } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { type Deletion as ApplyDeletion, type ApplyResult, mustGoFirst, repositoryKey } from './apply.js';
import {
  evaluateLifecyclePolicy,
  type LifecycleDecision,
  type LifecycleImage,
  type LifecyclePolicy,
  parseLifecyclePolicy,
} from './ecr-lifecycle.js';
import { type DevgraphInUse, type InUse, inUseReasons } from './in-use.js';
import type { InventoryTag, RepositoryInventory } from './inventory.js';
import { planRetention, type RetentionPlan } from './plan.js';

export interface RetentionReport {
  /** One per planned repository, by provider and repository (comparePlans). */
  plans: RetentionPlan[];
  deletions: number;
  reclaimable_bytes: number;
  /** Repositories left without a plan (incomplete or partly read), each plan saying why. */
  skipped: number;
  /** With retention apply: what was asked of the registries, and their answers. */
  applied?: ApplyResult;
}

/** What applyPlan needs of the run's plans: the deletions in its shape, and what it must not touch. */
export interface ApplyInput {
  deletions: ApplyDeletion[];
  protect: Map<string, string>;
  incomplete: Map<string, string>;
}

export class RetentionPlanner {
  private readonly plans: RetentionPlan[] = [];
  private readonly apply: ApplyInput = { deletions: [], protect: new Map(), incomplete: new Map() };
  /** Each selector's lifecycle policy, read once when the run starts. */
  private readonly policies = new Map<RetentionRules, LifecyclePolicy>();

  /**
   * Reads every selector's `ecr_lifecycle_policy` before anything is discovered, so a broken
   * policy stops the run at its start like any other config error, naming its field.
   */
  constructor(
    providers: readonly ProviderSettings[],
    private readonly inUse: InUse | undefined,
    private readonly now: Date,
    /** What Devgraph says is in use; undefined when Devgraph is not configured. */
    private readonly devgraph?: DevgraphInUse,
  ) {
    const problems: string[] = [];
    for (const [i, p] of providers.entries()) {
      for (const [j, s] of p.selectors.entries()) {
        const doc = s.retention?.ecrLifecyclePolicy;
        if (doc === undefined) continue;
        const parsed = parseLifecyclePolicy(
          doc,
          `providers[${i}].config.selectors[${j}].retention.ecr_lifecycle_policy`,
        );
        if ('errors' in parsed) problems.push(...parsed.errors);
        else this.policies.set(s.retention!, parsed.policy);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /** Whether any selector has `retention:`: only then is there a plan to write. */
  static wanted(providers: readonly ProviderSettings[]): boolean {
    return providers.some((p) => p.selectors.some((s) => s.retention));
  }

  /** Whether any selector's retention protects what is in use: only then is Devgraph asked. */
  static protectsInUse(providers: readonly ProviderSettings[]): boolean {
    return providers.some((p) => p.selectors.some((s) => s.retention?.protectInUse));
  }

  /**
   * Plans one repository. `listed` is the registry listing's own image rows where it gives them
   * (ECR DescribeImages: RepositoryResult.lifecycleImages): an ECR lifecycle preview reads those,
   * as AWS does, rather than the times discovery kept. Returns how many deletions it plans there.
   */
  add(
    provider: ProviderSettings,
    inventory: RepositoryInventory,
    listed?: readonly LifecycleImage[],
  ): number {
    const rules = selectorFor(inventory.repository, provider.selectors)?.retention;
    if (!rules) return 0;
    const protect = rules.protectInUse
      ? inUseReasons(this.inUse, this.devgraph, inventory)
      : new Map<string, string[]>();
    const policy = this.policies.get(rules);
    const lifecycle = policy
      ? evaluateLifecyclePolicy(
          policy,
          listed ? fromListing(listed, inventory) : fromInventory(inventory),
          this.now,
        )
      : undefined;
    const expired = lifecycle && new Map(lifecycle.expired.map((d) => [d.digest, lifecycleReason(d)]));
    let plan = planRetention(inventory, rules, protect, this.now, expired);
    // Devgraph unread: any digest may be in use there, so nothing here may go on this run's word.
    if (rules.protectInUse && this.devgraph && 'unreadable' in this.devgraph && !plan.skipped)
      plan = {
        ...plan,
        deletions: [],
        protected: [],
        blast_radius: [],
        reclaimable_bytes: 0,
        skipped: `Devgraph could not be read (${this.devgraph.unreadable}), so what is in use there is unknown: nothing is planned for deletion where protect_in_use is on; run again when Devgraph answers`,
      };
    // The plan keeps what ECR will not: a signature whose image stays, an image in use. AWS
    // expires it all the same, and the preview must say so rather than show it safe.
    if (!plan.skipped && expired)
      for (const p of plan.protected)
        if (expired.has(p.digest))
          plan.notes.push(
            `${expired.get(p.digest)}: ECR will expire ${p.digest}${p.tags.length > 0 ? ` (${p.tags.join(', ')})` : ''} although this plan keeps it (${p.why.map((w) => w.detail).join('; ')}); a rule of higher priority that selects it and keeps it would save it`,
          );
    // Archiving deletes nothing, so it is no deletion of the plan; it is still what the policy
    // will do to these images, and the preview says so.
    if (!plan.skipped)
      for (const d of lifecycle?.archived ?? [])
        plan.notes.push(
          `${lifecycleReason(d)}: moves ${d.digest}${d.tags.length > 0 ? ` (${d.tags.join(', ')})` : ''} to the archive storage class`,
        );
    this.plans.push(plan);
    // The order constraints come from the inventory, while it is at hand: a child waits for its
    // index, an accessory for its subject.
    for (const d of plan.deletions)
      this.apply.deletions.push({
        provider: inventory.provider,
        repository: inventory.repository,
        digest: d.digest,
        tags: d.tags,
        reason: d.reason,
        bytes: d.bytes_reclaimed,
        role: d.role,
        after: mustGoFirst(inventory, d.digest),
      });
    for (const [digest, why] of protect) this.apply.protect.set(digest, why[0]!);
    for (const p of plan.protected)
      if (!this.apply.protect.has(p.digest)) this.apply.protect.set(p.digest, 'protected by the plan');
    if (!inventory.complete)
      this.apply.incomplete.set(
        repositoryKey(inventory.provider, inventory.repository),
        plan.skipped ?? 'incomplete',
      );
    return plan.deletions.length;
  }

  /** The run's deletions for applyPlan, with what must not be deleted. */
  applyInput(): ApplyInput {
    return this.apply;
  }

  report(): RetentionReport {
    // Sorted, not in the order discovery finished them: the same registry gives the same file,
    // and a merge of shards' plans gives the unsharded one.
    this.plans.sort(comparePlans);
    return {
      plans: this.plans,
      deletions: this.plans.reduce((n, p) => n + p.deletions.length, 0),
      reclaimable_bytes: this.plans.reduce((n, p) => n + p.reclaimable_bytes, 0),
      skipped: this.plans.filter((p) => p.skipped).length,
    };
  }
}

/** The order of a report's plans: by provider, then repository. */
export function comparePlans(a: RetentionPlan, b: RetentionPlan): number {
  return cmp(a.provider, b.provider) || cmp(a.repository, b.repository);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A lifecycle decision as the plan words it: the rule, then why. */
function lifecycleReason(d: LifecycleDecision): string {
  return `ECR lifecycle rule ${d.rulePriority}: ${d.reason}`;
}

/**
 * The images as the registry listed them, tagged and untagged, with each manifest list's
 * children from the manifests discovery read (the listing does not name them). A cosign tag
 * (`sha256-<hex>.sig`) is a tag like any other to ECR: its rules count and expire those images
 * too (users keep them with a `sha256-` prefix rule), so the preview leaves them in.
 */
function fromListing(listed: readonly LifecycleImage[], inventory: RepositoryInventory): LifecycleImage[] {
  return listed.map((row) => {
    const children = inventory.manifests.get(row.digest)?.children ?? [];
    return children.length > 0 ? { ...row, children } : row;
  });
}

/**
 * Where the registry gives no rows, the images as discovery left them: a digest with its tags
 * (accessory tags included, as in fromListing) or an untagged manifest the registry listed, dated
 * by push or created time; one that cannot be timed is left out.
 */
function fromInventory(inventory: RepositoryInventory): LifecycleImage[] {
  // Tags by digest, with the first one's dates.
  const tagsOf = new Map<string, { tags: string[]; first: InventoryTag }>();
  for (const t of inventory.tags) {
    const known = tagsOf.get(t.digest);
    if (known) known.tags.push(t.tag);
    else tagsOf.set(t.digest, { tags: [t.tag], first: t });
  }
  const images: LifecycleImage[] = [];
  // A manifest discovery read may be listed as untagged too (an index's platforms): one image.
  const seen = new Set<string>();
  for (const m of [...inventory.manifests.values(), ...(inventory.untagged ?? [])]) {
    if (seen.has(m.digest)) continue;
    seen.add(m.digest);
    const tagged = tagsOf.get(m.digest);
    const tags = tagged?.tags ?? [];
    const pushedAt = m.pushedAt ?? tagged?.first.pushedAt ?? m.created ?? tagged?.first.created;
    if (!pushedAt || (tags.length === 0 && m.role !== 'image' && m.role !== 'index')) continue;
    images.push({
      digest: m.digest,
      tags,
      pushedAt,
      ...(m.children.length > 0 ? { children: m.children } : {}),
      ...(m.subjects[0] ? { subject: m.subjects[0] } : {}),
    });
  }
  return images;
}
