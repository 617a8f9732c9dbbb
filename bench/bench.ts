// `npm run bench`: discovery against a real registry (Debian docker-registry 2.8, open auth)
// seeded with 20 repositories × 25 tags, behind a proxy that adds 25 ms to every request and
// counts requests by kind. A cold run (empty state directory) and a warm run (the state the cold
// run left), each in a child process so peak RSS is the engine's; repeated (default 3 pairs, each
// with a fresh state directory) and reported at the median, because a shared 2-CPU host is noisy.
//   npm run bench [-- --json] [-- --repeat N] [-- --no-supply-chain] [-- --retention]
//     (--no-supply-chain: supply_chain: false; --retention: a retention plan, keep_newest: 10)
//   npm run bench -- --vendors [--json]   the vendor fakes instead (bench/vendors.ts)
//   npm run bench -- --scale [--only harbor|harbor-listing|oci] [--shape RxT] [--concurrency N] [--json]   100,000 tags (bench/scale.ts)
// Exits 0 whether the targets are met or not; non-zero only when something crashed.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapLimit, pushRepository } from '../test/support/push-content.js';
import { startRegistry } from '../test/support/registry-process.js';
import { buildDataset, type Dataset, TAGS_PER_REPOSITORY } from './dataset.js';
import {
  type Concurrency,
  type CountingProxy,
  emptyCounts,
  type KindCounts,
  PROXY_KINDS,
  startCountingProxy,
} from './proxy.js';
import { killActiveChild, runChild } from './run-child.js';

const DELAY_MS = 25;
const CHILD_TIMEOUT_MS = 120_000;
/** Requests in flight per host unless configured: HttpClient's default `concurrencyPerHost`. */
const ENGINE_CONCURRENCY = 16;

const TARGETS = {
  cold: { maxPerTag: 3.5, maxWallMs: 5000 },
  warm: { maxPerTag: 1.2, maxWallMs: 2000 },
} as const;

type Label = keyof typeof TARGETS;

interface ChildReport {
  wallMs: number;
  maxRssMb: number;
  complete: boolean;
  images: number;
  requests: Record<string, number>;
  graphSha256: string;
  errors: string[];
}

/** One child run as the engine and the proxy saw it. */
interface Sample {
  engine: ChildReport;
  /** Child process lifetime, Node start-up included. */
  processMs: number;
  proxy: KindCounts;
  /** Of the manifest GETs, those answered 304 (tag unchanged, nothing sent). */
  proxyNotModified: number;
  proxyTotal: number;
  engineByKind: KindCounts;
  engineTotal: number;
  concurrency: Concurrency;
  proxyErrors: string[];
  graphPath: string;
  /** Warm only: how its graph differs from its cold run's (receipt request counts aside). */
  graphDiff?: string[];
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface LabelReport {
  label: Label;
  samples: Sample[];
  /** The sample with the median engine wall time; its figures are the ones reported. */
  median: Sample;
  checks: Check[];
}

interface GraphDoc {
  entities: Array<{ kind: string; metadata: { namespace: string; name: string } }>;
  relations: unknown[];
  receipts: Array<Record<string, unknown>>;
}

/** The engine's request kinds folded onto the proxy's. */
function engineKinds(requests: Record<string, number>): KindCounts {
  const out = emptyCounts();
  const map: Record<string, keyof KindCounts> = {
    ping: 'ping',
    catalog: 'catalog',
    tags: 'tags',
    manifest: 'manifest-get',
    'manifest-head': 'manifest-head',
    blob: 'blob-get',
    referrers: 'referrers',
    'referrers-probe': 'referrers',
  };
  for (const [kind, n] of Object.entries(requests)) out[map[kind] ?? 'other'] += n;
  return out;
}

const sum = (c: KindCounts) => Object.values(c).reduce((a, b) => a + b, 0);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function discoverOnce(
  proxy: CountingProxy,
  configPath: string,
  stateDir: string,
  graphPath: string,
): Promise<Sample> {
  proxy.reset();
  const { line, processMs } = await runChild([configPath, stateDir, graphPath], CHILD_TIMEOUT_MS);
  let engine: ChildReport;
  try {
    engine = JSON.parse(line) as ChildReport;
  } catch {
    throw new Error(`discovery child printed no JSON result: ${line.slice(0, 500)}`);
  }
  const proxyCounts = proxy.counts();
  const engineByKind = engineKinds(engine.requests);
  return {
    engine,
    processMs,
    proxy: proxyCounts,
    proxyNotModified: proxy.notModified(),
    proxyTotal: sum(proxyCounts),
    engineByKind,
    engineTotal: sum(engineByKind),
    concurrency: proxy.concurrency(),
    proxyErrors: proxy.errors(),
    graphPath,
  };
}

/** The first field path at which two JSON values differ, or undefined when equal. */
function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (a === b) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return `${path || '(value)'}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k,
    );
    if (d) return d;
  }
  return undefined;
}

/**
 * Entity by entity (then relations and receipts) how graph `b` differs from graph `a`. A
 * receipt's `requests` is left out: a warm run is meant to need fewer.
 */
async function diffGraphs(pathA: string, pathB: string): Promise<string[]> {
  const load = async (p: string) => JSON.parse(await readFile(p, 'utf8')) as GraphDoc;
  const [a, b] = [await load(pathA), await load(pathB)];
  const out: string[] = [];
  const key = (e: GraphDoc['entities'][number]) => `${e.kind} ${e.metadata.namespace}/${e.metadata.name}`;
  const aBy = new Map(a.entities.map((e) => [key(e), e]));
  const bBy = new Map(b.entities.map((e) => [key(e), e]));
  for (const [k, e] of aBy) {
    const other = bBy.get(k);
    const d = other ? firstDifference(e, other) : 'missing';
    if (d) out.push(`${k}: ${d}`);
  }
  for (const k of bBy.keys()) if (!aBy.has(k)) out.push(`${k}: new`);
  const rels = (g: GraphDoc) => new Set(g.relations.map((r) => JSON.stringify(r)));
  const [ra, rb] = [rels(a), rels(b)];
  const lost = [...ra].filter((r) => !rb.has(r)).length;
  const gained = [...rb].filter((r) => !ra.has(r)).length;
  if (lost || gained) out.push(`relations: ${lost} missing, ${gained} new`);
  const receipts = (g: GraphDoc) => g.receipts.map(({ requests: _ignored, ...rest }) => rest);
  const d = firstDifference(receipts(a), receipts(b), 'receipts');
  if (d) out.push(d);
  return out;
}

function median(samples: Sample[]): Sample {
  const sorted = [...samples].sort((x, y) => x.engine.wallMs - y.engine.wallMs);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function evaluate(label: Label, samples: Sample[], dataset: Dataset): LabelReport {
  const m = median(samples);
  const target = TARGETS[label];
  const perTag = m.proxyTotal / dataset.tags;
  const checks: Check[] = [];
  if (label === 'warm') {
    checks.push(
      {
        // Known tags are asked with If-None-Match: each answer must be a 304 with no manifest in it.
        name: 'no manifest sent',
        ok: m.proxy['manifest-get'] === m.proxyNotModified,
        detail: `${m.proxy['manifest-get'] - m.proxyNotModified} = 0 (${m.proxyNotModified} conditional GETs answered 304)`,
      },
      { name: 'no blob GETs', ok: m.proxy['blob-get'] === 0, detail: `${m.proxy['blob-get']} = 0` },
    );
  }
  checks.push(
    {
      name: 'requests per tag',
      ok: perTag <= target.maxPerTag,
      detail: `${perTag.toFixed(2)} ≤ ${target.maxPerTag}`,
    },
    {
      name: 'wall time (median)',
      ok: m.engine.wallMs < target.maxWallMs,
      detail: `${seconds(m.engine.wallMs)} < ${target.maxWallMs / 1000} s`,
    },
  );
  const incomplete = samples.filter((s) => !s.engine.complete).length;
  checks.push({
    name: 'complete',
    ok: incomplete === 0,
    detail: incomplete === 0 ? 'every receipt complete' : `${incomplete} run(s) INCOMPLETE`,
  });
  const wrongImages = samples.filter((s) => s.engine.images !== dataset.imageTags);
  checks.push({
    name: 'images',
    ok: wrongImages.length === 0,
    detail: `${wrongImages[0]?.engine.images ?? m.engine.images} = ${dataset.imageTags} (${dataset.tags} tags − ${dataset.signatureTags} signature tags)`,
  });
  const disagree = samples.filter((s) => PROXY_KINDS.some((k) => s.proxy[k] !== s.engineByKind[k]));
  checks.push({
    name: 'engine count = proxy count',
    ok: disagree.length === 0,
    detail:
      disagree.length === 0
        ? `${m.engineTotal} = ${m.proxyTotal}`
        : `${disagree.length} run(s) differ, e.g. engine ${disagree[0]!.engineTotal} vs proxy ${disagree[0]!.proxyTotal}`,
  });
  if (samples.length > 1) {
    const first = JSON.stringify(samples[0]!.proxy);
    const varying = samples.filter((s) => JSON.stringify(s.proxy) !== first).length;
    checks.push({
      name: 'same requests every run',
      ok: varying === 0,
      detail: varying === 0 ? `${samples.length} runs alike` : `${varying} of ${samples.length} runs differ`,
    });
  }
  if (label === 'warm') {
    const diffs = samples.filter((s) => (s.graphDiff?.length ?? 0) > 0);
    checks.push({
      name: 'graph same as cold',
      ok: diffs.length === 0,
      detail:
        diffs.length === 0
          ? 'identical (receipt request counts aside)'
          : `${diffs.length} run(s) DIFFER, ${diffs[0]!.graphDiff!.length} differences`,
    });
  }
  return { label, samples, median: m, checks };
}

function table(rows: string[][], align: ('l' | 'r')[]): string {
  const widths = align.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (align[c] === 'r' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function render(r: LabelReport, dataset: Dataset, baselineRssMb: number): string {
  const m = r.median;
  const title =
    r.label === 'cold'
      ? 'COLD run: fresh, empty state directory'
      : 'WARM run: the state directory its cold run left';
  const lines = [title, '='.repeat(title.length)];
  const walls = r.samples.map((s) => (s.engine.wallMs / 1000).toFixed(2)).join(', ');
  const rss = r.samples.map((s) => s.engine.maxRssMb.toFixed(0)).join(', ');
  const lowerBound = (m.proxyTotal * DELAY_MS) / ENGINE_CONCURRENCY;
  lines.push(
    table(
      [
        ['wall time (engine, median)', seconds(m.engine.wallMs), `runs: ${walls} s`],
        ['child process, start-up incl.', seconds(m.processMs), ''],
        [
          'peak RSS (child)',
          `${m.engine.maxRssMb.toFixed(1)} MB`,
          `runs: ${rss} MB; Node+modules alone ${baselineRssMb.toFixed(0)} MB`,
        ],
        ['images in graph', String(m.engine.images), ''],
        [
          'requests in flight (proxy)',
          `${m.concurrency.meanInFlight.toFixed(1)} mean`,
          `peak ${m.concurrency.peakInFlight}; engine limit ${ENGINE_CONCURRENCY} per host`,
        ],
        [
          'registry time per request',
          `${m.concurrency.upstreamMeanMs.toFixed(1)} ms mean`,
          `p95 ${m.concurrency.upstreamP95Ms.toFixed(1)} ms, after the ${DELAY_MS} ms delay`,
        ],
        [
          'floor: requests × delay ÷ limit',
          seconds(lowerBound),
          `${m.proxyTotal} × ${DELAY_MS} ms ÷ ${ENGINE_CONCURRENCY}`,
        ],
      ],
      ['l', 'r', 'l'],
    ),
  );
  lines.push('');
  const rows: string[][] = [['requests', 'proxy', 'engine']];
  for (const k of PROXY_KINDS) {
    const mark = m.proxy[k] === m.engineByKind[k] ? '' : '  <- differs';
    rows.push([k, String(m.proxy[k]), `${m.engineByKind[k]}${mark}`]);
  }
  rows.push(['total', String(m.proxyTotal), String(m.engineTotal)]);
  rows.push([
    `per listed tag (÷ ${dataset.tags})`,
    (m.proxyTotal / dataset.tags).toFixed(2),
    (m.engineTotal / dataset.tags).toFixed(2),
  ]);
  lines.push(table(rows, ['l', 'r', 'r']));
  lines.push('');
  lines.push(
    table(
      r.checks.map((c) => [c.ok ? 'ok  ' : 'MISS', c.name, c.detail]),
      ['l', 'l', 'l'],
    ),
  );
  const errors = [...new Set(r.samples.flatMap((s) => s.engine.errors))];
  if (errors.length > 0) {
    lines.push('', `receipt errors (${errors.length}):`);
    for (const e of errors.slice(0, 10)) lines.push(`  ${e}`);
  }
  const diff = r.samples.find((s) => (s.graphDiff?.length ?? 0) > 0)?.graphDiff ?? [];
  if (diff.length > 0) {
    lines.push('', `warm graph vs cold graph (${diff.length} differences):`);
    for (const e of diff.slice(0, 12)) lines.push(`  ${e}`);
  }
  const proxyErrors = [...new Set(r.samples.flatMap((s) => s.proxyErrors))];
  if (proxyErrors.length > 0) {
    lines.push('', `proxy errors (${proxyErrors.length}):`);
    for (const e of proxyErrors.slice(0, 10)) lines.push(`  ${e}`);
  }
  return lines.join('\n');
}

function parseArgs(argv: string[]): {
  json: boolean;
  repeat: number;
  supplyChain: boolean;
  retention: boolean;
} {
  let json = false;
  let repeat = 3;
  let supplyChain = true;
  let retention = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--no-supply-chain') supplyChain = false;
    else if (a === '--retention') retention = true;
    else if (a === '--repeat' || a.startsWith('--repeat=')) {
      const v = a.includes('=') ? a.split('=')[1] : argv[++i];
      repeat = Number(v);
      if (!Number.isInteger(repeat) || repeat < 1)
        throw new Error(`--repeat needs a whole number ≥ 1, got ${v}`);
    } else
      throw new Error(
        `unknown argument ${a}; usage: bench.ts [--json] [--repeat N] [--no-supply-chain] [--retention] | --vendors [--json] | --scale [--only harbor|harbor-listing|oci] [--shape RxT] [--concurrency N] [--json]`,
      );
  }
  return { json, repeat, supplyChain, retention };
}

async function main(): Promise<void> {
  if (process.argv.includes('--vendors')) {
    const { runVendors } = await import('./vendors.js');
    await runVendors(process.argv.slice(2));
    return;
  }
  if (process.argv.includes('--scale')) {
    const { runScale } = await import('./scale.js');
    await runScale(process.argv.slice(2));
    return;
  }
  const { json, repeat, supplyChain, retention } = parseArgs(process.argv.slice(2));
  const progress = (m: string) => process.stderr.write(`bench: ${m}\n`);

  const cleanups: Array<() => Promise<void>> = [];
  // One clean-up however many ask for it (a signal and the unwinding `finally` both do), so
  // exiting after the first never cuts the other short.
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      killActiveChild();
      while (cleanups.length > 0) {
        try {
          await cleanups.pop()!();
        } catch (err) {
          progress(`cleanup: ${(err as Error).message}`);
        }
      }
    })();
    return cleaning;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const loadBefore = loadavg()[0]!;
    const dataset = buildDataset();

    let t = performance.now();
    const registry = await startRegistry({ auth: 'open' });
    cleanups.push(() => registry.stop());
    progress(`registry up at ${registry.url} (${Math.round(performance.now() - t)} ms)`);

    t = performance.now();
    await mapLimit(dataset.repositories, 8, (repo) =>
      pushRepository(registry, repo, undefined, { concurrency: 8 }),
    );
    const seedMs = performance.now() - t;
    progress(
      `seeded ${dataset.repositories.length} repositories, ${dataset.tags} tags, ${dataset.manifests} manifests, ${dataset.blobs} blobs in ${seconds(seedMs)}`,
    );

    const proxy = await startCountingProxy(registry.url, DELAY_MS);
    cleanups.push(() => proxy.stop());
    progress(`counting proxy at ${proxy.url} (+${DELAY_MS} ms per request) -> ${registry.url}`);

    const work = await mkdtemp(join(tmpdir(), 'devgraph-bench-'));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const configPath = join(work, 'config.yml');
    await writeFile(
      configPath,
      [
        'providers:',
        '  - name: bench',
        '    type: docker',
        '    config:',
        '      registry_type: private',
        `      api_url: ${proxy.url}`,
        ...(supplyChain ? [] : ['      supply_chain: false']),
        '      selectors:',
        '        - max_tags: 0',
        ...(retention ? ['          retention: { keep_newest: 10 }'] : []),
        '',
      ].join('\n'),
    );

    const baseline = JSON.parse((await runChild(['--baseline', configPath], CHILD_TIMEOUT_MS)).line) as {
      maxRssMb: number;
    };

    const cold: Sample[] = [];
    const warm: Sample[] = [];
    for (let i = 1; i <= repeat; i++) {
      const stateDir = join(work, `state-${i}`);
      await mkdir(stateDir);
      progress(`run ${i}/${repeat}: cold…`);
      const c = await discoverOnce(proxy, configPath, stateDir, join(work, `cold-${i}.json`));
      progress(`run ${i}/${repeat}: warm…`);
      const w = await discoverOnce(proxy, configPath, stateDir, join(work, `warm-${i}.json`));
      w.graphDiff = await diffGraphs(c.graphPath, w.graphPath);
      cold.push(c);
      warm.push(w);
    }
    const loadAfter = loadavg()[0]!;

    const reports = [evaluate('cold', cold, dataset), evaluate('warm', warm, dataset)];
    const allChecks = reports.flatMap((r) => r.checks.map((c) => ({ ...c, label: r.label })));
    const pass = allChecks.every((c) => c.ok);
    const [rc, rw] = [reports[0]!.median, reports[1]!.median];
    const verdict = pass
      ? `PASS: cold ${seconds(rc.engine.wallMs)}, ${(rc.proxyTotal / dataset.tags).toFixed(2)} req/tag; warm ${seconds(rw.engine.wallMs)}, ${(rw.proxyTotal / dataset.tags).toFixed(2)} req/tag (medians of ${repeat})`
      : `FAIL: ${allChecks
          .filter((c) => !c.ok)
          .map((c) => `${c.label} ${c.name} (${c.detail})`)
          .join('; ')}`;

    const host = `${cpus().length} CPUs, load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`;
    if (json) {
      const out = {
        dataset: {
          repositories: dataset.repositories.length,
          tagsPerRepository: TAGS_PER_REPOSITORY,
          tags: dataset.tags,
          imageTags: dataset.imageTags,
          signatureTags: dataset.signatureTags,
          manifests: dataset.manifests,
          blobs: dataset.blobs,
          seedMs: Math.round(seedMs),
        },
        delayMs: DELAY_MS,
        targets: TARGETS,
        host: { cpus: cpus().length, loadBefore, loadAfter },
        baselineRssMb: baseline.maxRssMb,
        runs: Object.fromEntries(
          reports.map((r) => [
            r.label,
            {
              median: { ...r.median, perTag: r.median.proxyTotal / dataset.tags },
              wallMs: r.samples.map((s) => s.engine.wallMs),
              maxRssMb: r.samples.map((s) => s.engine.maxRssMb),
              checks: r.checks,
            },
          ]),
        ),
        pass,
        verdict,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      process.stdout.write(
        [
          '',
          `Dataset: ${dataset.repositories.length} repositories × ${TAGS_PER_REPOSITORY} tags = ${dataset.tags} tags (${dataset.signatureTags} cosign signature tags), seeded in ${seconds(seedMs)}`,
          `Proxy: +${DELAY_MS} ms per request. Runs: ${repeat} cold/warm pairs, figures at the median. Host: ${host}.`,
          '',
          render(reports[0]!, dataset, baseline.maxRssMb),
          '',
          render(reports[1]!, dataset, baseline.maxRssMb),
          '',
          verdict,
          '',
        ].join('\n'),
      );
    }
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench: crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
