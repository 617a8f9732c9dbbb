// The opt-in sticky PR comment: one per config, edited in place on every run. Posting it is a
// courtesy on top of the job summary, so any failure is one warning and the run goes on.
import { readFile } from 'node:fs/promises';
import { getOctokit } from '@actions/github';
import { errorMessage } from '../errors.js';
import type { Log } from '../log.js';
import { commentBody, commentMarker, isOwnComment, pullRequestNumber } from '../output/pr-comment-body.js';
import type { Secrets } from '../secrets.js';

export type CommentOutcome =
  | { status: 'created' | 'updated'; id: number; url?: string; message: string }
  | { status: 'skipped' | 'failed'; message: string };

export interface PrCommentOptions {
  /** The report in Markdown (the change report); cut to fit if needed. */
  report: string;
  /** configHash(settings): tells this config's comment apart from others'. */
  configHash: string;
  /** A token allowed `pull-requests: write` (the job's GITHUB_TOKEN). */
  token: string | undefined;
  env: Record<string, string | undefined>;
  log: Log;
  secrets: Secrets;
  /** Default: the pull request of the event that started the workflow. */
  pullNumber?: number;
  /** Default: GITHUB_REPOSITORY. */
  repository?: string;
  /** Default: GITHUB_API_URL, else https://api.github.com. */
  apiUrl?: string;
  /** Default: the workflow event's payload, read from the file GITHUB_EVENT_PATH names. */
  eventPayload?: unknown;
}

/**
 * The event that started the workflow. Read from the env this run was given rather than from
 * @actions/github's context, which reads GITHUB_EVENT_PATH once, when the module is loaded.
 */
async function eventPayload(env: Record<string, string | undefined>): Promise<unknown> {
  if (!env.GITHUB_EVENT_PATH) return undefined;
  try {
    return JSON.parse(await readFile(env.GITHUB_EVENT_PATH, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Creates or updates this config's comment on the pull request. Never throws; logs one line. */
export async function upsertPrComment(opts: PrCommentOptions): Promise<CommentOutcome> {
  const outcome = await upsert(opts);
  const message = opts.secrets.redact(outcome.message);
  if (outcome.status === 'created' || outcome.status === 'updated') opts.log.info(message);
  else opts.log.warn(message);
  return { ...outcome, message };
}

async function upsert(opts: PrCommentOptions): Promise<CommentOutcome> {
  const skip = (why: string): CommentOutcome => ({
    status: 'skipped',
    message: `PR comment not posted: ${why}.`,
  });
  const pull = opts.pullNumber ?? pullRequestNumber(opts.eventPayload ?? (await eventPayload(opts.env)));
  if (pull === undefined) {
    const event = opts.env.GITHUB_EVENT_NAME ? ` (event "${opts.env.GITHUB_EVENT_NAME}")` : '';
    return skip(
      `this run is not for a pull request${event}; comment-on-pr works on pull_request and pull_request_target events`,
    );
  }
  const repository = opts.repository ?? opts.env.GITHUB_REPOSITORY ?? '';
  const [owner, repo, extra] = repository.split('/');
  if (!owner || !repo || extra !== undefined)
    return skip(`GITHUB_REPOSITORY must be "owner/name", got ${JSON.stringify(repository)}`);
  if (!opts.token)
    return skip('no GitHub token; pass github-token (the job token with pull-requests: write is enough)');
  opts.secrets.add(opts.token);

  const baseUrl = (opts.apiUrl ?? opts.env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, '');
  const octokit = getOctokit(opts.token, {
    baseUrl,
    userAgent: 'devgraph-docker-action',
    // Octokit would print request failures itself; this module reports them once, its own way.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const body = commentBody(opts.report, opts.configHash);
  const marker = commentMarker(opts.configHash);
  const where = `${owner}/${repo}#${pull}`;
  let step = 'listing the comments of';
  try {
    let existing: { id: number } | undefined;
    for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: pull,
      per_page: 100,
    })) {
      existing = page.data.find((c) => isOwnComment(c.body, marker));
      if (existing) break;
    }
    if (existing) {
      step = 'updating the comment on';
      const res = await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
      return {
        status: 'updated',
        id: res.data.id,
        url: res.data.html_url,
        message: `PR comment updated on ${where}: ${res.data.html_url}`,
      };
    }
    step = 'commenting on';
    const res = await octokit.rest.issues.createComment({ owner, repo, issue_number: pull, body });
    return {
      status: 'created',
      id: res.data.id,
      url: res.data.html_url,
      message: `PR comment created on ${where}: ${res.data.html_url}`,
    };
  } catch (err) {
    return { status: 'failed', message: `PR comment not posted: ${step} ${where} failed: ${explain(err)}` };
  }
}

/** A failure in words, with the fix for the ones people run into. */
function explain(err: unknown): string {
  const e = err as { status?: unknown; response?: { data?: unknown } };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const data = e.response?.data as { message?: unknown } | undefined;
  const apiMessage = typeof data?.message === 'string' ? data.message : undefined;
  if (status === undefined || !e.response) return `${oneLine(errorMessage(err))}${networkCause(err)}`;
  const said = `HTTP ${status}${apiMessage ? ` "${oneLine(apiMessage)}"` : ''}`;
  if (status === 401) return `${said}; the token is not valid`;
  if (status === 403)
    return `${said}; give the job "permissions: pull-requests: write" (pull requests from forks get a read-only token; use pull_request_target or skip the comment there)`;
  if (status === 404) return `${said}; the token cannot see this repository or pull request`;
  return said;
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, a DNS failure) is in its causes. */
function networkCause(err: unknown): string {
  for (let c = (err as { cause?: unknown }).cause, depth = 0; c && depth < 4; depth++) {
    const { code, message } = c as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return ` (${code})`;
    if (typeof message === 'string' && message !== errorMessage(err)) return ` (${oneLine(message)})`;
    c = (c as { cause?: unknown }).cause;
  }
  return '';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
