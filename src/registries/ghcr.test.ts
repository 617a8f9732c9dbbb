import { describe, expect, it } from 'vitest';
import { formatReset, literalRepositories } from './ghcr.js';

describe('literalRepositories', () => {
  it.each([
    ['^nginx$', { names: ['nginx'], exact: true }],
    ['nginx', { names: ['nginx'], exact: false }],
    ['^(api|Web)$', { names: ['api', 'web'], exact: true }],
    ['(api|web)', { names: ['api', 'web'], exact: false }],
    ['^platform/ingress-controller$', { names: ['platform/ingress-controller'], exact: true }],
    ['^my\\.app$', { names: ['my.app'], exact: true }],
    ['.*', undefined],
    ['^web-.*$', undefined],
    ['^(?!x)', undefined],
  ])('%s', (pattern, expected) => {
    expect(literalRepositories(pattern)).toEqual(expected);
  });
});

describe('formatReset', () => {
  it('shows the reset time in UTC', () => {
    expect(formatReset(Date.parse('2030-01-01T07:05:00Z') / 1000)).toBe('resets 07:05 UTC');
    expect(formatReset(undefined)).toBe('');
  });
});
