// The Actions results service as @actions/cache (cache service v2) and @actions/artifact talk to
// it, on loopback: Twirp JSON calls under /twirp/<service>/<method> with the runtime token as
// Bearer, and the blob storage behind the signed URLs those calls hand out (Azure Blob: a whole
// blob in one PUT, or blocks staged with ?comp=block and committed with ?comp=blocklist; GET and
// HEAD to read one back). Of cache service v1 only the lookup, which finds nothing.
// Rules kept from the real service:
// - a cache entry is its key and version (a hash of the paths and compression); a lookup tries
//   the key exactly, then each restore key as a prefix, newest entry first; { ok: false } is a miss;
// - an entry is written once: creating one that exists is a Twirp already_exists error;
// - an artifact is created for the workflow run and job named in the token's scp claim.
// Modes, for the service calls (`mode`) or the blob storage (`blobMode`):
//   normal; unavailable (503 Service Unavailable); refused (nothing listens on the port);
//   hang (the connection is accepted and never answered).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { sendJson } from './fake-http.js';

export type ServiceMode = 'normal' | 'unavailable' | 'refused' | 'hang';

export interface CacheEntryRecord {
  key: string;
  version: string;
  blob: string;
  size: number;
}

export interface ArtifactRecord {
  id: number;
  name: string;
  blob: string;
  size: string;
  hash?: string;
}

export interface ActionsResultsFake {
  url: string;
  /** The variables the toolkit reads, for process.env. */
  env: Record<string, string>;
  mode: ServiceMode;
  blobMode: ServiceMode;
  entries: CacheEntryRecord[];
  artifacts: ArtifactRecord[];
  blobs: Map<string, Buffer>;
  /** Every request that reached the server: method and path, no query. */
  seen: string[];
  /** 'refused' closes the port and any other mode opens it again, so set modes through this. */
  setMode(mode: ServiceMode, part?: 'service' | 'blob'): Promise<void>;
  close(): Promise<void>;
}

const RUN_BACKEND_ID = 'c4d7a1e2-0b5f-4c2e-9a51-7f3e2d1c0b9a';
const JOB_BACKEND_ID = 'a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d';

/** Looks like the runner's token: a JWT whose scp claim names the run and job backend ids. */
export function runtimeToken(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = {
    scp: `Actions.ExampleScope Actions.Results:${RUN_BACKEND_ID}:${JOB_BACKEND_ID}`,
    iss: 'vstoken.actions.githubusercontent.com',
  };
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}.${Buffer.from('fake-signature').toString('base64url')}`;
}

export async function startActionsResultsFake(): Promise<ActionsResultsFake> {
  const token = runtimeToken();
  const sockets = new Set<Socket>();
  const staged = new Map<string, Map<string, Buffer>>();
  let server: Server | undefined;
  let port = 0;
  let nextId = 1;

  const fake: ActionsResultsFake = {
    url: '',
    env: {},
    mode: 'normal',
    blobMode: 'normal',
    entries: [],
    artifacts: [],
    blobs: new Map(),
    seen: [],
    async setMode(mode, part = 'service') {
      if (part === 'service') fake.mode = mode;
      else fake.blobMode = mode;
      const refused = fake.mode === 'refused' || fake.blobMode === 'refused';
      if (refused && server) await stop();
      if (!refused && !server) await listen();
    },
    async close() {
      await stop();
    },
  };

  async function listen(): Promise<void> {
    const s = createServer((req, res) => {
      void handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { code: 'internal', msg: String(err) });
      });
    });
    s.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    port = (s.address() as AddressInfo).port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (!s) return;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', fake.url);
    fake.seen.push(`${req.method} ${url.pathname}`);
    const twirp = /^\/twirp\/github\.actions\.results\.api\.v1\.(CacheService|ArtifactService)\/(\w+)$/.exec(
      url.pathname,
    );
    const mode = url.pathname.startsWith('/blob/') ? fake.blobMode : fake.mode;
    if (mode === 'hang') return;
    const body = await readBody(req);
    if (mode === 'unavailable') {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('Service Unavailable');
      return;
    }
    if (twirp) {
      if (req.method !== 'POST') return twirpError(res, 404, 'bad_route', 'Twirp calls are POSTs');
      if (req.headers.authorization !== `Bearer ${token}`)
        return twirpError(res, 401, 'unauthenticated', 'invalid or missing runtime token');
      const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      return twirp[1] === 'CacheService'
        ? cacheCall(twirp[2]!, input, res)
        : artifactCall(twirp[2]!, input, res);
    }
    if (url.pathname.startsWith('/blob/')) return blobCall(req, url, body, res);
    // Cache service v1 (GitHub Enterprise Server), the lookup only: 204 is its miss.
    if (req.method === 'GET' && url.pathname === '/_apis/artifactcache/cache') {
      res.writeHead(req.headers.authorization === `Bearer ${token}` ? 204 : 401);
      res.end();
      return;
    }
    res.writeHead(404);
    res.end();
  }

  function cacheCall(method: string, input: Record<string, unknown>, res: ServerResponse) {
    const key = String(input.key ?? '');
    const version = String(input.version ?? '');
    switch (method) {
      case 'GetCacheEntryDownloadURL': {
        const restoreKeys = (input.restore_keys ?? input.restoreKeys ?? []) as string[];
        const candidates = fake.entries.filter((e) => e.version === version && fake.blobs.has(e.blob));
        const newest = (list: CacheEntryRecord[]) => list[list.length - 1];
        const entry =
          candidates.find((e) => e.key === key) ??
          restoreKeys.map((p) => newest(candidates.filter((e) => e.key.startsWith(p)))).find((e) => e);
        if (!entry) return sendJson(res, 200, { ok: false });
        return sendJson(res, 200, {
          ok: true,
          signed_download_url: `${fake.url}${entry.blob}?sig=fake-download-signature`,
          matched_key: entry.key,
        });
      }
      case 'CreateCacheEntry': {
        if (fake.entries.some((e) => e.key === key && e.version === version))
          return twirpError(
            res,
            409,
            'already_exists',
            'cache entry with the same key, version, and scope already exists',
          );
        const blob = `/blob/actions-cache/${nextId++}`;
        fake.entries.push({ key, version, blob, size: -1 });
        return sendJson(res, 200, {
          ok: true,
          signed_upload_url: `${fake.url}${blob}?sig=fake-upload-signature`,
        });
      }
      case 'FinalizeCacheEntryUpload': {
        const entry = fake.entries.find((e) => e.key === key && e.version === version);
        if (!entry || !fake.blobs.has(entry.blob))
          return sendJson(res, 200, { ok: false, entry_id: '0', message: 'no uploaded blob for this entry' });
        entry.size = Number(input.size_bytes ?? input.sizeBytes);
        return sendJson(res, 200, { ok: true, entry_id: String(fake.entries.indexOf(entry) + 1) });
      }
      default:
        return twirpError(res, 404, 'bad_route', `no method ${method}`);
    }
  }

  function artifactCall(method: string, input: Record<string, unknown>, res: ServerResponse) {
    const run = input.workflow_run_backend_id ?? input.workflowRunBackendId;
    const job = input.workflow_job_run_backend_id ?? input.workflowJobRunBackendId;
    if (run !== RUN_BACKEND_ID || job !== JOB_BACKEND_ID)
      return twirpError(res, 400, 'invalid_argument', 'unknown workflow run or job backend id');
    const name = String(input.name ?? '');
    switch (method) {
      case 'ListArtifacts': {
        const filter = input.name_filter ?? input.nameFilter;
        const listed = fake.artifacts.filter(
          (a) => fake.blobs.has(a.blob) && (filter === undefined || a.name === filter),
        );
        return sendJson(res, 200, {
          artifacts: listed.map((a) => ({
            workflow_run_backend_id: RUN_BACKEND_ID,
            workflow_job_run_backend_id: JOB_BACKEND_ID,
            database_id: String(a.id),
            name: a.name,
            size: a.size,
          })),
        });
      }
      case 'CreateArtifact': {
        if (fake.artifacts.some((a) => a.name === name))
          return twirpError(res, 409, 'already_exists', `an artifact named ${name} already exists`);
        const id = nextId++;
        const blob = `/blob/actions-results/${id}/${encodeURIComponent(name)}.zip`;
        fake.artifacts.push({ id, name, blob, size: '0' });
        return sendJson(res, 200, {
          ok: true,
          signed_upload_url: `${fake.url}${blob}?sig=fake-upload-signature`,
        });
      }
      case 'FinalizeArtifact': {
        const artifact = fake.artifacts.find((a) => a.name === name);
        if (!artifact || !fake.blobs.has(artifact.blob))
          return twirpError(res, 404, 'not_found', 'no upload for this artifact');
        artifact.size = String(input.size ?? '0');
        if (typeof input.hash === 'string') artifact.hash = input.hash;
        return sendJson(res, 200, { ok: true, artifact_id: String(artifact.id) });
      }
      default:
        return twirpError(res, 404, 'bad_route', `no method ${method}`);
    }
  }

  function blobCall(req: IncomingMessage, url: URL, body: Buffer, res: ServerResponse) {
    if (!url.searchParams.get('sig')) return blobError(res, 403, 'AuthenticationFailed');
    const path = url.pathname;
    const comp = url.searchParams.get('comp');
    if (req.method === 'PUT' && comp === 'block') {
      const id = url.searchParams.get('blockid') ?? '';
      const blocks = staged.get(path) ?? new Map<string, Buffer>();
      blocks.set(id, body);
      staged.set(path, blocks);
      return blobCreated(res);
    }
    if (req.method === 'PUT' && comp === 'blocklist') {
      const blocks = staged.get(path) ?? new Map<string, Buffer>();
      const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)</g)].map(
        (m) => m[1]!,
      );
      if (ids.some((id) => !blocks.has(id))) return blobError(res, 400, 'InvalidBlockList');
      fake.blobs.set(path, Buffer.concat(ids.map((id) => blocks.get(id)!)));
      staged.delete(path);
      return blobCreated(res);
    }
    if (req.method === 'PUT') {
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob') return blobError(res, 400, 'MissingRequiredHeader');
      fake.blobs.set(path, body);
      return blobCreated(res);
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const bytes = fake.blobs.get(path);
      if (!bytes) return blobError(res, 404, 'BlobNotFound');
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? req.headers['x-ms-range'] ?? ''));
      const start = range ? Number(range[1]) : 0;
      const end = range?.[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
      const part = bytes.subarray(start, end + 1);
      res.writeHead(range ? 206 : 200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(part.length),
        ...(range ? { 'Content-Range': `bytes ${start}-${end}/${bytes.length}` } : {}),
        'x-ms-blob-type': 'BlockBlob',
        ETag: '"0x8DC0FFEE"',
        'Last-Modified': new Date(0).toUTCString(),
      });
      res.end(req.method === 'HEAD' ? undefined : part);
      return;
    }
    blobError(res, 405, 'UnsupportedHttpVerb');
  }

  await listen();
  fake.url = `http://127.0.0.1:${port}`;
  fake.env = {
    ACTIONS_RESULTS_URL: `${fake.url}/`,
    ACTIONS_RUNTIME_TOKEN: token,
    ACTIONS_CACHE_SERVICE_V2: 'True',
  };
  return fake;
}

function twirpError(res: ServerResponse, status: number, code: string, msg: string): void {
  sendJson(res, status, { code, msg });
}

function blobCreated(res: ServerResponse): void {
  res.writeHead(201, {
    'Content-Length': '0',
    ETag: '"0x8DC0FFEE"',
    'Last-Modified': new Date(0).toUTCString(),
    'x-ms-request-content-crc64': 'AAAAAAAAAAA=',
    'x-ms-request-server-encrypted': 'true',
  });
  res.end();
}

function blobError(res: ServerResponse, status: number, code: string): void {
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'x-ms-error-code': code });
  res.end(xml);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
