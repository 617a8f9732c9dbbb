// report.html in a real browser: Debian's Chromium (/usr/bin/chromium; .ci/run installs it)
// driven by playwright-core, which downloads no browser. Each page is opened from disk (file://),
// as a person opens the artifact, and must show its rows, filter them by search, sort them by a
// column, draw its charts, and ask for nothing beyond its own file.
// The demo report's screenshot is the README's: UPDATE_REPORT_SCREENSHOT=1 writes it to
// docs/images/report.png; otherwise every screenshot stays in the test's temporary directory.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { type DemoRegistry, startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { GraphBuilder } from '../../src/graph/build-graph.js';
import type { GraphChanges } from '../../src/graph/diff.js';
import { inMemory } from '../../src/graph/graph-source.js';
import type { ManifestRecord, RepositoryResult } from '../../src/model/discovery.js';
import {
  API_VERSION,
  DISCOVERY_SOURCE,
  type Entity,
  GRAPH_FORMAT,
  type GraphReceipt,
} from '../../src/model/graph.js';
import { CHART_BARS, reportHtml } from '../../src/output/report-html.js';
import { formatBytes } from '../../src/output/summary-markdown.js';
import { Secrets } from '../../src/secrets.js';
import { runCliInProcess } from '../support/cli-in-process.js';

const CHROMIUM = '/usr/bin/chromium';
const README_SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '../../docs/images/report.png');
const EPOCH = { SOURCE_DATE_EPOCH: '1767225600' };

let browser: Browser;
let dir: string;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM });
  dir = await mkdtemp(join(tmpdir(), 'dg-report-'));
});
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  /** Every URL the page asked for, its own file included. */
  requests: string[];
  /** Script errors and console errors. */
  errors: string[];
  /** Milliseconds from navigation to the script's first screenful. */
  readyMs: number;
}

async function open(path: string, viewport = { width: 1280, height: 1000 }): Promise<Opened> {
  const page = await browser.newPage({ viewport });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  const started = performance.now();
  await page.goto(pathToFileURL(path).href);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30_000 });
  return { page, requests, errors, readyMs: performance.now() - started };
}

/** The text of column `col` (its data-col) in each row drawn, top to bottom. */
async function column(page: Page, table: string, col: string): Promise<string[]> {
  return page.evaluate(
    ([t, c]) => {
      const heads = [...document.querySelectorAll(`#${t} thead th`)];
      const at = heads.findIndex((h) => (h as HTMLElement).dataset.col === c);
      return [...document.querySelectorAll(`#${t} tbody tr.row`)].map((tr) => tr.children[at]!.textContent!);
    },
    [table, col] as const,
  );
}

async function search(page: Page, text: string): Promise<void> {
  await page.fill('#search', text);
  const query = text.toLowerCase().split(/\s+/).filter(Boolean).join(' ');
  await page.waitForFunction(
    (q) =>
      ['images', 'repositories'].every((t) => document.getElementById(`${t}-status`)?.dataset.query === q),
    query,
  );
}

function expectOnlyItsOwnFile(opened: Opened, path: string): void {
  expect(opened.requests).toEqual([pathToFileURL(path).href]);
  expect(opened.errors).toEqual([]);
}

/** "12.0 MB" back to bytes, to check an order. */
function parseBytes(text: string): number {
  const [n, unit] = text.split(' ') as [string, string];
  return Number(n) * 1000 ** ['B', 'KB', 'MB', 'GB', 'TB'].indexOf(unit);
}

describe('the demo report', () => {
  let out: string;
  let opened: Opened;
  beforeAll(async () => {
    out = join(dir, 'demo');
    expect(await quietly(['demo', '--out', out])).toBe(0);
    opened = await open(join(out, 'report.html'));
  });
  afterAll(() => opened?.page.close());

  it('is written beside graph.json and shows every image and repository', async () => {
    const graph = JSON.parse(await readFile(join(out, 'graph.json'), 'utf8')) as { entities: Entity[] };
    const images = graph.entities.filter((e) => e.kind === 'DockerImage');
    const { page } = opened;
    const shot = join(dir, 'demo.png');
    await page.screenshot({ path: shot });
    if (process.env.UPDATE_REPORT_SCREENSHOT) {
      await mkdir(dirname(README_SCREENSHOT), { recursive: true });
      await copyFile(shot, README_SCREENSHOT);
    }
    expect(await page.textContent('#images-status')).toBe(`${images.length} images`);
    expect(await page.locator('#images tbody tr.row').count()).toBe(images.length);
    expect(await column(page, 'images', 'tag')).toEqual(images.map((e) => e.spec.tag));
    expect(await column(page, 'repositories', 'repository')).toEqual(
      sampleRepositories()
        .map((r) => r.name)
        .sort(),
    );
    // The demo's images were looked at for accessories: the trust columns are there.
    const heads = await page.locator('#images thead th').evaluateAll((ths) => ths.map((t) => t.textContent));
    expect(heads).toEqual(
      expect.arrayContaining(['Digest', 'Platforms', 'Size', 'Created', 'Signed', 'SBOM', 'Provenance']),
    );
    expect(await page.textContent('#changes')).toContain('Nothing to compare with yet');
    expectOnlyItsOwnFile(opened, join(out, 'report.html'));
  });

  it('filters the rows by every word searched for', async () => {
    const { page } = opened;
    await search(page, 'redis');
    expect(await column(page, 'images', 'repository')).toEqual([
      'library/redis',
      'library/redis',
      'library/redis',
    ]);
    expect(await page.textContent('#images-status')).toBe('3 of 22 images match');
    expect(await column(page, 'repositories', 'repository')).toEqual(['library/redis']);
    await search(page, 'ARM/V7 7.4');
    expect(await column(page, 'images', 'tag')).toEqual(['7.4.1-alpine', '7.4-alpine']);
    await search(page, 'no-such-thing');
    expect(await page.locator('#images tbody tr.row').count()).toBe(0);
    expect(await page.textContent('#images tbody')).toContain('No images match.');
    await page.screenshot({ path: join(dir, 'demo-search.png') });
    await search(page, '');
    expect(await page.locator('#images tbody tr.row').count()).toBe(22);
  });

  it('sorts by a column, both ways, and clicking a repository searches its images', async () => {
    const { page } = opened;
    await page.click('#images th[data-col="size"]');
    const up = (await column(page, 'images', 'size')).map(parseBytes);
    expect(up).toEqual([...up].sort((a, b) => a - b));
    expect(await page.getAttribute('#images th[data-col="size"]', 'aria-sort')).toBe('ascending');
    await page.click('#images th[data-col="size"]');
    const down = (await column(page, 'images', 'size')).map(parseBytes);
    expect(down).toEqual([...up].reverse());
    expect(new Set(down.slice(0, 3))).toEqual(new Set([19_400]));

    await page.click('#images th[data-col="tag"]');
    const tags = await column(page, 'images', 'tag');
    expect(tags).toEqual([...tags].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)));

    await page.click('#repositories tbody tr.row >> text=library/nginx');
    await page.waitForSelector('#images-status[data-query="library/nginx"]');
    expect(await page.inputValue('#search')).toBe('library/nginx');
    expect(await column(page, 'images', 'tag')).toEqual(['1.27', '1.27.2', 'latest']);
    await search(page, '');
  });

  it('draws its three charts as inline SVG', async () => {
    const { page } = opened;
    for (const id of ['storage-chart', 'age-chart', 'tags-chart'])
      expect(await page.locator(`#${id} svg rect`).count()).toBeGreaterThan(0);
    expect(await page.locator('#tags-chart svg g title').allTextContents()).toEqual(
      expect.arrayContaining(['acme/payments-api: 5', 'library/redis: 3']),
    );
    expect(await page.locator('#age-chart svg g title').allTextContents()).toContain('no date: 2');
  });

  it('shows what changed since a previous graph', async () => {
    const previous = JSON.parse(await readFile(join(out, 'graph.json'), 'utf8')) as { entities: Entity[] };
    // The previous inventory without nginx:latest, and with redis:7-alpine on another digest.
    previous.entities = previous.entities.flatMap((e) => {
      if (e.kind !== 'DockerImage') return [e];
      if (e.spec.repository === 'library/nginx' && e.spec.tag === 'latest') return [];
      if (e.spec.repository === 'library/redis' && e.spec.tag === '7-alpine')
        return [{ ...e, spec: { ...e.spec, digest: `sha256:${'0'.repeat(64)}` } }];
      return [e];
    });
    const previousPath = join(dir, 'previous.json');
    await writeFile(previousPath, JSON.stringify(previous));
    const again = join(dir, 'demo-again');
    expect(await quietly(['demo', '--out', again, '--previous', previousPath])).toBe(0);
    const changed = await open(join(again, 'report.html'));
    try {
      const text = await changed.page.textContent('#changes');
      expect(text).toContain('1 new tag, 1 moved tag since the inventory of');
      expect(await changed.page.locator('#changes h3').allTextContents()).toEqual([
        'Moved tags (1)',
        'New tags (1)',
      ]);
      expect(await changed.page.locator('#changes li').allTextContents()).toEqual([
        expect.stringMatching(/^library\/redis:7-alpine: sha256:0{64} → sha256:[0-9a-f]{64}$/),
        expect.stringMatching(/^library\/nginx:latest sha256:[0-9a-f]{64}$/),
      ]);
      await changed.page.screenshot({ path: join(dir, 'demo-changes.png') });
      expectOnlyItsOwnFile(changed, join(again, 'report.html'));
    } finally {
      await changed.page.close();
    }
  });
});

describe('a report of two registries with a retention plan and a change report', () => {
  let registry: DemoRegistry;
  let opened: Opened;
  let path: string;
  let config: string;
  beforeAll(async () => {
    registry = await startDemoRegistry(sampleRepositories(), { deletes: 'enabled' });
    config = join(dir, 'two-registries.yml');
    await writeFile(
      config,
      stringify({
        providers: [
          {
            name: 'mirror',
            type: 'docker',
            config: {
              registry_type: 'private',
              api_url: registry.url,
              selectors: [{ namespace_pattern: 'library', max_tags: 3 }],
            },
          },
          {
            name: 'main',
            type: 'docker',
            config: {
              registry_type: 'private',
              api_url: registry.url,
              selectors: [{ namespace_pattern: 'acme', max_tags: 5, retention: { keep_newest: 2 } }],
            },
          },
        ],
      }),
    );
    const first = join(dir, 'two-first');
    expect(await quietly(['discover', '--config', config, '--out', first])).toBe(0);
    const previous = JSON.parse(await readFile(join(first, 'graph.json'), 'utf8')) as { entities: Entity[] };
    previous.entities = previous.entities.filter(
      (e) =>
        !(e.kind === 'DockerImage' && e.spec.repository === 'acme/payments-api' && e.spec.tag === 'main'),
    );
    const previousPath = join(dir, 'two-previous.json');
    await writeFile(previousPath, JSON.stringify(previous));
    const out = join(dir, 'two');
    expect(await quietly(['discover', '--config', config, '--out', out, '--previous', previousPath])).toBe(0);
    path = join(out, 'report.html');
    opened = await open(path);
  });
  afterAll(async () => {
    await opened?.page.close();
    await registry?.close();
  });

  it('names the registry wherever two could hold the same repository', async () => {
    const { page } = opened;
    expect(await column(page, 'repositories', 'provider')).toEqual([
      'main',
      'main',
      'main',
      'main',
      'mirror',
      'mirror',
    ]);
    expect(new Set(await column(page, 'images', 'repository'))).toContain('main / acme/payments-api');
    expect(await page.locator('#changes li').allTextContents()).toEqual([
      expect.stringMatching(/^main \/ acme\/payments-api:main sha256:[0-9a-f]{64}$/),
    ]);
    expectOnlyItsOwnFile(opened, path);
  });

  it('shows the retention plan and marks the images it deletes', async () => {
    const { page } = opened;
    const plan = JSON.parse(await readFile(join(dirname(path), 'retention-plan.json'), 'utf8')) as {
      deletions: number;
      skipped: number;
    };
    expect(plan.deletions).toBeGreaterThan(0);
    expect(await page.isVisible('#retention')).toBe(true);
    const skipped = plan.skipped === 1 ? '1 repository' : `${plan.skipped} repositories`;
    expect(await page.textContent('#retention p')).toMatch(
      new RegExp(`^${plan.deletions} deletions planned, freeing [\\d.]+ KB(; ${skipped} not planned)?\\.`),
    );
    expect(await page.locator('#retention li').first().textContent()).toMatch(
      /^main \/ acme\/[a-z/-]+: \d+ deletions?, /,
    );
    await page.click('#images th[data-col="retention"]');
    const marks = await column(page, 'images', 'retention');
    expect(marks.filter((m) => m === 'delete').length).toBeGreaterThan(0);
    expect(marks).toEqual([...marks].sort());
    await page.screenshot({ path: join(dir, 'two-registries.png'), fullPage: true });
  });

  it('says what retention apply deleted', async () => {
    const out = join(dir, 'two-applied');
    expect(await quietly(['retention', 'apply', '--config', config, '--out', out])).toBe(0);
    const plan = JSON.parse(await readFile(join(out, 'retention-plan.json'), 'utf8')) as {
      applied: { counts: { deleted: number } };
    };
    expect(plan.applied.counts.deleted).toBeGreaterThan(0);
    const applied = await open(join(out, 'report.html'));
    try {
      expect(await applied.page.locator('#retention p').nth(1).textContent()).toMatch(
        new RegExp(
          `^Applied: ${plan.applied.counts.deleted} deleted \\([\\d.]+ KB\\), 0 refused, 0 failed, 0 skipped;`,
        ),
      );
      expectOnlyItsOwnFile(applied, join(out, 'report.html'));
    } finally {
      await applied.page.close();
    }
  });
});

/** The CLI in this process, its stdout and stderr swallowed; its exit code. */
async function quietly(argv: string[]): Promise<number> {
  return (await runCliInProcess(argv, { ...EPOCH })).code;
}

/** REPORT_IMAGES=100000 runs the same checks on a larger graph (docs/report.md's figures). */
const IMAGES = Number(process.env.REPORT_IMAGES ?? 10_000);
const ALL = IMAGES.toLocaleString('en-US');
const DAY_MS = 86_400_000;

/** Tags of repository `r`: from 1 to 40, so the tags chart has something to tell. */
function tagsOf(r: number): number {
  return 1 + ((r * 7919) % 40);
}

/** Repository `r` as discovery hands it to the graph builder, with sizes, dates and trust varied. */
function syntheticRepository(r: number, tags: number, at: number): RepositoryResult {
  const name = `team-${r % 23}/service-${r}-app`;
  const manifests = new Map<string, ManifestRecord>();
  const images: RepositoryResult['images'] = [];
  for (let t = 0; t < tags; t++) {
    const digest = `sha256:${createHash('sha256').update(`${r}/${t}`).digest('hex')}`;
    manifests.set(digest, {
      digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      schemaVersion: 2,
      size: 5_000_000 + ((r * 131 + t * 977) % 500) * 1_000_000,
      platform: { architecture: r % 2 ? 'arm64' : 'amd64', os: 'linux', ...(r % 2 ? { variant: 'v8' } : {}) },
      created: new Date(at - ((r * 37 + t * 11) % 1200) * DAY_MS).toISOString(),
      labels: {},
    });
    images.push({
      tag: `1.${t}.0`,
      digest,
      ...(r % 4 === 0 ? { trust: { signed: t % 2 === 0, sbom: true, provenance: t % 3 === 0 } } : {}),
      ...(r % 5 === 0 ? { vulnerabilities: { total: t, critical: t % 3, high: t % 5 } } : {}),
    });
  }
  return {
    name,
    images,
    manifests,
    receipt: {
      provider: 'scale',
      repository: name,
      complete: r % 97 !== 0,
      tags_listed: tags + 3,
      tags_selected: tags,
      pages: 1,
      requests: 1 + tags,
      errors: r % 97 === 0 ? ['tag 9.9.9: manifest unknown'] : [],
    },
  };
}

describe(`the report of a ${ALL}-image graph`, () => {
  let path: string;
  let opened: Opened;
  let repositories = 0;
  beforeAll(async () => {
    const settings = loadConfig(
      stringify({
        providers: [
          {
            name: 'scale',
            type: 'docker',
            config: { registry_type: 'private', api_url: 'https://registry.example.com' },
          },
        ],
      }),
      { env: {}, secrets: new Secrets(), origin: 'report test' },
    );
    const provider = settings.providers[0]!;
    const at = Date.parse('2026-01-01T00:00:00Z');
    const builder = new GraphBuilder([provider]);
    for (let images = 0; images < IMAGES; repositories++) {
      const tags = Math.min(tagsOf(repositories), IMAGES - images);
      builder.addRepository(provider, syntheticRepository(repositories, tags, at));
      images += tags;
    }
    const graph = builder.finish(new Date(at).toISOString());
    path = join(dir, 'scale-report.html');
    const started = performance.now();
    try {
      await writeFile(path, reportHtml({ graph, changes: newTags(150) }));
    } finally {
      graph.close();
    }
    const writtenMs = performance.now() - started;
    opened = await open(path);
    // Figures for docs/report.md, printed rather than asserted: the machine decides them.
    process.stderr.write(
      `report of ${ALL} images: ${(await stat(path)).size} bytes, written in ${Math.round(writtenMs)} ms, ` +
        `ready in the browser in ${Math.round(opened.readyMs)} ms\n`,
    );
  });
  afterAll(() => opened?.page.close());

  it('shows the first screenful only, and the last row once scrolled to', async () => {
    const { page } = opened;
    await page.screenshot({ path: join(dir, 'scale.png') });
    expect(await page.textContent('#images-status')).toBe(`${ALL} images`);
    const drawn = await page.locator('#images tbody tr.row').count();
    expect(drawn).toBeGreaterThan(10);
    expect(drawn).toBeLessThan(100);
    await page.locator('#images-host .scroller').evaluate((s) => {
      s.scrollTop = s.scrollHeight;
    });
    await page.waitForSelector(`#images tbody tr.row[data-row="${IMAGES - 1}"]`);
    expect(await page.locator('#images tbody tr.row').count()).toBeLessThan(100);
    await page.screenshot({ path: join(dir, 'scale-bottom.png') });
    expectOnlyItsOwnFile(opened, path);
  });

  it(`searches all ${ALL} rows`, async () => {
    const { page } = opened;
    const started = performance.now();
    await search(page, 'service-123-app');
    const searchMs = performance.now() - started;
    expect(await page.textContent('#images-status')).toBe(`${tagsOf(123)} of ${ALL} images match`);
    expect(new Set(await column(page, 'images', 'repository'))).toEqual(new Set(['team-8/service-123-app']));
    await search(page, 'service-123-app 1.2.0');
    expect(await column(page, 'images', 'tag')).toEqual(['1.2.0']);
    await search(page, 'arm64');
    expect(await page.textContent('#images-status')).toMatch(new RegExp(`^[\\d,]+ of ${ALL} images match$`));
    expect(new Set(await column(page, 'images', 'platforms'))).toEqual(new Set(['linux/arm64/v8']));
    await search(page, '');
    process.stderr.write(`searched ${ALL} images in ${Math.round(searchMs)} ms\n`);
  });

  it(`sorts all ${ALL} rows`, async () => {
    const { page } = opened;
    const started = performance.now();
    await page.click('#images th[data-col="size"]');
    process.stderr.write(`sorted ${ALL} images by size in ${Math.round(performance.now() - started)} ms\n`);
    await page.click('#images th[data-col="size"]');
    const sizes = (await column(page, 'images', 'size')).map(parseBytes);
    expect(sizes[0]).toBe(parseBytes(formatBytes(504_000_000)));
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    await page.click('#images th[data-col="created"]');
    const created = await column(page, 'images', 'created');
    expect(created).toEqual([...created].sort());
    expect(created[0]).toBe(
      new Date(Date.parse('2026-01-01T00:00:00Z') - 1199 * DAY_MS).toISOString().slice(0, 10),
    );
  });

  it('shows the first 100 items of a change list, and the rest on a click', async () => {
    const { page } = opened;
    expect(await page.locator('#changes h3').allTextContents()).toEqual(['New tags (150)']);
    expect(await page.locator('#changes li').count()).toBe(100);
    await page.click('#changes button:has-text("Show all 150")');
    expect(await page.locator('#changes li').count()).toBe(150);
    expect(await page.locator('#changes li').last().textContent()).toBe(
      `team-11/service-149-app:1.0.0 sha256:${'f'.repeat(64)}`,
    );
  });

  it('draws its charts with the largest repositories and the rest summed', async () => {
    const { page } = opened;
    // The repositories beyond the largest are summed in a figure, with no bar dwarfing theirs.
    expect(await page.locator('#storage-chart svg rect').count()).toBe(CHART_BARS);
    expect(await page.locator('#storage-chart svg g title').last().textContent()).toMatch(
      new RegExp(`^${(repositories - CHART_BARS).toLocaleString('en-US')} others: [\\d.]+ TB$`),
    );
    expect(await page.locator('#tags-chart svg g title').last().textContent()).toBe(
      `${(repositories - CHART_BARS).toLocaleString('en-US')} others: ${(IMAGES - (await topTags(page))).toLocaleString('en-US')}`,
    );
    expect(await page.textContent('#failures')).toContain('tag 9.9.9: manifest unknown');
  });
});

/** A change report of `n` new tags, one in each of the first `n` repositories. */
function newTags(n: number): GraphChanges {
  const none = {
    newRepositories: [],
    removedRepositories: [],
    movedTags: [],
    removedTags: [],
    newPlatforms: [],
  };
  return {
    firstRun: false,
    previousGeneratedAt: '2025-12-31T00:00:00Z',
    ...none,
    newTags: Array.from({ length: n }, (_, r) => ({
      provider: 'scale',
      repository: `team-${r % 23}/service-${r}-app`,
      tag: '1.0.0',
      digest: `sha256:${'f'.repeat(64)}`,
    })),
    unverified: [],
    firstSeen: [],
  };
}

/** The receipt of a repository of provider `hub` with one tag; complete when there are no errors. */
function oneTagReceipt(repository: string, errors: string[]): GraphReceipt {
  const complete = errors.length === 0;
  return {
    provider: 'hub',
    repository,
    complete,
    tags_listed: 1,
    tags_selected: 1,
    pages: 1,
    requests: 1,
    errors,
  };
}

/** The images the tags chart's named bars count, read off their tooltips. */
async function topTags(page: Page): Promise<number> {
  const titles = await page.locator('#tags-chart svg g title').allTextContents();
  return titles
    .slice(0, CHART_BARS)
    .reduce((sum, t) => sum + Number(t.slice(t.lastIndexOf(': ') + 2).replace(/,/g, '')), 0);
}

describe('a report of a graph with storage figures', () => {
  it("shows each repository's storage split and the registry's total", async () => {
    const node = (kind: Entity['kind'], spec: Record<string, unknown>): Entity => ({
      apiVersion: API_VERSION,
      kind,
      metadata: {
        name: `${kind}-${String(spec.tag ?? spec.full_name ?? 'r')}`,
        namespace: 'default',
        labels: {},
        annotations: { [DISCOVERY_SOURCE]: 'hub' },
      },
      spec,
    });
    const storage = (total: number, unique: number, untagged?: number) => ({
      total_bytes: total,
      unique_bytes: unique,
      shared_bytes: total - unique,
      ...(untagged === undefined ? {} : { untagged_bytes: untagged }),
      partial: false,
    });
    const graph = inMemory({
      format: GRAPH_FORMAT,
      generated_at: '2026-01-01T00:00:00Z',
      entities: [
        node('DockerImage', {
          repository: 'acme/api',
          tag: 'v1',
          digest: `sha256:${'a'.repeat(64)}`,
          size: 9_000_000,
        }),
        node('DockerImage', {
          repository: 'acme/web',
          tag: 'v1',
          digest: `sha256:${'b'.repeat(64)}`,
          size: 7_000_000,
        }),
        node('DockerRegistry', { name: 'hub', storage: storage(12_000_000, 12_000_000, 1_000_000) }),
        node('DockerRepository', {
          full_name: 'acme/api',
          storage: storage(8_000_000, 5_000_000, 1_000_000),
        }),
        node('DockerRepository', { full_name: 'acme/web', storage: storage(7_000_000, 4_000_000) }),
      ],
      relations: [],
      receipts: ['acme/api', 'acme/web'].map((repository) => oneTagReceipt(repository, [])),
    });
    const path = join(dir, 'storage.html');
    await writeFile(path, reportHtml({ graph }));
    const opened = await open(path);
    try {
      const { page } = opened;
      expect(await page.textContent('header')).toContain(
        'Storage of hub: 12.0 MB, each layer counted once, and 1.0 MB more in untagged manifests.',
      );
      expect(await column(page, 'repositories', 'storage')).toEqual(['8.0 MB', '7.0 MB']);
      expect(await column(page, 'repositories', 'unique')).toEqual(['5.0 MB', '4.0 MB']);
      expect(await column(page, 'repositories', 'shared')).toEqual(['3.0 MB', '3.0 MB']);
      expect(await column(page, 'repositories', 'untagged')).toEqual(['1.0 MB', '']);
      await page.click('#repositories th[data-col="unique"]');
      expect(await column(page, 'repositories', 'repository')).toEqual(['acme/web', 'acme/api']);
      expect(await page.locator('#storage-chart svg g title').allTextContents()).toEqual([
        'acme/api: 8.0 MB',
        'acme/web: 7.0 MB',
      ]);
      expectOnlyItsOwnFile(opened, path);
    } finally {
      await opened.page.close();
    }
  });
});

describe('a report of hostile registry strings', () => {
  const HOSTILE = [
    '</script><script>window.pwned = 1</script>',
    '<img src=x onerror="window.pwned = 2">',
    '<!--',
    'rtl\u202egpj.exe',
    'line\u2028sep\u2029para',
    'lone\ud800surrogate',
    'nul\u0000esc\u001b[31m',
    '" onmouseover="window.pwned = 3',
  ];

  it('renders every name as text, its odd characters as escapes, and runs nothing of it', async () => {
    const entities: Entity[] = HOSTILE.map((bad, i) => ({
      apiVersion: API_VERSION,
      kind: 'DockerImage',
      metadata: {
        name: `image-${i}`,
        namespace: 'default',
        labels: {},
        annotations: { [DISCOVERY_SOURCE]: 'hub' },
      },
      spec: {
        repository: `org/${bad}`,
        tag: bad,
        digest: `sha256:${bad}`,
        platforms: [bad],
        size: i,
        created: bad,
      },
    }));
    const graph = inMemory({
      format: GRAPH_FORMAT,
      generated_at: '2026-01-01T00:00:00Z',
      entities,
      relations: [],
      receipts: HOSTILE.map((bad) => oneTagReceipt(`org/${bad}`, [bad])),
    });
    const path = join(dir, 'hostile.html');
    await writeFile(path, reportHtml({ graph }));
    const hostile = await open(path);
    try {
      const { page } = hostile;
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
      expect(await page.locator('#images tbody tr.row').count()).toBe(HOSTILE.length);
      expect(await page.locator('img, iframe, object, embed').count()).toBe(0);
      expect(await page.locator('script').count()).toBe(2);
      const tags = await column(page, 'images', 'tag');
      expect(tags).toEqual([
        HOSTILE[0],
        HOSTILE[1],
        '<!--',
        'rtl\\u202egpj.exe',
        'line\\u2028sep\\u2029para',
        'lone\\ud800surrogate',
        'nul\\u0000esc\\u001b[31m',
        HOSTILE[7],
      ]);
      // The whole digest, as the registry gave it, in the digest cell's tooltip.
      const digestCell = '#images tbody tr.row >> nth=3 >> td >> nth=2';
      expect(await page.getAttribute(digestCell, 'title')).toBe('sha256:rtl\\u202egpj.exe');
      expect(await page.textContent(digestCell)).toBe('sha256:rtl\\u202egpj');
      await page.hover('#images tbody tr.row >> nth=7');
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
      expect(await page.locator('#failures li').count()).toBe(HOSTILE.length);
      await page.screenshot({ path: join(dir, 'hostile.png'), fullPage: true });
      expectOnlyItsOwnFile(hostile, path);
    } finally {
      await hostile.page.close();
    }
  });
});
