// The human view of a graph: a table per provider, a row per repository, then every failure.
// The CLI writes it to summary.md, the action to the job summary. It reads the graph's images one
// pass, one at a time, holding a row per repository.
import { compareNewestFirst } from '../discovery/order-tags.js';
import { asSource, type GraphSource } from '../graph/graph-source.js';
import { DISCOVERY_SOURCE, type Entity, type Graph } from '../model/graph.js';
import { type PolicyReport, vulnerabilitySource } from '../supply-chain/policy.js';

/**
 * Registry-supplied text (names, tags, errors) is untrusted: escape everything Markdown or HTML
 * would interpret, and drop control characters, so a hostile tag cannot break the table or
 * inject markup.
 */
export function escapeMarkdown(text: string): string {
  return (
    text
      // Besides C0/C1 controls (line breaks, NUL, ANSI escapes): invisible format characters
      // such as U+202E, which makes the rest of a line read backwards, Unicode line breaks, and
      // lone surrogates, which no UTF-8 file can hold.
      .replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, ' ')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/([\\`*_{}[\]()#+!|~])/g, '\\$1')
      // GitHub links @name and #123 in the rendered text, backslash or not, so a hostile name in
      // a PR comment would notify people or cross-reference issues; a zero-width space (as an
      // entity, so the Markdown source stays visible) after the sign keeps it plain text.
      .replace(/(^|\W)@(?=[A-Za-z0-9])/g, '$1@&#8203;')
      .replace(/\\#(?=\d)/g, '\\#&#8203;')
  );
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  // Round first, so 999,999 B reads 1.0 MB rather than 1000.0 KB.
  while (Math.round(v * 10) / 10 >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

function shortDigest(d: unknown): string {
  return typeof d === 'string'
    ? d
        .replace(/^sha256:/, '')
        .replace(/[^a-f0-9]/g, '')
        .slice(0, 12)
    : '';
}

export interface SummaryOptions {
  /** Extra lines placed under the title (request counts, rate-limit quota). */
  notes?: string[];
  /** The `require:` verdict, shown in the supply-chain section; absent when no selector has one. */
  policy?: PolicyReport;
  /** The run's retention plans: the storage section says what each would free. */
  retention?: { plans: ReadonlyArray<{ provider: string; repository: string; reclaimable_bytes: number }> };
}

/** Repositories the storage section lists, the biggest by total bytes. */
export const SUMMARY_BIGGEST = 10;

/** Violations listed in the summary; the rest are counted, and all are in policy-violations.json. */
export const SUMMARY_VIOLATIONS = 100;

export function renderSummary(input: Graph | GraphSource, opts: SummaryOptions = {}): string {
  const graph = asSource(input);
  const count = (kind: Entity['kind']) => graph.count(kind);
  const complete = graph.receipts.every((r) => r.complete);
  const lines: string[] = ['# Registry inventory', ''];
  lines.push(
    `${count('DockerRegistry')} registries, ${count('DockerRepository')} repositories, ${count('DockerImage')} images, ${count('DockerManifest')} manifests. ` +
      (complete ? 'Discovery was complete.' : '**Discovery was incomplete**: see Failures below.'),
  );
  for (const note of opts.notes ?? []) lines.push('', note);
  // The verdict up here too: a summary cut to fit GitHub's limit loses its end first.
  if (opts.policy) lines.push('', policyVerdict(opts.policy));

  lines.push(...renderStorage(graph, opts.retention));

  // Only each repository's newest image is shown, so only it is kept as the images stream past.
  // Entities carry the provider that found them, so two registries holding the same repository name stay apart.
  // Only what its row shows: a whole entity per repository (labels and all) was 10,000 of them
  // held at once at 10,000 repositories.
  const newestOf = new Map<string, Entity['spec']>();
  // The column appears only when some vendor scanner reported: an empty column would read as "clean".
  let showVulnerabilities = false;
  const supplyChain = new SupplyChainTally();
  for (const e of graph.entities(['DockerImage'])) {
    if (e.spec.vulnerabilities) showVulnerabilities = true;
    supplyChain.add(e);
    const key = `${e.metadata.annotations?.[DISCOVERY_SOURCE] ?? ''}\u0000${e.spec.repository}`;
    const held = newestOf.get(key);
    if (!held || compareNewestFirst(newestFacts(e.spec), newestFacts(held)) < 0)
      newestOf.set(key, rowFacts(e.spec));
  }
  const byProvider = groupBy(graph.receipts, (r) => r.provider);
  for (const [provider, receipts] of byProvider) {
    lines.push('', `## ${escapeMarkdown(provider)}`, '');
    const repoReceipts = receipts.filter((r) => r.repository !== '*');
    if (repoReceipts.length === 0) {
      lines.push('No repositories were discovered.');
      continue;
    }
    // Like the vulnerabilities column: only once some image's accessories were looked for.
    const showTrust = supplyChain.trustSeen;
    lines.push(
      `| Repository | Tags (selected / listed) | Newest tag | Digest | Platforms | Size | Created |${showVulnerabilities ? ' Vulnerabilities |' : ''}${showTrust ? ' Signed | SBOM | Provenance |' : ''} Complete |`,
    );
    lines.push(
      `|---|---|---|---|---|---|---|${showVulnerabilities ? '---|' : ''}${showTrust ? '---|---|---|' : ''}---|`,
    );
    for (const r of repoReceipts) {
      const newest = newestOf.get(`${provider}\u0000${r.repository}`);
      const platforms = (newest?.platforms as string[] | undefined) ?? [];
      lines.push(
        `| ${escapeMarkdown(r.repository)} | ${r.tags_selected} / ${r.tags_listed} | ${newest ? escapeMarkdown(String(newest.tag)) : ''} | ${
          newest ? `\`${shortDigest(newest.digest)}\`` : ''
        } | ${escapeMarkdown(platforms.join(', '))} | ${formatBytes(newest?.size as number | undefined)} | ${
          typeof newest?.created === 'string' ? escapeMarkdown(newest.created.slice(0, 10)) : ''
        } |${showVulnerabilities ? ` ${formatVulnerabilities(newest?.vulnerabilities)} |` : ''}${
          showTrust ? ` ${signedCell(newest)} | ${mark(newest?.sbom)} | ${mark(newest?.provenance)} |` : ''
        } ${r.complete ? 'yes' : '**no**'} |`,
      );
    }
  }
  lines.push(...supplyChain.render(opts.policy));

  const failures = graph.receipts.filter((r) => r.errors.length > 0 || !r.complete);
  if (failures.length > 0) {
    lines.push('', '## Failures', '');
    for (const r of failures) {
      const where = r.repository === '*' ? `${r.provider} (registry)` : `${r.provider} / ${r.repository}`;
      for (const e of r.errors.length > 0 ? r.errors : ['incomplete'])
        lines.push(`- ${escapeMarkdown(where)}: ${escapeMarkdown(e)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

interface StorageRow {
  provider: string;
  repository: string;
  storage: StorageFigures;
}

interface StorageFigures {
  total_bytes: number;
  unique_bytes: number;
  shared_bytes: number;
  untagged_bytes?: number;
  partial: boolean;
}

function figuresOf(spec: Entity['spec']): StorageFigures | undefined {
  const s = spec.storage as Partial<StorageFigures> | undefined;
  return s && typeof s === 'object' && typeof s.total_bytes === 'number' ? (s as StorageFigures) : undefined;
}

/**
 * The storage section: each registry's figures, then its biggest repositories, with what the
 * retention plan frees where there is one. Up here, under the notes, because it is short and a
 * summary cut to fit GitHub's limit loses its end first. None where the graph has no storage (a
 * shard's: only merge can count what shards share).
 */
function renderStorage(graph: GraphSource, retention: SummaryOptions['retention']): string[] {
  const registries: StorageRow[] = [];
  // Only the biggest are kept as the repositories stream past, biggest first.
  const biggest: StorageRow[] = [];
  let repositories = 0;
  for (const e of graph.entities(['DockerRegistry', 'DockerRepository'])) {
    const storage = figuresOf(e.spec);
    if (!storage) continue;
    const provider = e.metadata.annotations?.[DISCOVERY_SOURCE] ?? '';
    if (e.kind === 'DockerRegistry') {
      registries.push({ provider, repository: '', storage });
      continue;
    }
    repositories++;
    const row = { provider, repository: String(e.spec.full_name), storage };
    const at = biggest.findIndex((b) => compareBiggest(row, b) < 0);
    if (at >= 0) biggest.splice(at, 0, row);
    else biggest.push(row);
    if (biggest.length > SUMMARY_BIGGEST) biggest.pop();
  }
  if (registries.length === 0 && biggest.length === 0) return [];
  const frees = new Map<string, number>();
  for (const p of retention?.plans ?? []) {
    frees.set(p.provider, (frees.get(p.provider) ?? 0) + p.reclaimable_bytes);
    frees.set(`${p.provider}\u0000${p.repository}`, p.reclaimable_bytes);
  }
  const all = [...registries, ...biggest];
  const untagged = all.some((r) => r.storage.untagged_bytes !== undefined);
  const bytes = (r: StorageRow) => `${r.storage.partial ? '≥ ' : ''}${formatBytes(r.storage.total_bytes)}`;
  const optional = (r: StorageRow, key: string) =>
    `${untagged ? ` ${formatBytes(r.storage.untagged_bytes)} |` : ''}${retention ? ` ${formatBytes(frees.get(key))} |` : ''}`;
  const extra = [...(untagged ? ['Untagged'] : []), ...(retention ? ['Retention plan frees'] : [])];
  const lines = ['', '## Storage'];
  lines.push(...tableHead(['Registry', 'Total', 'Shared between repositories', ...extra]));
  for (const r of registries)
    lines.push(
      `| ${escapeMarkdown(r.provider)} | ${bytes(r)} | ${formatBytes(r.storage.shared_bytes)} |${optional(r, r.provider)}`,
    );
  if (biggest.length > 0) {
    lines.push(
      '',
      biggest.length < repositories
        ? `The ${biggest.length} biggest of ${repositories} repositories:`
        : 'Repositories, biggest first:',
    );
    lines.push(...tableHead(['Registry', 'Repository', 'Total', 'Unique', 'Shared', ...extra]));
    for (const r of biggest)
      lines.push(
        `| ${escapeMarkdown(r.provider)} | ${escapeMarkdown(r.repository)} | ${bytes(r)} | ${formatBytes(r.storage.unique_bytes)} | ${formatBytes(r.storage.shared_bytes)} |${optional(r, `${r.provider}\u0000${r.repository}`)}`,
      );
  }
  lines.push(
    '',
    `Distinct layers, configs and manifests of what is tagged, each counted once; shared: another repository of the registry references it too${all.some((r) => r.storage.partial) ? '; ≥: at least this, as some of it was not read (max_tags, a failure, sizes not stated)' : ''}.`,
  );
  return lines;
}

/** Biggest first; equal totals by registry and repository name, so the table is the same every run. */
function compareBiggest(a: StorageRow, b: StorageRow): number {
  return (
    b.storage.total_bytes - a.storage.total_bytes ||
    (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0) ||
    (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0)
  );
}

const SEVERITIES: Array<[string, string]> = [
  ['critical', 'critical'],
  ['high', 'high'],
  ['medium', 'medium'],
  ['low', 'low'],
];

/** "2 critical, 5 high" from a scanner's counts; "none" for a clean scan, empty when not scanned. */
export function formatVulnerabilities(v: unknown): string {
  if (!v || typeof v !== 'object') return '';
  const counts = v as Record<string, unknown>;
  const parts = SEVERITIES.flatMap(([key, label]) =>
    typeof counts[key] === 'number' && (counts[key] as number) > 0 ? [`${counts[key]} ${label}`] : [],
  );
  if (parts.length > 0) return parts.join(', ');
  return typeof counts.total === 'number' && counts.total > 0 ? `${counts.total} other` : 'none';
}

function rowFacts({
  tag,
  digest,
  platforms,
  size,
  created,
  vulnerabilities,
  signed,
  verified,
  sbom,
  provenance,
}: Entity['spec']): Entity['spec'] {
  return { tag, digest, platforms, size, created, vulnerabilities, signed, verified, sbom, provenance };
}

/** ✓ when looked for and found, ✗ when looked for and not found, blank when it could not be looked for. */
function mark(value: unknown): string {
  return value === true ? '✓' : value === false ? '✗' : '';
}

/** The signed cell, saying whether a configured key verified the signature where keys are set. */
function signedCell(spec: Entity['spec'] | undefined): string {
  const signed = mark(spec?.signed);
  if (spec?.verified === true) return `${signed} verified`;
  if (spec?.verified === false && spec.signed === true) return `${signed} not verified`;
  return signed;
}

type TrustField = 'signed' | 'verified' | 'sbom' | 'provenance';
const TRUST_FIELDS: TrustField[] = ['signed', 'verified', 'sbom', 'provenance'];

/** Per provider: images, and per trust field how many were looked at and how many had it. */
interface ProviderTally {
  images: number;
  trust: Record<TrustField, { known: number; yes: number }>;
  /** Per source of counts: images with counts, and their counts added up by severity. */
  vulnerabilities: Map<string, { images: number; counts: Record<string, number> }>;
}

/** The supply-chain section's figures, gathered as the images stream past once. */
class SupplyChainTally {
  private readonly providers = new Map<string, ProviderTally>();
  trustSeen = false;
  private vulnerabilitiesSeen = false;

  add(e: Entity): void {
    const name = e.metadata.annotations?.[DISCOVERY_SOURCE] ?? '';
    let tally = this.providers.get(name);
    if (!tally) {
      const trust = Object.fromEntries(TRUST_FIELDS.map((f) => [f, { known: 0, yes: 0 }]));
      tally = { images: 0, trust: trust as ProviderTally['trust'], vulnerabilities: new Map() };
      this.providers.set(name, tally);
    }
    tally.images++;
    for (const field of TRUST_FIELDS) {
      const value = e.spec[field];
      if (typeof value !== 'boolean') continue;
      this.trustSeen = true;
      tally.trust[field].known++;
      if (value) tally.trust[field].yes++;
    }
    const counts = e.spec.vulnerabilities as Record<string, unknown> | undefined;
    if (!counts || typeof counts !== 'object') return;
    this.vulnerabilitiesSeen = true;
    const source = vulnerabilitySource(counts);
    const bySource = tally.vulnerabilities.get(source) ?? { images: 0, counts: {} };
    tally.vulnerabilities.set(source, bySource);
    bySource.images++;
    for (const [severity] of SEVERITIES) {
      const n = counts[severity];
      if (typeof n === 'number') bySource.counts[severity] = (bySource.counts[severity] ?? 0) + n;
    }
  }

  render(policy: PolicyReport | undefined): string[] {
    if (!this.trustSeen && !this.vulnerabilitiesSeen && !policy) return [];
    const lines = ['', '## Supply chain'];
    const providers = [...this.providers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (this.trustSeen) {
      lines.push(...tableHead(['Provider', 'Images', 'Signed', 'Verified', 'SBOM', 'Provenance']));
      for (const [name, t] of providers) {
        const cell = (f: TrustField) => {
          const { known, yes } = t.trust[f];
          if (known === 0) return '';
          return `${yes} of ${known}${known < t.images ? ` (${t.images - known} not looked for)` : ''}`;
        };
        lines.push(`| ${escapeMarkdown(name)} | ${t.images} | ${TRUST_FIELDS.map(cell).join(' | ')} |`);
      }
    }
    if (this.vulnerabilitiesSeen) {
      lines.push(
        ...tableHead([
          'Provider',
          'Vulnerability counts from',
          'Images',
          'Critical',
          'High',
          'Medium',
          'Low',
        ]),
      );
      for (const [name, t] of providers) {
        for (const [source, v] of [...t.vulnerabilities].sort(([a], [b]) => (a < b ? -1 : 1))) {
          const severities = SEVERITIES.map(([key]) => String(v.counts[key] ?? 0)).join(' | ');
          lines.push(`| ${escapeMarkdown(name)} | ${escapeMarkdown(source)} | ${v.images} | ${severities} |`);
        }
      }
    }
    if (policy) lines.push('', ...renderPolicy(policy, { heading: '### Policy', limit: SUMMARY_VIOLATIONS }));
    return lines;
  }
}

/** A blank line, then a table's header and separator rows. */
function tableHead(columns: string[]): string[] {
  return ['', `| ${columns.join(' | ')} |`, `|${'---|'.repeat(columns.length)}`];
}

/** One line: whether every image met its selector's `require:`, and if not how many did not. */
function policyVerdict(policy: PolicyReport): string {
  if (policy.violations.length === 0)
    return `Policy: all ${policy.checked} images checked meet their selector's \`require:\`.`;
  return `**Policy: ${policy.failed} of ${policy.checked} images checked violate their selector's \`require:\`** (${policy.violations.length} violations).`;
}

/**
 * The `require:` verdict as Markdown: how many images passed, then the violations, the first
 * `limit` listed and the rest counted (policy-violations.json holds all of them).
 */
export function renderPolicy(policy: PolicyReport, opts: { heading: string; limit: number }): string[] {
  const lines = [opts.heading, '', policyVerdict(policy)];
  if (policy.violations.length === 0) return lines;
  lines.push('');
  for (const v of policy.violations.slice(0, opts.limit)) {
    lines.push(
      `- ${escapeMarkdown(`${v.provider} / ${v.repository}:${v.tag}`)} (\`${shortDigest(v.digest)}\`): **${v.rule}**: ${escapeMarkdown(v.detail)}`,
    );
  }
  const rest = policy.violations.length - opts.limit;
  if (rest > 0) lines.push(`- … and ${rest} more, all listed in policy-violations.json`);
  return lines;
}

function newestFacts(spec: Entity['spec']): { tag: string; created: string | undefined } {
  return { tag: String(spec.tag), created: spec.created as string | undefined };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** What GitHub shows of one step's job summary: beyond it the whole summary is dropped, not cut. */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

/**
 * `markdown` cut at a line to fit GitHub's job-summary limit, with a note saying where the whole
 * of it is. Over the limit GitHub drops the step's summary altogether ("upload aborted, supports
 * content up to a size of 1024k"), and a registry of many repositories makes more than that in tables.
 */
export function fitStepSummary(markdown: string, whole: string, limit = STEP_SUMMARY_LIMIT): string {
  const size = Buffer.byteLength(markdown, 'utf8');
  if (size <= limit) return markdown;
  const kb = (n: number) => `${Math.ceil(n / 1024).toLocaleString('en-US')} KB`;
  const note = `\n**The summary is cut here**: it is ${kb(size)}, over the ${kb(limit)} GitHub shows of a job summary. The whole of it is in ${whole}.\n`;
  // Decoding a cut mid-character ends in U+FFFD, which falls after the last whole line and goes with it.
  const head = Buffer.from(markdown, 'utf8')
    .subarray(0, limit - Buffer.byteLength(note, 'utf8'))
    .toString('utf8');
  return `${head.slice(0, head.lastIndexOf('\n') + 1)}${note}`;
}
