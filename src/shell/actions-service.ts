// One question to an Actions service (the cache, the artifact store) on our own HTTP client, to
// learn whether it is up before @actions/cache or @actions/artifact are given the work: those
// libraries retry a failing service with backoff, wait minutes on a socket that never answers and
// report a dead cache as a plain miss. A question costs one request and at most its time limit.
import type { z } from 'zod';
import { errorMessage, RegistryError } from '../errors.js';
import { HttpClient, type HttpRequest } from '../http/http-client.js';
import { seconds } from './time-limit.js';

export type ServiceEnv = Record<string, string | undefined>;

/**
 * Sends `request` once, within `limitMs`; why the service cannot be used (in words for a one-line
 * report), or undefined when it answered 2xx with what `answer` expects. Never throws.
 */
export async function askService(
  request: Omit<HttpRequest, 'kind' | 'timeoutMs'>,
  answer: z.ZodType | undefined,
  env: ServiceEnv,
  limitMs: number,
): Promise<string | undefined> {
  const http = new HttpClient({ maxAttempts: 1, timeoutMs: limitMs, maxBodyBytes: 1024 * 1024 });
  try {
    const res = await http.request({
      ...request,
      kind: 'other',
      headers: { ...request.headers, authorization: `Bearer ${env.ACTIONS_RUNTIME_TOKEN ?? ''}` },
    });
    if (res.status < 200 || res.status > 299) return `it answered HTTP ${res.status}`;
    if (answer && !answer.safeParse(parseJson(res.body)).success)
      return 'it answered something other than the service API';
    return undefined;
  } catch (err) {
    const code = err instanceof RegistryError ? err.details.code : undefined;
    if (code === 'ECONNREFUSED') return 'it refused the connection';
    if (code === 'TimeoutError') return `no answer within ${seconds(limitMs)}`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its host name does not resolve';
    return errorMessage(err).replace(/\s+/g, ' ').trim();
  } finally {
    await http.close();
  }
}

/** As the toolkit decides it: any server but github.com, *.ghe.com and *.localhost. */
export function onEnterpriseServer(env: ServiceEnv): boolean {
  const host = new URL(env.GITHUB_SERVER_URL || 'https://github.com').hostname.toLowerCase();
  return host !== 'github.com' && !host.endsWith('.ghe.com') && !host.endsWith('.localhost');
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
