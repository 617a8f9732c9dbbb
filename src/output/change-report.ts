// The change report in the forms people read it: a Markdown section for the job summary and
// summary.md, JSON values for the step outputs and changes.json, and the immutable-tags guard's
// verdict. Pure.
import { compileLinear, type Pattern } from '../config/pattern.js';
import { type GraphChanges, hasChanges, type MovedTag, type RepositoryRef } from '../graph/diff.js';
import { boundedJsonArray, type OutputCut, outputCut } from './bounded-json.js';
import { escapeMarkdown } from './summary-markdown.js';

export const CHANGES_HEADING = '## Changes since last inventory';

/** Lines per list in the Markdown; changes.json and graph.json always carry every item. */
const LIST_LIMIT = 100;

const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** A registry-supplied digest: in a code span when it looks like one, escaped text otherwise. */
function digestText(digest: string, short: boolean): string {
  if (!DIGEST_RE.test(digest)) return escapeMarkdown(digest);
  if (!short) return `\`${digest}\``;
  const [algorithm, hex] = digest.split(':') as [string, string];
  return `\`${algorithm === 'sha256' ? '' : `${algorithm}:`}${hex.slice(0, 12)}\``;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * One line for the summary's notes when a comparison found no section's worth: a first run, or
 * nothing changed. Said out loud, so a PR check's silence is never mistaken for either.
 */
export function renderChangeNote(changes: GraphChanges | undefined): string | undefined {
  if (!changes) return undefined;
  if (changes.firstRun)
    return 'Changes: first inventory, there is no previous graph to compare with; the next run reports what changed since this one.';
  if (hasChanges(changes) || changes.unverified.length + changes.firstSeen.length > 0) return undefined;
  return `Changes: none since the inventory of ${escapeMarkdown(changes.previousGeneratedAt ?? 'the previous run')}.`;
}

/**
 * The Markdown section that opens the summary, or undefined when there is nothing to list (no
 * comparison, a first run, or nothing changed and nothing went unverified).
 */
export function renderChangeReport(changes: GraphChanges | undefined): string | undefined {
  if (!changes || changes.firstRun) return undefined;
  if (!hasChanges(changes) && changes.unverified.length + changes.firstSeen.length === 0) return undefined;

  const providers = new Set(
    [
      ...changes.newRepositories,
      ...changes.removedRepositories,
      ...changes.newTags,
      ...changes.movedTags,
      ...changes.removedTags,
      ...changes.newPlatforms,
      ...changes.unverified,
      ...changes.firstSeen,
    ].map((r) => r.provider),
  );
  // The provider is named only when it tells two lists apart.
  const where = (r: RepositoryRef, tag?: string) =>
    `${providers.size > 1 ? `${escapeMarkdown(r.provider)} / ` : ''}${escapeMarkdown(r.repository)}${
      tag === undefined ? '' : `:${escapeMarkdown(tag)}`
    }`;

  const lines: string[] = [CHANGES_HEADING, ''];
  const counts = [
    [changes.newRepositories.length, 'new repository', 'new repositories'],
    [changes.newTags.length, 'new tag', 'new tags'],
    [changes.movedTags.length, 'moved tag', 'moved tags'],
    [changes.removedTags.length, 'removed tag', 'removed tags'],
    [changes.removedRepositories.length, 'removed repository', 'removed repositories'],
    [changes.newPlatforms.length, 'tag with new platforms', 'tags with new platforms'],
  ] as const;
  const parts = counts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  const since = changes.previousGeneratedAt
    ? ` since the inventory of ${escapeMarkdown(changes.previousGeneratedAt)}`
    : '';
  lines.push(parts.length > 0 ? `${parts.join(', ')}${since}.` : `No changes${since}.`);

  const section = <T>(title: string, items: T[], line: (item: T) => string) => {
    if (items.length === 0) return;
    lines.push('', `**${title}**`, '');
    for (const item of items.slice(0, LIST_LIMIT)) lines.push(`- ${line(item)}`);
    if (items.length > LIST_LIMIT)
      lines.push(`- … and ${items.length - LIST_LIMIT} more (every item is in ${CHANGES_FILE})`);
  };
  section(
    'Moved tags',
    changes.movedTags,
    (m) => `${where(m, m.tag)}: ${digestText(m.from, false)} → ${digestText(m.to, false)}`,
  );
  section('New repositories', changes.newRepositories, (r) => where(r));
  section('New tags', changes.newTags, (t) => `${where(t, t.tag)} ${digestText(t.digest, true)}`);
  section(
    'Removed tags',
    changes.removedTags,
    (t) => `${where(t, t.tag)} (was ${digestText(t.digest, true)})`,
  );
  section('Removed repositories', changes.removedRepositories, (r) => where(r));
  section(
    'New platforms',
    changes.newPlatforms,
    (p) => `${where(p, p.tag)}: ${escapeMarkdown(p.platforms.join(', '))}`,
  );
  section(
    'Not compared',
    changes.unverified,
    (u) =>
      `${where(u)}: ${plural(u.tags.length, 'previously inventoried tag')} not seen, not reported as removed because ${escapeMarkdown(u.reason)}`,
  );
  section(
    'First seen',
    changes.firstSeen,
    (u) =>
      `${where(u)}: ${plural(u.tags.length, 'tag')} not in the previous inventory, not reported as new because ${escapeMarkdown(u.reason)}`,
  );
  return `${lines.join('\n')}\n`;
}

/** changes.json beside graph.json: every new, moved and removed tag, whatever the outputs hold. */
export const CHANGES_FILE = 'changes.json';

/** A new or removed tag, as the outputs and changes.json give it. */
export interface TagItem {
  provider: string;
  repository: string;
  tag: string;
  digest: string;
}

/** A moved tag, as the moved-tags output and changes.json give it. */
export interface MovedItem {
  provider: string;
  repository: string;
  tag: string;
  from: string;
  to: string;
}

/** The whole lists behind the change outputs, the contents of changes.json; empty with no comparison. */
export function changeLists(changes: GraphChanges | undefined): {
  new_tags: TagItem[];
  moved_tags: MovedItem[];
  removed_tags: TagItem[];
} {
  const tagItem = (t: TagItem): TagItem => ({
    provider: t.provider,
    repository: t.repository,
    tag: t.tag,
    digest: t.digest,
  });
  return {
    new_tags: changes?.newTags.map(tagItem) ?? [],
    moved_tags:
      changes?.movedTags.map((m) => ({
        provider: m.provider,
        repository: m.repository,
        tag: m.tag,
        from: m.from,
        to: m.to,
      })) ?? [],
    removed_tags: changes?.removedTags.map(tagItem) ?? [],
  };
}

/**
 * The step outputs, each a JSON string; with no comparison every list is empty and `changed`
 * false. Each list is cut to fit OUTPUT_BUDGET (`cuts` says which were), `redact` applied to
 * each item before it is measured.
 */
export function changeOutputs(
  changes: GraphChanges | undefined,
  redact?: (json: string) => string,
): {
  values: { 'new-tags': string; 'moved-tags': string; 'removed-tags': string; changed: string };
  cuts: OutputCut[];
} {
  const lists = changeLists(changes);
  const bound = (items: readonly unknown[]) => boundedJsonArray(items, redact ? { redact } : {});
  const newTags = bound(lists.new_tags);
  const movedTags = bound(lists.moved_tags);
  const removedTags = bound(lists.removed_tags);
  return {
    values: {
      'new-tags': newTags.json,
      'moved-tags': movedTags.json,
      'removed-tags': removedTags.json,
      changed: String(changes ? hasChanges(changes) : false),
    },
    cuts: [
      ...outputCut('new-tags', newTags, CHANGES_FILE),
      ...outputCut('moved-tags', movedTags, CHANGES_FILE),
      ...outputCut('removed-tags', removedTags, CHANGES_FILE),
    ],
  };
}

/**
 * Compiles the `immutable-tags` input: case-sensitive and unanchored (write `^…$` to match whole
 * tags), unlike the config's Devgraph-compatible patterns, because this input is ours and a guard
 * should match exactly what it says. RE2 syntax, like the config's, so no tag can make it hang.
 */
export function compileImmutableTags(source: string): { regex: Pattern } | { error: string } {
  const compiled = compileLinear(source);
  if ('error' in compiled) return { error: `inputs.immutable-tags: ${compiled.error}` };
  const re = compiled.re;
  return { regex: { source, test: (tag) => re.test(tag) } };
}

/** The moved tags the guard forbids, and the message that fails the step, if any moved. */
export function immutableTagViolations(
  changes: GraphChanges | undefined,
  regex: Pattern,
): { violations: MovedTag[]; message?: string } {
  const violations = (changes?.movedTags ?? []).filter((m) => regex.test(m.tag));
  if (violations.length === 0) return { violations };
  const lines = violations.map(
    (m) =>
      `  ${visible(m.provider)} ${visible(m.repository)}:${visible(m.tag)} moved from ${visible(m.from)} to ${visible(m.to)}`,
  );
  return {
    violations,
    message: `immutable-tags: ${plural(violations.length, 'tag')} matching ${JSON.stringify(regex.source)} moved to another digest:\n${lines.join('\n')}`,
  };
}

/**
 * Registry text for the step's failure message, a log line: control and invisible format
 * characters (ANSI colours, U+202E, line breaks that would forge log lines) shown as \u escapes,
 * so the reader sees that the name is odd instead of being misled by it.
 */
export function visible(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
