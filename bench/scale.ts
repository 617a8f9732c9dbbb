// `npm run bench -- --scale`: discovery at 100,000 tags. A synthetic registry (bench/scale-registry.ts,
// content computed per repository and tag on demand) behind the counting proxy (+25 ms per request),
// in two shapes, 1,000 repositories × 100 tags and 10,000 × 10, read through Harbor's API (the
// vendor fast path: artifacts listed with digests and push times, so max_tags picks before any
// manifest is read; and with read_manifests: false, so none is read) and as a plain OCI registry (_catalog, tags/list, every tag's manifest and
// config read to learn its date). Each scenario: a cold run (empty state directory), then a warm
// run (the state it left), each in a child process (bench/discover-child.ts) for its peak RSS.
// A 1,000 × 10 Harbor run selects as many tags as 1,000 × 100 while listing a tenth: the pair shows
// whether memory follows what is selected or what is listed.
// Then the publishing parts (bench/publish-scale.ts): the 100,000-image graph uploaded into the
// Devgraph fake (first and unchanged), and ten shard graphs of 10,000 images merged.
//   npm run bench -- --scale [--only harbor|harbor-listing|oci|upload|merge] [--shape RxT] [--concurrency N] [--json]
// --shape runs one shape (1000x10, 1000x100, 10000x10); --concurrency sets the provider's
// `concurrency` (default: none, so the engine's 16 per host).
// Exits 0 whether the targets are met or not; non-zero only when something crashed.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type CountingProxy, startCountingProxy } from './proxy.js';
import {
  PUBLISH_PARTS,
  type PublishPart,
  type PublishRun,
  publishMarkdown,
  runPublishParts,
} from './publish-scale.js';
import { killActiveChild, runChild } from './run-child.js';
import { PROJECT, type Shape, startSyntheticRegistry } from './scale-registry.js';

const DELAY_MS = 25;
const MAX_TAGS = 10;
/** HttpClient's default per-host limit; the configs below set none. */
const ENGINE_CONCURRENCY = 16;
const CHILD_TIMEOUT_MS = 20 * 60_000;

const TARGETS = {
  /** 100,000 tags, cold, through a vendor fast path. */
  coldVendorMs: 120_000,
  warmMs: 60_000,
  rssMb: 300,
  /** Listed tags ×10 at equal selected tags: peak RSS may grow by at most this much. */
  flatRssMb: 30,
} as const;

/** harbor-listing: Harbor with read_manifests: false (image facts from the artifact rows). */
type Api = 'harbor' | 'harbor-listing' | 'oci';
const APIS: readonly Api[] = ['harbor', 'harbor-listing', 'oci'];
const API_LABEL: Record<Api, string> = {
  harbor: 'Harbor API',
  'harbor-listing': 'Harbor API, read_manifests: false',
  oci: 'OCI (generic)',
};

interface Scenario {
  api: Api;
  shape: Shape;
  /** Cold only: the memory comparison's small side needs no warm run. */
  coldOnly?: boolean;
}

const SCENARIOS: Scenario[] = [
  { api: 'harbor', shape: { repositories: 1000, tagsPerRepository: 10 }, coldOnly: true },
  { api: 'harbor', shape: { repositories: 1000, tagsPerRepository: 100 } },
  { api: 'harbor', shape: { repositories: 10_000, tagsPerRepository: 10 } },
  { api: 'harbor-listing', shape: { repositories: 1000, tagsPerRepository: 100 } },
  { api: 'harbor-listing', shape: { repositories: 10_000, tagsPerRepository: 10 } },
  { api: 'oci', shape: { repositories: 1000, tagsPerRepository: 100 } },
  { api: 'oci', shape: { repositories: 10_000, tagsPerRepository: 10 } },
];

interface ChildReport {
  wallMs: number;
  maxRssMb: number;
  complete: boolean;
  images: number;
  requests: Record<string, number>;
  errors: string[];
}

export interface ScaleRun {
  api: Api;
  repositories: number;
  tagsPerRepository: number;
  tagsListed: number;
  run: 'cold' | 'warm';
  wallMs: number;
  processMs: number;
  maxRssMb: number;
  images: number;
  complete: boolean;
  requests: Record<string, number>;
  engineTotal: number;
  proxyTotal: number;
  /** Manifest GETs answered 304 (a known tag, unchanged): no body. */
  notModified: number;
  meanInFlight: number;
  peakInFlight: number;
  errors: string[];
}

async function runReport(args: string[]): Promise<{ report: ChildReport; processMs: number }> {
  const { line, processMs } = await runChild(args, CHILD_TIMEOUT_MS);
  try {
    return { report: JSON.parse(line) as ChildReport, processMs };
  } catch {
    throw new Error(`discovery child printed no JSON result: ${line.slice(0, 500)}`);
  }
}

/** `concurrency` unset: the engine's default per-host limit, as a config that sets none gets. */
let concurrency: number | undefined;

function configYaml(api: Api, apiUrl: string): string {
  return stringify({
    providers: [
      {
        name: 'scale',
        type: 'docker',
        config: {
          registry_type: api === 'oci' ? 'private' : 'harbor',
          api_url: apiUrl,
          ...(api === 'harbor-listing' ? { read_manifests: false } : {}),
          ...(concurrency ? { concurrency } : {}),
          selectors: [{ namespace_pattern: `^${PROJECT}$`, max_tags: MAX_TAGS }],
        },
      },
    ],
  });
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const thousands = (n: number) => n.toLocaleString('en-US');
const selectedOf = (s: Shape) => s.repositories * Math.min(MAX_TAGS, s.tagsPerRepository);

async function runScenario(
  scenario: Scenario,
  proxy: CountingProxy,
  work: string,
  progress: (m: string) => void,
): Promise<ScaleRun[]> {
  const { api, shape } = scenario;
  const id = `${api}-${shape.repositories}x${shape.tagsPerRepository}`;
  const configPath = join(work, `${id}.yml`);
  await writeFile(configPath, configYaml(api, proxy.url));
  const stateDir = join(work, `state-${id}`);
  await mkdir(stateDir);
  const runs: ScaleRun[] = [];
  for (const run of scenario.coldOnly ? (['cold'] as const) : (['cold', 'warm'] as const)) {
    progress(`${id}: ${run}…`);
    proxy.reset();
    const { report, processMs } = await runReport([configPath, stateDir]);
    const c = proxy.concurrency();
    runs.push({
      api,
      repositories: shape.repositories,
      tagsPerRepository: shape.tagsPerRepository,
      tagsListed: shape.repositories * shape.tagsPerRepository,
      run,
      wallMs: report.wallMs,
      processMs,
      maxRssMb: report.maxRssMb,
      images: report.images,
      complete: report.complete,
      requests: report.requests,
      engineTotal: sum(report.requests),
      proxyTotal: proxy.total(),
      notModified: proxy.notModified(),
      meanInFlight: c.meanInFlight,
      peakInFlight: c.peakInFlight,
      errors: report.errors,
    });
    const r = runs[runs.length - 1]!;
    progress(
      `${id}: ${run} ${seconds(r.wallMs)}, ${thousands(r.proxyTotal)} requests, ${r.maxRssMb} MB, ${r.images} images${r.complete ? '' : ' INCOMPLETE'}`,
    );
  }
  // State of 100,000 tags is ~200,000 small files: gone before the next scenario writes its own.
  await rm(stateDir, { recursive: true, force: true });
  return runs;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function checks(runs: ScaleRun[]): Check[] {
  const out: Check[] = [];
  const find = (api: Api, r: number, t: number, run: 'cold' | 'warm') =>
    runs.find((x) => x.api === api && x.repositories === r && x.tagsPerRepository === t && x.run === run);
  for (const x of runs.filter((r) => r.api !== 'oci' && r.tagsListed === 100_000)) {
    // Reading every manifest and config of 100,000 selected tags is 200,000 requests, a floor of
    // 328 s at 16 per host: the cold target is for the listing-only path (read_manifests: false).
    if (x.run === 'cold' && x.api === 'harbor' && selectedOfRun(x) === x.tagsListed) continue;
    const limit = x.run === 'cold' ? TARGETS.coldVendorMs : TARGETS.warmMs;
    out.push({
      name: `${x.api} ${x.repositories}×${x.tagsPerRepository} ${x.run}: wall < ${limit / 1000} s`,
      ok: x.complete && x.wallMs < limit,
      detail: `${seconds(x.wallMs)}${x.complete ? '' : ' (INCOMPLETE)'}`,
    });
  }
  // Plain OCI has no time target: without a listing that dates tags, every tag costs a request
  // (cold: manifest + config, warm: a conditional GET), so its floor alone is past the targets.
  const heavy = runs.filter((x) => x.maxRssMb >= TARGETS.rssMb);
  const peak = runs.reduce((a, x) => (x.maxRssMb > a.maxRssMb ? x : a), runs[0]!);
  out.push({
    name: `peak RSS < ${TARGETS.rssMb} MB`,
    ok: heavy.length === 0,
    detail: heavy.length
      ? `over in ${heavy.map((x) => `${x.api} ${x.repositories}×${x.tagsPerRepository} ${x.run} (${x.maxRssMb.toFixed(0)} MB, ${thousands(selectedOfRun(x))} selected)`).join('; ')}`
      : `highest ${peak.maxRssMb.toFixed(0)} MB (${peak.api} ${peak.repositories}×${peak.tagsPerRepository} ${peak.run})`,
  });
  const small = find('harbor', 1000, 10, 'cold');
  const big = find('harbor', 1000, 100, 'cold');
  if (small && big) {
    out.push({
      name: `RSS flat while listed tags ×10 (${thousands(selectedOf({ repositories: 1000, tagsPerRepository: 10 }))} selected)`,
      ok: big.maxRssMb - small.maxRssMb <= TARGETS.flatRssMb,
      detail: `${small.maxRssMb} MB at ${thousands(small.tagsListed)} listed → ${big.maxRssMb} MB at ${thousands(big.tagsListed)} (+${(big.maxRssMb - small.maxRssMb).toFixed(1)} MB, ≤ ${TARGETS.flatRssMb})`,
    });
  }
  const wrong = runs.filter((x) => x.images !== selectedOf(x) || !x.complete || x.errors.length > 0);
  out.push({
    name: 'every run complete with max_tags images per repository',
    ok: wrong.length === 0,
    detail: wrong.length
      ? wrong
          .map((x) => `${x.api} ${x.repositories}×${x.tagsPerRepository} ${x.run}: ${x.images} images`)
          .join('; ')
      : 'yes',
  });
  const differ = runs.filter((x) => x.engineTotal !== x.proxyTotal);
  out.push({
    name: 'engine request count = proxy count',
    ok: differ.length === 0,
    detail: differ.length
      ? differ
          .map(
            (x) =>
              `${x.api} ${x.repositories}×${x.tagsPerRepository} ${x.run}: ${x.engineTotal} vs ${x.proxyTotal}`,
          )
          .join('; ')
      : 'every run',
  });
  return out;
}

function selectedOfRun(x: ScaleRun): number {
  return selectedOf({ repositories: x.repositories, tagsPerRepository: x.tagsPerRepository });
}

function byKind(r: Record<string, number>, notModified: number): string {
  const names: Record<string, string> = {
    'vendor-api': 'API',
    catalog: 'catalog',
    tags: 'tags/list',
    manifest: 'manifest GET',
    'manifest-head': 'HEAD',
    blob: 'blob GET',
    ping: 'ping',
  };
  return Object.entries(r)
    .filter(([k, n]) => n > 0 && k !== 'ping')
    .map(
      ([k, n]) =>
        `${names[k] ?? k} ${thousands(n)}${k === 'manifest' && notModified ? ` (${thousands(notModified)} × 304)` : ''}`,
    )
    .join(', ');
}

function markdown(runs: ScaleRun[], baselineRssMb: number, limit: number): string {
  const rows = [
    '| API | repos × tags | listed / selected | run | wall | requests | by kind | floor¹ | in flight (mean / peak) | peak RSS² |',
    '|---|---|--:|---|--:|--:|---|--:|--:|--:|',
  ];
  for (const x of runs) {
    rows.push(
      `| ${API_LABEL[x.api]} | ${thousands(x.repositories)} × ${x.tagsPerRepository} | ${thousands(x.tagsListed)} / ${thousands(selectedOfRun(x))} | ${x.run}${x.complete ? '' : ' (INCOMPLETE)'} | ${seconds(x.wallMs)} | ${thousands(x.proxyTotal)} | ${byKind(x.requests, x.notModified)} | ${seconds((x.proxyTotal * DELAY_MS) / limit)} | ${x.meanInFlight.toFixed(1)} / ${x.peakInFlight} | ${x.maxRssMb.toFixed(0)} MB (+${(x.maxRssMb - baselineRssMb).toFixed(0)}) |`,
    );
  }
  return rows.join('\n');
}

const USAGE =
  'usage: bench.ts --scale [--only harbor|harbor-listing|oci|upload|merge] [--shape RxT] [--concurrency N] [--json]';

interface Args {
  json: boolean;
  only?: Api | PublishPart;
  /** Only the scenarios of this shape, e.g. 10000x10. */
  shape?: string;
  concurrency?: number;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a === '--scale') continue;
    if (a === '--json') out.json = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = value();
      if (!APIS.includes(v as Api) && !PUBLISH_PARTS.includes(v as PublishPart))
        throw new Error(`--only takes ${[...APIS, ...PUBLISH_PARTS].join(', ')}; got ${v}; ${USAGE}`);
      out.only = v as Api | PublishPart;
    } else if (a === '--shape' || a.startsWith('--shape=')) {
      const v = value();
      if (!SCENARIOS.some((s) => `${s.shape.repositories}x${s.shape.tagsPerRepository}` === v))
        throw new Error(`--shape takes 1000x10, 1000x100 or 10000x10, got ${v}; ${USAGE}`);
      out.shape = v;
    } else if (a === '--concurrency' || a.startsWith('--concurrency=')) {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new Error(`--concurrency takes a whole number ≥ 1; ${USAGE}`);
      out.concurrency = v;
    } else throw new Error(`unknown argument ${a}; ${USAGE}`);
  }
  return out;
}

export async function runScale(argv: string[]): Promise<void> {
  const { json, only, shape, ...args } = parseArgs(argv);
  concurrency = args.concurrency;
  const limit = concurrency ?? ENGINE_CONCURRENCY;
  const progress = (m: string) => process.stderr.write(`bench:scale: ${m}\n`);
  if (only && PUBLISH_PARTS.includes(only as PublishPart)) {
    const published = await runPublishParts([only as PublishPart], progress);
    const results = publishChecks(published.runs);
    report(json, [], published, results, 0, ENGINE_CONCURRENCY, loadavg()[0]!);
    return;
  }
  const scenarios = SCENARIOS.filter(
    (s) =>
      (!only || s.api === only) &&
      (!shape || `${s.shape.repositories}x${s.shape.tagsPerRepository}` === shape),
  );
  const loadBefore = loadavg()[0]!;
  const registry = await startSyntheticRegistry(scenarios[0]!.shape);
  const proxy = await startCountingProxy(registry.url, DELAY_MS);
  const work = await mkdtemp(join(tmpdir(), 'devgraph-bench-scale-'));
  const cleanup = async () => {
    killActiveChild();
    await proxy.stop();
    await registry.close();
    await rm(work, { recursive: true, force: true });
  };
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const runs: ScaleRun[] = [];
  let baselineRssMb = 0;
  let published: { runs: PublishRun[]; baselineRssMb: number } | undefined;
  try {
    const basePath = join(work, 'baseline.yml');
    await writeFile(basePath, configYaml('harbor', proxy.url));
    baselineRssMb = (await runReport(['--baseline', basePath])).report.maxRssMb;
    for (const s of scenarios) {
      registry.setShape(s.shape);
      runs.push(...(await runScenario(s, proxy, work, progress)));
    }
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // Every part when nothing was picked: the registry is closed, the publishing parts need none.
  if (!only) published = await runPublishParts(PUBLISH_PARTS, progress);
  const loadAfter = loadavg()[0]!;
  report(
    json,
    runs,
    published,
    [...checks(runs), ...(published ? publishChecks(published.runs) : [])],
    baselineRssMb,
    limit,
    loadBefore,
    loadAfter,
  );
}

function publishChecks(runs: PublishRun[]): Check[] {
  return runs.map((x) => ({
    name: `${x.part}${x.run === 'merge' ? '' : ` ${x.run}`}: peak RSS < ${TARGETS.rssMb} MB${x.part === 'upload' && x.run === 'unchanged' ? ', no writes' : x.part === 'merge' ? ', byte-identical' : ''}`,
    ok: x.ok && x.maxRssMb < TARGETS.rssMb,
    detail: `${x.maxRssMb.toFixed(0)} MB, ${seconds(x.wallMs)}; ${x.detail}`,
  }));
}

function report(
  json: boolean,
  runs: ScaleRun[],
  published: { runs: PublishRun[]; baselineRssMb: number } | undefined,
  results: Check[],
  baselineRssMb: number,
  limit: number,
  loadBefore: number,
  loadAfter = loadavg()[0]!,
): void {
  const failed = results.filter((c) => !c.ok);
  const verdict = failed.length
    ? `FAIL: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`
    : 'PASS: every scale target met';
  const settings = `selectors: namespace_pattern ^${PROJECT}$, max_tags ${MAX_TAGS}; concurrency: ${concurrency ?? `not set (engine default ${ENGINE_CONCURRENCY} per host)`}, adaptive below it; no credentials (anonymous, public project)`;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ delayMs: DELAY_MS, maxTags: MAX_TAGS, settings, targets: TARGETS, baselineRssMb, host: { cpus: cpus().length, loadBefore, loadAfter }, runs, published, checks: results, pass: failed.length === 0, verdict }, null, 2)}\n`,
    );
    return;
  }
  const discovery = runs.length
    ? [
        `Synthetic registry behind a proxy adding ${DELAY_MS} ms per request. Settings: ${settings}.`,
        `Cold = empty state directory, warm = the state the cold run left.`,
        '',
        markdown(runs, baselineRssMb, limit),
        '',
        `¹ requests × ${DELAY_MS} ms ÷ ${limit} (the per-host limit): the wall time if latency were the only cost.`,
        `² of the discovery child; in brackets above the ${baselineRssMb.toFixed(0)} MB that Node and the engine's bundled modules take before discovering anything.`,
        '',
      ]
    : [];
  const publishing = published
    ? [publishMarkdown(published.runs, published.baselineRssMb, TARGETS.rssMb), '']
    : [];
  process.stdout.write(
    [
      '',
      `Host: ${cpus().length} CPUs, load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after.`,
      '',
      ...discovery,
      ...publishing,
      '| target | met | measured |',
      '|---|---|---|',
      ...results.map((c) => `| ${c.name} | ${c.ok ? 'yes' : '**no**'} | ${c.detail} |`),
      '',
      verdict,
      '',
    ].join('\n'),
  );
}
