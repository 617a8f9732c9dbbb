import { describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse } from './http-client.js';
import { parseStoredPages, Revalidator } from './revalidation.js';

const page = (url: string, kind: HttpRequest['kind'] = 'tags'): HttpRequest => ({ method: 'GET', url, kind });
const answer = (status: number, headers: Record<string, string>, body = ''): HttpResponse => ({
  status,
  headers,
  body: Buffer.from(body),
  url: 'x',
});

describe('Revalidator', () => {
  it('stores a page with an ETag and answers the next run’s 304 with it, fresh headers included', () => {
    const first = new Revalidator();
    const req = page('https://r/v2/a/tags/list?n=100');
    expect(first.condition(req)).toBeUndefined();
    first.settle(
      req,
      undefined,
      answer(200, { etag: '"e1"', link: '</next>; rel="next"', date: 'd1' }, '{"tags":["x"]}'),
    );
    const stored = JSON.parse(JSON.stringify(first.pages()));

    const second = new Revalidator(parseStoredPages(stored));
    expect(second.condition(req)).toBe('"e1"');
    const res = second.settle(
      req,
      '"e1"',
      answer(304, { 'x-ratelimit-remaining': '99', 'content-length': '0' }),
    );
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('{"tags":["x"]}');
    expect(res.headers).toEqual({ 'x-ratelimit-remaining': '99', link: '</next>; rel="next"' });
    expect([second.conditional, second.notModified]).toEqual([1, 1]);
  });

  it('leaves manifests, tokens and requests that bring their own condition alone', () => {
    const r = new Revalidator({ 'https://r/x': { etag: '"e"', status: 200, headers: {}, body: '' } });
    expect(r.condition(page('https://r/x', 'manifest'))).toBeUndefined();
    expect(r.condition(page('https://r/x', 'token'))).toBeUndefined();
    expect(r.condition({ ...page('https://r/x'), headers: { 'if-none-match': '"mine"' } })).toBeUndefined();
    expect(r.condition({ ...page('https://r/x'), method: 'HEAD' })).toBeUndefined();
  });

  it('keeps only pages read in this run, and forgets a page that now fails', () => {
    const r = new Revalidator({
      'https://r/old': { etag: '"o"', status: 200, headers: {}, body: '[]' },
      'https://r/gone': { etag: '"g"', status: 200, headers: {}, body: '[]' },
    });
    r.settle(page('https://r/gone'), '"g"', answer(404, {}));
    r.settle(page('https://r/new'), undefined, answer(200, {}, '[]'));
    expect(Object.keys(r.pages())).toEqual([]);
  });

  it('reads a damaged or foreign store as empty pages, entry by entry', () => {
    expect(parseStoredPages(null)).toEqual({});
    expect(parseStoredPages([1, 2])).toEqual({});
    expect(
      parseStoredPages({
        good: { etag: '"e"', status: 200, headers: { link: 'l' }, body: 'b' },
        noEtag: { status: 200, headers: {}, body: 'b' },
        badHeaders: { etag: '"e"', status: 200, headers: { link: 3 }, body: 'b' },
        notOk: { etag: '"e"', status: 404, headers: {}, body: 'b' },
      }),
    ).toEqual({ good: { etag: '"e"', status: 200, headers: { link: 'l' }, body: 'b' } });
  });
});
