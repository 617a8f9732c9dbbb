import { describe, expect, it } from 'vitest';
import { compareNewestFirst, createdMs, type Dated, newest, parseSemver } from './order-tags.js';

const tags = (items: Dated[]) => items.map((i) => i.tag);

/** Deterministic Fisher–Yates with a small LCG, so shuffles are the same on every run. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('createdMs', () => {
  it.each<[string | undefined, number | undefined]>([
    ['2024-05-01T12:00:00Z', Date.parse('2024-05-01T12:00:00Z')],
    ['2024-05-01T12:00:00.123456789Z', Date.parse('2024-05-01T12:00:00.123Z')],
    ['2024-05-01T14:00:00+02:00', Date.parse('2024-05-01T12:00:00Z')],
    ['1970-01-02T00:00:01Z', 86_401_000],
    [undefined, undefined],
    ['', undefined],
    ['not a date', undefined],
    ['1970-01-01T00:00:00Z', undefined],
    ['1970-01-01T00:00:01Z', undefined],
    ['1970-01-01T23:59:59Z', undefined],
    ['0001-01-01T00:00:00Z', undefined],
    ['1969-12-31T23:59:59Z', undefined],
  ])('%j → %s', (created, expected) => {
    expect(createdMs(created)).toBe(expected);
  });
});

describe('parseSemver', () => {
  it.each<[string, ReturnType<typeof parseSemver>]>([
    ['1.2.3', { nums: [1, 2, 3] }],
    ['v1.2', { nums: [1, 2, 0] }],
    ['V1.2', undefined],
    ['1', { nums: [1, 0, 0] }],
    ['2.0.0-rc.1', { nums: [2, 0, 0], pre: 'rc.1' }],
    ['1.0.0+build.5', { nums: [1, 0, 0] }],
    ['1.0.0-beta+exp.sha.5114f85', { nums: [1, 0, 0], pre: 'beta' }],
    ['latest', undefined],
    ['1.2.3.4', undefined],
    ['1.2.x', undefined],
    ['', undefined],
  ])('%j', (tag, expected) => {
    expect(parseSemver(tag)).toEqual(expected);
  });
});

describe('compareNewestFirst', () => {
  // Each pair: [newer, older] — the first must sort before the second.
  it.each<[string, Dated, Dated]>([
    [
      'newer created first',
      { tag: 'a', created: '2024-02-01T00:00:00Z' },
      { tag: 'b', created: '2024-01-01T00:00:00Z' },
    ],
    [
      'created beats semver',
      { tag: '1.0.0', created: '2024-02-01T00:00:00Z' },
      { tag: '9.0.0', created: '2024-01-01T00:00:00Z' },
    ],
    [
      'created beats name',
      { tag: 'a', created: '2024-02-01T00:00:00Z' },
      { tag: 'z', created: '2024-01-01T00:00:00Z' },
    ],
    [
      'milliseconds count',
      { tag: 'a', created: '2024-01-01T00:00:00.002Z' },
      { tag: 'b', created: '2024-01-01T00:00:00.001Z' },
    ],
    [
      'any real date before a missing one',
      { tag: '0.0.1', created: '2001-01-01T00:00:00Z' },
      { tag: '9.9.9' },
    ],
    [
      'any real date before an invalid one',
      { tag: 'a', created: '2001-01-01T00:00:00Z' },
      { tag: 'z', created: 'yesterday' },
    ],
    [
      'any real date before the epoch',
      { tag: 'a', created: '2001-01-01T00:00:00Z' },
      { tag: 'z', created: '1970-01-01T00:00:00Z' },
    ],
    [
      'any real date before a near-epoch date',
      { tag: 'a', created: '2001-01-01T00:00:00Z' },
      { tag: 'z', created: '1970-01-01T12:00:00Z' },
    ],
    [
      'any real date before Go zero time',
      { tag: 'a', created: '2001-01-01T00:00:00Z' },
      { tag: 'z', created: '0001-01-01T00:00:00Z' },
    ],
    // Ties on created (equal, or both unusable) fall back to semantic version.
    ['1.10.0 > 1.9.0', { tag: '1.10.0' }, { tag: '1.9.0' }],
    [
      '1.10.0 > 1.9.0 on an equal date',
      { tag: '1.10.0', created: '2024-01-01T00:00:00Z' },
      { tag: '1.9.0', created: '2024-01-01T00:00:00Z' },
    ],
    [
      '1.10.0 > 1.9.0 when both are epoch',
      { tag: '1.10.0', created: '1970-01-01T00:00:00Z' },
      { tag: '1.9.0', created: '1970-01-01T00:00:00Z' },
    ],
    [
      'missing and epoch are the same tier',
      { tag: '1.10.0' },
      { tag: '1.9.0', created: '1970-01-01T00:00:00Z' },
    ],
    ['missing and invalid are the same tier', { tag: '1.10.0', created: 'garbage' }, { tag: '1.9.0' }],
    ['2.0.0 > 2.0.0-rc.1', { tag: '2.0.0' }, { tag: '2.0.0-rc.1' }],
    ['2.0.0-rc.1 > 1.99.99', { tag: '2.0.0-rc.1' }, { tag: '1.99.99' }],
    ['rc.10 > rc.2', { tag: '1.0.0-rc.10' }, { tag: '1.0.0-rc.2' }],
    ['beta > alpha', { tag: '1.0.0-beta' }, { tag: '1.0.0-alpha' }],
    ['alpha.1 > alpha', { tag: '1.0.0-alpha.1' }, { tag: '1.0.0-alpha' }],
    ['alpha.beta > alpha.1 (letters above numbers)', { tag: '1.0.0-alpha.beta' }, { tag: '1.0.0-alpha.1' }],
    ['v1.2 parses: v1.3 > v1.2', { tag: 'v1.3' }, { tag: 'v1.2' }],
    ['v1.10 > 1.9.5', { tag: 'v1.10' }, { tag: '1.9.5' }],
    ['10 > 9 (major only)', { tag: '10' }, { tag: '9' }],
    ['2.0 > 1.99.0', { tag: '2.0' }, { tag: '1.99.0' }],
    ['semver before non-semver on a tie', { tag: '0.0.1' }, { tag: 'latest' }],
    ['semver before non-semver even if the name sorts higher', { tag: '1.0.0' }, { tag: 'zzz' }],
    // Then name, descending.
    ['name descending for non-semver', { tag: 'stable' }, { tag: 'latest' }],
    ['name descending for equal versions', { tag: 'v1.2.0' }, { tag: '1.2' }],
    ['name descending for build metadata', { tag: '1.0.0+b' }, { tag: '1.0.0+a' }],
  ])('%s', (_name, newer, older) => {
    expect(compareNewestFirst(newer, older)).toBeLessThan(0);
    expect(compareNewestFirst(older, newer)).toBeGreaterThan(0);
  });

  it('is 0 only for the same tag and date', () => {
    expect(compareNewestFirst({ tag: 'a' }, { tag: 'a' })).toBe(0);
    expect(
      compareNewestFirst(
        { tag: 'a', created: '2024-01-01T00:00:00Z' },
        { tag: 'a', created: '2024-01-01T00:00:00Z' },
      ),
    ).toBe(0);
  });
});

describe('newest', () => {
  const items: Dated[] = [
    { tag: 'latest', created: '2024-06-01T00:00:00Z' },
    { tag: '1.9.0', created: '2024-01-01T00:00:00Z' },
    { tag: '1.10.0', created: '2024-03-01T00:00:00Z' },
    { tag: '1.10.1', created: '2024-03-01T00:00:00Z' },
    { tag: '2.0.0-rc.1' },
    { tag: '2.0.0' },
    { tag: '2.0.0-rc.10' },
    { tag: '2.0.0-rc.2', created: '1970-01-01T00:00:00Z' },
    { tag: 'reproducible', created: '1970-01-01T00:00:01Z' },
    { tag: 'broken', created: 'not a date' },
    { tag: 'edge', created: 'garbage' },
    { tag: 'v0.1' },
  ];
  const expected = [
    'latest',
    '1.10.1',
    '1.10.0',
    '1.9.0',
    '2.0.0',
    '2.0.0-rc.10',
    '2.0.0-rc.2',
    '2.0.0-rc.1',
    'v0.1',
    'reproducible',
    'edge',
    'broken',
  ];

  it('orders newest first: created, then semver, then name descending', () => {
    expect(tags(newest(items, 0))).toEqual(expected);
  });

  it.each([
    [0, expected],
    [1, expected.slice(0, 1)],
    [3, expected.slice(0, 3)],
    [12, expected],
    [100, expected],
  ])('max %i keeps the newest n (0 = all)', (max, want) => {
    expect(tags(newest(items, max))).toEqual(want);
  });

  it('is a total, stable order: any shuffle gives the same result', () => {
    for (let seed = 1; seed <= 50; seed++) expect(tags(newest(shuffle(items, seed), 0))).toEqual(expected);
  });

  it('is not lexical order', () => {
    const listed = ['1.10.0', '1.11.0', '1.9.0', 'latest'].map((tag) => ({ tag }));
    expect(tags(newest(listed, 2))).toEqual(['1.11.0', '1.10.0']);
  });

  it('keeps the items themselves (extra fields survive) and does not modify the input', () => {
    const input = [
      { tag: 'a', created: '2024-01-01T00:00:00Z', digest: 'sha256:1' },
      { tag: 'b', created: '2024-02-01T00:00:00Z', digest: 'sha256:2' },
    ];
    const copy = structuredClone(input);
    const out = newest(input, 1);
    expect(out).toEqual([input[1]]);
    expect(out[0]).toBe(input[1]);
    expect(input).toEqual(copy);
  });

  it('handles an empty list', () => {
    expect(newest([], 5)).toEqual([]);
  });

  it('gives a consistent comparator (antisymmetric and transitive) over a mixed set', () => {
    const all = [
      ...items,
      { tag: '01.2.3' },
      { tag: '1.2.3' },
      { tag: '1.0.0-rc.01' },
      { tag: '1.0.0-rc.1' },
    ];
    for (const a of all) {
      for (const b of all) {
        expect(Math.sign(compareNewestFirst(a, b))).toBe(-Math.sign(compareNewestFirst(b, a)) || 0);
        for (const c of all) {
          if (compareNewestFirst(a, b) < 0 && compareNewestFirst(b, c) < 0) {
            expect(compareNewestFirst(a, c)).toBeLessThan(0);
          }
        }
      }
    }
  });
});
