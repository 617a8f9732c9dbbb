// The GitHub Action shell: inputs → settings → discovery → files, outputs and job summary. The
// only place that calls core.setFailed.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import { loadConfig } from '../config/load-config.js';
import { uploadToDevgraph } from '../devgraph/upload.js';
import { ConfigError, errorMessage } from '../errors.js';
import { writeGraphFile } from '../graph/graph-json.js';
import { graphDocument } from '../graph/graph-source.js';
import { formatShard, parseShard, type Shard } from '../graph/shard.js';
import { HttpClient } from '../http/http-client.js';
import type { Log } from '../log.js';
import type { DockerKind } from '../model/graph.js';
import {
  changeOutputs,
  compileImmutableTags,
  immutableTagViolations,
  renderChangeNote,
  renderChangeReport,
} from '../output/change-report.js';
import { escapeMarkdown, fitStepSummary, STEP_SUMMARY_LIMIT } from '../output/summary-markdown.js';
import { generatedAtFromEnv, type RunResult, readPreviousGraph, runDiscovery } from '../run-discovery.js';
import { readShardGraphs, runMerge } from '../run-merge.js';
import { Secrets } from '../secrets.js';
import { cacheKeys, configHash, parseCacheInputs } from '../state/cache-key.js';
import { readAmbient } from './ambient.js';
import { parseArtifactInputs, uploadGraphArtifact } from './graph-artifact.js';
import { upsertPrComment } from './pr-comment.js';
import { restoreState, saveState } from './state-cache.js';

export interface ActionInputs {
  config: string;
  configFile: string;
  concurrency?: number;
  stateDir?: string;
  outputDir: string;
  failOnIncomplete: boolean;
  previousGraph?: string;
  /** Tags that must never move to another digest (input `immutable-tags`). */
  immutableTags?: { source: string; test(tag: string): boolean };
  cache: { enabled: boolean; keyOverride?: string };
  artifact: { name: string; retentionDays?: number };
  commentOnPr: boolean;
  devgraph: { url: string; token?: string; environment?: string; dryRun: boolean };
  /** Input `shard`: discover one shard and write a shard graph. */
  shard?: Shard;
  /** Input `merge-graphs`: merge these shard graphs (files or directories) instead of discovering. */
  mergeGraphs?: string[];
}

const bool = (raw: string, name: string, problems: string[], fallback: boolean): boolean => {
  const value = raw.trim() || String(fallback);
  if (!/^(true|false)$/i.test(value)) {
    problems.push(`inputs.${name}: must be true or false, got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return value.toLowerCase() === 'true';
};

export function readInputs(env: Record<string, string | undefined>): ActionInputs {
  const problems: string[] = [];
  const config = core.getInput('config');
  const configFile = core.getInput('config-file');
  const mergeGraphs = core
    .getInput('merge-graphs')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (!config && !configFile && mergeGraphs.length === 0)
    problems.push('inputs: set "config" (inline YAML) or "config-file" (a path)');
  const rawShard = core.getInput('shard');
  let shard: Shard | undefined;
  if (rawShard) {
    const parsed = parseShard(rawShard, 'inputs.shard');
    if ('error' in parsed) problems.push(parsed.error);
    else shard = parsed.shard;
  }
  if (rawShard && mergeGraphs.length > 0)
    problems.push(
      'inputs: "shard" and "merge-graphs" are both set; shard jobs discover with "shard", the merge job merges with "merge-graphs"',
    );
  if (config && configFile) problems.push('inputs: "config" and "config-file" are both set; keep one');
  const rawConcurrency = core.getInput('concurrency');
  const concurrency = rawConcurrency ? Number(rawConcurrency) : undefined;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)) {
    problems.push(
      `inputs.concurrency: must be a whole number from 1 to 256, got ${JSON.stringify(rawConcurrency)}`,
    );
  }
  const rawFail = core.getInput('fail-on-incomplete') || 'false';
  if (!/^(true|false)$/i.test(rawFail))
    problems.push(`inputs.fail-on-incomplete: must be true or false, got ${JSON.stringify(rawFail)}`);
  const rawImmutable = core.getInput('immutable-tags');
  let immutableTags: ActionInputs['immutableTags'];
  if (rawImmutable) {
    const compiled = compileImmutableTags(rawImmutable);
    if ('error' in compiled) problems.push(compiled.error);
    else immutableTags = compiled.regex;
  }
  const cache = parseCacheInputs((n) => core.getInput(n));
  const artifact = parseArtifactInputs((n) => core.getInput(n));
  problems.push(...cache.problems, ...artifact.problems);
  const commentOnPr = bool(core.getInput('comment-on-pr'), 'comment-on-pr', problems, false);
  const devgraphUrl = core.getInput('devgraph-url') || 'https://api.devgraph.ai';
  if (!/^https?:\/\//.test(devgraphUrl))
    problems.push(`inputs.devgraph-url: must be an http(s) URL, got ${JSON.stringify(devgraphUrl)}`);
  const dryRun = bool(core.getInput('devgraph-dry-run'), 'devgraph-dry-run', problems, false);
  const devgraphToken = core.getInput('devgraph-token');
  if (devgraphToken) core.setSecret(devgraphToken);
  const devgraphEnvironment = core.getInput('devgraph-environment');
  if (shard && devgraphToken)
    problems.push(
      `inputs.devgraph-token: shard ${formatShard(shard)} holds only its own repositories, and uploading it would delete the others' from Devgraph; give devgraph-token to the merge job (merge-graphs) instead`,
    );
  if (problems.length > 0) throw new ConfigError(problems);
  const stateDir = core.getInput('state-dir');
  const previousGraph = core.getInput('previous-graph');
  return {
    config,
    configFile,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(stateDir ? { stateDir: resolve(stateDir) } : {}),
    outputDir: resolve(core.getInput('output-dir') || join(env.RUNNER_TEMP ?? '.', 'devgraph-docker')),
    failOnIncomplete: rawFail.toLowerCase() === 'true',
    ...(previousGraph ? { previousGraph: resolve(previousGraph) } : {}),
    ...(immutableTags ? { immutableTags } : {}),
    cache: { enabled: cache.enabled, ...(cache.keyOverride ? { keyOverride: cache.keyOverride } : {}) },
    artifact: {
      // Artifact names are unique per workflow run: each shard's gets its own by default.
      name:
        shard && !core.getInput('artifact-name').trim()
          ? `${artifact.name}-shard-${shard.index}-of-${shard.count}`
          : artifact.name,
      ...(artifact.retentionDays ? { retentionDays: artifact.retentionDays } : {}),
    },
    commentOnPr,
    devgraph: {
      url: devgraphUrl.replace(/\/+$/, ''),
      ...(devgraphToken ? { token: devgraphToken } : {}),
      ...(devgraphEnvironment ? { environment: devgraphEnvironment } : {}),
      dryRun,
    },
    ...(shard ? { shard } : {}),
    ...(mergeGraphs.length > 0 ? { mergeGraphs } : {}),
  };
}

export async function run(env: Record<string, string | undefined> = process.env): Promise<void> {
  const secrets = new Secrets((value) => core.setSecret(value));
  let result: RunResult | undefined;
  const log: Log = {
    info: (m) => core.info(secrets.redact(m)),
    warn: (m) => core.warning(secrets.redact(m)),
    debug: (m) => core.debug(secrets.redact(m)),
  };
  try {
    const inputs = readInputs(env);
    // Merge mode needs no config; one given there is checked against the shards'.
    const text = inputs.config || (inputs.configFile ? await readConfigFile(inputs.configFile) : undefined);
    const settings =
      text === undefined
        ? undefined
        : loadConfig(text, {
            env,
            secrets,
            origin: inputs.config ? 'config input' : inputs.configFile,
          });
    const previousGraph = inputs.previousGraph
      ? await readPreviousGraph(inputs.previousGraph, 'inputs.previous-graph', log)
      : undefined;
    let hash: string;
    let saveCache: (() => Promise<void>) | undefined;
    if (inputs.mergeGraphs) {
      const merged = runMerge(await readShardGraphs(inputs.mergeGraphs, 'inputs.merge-graphs'), {
        secrets,
        field: 'inputs.merge-graphs',
        ...(previousGraph ? { previousGraph } : {}),
        ...(settings ? { expectedConfig: configHash(settings) } : {}),
      });
      log.info(`merged ${merged.shards} shard graphs of config ${merged.config}`);
      result = merged;
      hash = merged.config;
    } else {
      if (!settings) throw new ConfigError(['inputs: set "config" (inline YAML) or "config-file" (a path)']);
      hash = configHash(settings);
      const generatedAt = generatedAtFromEnv(env);
      const ambient = await readAmbient(
        env,
        secrets,
        core.getInput('github-token') || env.GITHUB_TOKEN || undefined,
      );
      // The Actions cache carries the state between runs; without a state-dir it keeps one under RUNNER_TEMP.
      const stateDir =
        inputs.stateDir ??
        (inputs.cache.enabled && env.RUNNER_TEMP
          ? join(env.RUNNER_TEMP, 'devgraph-docker-state')
          : undefined);
      const keys = cacheKeys({
        settings,
        ...(inputs.cache.keyOverride ? { override: inputs.cache.keyOverride } : {}),
        ...(env.GITHUB_RUN_ID ? { runId: env.GITHUB_RUN_ID } : {}),
        ...(env.GITHUB_RUN_ATTEMPT ? { runAttempt: env.GITHUB_RUN_ATTEMPT } : {}),
        ...(inputs.shard ? { shard: inputs.shard } : {}),
      });
      const restored =
        inputs.cache.enabled && stateDir ? await restoreState({ dir: stateDir, keys, log }) : undefined;
      result = await runDiscovery(settings, {
        secrets,
        log,
        ambient,
        ...(previousGraph ? { previousGraph } : {}),
        ...(stateDir ? { stateDir } : {}),
        ...(inputs.concurrency ? { concurrency: inputs.concurrency } : {}),
        ...(generatedAt ? { generatedAt } : {}),
        ...(inputs.shard ? { shard: inputs.shard } : {}),
      });
      if (inputs.cache.enabled && stateDir) {
        saveCache = async () => {
          const saved = await saveState({ dir: stateDir, keys, log, ...(restored ? { restored } : {}) });
          core.setOutput('cache', saved.status);
        };
      }
    }
    await mkdir(inputs.outputDir, { recursive: true });
    const graphPath = join(inputs.outputDir, 'graph.json');
    const summaryPath = join(inputs.outputDir, 'summary.md');
    await writeGraphFile(graphPath, graphDocument(result.graph), (json) => secrets.redact(json));
    await writeFile(summaryPath, result.summary);

    const { graph } = result;
    const count = (kind: DockerKind) => String(graph.count(kind));
    core.setOutput('graph-path', graphPath);
    core.setOutput('summary-path', summaryPath);
    core.setOutput('complete', String(result.complete));
    core.setOutput('registries', count('DockerRegistry'));
    core.setOutput('repositories', count('DockerRepository'));
    core.setOutput('images', count('DockerImage'));
    core.setOutput('manifests', count('DockerManifest'));
    for (const [name, value] of Object.entries(changeOutputs(result.changes)))
      core.setOutput(name, secrets.redact(value));
    if (saveCache) await saveCache();
    // Artifacts exist only inside a workflow run; elsewhere the files on disk are the result.
    if (env.ACTIONS_RUNTIME_TOKEN) {
      const uploaded = await uploadGraphArtifact({
        name: inputs.artifact.name,
        files: [graphPath, summaryPath],
        rootDirectory: inputs.outputDir,
        ...(inputs.artifact.retentionDays ? { retentionDays: inputs.artifact.retentionDays } : {}),
        env,
        log,
      });
      if (uploaded.status === 'uploaded') {
        core.setOutput('artifact-id', String(uploaded.id));
        if (uploaded.url) core.setOutput('artifact-url', uploaded.url);
      }
    }
    if (inputs.commentOnPr) {
      const report =
        renderChangeReport(result.changes) ??
        `## Changes since last inventory\n\n${renderChangeNote(result.changes) ?? 'Nothing to compare with yet (no state-dir or previous-graph).'}\n`;
      await upsertPrComment({
        report,
        configHash: hash,
        token: core.getInput('github-token') || env.GITHUB_TOKEN || undefined,
        env,
        log,
        secrets,
      });
    }
    const devgraphLines: string[] = [];
    const configuredToken = inputs.devgraph.token ?? settings?.devgraph?.token;
    // A shard's graph lacks the other shards' repositories; the merge job uploads (readInputs
    // refuses an explicit devgraph-token here, a config's token is left for the merge).
    if (configuredToken && inputs.shard)
      log.info(
        `Devgraph upload skipped in shard ${formatShard(inputs.shard)}: the merge job uploads the merged graph`,
      );
    const devgraphToken = inputs.shard ? undefined : configuredToken;
    if (devgraphToken) {
      const http = new HttpClient();
      try {
        const environment = inputs.devgraph.environment ?? settings?.devgraph?.environment;
        const incomplete = result.graph.receipts.filter((r) => !r.complete).length;
        const upload = await uploadToDevgraph(result.graph.load(), {
          url: inputs.devgraph.url,
          token: devgraphToken,
          ...(environment ? { environment } : {}),
          // Deletes from a merge wait until every shard saw all of its repositories.
          ...(inputs.mergeGraphs && incomplete > 0
            ? { withholdDeletes: `${incomplete} incomplete receipt(s) across the shards` }
            : {}),
          dryRun: inputs.devgraph.dryRun,
          http,
          secrets,
          log,
        });
        // The report quotes server answers: escaped like any other outside text in the summary.
        devgraphLines.push(
          '',
          '## Devgraph upload',
          '',
          ...upload.report.map((l) => `- ${escapeMarkdown(l)}`),
        );
        core.setOutput('devgraph-uploaded', String(upload.ok && !upload.dryRun));
        if (!upload.ok)
          core.warning(secrets.redact(`Devgraph upload incomplete: ${upload.errors.join('; ')}`));
      } finally {
        await http.close();
      }
    }
    if (env.GITHUB_STEP_SUMMARY) {
      // The upload report stays whole after the inventory: summary.md does not have it.
      const report = secrets.redact(`${devgraphLines.join('\n')}\n`);
      const inventory = fitStepSummary(
        secrets.redact(result.summary),
        'summary.md (the `summary-path` output, and the graph artifact when one is uploaded)',
        STEP_SUMMARY_LIMIT - Buffer.byteLength(report, 'utf8'),
      );
      await core.summary.addRaw(`${inventory}${report}`).write();
    }

    if (!result.complete) {
      const failed = result.graph.receipts
        .filter((r) => !r.complete)
        .map((r) => (r.repository === '*' ? r.provider : `${r.provider}/${r.repository}`));
      const message = `discovery was incomplete for ${failed.length} receipt(s): ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', …' : ''}`;
      if (inputs.failOnIncomplete) core.setFailed(message);
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
  } catch (err) {
    core.setFailed(
      secrets.redact(err instanceof ConfigError ? err.message : `devgraph-docker: ${errorMessage(err)}`),
    );
  } finally {
    result?.graph.close();
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
