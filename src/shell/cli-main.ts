// The terminal shell: `devgraph-docker discover --config FILE [--out DIR] [--state DIR] [--concurrency N]`
// and `devgraph-docker demo`. Exit 0 = complete, 2 = something could not be discovered, 1 = the run
// could not start. Progress goes to stderr; the summary to stdout.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { startDemoRegistry } from '../demo/demo-registry.js';
import { sampleRepositories } from '../demo/sample-repositories.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { Log } from '../log.js';
import { generatedAtFromEnv, readPreviousGraph, runDiscovery, serializeGraph } from '../run-discovery.js';
import { Secrets } from '../secrets.js';
import { readAmbient } from './ambient.js';

const USAGE = `usage:
  devgraph-docker discover --config FILE [--out DIR] [--state DIR] [--previous GRAPH.json]
                           [--concurrency N] [--quiet]
  devgraph-docker demo [--out DIR]

discover  inventories the registries in FILE and writes DIR/graph.json and DIR/summary.md
          (DIR defaults to ./devgraph-output). --state DIR keeps manifests and tag digests
          between runs so the next run fetches only what changed, and reports what changed
          since the last run at the top of the summary. --previous GRAPH.json compares with
          that graph instead (e.g. the default branch's last graph.json).
demo      starts a small registry on a loopback port, discovers it, and prints the summary;
          needs no network and no credentials.

exit codes: 0 everything was discovered; 2 something could not be (see the receipts); 1 bad
config or arguments.`;

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

  const outDir = resolve(values.out ?? (command === 'demo' ? 'demo-output' : 'devgraph-output'));
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
      ...(generatedAtFromEnv(env) ? { generatedAt: generatedAtFromEnv(env)! } : {}),
    });
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'graph.json'), serializeGraph(result.graph, secrets));
    await writeFile(join(outDir, 'summary.md'), result.summary);
    process.stdout.write(result.summary);
    log.info(`wrote ${join(outDir, 'graph.json')} and ${join(outDir, 'summary.md')}`);
    if (command === 'demo') {
      log.info(
        `try it on a real registry: devgraph-docker discover --config devgraph-docker.yml (see README)`,
      );
    }
    return result.complete ? 0 : 2;
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
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (command !== undefined && command !== 'discover' && command !== 'demo')
    throw new Error(`unknown command ${JSON.stringify(command)}`);
  if (rest.length > 0) throw new Error(`unexpected argument ${JSON.stringify(rest[0])}`);
  return { command, values };
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
