// Seeds a real registry with byte-exact content using plain `fetch`. Deliberately independent of
// the project's own HTTP/OCI client (src/), which is what the seeded registry is used to test.
import type { Content, RepositoryContent } from '../../src/demo/image-builder.js';
import { mapLimit } from '../../src/http/semaphore.js';
import type { RunningRegistry } from './registry-process.js';

export { mapLimit };

export interface Credentials {
  username: string;
  password: string;
}

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

function basic(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/** The credentials to use: the given ones, else the registry's first user (basic/token modes). */
export function defaultCredentials(registry: RunningRegistry, creds?: Credentials): Credentials | undefined {
  if (creds) return creds;
  const first = Object.entries(registry.users)[0];
  return first ? { username: first[0], password: first[1] } : undefined;
}

/** GET a bearer token from the registry's token server (Basic credentials when given). */
export async function fetchToken(
  registry: RunningRegistry,
  scopes: string[],
  creds?: Credentials,
): Promise<string> {
  const ts = registry.tokenServer;
  if (!ts) throw new Error('registry is not in token mode');
  const u = new URL(ts.realm);
  u.searchParams.set('service', ts.service);
  for (const s of scopes) u.searchParams.append('scope', s);
  if (creds) u.searchParams.set('account', creds.username);
  const res = await fetch(u, { headers: creds ? { Authorization: basic(creds) } : {} });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${text}`);
  const body = JSON.parse(text) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new Error(`token response without a token: ${text}`);
  return token;
}

/**
 * The Authorization header value for `scopes` in the registry's auth mode: undefined (open),
 * Basic, or a freshly fetched Bearer token.
 */
export async function authorization(
  registry: RunningRegistry,
  scopes: string[],
  creds?: Credentials,
): Promise<string | undefined> {
  const c = defaultCredentials(registry, creds);
  if (registry.auth === 'open') return undefined;
  if (!c) throw new Error(`registry in ${registry.auth} mode but no credentials`);
  if (registry.auth === 'basic') return basic(c);
  return `Bearer ${await fetchToken(registry, scopes, c)}`;
}

async function expectStatus(res: Response, ok: number[], what: string): Promise<void> {
  if (ok.includes(res.status)) {
    await res.arrayBuffer();
    return;
  }
  const text = await res.text().catch(() => '');
  throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 500)}`);
}

export interface PushOptions {
  /** Requests in flight at once (default 8). */
  concurrency?: number;
}

/**
 * Pushes blobs, then manifests (in the given order; an index waits for everything before it),
 * then tags (re-PUT of the exact manifest bytes under the tag), with bounded parallelism.
 */
export async function pushRepository(
  registry: RunningRegistry,
  repo: RepositoryContent,
  creds?: Credentials,
  options: PushOptions = {},
): Promise<void> {
  const limit = options.concurrency ?? 8;
  const scope = `repository:${repo.name}:pull,push`;
  let auth = await authorization(registry, [scope], creds);

  // One retry with a fresh token when a request is rejected (e.g. a short-lived token expired).
  const send = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const attempt = () =>
      fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...(auth ? { Authorization: auth } : {}) },
      });
    let res = await attempt();
    if (res.status === 401 && registry.auth === 'token') {
      await res.arrayBuffer();
      auth = await authorization(registry, [scope], creds);
      res = await attempt();
    }
    return res;
  };

  const base = `${registry.url}/v2/${repo.name}`;
  const pushBlob = async (blob: Content) => {
    const head = await send(`${base}/blobs/${blob.digest}`, { method: 'HEAD' });
    await head.arrayBuffer();
    if (head.status === 200) return;
    const start = await send(`${base}/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location');
    await expectStatus(start, [202], `start upload of ${blob.digest} to ${repo.name}`);
    if (!location) throw new Error(`upload of ${blob.digest} to ${repo.name}: 202 without Location`);
    const put = new URL(location, registry.url);
    put.searchParams.set('digest', blob.digest);
    const res = await send(put.toString(), {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: new Uint8Array(blob.bytes),
    });
    await expectStatus(res, [201], `upload of ${blob.digest} to ${repo.name}`);
  };
  const putManifest = async (ref: string, m: Content) => {
    const res = await send(`${base}/manifests/${ref}`, {
      method: 'PUT',
      headers: { 'Content-Type': m.mediaType },
      body: new Uint8Array(m.bytes),
    });
    await expectStatus(res, [201], `PUT manifest ${repo.name}:${ref}`);
    const got = res.headers.get('docker-content-digest');
    if (got && got !== m.digest)
      throw new Error(`PUT ${repo.name}:${ref}: registry computed ${got}, expected ${m.digest}`);
  };

  await mapLimit(repo.blobs, limit, pushBlob);

  // Plain manifests go in parallel batches; an index is only pushed once everything before it is in.
  let batch: Content[] = [];
  for (const m of repo.manifests) {
    if (!INDEX_TYPES.has(m.mediaType)) {
      batch.push(m);
      continue;
    }
    await mapLimit(batch, limit, (c) => putManifest(c.digest, c));
    batch = [];
    await putManifest(m.digest, m);
  }
  await mapLimit(batch, limit, (c) => putManifest(c.digest, c));

  const byDigest = new Map(repo.manifests.map((m) => [m.digest, m]));
  const tags = Object.entries(repo.tags).map(([tag, digest]) => {
    const m = byDigest.get(digest);
    if (!m)
      throw new Error(
        `${repo.name}:${tag} points at ${digest}, which is not among the repository's manifests`,
      );
    return { tag, m };
  });
  await mapLimit(tags, limit, ({ tag, m }) => putManifest(tag, m));
}

/** Pushes several repositories one after another. */
export async function pushRepositories(
  registry: RunningRegistry,
  repos: RepositoryContent[],
  creds?: Credentials,
  options: PushOptions = {},
): Promise<void> {
  for (const repo of repos) await pushRepository(registry, repo, creds, options);
}
