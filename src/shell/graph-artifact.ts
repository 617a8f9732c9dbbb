// Hands graph.json and summary.md to the workflow run as an artifact. An upload that fails is a
// warning: the files are still on disk (the graph-path output names them) and later steps can
// upload them another way.
import { basename } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { Log } from '../log.js';
import { askService, onEnterpriseServer, type ServiceEnv } from './actions-service.js';
import { seconds, withTimeLimit } from './time-limit.js';

/**
 * The upload gets this long, the service check included. @actions/artifact retries a failing
 * service with backoff and waits minutes for a stalled upload, and takes no option to shorten
 * either; with the cache's limits (state-cache.ts) a dead service costs a step about 90 s at most.
 */
export const ARTIFACT_TIME_LIMIT_MS = 30_000;

/** The part of @actions/artifact's client this module uses; tests pass a stand-in. */
export interface ArtifactUploader {
  uploadArtifact(
    name: string,
    files: string[],
    rootDirectory: string,
    options?: { retentionDays?: number },
  ): Promise<{ id?: number; size?: number }>;
  /** Why the service cannot take `name` now, or undefined when it answers; within `limitMs`. */
  check?(name: string, limitMs: number): Promise<string | undefined>;
}

const actionsArtifactUploader: ArtifactUploader = {
  uploadArtifact: (name, files, rootDirectory, options) =>
    new DefaultArtifactClient().uploadArtifact(name, files, rootDirectory, options),
  check: (name, limitMs) => checkArtifactService(process.env, name, limitMs),
};

const LIST_ARTIFACTS = '/twirp/github.actions.results.api.v1.ArtifactService/ListArtifacts';
const listAnswer = z.object({ artifacts: z.array(z.unknown()).optional() });
const tokenClaims = z.object({ scp: z.string() });

/**
 * Lists this job's artifacts of that name on the service @actions/artifact uploads to, the same
 * variables deciding: any well-formed answer means it is up. Where the library would refuse on
 * its own (Enterprise Server, no results URL, a token without the run's ids) there is nothing to
 * ask and its error says why. Never throws.
 */
export async function checkArtifactService(
  env: ServiceEnv,
  name: string,
  limitMs: number,
): Promise<string | undefined> {
  const base = env.ACTIONS_RESULTS_URL;
  const ids = backendIds(env.ACTIONS_RUNTIME_TOKEN);
  if (onEnterpriseServer(env) || !base || !ids) return undefined;
  return askService(
    {
      method: 'POST',
      url: new URL(LIST_ARTIFACTS, base).href,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...ids, name_filter: name }),
    },
    listAnswer,
    env,
    limitMs,
  );
}

/** The workflow run and job the runtime token's scope names (`Actions.Results:<run>:<job>`). */
function backendIds(
  token: string | undefined,
): { workflow_run_backend_id: string; workflow_job_run_backend_id: string } | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const claims = tokenClaims.safeParse(payload);
    if (!claims.success) return undefined;
    for (const scope of claims.data.scp.split(' ')) {
      const [kind, run, job, ...rest] = scope.split(':');
      if (kind === 'Actions.Results' && run && job && rest.length === 0)
        return { workflow_run_backend_id: run, workflow_job_run_backend_id: job };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

export const DEFAULT_ARTIFACT_NAME = 'devgraph-graph';

export type ArtifactOutcome =
  | { status: 'uploaded'; id: number; url?: string; message: string }
  | { status: 'failed'; message: string };

export interface ArtifactOptions {
  name: string;
  /** Absolute paths, all inside rootDirectory (graph.json, summary.md). */
  files: string[];
  rootDirectory: string;
  /** Omitted: the repository's default retention. */
  retentionDays?: number;
  env: Record<string, string | undefined>;
  log: Log;
  client?: ArtifactUploader;
  /** The most the upload may take (ARTIFACT_TIME_LIMIT_MS). */
  timeLimitMs?: number;
}

/** Uploads the files; never throws. Logs one line (info on success, warning on failure). */
export async function uploadGraphArtifact(opts: ArtifactOptions): Promise<ArtifactOutcome> {
  const listed = opts.files.map((f) => basename(f)).join(', ');
  const failed = (reason: string): ArtifactOutcome => {
    const message = `Artifact "${opts.name}" was not uploaded (${reason}); ${listed} stay in ${opts.rootDirectory}.`;
    opts.log.warn(message);
    return { status: 'failed', message };
  };
  const limitMs = opts.timeLimitMs ?? ARTIFACT_TIME_LIMIT_MS;
  const started = performance.now();
  try {
    const client = opts.client ?? actionsArtifactUploader;
    const checked = client.check ? await withTimeLimit(client.check(opts.name, limitMs), limitMs) : undefined;
    if (checked && !checked.done)
      return failed(`the artifact service is down (no answer within ${seconds(limitMs)})`);
    if (checked?.value) return failed(`the artifact service is down (${checked.value})`);
    const upload = await withTimeLimit(
      client.uploadArtifact(opts.name, opts.files, opts.rootDirectory, {
        ...(opts.retentionDays !== undefined ? { retentionDays: opts.retentionDays } : {}),
      }),
      Math.max(1, limitMs - (performance.now() - started)),
    );
    if (!upload.done) return failed(`the artifact service did not finish within ${seconds(limitMs)}`);
    const res = upload.value;
    if (res.id === undefined) return failed('the service returned no artifact id');
    const url = artifactUrl(opts.env, res.id);
    const message = `Artifact "${opts.name}" uploaded (${listed})${url ? `: ${url}` : ''}.`;
    opts.log.info(message);
    return { status: 'uploaded', id: res.id, ...(url ? { url } : {}), message };
  } catch (err) {
    return failed(oneLine(errorMessage(err)));
  }
}

/** Where the artifact can be downloaded in the GitHub UI; undefined outside a workflow run. */
export function artifactUrl(env: Record<string, string | undefined>, id: number): string | undefined {
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const { GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = env;
  if (!repo || !runId) return undefined;
  return `${server}/${repo}/actions/runs/${runId}/artifacts/${id}`;
}

/** Characters the artifact service refuses in a name. */
const BAD_NAME_CHARS = /[":<>|*?\r\n\\/]/;

/** Parsed `artifact-name` / `artifact-retention-days` inputs; `raw` reads an input by name ('' when unset). */
export function parseArtifactInputs(raw: (name: string) => string): {
  name: string;
  retentionDays?: number;
  problems: string[];
} {
  const problems: string[] = [];
  const name = raw('artifact-name').trim() || DEFAULT_ARTIFACT_NAME;
  const bad = BAD_NAME_CHARS.exec(name);
  if (bad) {
    problems.push(
      `inputs.artifact-name: must not contain ${JSON.stringify(bad[0])} (the artifact service refuses " : < > | * ? \\ / and newlines), got ${JSON.stringify(name)}`,
    );
  }
  const rawDays = raw('artifact-retention-days').trim();
  let retentionDays: number | undefined;
  if (rawDays) {
    const days = Number(rawDays);
    if (!/^\d+$/.test(rawDays) || days < 1 || days > 90) {
      problems.push(
        `inputs.artifact-retention-days: must be a whole number of days from 1 to 90, got ${JSON.stringify(rawDays)}; leave it unset for the repository's default`,
      );
    } else retentionDays = days;
  }
  return { name, ...(retentionDays !== undefined ? { retentionDays } : {}), problems };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
