// The Action's inputs, as one schema over the raw strings the runner hands over (action.yml's
// `inputs:`, a test holds the two to the same keys). Every problem names its input and is
// reported together with the others, before anything is contacted.

import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { formatShard, parseShard, type Shard } from '../graph/shard.js';
import { compileImmutableTags } from '../output/change-report.js';
import { httpUrlProblem } from '../publish.js';
import { DEFAULT_MAX_DELETIONS } from '../retention/apply.js';
import { cacheKeyProblem } from '../state/cache-key.js';
import { DEFAULT_ARTIFACT_NAME, parseArtifactInputs } from './graph-artifact.js';

export interface ActionInputs {
  config: string;
  configFile: string;
  concurrency?: number;
  stateDir?: string;
  outputDir: string;
  githubToken?: string;
  failOnIncomplete: boolean;
  /** Fail the step when an image violates its selector's `require:` (input `fail-on-policy`). */
  failOnPolicy: boolean;
  previousGraph?: string;
  /** A file of image references retention never deletes (input `in-use`). */
  inUse?: string;
  /** Delete what the retention plan lists (input `retention-apply`), at most `maxDeletions`. */
  retentionApply: boolean;
  maxDeletions: number;
  /** Tags that must never move to another digest (input `immutable-tags`). */
  immutableTags?: { source: string; test(tag: string): boolean };
  cache: { enabled: boolean; keyOverride?: string };
  artifact: { name: string; retentionDays?: number };
  commentOnPr: boolean;
  /** Only what the inputs say; resolveUpload adds the environment's and the config's. */
  devgraph: { url?: string; token?: string; environment?: string; dryRun: boolean };
  /** Input `shard`: discover one shard and write a shard graph. */
  shard?: Shard;
  /** Input `merge-graphs`: merge these shard graphs (files or directories) instead of discovering. */
  mergeGraphs?: string[];
}

/** A field that either parses or says why not; `why` already names the input. */
function checked<T>(parse: (raw: string) => { value: T } | { problem: string }) {
  return z.string().transform((raw, ctx) => {
    const parsed = parse(raw.trim());
    if ('value' in parsed) return parsed.value;
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  });
}

/** The one reading of a true/false input: empty is the default, case does not matter. */
function flag(name: string, fallback: boolean) {
  return checked<boolean>((raw) => {
    const value = raw || String(fallback);
    if (!/^(true|false)$/i.test(value))
      return { problem: `inputs.${name}: must be true or false, got ${JSON.stringify(raw)}` };
    return { value: value.toLowerCase() === 'true' };
  });
}

const text = z.string().transform((raw) => raw.trim());

const inputShape = {
  config: z.string(),
  'config-file': text,
  concurrency: checked((raw) => {
    if (!raw) return { value: undefined };
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 256)
      return {
        problem: `inputs.concurrency: must be a whole number from 1 to 256, got ${JSON.stringify(raw)}`,
      };
    return { value: n };
  }),
  'state-dir': text,
  'output-dir': text,
  'github-token': text,
  'fail-on-incomplete': flag('fail-on-incomplete', false),
  'fail-on-policy': flag('fail-on-policy', false),
  'previous-graph': text,
  'in-use': text,
  'retention-apply': flag('retention-apply', false),
  'max-deletions': checked((raw) => {
    const n = Number(raw || DEFAULT_MAX_DELETIONS);
    if (!Number.isInteger(n) || n < 0)
      return {
        problem: `inputs.max-deletions: must be a whole number of 0 or more (the most manifests one run may delete), got ${JSON.stringify(raw)}`,
      };
    return { value: n };
  }),
  'immutable-tags': checked((raw) => {
    if (!raw) return { value: undefined };
    const compiled = compileImmutableTags(raw);
    return 'error' in compiled ? { problem: compiled.error } : { value: compiled.regex };
  }),
  cache: flag('cache', true),
  'cache-key': checked((raw) => {
    const problem = raw ? cacheKeyProblem(raw) : undefined;
    return problem ? { problem } : { value: raw || undefined };
  }),
  'artifact-name': text,
  'artifact-retention-days': text,
  'comment-on-pr': flag('comment-on-pr', false),
  'devgraph-url': checked((raw) => {
    const problem = raw ? httpUrlProblem(raw, 'inputs.devgraph-url') : undefined;
    return problem ? { problem } : { value: raw || undefined };
  }),
  'devgraph-token': text,
  'devgraph-environment': text,
  'devgraph-dry-run': flag('devgraph-dry-run', false),
  shard: checked((raw) => {
    if (!raw) return { value: undefined };
    const parsed = parseShard(raw, 'inputs.shard');
    return 'error' in parsed ? { problem: parsed.error } : { value: parsed.shard };
  }),
  'merge-graphs': z.string().transform((raw) =>
    raw
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean),
  ),
};

export type ActionInputName = keyof typeof inputShape;
export const ACTION_INPUT_NAMES = Object.keys(inputShape) as ActionInputName[];

/** The inputs that only make sense together (or apart), checked once each is valid on its own. */
const actionInputsSchema = z.object(inputShape).superRefine((i, ctx) => {
  const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (!i.config && !i['config-file'] && i['merge-graphs'].length === 0)
    problem('inputs: set "config" (inline YAML) or "config-file" (a path)');
  if (i.shard && i['merge-graphs'].length > 0)
    problem(
      'inputs: "shard" and "merge-graphs" are both set; shard jobs discover with "shard", the merge job merges with "merge-graphs"',
    );
  if (i.config && i['config-file']) problem('inputs: "config" and "config-file" are both set; keep one');
  for (const p of parseArtifactInputs((n) => i[n as ActionInputName] as string).problems) problem(p);
  if (i.shard && i['devgraph-token'])
    problem(
      `inputs.devgraph-token: shard ${formatShard(i.shard)} holds only its own repositories, and uploading it would delete the others' from Devgraph; give devgraph-token to the merge job (merge-graphs) instead`,
    );
});

/**
 * Parses every input (`read` returns '' for one not given, as core.getInput does); throws a
 * ConfigError listing every problem. `onSecret` sees the Devgraph token before anything can
 * print it.
 */
export function parseActionInputs(
  read: (name: ActionInputName) => string,
  env: Record<string, string | undefined>,
  onSecret: (value: string) => void,
): ActionInputs {
  const raw = Object.fromEntries(ACTION_INPUT_NAMES.map((n) => [n, read(n)])) as Record<
    ActionInputName,
    string
  >;
  if (raw['devgraph-token'].trim()) onSecret(raw['devgraph-token'].trim());
  const parsed = actionInputsSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => i.message));
  const i = parsed.data;
  const artifact = parseArtifactInputs((n) => raw[n as ActionInputName]);
  const mergeGraphs = i['merge-graphs'];
  const { shard } = i;
  return {
    config: i.config,
    configFile: i['config-file'],
    ...(i.concurrency !== undefined ? { concurrency: i.concurrency } : {}),
    ...(i['state-dir'] ? { stateDir: resolve(i['state-dir']) } : {}),
    outputDir: resolve(i['output-dir'] || join(env.RUNNER_TEMP ?? '.', 'devgraph-docker')),
    ...(i['github-token'] ? { githubToken: i['github-token'] } : {}),
    failOnIncomplete: i['fail-on-incomplete'],
    failOnPolicy: i['fail-on-policy'],
    ...(i['previous-graph'] ? { previousGraph: resolve(i['previous-graph']) } : {}),
    ...(i['in-use'] ? { inUse: resolve(i['in-use']) } : {}),
    retentionApply: i['retention-apply'],
    maxDeletions: i['max-deletions'] ?? DEFAULT_MAX_DELETIONS,
    ...(i['immutable-tags'] ? { immutableTags: i['immutable-tags'] } : {}),
    cache: { enabled: i.cache, ...(i['cache-key'] ? { keyOverride: i['cache-key'] } : {}) },
    artifact: {
      // Artifact names are unique per workflow run: each shard's gets its own unless another name
      // is chosen. The runner passes action.yml's default as if given, so it counts as not chosen.
      name:
        shard && artifact.name === DEFAULT_ARTIFACT_NAME
          ? `${artifact.name}-shard-${shard.index}-of-${shard.count}`
          : artifact.name,
      ...(artifact.retentionDays ? { retentionDays: artifact.retentionDays } : {}),
    },
    commentOnPr: i['comment-on-pr'],
    devgraph: {
      ...(i['devgraph-url'] ? { url: i['devgraph-url'] } : {}),
      ...(i['devgraph-token'] ? { token: i['devgraph-token'] } : {}),
      ...(i['devgraph-environment'] ? { environment: i['devgraph-environment'] } : {}),
      dryRun: i['devgraph-dry-run'],
    },
    ...(shard ? { shard } : {}),
    ...(mergeGraphs.length > 0 ? { mergeGraphs } : {}),
  };
}
