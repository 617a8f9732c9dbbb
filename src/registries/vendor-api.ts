// What the vendor REST clients (Docker Hub, Quay, Harbor, ACR, GCR, GHCR, ECR) do alike when they
// read a vendor API: tolerant JSON bodies, field names that changed between API versions, and the
// 429 / other-status errors (paging itself is the page walker's, src/http/page-walker.ts). Kept
// in one place so that the adapters word the same situation the same way and a fix to one reaches
// all.
import { RegistryError } from '../errors.js';
import type { HttpResponse, Tally } from '../http/http-client.js';
import type { VendorContext } from './registry-adapter.js';

/** A response body as JSON, or undefined when it is not JSON (an HTML error page, a proxy's text). */
export function jsonBody(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The first value that is a string (even an empty one): vendors renamed fields over versions. */
export function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string');
}

/**
 * A GET on a vendor's JSON API, counted as vendor traffic (not registry traffic) in the receipts.
 * `authorization` is added last so a caller's headers cannot replace it.
 */
export function vendorApiGet(
  ctx: VendorContext,
  url: string,
  opts: { authorization?: string; headers?: Record<string, string>; tally?: Tally | undefined },
): Promise<HttpResponse> {
  return ctx.http.request({
    method: 'GET',
    url,
    kind: 'vendor-api',
    timeoutMs: ctx.settings.timeoutMs,
    headers: {
      accept: 'application/json',
      ...opts.headers,
      ...(opts.authorization ? { authorization: opts.authorization } : {}),
    },
    ...(opts.tally ? { tally: opts.tally } : {}),
  });
}

/**
 * The error for a listing answered with 429 (after the client's own retries) or an unexpected
 * status; the vendor's 401/403/404 wording is the caller's, as the fixes differ per vendor.
 * `at` names the request ("Quay API host/path"), `status` is "HTTP n[: detail]".
 */
export function listingFailure(
  res: HttpResponse,
  vendor: string,
  at: string,
  what: string,
  status: string,
): RegistryError {
  if (res.status === 429) {
    const retry = res.headers['retry-after'];
    return new RegistryError(
      retry
        ? `${at}: rate-limited listing ${what} (HTTP 429); ${vendor} asks to wait ${/^\d+$/.test(retry) ? `${retry} s` : retry}, longer than a run waits; run again later`
        : `${at}: rate-limited listing ${what} (HTTP 429) and still limited after retries; run again later or lower concurrency`,
      { status: 429, retryable: true },
    );
  }
  return new RegistryError(`${at}: ${status} listing ${what}`, {
    status: res.status,
    retryable: res.status >= 500,
  });
}
