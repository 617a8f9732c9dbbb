// Registry-supplied strings (repository names, tags, platforms, created dates, error texts) built
// to break what renders them: the job summary's table, the change report and the PR comment made
// from it. Every one must stay one table row or list line per item, with no raw HTML, no control
// or invisible format character, no live link and nothing GitHub would turn into a mention.
import { describe, expect, it } from 'vitest';
import type { GraphChanges } from '../graph/diff.js';
import { inMemory } from '../graph/graph-source.js';
import { API_VERSION, DISCOVERY_SOURCE, type Entity, GRAPH_FORMAT, type Graph } from '../model/graph.js';
import { immutableTagViolations, renderChangeReport } from './change-report.js';
import { commentBody, truncateMarkdown } from './pr-comment-body.js';
import { reportHtml } from './report-html.js';
import { escapeMarkdown, renderSummary } from './summary-markdown.js';

const HOSTILE = [
  'evil|name|',
  '| leading pipe',
  'back`tick`s ``code``',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<!-- hidden --><details><summary>x',
  '[link](javascript:x)',
  '![img](https://evil.example/x.png)',
  'new\nline\r\nbreak',
  '```\nfence',
  'nul\u0000bell\u0007esc\u001b[31mred\u001b[0m',
  'rtl\u202egpj.exe',
  'zero\u200bwidth\ufeffbom\u2066isolate\u2069',
  'line\u2028sep\u2029para',
  'lone\ud800surrogate',
  '@octocat and @org/team',
  'fixes #1 and owner/repo#2',
  '&lt;already&gt; &amp; escaped',
  '\\| escaped pipe \\',
  '*bold* _em_ ~~strike~~',
];

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

/** How many times `ch` occurs in `line` not escaped by an odd number of backslashes. */
function unescaped(line: string, ch: string): number {
  let n = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== ch) continue;
    let backslashes = 0;
    for (let j = i - 1; j >= 0 && line[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 0) n++;
  }
  return n;
}

/** What no rendered Markdown may hold, whatever the registry sent. */
function expectInert(md: string): void {
  expect(md).not.toMatch(/[<>]/);
  expect(md).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  expect(md).not.toMatch(/[\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u);
  expect(md).not.toMatch(/javascript:x\)|\]\(https?:/);
  expect(md).not.toMatch(/(^|\W)@[A-Za-z0-9]/m);
  // `&#8203;` is the zero-width space that keeps #1 from linking.
  expect(md).not.toMatch(/(?<!&)#\d/);
  for (const line of md.split('\n')) {
    // No link or image can open: we write no brackets of our own, so none may be live.
    for (const ch of ['[', ']']) expect(unescaped(line, ch), `${ch} in ${line}`).toBe(0);
  }
}

function entity(kind: Entity['kind'], name: string, spec: Record<string, unknown>, provider: string): Entity {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { name, namespace: 'default', labels: {}, annotations: { [DISCOVERY_SOURCE]: provider } },
    spec,
  };
}

/** One provider whose every repository, tag, platform, date and error is one of HOSTILE. */
function hostileGraph(): Graph {
  const provider = 'hub';
  const entities: Entity[] = [];
  const receipts: Graph['receipts'] = [];
  HOSTILE.forEach((bad, i) => {
    const repository = `org/${i}-${bad}`;
    entities.push(
      entity('DockerRepository', `repo-${i}`, { full_name: repository }, provider),
      entity(
        'DockerImage',
        `image-${i}`,
        {
          repository,
          tag: bad,
          digest: `sha256:${bad}`,
          platforms: [`linux/${bad}`],
          created: `2024-01-0${bad}`,
        },
        provider,
      ),
    );
    receipts.push({
      provider,
      repository,
      complete: false,
      tags_listed: 1,
      tags_selected: 1,
      pages: 1,
      requests: 1,
      errors: [`registry said: ${bad}`],
    });
  });
  return { format: GRAPH_FORMAT, generated_at: '2026-11-22T10:00:00Z', entities, relations: [], receipts };
}

function hostileChanges(): GraphChanges {
  const ref = (bad: string, i: number) => ({ provider: `p${i % 2}-${bad}`, repository: `org/${bad}` });
  return {
    firstRun: false,
    previousGeneratedAt: `2026-01-01 ${HOSTILE[3]}`,
    newRepositories: HOSTILE.map(ref),
    removedRepositories: HOSTILE.map(ref),
    newTags: HOSTILE.map((bad, i) => ({ ...ref(bad, i), tag: bad, digest: i % 2 ? A : `sha256:${bad}` })),
    movedTags: HOSTILE.map((bad, i) => ({ ...ref(bad, i), tag: bad, from: A, to: `${B}${bad}` })),
    removedTags: HOSTILE.map((bad, i) => ({ ...ref(bad, i), tag: bad, digest: B })),
    newPlatforms: HOSTILE.map((bad, i) => ({
      ...ref(bad, i),
      tag: bad,
      digest: A,
      platforms: [bad, 'linux/amd64'],
    })),
    unverified: HOSTILE.map((bad, i) => ({ ...ref(bad, i), tags: [bad], reason: bad })),
    firstSeen: HOSTILE.map((bad, i) => ({ ...ref(bad, i), tags: [bad], reason: bad })),
  };
}

describe('escapeMarkdown on hostile strings', () => {
  it.each(HOSTILE)('%j renders inert, on one line', (bad) => {
    const out = escapeMarkdown(bad);
    expect(out).not.toContain('\n');
    expectInert(out);
    expect(unescaped(out, '|')).toBe(0);
    expect(unescaped(out, '`')).toBe(0);
  });

  it.each<[string, string]>([
    ['rtl\u202egpj.exe', 'rtl gpj.exe'],
    ['zero\u200bwidth', 'zero width'],
    ['line\u2028sep', 'line sep'],
    ['lone\ud800surrogate', 'lone surrogate'],
    ['@octocat', '@&#8203;octocat'],
    ['team @org/team', 'team @&#8203;org/team'],
    ['user@example.com', 'user@example.com'],
    ['#1', '\\#&#8203;1'],
    ['owner/repo#2', 'owner/repo\\#&#8203;2'],
    ['# not a number', '\\# not a number'],
  ])('%j → %j', (text, expected) => {
    expect(escapeMarkdown(text)).toBe(expected);
  });
});

describe('job summary with hostile registry strings', () => {
  const md = renderSummary(hostileGraph());
  const table = md.split('\n').filter((l) => l.startsWith('|'));

  it('keeps one table row per repository, each with the same number of cells', () => {
    expect(table).toHaveLength(2 + HOSTILE.length);
    expect(new Set(table.map((l) => unescaped(l, '|')))).toEqual(new Set([9]));
  });

  it('keeps one failure line per error', () => {
    const failures = md.slice(md.indexOf('## Failures'));
    expect(failures.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(HOSTILE.length);
    expect(failures.split('\n').filter((l) => l !== '' && !l.startsWith('- ') && !l.startsWith('#'))).toEqual(
      [],
    );
  });

  it('holds no raw HTML, control or format character, link or mention', () => {
    // Short digests are the only code spans: they are our hex, cut from the registry's text.
    expectInert(md.replace(/`[0-9a-f]*`/g, ''));
    expect(unescaped(md.replace(/`[0-9a-f]*`/g, ''), '`')).toBe(0);
  });
});

describe('change report with hostile registry strings', () => {
  const md = renderChangeReport(hostileChanges())!;

  it('keeps one list line per item in every section', () => {
    const items = md.split('\n').filter((l) => l.startsWith('- '));
    // Eight sections of HOSTILE.length items each.
    expect(items).toHaveLength(8 * HOSTILE.length);
    const other = md.split('\n').filter((l) => l !== '' && !l.startsWith('- '));
    expect(other.every((l) => l.startsWith('## ') || /^\*\*[A-Z][a-z ]+\*\*$/.test(l) || /^\d/.test(l))).toBe(
      true,
    );
  });

  it('holds no raw HTML, control or format character, link or mention', () => {
    // Well-formed digests are shown in code spans; nothing the registry sent is.
    const outside = md.replace(/`(sha256:)?[0-9a-f]+`/g, '');
    expectInert(outside);
    expect(unescaped(outside, '`')).toBe(0);
  });
});

describe('PR comment with hostile registry strings', () => {
  const report = renderChangeReport(hostileChanges())!;

  it('is the marker line and then the inert report', () => {
    const body = commentBody(report, '0123abcd');
    const [marker, ...rest] = body.split('\n');
    expect(marker).toBe('<!-- devgraph-docker:0123abcd -->');
    expectInert(rest.join('\n').replace(/`(sha256:)?[0-9a-f]+`/g, ''));
  });

  it('stays inert when cut to fit', () => {
    for (const limit of [500, 1500, 4000]) {
      const cut = truncateMarkdown(report, limit);
      expect(cut.length).toBeLessThanOrEqual(limit);
      expectInert(cut.replace(/`(sha256:)?[0-9a-f]+`/g, ''));
    }
  });
});

describe('immutable-tags failure message with hostile registry strings', () => {
  it('shows control and format characters as escapes, one line per tag', () => {
    const changes = {
      movedTags: [
        { provider: 'hub', repository: 'acme/\u202eapi', tag: 'v1\n::error::forged', from: A, to: B },
        { provider: 'hub', repository: 'acme/api', tag: 'v2\u001b[31m', from: A, to: B },
      ],
    } as unknown as GraphChanges;
    const { message } = immutableTagViolations(changes, { source: '^v', test: (t) => t.startsWith('v') });
    expect(message).toBe(
      [
        'immutable-tags: 2 tags matching "^v" moved to another digest:',
        `  hub acme/\\u202eapi:v1\\u000a::error::forged moved from ${A} to ${B}`,
        `  hub acme/api:v2\\u001b[31m moved from ${A} to ${B}`,
      ].join('\n'),
    );
  });
});

describe('report.html with hostile registry strings', () => {
  const html = [...reportHtml({ graph: inMemory(hostileGraph()), changes: hostileChanges() })].join('');
  const open = '<script type="application/json" id="report-data">';
  const start = html.indexOf(open) + open.length;
  const end = html.indexOf('</script>', start);
  const block = html.slice(start, end);

  it('carries every string back exactly, in a data block nothing can end early', () => {
    expect(block).not.toMatch(/[<>&\u2028\u2029]/);
    const data = JSON.parse(block) as { images: unknown[][]; changes: { movedTags: string[][] } };
    expect(data.images.map((row) => row[1])).toEqual(HOSTILE);
    expect(data.changes.movedTags.map((m) => m[2])).toEqual(HOSTILE);
  });

  it('has no markup but its own outside the data block, and the charts show odd characters as escapes', () => {
    const outside = html.slice(0, start) + html.slice(end);
    const tags = new Set(
      [...outside.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase()),
    );
    const ours = ['html', 'head', 'meta', 'title', 'style', 'body', 'header', 'h1', 'h2', 'h3', 'p', 'span'];
    const more = ['div', 'section', 'figure', 'figcaption', 'svg', 'g', 'text', 'rect', 'input', 'script'];
    expect([...tags].filter((t) => ![...ours, ...more].includes(t))).toEqual([]);
    expect(outside).not.toMatch(/\son[a-z]+=/i);
    expect(outside.match(/<script/g)).toHaveLength(2);
    expect(outside).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
    expect(outside).not.toMatch(/[\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u);
    expect(outside).toContain('org/11-rtl\\u202egpj.exe');
  });
});
