import { describe, expect, it } from 'vitest';
import { AdaptiveLimit, remainingBudget } from './adaptive-limit.js';

const ok = (latencyMs = 25, kind = 'manifest') => ({ status: 200, latencyMs, kind });

/** Sends and answers `n` requests one after another, each with `answer`; returns the last limit. */
function drive(l: AdaptiveLimit, n: number, answer: Parameters<AdaptiveLimit['answered']>[1]): number {
  let limit = l.limit;
  for (let i = 0; i < n; i++) limit = l.answered(l.start(), answer);
  return limit;
}

describe('AdaptiveLimit', () => {
  it('starts at the ceiling and stays there while answers are good', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    expect(l.limit).toBe(16);
    expect(drive(l, 200, ok())).toBe(16);
  });

  it('halves on 429 and on 503', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    expect(l.answered(l.start(), { status: 429, latencyMs: 1 })).toBe(8);
    expect(l.answered(l.start(), { status: 503, latencyMs: 1 })).toBe(4);
    expect(l.cuts).toEqual({ overload: 2, slowdown: 0 });
  });

  it('cuts once per window: the other answers already on their way were sent at the old rate', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    const tickets = Array.from({ length: 16 }, () => l.start());
    for (const t of tickets) l.answered(t, { status: 429, latencyMs: 1 });
    expect(l.limit).toBe(8);
    // A request sent after the cut may cut again.
    expect(l.answered(l.start(), { status: 429, latencyMs: 1 })).toBe(4);
  });

  it('never goes below 1', () => {
    const l = new AdaptiveLimit({ ceiling: 4 });
    expect(drive(l, 10, { status: 429, latencyMs: 1 })).toBe(1);
  });

  it('recovers additively, about one slot per window of good answers, up to the ceiling only', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    l.answered(l.start(), { status: 429, latencyMs: 1 });
    expect(l.limit).toBe(8);
    expect(drive(l, 8, ok())).toBe(9);
    expect(drive(l, 9, ok())).toBe(10);
    expect(drive(l, 1000, ok())).toBe(16);
  });

  it('answers to requests sent before a cut earn no recovery', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    const before = Array.from({ length: 15 }, () => l.start());
    l.answered(l.start(), { status: 429, latencyMs: 1 });
    for (const t of before) l.answered(t, ok());
    expect(l.limit).toBe(8);
  });

  it('cuts by a quarter when one kind of request slows down, compared with its own usual latency', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    drive(l, 20, ok(25, 'manifest'));
    // Blobs are slower than manifests, but steadily so: not a slowdown.
    drive(l, 20, ok(60, 'blob'));
    expect(l.limit).toBe(16);
    // Manifests now take 4× longer: the registry is queueing us.
    const limit = drive(l, 40, ok(100, 'manifest'));
    expect(l.cuts.slowdown).toBeGreaterThanOrEqual(1);
    expect(limit).toBeLessThanOrEqual(12);
  });

  it('does not take jitter on a fast link for a slowdown', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    for (let i = 0; i < 200; i++) l.answered(l.start(), ok(i % 2 ? 1 : 6));
    expect(l.limit).toBe(16);
    expect(l.cuts.slowdown).toBe(0);
  });

  it('does not take answers that are always mixed (CDN hits and origin fetches) for a slowdown', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    for (let i = 0; i < 500; i++) l.answered(l.start(), ok(i % 3 ? 10 : 120));
    expect(l.cuts.slowdown).toBe(0);
    expect(l.limit).toBe(16);
  });

  it('treats a timeout as a slowdown and a reset as nothing', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    expect(l.answered(l.start(), { latencyMs: 30_000, timedOut: true })).toBe(12);
    expect(l.answered(l.start(), { latencyMs: 5 })).toBe(12);
  });

  it('never exceeds the budget a rate-limit header says is left, and lifts the cap when it grows', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    const hub = (left: number) => ({
      status: 200,
      latencyMs: 25,
      headers: { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': `${left};w=21600` },
    });
    expect(l.answered(l.start(), hub(5))).toBe(5);
    expect(l.answered(l.start(), hub(0))).toBe(1);
    expect(l.answered(l.start(), hub(90))).toBe(16);
  });

  it('a new ceiling (configured concurrency) starts the host afresh at it', () => {
    const l = new AdaptiveLimit({ ceiling: 16 });
    l.answered(l.start(), { status: 429, latencyMs: 1 });
    l.setCeiling(4);
    expect(l.limit).toBe(4);
    expect(drive(l, 100, ok())).toBe(4);
    l.setCeiling(32);
    expect(l.limit).toBe(32);
  });
});

describe('remainingBudget', () => {
  it.each([
    [{ 'ratelimit-remaining': '76;w=21600' }, 76],
    [{ 'x-ratelimit-remaining': '4999' }, 4999],
    [{ ratelimit: 'limit=100, remaining=50, reset=30' }, 50],
    [{ 'ratelimit-remaining': '3', 'x-ratelimit-remaining': '10' }, 3],
    [{ 'ratelimit-limit': '100;w=21600' }, undefined],
    [{ 'x-ratelimit-remaining': 'lots' }, undefined],
    [{}, undefined],
  ])('%j → %s', (headers, expected) => {
    expect(remainingBudget(headers)).toBe(expected);
  });
});
