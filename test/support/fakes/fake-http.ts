// Plumbing every vendor fake needs alike (JSON answers, registry error bodies, Basic credentials,
// scripted 429s). Fakes differ in what they imitate of their vendor; how they write a JSON answer
// or read a Basic header is not part of that, so it lives here once.
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A JSON answer with its Content-Length; a HEAD gets the headers only. `headers` may replace the
 * content type (some vendors add a charset).
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(`${JSON.stringify(body)}\n`);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    ...headers,
    'Content-Length': String(bytes.length),
  });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

/** The Docker registry API's error body (Harbor's API answers the same shape, without detail). */
export function registryErrorBody(code: string, message: string) {
  return { errors: [{ code, message, detail: null }] };
}

/** Basic credentials from an Authorization header, or undefined. */
export function basicCredentials(header: string | undefined): { user: string; secret: string } | undefined {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** A 429 a test scripts: the next `times` requests whose path matches are refused. */
export interface RateLimit {
  path: RegExp;
  times: number;
  retryAfter?: string;
}

/**
 * Refuses the request with an HTML 429 (what the vendors' front proxies send, not JSON) when a
 * scripted limit matches its path, using up one of its times; true when it did.
 */
export function refuseScripted(
  limits: RateLimit[],
  req: IncomingMessage,
  res: ServerResponse,
  html: string,
): boolean {
  const limit = limits.find((l) => l.times > 0 && l.path.test(req.url ?? '/'));
  if (!limit) return false;
  limit.times--;
  res.writeHead(429, {
    'Content-Type': 'text/html',
    ...(limit.retryAfter !== undefined ? { 'Retry-After': limit.retryAfter } : {}),
  });
  res.end(html);
  return true;
}
