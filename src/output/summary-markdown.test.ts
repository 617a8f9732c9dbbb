import { describe, expect, it } from 'vitest';
import {
  API_VERSION,
  DISCOVERY_SOURCE,
  type Entity,
  GRAPH_FORMAT,
  type Graph,
  type GraphReceipt,
} from '../model/graph.js';
import type { PolicyReport, PolicyViolation } from '../supply-chain/policy.js';
import {
  escapeMarkdown,
  fitStepSummary,
  formatBytes,
  formatVulnerabilities,
  renderPolicy,
  renderSummary,
  STEP_SUMMARY_LIMIT,
  SUMMARY_VIOLATIONS,
} from './summary-markdown.js';

const HUB = 'https://registry-1.docker.io';

function entity(
  kind: Entity['kind'],
  name: string,
  spec: Record<string, unknown>,
  namespace = 'default',
  provider = 'docker-hub',
): Entity {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { name, namespace, labels: {}, annotations: { [DISCOVERY_SOURCE]: provider } },
    spec,
  };
}

function repository(fullName: string, registryUrl = HUB, namespace = 'default'): Entity {
  return entity(
    'DockerRepository',
    fullName.replace(/\W/g, '-'),
    { name: fullName.split('/').pop(), full_name: fullName, registry_url: registryUrl },
    namespace,
  );
}

function image(
  repo: string,
  tag: string,
  spec: Record<string, unknown> = {},
  registryUrl = HUB,
  namespace = 'default',
  provider = 'docker-hub',
): Entity {
  return entity(
    'DockerImage',
    `${repo}-${tag}`.replace(/\W/g, '-'),
    { repository: repo, tag, registry_url: registryUrl, ...spec },
    namespace,
    provider,
  );
}

function receipt(provider: string, repository: string, extra: Partial<GraphReceipt> = {}): GraphReceipt {
  return {
    provider,
    repository,
    complete: true,
    tags_listed: 5,
    tags_selected: 2,
    pages: 1,
    requests: 3,
    errors: [],
    ...extra,
  };
}

function graph(entities: Entity[], receipts: GraphReceipt[]): Graph {
  return { format: GRAPH_FORMAT, generated_at: '2026-11-22T10:00:00Z', entities, relations: [], receipts };
}

/** Count `|` not preceded by an odd number of backslashes. */
function unescapedPipes(line: string): number {
  let n = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '|') continue;
    let backslashes = 0;
    for (let j = i - 1; j >= 0 && line[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 0) n++;
  }
  return n;
}

const tableLines = (md: string) => md.split('\n').filter((l) => l.startsWith('|'));

describe('escapeMarkdown', () => {
  it.each<[string, string]>([
    ['plain-text 1.0', 'plain-text 1.0'],
    ['a|b', 'a\\|b'],
    ['`code`', '\\`code\\`'],
    ['<script>alert(1)</script>', '&lt;script&gt;alert\\(1\\)&lt;/script&gt;'],
    ['a & b', 'a &amp; b'],
    ['&lt;', '&amp;lt;'],
    ['*bold* _it_', '\\*bold\\* \\_it\\_'],
    ['[link](http://x)', '\\[link\\]\\(http://x\\)'],
    ['![img](x)', '\\!\\[img\\]\\(x\\)'],
    ['# heading', '\\# heading'],
    ['~~strike~~', '\\~\\~strike\\~\\~'],
    ['a\\b', 'a\\\\b'],
    ['\\|', '\\\\\\|'],
    ['{x}', '\\{x\\}'],
    ['1+1', '1\\+1'],
    ['line1\nline2', 'line1 line2'],
    ['cr\r\nlf', 'cr  lf'],
    ['tab\there', 'tab here'],
    ['nul\u0000bell\u0007esc\u001b', 'nul bell esc '],
    ['del\u007fc1\u0085\u009f', 'del c1  '],
    ['', ''],
    ['ünïcödé ✓', 'ünïcödé ✓'],
  ])('%j → %j', (text, expected) => {
    expect(escapeMarkdown(text)).toBe(expected);
  });

  it('leaves no raw < > or unescaped | and no line breaks', () => {
    const hostile = '<img src=x onerror=alert(1)>|\n|`|\\|\r<!-- -->';
    const out = escapeMarkdown(hostile);
    expect(out).not.toMatch(/[<>\n\r]/);
    expect(unescapedPipes(out)).toBe(0);
  });
});

describe('formatBytes', () => {
  it.each<[number | undefined, string]>([
    [undefined, ''],
    [0, '0 B'],
    [1, '1 B'],
    [999, '999 B'],
    [1000, '1.0 KB'],
    [1536, '1.5 KB'],
    [999_949, '999.9 KB'],
    [1_000_000, '1.0 MB'],
    [1_500_000, '1.5 MB'],
    [52_428_800, '52.4 MB'],
    [1_000_000_000, '1.0 GB'],
    [2.5e12, '2.5 TB'],
    [5e15, '5000.0 TB'],
  ])('%s → %j', (n, expected) => {
    expect(formatBytes(n)).toBe(expected);
  });

  it.each<[number, string]>([
    [999_999, '1.0 MB'],
    [999_950, '1.0 MB'],
    [999_999_999, '1.0 GB'],
  ])('rounds up into the next unit: %s → %j', (n, expected) => {
    expect(formatBytes(n)).toBe(expected);
  });
});

describe('renderSummary', () => {
  const base = () =>
    graph(
      [
        entity('DockerRegistry', 'docker-hub', { name: 'docker-hub', url: HUB }),
        repository('library/nginx'),
        repository('library/redis'),
        image('library/nginx', '1.25', {
          digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
          created: '2024-05-01T12:00:00Z',
          size: 52_428_800,
          platforms: ['linux/amd64', 'linux/arm64/v8'],
        }),
        image('library/nginx', '1.24', {
          digest: 'sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210',
          created: '2024-01-01T12:00:00Z',
          size: 40_000_000,
          platforms: ['linux/amd64'],
        }),
        image('library/redis', '7.2', { digest: 'sha256:aaaaaaaaaaaabbbb', platforms: ['linux/amd64'] }),
      ],
      [
        receipt('docker-hub', '*', { tags_listed: 0, tags_selected: 0 }),
        receipt('docker-hub', 'library/nginx', { tags_listed: 812, tags_selected: 10 }),
        receipt('docker-hub', 'library/redis', { tags_listed: 3, tags_selected: 1 }),
      ],
    );

  it('renders a title, counts and a table row per repository receipt', () => {
    const md = renderSummary(base());
    expect(md.startsWith('# Registry inventory\n')).toBe(true);
    expect(md).toContain('1 registries, 2 repositories, 3 images, 0 manifests.');
    expect(md).toContain('Discovery was complete.');
    expect(md).not.toContain('## Failures');
    expect(md).toContain('## docker-hub');
    const rows = tableLines(md);
    // header, separator, two repositories (the registry receipt '*' has no row)
    expect(rows).toHaveLength(4);
    expect(rows[2]).toBe(
      '| library/nginx | 10 / 812 | 1.25 | `0123456789ab` | linux/amd64, linux/arm64/v8 | 52.4 MB | 2024-05-01 | yes |',
    );
    expect(rows[3]).toBe('| library/redis | 1 / 3 | 7.2 | `aaaaaaaaaaaa` | linux/amd64 |  |  | yes |');
    expect(md.endsWith('\n')).toBe(true);
  });

  it('adds a vulnerabilities column only when a vendor scanner reported', () => {
    const g = base();
    const nginx = g.entities.find((e) => e.spec.tag === '1.25')!;
    nginx.spec.vulnerabilities = { total: 9, critical: 2, high: 5, low: 2 };
    const rows = tableLines(renderSummary(g));
    expect(rows[0]).toContain('| Created | Vulnerabilities | Complete |');
    expect(rows[2]).toContain('| 2024-05-01 | 2 critical, 5 high, 2 low | yes |');
    // redis's newest image was not scanned: an empty cell, never "none".
    expect(rows[3]).toContain('|  |  | yes |');
    expect(tableLines(renderSummary(base()))[0]).not.toContain('Vulnerabilities');
  });

  it('formats scanner counts', () => {
    expect(formatVulnerabilities({ total: 0 })).toBe('none');
    expect(formatVulnerabilities({ total: 3, unknown: 3 })).toBe('3 other');
    expect(formatVulnerabilities(undefined)).toBe('');
  });

  it('shows the newest image by created, then by version', () => {
    const g = base();
    g.entities.push(image('library/redis', '7.10', { digest: 'sha256:cccccccccccc' }));
    const row = tableLines(renderSummary(g)).find((l) => l.startsWith('| library/redis'))!;
    expect(row).toContain('| 7.10 |');
  });

  it('renders a row with empty cells for a repository without images', () => {
    const g = graph(
      [repository('empty/repo')],
      [receipt('hub', 'empty/repo', { tags_listed: 0, tags_selected: 0 })],
    );
    const rows = tableLines(renderSummary(g));
    expect(rows[2]).toBe('| empty/repo | 0 / 0 |  |  |  |  |  | yes |');
  });

  it('says so when a provider discovered no repositories', () => {
    const md = renderSummary(graph([], [receipt('ghcr', '*')]));
    expect(md).toContain('## ghcr\n\nNo repositories were discovered.');
    expect(tableLines(md)).toHaveLength(0);
  });

  it('adds notes under the title', () => {
    const md = renderSummary(base(), { notes: ['123 requests', 'Docker Hub quota: 95/100'] });
    expect(md).toContain('123 requests');
    expect(md.indexOf('Docker Hub quota: 95/100')).toBeLessThan(md.indexOf('## docker-hub'));
  });

  it('renders one section per provider', () => {
    const g = graph(
      [repository('a/x'), repository('b/y', 'https://ghcr.io')],
      [receipt('hub', 'a/x'), receipt('ghcr', 'b/y')],
    );
    const md = renderSummary(g);
    expect(md.indexOf('## hub')).toBeGreaterThan(0);
    expect(md.indexOf('## ghcr')).toBeGreaterThan(md.indexOf('## hub'));
    expect(md.indexOf('| a/x |')).toBeLessThan(md.indexOf('## ghcr'));
    expect(md.indexOf('| b/y |')).toBeGreaterThan(md.indexOf('## ghcr'));
  });

  it('shows each provider its own images when two registries hold the same repository name', () => {
    const mirror = 'https://mirror.example.com';
    const g = graph(
      [
        repository('library/nginx', HUB),
        repository('library/nginx', mirror),
        image('library/nginx', 'hub-tag', { digest: 'sha256:111111111111' }, HUB, 'default', 'hub'),
        image('library/nginx', 'mirror-tag', { digest: 'sha256:222222222222' }, mirror, 'default', 'mirror'),
      ],
      [receipt('hub', 'library/nginx'), receipt('mirror', 'library/nginx')],
    );
    const md = renderSummary(g);
    const mirrorSection = md.slice(md.indexOf('## mirror'));
    expect(mirrorSection).toContain('mirror-tag');
    expect(mirrorSection).not.toContain('hub-tag');
  });

  it('lists every error of every failed receipt', () => {
    const g = base();
    g.receipts.push(
      receipt('docker-hub', 'library/broken', {
        complete: false,
        errors: [
          'GET /v2/library/broken/tags/list: 500 Internal Server Error',
          'manifest sha256:abc: digest mismatch',
        ],
      }),
      receipt('ghcr', '*', { complete: false, errors: ['401 Unauthorized: check the token'] }),
      receipt('ghcr', 'org/cut', { complete: false }),
    );
    const md = renderSummary(g);
    expect(md).toContain('**Discovery was incomplete**');
    const failures = md.slice(md.indexOf('## Failures'));
    expect(failures).toContain(
      '- docker-hub / library/broken: GET /v2/library/broken/tags/list: 500 Internal Server Error',
    );
    expect(failures).toContain('- docker-hub / library/broken: manifest sha256:abc: digest mismatch');
    expect(failures).toContain('- ghcr \\(registry\\): 401 Unauthorized: check the token');
    expect(failures).toContain('- ghcr / org/cut: incomplete');
    expect(failures.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(4);
    expect(tableLines(md).find((l) => l.startsWith('| library/broken'))).toMatch(/\| \*\*no\*\* \|$/);
  });

  it('lists errors of a receipt that is complete but reported errors', () => {
    const g = graph([], [receipt('hub', 'a/b', { errors: ['referrers API unsupported'] })]);
    expect(renderSummary(g)).toContain('- hub / a/b: referrers API unsupported');
  });

  const hostile = [
    'evil|name',
    'back`tick`s',
    '<script>alert(1)</script>',
    'new\nline',
    'carriage\rreturn',
    'ctrl\u0000\u0007\u001b[31m',
    'pipe\\|escaped',
    '| leading pipe',
    'trailing pipe |',
  ];

  it.each(hostile)('a hostile repository/tag/platform/provider %j does not break the table', (bad) => {
    const g = graph(
      [
        repository(`org/${bad}`),
        image(
          `org/${bad}`,
          bad,
          {
            digest: 'sha256:0123456789ab',
            platforms: [`linux/${bad}`],
            created: `2024-01-01${bad}`,
          },
          HUB,
          'default',
          `prov${bad}`,
        ),
      ],
      [receipt(`prov${bad}`, `org/${bad}`, { complete: false, errors: [`error ${bad}`] })],
    );
    const md = renderSummary(g);
    const rows = tableLines(md);
    expect(rows.length).toBe(3);
    const pipes = rows.map(unescapedPipes);
    expect(new Set(pipes)).toEqual(new Set([9]));
    expect(md).not.toContain('<script>');
    // Only the lines we put there: no line inside the table came from a hostile newline.
    expect(md.split('\n').filter((l) => l.includes('org/'))).toHaveLength(2);
  });

  it('a hostile digest does not break the table', () => {
    const g = graph(
      [repository('org/x'), image('org/x', 'v1', { digest: 'sha256:ab|c`d<e>\nf|' }, HUB, 'default', 'hub')],
      [receipt('hub', 'org/x')],
    );
    const rows = tableLines(renderSummary(g));
    expect(rows).toHaveLength(3);
    expect(rows.map(unescapedPipes)).toEqual([9, 9, 9]);
  });

  it('is deterministic', () => {
    expect(renderSummary(base())).toBe(renderSummary(base()));
  });
});

describe('fitStepSummary', () => {
  const whole = 'summary.md';
  /** The summary of `n` repositories with nothing in them: one table row each. */
  function inventory(n: number): string {
    const graph: Graph = {
      format: GRAPH_FORMAT,
      generated_at: '2026-01-01T00:00:00Z',
      entities: [],
      relations: [],
      receipts: Array.from({ length: n }, (_, i) => ({
        provider: 'hub',
        repository: `platform-team-${i % 50}/service-ünïcode-${String(i).padStart(5, '0')}`,
        complete: true,
        tags_listed: 120,
        tags_selected: 10,
        pages: 2,
        requests: 3,
        errors: [],
      })),
    };
    return renderSummary(graph);
  }

  it('leaves a summary GitHub takes as it is', () => {
    const text = inventory(100);
    expect(fitStepSummary(text, whole)).toBe(text);
  });

  it('cuts 15,000 repositories at a whole line under 1 MiB and says where the rest is', () => {
    const text = inventory(15_000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(STEP_SUMMARY_LIMIT);
    const fitted = fitStepSummary(text, whole);
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT);
    const [kept, note] = fitted.split('\n**The summary is cut here**');
    expect(text.startsWith(kept!)).toBe(true);
    expect(kept!.endsWith('|\n')).toBe(true);
    expect(kept).not.toContain('\uFFFD');
    expect(note).toMatch(
      /^: it is [\d,]+ KB, over the 1,024 KB GitHub shows of a job summary\. The whole of it is in summary\.md\.\n$/,
    );
    // Room left for what follows (the Devgraph upload report) is honoured too.
    expect(Buffer.byteLength(fitStepSummary(text, whole, 500_000))).toBeLessThanOrEqual(500_000);
  });
});

describe('supply chain in the summary', () => {
  const D = `sha256:${'0123456789ab'.repeat(5)}0123`;
  function trusted(): Graph {
    return graph(
      [
        repository('acme/api'),
        repository('acme/web'),
        repository('acme/old'),
        image('acme/api', 'v2', {
          digest: D,
          created: '2024-05-01T00:00:00Z',
          signed: true,
          verified: true,
          sbom: true,
          provenance: false,
          vulnerabilities: { total: 4, critical: 1, high: 3 },
        }),
        image('acme/api', 'v1', {
          digest: D,
          created: '2024-01-01T00:00:00Z',
          signed: true,
          verified: false,
          sbom: false,
          provenance: false,
          vulnerabilities: { total: 2, critical: 2, source: 'cosign vuln attestation' },
        }),
        image('acme/web', 'v1', { digest: D, signed: false, verified: false, sbom: false, provenance: true }),
        // Its accessories could not be looked for: blank cells, counted apart.
        image('acme/old', 'v1', { digest: D }),
      ],
      [
        receipt('docker-hub', 'acme/api'),
        receipt('docker-hub', 'acme/web'),
        receipt('docker-hub', 'acme/old'),
      ],
    );
  }

  const plain = () =>
    graph([repository('acme/api'), image('acme/api', 'v1')], [receipt('docker-hub', 'acme/api')]);

  it('adds Signed / SBOM / Provenance columns: ✓, ✗, blank when unknown, and verified where known', () => {
    const rows = tableLines(renderSummary(trusted()));
    expect(rows[0]).toBe(
      '| Repository | Tags (selected / listed) | Newest tag | Digest | Platforms | Size | Created | Vulnerabilities | Signed | SBOM | Provenance | Complete |',
    );
    expect(rows[1]).toBe('|---|---|---|---|---|---|---|---|---|---|---|---|');
    expect(rows[2]).toMatch(/^\| acme\/api \| .* \| 1 critical, 3 high \| ✓ verified \| ✓ \| ✗ \| yes \|$/);
    expect(rows[3]).toMatch(/^\| acme\/web \| .* \| {2}\| ✗ \| ✗ \| ✓ \| yes \|$/);
    expect(rows[4]).toMatch(/^\| acme\/old \| .* \| {2}\| {2}\| {2}\| {2}\| yes \|$/);
    expect(rows.slice(0, 5).map(unescapedPipes)).toEqual([13, 13, 13, 13, 13]);
  });

  it('a signature no configured key made says so', () => {
    const g = trusted();
    g.entities = g.entities.filter((e) => e.spec.tag !== 'v2');
    const row = tableLines(renderSummary(g)).find((l) => l.startsWith('| acme/api'))!;
    expect(row).toContain('| ✓ not verified | ✗ | ✗ |');
  });

  it('counts per provider what was looked for and found, and where vulnerability counts came from', () => {
    const md = renderSummary(trusted());
    const section = md.slice(md.indexOf('\n## Supply chain\n'));
    expect(section.split('\n').filter((l) => l.startsWith('|'))).toEqual([
      '| Provider | Images | Signed | Verified | SBOM | Provenance |',
      '|---|---|---|---|---|---|',
      '| docker-hub | 4 | 2 of 3 (1 not looked for) | 1 of 3 (1 not looked for) | 1 of 3 (1 not looked for) | 1 of 3 (1 not looked for) |',
      '| Provider | Vulnerability counts from | Images | Critical | High | Medium | Low |',
      '|---|---|---|---|---|---|---|',
      '| docker-hub | cosign vuln attestation | 1 | 2 | 0 | 0 | 0 |',
      "| docker-hub | the registry's scanner | 1 | 1 | 3 | 0 | 0 |",
    ]);
    expect(md).not.toContain('Policy');
  });

  it('has no supply-chain section when nothing was looked for and no policy was set', () => {
    expect(renderSummary(plain())).not.toContain('Supply chain');
  });

  function violation(i: number, extra: Partial<PolicyViolation> = {}): PolicyViolation {
    return {
      provider: 'docker-hub',
      repository: 'acme/api',
      tag: `v${i}`,
      digest: D,
      rule: 'signed',
      detail: 'no signature refers to the image or to every platform manifest of it',
      ...extra,
    };
  }

  it('states the policy verdict under the title and lists the violations in the section', () => {
    const policy: PolicyReport = {
      checked: 4,
      failed: 1,
      violations: [
        violation(1),
        violation(1, { rule: 'platforms', detail: 'lacks linux/arm64 (has linux/amd64)' }),
      ],
    };
    const md = renderSummary(trusted(), { policy });
    const verdict = "**Policy: 1 of 4 images checked violate their selector's `require:`** (2 violations).";
    expect(md.indexOf(verdict)).toBeLessThan(md.indexOf('## docker-hub'));
    expect(md).toContain(
      [
        '### Policy',
        '',
        verdict,
        '',
        '- docker-hub / acme/api:v1 (`0123456789ab`): **signed**: no signature refers to the image or to every platform manifest of it',
        '- docker-hub / acme/api:v1 (`0123456789ab`): **platforms**: lacks linux/arm64 \\(has linux/amd64\\)',
      ].join('\n'),
    );
    const clean = renderSummary(plain(), { policy: { checked: 3, failed: 0, violations: [] } });
    expect(clean).toContain(
      "## Supply chain\n\n### Policy\n\nPolicy: all 3 images checked meet their selector's `require:`.",
    );
  });

  it('lists violations up to a cap and counts the rest; hostile names stay text', () => {
    const many: PolicyReport = {
      checked: 500,
      failed: 500,
      violations: Array.from({ length: 500 }, (_, i) => violation(i, { repository: 'evil|<b>\n@team' })),
    };
    const lines = renderPolicy(many, { heading: '## Policy', limit: SUMMARY_VIOLATIONS });
    const items = lines.filter((l) => l.startsWith('- '));
    expect(items).toHaveLength(SUMMARY_VIOLATIONS + 1);
    expect(items.at(-1)).toBe(
      `- … and ${500 - SUMMARY_VIOLATIONS} more, all listed in policy-violations.json`,
    );
    expect(items[0]).toContain('evil\\|&lt;b&gt; @&#8203;team:v0');
    expect(lines.join('\n')).not.toContain('<b>');
  });
});

describe('storage in the summary', () => {
  const figures = (total: number, shared: number, extra: Record<string, unknown> = {}) => ({
    total_bytes: total,
    unique_bytes: total - shared,
    shared_bytes: shared,
    partial: false,
    ...extra,
  });
  /** `n` repositories of hub, repository i taking i × 1,000 bytes, plus the registry. */
  const stored = (n: number, registryExtra: Record<string, unknown> = {}) => {
    const repos = Array.from({ length: n }, (_, i) => {
      const r = repository(`team/app-${String(i + 1).padStart(2, '0')}`);
      r.spec.storage = figures((i + 1) * 1000, i === 0 ? 1000 : 0);
      return r;
    });
    const registry = entity('DockerRegistry', 'docker-hub', {
      name: 'docker-hub',
      url: HUB,
      storage: figures(50_000, 1000, registryExtra),
    });
    return graph(
      [registry, ...repos],
      repos.map((r) => receipt('docker-hub', String(r.spec.full_name))),
    );
  };
  const section = (md: string) => md.slice(md.indexOf('## Storage'), md.indexOf('\n## docker-hub'));

  it('shows the registry and its biggest repositories, ten of them, biggest first', () => {
    const md = renderSummary(stored(12));
    expect(section(md)).toBe(
      [
        '## Storage',
        '',
        '| Registry | Total | Shared between repositories |',
        '|---|---|---|',
        '| docker-hub | 50.0 KB | 1.0 KB |',
        '',
        'The 10 biggest of 12 repositories:',
        '',
        '| Registry | Repository | Total | Unique | Shared |',
        '|---|---|---|---|---|',
        ...[12, 11, 10, 9, 8, 7, 6, 5, 4, 3].map(
          (i) => `| docker-hub | team/app-${String(i).padStart(2, '0')} | ${i}.0 KB | ${i}.0 KB | 0 B |`,
        ),
        '',
        'Distinct layers, configs and manifests of what is tagged, each counted once; shared: another repository of the registry references it too.',
        '',
      ].join('\n'),
    );
    // Above the per-registry tables, so a summary cut to fit GitHub's limit keeps it.
    expect(md.indexOf('## Storage')).toBeLessThan(md.indexOf('## docker-hub'));
  });

  it('marks partial figures as a lower bound, adds untagged bytes and what the retention plan frees', () => {
    const g = stored(2, { untagged_bytes: 4000, partial: true });
    const md = renderSummary(g, {
      retention: {
        plans: [
          { provider: 'docker-hub', repository: 'team/app-02', reclaimable_bytes: 1500 },
          { provider: 'docker-hub', repository: 'team/app-01', reclaimable_bytes: 0 },
        ],
      },
    });
    expect(tableLines(section(md))).toEqual([
      '| Registry | Total | Shared between repositories | Untagged | Retention plan frees |',
      '|---|---|---|---|---|',
      '| docker-hub | ≥ 50.0 KB | 1.0 KB | 4.0 KB | 1.5 KB |',
      '| Registry | Repository | Total | Unique | Shared | Untagged | Retention plan frees |',
      '|---|---|---|---|---|---|---|',
      '| docker-hub | team/app-02 | 2.0 KB | 2.0 KB | 0 B |  | 1.5 KB |',
      '| docker-hub | team/app-01 | 1.0 KB | 0 B | 1.0 KB |  | 0 B |',
    ]);
    expect(section(md)).toContain('Repositories, biggest first:');
    expect(section(md)).toContain('≥: at least this, as some of it was not read');
  });

  it('has no storage section for a graph without storage (a shard: only merge can count it)', () => {
    const md = renderSummary(graph([repository('team/app')], [receipt('docker-hub', 'team/app')]));
    expect(md).not.toContain('## Storage');
  });

  it('a hostile repository name stays text in its cell', () => {
    const g = stored(1);
    g.entities[1]!.spec.full_name = 'evil|name <b>';
    const row = tableLines(section(renderSummary(g))).find((l) => l.includes('evil'))!;
    expect(unescapedPipes(row)).toBe(6);
    expect(row).toContain('evil\\|name &lt;b&gt;');
  });
});
