// What the CLI's `merge` and the action's merge mode share: shard graph files in, the graph and
// summary an unsharded run would have written out. No registry is contacted.
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Settings } from './config/settings.js';
import { ConfigError } from './errors.js';
import { diffGraphsConsuming } from './graph/diff.js';
import { readGraphFile } from './graph/graph-file.js';
import { asSource } from './graph/graph-source.js';
import { mergeShardGraphs, type ShardGraphFile } from './graph/merge.js';
import { type PreviousGraph, type RunResult, requestsNote, summarize } from './run-discovery.js';
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

/**
 * Each shard graph behind `paths`, read as a stream into a graph whose entities wait on disk
 * (graph-file.ts): a shard is never held whole. runMerge closes them.
 */
export async function readShardGraphs(paths: string[], field: string): Promise<ShardGraphFile[]> {
  const files: ShardGraphFile[] = [];
  try {
    for (const path of await findShardGraphs(paths, field)) {
      const read = await readGraphFile(path);
      if ('unreadable' in read) throw new ConfigError([`${field}: cannot read ${path} (${read.unreadable})`]);
      if ('error' in read)
        throw new ConfigError([`${field}: ${path} is not a devgraph-docker graph: ${read.error}`]);
      files.push({ source: path, graph: read.graph });
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
export function runMerge(files: ShardGraphFile[], opts: MergeRunOptions): MergeRunResult {
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
  const summary = summarize(graph, changes, opts.secrets, policy, [
    `Merged from ${merged.count} shard graphs (config ${merged.config}).`,
    ...merged.notes,
    requestsNote(merged.requests),
  ]);
  return {
    graph,
    summary,
    complete: graph.receipts.every((r) => r.complete),
    requests: merged.requests,
    ...(changes ? { changes } : {}),
    ...(policy ? { policy } : {}),
    config: merged.config,
    shards: merged.count,
  };
}
