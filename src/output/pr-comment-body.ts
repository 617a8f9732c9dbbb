// The sticky PR comment's text. A hidden marker on the first line names the config, so each run
// finds and edits its own comment instead of adding another, and two configs in one repository
// keep one comment each.

/** GitHub refuses comment bodies longer than this many characters. */
export const COMMENT_LIMIT = 65536;

export function commentMarker(configHash: string): string {
  return `<!-- devgraph-docker:${configHash} -->`;
}

/**
 * Whether a comment is the one this config owns. Only a body that starts with the marker counts:
 * someone quoting the comment puts "> " in front of it, and that reply must stay untouched.
 */
export function isOwnComment(body: string | null | undefined, marker: string): boolean {
  return typeof body === 'string' && body.trimStart().startsWith(marker);
}

/** The full comment: marker line, then the report, cut to fit GitHub's limit. */
export function commentBody(report: string, configHash: string, limit = COMMENT_LIMIT): string {
  const marker = commentMarker(configHash);
  return `${marker}\n${truncateMarkdown(report, limit - marker.length - 1)}`;
}

/**
 * `text` cut to at most `max` UTF-16 code units (never more characters than GitHub counts), at a
 * line break when one is near, with open code fences and <details> blocks closed so the rest of
 * the comment still renders, and a closing note saying how much was left out.
 */
export function truncateMarkdown(text: string, max: number): string {
  if (text.length <= max) return text;
  let budget = max;
  for (;;) {
    let cut = text.lastIndexOf('\n', budget);
    if (cut < budget / 2) cut = budget;
    // Never split a surrogate pair: half an emoji is not a character GitHub accepts.
    const code = text.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    const head = text.slice(0, cut).replace(/\s+$/, '');
    const omitted = text.length - head.length;
    const note = `\n\n_… ${omitted} more characters of this report did not fit in a comment; the job summary and the graph artifact have all of it._\n`;
    const out = `${head}${closers(head)}${note}`;
    if (out.length <= max) return out;
    if (budget <= 0) return out.slice(0, Math.max(0, max));
    budget -= out.length - max;
  }
}

/** What must follow `head` so that fences and <details> left open by the cut are closed. */
function closers(head: string): string {
  let fence: { char: string; length: number } | undefined;
  let openDetails = 0;
  for (const line of head.split('\n')) {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (m) {
      const run = m[1]!;
      if (!fence) fence = { char: run[0]!, length: run.length };
      else if (run[0] === fence.char && run.length >= fence.length && line.trim() === run) fence = undefined;
      continue;
    }
    if (fence) continue;
    openDetails += (line.match(/<details\b/gi) ?? []).length;
    openDetails -= (line.match(/<\/details>/gi) ?? []).length;
  }
  let out = '';
  if (fence) out += `\n${fence.char.repeat(fence.length)}`;
  for (let i = 0; i < openDetails; i++) out += '\n\n</details>';
  return out;
}

/**
 * The pull request a workflow event is about: `pull_request` / `pull_request_target` events carry
 * it directly, `issue_comment` events on a PR carry it as an issue with a `pull_request` link.
 */
export function pullRequestNumber(payload: unknown): number | undefined {
  const p = payload as {
    pull_request?: { number?: unknown };
    issue?: { number?: unknown; pull_request?: unknown };
  } | null;
  const direct = p?.pull_request?.number;
  if (typeof direct === 'number' && Number.isInteger(direct) && direct > 0) return direct;
  const issue = p?.issue;
  if (issue?.pull_request && typeof issue.number === 'number' && Number.isInteger(issue.number))
    return issue.number;
  return undefined;
}
