// The HTTP client against a registry that refuses (429) whatever it receives beyond N concurrent
// requests: the client's per-host limit must come down below N and stay near it, and every request
// must still complete.
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/http/http-client.js';
import { type ScriptedServer, startScriptedServer } from '../support/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server that holds at most `capacity` requests at once (15 ms each) and answers 429 beyond. */
async function boundedServer(capacity: number) {
  const stats = { active: 0, peak: 0, served: 0, refused: [] as number[] };
  const s = await startScriptedServer((_req, res, index) => {
    if (stats.active >= capacity) {
      stats.refused.push(index);
      res.statusCode = 429;
      res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      return;
    }
    stats.active++;
    stats.peak = Math.max(stats.peak, stats.active);
    setTimeout(() => {
      stats.active--;
      stats.served++;
      res.end('ok');
    }, 15);
  });
  servers.push(s);
  return { url: s.url, stats, seen: s.seen };
}

describe('adaptive concurrency', () => {
  it('backs off below a registry that refuses more than N concurrent requests, and finishes everything', async () => {
    const N = 6;
    const TOTAL = 400;
    const server = await boundedServer(N);
    // Retries without waiting: the test is about how many are in flight, not about Retry-After.
    const c = new HttpClient({ concurrencyPerHost: 16, maxAttempts: 10, sleep: async () => {} });
    clients.push(c);
    const origin = new URL(server.url).origin;
    const limits: number[] = [];
    c.onResponse(() => limits.push(c.concurrency(origin)));

    const answers = await Promise.all(
      Array.from({ length: TOTAL }, (_, i) =>
        c.request({ method: 'GET', url: `${server.url}/x/${i}`, kind: 'blob' }),
      ),
    );

    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(server.stats.served).toBe(TOTAL);
    // Converged: over the second half the limit stays at or below what the server takes, but for
    // the probe one above it that AIMD makes now and then (and that earns the next cut).
    const late = limits.slice(Math.floor(limits.length / 2));
    expect(Math.max(...late)).toBeLessThanOrEqual(N + 1);
    expect(late.filter((l) => l <= N).length / late.length).toBeGreaterThan(0.8);
    // Refusals: the first burst (16 sent into 6 slots) and an occasional probe, not a steady ~60 %
    // (which a fixed limit of 16 would get).
    const attempts = server.seen.length;
    expect(server.stats.refused.length / attempts).toBeLessThan(0.15);
    const lateRefusals = server.stats.refused.filter((i) => i >= attempts / 2).length;
    expect(lateRefusals).toBeLessThan(TOTAL * 0.05);
  });

  it('goes back up to the configured limit once the registry stops refusing', async () => {
    let refuse = true;
    const s = await startScriptedServer((_req, res) => {
      res.statusCode = refuse ? 429 : 200;
      setTimeout(() => res.end(), 5);
    });
    servers.push(s);
    const c = new HttpClient({ concurrencyPerHost: 8, maxAttempts: 1, sleep: async () => {} });
    clients.push(c);
    const origin = new URL(s.url).origin;
    const send = (n: number) =>
      Promise.all(
        Array.from({ length: n }, () => c.request({ method: 'GET', url: `${s.url}/`, kind: 'other' })),
      );
    await send(8);
    for (let i = 0; i < 3; i++) await send(1);
    expect(c.concurrency(origin)).toBe(1);
    refuse = false;
    await send(200);
    expect(c.concurrency(origin)).toBe(8);
  });
});
