import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

const HOUR = 3_600_000;

describe('parseDuration', () => {
  it.each<[string, number]>([
    ['1h', HOUR],
    ['12h', 12 * HOUR],
    ['30d', 30 * 24 * HOUR],
    ['4w', 4 * 7 * 24 * HOUR],
    ['007d', 7 * 24 * HOUR],
    ['999999w', 999_999 * 7 * 24 * HOUR],
  ])('%s → %i ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ duration: { text, ms } });
  });

  it.each<[unknown, string]>([
    [30, 'got the number 30: add the unit, e.g. 30d'],
    ['30', '"30" is not a duration'],
    ['30D', '"30D" is not a duration'],
    ['30 d', '"30 d" is not a duration'],
    ['1.5d', '"1.5d" is not a duration'],
    ['-1d', '"-1d" is not a duration'],
    ['3m', '"3m" is not a duration'],
    ['1y', '"1y" is not a duration'],
    ['P30D', '"P30D" is not a duration'],
    ['1234567d', '"1234567d" is not a duration'],
    ['0d', '"0d" would let any age through; use at least 1d'],
    [true, 'must be a duration, a whole number then h (hours), d (days) or w (weeks)'],
    [null, 'must be a duration'],
    ['x'.repeat(1000), `"${'x'.repeat(30)}"… is not a duration`],
  ])('%j is refused: %s', (value, message) => {
    const parsed = parseDuration(value);
    expect(parsed).toHaveProperty('error');
    expect((parsed as { error: string }).error).toContain(message);
  });
});
