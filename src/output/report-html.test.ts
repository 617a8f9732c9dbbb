import { describe, expect, it } from 'vitest';
import type { GraphChanges } from '../graph/diff.js';
import { inMemory } from '../graph/graph-source.js';
import { API_VERSION, DISCOVERY_SOURCE, type Entity, GRAPH_FORMAT, type Graph } from '../model/graph.js';
import type { RetentionReport } from '../retention/retention-planner.js';
import {
  barChart,
  CHART_BARS,
  LABEL_CHARS,
  type ReportInput,
  reportHtml,
  scriptSafe,
  topBars,
} from './report-html.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;

function node(kind: Entity['kind'], provider: string, spec: Record<string, unknown>): Entity {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: {
      name: `${kind}-${JSON.stringify(spec)}`,
      namespace: 'default',
      labels: {},
      annotations: { [DISCOVERY_SOURCE]: provider },
    },
    spec,
  };
}

function receipt(provider: string, repository: string, extra: Partial<Graph['receipts'][number]> = {}) {
  return {
    provider,
    repository,
    complete: true,
    tags_listed: 2,
    tags_selected: 2,
    pages: 1,
    requests: 3,
    errors: [],
    ...extra,
  };
}

const STORAGE = {
  total_bytes: 2600,
  unique_bytes: 2000,
  shared_bytes: 600,
  untagged_bytes: 300,
  partial: true,
};

/** Two registries; `acme/api` has storage figures, `lib/web` has none and an alias tag. */
function graph(): Graph {
  return {
    format: GRAPH_FORMAT,
    generated_at: '2026-11-22T10:00:00Z',
    entities: [
      node('DockerImage', 'hub', {
        repository: 'acme/api',
        tag: 'v1',
        digest: A,
        size: 1000,
        platforms: ['linux/amd64'],
        created: '2026-11-20T10:00:00Z',
        signed: true,
        sbom: false,
        provenance: true,
        vulnerabilities: { total: 3, critical: 1, high: 2 },
      }),
      node('DockerImage', 'hub', {
        repository: 'acme/api',
        tag: 'v2',
        digest: B,
        size: 2000,
        platforms: ['linux/amd64', 'linux/arm64/v8'],
        created: '1970-01-01T00:00:00Z',
        last_updated: '2026-10-01T00:00:00Z',
      }),
      node('DockerImage', 'ghcr', {
        repository: 'lib/web',
        tag: '1.0',
        digest: C,
        size: 500,
        platforms: ['linux/amd64'],
      }),
      node('DockerImage', 'ghcr', {
        repository: 'lib/web',
        tag: 'latest',
        digest: C,
        size: 500,
        platforms: ['linux/amd64'],
      }),
      node('DockerRepository', 'hub', {
        full_name: 'acme/api',
        storage: STORAGE,
      }),
      node('DockerRepository', 'ghcr', { full_name: 'lib/web' }),
      node('DockerRegistry', 'hub', {
        name: 'hub',
        storage: STORAGE,
      }),
      node('DockerRegistry', 'ghcr', { name: 'ghcr' }),
    ],
    relations: [],
    receipts: [
      receipt('ghcr', '*', { complete: false, errors: ['catalog denied'] }),
      receipt('ghcr', 'lib/web'),
      receipt('hub', 'acme/api', { tags_listed: 5 }),
    ],
  };
}

interface Data {
  images: unknown[][];
  repos: unknown[][];
  digests: string[];
  platforms: string[];
  vulns: number[][];
  providers: string[];
  show: Record<string, boolean>;
  at: number;
  manyProviders: boolean;
  changes: Record<string, unknown>;
  retention: { deletions: number; reclaimableBytes: number; skipped: number; plans: unknown[][] } | null;
  failures: string[][];
}

const DATA_OPEN = '<script type="application/json" id="report-data">';

function page(input: ReportInput): { html: string; pieces: string[]; data: Data } {
  const pieces = [...reportHtml(input)];
  const html = pieces.join('');
  const start = html.indexOf(DATA_OPEN) + DATA_OPEN.length;
  const data = JSON.parse(html.slice(start, html.indexOf('</script>', start))) as Data;
  return { html, pieces, data };
}

describe('report.html data', () => {
  const { html, data } = page({ graph: inMemory(graph()) });

  it('writes each image as a row of indexes and numbers', () => {
    expect(data.providers).toEqual(['ghcr', 'hub']);
    expect(data.repos.map((r) => r[1])).toEqual(['lib/web', 'acme/api']);
    expect(data.digests).toEqual(['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)]);
    expect(data.platforms).toEqual(['linux/amd64', 'linux/amd64, linux/arm64/v8']);
    // [repo, tag, digest, platforms, size, created, pushed, flags, vulns]
    expect(data.images[0]).toEqual([
      1,
      'v1',
      0,
      0,
      1000,
      Date.parse('2026-11-20T10:00:00Z') / 1000,
      null,
      2 | (1 << 2) | (2 << 4),
      0,
    ]);
    expect(data.images[1]).toEqual([
      1,
      'v2',
      1,
      1,
      2000,
      0,
      Date.parse('2026-10-01T00:00:00Z') / 1000,
      0,
      null,
    ]);
    expect(data.images[3]).toEqual([0, 'latest', 2, 0, 500, null, null, 0, null]);
    expect(data.vulns).toEqual([[1, 2, 0, 0, 3]]);
    expect(data.show).toEqual({
      pushed: true,
      trust: true,
      verified: false,
      vulns: true,
      retention: false,
      shared: true,
      untagged: true,
    });
    expect(data.at).toBe(Date.parse('2026-11-22T10:00:00Z') / 1000);
    expect(data.manyProviders).toBe(true);
  });

  it("takes a repository's storage from the graph, else sums its distinct image sizes", () => {
    // [provider, name, selected, listed, complete, storage, storage kind, problems, unique, shared, untagged]
    expect(data.repos).toEqual([
      [0, 'lib/web', 2, 2, 1, 500, 2, '', null, null, null],
      [1, 'acme/api', 2, 5, 1, 2600, 1, '', 2000, 600, 300],
    ]);
  });

  it("says what each registry's storage is, where the graph has it", () => {
    expect(html).toContain(
      '<p>Storage of hub: at least 2.6 KB, each layer counted once, and 300 B more in untagged manifests.</p>',
    );
    expect(html).not.toContain('Storage of ghcr');
  });

  it('lists every failed receipt', () => {
    expect(data.failures).toEqual([['ghcr (registry)', 'catalog denied']]);
    expect(html).toContain('Discovery was incomplete');
  });

  it('draws the three charts from the same figures', () => {
    const storage = html.slice(
      html.indexOf('<figure id="storage-chart"'),
      html.indexOf('<figure id="age-chart"'),
    );
    expect(storage).toContain('acme/api: 2.6 KB');
    expect(storage).toContain('lib/web: 500 B');
    const ages = html.slice(html.indexOf('<figure id="age-chart"'), html.indexOf('<figure id="tags-chart"'));
    // v1 is two days old, v2 dates from its push (its epoch creation says nothing), lib/web has no date.
    expect(ages).toContain('&lt; 1 week: 1');
    expect(ages).toContain('1 – 3 months: 1');
    expect(ages).toContain('no date: 2');
    const tags = html.slice(html.indexOf('<figure id="tags-chart"'));
    expect(tags).toContain('hub / acme/api: 2');
    expect(tags).toContain('ghcr / lib/web: 2');
  });

  it('allows only its own script and style, and nothing to be fetched', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    expect(csp).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; script-src 'sha256-[A-Za-z0-9+/=]+';/,
    );
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(html.match(/<script/g)).toHaveLength(2);
  });
});

describe('report.html with the change report and a retention plan', () => {
  const changes: GraphChanges = {
    firstRun: false,
    previousGeneratedAt: '2026-11-21T10:00:00Z',
    newRepositories: [],
    removedRepositories: [{ provider: 'hub', repository: 'acme/old' }],
    newTags: [{ provider: 'hub', repository: 'acme/api', tag: 'v2', digest: B }],
    movedTags: [{ provider: 'hub', repository: 'acme/api', tag: 'v1', from: C, to: A }],
    removedTags: [],
    newPlatforms: [
      { provider: 'hub', repository: 'acme/api', tag: 'v2', digest: B, platforms: ['linux/arm64/v8'] },
    ],
    unverified: [
      { provider: 'ghcr', repository: 'lib/web', tags: ['0.9'], reason: 'its listing was cut short' },
    ],
    firstSeen: [],
  };
  const retention = {
    plans: [
      {
        provider: 'hub',
        registry: 'https://hub.example',
        repository: 'acme/api',
        deletions: [
          {
            repository: 'acme/api',
            digest: B,
            tags: ['v2'],
            role: 'image',
            cause: 'rules',
            reason: 'r',
            bytes_reclaimed: 1500,
          },
        ],
        protected: [],
        blast_radius: [],
        reclaimable_bytes: 1500,
        notes: [],
      },
      {
        provider: 'ghcr',
        registry: 'https://ghcr.example',
        repository: 'lib/web',
        skipped: 'the tag listing was incomplete',
        deletions: [],
        protected: [],
        blast_radius: [],
        reclaimable_bytes: 0,
        notes: [],
      },
    ],
    deletions: 1,
    reclaimable_bytes: 1500,
    skipped: 1,
  } as RetentionReport;
  const { data } = page({ graph: inMemory(graph()), changes, retention });

  it('carries every list of the change report', () => {
    expect(data.changes).toEqual({
      compared: true,
      firstRun: false,
      previousGeneratedAt: '2026-11-21T10:00:00Z',
      movedTags: [['hub', 'acme/api', 'v1', C, A]],
      newRepositories: [],
      newTags: [['hub', 'acme/api', 'v2', B]],
      removedTags: [],
      removedRepositories: [['hub', 'acme/old']],
      newPlatforms: [['hub', 'acme/api', 'v2', 'linux/arm64/v8']],
      unverified: [['ghcr', 'lib/web', 1, 'its listing was cut short']],
      firstSeen: [],
    });
  });

  it('says there was nothing to compare with, or that this is the first inventory', () => {
    expect(page({ graph: inMemory(graph()) }).data.changes).toEqual({ compared: false });
    expect(
      page({ graph: inMemory(graph()), changes: { ...changes, firstRun: true } }).data.changes,
    ).toMatchObject({
      compared: true,
      firstRun: true,
    });
  });

  it('marks the images a planned deletion removes, and lists the plans', () => {
    expect(data.show.retention).toBe(true);
    const flagged = data.images.filter((r) => ((r[7] as number) >> 8) & 1).map((r) => r[1]);
    expect(flagged).toEqual(['v2']);
    expect(data.retention).toEqual({
      deletions: 1,
      reclaimableBytes: 1500,
      skipped: 1,
      applied: null,
      plans: [
        ['hub', 'acme/api', 1, 1500, null],
        ['ghcr', 'lib/web', 0, 0, 'the tag listing was incomplete'],
      ],
    });
  });
});

describe('report.html at scale', () => {
  it('is written in pieces, none of them the whole page', () => {
    const entities: Entity[] = [];
    const receipts: Graph['receipts'] = [];
    for (let r = 0; r < 200; r++) {
      receipts.push(receipt('hub', `team/service-${r}`, { tags_listed: 25, tags_selected: 25 }));
      for (let t = 0; t < 25; t++) {
        entities.push(
          node('DockerImage', 'hub', {
            repository: `team/service-${r}`,
            tag: `1.0.${t}`,
            digest: `sha256:${(r * 25 + t).toString(16).padStart(64, '0')}`,
            size: 1000 + t,
            platforms: ['linux/amd64'],
            created: new Date(Date.UTC(2026, 0, 1 + t)).toISOString(),
          }),
        );
      }
    }
    const g: Graph = {
      format: GRAPH_FORMAT,
      generated_at: '2026-11-22T10:00:00Z',
      entities,
      relations: [],
      receipts,
    };
    const { pieces, data } = page({ graph: inMemory(g) });
    expect(data.images).toHaveLength(5000);
    expect(data.repos).toHaveLength(200);
    expect(pieces.length).toBeGreaterThan(5);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(1 << 17);
  });
});

describe('charts', () => {
  it('draws the largest bars and sums the rest in one', () => {
    const items = Array.from({ length: CHART_BARS + 3 }, (_, i) => ({ label: `r${i}`, value: i + 1 }));
    const bars = topBars(items, String);
    expect(bars).toHaveLength(CHART_BARS + 1);
    expect(bars[0]).toEqual({
      label: `r${CHART_BARS + 2}`,
      value: CHART_BARS + 3,
      text: String(CHART_BARS + 3),
    });
    expect(bars.at(-1)).toEqual({ label: '3 others', value: 6, text: '6', others: true, rest: true });
  });

  it('scales to the named bars: a sum of the rest longer than them gets its figure and no bar', () => {
    const items = Array.from({ length: CHART_BARS + 20 }, (_, i) => ({ label: `r${i}`, value: 10 }));
    const svg = barChart('c', 'T', 'n', topBars(items, String));
    expect(svg.match(/<rect class="bar" [^>]*width="150"/g)).toHaveLength(CHART_BARS);
    expect(svg).not.toContain('<rect class="others"');
    expect(svg).toContain('<title>20 others: 200</title>');
  });

  it('escapes and shortens labels, keeping the whole in the tooltip', () => {
    const long = `<b>${'x'.repeat(40)}\u202e`;
    const svg = barChart('c', 'T', 'n', [{ label: long, value: 1, text: '1' }]);
    expect(svg).toContain(`<title>&lt;b&gt;${'x'.repeat(40)}\\u202e: 1</title>`);
    // `<b>` and then x up to the last character drawn, which is the ellipsis.
    expect(svg).toContain(`&lt;b&gt;${'x'.repeat(LABEL_CHARS - 4)}…</text>`);
    expect(svg).not.toContain('<b>');
  });
});

describe('scriptSafe', () => {
  it('leaves nothing that could end the script block or a line', () => {
    const json = JSON.stringify(['</script><script>alert(1)</script>', '<!--', 'a\u2028b\u2029c', '&amp;']);
    const safe = scriptSafe(json);
    expect(safe).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(safe)).toEqual(JSON.parse(json));
  });
});
