// The one place that talks HTTP. Keep-alive pools per origin (undici Agent), bounded concurrency
// per host, per-request timeouts, retries that honour Retry-After, a cap on body size, and
// redirects followed by hand so credentials never leave the origin they were meant for.
import { EventEmitter } from 'node:events';
import { Agent, type Dispatcher } from 'undici';
import { RegistryError } from '../errors.js';
import { AdaptiveLimit } from './adaptive-limit.js';
import { askedWaitMs } from './retry-after.js';
import { Semaphore } from './semaphore.js';

export type RequestKind =
  | 'ping'
  | 'catalog'
  | 'tags'
  | 'manifest-head'
  | 'manifest'
  | 'blob'
  | 'token'
  | 'vendor-api'
  | 'referrers'
  /**
   * The run's one question whether a registry has the referrers API. Not a listing: it is asked
   * of whichever repository comes first, so a stored answer would rarely match the next run's.
   */
  | 'referrers-probe'
  /** A retention delete (a manifest, a tag, a package version). */
  | 'delete'
  | 'devgraph'
  | 'other';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  url: string;
  kind: RequestKind;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
  maxBytes?: number;
  /** Counts every attempt of this request (retries included) for a per-repository receipt. */
  tally?: Tally;
}

export interface Tally {
  requests: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The URL that finally answered (after redirects). */
  url: string;
}

/**
 * What the client asks of the stored listing pages (Revalidator, revalidation.ts): the
 * If-None-Match to send with a request, and the answer to hand back for the one it got.
 */
export interface PageRevalidation {
  condition(req: HttpRequest): string | undefined;
  settle(req: HttpRequest, sentCondition: string | undefined, res: HttpResponse): HttpResponse;
}

export interface HttpOptions {
  timeoutMs?: number;
  concurrencyPerHost?: number;
  /** Total tries for a retryable failure, the first one included. */
  maxAttempts?: number;
  maxBodyBytes?: number;
  /** A server asking us to wait longer than this is reported, not waited on. */
  maxRetryAfterMs?: number;
  baseBackoffMs?: number;
  dispatcher?: Dispatcher;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/**
 * Registries answer 500 for passing storage-backend failures (Distribution on S3/GCS), so a short
 * burst of 500s must not cost a repository; but a 500 to a POST may have had its effect, so only
 * requests that are safe to repeat are retried on it.
 */
const RETRYABLE_IF_IDEMPOTENT = new Set([500]);
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ETIMEDOUT',
  'TimeoutError',
]);
const MAX_REDIRECTS = 5;

export class HttpClient {
  readonly counts = new Map<RequestKind, number>();
  retries = 0;
  private readonly hosts = new Map<string, Semaphore>();
  /** Per origin: how many requests its answers say it takes now (adaptive-limit.ts). */
  private readonly adaptive = new Map<string, AdaptiveLimit>();
  private readonly listeners: Array<(req: HttpRequest, res: HttpResponse) => void> = [];
  private readonly hostLimits = new Map<string, number>();
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly opts: Required<Omit<HttpOptions, 'dispatcher'>>;
  /** Stored listing pages to revalidate with If-None-Match (from the state of the previous run). */
  revalidator: PageRevalidation | undefined;

  constructor(options: HttpOptions = {}) {
    this.opts = {
      timeoutMs: options.timeoutMs ?? 30_000,
      concurrencyPerHost: options.concurrencyPerHost ?? 16,
      maxAttempts: options.maxAttempts ?? 4,
      maxBodyBytes: options.maxBodyBytes ?? 32 * 1024 * 1024,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      baseBackoffMs: options.baseBackoffMs ?? 250,
      sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      random: options.random ?? Math.random,
    };
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher =
      options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });
  }

  /** Sets the concurrency bound for one origin (e.g. a provider's configured `concurrency`). */
  setHostLimit(origin: string, limit: number): void {
    this.hostLimits.set(origin, limit);
    this.adaptive.get(origin)?.setCeiling(limit);
    this.hosts.get(origin)?.setLimit(limit);
  }

  /** Sees every response (each attempt), e.g. to read rate-limit headers; must not throw. */
  onResponse(listener: (req: HttpRequest, res: HttpResponse) => void): void {
    this.listeners.push(listener);
  }

  /** The longest wait a server may ask for and get; a longer ask comes back as the answer, not retried. */
  get maxRetryAfterMs(): number {
    return this.opts.maxRetryAfterMs;
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /**
   * Sends a request, following redirects and retrying transient failures. Any HTTP status is
   * returned to the caller; only network failures and exhausted retries throw.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    const condition = this.revalidator?.condition(req);
    // Object.assign, not spreads: an object literal that starts with a spread and goes on gets a
    // hidden class of its own in V8, one per request (old space, bench --scale).
    let headers: Record<string, string> = Object.assign(
      {},
      req.headers,
      condition ? { 'if-none-match': condition } : undefined,
    );
    const origin = new URL(req.url).origin;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await this.withRetries(Object.assign({}, req, { url, headers }));
      if (![301, 302, 303, 307, 308].includes(res.status) || !res.headers.location)
        return this.revalidator ? this.revalidator.settle(req, condition, res) : res;
      const target = new URL(res.headers.location, url);
      if (target.protocol !== 'https:' && target.protocol !== 'http:') {
        throw new RegistryError(
          `${describeUrl(url)} redirected to an unsupported URL scheme ${target.protocol}`,
        );
      }
      // Presigned storage URLs (S3, CDNs) reject or leak a registry token: credentials stay home.
      if (target.origin !== origin) {
        const { authorization: _drop, Authorization: _drop2, ...rest } = headers;
        headers = rest;
      }
      url = target.toString();
    }
    throw new RegistryError(`${describeUrl(req.url)}: more than ${MAX_REDIRECTS} redirects`);
  }

  private semaphoreFor(origin: string): Semaphore {
    let s = this.hosts.get(origin);
    if (!s) {
      s = new Semaphore(this.hostLimits.get(origin) ?? this.opts.concurrencyPerHost);
      this.hosts.set(origin, s);
    }
    return s;
  }

  private async withRetries(req: HttpRequest): Promise<HttpResponse> {
    const sem = this.semaphoreFor(new URL(req.url).origin);
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse | undefined;
      let failure: unknown;
      try {
        res = await sem.run(() => this.adapting(sem, req));
      } catch (err) {
        failure = err;
      }
      const last = attempt >= this.opts.maxAttempts;
      const idempotent = req.method === 'GET' || req.method === 'HEAD';
      if (
        res &&
        !RETRYABLE_STATUS.has(res.status) &&
        !(idempotent && RETRYABLE_IF_IDEMPOTENT.has(res.status))
      )
        return res;
      if (failure && (!isRetryableError(failure) || last)) throw toRegistryError(failure, req);
      let wait = this.backoff(attempt);
      if (res) {
        const asked = askedWaitMs(res.headers);
        if (asked !== undefined && asked > this.opts.maxRetryAfterMs) return res;
        if (last) return res;
        if (asked !== undefined) wait = Math.max(wait, asked);
      }
      this.retries++;
      await this.opts.sleep(wait);
    }
  }

  /** Requests an origin is allowed in flight right now (its adaptive limit). */
  concurrency(origin: string): number {
    return this.adaptive.get(origin)?.limit ?? this.hostLimits.get(origin) ?? this.opts.concurrencyPerHost;
  }

  /** One attempt whose answer, latency or timeout resizes its origin's semaphore. */
  private async adapting(sem: Semaphore, req: HttpRequest): Promise<HttpResponse> {
    const origin = new URL(req.url).origin;
    let limit = this.adaptive.get(origin);
    if (!limit) {
      limit = new AdaptiveLimit({ ceiling: this.hostLimits.get(origin) ?? this.opts.concurrencyPerHost });
      this.adaptive.set(origin, limit);
    }
    const ticket = limit.start();
    const started = performance.now();
    const answer = { kind: req.kind, latencyMs: 0 };
    try {
      const res = await this.once(req);
      answer.latencyMs = performance.now() - started;
      sem.setLimit(
        limit.answered(ticket, Object.assign({}, answer, { status: res.status, headers: res.headers })),
      );
      return res;
    } catch (err) {
      answer.latencyMs = performance.now() - started;
      sem.setLimit(
        limit.answered(ticket, Object.assign({}, answer, { timedOut: errorCode(err) === 'TimeoutError' })),
      );
      throw err;
    }
  }

  private backoff(attempt: number): number {
    const base = this.opts.baseBackoffMs * 2 ** (attempt - 1);
    return Math.round(base / 2 + this.opts.random() * base);
  }

  private async once(req: HttpRequest): Promise<HttpResponse> {
    this.counts.set(req.kind, (this.counts.get(req.kind) ?? 0) + 1);
    if (req.tally) req.tally.requests++;
    const timeoutMs = req.timeoutMs ?? this.opts.timeoutMs;
    const maxBytes = req.maxBytes ?? this.opts.maxBodyBytes;
    // The deadline is an EventEmitter (undici takes one in place of an AbortSignal) on a timer
    // cleared the moment the answer is in. An AbortSignal that undici has listened to outlives
    // young-generation collections (Node keeps it for a full one), and AbortSignal.timeout keeps
    // its timer for the whole timeout besides: per request, that was the largest share of the
    // garbage a run left for full collections (docs/performance.md, "Memory: what shaped the code").
    const deadline = new Deadline();
    const timer = setTimeout(() => deadline.expire(), timeoutMs);
    timer.unref();
    try {
      const target = new URL(req.url);
      const res = await this.dispatcher.request({
        origin: target.origin,
        path: target.pathname + target.search,
        method: req.method,
        headers: { 'user-agent': 'devgraph-docker-action', ...(req.headers ?? {}) },
        body: req.body,
        signal: deadline,
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      }
      const declared = Number(headers['content-length']);
      if (req.method !== 'HEAD' && Number.isFinite(declared) && declared > maxBytes) {
        discard(res.body);
        throw new RegistryError(
          `${describeUrl(req.url)}: response of ${declared} bytes exceeds the ${maxBytes}-byte limit`,
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += chunk.length;
        if (size > maxBytes) {
          discard(res.body);
          throw new RegistryError(`${describeUrl(req.url)}: response exceeds the ${maxBytes}-byte limit`);
        }
        chunks.push(chunk as Buffer);
      }
      const response = { status: res.statusCode, headers, body: Buffer.concat(chunks), url: req.url };
      for (const listener of this.listeners) listener(req, response);
      return response;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What undici reads of a signal: `aborted`, `reason` and an 'abort' event. */
class Deadline extends EventEmitter {
  aborted = false;
  reason: unknown;

  expire(): void {
    this.aborted = true;
    // The reason AbortSignal.timeout gives, so a timeout reads the same everywhere (errorCode).
    this.reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    this.emit('abort');
  }
}

/** Abandons a body we will not read; the abort it causes is expected, not an error. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function errorCode(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: string; name?: string; cause?: unknown };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'TimeoutError';
  return e.code ?? errorCode(e.cause);
}

function isRetryableError(err: unknown): boolean {
  if (err instanceof RegistryError) return false;
  const code = errorCode(err);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** Host and path of a URL, never its query (pagination cursors, tokens) or userinfo. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function toRegistryError(err: unknown, req: HttpRequest): RegistryError {
  if (err instanceof RegistryError) return err;
  const code = errorCode(err);
  const host = new URL(req.url).host;
  const what = describeUrl(req.url);
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RegistryError(`cannot resolve host ${host} (DNS lookup failed); check the registry URL`, {
        code,
      });
    case 'ECONNREFUSED':
      return new RegistryError(
        `cannot connect to ${host}: connection refused; is the registry running and the URL right?`,
        { code },
      );
    case 'TimeoutError':
      return new RegistryError(
        `${what}: no complete answer within ${(req.timeoutMs ?? 0) / 1000 || 'the configured'} s (timeout)`,
        {
          code,
          retryable: true,
        },
      );
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'EPIPE':
      return new RegistryError(`${what}: the connection was reset before the answer was complete`, {
        code,
        retryable: true,
      });
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return new RegistryError(`${what}: request failed: ${message}`, { code });
    }
  }
}
