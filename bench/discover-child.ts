// One discovery run in a process of its own, so its peak RSS is the engine's alone. The benches
// run it bundled by ncc (bench/run-child.ts); by hand, `node --import tsx` works too:
//   node --import tsx bench/discover-child.ts <configPath> <stateDir> [graphOut]
//   node --import tsx bench/discover-child.ts --baseline <configPath>
// Prints one JSON line: { wallMs, maxRssMb, complete, images, requests, graphSha256, errors }.
// --baseline loads the same modules and the config but discovers nothing: the RSS of Node and
// the engine's code, to subtract from a real run's.
// With BENCH_HEAP_PROFILE=<file>, the discovery's allocations that only a full collection freed
// (or that are still live at its end) are sampled into <file>.<pid>.heapprofile, for Chrome
// DevTools' Memory tab: what fills the old generation, and so the peak RSS.
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../src/config/load-config.js';
import { silentLog } from '../src/log.js';
import { runDiscovery } from '../src/run-discovery.js';
import { Secrets } from '../src/secrets.js';
import { hashGraph, maxRssMb, startHeapProfile } from './child-measure.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const baseline = args[0] === '--baseline';
  const [configPath, stateDir, graphOut] = baseline ? [args[1], undefined, undefined] : args;
  if (!configPath || (!baseline && !stateDir)) {
    process.stderr.write(
      'usage: discover-child.ts <configPath> <stateDir> [graphOut] | --baseline <configPath>\n',
    );
    process.exit(2);
  }
  const text = await readFile(configPath, 'utf8');
  const started = performance.now();
  const secrets = new Secrets();
  const settings = loadConfig(text, { env: process.env, secrets, origin: configPath });
  if (baseline) {
    process.stdout.write(`${JSON.stringify({ maxRssMb: maxRssMb() })}\n`);
    return;
  }
  const stopProfile = await startHeapProfile();
  const result = await runDiscovery(settings, {
    secrets,
    log: silentLog,
    ...(stateDir ? { stateDir } : {}),
    // Fixed, so the graphs of two runs can be compared byte for byte.
    generatedAt: '2000-01-01T00:00:00Z',
  });
  await stopProfile();
  const wallMs = performance.now() - started;
  const { graph } = result;
  const graphSha256 = await hashGraph(graph, secrets, graphOut);
  const line = {
    wallMs: Math.round(wallMs),
    maxRssMb: maxRssMb(),
    complete: result.complete,
    images: graph.count('DockerImage'),
    requests: result.requests,
    graphSha256,
    errors: graph.receipts.flatMap((r) => r.errors.map((e) => `${r.repository}: ${e}`)),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `discover-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
