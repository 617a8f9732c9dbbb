// The terminal shell: `devgraph-docker discover --config FILE [--out DIR] [--state DIR] [--concurrency N]`,
// `devgraph-docker merge --out DIR GRAPH.json...` and `devgraph-docker demo`. Exit 0 = complete,
// 2 = something could not be discovered, 1 = the run could not start. Progress goes to stderr;
// the summary to stdout.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import type { Settings } from '../config/settings.js';
import { startDemoRegistry } from '../demo/demo-registry.js';
import { sampleRepositories } from '../demo/sample-repositories.js';
import { uploadToDevgraph } from '../devgraph/upload.js';
import { ConfigError, errorMessage } from '../errors.js';
import { writeGraphFile } from '../graph/graph-json.js';
import { graphDocument } from '../graph/graph-source.js';
import { parseShard, type Shard } from '../graph/shard.js';
import { HttpClient } from '../http/http-client.js';
import type { Log } from '../log.js';
import type { Graph } from '../model/graph.js';
import { generatedAtFromEnv, readPreviousGraph, runDiscovery } from '../run-discovery.js';
import { readShardGraphs, runMerge } from '../run-merge.js';
import { Secrets } from '../secrets.js';
import { configHash } from '../state/cache-key.js';
import { readAmbient } from './ambient.js';

const DEFAULT_DEVGRAPH_URL = 'https://api.devgraph.ai';

const USAGE = `usage:
  devgraph-docker discover --config FILE [--out DIR] [--state DIR] [--previous GRAPH.json]
                           [--concurrency N] [--shard i/n] [--quiet] [UPLOAD]
  devgraph-docker merge [--out DIR] [--previous GRAPH.json] [--config FILE] [UPLOAD] GRAPH.json|DIR...
  UPLOAD: [--upload | --devgraph-dry-run] [--devgraph-url URL] [--devgraph-environment ID]
  devgraph-docker demo [--out DIR]

discover  inventories the registries in FILE and writes DIR/graph.json and DIR/summary.md
          (DIR defaults to ./devgraph-output). --state DIR keeps manifests and tag digests
          between runs so the next run fetches only what changed, and reports what changed
          since the last run at the top of the summary. --previous GRAPH.json compares with
          that graph instead (e.g. the default branch's last graph.json). --shard i/n
          discovers only shard i of n (1 ≤ i ≤ n) and writes a shard graph for merge.
merge     combines the graph.json of every shard (files, or directories holding them) into
          the graph and summary one unsharded run would have written; --config checks the
          shards were run with that config. Refuses shards of different configs, a shard
          given twice and missing shards.
demo      starts a small registry on a loopback port, discovers it, and prints the summary;
          needs no network and no credentials.

upload (discover and merge): --upload reconciles the graph into Devgraph with the token in
          $DEVGRAPH_TOKEN (else the config's discovery.opaque_token), at --devgraph-url URL
          (else the config's discovery.api_base_url, else https://api.devgraph.ai), in
          --devgraph-environment ID (else $DEVGRAPH_ENVIRONMENT, else the config's
          discovery.environment). --devgraph-dry-run prints the plan and writes nothing.
          Nothing is deleted for an incomplete discovery.

exit codes: 0 everything was discovered (and uploaded); 2 something could not be (see the
receipts); 3 the graph was written but the Devgraph upload failed; 1 bad config or arguments.`;

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const secrets = new Secrets();
  let quiet = false;
  const log: Log = {
    info: (m) => {
      if (!quiet) process.stderr.write(`${secrets.redact(m)}\n`);
    },
    warn: (m) => process.stderr.write(`warning: ${secrets.redact(m)}\n`),
    debug: (m) => {
      if (env.DEVGRAPH_DOCKER_DEBUG) process.stderr.write(`debug: ${secrets.redact(m)}\n`);
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

  if (command === 'merge') return await mergeCommand(parsed.files, values, env, secrets, log);
  const outDir = resolve(values.out ?? (command === 'demo' ? 'demo-output' : 'devgraph-output'));
  let shard: Shard | undefined;
  if (values.shard !== undefined) {
    const parsedShard = parseShard(values.shard, '--shard');
    if ('error' in parsedShard || command !== 'discover') {
      process.stderr.write(
        `devgraph-docker: ${'error' in parsedShard ? parsedShard.error : '--shard is for discover'}\n`,
      );
      return 1;
    }
    shard = parsedShard.shard;
  }
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      process.stderr.write(
        `devgraph-docker: --concurrency must be a whole number from 1 to 256, got ${JSON.stringify(values.concurrency)}\n`,
      );
      return 1;
    }
  }

  let demo: Awaited<ReturnType<typeof startDemoRegistry>> | undefined;
  try {
    let text: string;
    let origin: string;
    if (command === 'demo') {
      demo = await startDemoRegistry(sampleRepositories());
      log.info(`demo registry serving ${sampleRepositories().length} repositories at ${demo.url}`);
      text = demoConfig(demo.url);
      origin = 'demo config';
    } else {
      if (!values.config) {
        process.stderr.write(`devgraph-docker: discover needs --config FILE\n\n${USAGE}\n`);
        return 1;
      }
      origin = values.config;
      try {
        text = await readFile(values.config, 'utf8');
      } catch (err) {
        process.stderr.write(
          `devgraph-docker: cannot read --config ${values.config}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}\n`,
        );
        return 1;
      }
    }
    const settings = loadConfig(text, { env, secrets, origin });
    const previousGraph = values.previous
      ? await readPreviousGraph(resolve(values.previous), '--previous', log)
      : undefined;
    const result = await runDiscovery(settings, {
      secrets,
      log,
      ambient: await readAmbient(env, secrets, env.GITHUB_TOKEN || undefined),
      ...(values.state ? { stateDir: resolve(values.state) } : {}),
      ...(previousGraph ? { previousGraph } : {}),
      ...(concurrency ? { concurrency } : {}),
      ...(shard ? { shard } : {}),
      ...(generatedAtFromEnv(env) ? { generatedAt: generatedAtFromEnv(env)! } : {}),
    });
    try {
      await mkdir(outDir, { recursive: true });
      await writeGraphFile(join(outDir, 'graph.json'), graphDocument(result.graph), (json) =>
        secrets.redact(json),
      );
      await writeFile(join(outDir, 'summary.md'), result.summary);
      process.stdout.write(result.summary);
      log.info(`wrote ${join(outDir, 'graph.json')} and ${join(outDir, 'summary.md')}`);
      if (command === 'demo') {
        log.info(
          `try it on a real registry: devgraph-docker discover --config devgraph-docker.yml (see README)`,
        );
      }
      if (wantsUpload(values)) {
        if (shard) {
          process.stderr.write(
            `devgraph-docker: not uploading shard ${values.shard}: it holds only its own repositories; upload the merged graph (devgraph-docker merge --upload)\n`,
          );
          return 1;
        }
        const uploaded = await upload(result.graph.load(), values, env, settings, secrets, log, false);
        if (!uploaded) return 3;
      }
      return result.complete ? 0 : 2;
    } finally {
      // The entities' spill file goes now; a process that exits early loses it at exit.
      result.graph.close();
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`devgraph-docker: ${secrets.redact(err.message)}\n`);
      return 1;
    }
    process.stderr.write(`devgraph-docker: ${secrets.redact(errorMessage(err))}\n`);
    return 2;
  } finally {
    await demo?.close();
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
      concurrency: { type: 'string' },
      shard: { type: 'string' },
      upload: { type: 'boolean' },
      'devgraph-url': { type: 'string' },
      'devgraph-environment': { type: 'string' },
      'devgraph-dry-run': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (command !== undefined && command !== 'discover' && command !== 'demo' && command !== 'merge')
    throw new Error(`unknown command ${JSON.stringify(command)}`);
  if (rest.length > 0 && command !== 'merge')
    throw new Error(`unexpected argument ${JSON.stringify(rest[0])}`);
  return { command, values, files: rest };
}

/** `merge`: exit 0 when every merged receipt is complete, 2 when not, 1 when the graphs are refused. */
async function mergeCommand(
  files: string[],
  values: ReturnType<typeof parse>['values'],
  env: Record<string, string | undefined>,
  secrets: Secrets,
  log: Log,
): Promise<number> {
  if (files.length === 0) {
    process.stderr.write(`devgraph-docker: merge needs the graph.json of every shard\n\n${USAGE}\n`);
    return 1;
  }
  const outDir = resolve(values.out ?? 'devgraph-output');
  try {
    let expectedConfig: string | undefined;
    let settings: Settings | undefined;
    if (values.config) {
      let text: string;
      try {
        text = await readFile(values.config, 'utf8');
      } catch (err) {
        throw new ConfigError([
          `cannot read --config ${values.config}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
        ]);
      }
      settings = loadConfig(text, { env, secrets, origin: values.config });
      expectedConfig = configHash(settings);
    }
    const previousGraph = values.previous
      ? await readPreviousGraph(resolve(values.previous), '--previous', log)
      : undefined;
    const result = runMerge(await readShardGraphs(files, 'merge'), {
      secrets,
      field: 'merge',
      ...(previousGraph ? { previousGraph } : {}),
      ...(expectedConfig ? { expectedConfig } : {}),
    });
    await mkdir(outDir, { recursive: true });
    await writeGraphFile(join(outDir, 'graph.json'), graphDocument(result.graph), (json) =>
      secrets.redact(json),
    );
    await writeFile(join(outDir, 'summary.md'), result.summary);
    process.stdout.write(result.summary);
    log.info(
      `merged ${result.shards} shard graphs into ${join(outDir, 'graph.json')} and ${join(outDir, 'summary.md')}`,
    );
    if (
      wantsUpload(values) &&
      !(await upload(result.graph.load(), values, env, settings, secrets, log, true))
    )
      return 3;
    return result.complete ? 0 : 2;
  } catch (err) {
    process.stderr.write(`devgraph-docker: ${secrets.redact(errorMessage(err))}\n`);
    return err instanceof ConfigError ? 1 : 2;
  }
}

function wantsUpload(values: ReturnType<typeof parse>['values']): boolean {
  return values.upload === true || values['devgraph-dry-run'] === true;
}

/**
 * The Devgraph upload of a written graph; false when it failed (the graph files stay). The token
 * comes from the environment or the config, never from the command line, where every user of
 * the machine could read it in the process list.
 */
async function upload(
  graph: Graph,
  values: ReturnType<typeof parse>['values'],
  env: Record<string, string | undefined>,
  settings: Settings | undefined,
  secrets: Secrets,
  log: Log,
  merged: boolean,
): Promise<boolean> {
  const token = env.DEVGRAPH_TOKEN || settings?.devgraph?.token;
  if (!token) {
    process.stderr.write(
      'devgraph-docker: --upload needs a Devgraph API token in $DEVGRAPH_TOKEN (or discovery.opaque_token in the config)\n',
    );
    return false;
  }
  secrets.add(token);
  const environment =
    values['devgraph-environment'] || env.DEVGRAPH_ENVIRONMENT || settings?.devgraph?.environment;
  const incomplete = graph.receipts.filter((r) => !r.complete).length;
  const http = new HttpClient();
  try {
    const result = await uploadToDevgraph(graph, {
      url: (values['devgraph-url'] || settings?.devgraph?.apiBaseUrl || DEFAULT_DEVGRAPH_URL).replace(
        /\/+$/,
        '',
      ),
      token,
      ...(environment ? { environment } : {}),
      // A merge may hold shards that saw less than everything: deletes wait for a complete run.
      ...(merged && incomplete > 0
        ? { withholdDeletes: `${incomplete} incomplete receipt(s) across the shards` }
        : {}),
      dryRun: values['devgraph-dry-run'] === true,
      http,
      secrets,
      log,
    });
    // The plan, what was written and each failure were logged by the upload itself.
    return result.ok;
  } finally {
    await http.close();
  }
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
