// Registry authentication as Distribution's token spec describes it: learn the challenge from a
// 401, then either send Basic credentials or trade them for a bearer token per
// (realm, service, scope). One token per repository scope, never every scope in one token: some
// token servers read only the first scope and long scope lists overflow headers.
import type { Credentials } from '../config/settings.js';
import { AuthError } from '../errors.js';
import type { HttpClient, HttpResponse } from '../http/http-client.js';
import type { Secrets } from '../secrets.js';
import { type Challenge, parseWwwAuthenticate } from './www-authenticate.js';

interface CachedToken {
  value: string;
  expiresAt: number;
  /** How long before expiry we stop using it: 10 s, or half the life of a very short-lived token. */
  margin: number;
}

/** Seconds before expiry at which a cached token is no longer handed out. */
const EXPIRY_MARGIN_MS = 10_000;
const OAUTH_CLIENT_ID = 'devgraph-docker-action';

export class RegistryAuth {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly http: HttpClient,
    /** host[:port], for messages. */
    private readonly registry: string,
    private credentials: Credentials,
    private readonly secrets: Secrets,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Swaps in fresh credentials (a re-minted password); tokens minted with the old ones are dropped. */
  replaceCredentials(credentials: Credentials): void {
    this.credentials = credentials;
    this.tokens.clear();
  }

  /** Says which credential is in use, never its value. */
  describeCredential(): string {
    const c = this.credentials;
    if (c.username && c.password) return `username "${c.username}" with a password`;
    if (c.username && c.token) return `username "${c.username}" with a token`;
    if (c.token) return 'the configured token';
    return 'no credentials (anonymous)';
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** The Authorization header to send for a request that needs `scope`, from what is known so far. */
  async header(scope: string | undefined): Promise<string | undefined> {
    const c = this.credentials;
    if (c.token && !c.username && this.challenge?.scheme !== 'basic') return `Bearer ${c.token}`;
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return this.basic();
    if (challenge.scheme === 'bearer' && scope) return `Bearer ${await this.token(challenge, scope)}`;
    return undefined;
  }

  /**
   * Learns from a 401. Returns true when a retry with a fresh header may succeed: the first time
   * we see a challenge, or when a cached token was rejected (it expired or was revoked).
   */
  onUnauthorized(res: HttpResponse, scope: string | undefined, sentHeader: string | undefined): boolean {
    const offered = parseWwwAuthenticate(res.headers['www-authenticate']);
    const bearer = offered.find((ch) => ch.scheme === 'bearer' && ch.params.realm);
    const basic = offered.find((ch) => ch.scheme === 'basic');
    const next = bearer ?? basic;
    if (!next) return false;
    if (!sentHeader) {
      this.challenge = next;
      return true;
    }
    if (
      next.scheme === 'bearer' &&
      sentHeader.startsWith('Bearer ') &&
      next.params.error !== 'insufficient_scope'
    ) {
      const key = tokenKey(next, scope ?? '');
      const cached = this.tokens.get(key);
      if (cached && sentHeader === `Bearer ${cached.value}`) {
        this.tokens.delete(key);
        return true;
      }
      // A token another request already dropped or replaced (requests in flight when it expired).
      if (
        sentHeader !== `Bearer ${this.credentials.token}` &&
        (!cached || cached.value !== sentHeader.slice(7))
      )
        return true;
    }
    if (this.challenge?.scheme !== next.scheme) {
      this.challenge = next;
      return true;
    }
    return false;
  }

  /** The error for a request that stayed unauthorised. */
  denied(status: number, scope: string | undefined, res: HttpResponse): AuthError {
    const what = scope ? `access to ${scope}` : 'access';
    const detail = registryErrorText(res);
    const hint =
      this.credentials.username || this.credentials.token
        ? 'check the credentials and their permissions'
        : 'this registry needs credentials: set username/password or token';
    return new AuthError(
      `registry ${this.registry} denied ${what} (HTTP ${status}${detail ? `: ${detail}` : ''}); credential used: ${this.describeCredential()}; ${hint}`,
      { status, code: status === 401 ? 'UNAUTHORIZED' : 'DENIED' },
    );
  }

  private basic(): string | undefined {
    const { username, password, token } = this.credentials;
    const secret = password ?? token;
    if (!username || secret === undefined) return undefined;
    const value = Buffer.from(`${username}:${secret}`).toString('base64');
    this.secrets.add(value);
    return `Basic ${value}`;
  }

  private async token(challenge: Challenge, scope: string): Promise<string> {
    const key = tokenKey(challenge, scope);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt - cached.margin > this.now()) return cached.value;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchToken(challenge, scope).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(challenge: Challenge, scope: string): Promise<string> {
    const realm = challenge.params.realm!;
    const service = challenge.params.service;
    const { username } = this.credentials;
    const basic = this.basic();
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new AuthError(
        `registry ${this.registry} named a token service that is not a URL (${JSON.stringify(realm)})`,
      );
    }
    const url = new URL(realmUrl);
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    if (username && basic) url.searchParams.set('account', username);
    let res = await this.http.request({
      method: 'GET',
      url: url.toString(),
      kind: 'token',
      timeoutMs: this.timeoutMs,
      headers: { accept: 'application/json', ...(basic ? { authorization: basic } : {}) },
    });
    // Token servers that only speak the OAuth2 form (Distribution's oauth.md) refuse the GET.
    if (
      (res.status === 404 || res.status === 405) &&
      this.credentials.username &&
      (this.credentials.password ?? this.credentials.token)
    ) {
      const form = new URLSearchParams({
        grant_type: 'password',
        client_id: OAUTH_CLIENT_ID,
        username: this.credentials.username,
        password: (this.credentials.password ?? this.credentials.token)!,
        scope,
        ...(service ? { service } : {}),
      });
      res = await this.http.request({
        method: 'POST',
        url: realmUrl.toString(),
        kind: 'token',
        timeoutMs: this.timeoutMs,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      });
    }
    if (res.status === 401 || res.status === 403) {
      throw new AuthError(
        `token service ${realmUrl.host} for registry ${this.registry} refused ${scope} (HTTP ${res.status}); credential used: ${this.describeCredential()}; check username and password`,
        { status: res.status, code: 'UNAUTHORIZED' },
      );
    }
    if (res.status !== 200) {
      throw new AuthError(
        `token service ${realmUrl.host} for registry ${this.registry} answered HTTP ${res.status} for ${scope}`,
        {
          status: res.status,
          retryable: res.status >= 500,
        },
      );
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new AuthError(
        `token service ${realmUrl.host} for registry ${this.registry} did not answer with JSON`,
      );
    }
    const value =
      typeof body.token === 'string'
        ? body.token
        : typeof body.access_token === 'string'
          ? body.access_token
          : undefined;
    if (!value)
      throw new AuthError(`token service ${realmUrl.host} for registry ${this.registry} sent no token`);
    this.secrets.add(value);
    // The spec's default lifetime is 60 s when expires_in is missing; never trust less than that.
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    this.tokens.set(tokenKey(challenge, scope), {
      value,
      expiresAt: this.now() + lifetime * 1000,
      margin: Math.min(EXPIRY_MARGIN_MS, (lifetime * 1000) / 2),
    });
    return value;
  }
}

function tokenKey(challenge: Challenge, scope: string): string {
  return `${challenge.params.realm ?? ''}\u0000${challenge.params.service ?? ''}\u0000${scope}`;
}

/** The first message of a registry's JSON error body, if it has one. */
export function registryErrorText(res: HttpResponse): string | undefined {
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as {
      errors?: Array<{ code?: string; message?: string }>;
    };
    const first = parsed.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(' ');
  } catch {
    // Not JSON (an HTML error page, Docker Hub's plain-text limits): say nothing rather than echo it.
  }
  return undefined;
}
