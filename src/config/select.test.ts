import { describe, expect, it } from 'vitest';
import { compilePattern, type Pattern } from './pattern.js';
import { accessoryOf, candidateTags, selectorFor, splitRepository } from './select.js';
import type { Selector } from './settings.js';

function p(source: string): Pattern {
  const result = compilePattern(source);
  if ('error' in result) throw new Error(result.error);
  return result.pattern;
}

function selector(
  opts: { ns?: string; repo?: string; include?: string[]; exclude?: string[]; max?: number } = {},
): Selector {
  return {
    namespacePattern: p(opts.ns ?? '.*'),
    repositoryPattern: p(opts.repo ?? '.*'),
    ...(opts.include ? { includeTags: new Set(opts.include) } : {}),
    excludeTags: (opts.exclude ?? []).map(p),
    maxTags: opts.max ?? 10,
  };
}

const HEX = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);
const HEX2 = '0123456789abcdef'.repeat(4);

describe('splitRepository', () => {
  it.each<[string, string, string]>([
    ['redis', '', 'redis'],
    ['library/nginx', 'library', 'nginx'],
    ['org/team/app', 'org', 'team/app'],
    ['a/b/c/d', 'a', 'b/c/d'],
    ['', '', ''],
    ['/x', '', 'x'],
    ['x/', 'x', ''],
  ])('%j → namespace %j, name %j', (full, namespace, name) => {
    expect(splitRepository(full)).toEqual({ namespace, name });
  });
});

describe('selectorFor', () => {
  const library = selector({ ns: 'library', repo: '^(nginx|redis)$', max: 1 });
  const org = selector({ ns: 'org', max: 2 });
  const team = selector({ ns: 'org', repo: 'team/', max: 3 });
  const rootOnly = selector({ ns: '^$', max: 4 });
  const all = selector({ max: 5 });

  it.each<[string, Selector[], Selector | undefined]>([
    ['library/nginx', [library, all], library],
    ['library/redis', [library, all], library],
    ['library/nginx-extra', [library, all], all],
    ['LIBRARY/NGINX', [library, all], library],
    ['mylibrary/nginx', [library, all], all],
    ['library2/nginx', [library, all], library],
    ['redis', [library, all], all],
    ['redis', [library], undefined],
    ['redis', [rootOnly, all], rootOnly],
    ['library/redis', [rootOnly, all], all],
    // First match wins, even when a later one is more specific.
    ['org/team/app', [org, team], org],
    ['org/team/app', [team, org], team],
    ['org/other', [team, org], org],
    ['org/team/app', [all, team, org], all],
    ['x/y', [], undefined],
    ['x/y', [library, team], undefined],
  ])('%s with selectors #%# → the expected one', (repo, selectors, expected) => {
    expect(selectorFor(repo, selectors)).toBe(expected);
  });

  it('matches the repository pattern against the name inside the namespace, anchored at the start', () => {
    const s = selector({ ns: 'org', repo: 'app' });
    expect(selectorFor('org/app', [s])).toBe(s);
    expect(selectorFor('org/app-2', [s])).toBe(s);
    expect(selectorFor('org/team/app', [s])).toBeUndefined();
    expect(selectorFor('app/x', [s])).toBeUndefined();
  });
});

describe('accessoryOf', () => {
  it.each<[string, { subject: string; kind: string } | undefined]>([
    [`sha256-${HEX}.sig`, { subject: `sha256:${HEX}`, kind: 'sig' }],
    [`sha256-${HEX2}.att`, { subject: `sha256:${HEX2}`, kind: 'att' }],
    [`sha256-${HEX}.sbom`, { subject: `sha256:${HEX}`, kind: 'sbom' }],
    // The OCI referrers tag schema's fallback index (issue 16): an accessory, not an image.
    [`sha256-${HEX}`, { subject: `sha256:${HEX}`, kind: 'fallback' }],
    [`sha256-${HEX}.txt`, undefined],
    [`sha256-${HEX}.sig.bak`, undefined],
    [`x-sha256-${HEX}.sig`, undefined],
    [`sha256-${HEX.slice(1)}.sig`, undefined],
    [`sha256-${HEX}0.sig`, undefined],
    [`sha256-${'g'.repeat(64)}.sig`, undefined],
    [`sha512-${HEX}${HEX}.sig`, undefined],
    [`sha256:${HEX}.sig`, undefined],
    ['latest', undefined],
    ['', undefined],
  ])('%s → %j', (tag, expected) => {
    expect(accessoryOf(tag)).toEqual(expected);
  });
});

describe('candidateTags', () => {
  const sig = `sha256-${HEX}.sig`;
  const att = `sha256-${HEX}.att`;
  const sbom = `sha256-${HEX2}.sbom`;
  const tags = ['latest', 'stable', '1.0', '1.1-rc1', '2.0-RC.1', 'dev-abc', sig, att, sbom, 'Latest'];

  it.each<[string, Parameters<typeof selector>[0], string[]]>([
    [
      'no rules keeps everything but accessories',
      {},
      ['latest', 'stable', '1.0', '1.1-rc1', '2.0-RC.1', 'dev-abc', 'Latest'],
    ],
    ['include is exact (case-sensitive, no regex)', { include: ['latest', '1.*', 'STABLE'] }, ['latest']],
    ['include keeps the listing order', { include: ['1.0', 'latest'] }, ['latest', '1.0']],
    ['include of a tag that is not listed', { include: ['nope'] }, []],
    [
      'exclude is a case-insensitive regex',
      { exclude: ['.*-rc.*'] },
      ['latest', 'stable', '1.0', 'dev-abc', 'Latest'],
    ],
    [
      'exclude is anchored at the start',
      { exclude: ['rc'] },
      ['latest', 'stable', '1.0', '1.1-rc1', '2.0-RC.1', 'dev-abc', 'Latest'],
    ],
    ['exclude prefix', { exclude: ['dev'] }, ['latest', 'stable', '1.0', '1.1-rc1', '2.0-RC.1', 'Latest']],
    [
      'exclude matches case-insensitively',
      { exclude: ['latest$'] },
      ['stable', '1.0', '1.1-rc1', '2.0-RC.1', 'dev-abc'],
    ],
    ['several excludes', { exclude: ['latest', '\\d'] }, ['stable', 'dev-abc']],
    ['exclude wins over include', { include: ['latest', '1.0'], exclude: ['1\\.'] }, ['latest']],
    ['an included accessory tag is kept', { include: [sig, 'latest'] }, ['latest', sig]],
    ['accessories stay out when include does not name them', { include: ['latest'] }, ['latest']],
    ['an included accessory can still be excluded', { include: [sig], exclude: ['sha256-'] }, []],
  ])('%s', (_name, opts, expected) => {
    expect(candidateTags(tags, selector(opts))).toEqual(expected);
  });

  it('excludes every accessory kind by default', () => {
    expect(candidateTags([sig, att, sbom], selector())).toEqual([]);
  });

  it('keeps tags that only look like accessories', () => {
    const lookalikes = [`sha256-${HEX}.sig2`, `sha256-abc.sig`, `sha256-abc`, `sha256-${HEX}0`];
    expect(candidateTags(lookalikes, selector())).toEqual(lookalikes);
  });

  it('keeps out the referrers fallback tag sha256-<hex> as it keeps out cosign tags', () => {
    expect(candidateTags([`sha256-${HEX}`, 'latest'], selector())).toEqual(['latest']);
  });

  it('does not modify its input and keeps duplicates as listed', () => {
    const input = ['a', 'b', 'a'];
    const copy = [...input];
    expect(candidateTags(input, selector())).toEqual(['a', 'b', 'a']);
    expect(input).toEqual(copy);
  });

  it('does not apply max_tags (ordering by age happens later)', () => {
    expect(candidateTags(['a', 'b', 'c'], selector({ max: 1 }))).toEqual(['a', 'b', 'c']);
  });
});
