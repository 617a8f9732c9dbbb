import { describe, expect, it } from 'vitest';
import {
  COMMENT_LIMIT,
  commentBody,
  commentMarker,
  isOwnComment,
  pullRequestNumber,
  truncateMarkdown,
} from './pr-comment-body.js';

describe('marker', () => {
  it('is a hidden HTML comment naming the config, on the first line', () => {
    expect(commentMarker('0123abcd')).toBe('<!-- devgraph-docker:0123abcd -->');
    expect(commentBody('hello', '0123abcd')).toBe('<!-- devgraph-docker:0123abcd -->\nhello');
  });

  it('recognises only a comment that starts with it', () => {
    const m = commentMarker('h1');
    expect(isOwnComment(`${m}\nreport`, m)).toBe(true);
    expect(isOwnComment(`\n${m}\nreport`, m)).toBe(true);
    expect(isOwnComment(`> ${m}\n> report`, m)).toBe(false);
    expect(isOwnComment(`${commentMarker('h2')}\nreport`, m)).toBe(false);
    expect(isOwnComment(null, m)).toBe(false);
  });
});

describe('truncateMarkdown', () => {
  it('leaves a short report alone', () => {
    expect(truncateMarkdown('a\nb', 10)).toBe('a\nb');
  });

  it('cuts at a line break and says how much was left out', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const out = truncateMarkdown(text, 300);
    expect(out.length).toBeLessThanOrEqual(300);
    expect(out).toMatch(/line \d+\n\n_… \d+ more characters of this report did not fit/);
    expect(out).not.toMatch(/line \d+[^\n\d]/);
  });

  it('closes a code fence and <details> the cut left open', () => {
    const text = `<details><summary>All tags</summary>\n\n\`\`\`\n${'x\n'.repeat(500)}\`\`\`\n\n</details>\n`;
    const out = truncateMarkdown(text, 400);
    expect(out.length).toBeLessThanOrEqual(400);
    expect(out).toMatch(/x\n```\n\n<\/details>\n\n_…/);
  });

  it('never splits a surrogate pair', () => {
    const text = '🐳'.repeat(1000);
    const out = truncateMarkdown(text, 500);
    expect(out.length).toBeLessThanOrEqual(500);
    expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('a whole comment stays within GitHub’s limit, marker included', () => {
    const body = commentBody('y'.repeat(200_000), 'abc');
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body.startsWith(commentMarker('abc'))).toBe(true);
  });
});

describe('pullRequestNumber', () => {
  it('reads pull_request events and comments on pull requests, nothing else', () => {
    expect(pullRequestNumber({ pull_request: { number: 7 } })).toBe(7);
    expect(pullRequestNumber({ issue: { number: 8, pull_request: { url: 'u' } } })).toBe(8);
    expect(pullRequestNumber({ issue: { number: 9 } })).toBeUndefined();
    expect(pullRequestNumber({})).toBeUndefined();
    expect(pullRequestNumber(undefined)).toBeUndefined();
  });
});
