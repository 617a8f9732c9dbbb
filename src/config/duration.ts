// Ages in the retention rules (`older_than: 30d`). Only whole hours, days and weeks: months and
// years have no fixed length, and a bare number would leave the unit to guesswork.

/** A duration from the config: as written, for messages and plan reasons, and in milliseconds. */
export interface Duration {
  text: string;
  ms: number;
}

const HOUR_MS = 3_600_000;
const UNIT_MS: Record<string, number> = { h: HOUR_MS, d: 24 * HOUR_MS, w: 7 * 24 * HOUR_MS };

const FORMS = 'a whole number then h (hours), d (days) or w (weeks), such as 12h, 30d or 4w';

/**
 * Reads `12h`, `30d`, `4w`. Zero is refused: an age limit of nothing would take an untagged
 * platform manifest uploaded a moment before the index that tags it.
 */
export function parseDuration(value: unknown): { duration: Duration } | { error: string } {
  if (typeof value === 'number')
    return { error: `must be a duration, ${FORMS}; got the number ${value}: add the unit, e.g. ${value}d` };
  if (typeof value !== 'string') return { error: `must be a duration, ${FORMS}` };
  const m = /^(\d{1,6})([hdw])$/.exec(value);
  if (!m) {
    const shown = value.length > 40 ? `${JSON.stringify(value.slice(0, 30))}…` : JSON.stringify(value);
    return { error: `${shown} is not a duration; write ${FORMS}` };
  }
  const count = Number(m[1]);
  if (count === 0)
    return {
      error: `${JSON.stringify(value)} would let any age through; use at least 1${m[2]}, or remove the key`,
    };
  return { duration: { text: value, ms: count * UNIT_MS[m[2]!]! } };
}
