import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../errors.js';
import type { ProgressCounts } from '../output/progress.js';
import {
  DEFAULT_PROGRESS_INTERVAL_MS,
  type DisplayStream,
  periodicProgress,
  progressDisplay,
  progressIntervalMs,
} from './progress-display.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A stream that keeps what was written, as a terminal (isTTY, columns) or as a pipe. */
function stream(tty: boolean, columns?: number): DisplayStream & { text: string } {
  const s = {
    text: '',
    isTTY: tty,
    ...(columns ? { columns } : {}),
    write(chunk: string) {
      s.text += chunk;
      return true;
    },
  };
  return s;
}

const clock = { now: () => Date.now() };
const CLEAR = '\x1b[K';

describe('on a terminal', () => {
  it('draws one line in place after a second, redraws it, keeps log lines above it, and clears it at the end', () => {
    const out = stream(true, 60);
    const counts: ProgressCounts = { done: 0, total: undefined, requests: 0 };
    const display = progressDisplay(out, {}, clock);
    const shown = display.show(() => counts);
    display.write('demo: discovering\n');
    vi.advanceTimersByTime(750);
    expect(out.text).toBe('demo: discovering\n');

    counts.total = 4;
    counts.done = 1;
    counts.requests = 12;
    vi.advanceTimersByTime(250);
    expect(out.text).toBe(`demo: discovering\n\r1/4 repositories · 12 requests · 12/s · ETA 3s${CLEAR}`);

    out.text = '';
    display.write('demo: library/nginx: 7/7 tags, 26 requests\n');
    expect(out.text).toBe(
      `\r${CLEAR}demo: library/nginx: 7/7 tags, 26 requests\n\r1/4 repositories · 12 requests · 12/s · ETA 3s${CLEAR}`,
    );

    out.text = '';
    counts.done = 2;
    vi.advanceTimersByTime(1000);
    // Redrawn each tick, each time the whole line from the start: never a second line.
    expect(out.text).not.toContain('\n');
    expect(out.text.endsWith(`\r2/4 repositories · 12 requests · 6.0/s · ETA 2s${CLEAR}`)).toBe(true);

    out.text = '';
    shown.stop();
    expect(out.text).toBe(`\r${CLEAR}`);
    vi.advanceTimersByTime(5000);
    display.write('wrote graph.json\n');
    expect(out.text).toBe(`\r${CLEAR}wrote graph.json\n`);
  });

  it('fits the line to the window, one column short', () => {
    const out = stream(true, 30);
    progressDisplay(out, {}, clock).show(() => ({ done: 12_345, total: 100_000, requests: 99 }));
    vi.advanceTimersByTime(1000);
    expect(out.text).toBe(`\r12,345/100,000 repositories${CLEAR}`);
  });

  it('shows nothing for a run over within the first second', () => {
    const out = stream(true, 80);
    const display = progressDisplay(out, {}, clock);
    const shown = display.show(() => ({ done: 1, total: 1, requests: 3 }));
    display.write('a log line\n');
    vi.advanceTimersByTime(900);
    shown.stop();
    vi.advanceTimersByTime(5000);
    expect(out.text).toBe('a log line\n');
  });

  it('a dumb terminal gets plain lines', () => {
    const out = stream(true, 80);
    progressDisplay(out, { TERM: 'dumb' }, { ...clock, intervalMs: 2000 }).show(() => ({
      done: 1,
      total: 2,
      requests: 10,
    }));
    vi.advanceTimersByTime(2000);
    expect(out.text).toBe(
      'progress after 2s: 1 of 2 repositories done, 10 requests (5.0/s), about 2s left\n',
    );
  });
});

describe('elsewhere (a pipe, a CI log, the Actions log)', () => {
  it('a plain line once per interval, the first after one interval, never more often', () => {
    const out = stream(false);
    const counts: ProgressCounts = { done: 0, total: undefined, requests: 0 };
    const shown = progressDisplay(out, {}, clock).show(() => counts);
    vi.advanceTimersByTime(DEFAULT_PROGRESS_INTERVAL_MS - 1);
    expect(out.text).toBe('');
    counts.total = 10;
    counts.done = 3;
    counts.requests = 60;
    vi.advanceTimersByTime(1);
    expect(out.text).toBe(
      'progress after 15s: 3 of 10 repositories done, 60 requests (4.0/s), about 35s left\n',
    );
    vi.advanceTimersByTime(DEFAULT_PROGRESS_INTERVAL_MS * 3);
    expect(out.text.split('\n').filter(Boolean)).toHaveLength(4);
    shown.stop();
    vi.advanceTimersByTime(DEFAULT_PROGRESS_INTERVAL_MS * 3);
    expect(out.text.split('\n').filter(Boolean)).toHaveLength(4);
  });

  it('nothing for a run shorter than the interval, and log text passes through untouched', () => {
    const out = stream(false);
    const display = progressDisplay(out, {}, clock);
    const shown = display.show(() => ({ done: 1, total: 1, requests: 3 }));
    display.write('demo: acme/api: 3/3 tags, 6 requests\n');
    vi.advanceTimersByTime(DEFAULT_PROGRESS_INTERVAL_MS - 1);
    shown.stop();
    vi.advanceTimersByTime(DEFAULT_PROGRESS_INTERVAL_MS * 2);
    expect(out.text).toBe('demo: acme/api: 3/3 tags, 6 requests\n');
  });

  it('periodicProgress hands each line to its sink (core.info in the Action), at the interval asked for', () => {
    const lines: string[] = [];
    const shown = periodicProgress((l) => lines.push(l), { ...clock, intervalMs: 50 }).show(() => ({
      done: 5,
      total: 5,
      requests: 40,
    }));
    vi.advanceTimersByTime(120);
    shown.stop();
    expect(lines).toEqual([
      'progress after 0s: 5 of 5 repositories done, 40 requests',
      'progress after 0s: 5 of 5 repositories done, 40 requests',
    ]);
  });
});

describe('progressIntervalMs', () => {
  it('reads DEVGRAPH_PROGRESS_INTERVAL_MS, and names it when it is not a number of milliseconds', () => {
    expect(progressIntervalMs({})).toBe(DEFAULT_PROGRESS_INTERVAL_MS);
    expect(progressIntervalMs({ DEVGRAPH_PROGRESS_INTERVAL_MS: '' })).toBe(DEFAULT_PROGRESS_INTERVAL_MS);
    expect(progressIntervalMs({ DEVGRAPH_PROGRESS_INTERVAL_MS: '250' })).toBe(250);
    for (const bad of ['0', '-5', '1.5', '10s']) {
      expect(() => progressIntervalMs({ DEVGRAPH_PROGRESS_INTERVAL_MS: bad })).toThrow(ConfigError);
      expect(() => progressIntervalMs({ DEVGRAPH_PROGRESS_INTERVAL_MS: bad })).toThrow(
        `DEVGRAPH_PROGRESS_INTERVAL_MS: must be a whole number of milliseconds, 1 or more, got ${JSON.stringify(bad)}`,
      );
    }
  });
});
