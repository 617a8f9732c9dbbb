import { afterEach, describe, expect, it } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { HttpClient } from '../../src/http/http-client.js';
import { type Handler, type ScriptedServer, startScriptedServer } from '../support/scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Handler) {
  const s = await startScriptedServer(handler);
  servers.push(s);
  return s;
}

function client(opts: ConstructorParameters<typeof HttpClient>[0] = {}) {
  const waits: number[] = [];
  const c = new HttpClient({
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    ...opts,
  });
  clients.push(c);
  return { c, waits };
}

describe('HttpClient', () => {
  it('retries 503 and 502 with backoff, then returns the success', async () => {
    const s = await serve((_req, res, i) => {
      res.statusCode = i === 0 ? 503 : i === 1 ? 502 : 200;
      res.end(i < 2 ? 'busy' : 'ok');
    });
    const { c, waits } = client();
    const res = await c.request({ method: 'GET', url: `${s.url}/x`, kind: 'other' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
    expect(waits).toEqual([250, 500]);
    expect(c.retries).toBe(2);
    expect(c.counts.get('other')).toBe(3);
  });

  it('honours Retry-After in seconds and as an HTTP date on 429', async () => {
    const s = await serve((_req, res, i) => {
      if (i === 0) res.setHeader('retry-after', '3');
      if (i === 1) res.setHeader('retry-after', new Date(Date.now() + 5000).toUTCString());
      res.statusCode = i < 2 ? 429 : 200;
      res.end();
    });
    const { c, waits } = client();
    const res = await c.request({ method: 'GET', url: `${s.url}/`, kind: 'other' });
    expect(res.status).toBe(200);
    expect(waits[0]).toBe(3000);
    expect(waits[1]).toBeGreaterThan(3000);
    expect(waits[1]).toBeLessThanOrEqual(5000);
  });

  it('returns the 429 instead of waiting when the server asks for more than the cap', async () => {
    const s = await serve((_req, res) => {
      res.setHeader('retry-after', '3600');
      res.statusCode = 429;
      res.end();
    });
    const { c, waits } = client();
    const res = await c.request({ method: 'GET', url: `${s.url}/`, kind: 'other' });
    expect(res.status).toBe(429);
    expect(waits).toEqual([]);
    expect(s.seen).toHaveLength(1);
  });

  it('gives up after maxAttempts and returns the last answer', async () => {
    const s = await serve((_req, res) => {
      res.statusCode = 504;
      res.end();
    });
    const { c } = client({ maxAttempts: 3 });
    const res = await c.request({ method: 'GET', url: `${s.url}/`, kind: 'other' });
    expect(res.status).toBe(504);
    expect(s.seen).toHaveLength(3);
  });

  it('retries a connection reset mid-body', async () => {
    const s = await serve((req, res, i) => {
      if (i === 0) {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      res.end('whole');
    });
    const { c } = client();
    const res = await c.request({ method: 'GET', url: `${s.url}/`, kind: 'other' });
    expect(res.body.toString()).toBe('whole');
  });

  it('times out a server that stops sending, with a clear error', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      res.write('{');
    });
    const { c } = client({ maxAttempts: 2 });
    const err = await c
      .request({ method: 'GET', url: `${s.url}/v2/x`, kind: 'other', timeoutMs: 200 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/127\.0\.0\.1:\d+\/v2\/x: no complete answer within 0\.2 s/);
    expect(s.seen).toHaveLength(2);
  });

  it('refuses a body over the size cap, declared or streamed', async () => {
    const big = Buffer.alloc(2048, 'a');
    const s = await serve((req, res) => {
      if (req.url === '/declared') res.setHeader('content-length', String(big.length));
      res.end(big);
    });
    const { c } = client({ maxBodyBytes: 1024 });
    await expect(c.request({ method: 'GET', url: `${s.url}/declared`, kind: 'other' })).rejects.toThrow(
      /exceeds the 1024-byte limit/,
    );
    await expect(
      c.request({ method: 'GET', url: `${s.url}/streamed`, kind: 'other', maxBytes: 100 }),
    ).rejects.toThrow(/exceeds the 100-byte limit/);
  });

  it('drops Authorization on a redirect to another origin and keeps it on the same origin', async () => {
    const storage = await serve((_req, res) => res.end('blob'));
    const registry = await serve((req, res) => {
      if (req.url === '/same') {
        res.writeHead(307, { location: '/final' });
        return res.end();
      }
      if (req.url === '/final') return res.end('here');
      res.writeHead(307, { location: `${storage.url}/presigned?sig=1` });
      res.end();
    });
    const { c } = client();
    const headers = { authorization: 'Bearer secret-token' };
    const away = await c.request({ method: 'GET', url: `${registry.url}/away`, kind: 'blob', headers });
    expect(away.body.toString()).toBe('blob');
    expect(storage.seen[0]!.headers.authorization).toBeUndefined();
    const same = await c.request({ method: 'GET', url: `${registry.url}/same`, kind: 'blob', headers });
    expect(same.body.toString()).toBe('here');
    expect(registry.seen.find((r) => r.url === '/final')!.headers.authorization).toBe('Bearer secret-token');
  });

  it('reports a refused connection and an unresolvable host clearly, without retrying forever', async () => {
    const s = await serve((_req, res) => res.end());
    const port = new URL(s.url).port;
    await s.close();
    servers.length = 0;
    const { c } = client();
    await expect(
      c.request({ method: 'GET', url: `http://127.0.0.1:${port}/v2/`, kind: 'ping' }),
    ).rejects.toThrow(/cannot connect to 127\.0\.0\.1:\d+: connection refused/);
    await expect(
      c.request({ method: 'GET', url: 'http://no-such-host.invalid/v2/', kind: 'ping' }),
    ).rejects.toThrow(/cannot resolve host no-such-host\.invalid/);
  });

  it('bounds concurrency per host', async () => {
    let active = 0;
    let peak = 0;
    const s = await serve((_req, res) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        res.end();
      }, 20);
    });
    const { c } = client({ concurrencyPerHost: 3 });
    await Promise.all(
      Array.from({ length: 12 }, () => c.request({ method: 'GET', url: `${s.url}/`, kind: 'other' })),
    );
    expect(peak).toBe(3);
    c.setHostLimit(new URL(s.url).origin, 5);
    peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () => c.request({ method: 'GET', url: `${s.url}/`, kind: 'other' })),
    );
    expect(peak).toBe(5);
  });
});
