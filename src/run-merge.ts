// What the CLI's `merge` and the action's merge mode share: shard graph files in, the graph and
// summary an unsharded run would have written out. No registry is contacted.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Settings } from './config/settings.js';
import { ConfigError } from './errors.js';
import { diffGraphsConsuming } from './graph/diff.js';
import { readGraphFile } from './graph/graph-file.js';
import { asSource } from './graph/graph-source.js';
import { mergeShardGraphs, type ShardGraphFile } from './graph/merge.js';
import { combineReports, readPlanFile } from './retention/plan-file.js';
import { RetentionPlanner, type RetentionReport } from './retention/retention-planner.js';
import {
  type PreviousGraph,
  type RunResult,
  requestsNote,
  retentionNote,
  summarize,
} from './run-discovery.js';
import type { Secrets } from './secrets.js';
import { evaluatePolicy } from './supply-chain/policy.js';

export interface MergeRunOptions {
  secrets: Secrets;
  /** The flag or input the graphs came from, for messages (`merge`, `inputs.merge-graphs`). */
  field: string;
  previousGraph?: PreviousGraph;
  /** configHash of the config given alongside, when one is: the shards must match it. */
  expectedConfig?: string;
  /** The config given alongside: its selectors' `require:` is applied to the merged graph. */
  settings?: Settings;
}

export interface MergeRunResult extends RunResult {
  /** The config hash the shards share. */
  config: string;
  shards: number;
}

/**
 * The graph files behind `paths`: a file is itself; a directory gives every `graph.json` below it
 * (a download-artifact directory holds one sub-directory per shard artifact).
 */
export async function findShardGraphs(paths: string[], field: string): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) {
    const full = resolve(path);
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(full)).isDirectory();
    } catch (err) {
      throw new ConfigError([
        `${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}); give the shard graph files or the directory they were downloaded to`,
      ]);
    }
    if (!isDirectory) {
      found.push(full);
      continue;
    }
    const below = (await readdir(full, { recursive: true }))
      .filter((f) => basename(f) === 'graph.json')
      .sort()
      .map((f) => join(full, f));
    if (below.length === 0)
      throw new ConfigError([
        `${field}: ${path} is a directory with no graph.json in it; did the shard artifacts download there?`,
      ]);
    found.push(...below);
  }
  return [...new Set(found)];
}

/** A shard's graph and, when the shard wrote one, its retention plan. */
export interface ShardFile extends ShardGraphFile {
  /** The retention-plan.json beside the shard's graph.json, as the shard wrote it. */
  retention?: RetentionReport;
}

/** The file a shard writes its retention plan to, beside its graph.json (publish.ts). */
const PLAN_FILE = 'retention-plan.json';

/**
 * Each shard graph behind `paths`, read as a stream into a graph whose entities wait on disk
 * (graph-file.ts): a shard is never held whole. runMerge closes them. A graph.json brings the
 * retention-plan.json beside it, as the shard's output directory and artifact hold them.
 */
export async function readShardGraphs(paths: string[], field: string): Promise<ShardFile[]> {
  const files: ShardFile[] = [];
  try {
    for (const path of await findShardGraphs(paths, field)) {
      const read = await readGraphFile(path);
      if ('unreadable' in read) throw new ConfigError([`${field}: cannot read ${path} (${read.unreadable})`]);
      if ('error' in read)
        throw new ConfigError([`${field}: ${path} is not a devgraph-docker graph: ${read.error}`]);
      const file: ShardFile = { source: path, graph: read.graph };
      files.push(file);
      // Only beside a graph.json: two renamed graph files in one directory would share one plan.
      if (basename(path) !== 'graph.json') continue;
      const planPath = join(dirname(path), PLAN_FILE);
      const plan = await readPlanFile(planPath);
      if ('error' in plan) throw new ConfigError([`${field}: ${planPath}: ${plan.error}`]);
      if ('report' in plan) file.retention = plan.report;
    }
  } catch (err) {
    for (const f of files) asSource(f.graph).close();
    throw err;
  }
  return files;
}

/**
 * Refuses (ConfigError) graphs that are not every shard of one config, each once. The shard
 * graphs are spent: their spill files are removed once merged. Close the result's graph when done.
 */
export function runMerge(files: ShardFile[], opts: MergeRunOptions): MergeRunResult {
  // Read before the graphs are spent.
  const shards = files.map((f) => ({ ...f, shard: asSource(f.graph).shard }));
  let merged: ReturnType<typeof mergeShardGraphs>;
  try {
    merged = mergeShardGraphs(files, {
      ...(opts.expectedConfig !== undefined ? { expectedConfig: opts.expectedConfig } : {}),
    });
  } finally {
    for (const f of files) asSource(f.graph).close();
  }
  if ('problems' in merged) throw new ConfigError(merged.problems.map((p) => `${opts.field}: ${p}`));
  const { graph } = merged;
  const changes = opts.previousGraph ? diffGraphsConsuming(opts.previousGraph.inventory, graph) : undefined;
  const policy = opts.settings ? evaluatePolicy(graph, opts.settings.providers) : undefined;
  let retention: RetentionReport | undefined;
  try {
    retention = mergedRetention(shards, opts);
  } catch (err) {
    graph.close();
    throw err;
  }
  const summary = summarize(graph, changes, opts.secrets, policy, [
    `Merged from ${merged.count} shard graphs (config ${merged.config}).`,
    ...merged.notes,
    ...(retention ? [retentionNote(retention)] : []),
    requestsNote(merged.requests),
  ]);
  return {
    graph,
    summary,
    complete: graph.receipts.every((r) => r.complete),
    requests: merged.requests,
    ...(changes ? { changes } : {}),
    ...(policy ? { policy } : {}),
    ...(retention ? { retention } : {}),
    config: merged.config,
    shards: merged.count,
  };
}

/**
 * The retention plan an unsharded run would have written, from the shards' plans; undefined when
 * there is none to write. Every shard must bring its plan when the config given has `retention:`,
 * or (without a config) when another shard brought one: a merged plan short of a shard's
 * repositories would look complete.
 */
function mergedRetention(
  shards: ReadonlyArray<ShardFile & { shard: { index: number; count: number } | undefined }>,
  opts: MergeRunOptions,
): RetentionReport | undefined {
  const wanted = opts.settings
    ? RetentionPlanner.wanted(opts.settings.providers)
    : shards.some((s) => s.retention);
  if (!wanted) return undefined;
  const why = opts.settings ? "the config's selectors have retention:" : 'other shards brought one';
  const missing = shards
    .filter((s) => !s.retention)
    .map(
      (s) =>
        `${opts.field}: shard ${s.shard ? `${s.shard.index}/${s.shard.count}` : ''} (${s.source}) has no ${PLAN_FILE} beside it, but ${why}; give each shard's whole output directory or artifact (graph.json with ${PLAN_FILE} beside it)`,
    );
  if (missing.length > 0) throw new ConfigError(missing);
  const ordered = [...shards].sort((a, b) => (a.shard?.index ?? 0) - (b.shard?.index ?? 0));
  return combineReports(ordered.map((s) => s.retention!));
}
