// The GitHub Action shell: read the inputs, discover (restoring and saving the state through the
// Actions cache) or merge shard graphs, publish, report. The only place that calls core.setFailed.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as core from '@actions/core';
import { loadConfig } from '../config/load-config.js';
import type { Settings } from '../config/settings.js';
import { ConfigError, errorMessage } from '../errors.js';
import { formatShard } from '../graph/shard.js';
import type { Log } from '../log.js';
import { immutableTagViolations } from '../output/change-report.js';
import { RunProgress } from '../output/progress.js';
import { escapeMarkdown, fitStepSummary, STEP_SUMMARY_LIMIT } from '../output/summary-markdown.js';
import {
  devgraphToRead,
  type Published,
  type PublishPorts,
  publish,
  resolveUpload,
  type UploadTarget,
} from '../publish.js';
import {
  generatedAtFromEnv,
  type PreviousGraph,
  type RunResult,
  readPreviousGraph,
  runDiscovery,
} from '../run-discovery.js';
import { readShardGraphs, runMerge } from '../run-merge.js';
import { Secrets } from '../secrets.js';
import { cacheKeys, configHash } from '../state/cache-key.js';
import { type ActionInputs, parseActionInputs } from './action-inputs.js';
import { readAmbient } from './ambient.js';
import { uploadGraphArtifact } from './graph-artifact.js';
import { readInUseFile } from './in-use-file.js';
import { upsertPrComment } from './pr-comment.js';
import { periodicProgress, progressIntervalMs } from './progress-display.js';
import { restoreState, saveState } from './state-cache.js';

type Env = Record<string, string | undefined>;

function readInputs(env: Env): ActionInputs {
  return parseActionInputs(
    (name) => core.getInput(name),
    env,
    (secret) => core.setSecret(secret),
  );
}

export async function run(env: Env = process.env): Promise<void> {
  const secrets = new Secrets((value) => core.setSecret(value));
  const log: Log = {
    info: (m) => core.info(secrets.redact(m)),
    warn: (m) => core.warning(secrets.redact(m)),
    debug: (m) => core.debug(secrets.redact(m)),
  };
  let result: RunResult | undefined;
  try {
    const inputs = readInputs(env);
    const settings = await readSettings(inputs, env, secrets);
    const devgraph = devgraphTarget(inputs, env, settings, secrets, log);
    const previousGraph = inputs.previousGraph
      ? await readPreviousGraph(inputs.previousGraph, 'inputs.previous-graph', log)
      : undefined;
    const done = inputs.mergeGraphs
      ? await mergeShards(inputs.mergeGraphs, settings, previousGraph, secrets, log)
      : await discoverWithState(inputs, requireSettings(settings), previousGraph, env, secrets, log);
    result = done.result;
    const published = await publish(result, {
      outputDir: inputs.outputDir,
      secrets,
      log,
      ...(devgraph ? { devgraph } : {}),
      merged: inputs.mergeGraphs !== undefined,
      ports: actionPorts(inputs, env, done, secrets, log),
    });
    await writeJobSummary(env, result, published, secrets);
    report(inputs, result, secrets);
  } catch (err) {
    core.setFailed(
      secrets.redact(err instanceof ConfigError ? err.message : `devgraph-docker: ${errorMessage(err)}`),
    );
  } finally {
    result?.graph.close();
  }
}

/** The config, when one is given: merge mode needs none, and checks the shards against one given. */
async function readSettings(inputs: ActionInputs, env: Env, secrets: Secrets): Promise<Settings | undefined> {
  const text = inputs.config || (inputs.configFile ? await readConfigFile(inputs.configFile) : undefined);
  if (text === undefined) return undefined;
  return loadConfig(text, { env, secrets, origin: inputs.config ? 'config input' : inputs.configFile });
}

function requireSettings(settings: Settings | undefined): Settings {
  if (!settings) throw new ConfigError(['inputs: set "config" (inline YAML) or "config-file" (a path)']);
  return settings;
}

/**
 * Where the graph goes in Devgraph, or undefined when it does not: no token anywhere, or a shard,
 * whose graph lacks the other shards' repositories (the merge job uploads; parseActionInputs
 * refuses a devgraph-token input there, a token from elsewhere is left for the merge).
 */
function devgraphTarget(
  inputs: ActionInputs,
  env: Env,
  settings: Settings | undefined,
  secrets: Secrets,
  log: Log,
): (UploadTarget & { token: string }) | undefined {
  const target = resolveUpload(
    { ...inputs.devgraph, urlField: 'inputs.devgraph-url' },
    env,
    settings,
    secrets,
  );
  if (!target.token) return undefined;
  if (inputs.shard) {
    log.info(
      `Devgraph upload skipped in shard ${formatShard(inputs.shard)}: the merge job uploads the merged graph`,
    );
    return undefined;
  }
  return { ...target, token: target.token };
}

interface Done {
  result: RunResult;
  /** configHash of the settings the graph was discovered with, or the shards share. */
  configHash: string;
  saveState?: () => Promise<void>;
}

async function mergeShards(
  paths: string[],
  settings: Settings | undefined,
  previousGraph: PreviousGraph | undefined,
  secrets: Secrets,
  log: Log,
): Promise<Done> {
  const merged = runMerge(await readShardGraphs(paths, 'inputs.merge-graphs'), {
    secrets,
    field: 'inputs.merge-graphs',
    ...(previousGraph ? { previousGraph } : {}),
    ...(settings ? { expectedConfig: configHash(settings), settings } : {}),
  });
  log.info(`merged ${merged.shards} shard graphs of config ${merged.config}`);
  return { result: merged, configHash: merged.config };
}

/** Discovery with the state restored from the Actions cache first, and saved by publish after. */
async function discoverWithState(
  inputs: ActionInputs,
  settings: Settings,
  previousGraph: PreviousGraph | undefined,
  env: Env,
  secrets: Secrets,
  log: Log,
): Promise<Done> {
  const generatedAt = generatedAtFromEnv(env);
  const ambient = await readAmbient(env, secrets, githubToken(inputs, env));
  // The Actions cache carries the state between runs; without a state-dir it keeps one under RUNNER_TEMP.
  const stateDir =
    inputs.stateDir ??
    (inputs.cache.enabled && env.RUNNER_TEMP ? join(env.RUNNER_TEMP, 'devgraph-docker-state') : undefined);
  const keys = cacheKeys({
    settings,
    ...(inputs.cache.keyOverride ? { override: inputs.cache.keyOverride } : {}),
    ...(env.GITHUB_RUN_ID ? { runId: env.GITHUB_RUN_ID } : {}),
    ...(env.GITHUB_RUN_ATTEMPT ? { runAttempt: env.GITHUB_RUN_ATTEMPT } : {}),
    ...(inputs.shard ? { shard: inputs.shard } : {}),
  });
  const cached = inputs.cache.enabled ? stateDir : undefined;
  const restored = cached ? await restoreState({ dir: cached, keys, log }) : undefined;
  const inUse = inputs.inUse ? await readInUseFile(inputs.inUse, 'inputs.in-use', log) : undefined;
  // Shards included: a shard's retention deletes too.
  const devgraph = devgraphToRead(
    { ...inputs.devgraph, urlField: 'inputs.devgraph-url' },
    env,
    settings,
    secrets,
  );
  // The Actions log is no terminal: a plain line now and then, none for a short run.
  const progress = periodicProgress((line) => core.info(line), { intervalMs: progressIntervalMs(env) });
  const result = await runDiscovery(settings, {
    secrets,
    log,
    progress: new RunProgress(progress.show),
    ambient,
    ...(inUse ? { inUse } : {}),
    ...(devgraph ? { devgraph } : {}),
    ...(inputs.retentionApply ? { applyRetention: { maxDeletions: inputs.maxDeletions } } : {}),
    ...(previousGraph ? { previousGraph } : {}),
    ...(stateDir ? { stateDir } : {}),
    ...(inputs.concurrency ? { concurrency: inputs.concurrency } : {}),
    ...(generatedAt ? { generatedAt } : {}),
    ...(inputs.shard ? { shard: inputs.shard } : {}),
  });
  const saveCache = cached
    ? async () => {
        const saved = await saveState({ dir: cached, keys, log, ...(restored ? { restored } : {}) });
        core.setOutput('cache', saved.status);
      }
    : undefined;
  return { result, configHash: configHash(settings), ...(saveCache ? { saveState: saveCache } : {}) };
}

/** The Action's outputs, cache, artifact and PR comment. */
function actionPorts(inputs: ActionInputs, env: Env, done: Done, secrets: Secrets, log: Log): PublishPorts {
  return {
    setOutput: (name, value) => core.setOutput(name, value),
    ...(done.saveState ? { saveState: done.saveState } : {}),
    // Artifacts exist only inside a workflow run; elsewhere the files on disk are the result.
    ...(env.ACTIONS_RUNTIME_TOKEN
      ? {
          keepFiles: async ({
            graphPath,
            summaryPath,
            reportPath,
            policyPath,
            retentionPath,
            changesPath,
            directory,
          }) => {
            const uploaded = await uploadGraphArtifact({
              name: inputs.artifact.name,
              files: [
                graphPath,
                summaryPath,
                reportPath,
                ...(policyPath ? [policyPath] : []),
                ...(retentionPath ? [retentionPath] : []),
                ...(changesPath ? [changesPath] : []),
              ],
              rootDirectory: directory,
              ...(inputs.artifact.retentionDays ? { retentionDays: inputs.artifact.retentionDays } : {}),
              env,
              log,
            });
            if (uploaded.status === 'uploaded') {
              core.setOutput('artifact-id', String(uploaded.id));
              if (uploaded.url) core.setOutput('artifact-url', uploaded.url);
            }
          },
        }
      : {}),
    ...(inputs.commentOnPr
      ? {
          postChangeReport: async (report) => {
            await upsertPrComment({
              report,
              configHash: done.configHash,
              token: githubToken(inputs, env),
              env,
              log,
              secrets,
            });
          },
        }
      : {}),
  };
}

function githubToken(inputs: ActionInputs, env: Env): string | undefined {
  return inputs.githubToken || env.GITHUB_TOKEN || undefined;
}

/**
 * The job summary: the inventory, cut to fit GitHub's limit, then whole the notes on outputs cut
 * to fit theirs and the Devgraph upload's report.
 */
async function writeJobSummary(env: Env, result: RunResult, published: Published, secrets: Secrets) {
  if (!env.GITHUB_STEP_SUMMARY) return;
  const upload = published.upload;
  // The report quotes server answers: escaped like any other outside text in the summary. The
  // notes are our own words.
  const lines = [
    ...published.outputNotes.flatMap((note) => ['', note]),
    ...(upload ? ['', '## Devgraph upload', '', ...upload.report.map((l) => `- ${escapeMarkdown(l)}`)] : []),
  ];
  const report = secrets.redact(`${lines.join('\n')}\n`);
  const inventory = fitStepSummary(
    secrets.redact(result.summary),
    'summary.md (the `summary-path` output, and the graph artifact when one is uploaded)',
    STEP_SUMMARY_LIMIT - Buffer.byteLength(report, 'utf8'),
  );
  await core.summary.addRaw(`${inventory}${report}`).write();
}

/**
 * The step's verdict: an incomplete discovery warns (or fails), a violated `require:` warns (or
 * fails), a moved immutable tag fails. Called once everything else is published.
 */
function report(inputs: ActionInputs, result: RunResult, secrets: Secrets): void {
  if (!result.complete) {
    const failed = result.graph.receipts
      .filter((r) => !r.complete)
      .map((r) => (r.repository === '*' ? r.provider : `${r.provider}/${r.repository}`));
    const message = `discovery was incomplete for ${failed.length} receipt(s): ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', …' : ''}`;
    if (inputs.failOnIncomplete) core.setFailed(message);
    else core.warning(message);
  }
  const policy = result.policy;
  if (policy && policy.violations.length > 0) {
    const message = secrets.redact(
      `policy: ${policy.failed} of ${policy.checked} images violate their selector's require: (${policy.violations.length} violations, all listed in policy-violations.json)`,
    );
    if (inputs.failOnPolicy) core.setFailed(message);
    else core.warning(message);
  }
  if (inputs.immutableTags) {
    const guard = immutableTagViolations(result.changes, inputs.immutableTags);
    if (guard.message) core.setFailed(secrets.redact(guard.message));
    else if (!result.changes)
      core.warning(
        'immutable-tags: nothing to compare with (no state-dir and no previous-graph), so moved tags cannot be detected',
      );
  }
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `inputs.config-file: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}); check the path relative to the workspace`,
    ]);
  }
}
