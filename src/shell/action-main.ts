// The GitHub Action shell: inputs → settings → discovery → files, outputs and job summary. The
// only place that calls core.setFailed.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import { loadConfig } from '../config/load-config.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { DockerKind } from '../graph/types.js';
import type { Log } from '../log.js';
import { changeOutputs, compileImmutableTags, immutableTagViolations } from '../output/change-report.js';
import { generatedAtFromEnv, readPreviousGraph, runDiscovery, serializeGraph } from '../run-discovery.js';
import { Secrets } from '../secrets.js';
import { readAmbient } from './ambient.js';

export interface ActionInputs {
  config: string;
  configFile: string;
  concurrency?: number;
  stateDir?: string;
  outputDir: string;
  failOnIncomplete: boolean;
  previousGraph?: string;
  /** Tags that must never move to another digest (input `immutable-tags`). */
  immutableTags?: RegExp;
}

export function readInputs(env: Record<string, string | undefined>): ActionInputs {
  const problems: string[] = [];
  const config = core.getInput('config');
  const configFile = core.getInput('config-file');
  if (!config && !configFile) problems.push('inputs: set "config" (inline YAML) or "config-file" (a path)');
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
  let immutableTags: RegExp | undefined;
  if (rawImmutable) {
    const compiled = compileImmutableTags(rawImmutable);
    if ('error' in compiled) problems.push(compiled.error);
    else immutableTags = compiled.regex;
  }
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
  };
}

export async function run(env: Record<string, string | undefined> = process.env): Promise<void> {
  const secrets = new Secrets((value) => core.setSecret(value));
  const log: Log = {
    info: (m) => core.info(secrets.redact(m)),
    warn: (m) => core.warning(secrets.redact(m)),
    debug: (m) => core.debug(secrets.redact(m)),
  };
  try {
    const inputs = readInputs(env);
    const text = inputs.config || (await readConfigFile(inputs.configFile));
    const settings = loadConfig(text, {
      env,
      secrets,
      origin: inputs.config ? 'config input' : inputs.configFile,
    });
    const generatedAt = generatedAtFromEnv(env);
    const ambient = await readAmbient(
      env,
      secrets,
      core.getInput('github-token') || env.GITHUB_TOKEN || undefined,
    );
    const previousGraph = inputs.previousGraph
      ? await readPreviousGraph(inputs.previousGraph, 'inputs.previous-graph', log)
      : undefined;
    const result = await runDiscovery(settings, {
      secrets,
      log,
      ambient,
      ...(previousGraph ? { previousGraph } : {}),
      ...(inputs.stateDir ? { stateDir: inputs.stateDir } : {}),
      ...(inputs.concurrency ? { concurrency: inputs.concurrency } : {}),
      ...(generatedAt ? { generatedAt } : {}),
    });
    await mkdir(inputs.outputDir, { recursive: true });
    const graphPath = join(inputs.outputDir, 'graph.json');
    const summaryPath = join(inputs.outputDir, 'summary.md');
    await writeFile(graphPath, serializeGraph(result.graph, secrets));
    await writeFile(summaryPath, result.summary);

    const count = (kind: DockerKind) => String(result.graph.entities.filter((e) => e.kind === kind).length);
    core.setOutput('graph-path', graphPath);
    core.setOutput('summary-path', summaryPath);
    core.setOutput('complete', String(result.complete));
    core.setOutput('registries', count('DockerRegistry'));
    core.setOutput('repositories', count('DockerRepository'));
    core.setOutput('images', count('DockerImage'));
    core.setOutput('manifests', count('DockerManifest'));
    for (const [name, value] of Object.entries(changeOutputs(result.changes)))
      core.setOutput(name, secrets.redact(value));
    if (env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(result.summary).write();

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
