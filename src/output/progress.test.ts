import { describe, expect, it } from 'vitest';
import {
  etaMs,
  formatDuration,
  type ProgressFigures,
  ProgressSchedule,
  progressLine,
  progressReport,
  RunProgress,
  requestRate,
} from './progress.js';

const figures = (f: Partial<ProgressFigures> = {}): ProgressFigures => ({
  done: 120,
  total: 600,
  requests: 4512,
  elapsedMs: 60_000,
  ...f,
});

describe('ETA', () => {
  it('is the rest at the pace so far', () => {
    expect(etaMs(figures())).toBe(240_000);
    expect(etaMs(figures({ done: 599 }))).toBeCloseTo(60_000 / 599);
  });

  it('is unknown before the total is, before the first repository finishes, and after the last', () => {
    expect(etaMs(figures({ total: undefined }))).toBeUndefined();
    expect(etaMs(figures({ done: 0 }))).toBeUndefined();
    expect(etaMs(figures({ done: 600 }))).toBeUndefined();
    expect(etaMs(figures({ done: 0, total: 0 }))).toBeUndefined();
  });
});

describe('request rate', () => {
  it('is averaged since the start, and not guessed in the first second', () => {
    expect(requestRate(figures())).toBeCloseTo(75.2);
    expect(requestRate(figures({ elapsedMs: 999 }))).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('says whole seconds in the two largest units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(42_400)).toBe('42s');
    expect(formatDuration(59_600)).toBe('1m 00s');
    expect(formatDuration(307_000)).toBe('5m 07s');
    expect(formatDuration(7_500_000)).toBe('2h 05m');
    expect(formatDuration(-5)).toBe('0s');
  });
});

describe('progressLine (terminal)', () => {
  it('shows repositories done / total, requests, rate and ETA', () => {
    expect(progressLine(figures(), 100)).toBe('120/600 repositories · 4,512 requests · 75/s · ETA 4m 00s');
    expect(progressLine(figures({ requests: 30, elapsedMs: 5000 }), 100)).toBe(
      '120/600 repositories · 30 requests · 6.0/s · ETA 20s',
    );
  });

  it('shows ? for a total not known yet, and the time so far where there is no ETA', () => {
    expect(progressLine(figures({ total: undefined, done: 3 }), 100)).toBe(
      '3/? repositories · 4,512 requests · 75/s · 1m 00s elapsed',
    );
    expect(progressLine(figures({ done: 0, requests: 2, elapsedMs: 300 }), 100)).toBe(
      '0/600 repositories · 2 requests · 0s elapsed',
    );
  });

  it('never wraps: the rate goes first, then the requests, then the ETA', () => {
    const f = figures({ done: 12_345, total: 100_000, requests: 1_234_567 });
    const full = progressLine(f, 200);
    expect(full).toBe('12,345/100,000 repositories · 1,234,567 requests · 20,576/s · ETA 7m 06s');
    expect(progressLine(f, full.length)).toBe(full);
    expect(progressLine(f, full.length - 1)).toBe(
      '12,345/100,000 repositories · 1,234,567 requests · ETA 7m 06s',
    );
    expect(progressLine(f, 50)).toBe('12,345/100,000 repositories · ETA 7m 06s');
    expect(progressLine(f, 30)).toBe('12,345/100,000 repositories');
    expect(progressLine(f, 20)).toBe('12,345/100,000 repo…');
    for (const width of [10, 25, 40, 60, 80])
      expect(progressLine(f, width).length).toBeLessThanOrEqual(width);
  });
});

describe('progressReport (logs)', () => {
  it('is one plain sentence with the time so far', () => {
    expect(progressReport(figures())).toBe(
      'progress after 1m 00s: 120 of 600 repositories done, 4,512 requests (75/s), about 4m 00s left',
    );
    expect(progressReport(figures({ total: undefined, elapsedMs: 500 }))).toBe(
      'progress after 1s: 120 repositories done (registries still to list), 4,512 requests',
    );
    expect(progressReport(figures({ done: 600 }))).toBe(
      'progress after 1m 00s: 600 of 600 repositories done, 4,512 requests (75/s)',
    );
  });
});

describe('ProgressSchedule', () => {
  it('shows nothing before the first delay, then at most once per interval', () => {
    const s = new ProgressSchedule(1000, 15_000, 10_000);
    expect([1000, 5000, 15_999].map((t) => s.due(t))).toEqual([false, false, false]);
    expect(s.due(16_000)).toBe(true);
    expect(s.due(16_000)).toBe(false);
    expect(s.due(25_999)).toBe(false);
    expect(s.due(26_000)).toBe(true);
    // A late check is one line, not the ones it missed.
    expect(s.due(90_000)).toBe(true);
    expect(s.due(90_001)).toBe(false);
  });
});

describe('RunProgress', () => {
  it('knows the total once every registry is listed, and shows only while discovery runs', () => {
    const shows: string[] = [];
    let read: (() => unknown) | undefined;
    const progress = new RunProgress((r) => {
      read = r;
      shows.push('show');
      return { stop: () => shows.push('stop') };
    });
    let requests = 0;
    progress.started(2, () => requests);
    expect(shows).toEqual(['show']);
    expect(read?.()).toEqual({ done: 0, total: undefined, requests: 0 });
    progress.registryListed(3);
    progress.repositoryDone();
    requests = 7;
    expect(progress.counts()).toEqual({ done: 1, total: undefined, requests: 7 });
    progress.registryListed(0);
    expect(progress.counts()).toEqual({ done: 1, total: 3, requests: 7 });
    progress.ended();
    progress.ended();
    expect(shows).toEqual(['show', 'stop']);
  });
});
