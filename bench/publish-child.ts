// The publishing side of `npm run bench -- --scale` in a process of its own, so its peak RSS is the
// engine's alone (bench/run-child.ts bundles it with ncc, as dist/ is built):
//   publish-child.ts upload <graph.json> <devgraphUrl> <environment>   (token in $DEVGRAPH_TOKEN)
//   publish-child.ts merge <out graph.json> <shard graph.json>...
//   publish-child.ts --baseline
// Prints one JSON line: upload { wallMs, maxRssMb, ok, plan, written, notWritten, errors },
// merge { wallMs, maxRssMb, complete, images, graphSha256 }.
// With BENCH_HEAP_PROFILE=<file>, what only full collections freed during an upload is sampled
// into <file>.<pid>.heapprofile, as bench/discover-child.ts does for a discovery.
import { uploadToDevgraph } from '../src/devgraph/upload.js';
import { readGraphFile } from '../src/graph/graph-file.js';
import { HttpClient } from '../src/http/http-client.js';
import { silentLog } from '../src/log.js';
import { readShardGraphs, runMerge } from '../src/run-merge.js';
import { Secrets } from '../src/secrets.js';
import { hashGraph, maxRssMb, startHeapProfile } from './child-measure.js';

const USAGE =
  'usage: publish-child.ts upload <graph.json> <devgraphUrl> <environment> | merge <out> <shard>... | --baseline\n';

async function upload(args: string[]): Promise<object> {
  const [path, url, environment] = args;
  const token = process.env.DEVGRAPH_TOKEN;
  if (!path || !url || !environment || !token) throw new Error(USAGE);
  const stopProfile = await startHeapProfile();
  const started = performance.now();
  const read = await readGraphFile(path);
  if (!('graph' in read)) throw new Error(`${path}: ${JSON.stringify(read)}`);
  const http = new HttpClient();
  try {
    const result = await uploadToDevgraph(read.graph, {
      url,
      token,
      environment,
      http,
      secrets: new Secrets(),
      log: silentLog,
      now: '2000-01-01T00:00:00Z',
    });
    await stopProfile();
    return {
      wallMs: Math.round(performance.now() - started),
      maxRssMb: maxRssMb(),
      ok: result.ok,
      plan: result.plan,
      written: result.written,
      notWritten: result.notWritten,
      errors: result.errors,
    };
  } finally {
    read.graph.close();
    await http.close();
  }
}

async function merge(args: string[]): Promise<object> {
  const [out, ...shards] = args;
  if (!out || shards.length === 0) throw new Error(USAGE);
  const started = performance.now();
  const secrets = new Secrets();
  const result = runMerge(await readShardGraphs(shards, 'merge'), { secrets, field: 'merge' });
  const graphSha256 = await hashGraph(result.graph, secrets, out);
  const line = {
    wallMs: Math.round(performance.now() - started),
    maxRssMb: maxRssMb(),
    complete: result.complete,
    images: result.graph.count('DockerImage'),
    graphSha256,
  };
  result.graph.close();
  return line;
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  const line =
    mode === '--baseline'
      ? { maxRssMb: maxRssMb() }
      : mode === 'upload'
        ? await upload(args)
        : mode === 'merge'
          ? await merge(args)
          : undefined;
  if (!line) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`publish-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
