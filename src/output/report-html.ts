// report.html: the run as one page a person opens from disk. Every repository and image in tables
// the page's script fills a screenful at a time, three charts drawn here as SVG, the change report
// and the retention plan. The page loads nothing (its Content-Security-Policy allows no fetch,
// and only its own script and style by hash): the data sits in the page as a JSON block.
// Pure: the graph, the changes and the plan in, the page out in pieces, each written as it is made,
// so a graph of 100,000 images is never one string; rows are arrays and repeated strings
// (repositories, digests, platform lists, scanner counts) are written once and referred to by index.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { createdMs } from '../discovery/order-tags.js';
import type { GraphChanges } from '../graph/diff.js';
import { jsonPieces } from '../graph/graph-json.js';
import type { GraphSource } from '../graph/graph-source.js';
import { DISCOVERY_SOURCE, type Entity, type GraphReceipt } from '../model/graph.js';
import type { RetentionReport } from '../retention/retention-planner.js';
import { visible } from './change-report.js';
import { REPORT_SCRIPT, REPORT_STYLE } from './report-client.js';
import { formatBytes } from './summary-markdown.js';

export interface ReportInput {
  graph: GraphSource;
  /** Undefined when there was nothing to compare with. */
  changes?: GraphChanges | undefined;
  /** Undefined when no selector has `retention:`. */
  retention?: RetentionReport | undefined;
}

/** Bars a chart draws; the rest are summed in one more. */
export const CHART_BARS = 12;

/** Image age buckets: upper bound in days (exclusive) and label. */
const AGE_BUCKETS: Array<[number, string]> = [
  [7, '< 1 week'],
  [30, '1 – 4 weeks'],
  [91, '1 – 3 months'],
  [182, '3 – 6 months'],
  [365, '6 – 12 months'],
  [730, '1 – 2 years'],
  [Number.POSITIVE_INFINITY, '2 years or more'],
];

const DAY_MS = 86_400_000;

/** The `storage` spec field of a DockerRepository or DockerRegistry (docs/graph.md), as far as the page shows it. */
const storageSpec = z.object({
  total_bytes: z.number().nonnegative(),
  unique_bytes: z.number().nonnegative().optional(),
  shared_bytes: z.number().nonnegative().optional(),
  untagged_bytes: z.number().nonnegative().optional(),
  partial: z.boolean().optional(),
});
type StorageSpec = z.infer<typeof storageSpec>;

/**
 * How a repository's storage figure was found: the graph's `storage` (0), at least that where the
 * repository was partly read (1), or the sum of its image sizes here (2).
 */
type StorageKind = 0 | 1 | 2;
const IMAGE_SUM: StorageKind = 2;

interface Repo {
  provider: number;
  name: string;
  selected: number;
  listed: number;
  complete: boolean;
  errors: string[];
  images: number;
  /** Sum of the sizes of its distinct image digests, for when the graph has no `storage`. */
  imageBytes: number;
  storage?: { bytes: number; kind: StorageKind };
  /** The graph's own figures, where it has them. */
  spec?: StorageSpec;
}

/**
 * What the page is made of, gathered while the rows are written: each table fills as the images
 * stream past and is written after them.
 */
class Tables {
  readonly providers: string[] = [];
  readonly repos: Repo[] = [];
  readonly digests: string[] = [];
  readonly platforms: string[] = [];
  readonly vulns: number[][] = [];
  readonly ages = new Array<number>(AGE_BUCKETS.length + 1).fill(0);
  readonly show = {
    pushed: false,
    trust: false,
    verified: false,
    vulns: false,
    retention: false,
    /** Some repository's storage says what it shares with others. */
    shared: false,
    /** Some repository's storage counts its untagged manifests. */
    untagged: false,
  };
  private readonly providerIndex = new Map<string, number>();
  private readonly repoIndex = new Map<string, number>();
  private readonly digestIndex = new Map<string, number>();
  private readonly platformIndex = new Map<string, number>();
  private readonly vulnIndex = new Map<string, number>();
  /** repository × digest pairs already summed into imageBytes. */
  private readonly counted = new Set<number>();
  private readonly at: number;

  constructor(
    private readonly graph: GraphSource,
    private readonly deleted: ReadonlySet<string>,
  ) {
    this.at = Date.parse(graph.generated_at);
    for (const r of graph.receipts) if (r.repository !== '*') this.repo(r.provider, r.repository, r);
  }

  /** An image as a row: [repo, tag, digest, platforms, size, created, pushed, flags, vulns]. */
  imageRow(e: Entity): unknown[] {
    const spec = e.spec;
    const provider = providerOf(e);
    const repository = text(spec.repository);
    const r = this.repo(provider, repository);
    const repo = this.repos[r]!;
    repo.images++;
    const digest = typeof spec.digest === 'string' ? spec.digest : undefined;
    // A sha256 digest as its hex alone (the page puts the algorithm back); anything else as it is.
    const d =
      digest === undefined
        ? null
        : intern(this.digestIndex, this.digests, digest.replace(/^sha256:(?=[0-9a-f]{64}$)/, ''));
    const size = typeof spec.size === 'number' ? spec.size : null;
    if (d !== null && size !== null && !this.counted.has(r * 2 ** 26 + d)) {
      this.counted.add(r * 2 ** 26 + d);
      repo.imageBytes += size;
    }
    const platforms = Array.isArray(spec.platforms) ? spec.platforms.map(text).join(', ') : '';
    const created = seconds(spec.created);
    const pushed = seconds(spec.last_updated);
    if (pushed !== null) this.show.pushed = true;
    this.ages[this.ageBucket(spec)]!++;
    if (typeof spec.signed === 'boolean') this.show.trust = true;
    if (typeof spec.verified === 'boolean') this.show.verified = true;
    const planned = digest !== undefined && this.deleted.has(deletionKey(provider, repository, digest));
    const flags =
      tri(spec.signed) |
      (tri(spec.sbom) << 2) |
      (tri(spec.provenance) << 4) |
      (tri(spec.verified) << 6) |
      (planned ? 1 << 8 : 0);
    const v = vulnCounts(spec.vulnerabilities);
    if (v) this.show.vulns = true;
    return [
      r,
      text(spec.tag),
      d,
      platforms ? intern(this.platformIndex, this.platforms, platforms) : null,
      size,
      created,
      pushed,
      flags,
      v ? internRow(this.vulnIndex, this.vulns, v) : null,
    ];
  }

  /**
   * Each repository as a row: [provider, name, selected, listed, complete, storage, storage kind,
   * problems, unique bytes, shared bytes, untagged bytes].
   */
  *repoRows(): Generator<unknown[]> {
    for (const e of this.graph.entities(['DockerRepository'])) {
      const name = text(e.spec.full_name ?? e.metadata.labels['devgraph.ai/repository-name']);
      const parsed = storageSpec.safeParse(e.spec.storage);
      if (!parsed.success) continue;
      const spec = parsed.data;
      const repo = this.repos[this.repo(providerOf(e), name)]!;
      repo.storage = { bytes: spec.total_bytes, kind: spec.partial ? 1 : 0 };
      repo.spec = spec;
      if (spec.shared_bytes !== undefined) this.show.shared = true;
      if (spec.untagged_bytes !== undefined) this.show.untagged = true;
    }
    for (const r of this.repos) {
      const storage = this.storageOf(r);
      yield [
        r.provider,
        r.name,
        r.selected,
        r.listed,
        r.complete ? 1 : 0,
        storage?.bytes ?? null,
        storage?.kind ?? null,
        r.errors.join('; '),
        r.spec?.unique_bytes ?? null,
        r.spec?.shared_bytes ?? null,
        r.spec?.untagged_bytes ?? null,
      ];
    }
  }

  storageOf(r: Repo): { bytes: number; kind: StorageKind } | undefined {
    return r.storage ?? (r.images > 0 ? { bytes: r.imageBytes, kind: IMAGE_SUM } : undefined);
  }

  /** The repository's index; one without a receipt (none in a graph a run wrote) counts as complete. */
  private repo(provider: string, name: string, receipt?: GraphReceipt): number {
    const key = `${provider}\u0000${name}`;
    const known = this.repoIndex.get(key);
    if (known !== undefined) return known;
    this.repoIndex.set(key, this.repos.length);
    this.repos.push({
      provider: intern(this.providerIndex, this.providers, provider),
      name,
      selected: receipt?.tags_selected ?? 0,
      listed: receipt?.tags_listed ?? 0,
      complete: receipt?.complete ?? true,
      errors: receipt?.errors ?? [],
      images: 0,
      imageBytes: 0,
    });
    return this.repos.length - 1;
  }

  /** Age as the image's creation time says, else its push time; the last bucket is "no date". */
  private ageBucket(spec: Entity['spec']): number {
    const when = createdMs(timestamp(spec.created)) ?? createdMs(timestamp(spec.last_updated));
    if (when === undefined || Number.isNaN(this.at)) return AGE_BUCKETS.length;
    const days = (this.at - when) / DAY_MS;
    return AGE_BUCKETS.findIndex(([upTo]) => days < upTo);
  }
}

/** The page, in pieces to be written one after another. */
export function* reportHtml(input: ReportInput): Generator<string> {
  const { graph, changes, retention } = input;
  const deleted = new Set<string>();
  for (const plan of retention?.plans ?? [])
    for (const d of plan.deletions) deleted.add(deletionKey(plan.provider, plan.repository, d.digest));
  const tables = new Tables(graph, deleted);
  tables.show.retention = retention !== undefined;
  const providers = new Set(graph.receipts.map((r) => r.provider));
  for (const r of changeRefs(changes)) providers.add(r.provider);

  yield head(graph);
  yield '<script type="application/json" id="report-data">';
  function* images(): Generator<unknown[]> {
    for (const e of graph.entities(['DockerImage'])) yield tables.imageRow(e);
  }
  // Members are written in this order, and each generator runs only when its turn comes: the
  // tables after `images` are complete once it has been written.
  yield* jsonPieces(
    {
      images: images(),
      repos: tables.repoRows(),
      digests: tables.digests,
      platforms: tables.platforms,
      vulns: tables.vulns,
      providers: tables.providers,
      show: tables.show,
      at: Math.floor(Date.parse(graph.generated_at) / 1000) || 0,
      manyProviders: providers.size > 1,
      changes: changeData(changes),
      retention: retention ? retentionData(retention) : null,
      failures: graph.receipts.flatMap((r) =>
        r.complete && r.errors.length === 0
          ? []
          : (r.errors.length > 0 ? r.errors : ['incomplete']).map((e) => [
              r.repository === '*' ? `${r.provider} (registry)` : `${r.provider} / ${r.repository}`,
              e,
            ]),
      ),
    },
    scriptSafe,
  );
  yield '</script>\n';
  yield charts(tables, graph);
  yield BODY_END;
}

/** Text for a JSON block inside a <script>: no `</script>`, `<!--`, or line separator can end or bend it. */
export function scriptSafe(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text for HTML (an element or an attribute), its odd characters shown as escapes. */
export function htmlText(s: string): string {
  return visible(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function hash(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/**
 * Nothing may be fetched, not even by an injected element: only the page's own style and script
 * (by hash) run, and nothing else loads.
 */
const CSP = [
  "default-src 'none'",
  `style-src ${hash(REPORT_STYLE)}`,
  `script-src ${hash(REPORT_SCRIPT)}`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function head(graph: GraphSource): string {
  const count = (kind: Entity['kind'], one: string, many: string) => {
    const n = graph.count(kind);
    return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
  };
  const complete = graph.receipts.every((r) => r.complete);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="devgraph-docker">
<title>Registry inventory ${htmlText(graph.generated_at)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header>
<h1>Registry inventory</h1>
<p>${[
    count('DockerRegistry', 'registry', 'registries'),
    count('DockerRepository', 'repository', 'repositories'),
    count('DockerImage', 'image', 'images'),
    count('DockerManifest', 'manifest', 'manifests'),
  ].join(', ')}. ${
    complete
      ? 'Discovery was complete.'
      : '<span class="bad">Discovery was incomplete</span>: see Problems below.'
  }</p>
${registryStorage(graph)}
<p class="muted">Inventory of ${htmlText(graph.generated_at)}, written by devgraph-docker.</p>
</header>
`;
}

/** A line per registry whose graph entity has `storage`: its blobs counted once however many repositories share them. */
function registryStorage(graph: GraphSource): string {
  const lines: string[] = [];
  for (const e of graph.entities(['DockerRegistry'])) {
    const parsed = storageSpec.safeParse(e.spec.storage);
    if (!parsed.success) continue;
    const s = parsed.data;
    const untagged = s.untagged_bytes
      ? `, and ${formatBytes(s.untagged_bytes)} more in untagged manifests`
      : '';
    lines.push(
      `<p>Storage of ${htmlText(providerOf(e))}: ${s.partial ? 'at least ' : ''}${formatBytes(s.total_bytes)}, each layer counted once${untagged}.</p>`,
    );
  }
  return lines.join('\n');
}

const BODY_END = `<h2>Changes since last inventory</h2>
<section id="changes"></section>
<section id="retention" hidden><h2>Retention plan</h2></section>
<h2>Images and repositories</h2>
<div class="search"><input id="search" type="search" autocomplete="off" spellcheck="false"
 placeholder="Search repositories, tags, digests, platforms (every word must match)" aria-label="Search"></div>
<h3>Images</h3>
<div id="images-host"></div>
<h3>Repositories</h3>
<p class="muted">Click a repository to search its images.</p>
<div id="repos-host"></div>
<section id="failures" hidden><h2>Problems</h2></section>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;

function charts(tables: Tables, graph: GraphSource): string {
  const many = tables.providers.length > 1;
  const label = (r: Repo) => (many ? `${tables.providers[r.provider]} / ${r.name}` : r.name);
  const stored = tables.repos.flatMap((r) => {
    const s = tables.storageOf(r);
    return s ? [{ r, ...s }] : [];
  });
  const kinds = new Set(stored.map((s) => s.kind));
  const storageNote =
    stored.length === 0
      ? 'No sizes in this inventory.'
      : kinds.has(IMAGE_SUM)
        ? kinds.size === 1
          ? 'Sum of distinct image sizes: the graph has no storage figures.'
          : 'Storage figures where the graph has them (≥: partly read), else the sum of distinct image sizes (≈).'
        : 'Distinct blobs and manifests each repository references (≥: partly read).';
  const storage = barChart(
    'storage-chart',
    'Storage by repository',
    storageNote,
    topBars(
      stored.map((s) => ({ label: label(s.r), value: s.bytes })),
      (v) => formatBytes(v),
    ),
  );
  const ages = barChart(
    'age-chart',
    'Image age',
    `How long before ${graph.generated_at.slice(0, 10)} each image was built (else pushed).`,
    [
      ...AGE_BUCKETS.map(([, name], i) => ({
        label: name,
        value: tables.ages[i]!,
        text: count(tables.ages[i]!),
      })),
      ...(tables.ages[AGE_BUCKETS.length]! > 0
        ? [
            {
              label: 'no date',
              value: tables.ages[AGE_BUCKETS.length]!,
              text: count(tables.ages[AGE_BUCKETS.length]!),
              others: true,
            },
          ]
        : []),
    ],
  );
  const tags = barChart(
    'tags-chart',
    'Tags per repository',
    `Images (selected tags) per repository, of ${count(tables.repos.length)}.`,
    topBars(
      tables.repos.map((r) => ({ label: label(r), value: r.images })),
      count,
    ),
  );
  return `<h2>At a glance</h2>\n<div class="charts">\n${storage}${ages}${tags}</div>\n`;
}

interface Bar {
  label: string;
  value: number;
  text: string;
  /** Drawn in the muted colour: a sum of the rest, or what has no value to place. */
  others?: boolean;
  /** The sum of what was left out: it sets no scale, and gets no bar when it would be the longest. */
  rest?: boolean;
}

/** The CHART_BARS largest, largest first, and the rest summed in one bar. */
export function topBars(items: Array<{ label: string; value: number }>, show: (v: number) => string): Bar[] {
  const sorted = [...items].sort((a, b) => b.value - a.value || (a.label < b.label ? -1 : 1));
  const bars: Bar[] = sorted.slice(0, CHART_BARS).map((i) => ({ ...i, text: show(i.value) }));
  const rest = sorted.slice(CHART_BARS);
  if (rest.length > 0) {
    const value = rest.reduce((sum, i) => sum + i.value, 0);
    bars.push({ label: `${count(rest.length)} others`, value, text: show(value), others: true, rest: true });
  }
  return bars;
}

const LABEL_WIDTH = 160;
const BAR_WIDTH = 150;
const VALUE_WIDTH = 70;
const BAR_ROW = 20;
/** Characters of a label drawn; the tooltip has the rest. */
export const LABEL_CHARS = 22;

/** A horizontal bar chart as inline SVG; each bar's full label and value in its tooltip. */
export function barChart(id: string, title: string, note: string, bars: Bar[]): string {
  const width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH;
  const height = Math.max(1, bars.length) * BAR_ROW + 4;
  const max = Math.max(1, ...bars.filter((b) => !b.rest).map((b) => b.value));
  const rows = bars.map((b, i) => {
    const y = i * BAR_ROW + 2;
    const w = b.value > 0 && b.value <= max ? Math.max(1, Math.round((b.value / max) * BAR_WIDTH)) : 0;
    const shown =
      [...b.label].length > LABEL_CHARS ? `${[...b.label].slice(0, LABEL_CHARS - 1).join('')}…` : b.label;
    return (
      `<g><title>${htmlText(`${b.label}: ${b.text}`)}</title>` +
      `<text x="${LABEL_WIDTH - 6}" y="${y + 14}" text-anchor="end">${htmlText(shown)}</text>` +
      (w > 0
        ? `<rect class="${b.others ? 'others' : 'bar'}" x="${LABEL_WIDTH}" y="${y + 3}" width="${w}" height="${BAR_ROW - 6}"></rect>`
        : '') +
      `<text x="${LABEL_WIDTH + w + 4}" y="${y + 14}">${htmlText(b.text)}</text></g>`
    );
  });
  const empty = bars.length === 0 ? `<text x="0" y="14">Nothing to show.</text>` : '';
  return `<figure id="${id}"><figcaption>${htmlText(title)}</figcaption><p class="muted">${htmlText(note)}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${htmlText(title)}">${empty}${rows.join('')}</svg></figure>
`;
}

/** The change report's lists as rows; `compared` false when there was nothing to compare with. */
function changeData(c: GraphChanges | undefined): object {
  if (!c) return { compared: false };
  return {
    compared: true,
    firstRun: c.firstRun,
    previousGeneratedAt: c.previousGeneratedAt ?? null,
    movedTags: c.movedTags.map((m) => [m.provider, m.repository, m.tag, m.from, m.to]),
    newRepositories: c.newRepositories.map((r) => [r.provider, r.repository]),
    newTags: c.newTags.map((t) => [t.provider, t.repository, t.tag, t.digest]),
    removedTags: c.removedTags.map((t) => [t.provider, t.repository, t.tag, t.digest]),
    removedRepositories: c.removedRepositories.map((r) => [r.provider, r.repository]),
    newPlatforms: c.newPlatforms.map((p) => [p.provider, p.repository, p.tag, p.platforms.join(', ')]),
    unverified: c.unverified.map((u) => [u.provider, u.repository, u.tags.length, u.reason]),
    firstSeen: c.firstSeen.map((u) => [u.provider, u.repository, u.tags.length, u.reason]),
  };
}

function changeRefs(c: GraphChanges | undefined): Array<{ provider: string }> {
  if (!c) return [];
  return [
    ...c.newRepositories,
    ...c.removedRepositories,
    ...c.newTags,
    ...c.movedTags,
    ...c.removedTags,
    ...c.newPlatforms,
    ...c.unverified,
    ...c.firstSeen,
  ];
}

/**
 * Each plan as [provider, repository, deletions, bytes, why not planned]; with retention apply,
 * how the registries answered the deletions.
 */
function retentionData(r: RetentionReport): object {
  return {
    deletions: r.deletions,
    reclaimableBytes: r.reclaimable_bytes,
    skipped: r.skipped,
    applied: r.applied ? { ...r.applied.counts, bytesDeleted: r.applied.bytesDeleted } : null,
    plans: r.plans.map((p) => [
      p.provider,
      p.repository,
      p.deletions.length,
      p.reclaimable_bytes,
      p.skipped ?? null,
    ]),
  };
}

function deletionKey(provider: string, repository: string, digest: string): string {
  return `${provider}\u0000${repository}\u0000${digest}`;
}

function providerOf(e: Entity): string {
  return e.metadata.annotations?.[DISCOVERY_SOURCE] ?? '';
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i;

/** An RFC 3339 time, else undefined: Date.parse reads a date into most text with a number in it. */
function timestamp(v: unknown): string | undefined {
  return typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(Date.parse(v)) ? v : undefined;
}

/** An RFC 3339 time as whole seconds since the epoch; null when there is none. */
function seconds(v: unknown): number | null {
  const t = timestamp(v);
  return t === undefined ? null : Math.floor(Date.parse(t) / 1000);
}

/** A yes/no/unknown flag in two bits: 2 yes, 1 no, 0 not known. */
function tri(v: unknown): number {
  return v === true ? 2 : v === false ? 1 : 0;
}

/** Scanner counts as [critical, high, medium, low, total]; undefined when the image was not scanned. */
function vulnCounts(v: unknown): number[] | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const c = v as Record<string, unknown>;
  const n = (k: string) => (typeof c[k] === 'number' ? (c[k] as number) : 0);
  return [n('critical'), n('high'), n('medium'), n('low'), n('total')];
}

function intern(index: Map<string, number>, list: string[], value: string): number {
  const known = index.get(value);
  if (known !== undefined) return known;
  index.set(value, list.length);
  list.push(value);
  return list.length - 1;
}

function internRow(index: Map<string, number>, list: number[][], row: number[]): number {
  const key = row.join(',');
  const known = index.get(key);
  if (known !== undefined) return known;
  index.set(key, list.length);
  list.push(row);
  return list.length - 1;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}
