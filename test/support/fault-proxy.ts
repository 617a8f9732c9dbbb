// A reverse proxy that stands between the code under test and a real registry (or a vendor fake)
// and breaks chosen answers on purpose: rate limits, 5xx bursts, resets mid-body, stalls, broken
// or oversized bodies, hostile Link headers and redirects, tokens that stop being accepted. Every
// answer it does not break is the upstream's own, byte for byte, so a run through the proxy with
// no faults must produce the same graph as a run without it. Faults are scripted per request:
// method + path regex, and which occurrences of that match (the nth, a list, the first n, or all).
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which matching requests a rule breaks, counted from 1 per rule. */
export type Occurrence = 'all' | number | readonly number[] | { first: number };

export type Fault =
  /** Answer without asking upstream. `headers` may be a function: evaluated per answer (dates). */
  | {
      type: 'respond';
      status: number;
      headers?: Record<string, string> | (() => Record<string, string>);
      body?: string | Buffer;
    }
  /** Forward, then change the answer; Content-Length is recomputed. A header set to null is removed. */
  | {
      type: 'rewrite';
      status?: number;
      body?: (body: Buffer) => Buffer | string;
      headers?: Record<string, string | null>;
    }
  /** Forward; send the upstream status, headers and the first `afterBytes` of the body, then drop the socket. */
  | { type: 'reset'; afterBytes?: number }
  /** Forward; send status, headers and `afterBytes` of the body, then nothing more (until close). */
  | { type: 'stall'; afterBytes?: number }
  /** A 200 whose body is `bytes` of filler, streamed as fast as the client reads; `declare` sets Content-Length. */
  | { type: 'flood'; bytes: number; declare?: boolean; contentType?: string }
  /** Redirect elsewhere; `location` may depend on the request path. */
  | { type: 'redirect'; status?: 301 | 302 | 303 | 307 | 308; location: string | ((path: string) => string) }
  /**
   * The token this request carries expires now: this request and every later one that presents it
   * get 401 with the registry's Bearer challenge (the last one seen from upstream, or `challenge`).
   */
  | { type: 'expire-token'; challenge?: string };

export interface FaultRule {
  /** Exact method (GET, HEAD…); any when omitted. */
  method?: string;
  /** Tested against the request's path and query, as the client sent them. */
  path: RegExp;
  /** Default 'all'. */
  on?: Occurrence;
  fault: Fault;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  authorization?: string;
  /** The fault applied, if any ('expired-token' for a token expired by an earlier request). */
  fault?: Fault['type'] | 'expired-token';
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  requests: ProxiedRequest[];
  /** Replaces the rules and restarts their occurrence counts (expired tokens stay expired). */
  script(rules: FaultRule[]): void;
  close(): Promise<void>;
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

// Per hop (RFC 9110 §7.6.1), or recomputed here because the body is re-sent whole.
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

function fires(on: Occurrence, n: number): boolean {
  if (on === 'all') return true;
  if (typeof on === 'number') return n === on;
  if (Array.isArray(on)) return on.includes(n);
  return n <= (on as { first: number }).first;
}

function forwardHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !NOT_FORWARDED.has(k)) out[k] = v;
  return out;
}

export async function startFaultProxy(upstreamUrl: string, initial: FaultRule[] = []): Promise<FaultProxy> {
  const upstream = new URL(upstreamUrl);
  const requests: ProxiedRequest[] = [];
  let rules: Array<{ rule: FaultRule; seen: number }> = [];
  const expired = new Set<string>();
  let lastChallenge: string | undefined;

  const script = (next: FaultRule[]) => {
    rules = next.map((rule) => ({ rule, seen: 0 }));
  };
  script(initial);

  /** The rule breaking this request: every matching rule counts it, the first that fires wins. */
  function pick(method: string, path: string): Fault | undefined {
    let chosen: Fault | undefined;
    for (const r of rules) {
      if ((r.rule.method && r.rule.method !== method) || !r.rule.path.test(path)) continue;
      r.seen++;
      if (!chosen && fires(r.rule.on ?? 'all', r.seen)) chosen = r.rule.fault;
    }
    return chosen;
  }

  function forward(req: IncomingMessage, body: Buffer): Promise<Upstream> {
    return new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...forwardHeaders(req.headers), host: upstream.host },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const challenge = res.headers['www-authenticate'];
            if (res.statusCode === 401 && typeof challenge === 'string' && /^bearer/i.test(challenge))
              lastChallenge = challenge;
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }

  function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Buffer): void {
    const head = res.req.method === 'HEAD';
    res.writeHead(status, {
      ...headers,
      // A HEAD keeps the length upstream declared for the body it did not send.
      ...(head && headers['content-length'] !== undefined ? {} : { 'content-length': String(body.length) }),
    });
    res.end(head ? undefined : body);
  }

  function unauthorized(res: ServerResponse, challenge: string | undefined): void {
    const body = JSON.stringify({
      errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }],
    });
    send(
      res,
      401,
      { 'content-type': 'application/json', ...(challenge ? { 'www-authenticate': challenge } : {}) },
      Buffer.from(body),
    );
  }

  /** Status, headers and part of the body, then `then` (drop the socket, or leave it hanging). */
  function partial(
    res: ServerResponse,
    up: Upstream,
    afterBytes: number | undefined,
    then: () => void,
  ): void {
    const cut = Math.min(afterBytes ?? Math.floor(up.body.length / 2), Math.max(0, up.body.length - 1));
    res.writeHead(up.status, { ...forwardHeaders(up.headers), 'content-length': String(up.body.length) });
    // The headers and the first bytes must reach the client before the socket goes: flushHeaders
    // alone does not guarantee it, the write callback does.
    res.write(up.body.subarray(0, cut), () => then());
  }

  function flood(res: ServerResponse, fault: Extract<Fault, { type: 'flood' }>): void {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    res.writeHead(200, {
      'content-type': fault.contentType ?? 'application/json',
      ...(fault.declare ? { 'content-length': String(fault.bytes) } : {}),
    });
    let left = fault.bytes;
    // Written as the client reads (backpressure), so a client that gives up stops the flood.
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    res.on('close', () => {
      left = 0;
    });
    pump();
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const authorization = req.headers.authorization;
    const record: ProxiedRequest = { method, path, ...(authorization ? { authorization } : {}) };
    requests.push(record);

    if (authorization && expired.has(authorization)) {
      record.fault = 'expired-token';
      return unauthorized(res, lastChallenge);
    }
    const fault = pick(method, path);
    if (fault) record.fault = fault.type;
    switch (fault?.type) {
      case 'respond': {
        const headers = typeof fault.headers === 'function' ? fault.headers() : (fault.headers ?? {});
        return send(res, fault.status, headers, Buffer.from(fault.body ?? ''));
      }
      case 'redirect': {
        const location = typeof fault.location === 'function' ? fault.location(path) : fault.location;
        return send(res, fault.status ?? 307, { location }, Buffer.alloc(0));
      }
      case 'flood':
        return flood(res, fault);
      case 'expire-token':
        if (authorization) expired.add(authorization);
        return unauthorized(res, fault.challenge ?? lastChallenge);
      default:
        break;
    }

    let up: Upstream;
    try {
      up = await forward(req, body);
    } catch (err) {
      return send(res, 502, { 'content-type': 'text/plain' }, Buffer.from(`fault proxy: ${String(err)}`));
    }
    switch (fault?.type) {
      case 'rewrite': {
        const headers = forwardHeaders(up.headers);
        for (const [k, v] of Object.entries(fault.headers ?? {})) {
          if (v === null) delete headers[k.toLowerCase()];
          else headers[k.toLowerCase()] = v;
        }
        const changed = fault.body ? fault.body(up.body) : up.body;
        delete headers['content-length'];
        return send(res, fault.status ?? up.status, headers, Buffer.from(changed));
      }
      case 'reset':
        return partial(res, up, fault.afterBytes, () => res.socket?.destroy());
      case 'stall':
        return partial(res, up, fault.afterBytes, () => {});
      default:
        return send(
          res,
          up.status,
          {
            ...forwardHeaders(up.headers),
            ...(up.headers['content-length'] ? { 'content-length': up.headers['content-length'] } : {}),
          },
          up.body,
        );
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fault proxy failed: ${String(err)}`);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        // Stalled answers never end on their own.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
