// What happens to a finished run, the same for the Action and the CLI: graph.json and summary.md
// written, the step outputs, the state kept, the files kept, the change report posted, the graph
// uploaded to Devgraph. The shells supply only where things go (ports): the Action's outputs,
// cache, artifact and PR comment; the CLI has none of those and prints instead.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from './config/settings.js';
import { type DevgraphUploadResult, uploadToDevgraph } from './devgraph/upload.js';
import { ConfigError } from './errors.js';
import { writeGraphFile } from './graph/graph-json.js';
import { type GraphSource, graphDocument } from './graph/graph-source.js';
import { HttpClient } from './http/http-client.js';
import type { Log } from './log.js';
import type { DockerKind } from './model/graph.js';
import { boundedJsonArray, cutNote, outputCut } from './output/bounded-json.js';
import {
  CHANGES_FILE,
  CHANGES_HEADING,
  changeLists,
  changeOutputs,
  renderChangeNote,
  renderChangeReport,
} from './output/change-report.js';
import { reportHtml } from './output/report-html.js';
import { renderPolicy } from './output/summary-markdown.js';
import { RetentionPlanner } from './retention/retention-planner.js';
import type { RunOptions, RunResult } from './run-discovery.js';
import type { Secrets } from './secrets.js';

export const DEFAULT_DEVGRAPH_URL = 'https://api.devgraph.ai';

/** Where and how a graph goes to Devgraph, resolved (resolveUpload). */
export interface UploadTarget {
  url: string;
  /** Absent when none was given anywhere: the Action then does not upload, the CLI refuses. */
  token?: string;
  environment?: string;
  dryRun: boolean;
}

/** What the flag (CLI) or input (Action) said; empty strings count as not said. */
export interface UploadGiven {
  url?: string | undefined;
  /** The flag or input `url` came from, for messages: `--devgraph-url`, `inputs.devgraph-url`. */
  urlField: string;
  token?: string | undefined;
  environment?: string | undefined;
  dryRun: boolean;
}

/**
 * Each upload setting is the first one set of: the flag or input, the environment, the config
 * file (`discovery.api_base_url`, `discovery.environment`, `discovery.opaque_token`), the default.
 * A URL that is not http(s) is a ConfigError naming where it came from.
 * The narrowest scope wins: a flag or input is this one run, the environment this job or shell,
 * the config file every run that reads it. So one committed config can be sent to a staging
 * Devgraph from one job without being edited. The URL has no variable: the config or the flag
 * says where Devgraph is; the environment variables carry what differs per job (the token, which
 * never goes on a command line where other users could read it, and the Devgraph environment).
 */
export function resolveUpload(
  given: UploadGiven,
  env: Record<string, string | undefined>,
  settings: Settings | undefined,
  secrets: Secrets,
): UploadTarget {
  const config = settings?.devgraph;
  const token = given.token || env.DEVGRAPH_TOKEN || config?.token || undefined;
  secrets.add(token);
  const environment = given.environment || env.DEVGRAPH_ENVIRONMENT || config?.environment || undefined;
  const url = (given.url || config?.apiBaseUrl || DEFAULT_DEVGRAPH_URL).replace(/\/+$/, '');
  const problem = httpUrlProblem(url, given.url ? given.urlField : 'discovery.api_base_url');
  if (problem) throw new ConfigError([problem]);
  return { url, ...(token ? { token } : {}), ...(environment ? { environment } : {}), dryRun: given.dryRun };
}

/**
 * Devgraph for retention's in-use check, when a selector protects what is in use: asked wherever a
 * token is found as an upload finds one (resolveUpload), whether or not the graph is uploaded.
 */
export function devgraphToRead(
  given: UploadGiven,
  env: Record<string, string | undefined>,
  settings: Settings,
  secrets: Secrets,
): RunOptions['devgraph'] {
  if (!RetentionPlanner.protectsInUse(settings.providers)) return undefined;
  const target = resolveUpload(given, env, settings, secrets);
  return target.token ? { ...target, token: target.token } : undefined;
}

/** Why `url` cannot be Devgraph's address, naming `field`; undefined when it can. */
export function httpUrlProblem(url: string, field: string): string | undefined {
  if (/^https?:\/\/[^/\s]/.test(url) && URL.canParse(url)) return undefined;
  return `${field}: must be an http(s) URL, got ${JSON.stringify(url)}`;
}

/**
 * The one place a graph is handed to Devgraph. `unsure`: the graph may hold less than a whole
 * run saw (a merge of shards, a graph read from a file), so deletes wait until every receipt is
 * complete; it says where, for the message.
 */
export async function sendToDevgraph(
  graph: GraphSource,
  target: UploadTarget & { token: string },
  opts: { secrets: Secrets; log: Log; unsure?: 'across the shards' | 'in the graph file' },
): Promise<DevgraphUploadResult> {
  const incomplete = graph.receipts.filter((r) => !r.complete).length;
  const http = new HttpClient();
  try {
    return await uploadToDevgraph(graph, {
      url: target.url,
      token: target.token,
      ...(target.environment ? { environment: target.environment } : {}),
      ...(opts.unsure && incomplete > 0
        ? { withholdDeletes: `${incomplete} incomplete receipt(s) ${opts.unsure}` }
        : {}),
      dryRun: target.dryRun,
      http,
      secrets: opts.secrets,
      log: opts.log,
    });
  } finally {
    await http.close();
  }
}

/** Every `require:` violation, whatever the policy-violations output holds. */
const POLICY_FILE = 'policy-violations.json';

/** Violations listed in the PR comment; the rest are counted. */
export const COMMENT_VIOLATIONS = 30;

/** Where a shell sends what only it has. Each is called at most once, in this order. */
export interface PublishPorts {
  /** graph.json, summary.md and report.html (and policy-violations.json, changes.json) are on disk (the CLI prints the summary here). */
  filesWritten?(paths: { graphPath: string; summaryPath: string; reportPath: string }): void;
  setOutput?(name: string, value: string): void;
  /** Keeps the state directory for the next run (the Action's cache). */
  saveState?(): Promise<void>;
  /** Keeps graph.json, summary.md and report.html (and policy-violations.json, changes.json) beyond the run (the Action's artifact). */
  keepFiles?(paths: {
    graphPath: string;
    summaryPath: string;
    policyPath?: string;
    changesPath?: string;
    retentionPath?: string;
    reportPath: string;
    directory: string;
  }): Promise<void>;
  /** Posts the change report, Markdown (the Action's PR comment). */
  postChangeReport?(report: string): Promise<void>;
}

export interface PublishOptions {
  outputDir: string;
  secrets: Secrets;
  log: Log;
  /** The graph goes to Devgraph when set. */
  devgraph?: UploadTarget & { token: string };
  /** The graph is a merge of shard graphs (see sendToDevgraph). */
  merged: boolean;
  ports?: PublishPorts;
}

export interface Published {
  graphPath: string;
  summaryPath: string;
  /** The page people open: report-html.ts. */
  reportPath: string;
  /** Beside graph.json when some selector has `require:`. */
  policyPath?: string;
  /** Beside graph.json when some selector has `retention:`. */
  retentionPath?: string;
  /** Beside graph.json when the run compared (a state directory or a previous graph given). */
  changesPath?: string;
  /** One line for each JSON output cut to fit its budget (bounded-json.ts); empty without outputs. */
  outputNotes: string[];
  /** Absent when nothing was sent to Devgraph. */
  upload?: DevgraphUploadResult;
}

export async function publish(result: RunResult, opts: PublishOptions): Promise<Published> {
  const { secrets, ports = {} } = opts;
  const { graph } = result;
  await mkdir(opts.outputDir, { recursive: true });
  const graphPath = join(opts.outputDir, 'graph.json');
  const summaryPath = join(opts.outputDir, 'summary.md');
  await writeGraphFile(graphPath, graphDocument(graph), (json) => secrets.redact(json));
  await writeFile(summaryPath, result.summary);
  const reportPath = join(opts.outputDir, 'report.html');
  await writeFile(reportPath, redactEach(reportHtml(result), secrets));
  // Written whenever there is a policy, empty or not: a check reading it needs no other signal.
  const violations = result.policy && secrets.redact(JSON.stringify(result.policy.violations));
  const policyPath = violations === undefined ? undefined : join(opts.outputDir, POLICY_FILE);
  if (policyPath) await writeFile(policyPath, `${violations}\n`);
  const retentionPath = result.retention && join(opts.outputDir, 'retention-plan.json');
  if (retentionPath)
    await writeFile(retentionPath, `${secrets.redact(JSON.stringify(result.retention, null, 2))}\n`);
  // The change outputs are cut to a size a workflow can take; this file never is.
  const changesPath = result.changes && join(opts.outputDir, CHANGES_FILE);
  if (changesPath)
    await writeFile(changesPath, `${secrets.redact(JSON.stringify(changeLists(result.changes)))}\n`);
  ports.filesWritten?.({ graphPath, summaryPath, reportPath });

  const output = (name: string, value: string) => ports.setOutput?.(name, value);
  const count = (kind: DockerKind) => String(graph.count(kind));
  output('graph-path', graphPath);
  output('summary-path', summaryPath);
  output('report-path', reportPath);
  output('complete', String(result.complete));
  output('registries', count('DockerRegistry'));
  output('repositories', count('DockerRepository'));
  output('images', count('DockerImage'));
  output('manifests', count('DockerManifest'));
  const redact = (json: string) => secrets.redact(json);
  const changeOutput = changeOutputs(result.changes, redact);
  for (const [name, value] of Object.entries(changeOutput.values)) output(name, value);
  const policyOutput = result.policy && boundedJsonArray(result.policy.violations, { redact });
  if (policyOutput) output('policy-violations', policyOutput.json);
  // Said only where the outputs exist: the CLI has none, and its files are whole.
  const outputNotes = ports.setOutput
    ? [
        ...changeOutput.cuts,
        ...(policyOutput ? outputCut('policy-violations', policyOutput, POLICY_FILE) : []),
      ].map(cutNote)
    : [];
  for (const note of outputNotes) opts.log.warn(note);
  if (result.retention) {
    output('retention-deletions', String(result.retention.deletions));
    output('retention-reclaimable-bytes', String(result.retention.reclaimable_bytes));
  }

  await ports.saveState?.();
  await ports.keepFiles?.({
    graphPath,
    summaryPath,
    ...(policyPath ? { policyPath } : {}),
    ...(retentionPath ? { retentionPath } : {}),
    ...(changesPath ? { changesPath } : {}),
    reportPath,
    directory: opts.outputDir,
  });
  await ports.postChangeReport?.(secrets.redact(changeReportSection(result) + policySection(result)));

  const files = {
    graphPath,
    summaryPath,
    reportPath,
    ...(policyPath ? { policyPath } : {}),
    ...(retentionPath ? { retentionPath } : {}),
    ...(changesPath ? { changesPath } : {}),
    outputNotes,
  };
  if (!opts.devgraph) return files;
  // Each failure was warned by the upload as it happened; the result only counts them.
  const upload = await sendToDevgraph(graph, opts.devgraph, {
    secrets,
    log: opts.log,
    ...(opts.merged ? { unsure: 'across the shards' as const } : {}),
  });
  output('devgraph-uploaded', String(upload.ok && !upload.dryRun));
  return { ...files, upload };
}

/** Each piece redacted as it is written; a secret sits inside one row, never across two. */
function* redactEach(pieces: Iterable<string>, secrets: Secrets): Generator<string> {
  for (const piece of pieces) yield secrets.redact(piece);
}

/** The policy verdict for the PR comment, after the change report; empty without a policy. */
function policySection(result: RunResult): string {
  if (!result.policy) return '';
  return `\n${renderPolicy(result.policy, { heading: '## Policy', limit: COMMENT_VIOLATIONS }).join('\n')}\n`;
}

/** The change report as its own section, saying so when there was nothing to compare. */
function changeReportSection(result: RunResult): string {
  return (
    renderChangeReport(result.changes) ??
    `${CHANGES_HEADING}\n\n${renderChangeNote(result.changes) ?? 'Nothing to compare with yet (no state-dir or previous-graph).'}\n`
  );
}
