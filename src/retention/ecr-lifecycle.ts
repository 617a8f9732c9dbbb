// An Amazon ECR lifecycle policy, read and evaluated the way AWS documents it (userguide pages
// "Automate the cleanup of images by using lifecycle policies", "Lifecycle policy properties" and
// "Examples of lifecycle policies"), so a team sees what its policy will expire or archive before
// ECR does. Pure: the images come from the ECR listing discovery already made.
import { z } from 'zod';
import { didYouMean } from '../config/did-you-mean.js';
import type { LifecycleImage } from '../model/discovery.js';

export type { LifecycleImage };

export const TAG_STATUSES = ['tagged', 'untagged', 'any'] as const;
export const COUNT_TYPES = [
  'imageCountMoreThan',
  'sinceImagePushed',
  'sinceImagePulled',
  'sinceImageTransitioned',
] as const;
export const STORAGE_CLASSES = ['standard', 'archive'] as const;
export const ACTION_TYPES = ['expire', 'transition'] as const;

export type TagStatus = (typeof TAG_STATUSES)[number];
export type CountType = (typeof COUNT_TYPES)[number];
export type StorageClass = (typeof STORAGE_CLASSES)[number];

/** AWS refuses a tagPatternList entry with more wildcards than this. */
export const MAX_PATTERN_WILDCARDS = 4;
/** Archived images have a minimum storage duration; AWS refuses rules that expire them sooner. */
export const MIN_ARCHIVE_DAYS = 90;

const DAY_MS = 86_400_000;
const AGE_COUNTS: readonly CountType[] = ['sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'];

const SelectionSchema = z.strictObject({
  tagStatus: z.enum(TAG_STATUSES),
  tagPatternList: z.array(z.string().min(1)).min(1).optional(),
  tagPrefixList: z.array(z.string().min(1)).min(1).optional(),
  storageClass: z.enum(STORAGE_CLASSES).optional(),
  countType: z.enum(COUNT_TYPES),
  countUnit: z.enum(['days']).optional(),
  countNumber: z.number().int().positive(),
});

const ActionSchema = z.strictObject({
  type: z.enum(ACTION_TYPES),
  targetStorageClass: z.enum(['archive']).optional(),
});

const RuleSchema = z
  .strictObject({
    rulePriority: z.number().int().positive(),
    description: z.string().optional(),
    selection: SelectionSchema,
    action: ActionSchema,
  })
  .superRefine((rule, ctx) => {
    for (const [path, message] of ruleProblems(rule)) ctx.addIssue({ code: 'custom', path, message });
  });

const PolicySchema = z
  .strictObject({ rules: z.array(RuleSchema).min(1, 'needs at least one rule') })
  .superRefine((policy, ctx) => {
    for (const [path, message] of policyProblems(policy.rules))
      ctx.addIssue({ code: 'custom', path, message });
  });

export type LifecycleRule = z.infer<typeof RuleSchema>;
export type LifecyclePolicy = z.infer<typeof PolicySchema>;

type Problem = [path: PropertyKey[], message: string];

/** The checks AWS documents between the fields of one rule. */
function ruleProblems(rule: LifecycleRule): Problem[] {
  const { selection: s, action } = rule;
  const out: Problem[] = [];
  const lists = (['tagPatternList', 'tagPrefixList'] as const).filter((k) => s[k] !== undefined);
  if (s.tagStatus === 'tagged' && lists.length === 0)
    out.push([
      ['selection', 'tagStatus'],
      '"tagged" needs the tags to select: add tagPatternList (wildcards, e.g. ["prod*"]) or tagPrefixList (e.g. ["prod"])',
    ]);
  if (s.tagStatus === 'tagged' && lists.length === 2)
    out.push([
      ['selection', 'tagPrefixList'],
      'a rule takes tagPatternList or tagPrefixList, not both; keep one here (another rule may use the other)',
    ]);
  if (s.tagStatus !== 'tagged')
    for (const k of lists)
      out.push([
        ['selection', k],
        `only used with tagStatus "tagged" (this rule has "${s.tagStatus}"); remove it, or set tagStatus to "tagged"`,
      ]);
  s.tagPatternList?.forEach((pattern, i) => {
    const wildcards = pattern.split('*').length - 1;
    if (wildcards > MAX_PATTERN_WILDCARDS)
      out.push([
        ['selection', 'tagPatternList', i],
        `${JSON.stringify(pattern)} has ${wildcards} wildcards (*); AWS allows at most ${MAX_PATTERN_WILDCARDS} per pattern`,
      ]);
  });

  const ageCount = AGE_COUNTS.includes(s.countType);
  if (ageCount && s.countUnit === undefined)
    out.push([
      ['selection', 'countUnit'],
      `missing; countType ${s.countType} counts days: add "countUnit": "days"`,
    ]);
  if (!ageCount && s.countUnit !== undefined)
    out.push([
      ['selection', 'countUnit'],
      `only used with countType sinceImagePushed, sinceImagePulled or sinceImageTransitioned (this rule has ${s.countType}); remove it`,
    ]);

  if (s.countType === 'sinceImageTransitioned') {
    if (s.storageClass !== 'archive')
      out.push([
        ['selection', 'storageClass'],
        `countType sinceImageTransitioned selects archived images: set "storageClass": "archive"`,
      ]);
    if (action.type !== 'expire')
      out.push([
        ['action', 'type'],
        'countType sinceImageTransitioned can only expire: set "type": "expire"',
      ]);
    if (s.countNumber < MIN_ARCHIVE_DAYS)
      out.push([
        ['selection', 'countNumber'],
        `${s.countNumber} days is less than the ${MIN_ARCHIVE_DAYS}-day minimum an image stays in archive; use ${MIN_ARCHIVE_DAYS} or more`,
      ]);
  } else if (s.storageClass === 'archive') {
    out.push([
      ['selection', 'storageClass'],
      `"archive" is only used with countType sinceImageTransitioned (this rule has ${s.countType}); remove it or set it to "standard"`,
    ]);
  }
  if (s.countType === 'sinceImagePulled' && action.type !== 'transition')
    out.push([
      ['action', 'type'],
      'countType sinceImagePulled can only archive: set "type": "transition" with "targetStorageClass": "archive"; to delete by pull time, archive with this rule and expire with a sinceImageTransitioned rule',
    ]);
  if (action.type === 'transition' && action.targetStorageClass === undefined)
    out.push([
      ['action', 'targetStorageClass'],
      'missing; "transition" needs "targetStorageClass": "archive"',
    ]);
  return out;
}

/** The checks AWS documents across the rules of a policy. */
function policyProblems(rules: readonly LifecycleRule[]): Problem[] {
  const out: Problem[] = [];
  const firstWithPriority = new Map<number, number>();
  rules.forEach((rule, i) => {
    const other = firstWithPriority.get(rule.rulePriority);
    if (other === undefined) firstWithPriority.set(rule.rulePriority, i);
    else
      out.push([
        ['rules', i, 'rulePriority'],
        `${rule.rulePriority} is also the rulePriority of rules[${other}]; give each rule its own`,
      ]);
  });
  // Rules of one storage class see only that class's images, so AWS checks each class apart.
  for (const storageClass of STORAGE_CLASSES) {
    const inClass = rules
      .map((rule, i) => ({ rule, i }))
      .filter(({ rule }) => classOf(rule) === storageClass);
    const highest = Math.max(...inClass.map(({ rule }) => rule.rulePriority));
    let untagged: number | undefined;
    const prefixSets = new Map<string, number>();
    for (const { rule, i } of inClass) {
      const s = rule.selection;
      if (s.tagStatus === 'any' && rule.rulePriority !== highest) {
        const later = inClass.find(({ rule: r }) => r.rulePriority === highest)!;
        out.push([
          ['rules', i, 'selection', 'tagStatus'],
          `a rule with "any" must have the highest rulePriority of the ${storageClass} rules (it is evaluated last), but rules[${later.i}] has ${highest}; raise this rule's rulePriority above it`,
        ]);
      }
      if (s.tagStatus === 'untagged') {
        if (untagged === undefined) untagged = i;
        else
          out.push([
            ['rules', i, 'selection', 'tagStatus'],
            `only one rule per storage class may select untagged images, and rules[${untagged}] already does (${storageClass}); merge the two rules`,
          ]);
      }
      if (s.tagPrefixList) {
        const key = JSON.stringify([...new Set(s.tagPrefixList)].sort());
        const other = prefixSets.get(key);
        if (other === undefined) prefixSets.set(key, i);
        else
          out.push([
            ['rules', i, 'selection', 'tagPrefixList'],
            `the same prefixes as rules[${other}]; the ${storageClass} rules must each have a unique set of prefixes, so merge the two rules`,
          ]);
      }
    }
  }
  return out;
}

function classOf(rule: LifecycleRule): StorageClass {
  return rule.selection.storageClass ?? 'standard';
}

/**
 * Reads a lifecycle policy document: the object, or its JSON text (as `aws ecr
 * get-lifecycle-policy` prints it in lifecyclePolicyText). Every problem is reported at once,
 * each naming its field under `field`.
 */
export function parseLifecyclePolicy(
  doc: unknown,
  field: string,
): { policy: LifecyclePolicy } | { errors: string[] } {
  let value = doc;
  if (typeof doc === 'string') {
    try {
      value = JSON.parse(doc);
    } catch (e) {
      return {
        errors: [
          `${field}: not valid JSON (${(e as Error).message}); give the policy document as AWS prints it, e.g. {"rules": [...]}`,
        ],
      };
    }
  }
  const parsed = PolicySchema.safeParse(value, { reportInput: true });
  if (parsed.success) return { policy: parsed.data };
  return { errors: parsed.error.issues.flatMap((issue) => issueMessages(field, issue)) };
}

const KNOWN_KEYS: Record<string, readonly string[]> = {
  policy: ['rules'],
  rule: ['rulePriority', 'description', 'selection', 'action'],
  selection: Object.keys(SelectionSchema.shape),
  action: Object.keys(ActionSchema.shape),
};

function knownKeys(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return KNOWN_KEYS.policy!;
  const last = path[path.length - 1];
  if (typeof last === 'number') return KNOWN_KEYS.rule!;
  return KNOWN_KEYS[String(last)] ?? [];
}

function pathText(field: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : `${out}.${String(part)}`),
    field,
  );
}

/** A value for a message, cut short so a long string is not echoed whole. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 60)}…" (${text.length} characters)` : text;
}

function issueMessages(field: string, issue: z.core.$ZodIssue): string | string[] {
  const at = pathText(field, issue.path);
  if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value'))
    return `${at}: missing; add it`;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const known = knownKeys(issue.path);
        // A key written without its List suffix (tagPrefix) is too far for edit distance alone.
        const hint =
          didYouMean(key, known) ??
          (key.length >= 4 ? known.find((k) => k.toLowerCase().startsWith(key.toLowerCase())) : undefined);
        return `${pathText(field, [...issue.path, key])}: not a lifecycle policy key; ${hint ? `did you mean ${hint}?` : `known keys here: ${known.join(', ')}`}`;
      });
    case 'invalid_type':
      return `${at}: expected ${issue.expected === 'int' ? 'a whole number' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, got ${quote(issue.input)}`;
    case 'invalid_value': {
      const hint =
        typeof issue.input === 'string' ? didYouMean(issue.input, issue.values.map(String)) : undefined;
      return `${at}: ${quote(issue.input)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}`;
    }
    case 'too_small':
      if (issue.origin === 'array')
        return `${at}: ${issue.message.startsWith('Too small') ? 'must not be empty' : issue.message}`;
      if (issue.origin === 'string') return `${at}: must not be empty`;
      return `${at}: ${quote(issue.input)} is not accepted; use a positive whole number (1 or more)`;
    default:
      return `${at}: ${issue.message}`;
  }
}

/** An image the policy acts on, and why. */
export interface LifecycleDecision {
  digest: string;
  tags: string[];
  rulePriority: number;
  description?: string;
  reason: string;
}

/** An image a rule selected but does not act on, and why. */
export interface LifecycleKept {
  digest: string;
  tags: string[];
  rulePriority: number;
  reason: string;
}

export interface LifecycleEvaluation {
  /** Deleted by ECR: the rule's order (priority, then oldest first), then referrers of what goes. */
  expired: LifecycleDecision[];
  /** Moved to the archive storage class by transition rules. */
  archived: LifecycleDecision[];
  /** Per rule, what it selected and keeps. */
  kept: LifecycleKept[];
}

/** A decision, and whether it deletes the image or moves it to archive. */
interface Acted {
  action: 'expire' | 'transition';
  decision: LifecycleDecision;
}

interface Timed {
  image: LifecycleImage;
  /** pushed_at_time, or last_activated_at for an image restored from archive. */
  pushed: number;
}

/**
 * What ECR would do to these images under this policy at `now`. The rules are applied in
 * rulePriority order; each counts every image its selection matches, as if nothing had been
 * expired yet (an image a manifest list references counts as part of the list), but acts only on
 * images no higher-priority rule matched, so an image is acted on by at most one rule.
 * lastRecordedPullTime is what ECR recorded, and ECR records it with up to
 * a day's delay, so a sinceImagePulled preview can lag a recent pull.
 */
export function evaluateLifecyclePolicy(
  policy: LifecyclePolicy,
  images: readonly LifecycleImage[],
  now: Date,
): LifecycleEvaluation {
  const timed: Timed[] = images.map((image) => ({
    image,
    pushed:
      image.lastActivatedAt === undefined
        ? time(image.pushedAt, image.digest, 'pushedAt')
        : time(image.lastActivatedAt, image.digest, 'lastActivatedAt'),
  }));
  const acted = new Map<string, Acted>();
  const matchedBy = new Map<string, number>();
  const kept: LifecycleKept[] = [];
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const holders = manifestListsOf(images);

  for (const rule of rules) {
    const selected = timed
      .filter((t) => (t.image.storageClass ?? 'standard') === classOf(rule) && tagsMatch(rule, t.image.tags))
      // Newest first; ties by digest so the same listing always gives the same preview.
      .sort((a, b) => b.pushed - a.pushed || (a.image.digest < b.image.digest ? -1 : 1));
    // An image a manifest list references is part of that list, not an image of its own: it
    // takes no place in a count (eight multi-arch images are eight, not eight times their
    // platforms), and a count never expires it by itself.
    const rank = new Map(
      selected.filter((t) => !holders.has(t.image.digest)).map((t, i) => [t.image.digest, i] as const),
    );
    const verdicts = selected.map((t) => ({ t, ...verdict(rule, t, rank.get(t.image.digest), now) }));
    // Oldest first: "always expires older images before newer ones".
    for (const { t, go, why } of verdicts.reverse()) {
      const { digest, tags } = t.image;
      const first = matchedBy.get(digest);
      if (acted.has(digest)) {
        // A higher-priority rule acts on it; this rule only counted it.
      } else if (go && first !== undefined) {
        kept.push({
          digest,
          tags,
          rulePriority: rule.rulePriority,
          reason: `${why}, but rule ${first} selected it first and only that rule may act on it`,
        });
      } else if (!go) {
        kept.push({ digest, tags, rulePriority: rule.rulePriority, reason: why });
      } else {
        acted.set(digest, {
          action: rule.action.type,
          decision: {
            digest,
            tags,
            rulePriority: rule.rulePriority,
            ...(rule.description !== undefined ? { description: rule.description } : {}),
            reason: why,
          },
        });
      }
    }
    for (const t of selected)
      if (!matchedBy.has(t.image.digest)) matchedBy.set(t.image.digest, rule.rulePriority);
  }

  // A referrer that follows its subject may itself sit in a manifest list that stays (BuildKit
  // attestations do), and one held back takes its own referrers with it: settle both together.
  const held = new Set<string>();
  while (holdForManifestLists(acted, holders, kept, held) || followSubjects(images, acted, held)) {
    // Until neither pass changes anything. A held image is never taken again, so this ends.
  }

  const out: LifecycleEvaluation = { expired: [], archived: [], kept };
  for (const { action, decision } of inDependencyOrder(acted, holders, images))
    (action === 'expire' ? out.expired : out.archived).push(decision);
  return out;
}

/**
 * The decisions with every manifest list before the images it references and every subject
 * before its referrers, as ECR acts on them (and as a deletion that stops halfway must, to leave
 * no list or subject with parts missing); otherwise in the order they were made.
 */
function inDependencyOrder(
  acted: Map<string, Acted>,
  holders: Map<string, string[]>,
  images: readonly LifecycleImage[],
): Acted[] {
  const subjectOf = new Map(
    images.flatMap((i) => (i.subject === undefined ? [] : [[i.digest, i.subject] as const])),
  );
  const out: Acted[] = [];
  const visited = new Set<string>();
  const visit = (digest: string) => {
    const entry = acted.get(digest);
    if (entry === undefined || visited.has(digest)) return;
    visited.add(digest);
    const lists = (holders.get(digest) ?? []).filter((list) => acted.has(list));
    const subject = subjectOf.get(digest);
    for (const first of subject === undefined ? lists : [...lists, subject]) visit(first);
    out.push(
      lists.length === 0
        ? entry
        : {
            ...entry,
            decision: {
              ...entry.decision,
              reason: `${entry.decision.reason}, after manifest list ${lists.join(', ')}`,
            },
          },
    );
  };
  for (const digest of acted.keys()) visit(digest);
  return out;
}

/**
 * Whether a rule's selection would act on the image at `rank` (0 = newest; none for an image a
 * manifest list references, which the count leaves to its list), and why.
 */
function verdict(
  rule: LifecycleRule,
  t: Timed,
  rank: number | undefined,
  now: Date,
): { go: boolean; why: string } {
  const { countType, countNumber: n } = rule.selection;
  const days = (at: number) => Math.floor((now.getTime() - at) / DAY_MS);
  const older = (at: number) => now.getTime() - at > n * DAY_MS;
  switch (countType) {
    case 'imageCountMoreThan':
      if (rank === undefined)
        return {
          go: false,
          why: `imageCountMoreThan ${n}: part of an image index, so it counts with the index that references it, not on its own`,
        };
      return rank >= n
        ? { go: true, why: `imageCountMoreThan ${n}: number ${rank + 1} by push time, newest first` }
        : { go: false, why: `imageCountMoreThan ${n}: among the newest ${n}` };
    case 'sinceImagePushed':
      return { go: older(t.pushed), why: `sinceImagePushed ${n} days: pushed ${days(t.pushed)} days ago` };
    case 'sinceImagePulled': {
      const { at, what } = lastUse(t);
      return { go: older(at), why: `sinceImagePulled ${n} days: ${what} ${days(at)} days ago` };
    }
    case 'sinceImageTransitioned': {
      if (t.image.lastArchivedAt === undefined)
        return { go: false, why: 'sinceImageTransitioned: the listing gave no archive time, so it stays' };
      const at = time(t.image.lastArchivedAt, t.image.digest, 'lastArchivedAt');
      return { go: older(at), why: `sinceImageTransitioned ${n} days: archived ${days(at)} days ago` };
    }
  }
}

/**
 * The time sinceImagePulled counts from: the last recorded pull; for an image restored from
 * archive and not pulled since, the restore; for an image never pulled, the push.
 */
function lastUse(t: Timed): { at: number; what: string } {
  const { image } = t;
  const pulled =
    image.lastPulledAt === undefined ? undefined : time(image.lastPulledAt, image.digest, 'lastPulledAt');
  if (image.lastActivatedAt !== undefined) {
    const restored = time(image.lastActivatedAt, image.digest, 'lastActivatedAt');
    if (pulled === undefined || pulled < restored)
      return { at: restored, what: 'restored from archive, not pulled since,' };
  }
  if (pulled !== undefined) return { at: pulled, what: 'last pulled' };
  return { at: t.pushed, what: 'never pulled; pushed' };
}

/** Whether the image's tags meet the rule's tagStatus and every prefix or pattern it lists. */
export function tagsMatch(rule: LifecycleRule, tags: readonly string[]): boolean {
  const s = rule.selection;
  if (s.tagStatus === 'any') return true;
  if (s.tagStatus === 'untagged') return tags.length === 0;
  if (tags.length === 0) return false;
  if (s.tagPrefixList) return s.tagPrefixList.every((prefix) => tags.some((tag) => tag.startsWith(prefix)));
  return (s.tagPatternList ?? []).every((pattern) => tags.some((tag) => wildcardMatch(pattern, tag)));
}

/** A whole-tag match where `*` stands for any run of characters, empty included. */
export function wildcardMatch(pattern: string, tag: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === tag;
  const head = parts[0]!;
  const tail = parts[parts.length - 1]!;
  if (tag.length < head.length + tail.length || !tag.startsWith(head) || !tag.endsWith(tail)) return false;
  const end = tag.length - tail.length;
  let at = head.length;
  // The earliest place for each middle part leaves the most room for the next: no backtracking.
  for (const part of parts.slice(1, -1)) {
    const found = tag.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/** For each image, the manifest lists that reference it. */
function manifestListsOf(images: readonly LifecycleImage[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const image of images)
    for (const child of image.children ?? []) out.set(child, [...(out.get(child) ?? []), image.digest]);
  return out;
}

/**
 * ECR does not expire or archive an image a manifest list references until the list itself is
 * expired or archived. A child whose lists all go goes after them; one whose list stays is kept,
 * and named as such. One pass; whether it changed anything.
 */
function holdForManifestLists(
  acted: Map<string, Acted>,
  holders: Map<string, string[]>,
  kept: LifecycleKept[],
  held: Set<string>,
): boolean {
  let changed = false;
  for (const [digest, { action, decision }] of acted) {
    const staying = (holders.get(digest) ?? []).filter((list) => {
      const fate = acted.get(list)?.action;
      return fate === undefined || (action === 'expire' && fate === 'transition');
    });
    if (staying.length === 0) continue;
    acted.delete(digest);
    held.add(digest);
    kept.push({
      digest,
      tags: decision.tags,
      rulePriority: decision.rulePriority,
      reason: `${decision.reason}, but manifest list ${staying.join(', ')} references it and stays`,
    });
    changed = true;
  }
  return changed;
}

/** Referrers go with their subject: ECR expires or archives them once the subject goes. One pass. */
function followSubjects(
  images: readonly LifecycleImage[],
  acted: Map<string, Acted>,
  held: ReadonlySet<string>,
): boolean {
  let changed = false;
  for (const image of images) {
    if (image.subject === undefined || acted.has(image.digest) || held.has(image.digest)) continue;
    const subject = acted.get(image.subject);
    if (subject === undefined) continue;
    acted.set(image.digest, {
      action: subject.action,
      decision: {
        digest: image.digest,
        tags: image.tags,
        rulePriority: subject.decision.rulePriority,
        ...(subject.decision.description !== undefined ? { description: subject.decision.description } : {}),
        reason: `its subject ${image.subject} ${subject.action === 'expire' ? 'expires' : 'is archived'}, and ECR takes referrers with it`,
      },
    });
    changed = true;
  }
  return changed;
}

function time(text: string, digest: string, field: string): number {
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new TypeError(`image ${digest}: ${field} ${JSON.stringify(text)} is not a time`);
  return at;
}
