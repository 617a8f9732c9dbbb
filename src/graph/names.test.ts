import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UniqueNames } from './names.js';

const hash8 = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 8);
const DNS = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Devgraph's `s()` as reference/devgraph.md §3 states it: lowercase, [^a-z0-9-] → "-", strip "-" at
 * both ends, cut to 63. The oracle the names are held to: a name neither cut nor in a collision is
 * exactly this (a cut one is hashed instead, see below).
 */
function sanitize(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

describe('sanitize (Devgraph s())', () => {
  it.each<[string, string]>([
    ['nginx', 'nginx'],
    ['library/nginx', 'library-nginx'],
    ['Library/NGINX', 'library-nginx'],
    ['library/nginx-1.25.3', 'library-nginx-1-25-3'],
    ['org/team/app-latest', 'org-team-app-latest'],
    ['a__b', 'a--b'],
    ['a//b', 'a--b'],
    ['-a-', 'a'],
    ['/a/', 'a'],
    ['---a---b---', 'a---b'],
    ['@@@', ''],
    ['', ''],
    ['ghcr.io', 'ghcr-io'],
    ['a b\tc', 'a-b-c'],
    ['ÄÖü', ''],
    ['café', 'caf'],
    ['repo-manifest-0123456789ab', 'repo-manifest-0123456789ab'],
  ])('%j → %j', (raw, expected) => {
    expect(sanitize(raw)).toBe(expected);
  });

  it('cuts to 63 characters', () => {
    expect(sanitize('a'.repeat(100))).toBe('a'.repeat(63));
    expect(sanitize(`-${'b'.repeat(70)}`)).toBe('b'.repeat(63));
  });

  it('does not re-strip after the cut (Devgraph compatibility)', () => {
    const raw = `${'a'.repeat(62)}/tail`;
    expect(sanitize(raw)).toBe(`${'a'.repeat(62)}-`);
  });

  it('does not collapse repeated dashes', () => {
    expect(sanitize('a/-/b')).toBe('a---b');
  });
});

describe('UniqueNames', () => {
  const names = (entries: Array<{ key: string; raw: string }>) => {
    const unique = new UniqueNames(() => entries.map((e) => ({ ...e, ns: '' })));
    return new Map(entries.map((e) => [e.key, unique.get('', e.key, e.raw)]));
  };

  it('gives plain sanitized names when nothing collides', () => {
    const raws = ['library/nginx', 'library/redis', 'Org/App', 'ghcr.io', 'x--y', `${'a'.repeat(63)}`];
    const out = names(raws.map((raw, i) => ({ key: `k${i}`, raw })));
    raws.forEach((raw, i) => {
      expect(out.get(`k${i}`)).toBe(sanitize(raw));
    });
  });

  it('gives both sides of a collision an 8-hex suffix, different from each other', () => {
    const out = names([
      { key: 'hub\u0000a/b', raw: 'a/b' },
      { key: 'hub\u0000a-b', raw: 'a-b' },
      { key: 'hub\u0000c', raw: 'c' },
    ]);
    const ab = out.get('hub\u0000a/b')!;
    const aDashB = out.get('hub\u0000a-b')!;
    expect(ab).toMatch(/^a-b-[0-9a-f]{8}$/);
    expect(aDashB).toMatch(/^a-b-[0-9a-f]{8}$/);
    expect(ab).not.toBe(aDashB);
    expect(ab).toBe(`a-b-${hash8('hub\u0000a/b')}`);
    expect(aDashB).toBe(`a-b-${hash8('hub\u0000a-b')}`);
    expect(out.get('hub\u0000c')).toBe('c');
  });

  it('separates the same repository in two registries (same raw, different keys)', () => {
    const out = names([
      { key: 'hub\u0000library/nginx', raw: 'library/nginx' },
      { key: 'mirror\u0000library/nginx', raw: 'library/nginx' },
    ]);
    expect(new Set(out.values()).size).toBe(2);
    for (const v of out.values()) expect(v).toMatch(/^library-nginx-[0-9a-f]{8}$/);
  });

  it('handles a three-way collision', () => {
    const out = names([
      { key: '1', raw: 'A/B' },
      { key: '2', raw: 'a.b' },
      { key: '3', raw: 'a_b' },
    ]);
    expect(new Set(out.values()).size).toBe(3);
  });

  it.each([64, 65, 100, 300])(
    'hashes a name longer than 63 (%i chars) and keeps it ≤ 63, ending in 8 hex',
    (len) => {
      const raw = `org/${'x'.repeat(len - 4)}`;
      const out = names([{ key: raw, raw }]);
      const name = out.get(raw)!;
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/-[0-9a-f]{8}$/);
      expect(name).toBe(`${'org-xxxxxxxxxx'.padEnd(54, 'x')}-${hash8(raw)}`);
      expect(name).toMatch(DNS);
    },
  );

  it('keeps exactly 63 characters plain', () => {
    const raw = 'y'.repeat(63);
    expect(names([{ key: 'k', raw }]).get('k')).toBe(raw);
  });

  it('gives two long names with the same 54-char prefix different names', () => {
    const prefix = 'p'.repeat(70);
    const out = names([
      { key: 'a', raw: `${prefix}-one` },
      { key: 'b', raw: `${prefix}-two` },
    ]);
    expect(out.get('a')).not.toBe(out.get('b'));
  });

  it('does not leave a dash before the suffix when the cut falls on one', () => {
    const raw = `${'a'.repeat(53)}/${'b'.repeat(20)}`;
    const name = names([{ key: 'k', raw }]).get('k')!;
    expect(name).toBe(`${'a'.repeat(53)}-${hash8('k')}`);
    expect(name).not.toMatch(/--/);
  });

  it.each(['@@@', '', '---', '/'])('gives a name that sanitizes to nothing (%j) a hash', (raw) => {
    const name = names([{ key: `key:${raw}`, raw }]).get(`key:${raw}`)!;
    expect(name).toBe(hash8(`key:${raw}`));
    expect(name).toMatch(DNS);
  });

  it('keeps one entry for a key given twice', () => {
    const out = names([
      { key: 'k', raw: 'library/nginx' },
      { key: 'k', raw: 'library/nginx' },
    ]);
    expect(out.size).toBe(1);
    expect(out.get('k')).toBe('library-nginx');
  });

  it('a key given twice does not collide with itself', () => {
    const out = names([
      { key: 'k', raw: 'a/b' },
      { key: 'other', raw: 'zzz' },
      { key: 'k', raw: 'a/b' },
    ]);
    expect(out.get('k')).toBe('a-b');
  });

  it('is deterministic and independent of input order', () => {
    const entries = [
      { key: 'r1', raw: 'a/b' },
      { key: 'r2', raw: 'a-b' },
      { key: 'r3', raw: 'c'.repeat(80) },
      { key: 'r4', raw: 'plain' },
    ];
    const first = names(entries);
    const again = names(entries);
    const reversed = names([...entries].reverse());
    expect([...again]).toEqual([...first]);
    for (const [k, v] of first) expect(reversed.get(k)).toBe(v);
  });

  it('a long name does not change when other names come and go', () => {
    const raw = 'l'.repeat(90);
    const alone = names([{ key: 'long', raw }]).get('long');
    const withOthers = names([
      { key: 'x', raw: 'x' },
      { key: 'long', raw },
      { key: 'y', raw: 'l'.repeat(91) },
    ]).get('long');
    expect(withOthers).toBe(alone);
  });

  it('returns unique names even when a plain name equals another entry’s hashed name', () => {
    const crafted = `a-b-${hash8('k1')}`;
    const out = names([
      { key: 'k1', raw: 'a/b' },
      { key: 'k2', raw: 'a-b' },
      { key: 'k3', raw: crafted },
    ]);
    expect(new Set(out.values()).size).toBe(3);
  });

  it('every name is a valid DNS-1123 label of at most 63 characters', () => {
    const raws = [
      '-x-',
      'a/b',
      'a-b',
      `${'z'.repeat(62)}/q`,
      'UPPER/Case',
      '@@',
      `-${'m'.repeat(100)}-`,
      '1.0',
    ];
    const out = names(raws.map((raw, i) => ({ key: String(i), raw })));
    for (const v of out.values()) {
      expect(v.length).toBeLessThanOrEqual(63);
      expect(v).toMatch(DNS);
    }
  });
});
