import { describe, expect, it } from 'vitest';
import { seconds, withTimeLimit } from './time-limit.js';

describe('withTimeLimit', () => {
  it('gives the value of work that finishes in time', async () => {
    expect(await withTimeLimit(Promise.resolve(7), 1000)).toEqual({ done: true, value: 7 });
  });

  it('passes on a failure that comes in time', async () => {
    await expect(withTimeLimit(Promise.reject(new Error('503')), 1000)).rejects.toThrow('503');
  });

  it('stops waiting at the limit, even for work that holds nothing open, and drops a late failure', async () => {
    const started = performance.now();
    expect(await withTimeLimit(new Promise<never>(() => {}), 50)).toEqual({ done: false });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    let fail: (err: Error) => void = () => {};
    const late = new Promise<never>((_resolve, reject) => {
      fail = reject;
    });
    expect(await withTimeLimit(late, 10)).toEqual({ done: false });
    // An unhandled rejection here would fail the run.
    fail(new Error('too late'));
    await new Promise((r) => setTimeout(r, 10));
  });

  it('says a limit the way the reports do', () => {
    expect([seconds(30_000), seconds(1500), seconds(250)]).toEqual(['30 s', '1.5 s', '0.3 s']);
  });
});
