// A counting, latency-adding reverse proxy in front of the registry. Every request waits `delayMs`
// (a stand-in for a real network round trip) and is then forwarded over keep-alive connections;
// status, headers (raw, in order, hop-by-hop ones dropped) and bodies pass through untouched, so
// HEAD answers keep their Content-Length and redirects reach the client as the registry sent them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const PROXY_KINDS = [
  'ping',
  'catalog',
  'tags',
  'manifest-get',
  'manifest-head',
  'blob-get',
  'referrers',
  'other',
] as const;
export type ProxyKind = (typeof PROXY_KINDS)[number];
export type KindCounts = Record<ProxyKind, number>;

export function emptyCounts(): KindCounts {
  return Object.fromEntries(PROXY_KINDS.map((k) => [k, 0])) as KindCounts;
}

export function classify(method: string | undefined, rawUrl: string | undefined): ProxyKind {
  const path = (rawUrl ?? '').split('?')[0]!;
  if (path === '/v2/' || path === '/v2') return 'ping';
  if (path === '/v2/_catalog') return 'catalog';
  if (/^\/v2\/.+\/tags\/list$/.test(path)) return 'tags';
  if (/^\/v2\/.+\/manifests\/[^/]+$/.test(path)) {
    if (method === 'GET') return 'manifest-get';
    if (method === 'HEAD') return 'manifest-head';
    return 'other';
  }
  if (/^\/v2\/.+\/blobs\/[^/]+$/.test(path) && method === 'GET') return 'blob-get';
  if (/^\/v2\/.+\/referrers\/[^/]+$/.test(path)) return 'referrers';
  return 'other';
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Raw header pairs without the hop-by-hop ones (and without any the Connection header names). */
function endToEnd(raw: string[]): string[] {
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      for (const n of raw[i + 1]!.split(',')) named.add(n.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

export interface Concurrency {
  /** Most requests the proxy held at once (waiting out the delay or forwarded). */
  peakInFlight: number;
  /** Time-weighted mean of requests in flight between the first request and the last answer. */
  meanInFlight: number;
  /** Registry time per request, from forwarding to the end of the answer: mean and 95th percentile. */
  upstreamMeanMs: number;
  upstreamP95Ms: number;
}

export interface CountingProxy {
  url: string;
  concurrency(): Concurrency;
  /** Counts since the last reset. */
  counts(): KindCounts;
  /** Manifest GETs answered 304 Not Modified (a conditional GET for a known tag): no body sent. */
  notModified(): number;
  total(): number;
  reset(): void;
  /** Requests that failed inside the proxy (upstream errors, aborted clients). */
  errors(): string[];
  stop(): Promise<void>;
}

export async function startCountingProxy(upstreamUrl: string, delayMs: number): Promise<CountingProxy> {
  const upstream = new URL(upstreamUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  let counts = emptyCounts();
  let notModified = 0;
  const errors: string[] = [];
  let inFlight = 0;
  let peak = 0;
  let area = 0;
  let firstAt = 0;
  let lastAt = 0;
  let upstreamMs: number[] = [];
  const step = (delta: number) => {
    const now = performance.now();
    if (inFlight === 0 && delta > 0 && firstAt === 0) firstAt = now;
    if (lastAt > 0) area += inFlight * (now - lastAt);
    lastAt = now;
    inFlight += delta;
    peak = Math.max(peak, inFlight);
  };

  const server = http.createServer((req, res) => {
    const kind = classify(req.method, req.url);
    counts[kind]++;
    step(+1);
    const timer = setTimeout(forward, delayMs);
    let upstreamReq: http.ClientRequest | undefined;
    let forwardedAt = 0;
    res.on('close', () => {
      step(-1);
      clearTimeout(timer);
      if (forwardedAt > 0) upstreamMs.push(performance.now() - forwardedAt);
      if (!res.writableFinished) upstreamReq?.destroy();
    });

    function forward(): void {
      forwardedAt = performance.now();
      const up = http.request(
        {
          protocol: upstream.protocol,
          hostname: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          // The client's Host is kept, as a transparent reverse proxy does: any URL the registry
          // builds from it (Location headers) points back at the proxy.
          headers: endToEnd(req.rawHeaders),
          agent,
        },
        (ures) => {
          if (ures.statusCode === 304 && kind === 'manifest-get') notModified++;
          res.writeHead(ures.statusCode ?? 502, ures.statusMessage, endToEnd(ures.rawHeaders));
          ures.pipe(res);
          ures.on('error', (err) => {
            errors.push(`${req.method} ${req.url}: upstream body: ${err.message}`);
            res.destroy(err);
          });
        },
      );
      upstreamReq = up;
      up.on('error', (err) => {
        errors.push(`${req.method} ${req.url}: ${err.message}`);
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`proxy: ${err.message}\n`);
        } else {
          res.destroy(err);
        }
      });
      req.pipe(up);
    }
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    notModified: () => notModified,
    concurrency: () => {
      const sorted = [...upstreamMs].sort((a, b) => a - b);
      const span = lastAt - firstAt;
      return {
        peakInFlight: peak,
        meanInFlight: span > 0 ? area / span : 0,
        upstreamMeanMs: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0,
        upstreamP95Ms: sorted.length
          ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!
          : 0,
      };
    },
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    reset: () => {
      counts = emptyCounts();
      notModified = 0;
      errors.length = 0;
      peak = 0;
      area = 0;
      firstAt = 0;
      lastAt = 0;
      upstreamMs = [];
    },
    errors: () => [...errors],
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      agent.destroy();
    },
  };
}
