// The publishing parts of `npm run bench -- --scale`, with no discovery before them: the graph of
// 10,000 repositories × 10 images is built by GraphBuilder from the synthetic registry's content
// (bench/scale-registry.ts; what a Harbor discovery of it reads), written as graph.json, and as
// the ten shard graphs `discover --shard i/10` would write.
// - upload: that graph.json into the Devgraph fake (test/support/fakes/devgraph-fake.ts), a first
//   upload to an empty server and an unchanged re-upload, each in a child process
//   (bench/publish-child.ts) for its peak RSS; requests counted by the fake.
// - merge: the ten shard graphs merged in a child; the merged graph.json must be the unsharded
//   one byte for byte (sha256).
//   npm run bench -- --scale --only upload|merge [--json]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import type { ProviderSettings } from '../src/config/settings.js';
import { GraphBuilder } from '../src/graph/build-graph.js';
import { shardOf } from '../src/graph/shard.js';
import type { ManifestRecord, RepositoryResult } from '../src/model/discovery.js';
import { Secrets } from '../src/secrets.js';
import { configHash } from '../src/state/cache-key.js';
import { type DevgraphFake, startDevgraphFake } from '../test/support/fakes/devgraph-fake.js';
import { hashGraph } from './child-measure.js';
import { killActiveChild, runChild } from './run-child.js';
import { PROJECT, repositoryName, type Shape, SyntheticContent } from './scale-registry.js';

export type PublishPart = 'upload' | 'merge';
export const PUBLISH_PARTS: readonly PublishPart[] = ['upload', 'merge'];

const SHAPE: Shape = { repositories: 10_000, tagsPerRepository: 10 };
const SHARDS = 10;
const CHILD_TIMEOUT_MS = 30 * 60_000;
const TOKEN = 'bench-devgraph-token';
const ENVIRONMENT = '00000000-0000-4000-8000-000000000000';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface PublishRun {
  part: PublishPart;
  /** upload: first or unchanged; merge: the merge of SHARDS shards. */
  run: 'first' | 'unchanged' | 'merge';
  images: number;
  wallMs: number;
  processMs: number;
  maxRssMb: number;
  /** Devgraph requests (upload) by operation. */
  requests: Record<string, number>;
  ok: boolean;
  detail: string;
}

function settingsFor(): { settings: ReturnType<typeof loadConfig>; provider: ProviderSettings } {
  const text = stringify({
    providers: [
      {
        name: 'scale',
        type: 'docker',
        config: {
          registry_type: 'harbor',
          api_url: 'https://harbor.example.com',
          selectors: [{ namespace_pattern: `^${PROJECT}$`, max_tags: SHAPE.tagsPerRepository }],
        },
      },
    ],
  });
  const settings = loadConfig(text, { env: {}, secrets: new Secrets(), origin: 'bench' });
  return { settings, provider: settings.providers[0]! };
}

/** Repository `r` as a Harbor discovery of the synthetic registry would hand it to GraphBuilder. */
function repositoryResult(r: number): RepositoryResult {
  // A fresh content object per repository: the registry's own keeps every image it ever made.
  const images = new SyntheticContent(SHAPE).images(r);
  const name = repositoryName(r);
  const manifests = new Map<string, ManifestRecord>();
  for (const image of images) {
    const doc = JSON.parse(image.manifest.toString('utf8')) as { layers: Array<{ digest: string }> };
    const config = JSON.parse(image.config.toString('utf8')) as {
      config: { Labels: Record<string, string> };
    };
    manifests.set(image.digest, {
      digest: image.digest,
      mediaType: OCI_MANIFEST,
      schemaVersion: 2,
      configDigest: image.configDigest,
      layerDigests: doc.layers.map((l) => l.digest),
      size: image.harborSize,
      platform: { architecture: 'amd64', os: 'linux' },
      created: image.created,
      labels: config.config.Labels,
    });
  }
  return {
    name,
    images: images.map((i) => ({ tag: i.tag, digest: i.digest, pushedAt: i.created })),
    manifests,
    receipt: {
      provider: 'scale',
      repository: name,
      complete: true,
      tags_listed: images.length,
      tags_selected: images.length,
      pages: 1,
      requests: 1 + 2 * images.length,
      errors: [],
    },
  };
}

/** The unsharded graph.json and the SHARDS shard graphs, written to `dir`. */
async function writeGraphs(
  dir: string,
  progress: (m: string) => void,
): Promise<{ graph: string; graphSha256: string; shards: string[] }> {
  const { settings, provider } = settingsFor();
  const secrets = new Secrets();
  const whole = new GraphBuilder([provider]);
  const parts = Array.from({ length: SHARDS }, () => new GraphBuilder([provider]));
  for (let r = 0; r < SHAPE.repositories; r++) {
    whole.addRepository(provider, repositoryResult(r));
    parts[shardOf(provider.name, repositoryName(r), SHARDS) - 1]!.addRepository(
      provider,
      repositoryResult(r),
    );
  }
  const at = '2000-01-01T00:00:00Z';
  const graph = join(dir, 'graph.json');
  const built = whole.finish(at);
  const graphSha256 = await hashGraph(built, secrets, graph);
  built.close();
  const shards: string[] = [];
  for (const [i, part] of parts.entries()) {
    const shard = part.finish(at, {
      index: i + 1,
      count: SHARDS,
      config: configHash(settings),
      requests: { 'vendor-api': 1 },
      notes: [],
    });
    const path = join(dir, `shard-${i + 1}.json`);
    await hashGraph(shard, secrets, path);
    shard.close();
    shards.push(path);
  }
  progress(
    `wrote graph.json (${SHAPE.repositories * SHAPE.tagsPerRepository} images) and ${SHARDS} shard graphs`,
  );
  return { graph, graphSha256, shards };
}

interface ChildLine {
  wallMs: number;
  maxRssMb: number;
  ok?: boolean;
  complete?: boolean;
  images?: number;
  graphSha256?: string;
  plan?: { byKind: Record<string, Record<string, number>>; relations: Record<string, number> };
  written?: Record<string, number>;
  notWritten?: Record<string, number>;
  errors?: string[];
}

async function child(
  args: string[],
  env?: Record<string, string>,
): Promise<{ line: ChildLine; processMs: number }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const { line, processMs } = await runChild(args, CHILD_TIMEOUT_MS, 'publish-child.ts');
    try {
      return { line: JSON.parse(line) as ChildLine, processMs };
    } catch {
      throw new Error(`publish child printed no JSON result: ${line.slice(0, 500)}`);
    }
  } finally {
    for (const k of Object.keys(env ?? {})) if (saved[k] === undefined) delete process.env[k];
  }
}

function byOperation(f: DevgraphFake, from: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of f.requests.slice(from)) out[r.operation ?? r.url] = (out[r.operation ?? r.url] ?? 0) + 1;
  return out;
}

async function uploadRuns(graph: string, progress: (m: string) => void): Promise<PublishRun[]> {
  const f = await startDevgraphFake({ token: TOKEN, environment: ENVIRONMENT, recordBodies: false });
  const runs: PublishRun[] = [];
  try {
    for (const run of ['first', 'unchanged'] as const) {
      progress(`upload: ${run}…`);
      const from = f.requests.length;
      const { line, processMs } = await child(['upload', graph, f.url, ENVIRONMENT], {
        DEVGRAPH_TOKEN: TOKEN,
      });
      const requests = byOperation(f, from);
      const writes = f.requests.slice(from).filter((r) => r.method !== 'GET').length;
      const sent = Object.values(line.written ?? {}).reduce((a, b) => a + b, 0);
      const ok =
        line.ok === true &&
        (run === 'first' ? sent > 0 : writes === 0) &&
        f.entities.size === 1 + SHAPE.repositories * (1 + 2 * SHAPE.tagsPerRepository);
      runs.push({
        part: 'upload',
        run,
        images: SHAPE.repositories * SHAPE.tagsPerRepository,
        wallMs: line.wallMs,
        processMs,
        maxRssMb: line.maxRssMb,
        requests,
        ok,
        detail: `${f.entities.size} entities and ${f.relations.length} relations stored; ${writes} writes${line.errors?.length ? `; errors: ${line.errors.slice(0, 3).join('; ')}` : ''}`,
      });
      const r = runs[runs.length - 1]!;
      progress(
        `upload: ${run} ${(r.wallMs / 1000).toFixed(1)} s, ${Object.values(requests).reduce((a, b) => a + b, 0)} requests, ${r.maxRssMb} MB${ok ? '' : ` NOT OK (${r.detail})`}`,
      );
    }
  } finally {
    await f.close();
  }
  return runs;
}

async function mergeRun(
  dir: string,
  graphs: { graphSha256: string; shards: string[] },
  progress: (m: string) => void,
): Promise<PublishRun> {
  progress(`merge: ${SHARDS} shards…`);
  const { line, processMs } = await child(['merge', join(dir, 'merged.json'), ...graphs.shards]);
  const same = line.graphSha256 === graphs.graphSha256;
  const r: PublishRun = {
    part: 'merge',
    run: 'merge',
    images: line.images ?? 0,
    wallMs: line.wallMs,
    processMs,
    maxRssMb: line.maxRssMb,
    requests: {},
    ok: same && line.complete === true,
    detail: same
      ? 'merged graph.json = unsharded graph.json (sha256)'
      : 'merged graph.json DIFFERS from the unsharded one',
  };
  progress(`merge: ${(r.wallMs / 1000).toFixed(1)} s, ${r.maxRssMb} MB; ${r.detail}`);
  return r;
}

/** Runs the given parts; the graphs are written once for all of them. */
export async function runPublishParts(
  parts: readonly PublishPart[],
  progress: (m: string) => void,
): Promise<{ runs: PublishRun[]; baselineRssMb: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'devgraph-bench-publish-'));
  const onSignal = () => {
    killActiveChild();
    void rm(dir, { recursive: true, force: true }).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const baselineRssMb = (await child(['--baseline'])).line.maxRssMb;
    const graphs = await writeGraphs(dir, progress);
    const runs: PublishRun[] = [];
    if (parts.includes('upload')) runs.push(...(await uploadRuns(graphs.graph, progress)));
    if (parts.includes('merge')) runs.push(await mergeRun(dir, graphs, progress));
    return { runs, baselineRssMb };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(dir, { recursive: true, force: true });
  }
}

export function publishMarkdown(runs: PublishRun[], baselineRssMb: number, rssLimitMb: number): string {
  const thousands = (n: number) => n.toLocaleString('en-US');
  const rows = [
    `Publishing: a graph of ${thousands(SHAPE.repositories)} repositories × ${SHAPE.tagsPerRepository} images, built by GraphBuilder from the synthetic registry's content (no discovery), uploaded into the Devgraph fake on loopback (every request validated against the OpenAPI document): first to an empty server, then unchanged; and its ${SHARDS} shard graphs merged.`,
    '',
    '| part | run | images | wall | requests | by operation | peak RSS¹ | checks |',
    '|---|---|--:|--:|--:|---|--:|---|',
  ];
  for (const x of runs) {
    const total = Object.values(x.requests).reduce((a, b) => a + b, 0);
    const ops = Object.entries(x.requests)
      .map(([k, n]) => `${k} ${thousands(n)}`)
      .join(', ');
    rows.push(
      `| ${x.part} | ${x.run === 'merge' ? `${SHARDS} shards` : x.run} | ${thousands(x.images)} | ${(x.wallMs / 1000).toFixed(1)} s | ${x.part === 'merge' ? '–' : thousands(total)} | ${ops || '–'} | ${x.maxRssMb.toFixed(0)} MB (+${(x.maxRssMb - baselineRssMb).toFixed(0)})${x.maxRssMb < rssLimitMb ? '' : ' **over**'} | ${x.ok ? 'ok' : '**not ok**'}: ${x.detail} |`,
    );
  }
  return [
    ...rows,
    '',
    `¹ of the child process; in brackets above the ${baselineRssMb.toFixed(0)} MB that Node and the bundled modules take before reading anything.`,
  ].join('\n');
}
