/** Milliseconds a `Retry-After` header asks us to wait: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Date.parse is lenient ("-5" is a date in 2001); accept only the HTTP date forms.
  const httpDate = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
  const rfc850 = /^[A-Za-z]+, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
  const asctime = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;
  if (!httpDate.test(trimmed) && !rfc850.test(trimmed) && !asctime.test(trimmed)) return undefined;
  const date = Date.parse(asctime.test(trimmed) ? `${trimmed} GMT` : trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * How long a rate-limited answer asks us to wait, from whichever signal the server sends:
 * `Retry-After` (RFC 9110), Docker Hub API's `X-Retry-After` (a unix time), GitHub's
 * `x-ratelimit-reset` (a unix time) when `x-ratelimit-remaining` is 0, or Docker Hub's pull limit
 * (`ratelimit-remaining: 0;w=<window seconds>`), whose window is the wait. Undefined: no signal.
 */
export function askedWaitMs(
  headers: Readonly<Record<string, string>>,
  now: number = Date.now(),
): number | undefined {
  const standard = parseRetryAfter(headers['retry-after'], now);
  if (standard !== undefined) return standard;
  const unixTime = (v: string | undefined) =>
    v && /^\d+$/.test(v.trim()) ? Math.max(0, Number(v.trim()) * 1000 - now) : undefined;
  const hub = unixTime(headers['x-retry-after']);
  if (hub !== undefined) return hub;
  if (headers['x-ratelimit-remaining']?.trim() === '0') {
    const reset = unixTime(headers['x-ratelimit-reset']);
    if (reset !== undefined) return reset;
  }
  const pulls = /^\s*0\s*(?:;\s*w=(\d+))?/.exec(headers['ratelimit-remaining'] ?? '');
  if (pulls) return pulls[1] ? Number(pulls[1]) * 1000 : Number.POSITIVE_INFINITY;
  return undefined;
}
