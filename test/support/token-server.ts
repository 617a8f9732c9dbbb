// A small Docker token-auth server (distribution docs: spec/auth/token.md, jwt.md, oauth.md) for
// driving a real Distribution registry in token mode. It signs RS256 JWTs with a throwaway key
// whose self-signed certificate the registry trusts through `rootcertbundle`.
import { execFile } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenServerOptions {
  /** user -> password */
  users?: Record<string, string>;
  /** Anonymous clients get `pull` on every repository (otherwise an empty access list). */
  allowAnonymousPull?: boolean;
  /**
   * Lifetime of issued tokens in seconds (default 300). Distribution 2.8 allows 60 s of clock skew
   * on `exp` and `nbf`, so the registry keeps accepting a token for a minute after it expires; to
   * test a registry-side rejection, sign one with `issueToken(..., { expiresIn: -120 })`.
   */
  expiresIn?: number;
  /** GET /token only: POST answers 404. */
  getOnly?: boolean;
  /** POST /token (OAuth2) only: GET answers 404, forcing clients onto the OAuth2 path. */
  postOnly?: boolean;
  /** Users allowed `registry:catalog:*`. */
  catalogFor?: string[];
  issuer?: string;
  service?: string;
}

export interface TokenRequestRecord {
  method: string;
  path: string;
  /** The `service` parameter (query or form). */
  service?: string;
  /** Requested scopes, one entry per scope (a space-separated POST scope is split). */
  scopes: string[];
  /** The `account` query parameter (GET). */
  account?: string;
  /** OAuth2 grant type (POST). */
  grantType?: string;
  clientId?: string;
  /** True when the request carried an `Authorization: Basic` header. */
  hadBasic: boolean;
  /** The user the request authenticated as (Basic, password or refresh grant); never the password. */
  user?: string;
  status: number;
  /** Access granted in the issued token (absent when no token was issued). */
  granted?: AccessEntry[];
}

export interface TokenServer {
  /** http://127.0.0.1:PORT (the realm is `${url}/token`) */
  url: string;
  realm: string;
  issuer: string;
  service: string;
  certPath: string;
  keyPath: string;
  /** libtrust key id of the signing key (the JWT `kid`). */
  keyId: string;
  /** Live settings; tests may flip `getOnly`/`postOnly`/`allowAnonymousPull` between requests. */
  options: Required<Omit<TokenServerOptions, 'issuer' | 'service'>>;
  requests: TokenRequestRecord[];
  reset(): void;
  setExpiresIn(seconds: number): void;
  /** Sign a token directly (bypassing the HTTP flow), e.g. with an `exp` in the past. */
  issueToken(sub: string, access: AccessEntry[], opts?: { expiresIn?: number; notBefore?: number }): string;
  stop(): Promise<void>;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(data: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The libtrust key id Distribution uses to find a token's signing key: sha256(SPKI DER)[:30], base32, 4-char groups. */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const encoded = base32(createHash('sha256').update(der).digest().subarray(0, 30));
  return encoded.match(/.{4}/g)!.join(':');
}

/** Parses `type[(class)]:name:actions`; the name may itself contain ':' (e.g. host:port/repo). */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return { type: scope.slice(0, first).replace(/\(.*\)$/, ''), name: scope.slice(first + 1, last), actions };
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+(.+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { user: decoded, password: '' };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function startTokenServer(opts: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'token-server-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    await execFileAsync('/usr/bin/openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-subj',
      '/CN=test-token-issuer',
      '-days',
      '2',
    ]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`openssl could not create the token signing certificate: ${(err as Error).message}`);
  }
  const privateKey = createPrivateKey(await readFile(keyPath));
  const cert = new X509Certificate(await readFile(certPath));
  const keyId = libtrustKeyId(cert.publicKey);

  const issuer = opts.issuer ?? 'test-issuer';
  const service = opts.service ?? 'test-registry';
  const options: TokenServer['options'] = {
    users: { ...(opts.users ?? {}) },
    allowAnonymousPull: opts.allowAnonymousPull ?? false,
    expiresIn: opts.expiresIn ?? 300,
    getOnly: opts.getOnly ?? false,
    postOnly: opts.postOnly ?? false,
    catalogFor: [...(opts.catalogFor ?? [])],
  };
  const requests: TokenRequestRecord[] = [];
  const refreshTokens = new Map<string, string>(); // refresh token -> user

  function issueToken(
    sub: string,
    access: AccessEntry[],
    o: { expiresIn?: number; notBefore?: number } = {},
  ): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', kid: keyId };
    const claims = {
      iss: issuer,
      sub,
      aud: service,
      exp: now + (o.expiresIn ?? options.expiresIn),
      nbf: o.notBefore ?? now,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), privateKey);
    return `${signingInput}.${base64url(signature)}`;
  }

  /** Intersects the requested actions with what `user` (undefined = anonymous) may do. */
  function grant(user: string | undefined, scopes: string[]): AccessEntry[] {
    const out: AccessEntry[] = [];
    for (const scope of scopes) {
      const parsed = parseScope(scope);
      if (!parsed) continue;
      let allowed: string[] = [];
      if (parsed.type === 'repository') {
        if (user !== undefined) allowed = ['pull', 'push', 'delete'];
        else if (options.allowAnonymousPull) allowed = ['pull'];
      } else if (parsed.type === 'registry' && parsed.name === 'catalog') {
        if (user !== undefined && options.catalogFor.includes(user)) allowed = ['*'];
      }
      const actions = parsed.actions.filter((a) => allowed.includes(a));
      if (actions.length > 0) out.push({ type: parsed.type, name: parsed.name, actions });
    }
    return out;
  }

  function checkPassword(user: string, password: string): boolean {
    return Object.hasOwn(options.users, user) && options.users[user] === password;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const basic = parseBasic(req.headers.authorization);
    const record: TokenRequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      scopes: [],
      hadBasic: basic !== undefined,
      status: 0,
    };
    requests.push(record);
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      record.status = status;
      sendJson(res, status, body, headers);
    };

    if (url.pathname !== '/token')
      return reply(404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });

    if (req.method === 'GET') {
      record.service = url.searchParams.get('service') ?? undefined;
      record.account = url.searchParams.get('account') ?? undefined;
      record.clientId = url.searchParams.get('client_id') ?? undefined;
      record.scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean));
      if (options.postOnly) {
        return reply(404, { errors: [{ code: 'NOT_FOUND', message: 'GET /token disabled' }] });
      }
      let user: string | undefined;
      if (basic) {
        record.user = basic.user;
        if (!checkPassword(basic.user, basic.password)) {
          return reply(
            401,
            {
              errors: [
                { code: 'UNAUTHORIZED', message: 'authentication required: invalid username or password' },
              ],
            },
            { 'WWW-Authenticate': 'Basic realm="test-token-server"' },
          );
        }
        user = basic.user;
      }
      const access = grant(user, record.scopes);
      record.granted = access;
      const token = issueToken(user ?? '', access);
      const body: Record<string, unknown> = {
        token,
        access_token: token,
        expires_in: options.expiresIn,
        issued_at: new Date().toISOString(),
      };
      if (user !== undefined && url.searchParams.get('offline_token') === 'true') {
        const refresh = randomBytes(24).toString('hex');
        refreshTokens.set(refresh, user);
        body.refresh_token = refresh;
      }
      return reply(200, body);
    }

    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      record.service = form.get('service') ?? undefined;
      record.grantType = form.get('grant_type') ?? undefined;
      record.clientId = form.get('client_id') ?? undefined;
      record.scopes = form.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean));
      if (options.getOnly) {
        return reply(404, { errors: [{ code: 'NOT_FOUND', message: 'POST /token disabled' }] });
      }
      let user: string;
      let refreshOut: string | undefined;
      if (record.grantType === 'password') {
        const username = form.get('username') ?? '';
        record.user = username;
        if (!checkPassword(username, form.get('password') ?? '')) {
          return reply(401, { error: 'invalid_grant', error_description: 'invalid username or password' });
        }
        user = username;
        if (form.get('access_type') === 'offline') {
          refreshOut = randomBytes(24).toString('hex');
          refreshTokens.set(refreshOut, user);
        }
      } else if (record.grantType === 'refresh_token') {
        const refresh = form.get('refresh_token') ?? '';
        const owner = refreshTokens.get(refresh);
        if (owner === undefined) {
          return reply(401, { error: 'invalid_grant', error_description: 'unknown refresh token' });
        }
        record.user = owner;
        user = owner;
        refreshOut = refresh;
      } else {
        return reply(400, { error: 'unsupported_grant_type' });
      }
      if (!form.get('client_id')) {
        return reply(400, { error: 'invalid_request', error_description: 'client_id required' });
      }
      const access = grant(user, record.scopes);
      record.granted = access;
      const token = issueToken(user, access);
      const body: Record<string, unknown> = {
        access_token: token,
        expires_in: options.expiresIn,
        issued_at: new Date().toISOString(),
        scope: access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' '),
      };
      if (refreshOut) body.refresh_token = refreshOut;
      return reply(200, body);
    }

    return reply(405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    realm: `${url}/token`,
    issuer,
    service,
    certPath,
    keyPath,
    keyId,
    options,
    requests,
    reset() {
      requests.length = 0;
    },
    setExpiresIn(seconds: number) {
      options.expiresIn = seconds;
    },
    issueToken,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
