// The terminal shell: `devgraph-docker discover`, `merge`, `upload` and `demo` (see USAGE). Exit 0 =
// complete, 2 = something could not be discovered, 3 = the Devgraph upload failed, 4 = an image
// violates its selector's `require:`, 1 = the run could not start. Progress goes to stderr; the summary to stdout, as plain text on a terminal
// and as summary.md's Markdown when piped (so `> report.md` keeps the Markdown).

import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import type { Settings } from '../config/settings.js';
import { type DemoRegistry, startDemoRegistry } from '../demo/demo-registry.js';
import { sampleRepositories } from '../demo/sample-repositories.js';
import { ConfigError, errorMessage } from '../errors.js';
import { asSource } from '../graph/graph-source.js';
import { parseShard, type Shard } from '../graph/shard.js';
import type { Log } from '../log.js';
import { markdownToText } from '../output/plain-text.js';
import { RunProgress } from '../output/progress.js';
import { devgraphToRead, publish, resolveUpload, sendToDevgraph, type UploadTarget } from '../publish.js';
import { DEFAULT_MAX_DELETIONS } from '../retention/apply.js';
import { generatedAtFromEnv, type RunResult, readPreviousGraph, runDiscovery } from '../run-discovery.js';
import { readShardGraphs, runMerge } from '../run-merge.js';
import { Secrets } from '../secrets.js';
import { configHash } from '../state/cache-key.js';
import { readAmbient } from './ambient.js';
import { readInUseFile } from './in-use-file.js';
import { type ProgressDisplay, progressDisplay, progressIntervalMs } from './progress-display.js';

const USAGE = `usage:
  devgraph-docker discover --config FILE [--out DIR] [--state DIR] [--previous GRAPH.json]
                           [--concurrency N] [--shard i/n] [--in-use FILE] [--quiet] [UPLOAD]
  devgraph-docker merge [--out DIR] [--previous GRAPH.json] [--config FILE] [UPLOAD] GRAPH.json|DIR...
  devgraph-docker upload --graph GRAPH.json [--config FILE] [UPLOAD]
  devgraph-docker retention apply --config FILE [discover's flags] [--max-deletions N]
  UPLOAD: [--upload | --devgraph-dry-run] [--devgraph-url URL] [--devgraph-environment ID]
  devgraph-docker demo [--out DIR] [--serve [--port N]]

discover  inventories the registries in FILE and writes DIR/graph.json, DIR/summary.md and
          DIR/report.html (DIR defaults to ./devgraph-output), DIR/policy-violations.json when a selector
          has require:, DIR/changes.json (every new, moved and removed tag) with --state or
          --previous, and DIR/retention-plan.json when a selector has retention: (--in-use FILE:
          image references the plan never deletes; nothing is deleted). --state DIR keeps manifests and tag digests
          between runs so the next run fetches only what changed, and reports what changed
          since the last run at the top of the summary. --previous GRAPH.json compares with
          that graph instead (e.g. the default branch's last graph.json). --shard i/n
          discovers only shard i of n (1 ≤ i ≤ n) and writes a shard graph for merge.
merge     combines the graph.json of every shard (files, or directories holding them) into
          the graph and summary one unsharded run would have written; --config checks the
          shards were run with that config and applies its require: policy. Refuses shards of different configs, a shard
          given twice and missing shards.
retention apply  discovers as discover does, then deletes what the retention plan lists (at most
          --max-deletions N, default 100; never for an incomplete repository, never an in-use
          or protected digest); the journal is in DIR/retention-plan.json.
upload    uploads a graph.json written before (a merged or downloaded graph) to Devgraph,
          as discover --upload does; --config gives its discovery.* upload settings.
demo      starts a small registry on a loopback port, discovers it, and prints the summary;
          needs no network and no credentials. --serve keeps the registry serving until
          Ctrl-C and prints a config to try against it (on --port N, else a free port).

upload (discover, merge and upload): --upload reconciles the graph into Devgraph with the token
          in $DEVGRAPH_TOKEN (else the config's discovery.opaque_token), at --devgraph-url URL
          (else the config's discovery.api_base_url, else https://api.devgraph.ai), in
          --devgraph-environment ID (else $DEVGRAPH_ENVIRONMENT, else the config's
          discovery.environment). --devgraph-dry-run prints the plan and writes nothing.
          Nothing is deleted for an incomplete discovery.

The summary goes to stdout: plain text on a terminal, summary.md's Markdown otherwise.

exit codes: 0 everything was discovered (and uploaded); 2 something could not be (see the
receipts); 3 the graph was written but the Devgraph upload failed; 4 an image violates its
selector's require: (see policy-violations.json); 1 bad config or arguments. When several
apply: 1, then 3, then 4, then 2.`;

type Env = Record<string, string | undefined>;
type Values = ReturnType<typeof parse>['values'];

/** What every command shares: the environment, the secrets seen so far and where progress goes. */
interface Cli {
  env: Env;
  secrets: Secrets;
  log: Log;
  /** Where a discovery's progress shows (stderr); undefined with --quiet. */
  progress: ProgressDisplay | undefined;
}

export async function main(argv: string[], env: Env): Promise<number> {
  const secrets = new Secrets();
  let quiet = false;
  // Log lines go through the progress display once there is one, so a terminal's progress line stays whole.
  let display: ProgressDisplay | undefined;
  const toStderr = (text: string) => (display ? display.write(text) : process.stderr.write(text));
  const log: Log = {
    info: (m) => {
      if (!quiet) toStderr(`${secrets.redact(m)}\n`);
    },
    warn: (m) => toStderr(`warning: ${secrets.redact(m)}\n`),
    debug: (m) => {
      if (env.DEVGRAPH_DOCKER_DEBUG) toStderr(`debug: ${secrets.redact(m)}\n`);
    },
  };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`devgraph-docker: ${errorMessage(err)}\n\n${USAGE}\n`);
    return 1;
  }
  const { command, values } = parsed;
  quiet = values.quiet === true;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 1;
  }
  if (values.graph !== undefined && command !== 'upload') {
    process.stderr.write('devgraph-docker: --graph is for upload\n');
    return 1;
  }
  try {
    display = progressDisplay(process.stderr, env, { intervalMs: progressIntervalMs(env) });
    const cli: Cli = { env, secrets, log, progress: quiet ? undefined : display };
    if (command === 'merge') return await mergeCommand(parsed.files, values, cli);
    if (command === 'upload') return await uploadCommand(values, cli);
    return await discoverCommand(command, values, cli, parsed.applyRetention);
  } catch (err) {
    process.stderr.write(`devgraph-docker: ${secrets.redact(errorMessage(err))}\n`);
    return err instanceof ConfigError ? 1 : 2;
  }
}

function parse(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      out: { type: 'string', short: 'o' },
      state: { type: 'string' },
      previous: { type: 'string' },
      'in-use': { type: 'string' },
      'max-deletions': { type: 'string' },
      concurrency: { type: 'string' },
      shard: { type: 'string' },
      graph: { type: 'string' },
      upload: { type: 'boolean' },
      'devgraph-url': { type: 'string' },
      'devgraph-environment': { type: 'string' },
      'devgraph-dry-run': { type: 'boolean' },
      serve: { type: 'boolean' },
      port: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  // `retention apply` is a discovery that then deletes what its retention plan lists.
  if (command === 'retention') {
    if (rest[0] !== 'apply' || rest.length > 1)
      throw new Error(
        `unknown retention command ${JSON.stringify(rest.join(' '))}; did you mean retention apply?`,
      );
    return { command: 'discover' as const, values, files: [], applyRetention: true };
  }
  if (values['max-deletions'] !== undefined) throw new Error('--max-deletions is for retention apply');
  if (command !== undefined && !['discover', 'demo', 'merge', 'upload'].includes(command))
    throw new Error(`unknown command ${JSON.stringify(command)}`);
  if (rest.length > 0 && command !== 'merge')
    throw new Error(`unexpected argument ${JSON.stringify(rest[0])}`);
  return {
    command: command as 'discover' | 'demo' | 'merge' | 'upload' | undefined,
    values,
    files: rest,
    applyRetention: false,
  };
}

/** --max-deletions, default 100. */
function maxDeletions(raw: string | undefined): number {
  const n = Number(raw ?? DEFAULT_MAX_DELETIONS);
  if (raw !== undefined && (!/^\d+$/.test(raw) || !Number.isInteger(n)))
    throw new ConfigError([
      `--max-deletions: must be a whole number of 0 or more (the most manifests one run may delete), got ${JSON.stringify(raw)}`,
    ]);
  return n;
}

/** `discover` and `demo`: a discovery, then its files, summary and upload. */
async function discoverCommand(
  command: 'discover' | 'demo',
  values: Values,
  cli: Cli,
  applyRetention = false,
): Promise<number> {
  const { env, secrets, log } = cli;
  const outDir = resolve(values.out ?? (command === 'demo' ? 'demo-output' : 'devgraph-output'));
  let shard: Shard | undefined;
  if (values.shard !== undefined) {
    const parsedShard = parseShard(values.shard, '--shard');
    if ('error' in parsedShard) return refuse(parsedShard.error);
    if (command !== 'discover') return refuse('--shard is for discover');
    shard = parsedShard.shard;
    if (wantsUpload(values))
      return refuse(
        `not uploading shard ${values.shard}: it holds only its own repositories; upload the merged graph (devgraph-docker merge --upload)`,
      );
  }
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
      return refuse(
        `--concurrency must be a whole number from 1 to 256, got ${JSON.stringify(values.concurrency)}`,
      );
  }
  if ((values.serve || values.port !== undefined) && command !== 'demo')
    return refuse('--serve and --port are for demo');
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return refuse(`--port must be a port number from 0 to 65535, got ${JSON.stringify(values.port)}`);

  let demo: DemoRegistry | undefined;
  try {
    let settings: Settings;
    if (command === 'demo') {
      demo = await startDemoRegistry(sampleRepositories(), { port });
      log.info(`demo registry serving ${sampleRepositories().length} repositories at ${demo.url}`);
      settings = loadConfig(demoConfig(demo.url), { env, secrets, origin: 'demo config' });
    } else {
      if (!values.config) {
        process.stderr.write(`devgraph-docker: discover needs --config FILE\n\n${USAGE}\n`);
        return 1;
      }
      settings = await loadConfigFlag(values.config, cli);
    }
    const upload = uploadTarget(values, settings, cli);
    const previousGraph = values.previous
      ? await readPreviousGraph(resolve(values.previous), '--previous', log)
      : undefined;
    const generatedAt = generatedAtFromEnv(env);
    const inUse = values['in-use']
      ? await readInUseFile(resolve(values['in-use']), '--in-use', log)
      : undefined;
    const devgraph = devgraphToRead(
      {
        url: values['devgraph-url'],
        urlField: '--devgraph-url',
        environment: values['devgraph-environment'],
        dryRun: false,
      },
      env,
      settings,
      secrets,
    );
    const result = await runDiscovery(settings, {
      secrets,
      log,
      progress: new RunProgress(cli.progress?.show),
      ...(inUse ? { inUse } : {}),
      ...(devgraph ? { devgraph } : {}),
      ...(applyRetention ? { applyRetention: { maxDeletions: maxDeletions(values['max-deletions']) } } : {}),
      ambient: await readAmbient(env, secrets, env.GITHUB_TOKEN || undefined),
      ...(values.state ? { stateDir: resolve(values.state) } : {}),
      ...(previousGraph ? { previousGraph } : {}),
      ...(concurrency ? { concurrency } : {}),
      ...(shard ? { shard } : {}),
      ...(generatedAt ? { generatedAt } : {}),
    });
    const code = await publishRun(result, { outDir, upload, merged: false }, cli);
    if (demo && values.serve) await serveDemo(demo, outDir);
    else if (demo)
      log.info(
        'try it on a real registry: devgraph-docker discover --config devgraph-docker.yml (see README)',
      );
    return code;
  } finally {
    await demo?.close();
  }
}

/** `merge`: exit 0 when every merged receipt is complete, 2 when not, 1 when the graphs are refused. */
async function mergeCommand(files: string[], values: Values, cli: Cli): Promise<number> {
  if (files.length === 0) {
    process.stderr.write(`devgraph-docker: merge needs the graph.json of every shard\n\n${USAGE}\n`);
    return 1;
  }
  const { secrets, log } = cli;
  const settings = values.config ? await loadConfigFlag(values.config, cli) : undefined;
  const upload = uploadTarget(values, settings, cli);
  const previousGraph = values.previous
    ? await readPreviousGraph(resolve(values.previous), '--previous', log)
    : undefined;
  const result = runMerge(await readShardGraphs(files, 'merge'), {
    secrets,
    field: 'merge',
    ...(previousGraph ? { previousGraph } : {}),
    ...(settings ? { expectedConfig: configHash(settings), settings } : {}),
  });
  log.info(`merged ${result.shards} shard graphs`);
  return await publishRun(
    result,
    { outDir: resolve(values.out ?? 'devgraph-output'), upload, merged: true },
    cli,
  );
}

/**
 * `upload --graph FILE`: a graph written before, uploaded as discover --upload would (a graph
 * from a file may be a merge, so deletes wait for complete receipts, as a merge's do). Same exit codes: 2 when the
 * graph's receipts are incomplete, 3 when the upload failed.
 */
async function uploadCommand(values: Values, cli: Cli): Promise<number> {
  if (!values.graph) {
    process.stderr.write(`devgraph-docker: upload needs --graph GRAPH.json\n\n${USAGE}\n`);
    return 1;
  }
  const settings = values.config ? await loadConfigFlag(values.config, cli) : undefined;
  const files = await readShardGraphs([values.graph], '--graph');
  if (files.length !== 1)
    return refuse(
      `--graph: ${values.graph} holds ${files.length} graphs; give one graph.json (merge shards first)`,
    );
  const graph = asSource(files[0]!.graph);
  if (graph.shard)
    return refuse(
      `--graph: ${values.graph} is shard ${graph.shard.index}/${graph.shard.count} of a sharded run; merge every shard's graph (devgraph-docker merge) and upload the merged graph`,
    );
  // The command itself asks for the upload: --upload is implied.
  const target = uploadTarget({ ...values, upload: true }, settings, cli)!;
  if (!target.token) {
    missingToken();
    return 3;
  }
  try {
    const uploaded = await sendToDevgraph(
      graph,
      { ...target, token: target.token },
      { secrets: cli.secrets, log: cli.log, unsure: 'in the graph file' },
    );
    if (!uploaded.ok) return 3;
    return graph.receipts.every((r) => r.complete) ? 0 : 2;
  } finally {
    graph.close();
  }
}

interface RunPlace {
  outDir: string;
  /** Set when the flags ask for an upload (resolved before the run, so bad flags cost nothing). */
  upload: UploadTarget | undefined;
  merged: boolean;
}

/** Files, summary on stdout, upload when asked for: the exit code of a discover or merge. */
async function publishRun(result: RunResult, place: RunPlace, cli: Cli): Promise<number> {
  const { secrets, log } = cli;
  try {
    const target = place.upload;
    const published = await publish(result, {
      outputDir: place.outDir,
      secrets,
      log,
      ...(target?.token ? { devgraph: { ...target, token: target.token } } : {}),
      merged: place.merged,
      ports: {
        filesWritten: ({ graphPath, summaryPath, reportPath }) => {
          process.stdout.write(process.stdout.isTTY ? markdownToText(result.summary) : result.summary);
          log.info(`wrote ${graphPath}, ${summaryPath} and ${reportPath}`);
        },
      },
    });
    if (target && !target.token) {
      missingToken();
      return 3;
    }
    if (published.upload && !published.upload.ok) return 3;
    // A violation is a fact about an image that was seen, whatever else was missed: it outranks
    // an incomplete discovery, so a check on 4 is not hidden by an unreachable repository.
    const violated = result.policy?.violations.length ?? 0;
    if (violated > 0) {
      log.warn(
        `policy: ${result.policy!.failed} of ${result.policy!.checked} images violate their selector's require: (${violated} violations); see ${published.policyPath}`,
      );
      return 4;
    }
    return result.complete ? 0 : 2;
  } finally {
    // The entities' spill file goes now; a process that exits early loses it at exit.
    result.graph.close();
  }
}

function wantsUpload(values: Values): boolean {
  return values.upload === true || values['devgraph-dry-run'] === true;
}

/**
 * The flags' upload settings, resolved as the Action's inputs are. No token flag: a token on a
 * command line is readable by every user of the machine in the process list.
 */
function uploadTarget(values: Values, settings: Settings | undefined, cli: Cli): UploadTarget | undefined {
  if (!wantsUpload(values)) return undefined;
  return resolveUpload(
    {
      url: values['devgraph-url'],
      urlField: '--devgraph-url',
      environment: values['devgraph-environment'],
      dryRun: values['devgraph-dry-run'] === true,
    },
    cli.env,
    settings,
    cli.secrets,
  );
}

function missingToken(): void {
  process.stderr.write(
    'devgraph-docker: --upload needs a Devgraph API token in $DEVGRAPH_TOKEN (or discovery.opaque_token in the config)\n',
  );
}

function refuse(message: string): number {
  process.stderr.write(`devgraph-docker: ${message}\n`);
  return 1;
}

async function loadConfigFlag(path: string, cli: Cli): Promise<Settings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `cannot read --config ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
    ]);
  }
  return loadConfig(text, { env: cli.env, secrets: cli.secrets, origin: path });
}

/**
 * `demo --serve`: the registry stays up for the person to try configs against, until Ctrl-C (or
 * SIGTERM). What to try is written beside the demo's graph and printed even with --quiet: it is
 * what was asked for.
 */
async function serveDemo(demo: DemoRegistry, outDir: string): Promise<void> {
  const configPath = join(outDir, 'demo-config.yml');
  await writeFile(configPath, demoConfig(demo.url));
  process.stderr.write(
    `\nThe demo registry keeps serving at ${demo.url} until Ctrl-C.\n` +
      `Try a config against it (written to ${configPath}):\n\n${demoConfig(demo.url)}\n` +
      `  devgraph-docker discover --config ${configPath} --state ${join(outDir, 'state')}\n\n` +
      `or point a config of your own at it: registry_type: private, api_url: ${demo.url}\n`,
  );
  await new Promise<void>((stopped) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      stopped();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stderr.write('demo registry stopped\n');
}

function demoConfig(url: string): string {
  return `providers:
  - name: demo
    type: docker
    config:
      registry_type: private
      api_url: ${url}
      selectors:
        - namespace_pattern: "library"
          max_tags: 3
        - namespace_pattern: "acme"
          exclude_tags: ["^sha-"]
          max_tags: 5
`;
}
