import { describe, expect, it } from 'vitest';
import { mapLimit, settleAll } from './semaphore.js';

const tick = () => new Promise<void>((r) => setTimeout(r, 1));

describe('mapLimit', () => {
  it('keeps the input order and at most `limit` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      peak = Math.max(peak, ++inFlight);
      for (let i = 0; i < n; i++) await tick();
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('after a failure starts nothing more, and throws only once the calls in flight have ended', async () => {
    const started: number[] = [];
    const ended: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error('item 0 failed');
      for (let i = 0; i < 5; i++) await tick();
      ended.push(n);
      return n;
    });
    await expect(run).rejects.toThrow('item 0 failed');
    expect(started).toEqual([0, 1]);
    expect(ended).toEqual([1]);
  });

  it('throws the first failure when several fail', async () => {
    const run = mapLimit([0, 1], 2, async (n) => {
      await tick();
      if (n === 1) await tick();
      throw new Error(`item ${n}`);
    });
    await expect(run).rejects.toThrow('item 0');
  });
});

describe('settleAll', () => {
  it('gives the values in order', async () => {
    expect(await settleAll([Promise.resolve(1), Promise.resolve(2)])).toEqual([1, 2]);
  });

  it('throws the first failure only once every promise has settled', async () => {
    let slowDone = false;
    const slow = (async () => {
      for (let i = 0; i < 5; i++) await tick();
      slowDone = true;
      return 1;
    })();
    await expect(settleAll([Promise.reject(new Error('child failed')), slow])).rejects.toThrow(
      'child failed',
    );
    expect(slowDone).toBe(true);
  });
});
