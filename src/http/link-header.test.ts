import { describe, expect, it } from 'vitest';
import { nextLinkTarget } from './link-header.js';

/** The next page's URL as a walker reaches it: the target as sent, resolved against the request. */
function nextLink(header: string | undefined, requestUrl: string): string | undefined {
  const target = nextLinkTarget(header);
  if (target === undefined) return undefined;
  return URL.canParse(target, requestUrl) ? new URL(target, requestUrl).toString() : undefined;
}

const REQ = 'https://registry.example.com/v2/library/nginx/tags/list?n=100';

describe('nextLink', () => {
  it.each<[string, string, string | undefined]>([
    // Distribution: relative link, resolved against the request URL.
    [
      'relative path',
      '</v2/library/nginx/tags/list?last=1.25&n=100>; rel="next"',
      'https://registry.example.com/v2/library/nginx/tags/list?last=1.25&n=100',
    ],
    [
      'relative without leading slash',
      '<list?last=b>; rel="next"',
      'https://registry.example.com/v2/library/nginx/tags/list?last=b',
    ],
    [
      'query-only reference',
      '<?n=100&last=x>; rel="next"',
      'https://registry.example.com/v2/library/nginx/tags/list?n=100&last=x',
    ],
    [
      'absolute link',
      '<https://registry.example.com/v2/_catalog?last=z&n=50>; rel="next"',
      'https://registry.example.com/v2/_catalog?last=z&n=50',
    ],
    [
      'absolute link to another origin is returned as given',
      '<https://other.example/x>; rel="next"',
      'https://other.example/x',
    ],
    ['no space before rel', '</p?last=a>;rel="next"', 'https://registry.example.com/p?last=a'],
    ['spaces around =', '</p?last=a> ; rel = "next"', 'https://registry.example.com/p?last=a'],
    ['unquoted rel', '</p?last=a>; rel=next', 'https://registry.example.com/p?last=a'],
    [
      'unquoted rel followed by another param',
      '</p?last=a>; rel=next; title=x',
      'https://registry.example.com/p?last=a',
    ],
    ['upper-case REL and NEXT', '</p?last=a>; REL="NEXT"', 'https://registry.example.com/p?last=a'],
    ['rel among several rels', '</p?last=a>; rel="prev next"', 'https://registry.example.com/p?last=a'],
    [
      'rel list with extra whitespace',
      '</p?last=a>; rel="  last   next "',
      'https://registry.example.com/p?last=a',
    ],
    [
      'rel after other params',
      '</p?last=a>; type="application/json"; rel="next"',
      'https://registry.example.com/p?last=a',
    ],
    [
      'next after prev in one header',
      '</p?last=0>; rel="prev", </p?last=2>; rel="next"',
      'https://registry.example.com/p?last=2',
    ],
    [
      'next before prev in one header',
      '</p?last=2>; rel="next", </p?last=0>; rel="prev", </p?last=9>; rel="last"',
      'https://registry.example.com/p?last=2',
    ],
    [
      'the first next wins',
      '</p?last=1>; rel="next", </p?last=2>; rel="next"',
      'https://registry.example.com/p?last=1',
    ],
    [
      'comma inside a quoted param',
      '</p?last=0>; title="a, b; rel=next"; rel="prev", </p?last=2>; rel="next"',
      'https://registry.example.com/p?last=2',
    ],
    ['comma inside the URL', '</p?last=a,b&n=2>; rel="next"', 'https://registry.example.com/p?last=a,b&n=2'],
    [
      'comma inside a previous link URL',
      '</p?last=x,y>; rel="prev", </p?last=a,b>; rel="next"',
      'https://registry.example.com/p?last=a,b',
    ],
    [
      'escaped quote inside a quoted param',
      '</p?last=0>; title="say \\"hi, there\\""; rel="prev", </p?last=2>; rel="next"',
      'https://registry.example.com/p?last=2',
    ],
    [
      'escaped quote at the end of a quoted param',
      '</p?last=0>; title="\\""; rel="prev", </p?last=2>; rel="next"',
      'https://registry.example.com/p?last=2',
    ],
    [
      '"rel=next" inside a quoted param of another link',
      '</p?last=0>; title="a;rel=next b"; rel="prev", </p?last=2>; rel="next"',
      'https://registry.example.com/p?last=2',
    ],
    [
      'leading and trailing whitespace',
      '   </p?last=a>; rel="next"   ',
      'https://registry.example.com/p?last=a',
    ],
    [
      'empty elements between commas',
      ', , </p?last=a>; rel="next",',
      'https://registry.example.com/p?last=a',
    ],
    ['percent-encoded last', '</p?last=a%2Fb>; rel="next"', 'https://registry.example.com/p?last=a%2Fb'],
  ])('%s', (_name, header, expected) => {
    expect(nextLink(header, REQ)).toBe(expected);
  });

  it.each<[string, string | undefined]>([
    ['undefined header', undefined],
    ['empty header', ''],
    ['only prev', '</p?last=0>; rel="prev"'],
    ['only last and first', '</p?last=9>; rel="last", </p?last=0>; rel="first"'],
    ['no rel at all', '</p?last=a>'],
    ['rel that merely contains next', '</p?last=a>; rel="nextpage"'],
    ['rel="next-page"', '</p?last=a>; rel="next-page"'],
    ['a param other than rel says next', '</p?last=a>; title="next"'],
    ['a param whose name ends in rel', '</p?last=a>; prel="next"'],
    ['garbage', 'garbage'],
    ['no angle brackets', '/p?last=a; rel="next"'],
    ['unclosed angle bracket', '</p?last=a; rel="next"'],
    ['unparseable URL', '<http://[::1>; rel="next"'],
    ['commas only', ',,,'],
  ])('%s → undefined', (_name, header) => {
    expect(nextLink(header, REQ)).toBeUndefined();
  });

  it('resolves against the request URL, not just its origin', () => {
    expect(nextLink('<../other?last=a>; rel="next"', 'https://r.example/v2/a/b/tags/list')).toBe(
      'https://r.example/v2/a/b/other?last=a',
    );
  });

  it('keeps the port of the request URL', () => {
    expect(nextLink('</v2/_catalog?last=a>; rel="next"', 'http://localhost:5000/v2/_catalog?n=1')).toBe(
      'http://localhost:5000/v2/_catalog?last=a',
    );
  });
});
