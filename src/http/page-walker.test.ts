// The walker's own rules, with in-memory pages; every real walker meets the hostile pages in
// test/integration/page-walkers.test.ts.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { collectPages, type Page, PageWalk, readPage, readRows } from './page-walker.js';

const BASE = 'https://r.example/v2/x/tags/list';

function links(pages: Record<string, Page<string>>, opts: { maxPages?: number; pagesBefore?: number } = {}) {
  const asked: string[] = [];
  const walk = PageWalk.links<string>({
    source: 'the registry',
    maxPages: opts.maxPages ?? 100,
    ...(opts.pagesBefore ? { pagesBefore: opts.pagesBefore } : {}),
    first: `${BASE}?n=2`,
    read: async (url) => {
      asked.push(url);
      return pages[url] ?? { items: [] };
    },
  });
  return { walk, asked };
}

describe('PageWalk', () => {
  it('counts pages against max_pages together with earlier walks of the same listing', async () => {
    const { walk, asked } = links(
      { [`${BASE}?n=2`]: { items: ['a'], next: '?n=2&last=a' }, [`${BASE}?n=2&last=a`]: { items: ['b'] } },
      { maxPages: 4, pagesBefore: 3 },
    );
    expect(await collectPages(walk)).toEqual({
      items: ['a'],
      pages: 4,
      complete: false,
      problem: 'stopped after 4 pages (max_pages); raise max_pages to list everything',
    });
    expect(asked).toHaveLength(1);
  });

  it('does not follow a next-page link that is not a URL, and says so', async () => {
    const { walk } = links({ [`${BASE}?n=2`]: { items: ['a'], next: 'http://[::1' } });
    expect(await collectPages(walk)).toMatchObject({
      items: ['a'],
      complete: false,
      problem: "the registry's next-page link is not a URL; not followed",
    });
  });

  it('ends where the source says the rest cannot be read, keeping what was read', async () => {
    const { walk } = links({ [`${BASE}?n=2`]: { items: ['a'], next: '?n=2&last=a', end: 'budget spent' } });
    expect(await collectPages(walk)).toEqual({
      items: ['a'],
      pages: 1,
      complete: false,
      problem: 'budget spent',
    });
  });

  it('asks what the rewrite makes of a link, on the listing origin only', async () => {
    const asked: string[] = [];
    const walk = PageWalk.links<string>({
      source: 'the registry',
      maxPages: 10,
      first: `${BASE}?n=2`,
      rewrite: (next) => `${BASE}${next.search}`,
      read: async (url) => {
        asked.push(url);
        return asked.length === 1
          ? { items: ['a'], next: 'https://elsewhere.example/repo/v2/x?last=a' }
          : { items: [] };
      },
    });
    expect(await collectPages(walk)).toMatchObject({ items: ['a'], complete: true, pages: 2 });
    expect(asked).toEqual([`${BASE}?n=2`, `${BASE}?last=a`]);
  });

  it('names the first few unreadable rows and counts the rest', async () => {
    const rows = readRows(['a', 1, 2, 'b', 3, 4], z.string(), 'tag');
    const walk = PageWalk.cursors<string>({
      source: 'the API',
      maxPages: 10,
      read: async () => rows,
    });
    const listing = await collectPages(walk);
    expect(listing.items).toEqual(['a', 'b']);
    expect(listing.problem).toBe(
      '4 unreadable entries left out: tag 2: not a string (number) (page 1); tag 3: not a string (number) (page 1); tag 5: not a string (number) (page 1); and 1 more',
    );
  });

  it('a cursor seen before ends the walk', async () => {
    const walk = PageWalk.cursors<string>({
      source: 'the ECR API',
      maxPages: 10,
      read: async (cursor) => ({ items: [cursor ?? 'first'], next: 'c1' }),
    });
    expect(await collectPages(walk)).toEqual({
      items: ['first', 'c1'],
      pages: 2,
      complete: false,
      problem: "the ECR API's next page repeats a page already read; stopped",
    });
  });
});

describe('readPage', () => {
  it('names the field a page lacks or has in another shape', () => {
    const Page = z.object({ results: z.array(z.unknown()) });
    expect(() => readPage({}, Page, 'hub/x')).toThrow('hub/x: no "results" field');
    expect(() => readPage({ results: 'a' }, Page, 'hub/x')).toThrow(
      'hub/x: "results" is not a list (string)',
    );
    expect(() => readPage([], Page, 'hub/x')).toThrow('hub/x: not a JSON object (a list)');
  });
});
