// A fake AWS ECR: the registry host (`<account>.dkr.ecr.<region>.amazonaws.com`) and the ECR API
// (`api.ecr.<region>.amazonaws.com`, AWS JSON 1.1) on one loopback port, both describing the same
// content; and a fake ECR Public (public.ecr.aws) with its anonymous /token/ endpoint.
//
// Registry side, as ECR behaves: a Basic challenge (realm = the registry URL, service
// ecr.amazonaws.com) and nothing but Basic `AWS:<password>`; an expired password is refused with
// 403 DENIED; n > 1000 on _catalog or tags/list is 405 UNSUPPORTED with ECR's validation text.
// API side: POST / with X-Amz-Target `AmazonEC2ContainerRegistry_V20150921.<Op>`, a SigV4
// Authorization header naming a known access key, maxResults 1..1000 (default 100) with opaque
// nextTokens, epoch-second timestamps, and errors as `{"__type","message"}` with HTTP 400.
// DescribeImages' tagStatus filter picks tagged images, untagged ones (an index's platform and
// attestation manifests, referrers with their subjectManifestDigest, old builds whose tag moved
// on) or both (ANY, the default); lastRecordedPullTime is sent for images a test says were pulled.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DemoRegistry, startDemoRegistry } from '../../../src/demo/demo-registry.js';
import type { RepositoryContent } from '../../../src/demo/image-builder.js';
import { sampleRepositories } from '../../../src/demo/sample-repositories.js';
import { type TagFact, tagFacts } from './content-facts.js';
import { referrerFacts } from './referrers.js';

export const FAKE_ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';
export const FAKE_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';
const TOKEN_LIFE_S = 12 * 3600;
const MAX_N_TEXT =
  "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'";

export interface EcrFakeOptions {
  repositories?: RepositoryContent[];
  accountId?: string;
  region?: string;
  /** Server-side page size of tags/list and _catalog (ECR returns up to n; smaller forces Link pages). */
  tagPageSize?: number;
  catalogPageSize?: number;
  /** The most results one DescribeImages / DescribeRepositories page holds, whatever maxResults asks. */
  imagesPageCap?: number;
  repositoriesPageCap?: number;
  /** Repositories whose images were never scanned (no imageScanFindingsSummary). */
  unscanned?: string[];
  /**
   * As ECR does: a manifest list gets no scan summary of its own, only its platform manifests
   * (untagged images) do. Off, every tagged index carries one too, as the older tests expect.
   */
  unscannedIndexes?: boolean;
  /** imagePushedAt by digest, for images whose push time a test sets (default: from the content). */
  pushedAt?: Record<string, string>;
  /** lastRecordedPullTime by digest; ECR leaves the field out of an image never pulled. */
  pulledAt?: Record<string, string>;
}

export interface ApiCall {
  op: string;
  body: Record<string, unknown>;
  status: number;
  error?: string;
  accessKey?: string;
  region?: string;
}

export interface EcrFake {
  /** Registry and ECR API origin (http://127.0.0.1:port). */
  url: string;
  /** The host the registry's challenge names. */
  registryHost: string;
  registry: DemoRegistry;
  apiCalls: ApiCall[];
  /** Every registry password issued, in order (to check they are masked). */
  issued: string[];
  /** Registry requests refused before reaching the content (challenges, expired passwords, 405s). */
  refused: Array<{ method: string; path: string; status: number }>;
  /** What `aws ecr get-login-password` prints: a registry password valid for 12 h. */
  loginPassword(): string;
  /** Every password issued so far is now expired (a run that outlived 12 h). */
  expirePasswords(): void;
  /** The next password GetAuthorizationToken issues expires after this many registry requests (a run outliving 12 h). */
  shortLivedPasswords(uses: number): void;
  deny(op: string): void;
  /** The next `n` API calls answer ThrottlingException. */
  throttle(n: number): void;
  expireSessions(): void;
  /** Images per repository as DescribeImages reports them (tagged only), for assertions. */
  images(repo: string): ImageRecord[];
  /** Untagged images (platform manifests, attestations, referrers) as DescribeImages reports them. */
  untagged(repo: string): ImageRecord[];
  close(): Promise<void>;
}

export interface ImageRecord {
  digest: string;
  tags: string[];
  pushedAt: string;
  size: number;
  mediaType: string;
  /** The config's media type, or a referrer's artifactType; absent for a manifest list. */
  artifactMediaType?: string;
  /** For a referrer: the digest of the manifest it refers to. */
  subject?: string;
  severity?: Record<string, number>;
  /** lastRecordedPullTime, for an image pulled since ECR records pulls. */
  pulledAt?: string;
}

/** Scan counts a fake scanner reports for a digest, stable across runs. */
export function fakeSeverityCounts(digest: string): Record<string, number> {
  const h = createHash('sha256').update(digest).digest();
  const counts: Record<string, number> = {
    CRITICAL: h[0]! % 3,
    HIGH: h[1]! % 5,
    MEDIUM: h[2]! % 9,
    LOW: h[3]! % 7,
    INFORMATIONAL: h[4]! % 4,
    UNDEFINED: h[5]! % 2,
  };
  for (const k of Object.keys(counts)) if (counts[k] === 0) delete counts[k];
  return counts;
}

function imagesOf(facts: TagFact[], scanned: boolean, scanIndexes: boolean): ImageRecord[] {
  const byDigest = new Map<string, ImageRecord>();
  for (const f of facts) {
    const found = byDigest.get(f.digest);
    if (found) {
      found.tags.push(f.tag);
      continue;
    }
    byDigest.set(f.digest, {
      digest: f.digest,
      tags: [f.tag],
      pushedAt: f.pushedAt,
      size: f.size,
      mediaType: f.mediaType,
      ...(f.isIndex ? {} : { artifactMediaType: f.platforms[0]!.configMediaType }),
      ...(scanned && (scanIndexes || !f.isIndex) ? { severity: fakeSeverityCounts(f.digest) } : {}),
    });
  }
  // ECR's order is its own (not by push time); digest order stands in for it.
  return [...byDigest.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
}

/**
 * The images ECR keeps without a tag: an index's platform manifests (scanned like any image) and
 * BuildKit attestation manifests (not runnable, so never scanned), and referrers pushed by digest,
 * each with the subjectManifestDigest DescribeImages reports for it.
 */
function untaggedOf(repo: RepositoryContent, facts: TagFact[], scanned: boolean): ImageRecord[] {
  const tagged = new Set(facts.map((f) => f.digest));
  const out = new Map<string, ImageRecord>();
  const add = (r: Omit<ImageRecord, 'tags'>) => {
    if (!tagged.has(r.digest) && !out.has(r.digest)) out.set(r.digest, { ...r, tags: [] });
  };
  for (const f of facts) {
    if (!f.isIndex) continue;
    for (const p of f.platforms) {
      add({
        digest: p.digest,
        pushedAt: f.pushedAt,
        size: p.size,
        mediaType: p.mediaType,
        artifactMediaType: p.configMediaType,
        ...(scanned ? { severity: fakeSeverityCounts(p.digest) } : {}),
      });
    }
    for (const a of f.attestations) {
      const doc = repo.manifests.find((m) => m.digest === a)!;
      add({ digest: a, pushedAt: f.pushedAt, size: doc.bytes.length, mediaType: doc.mediaType });
    }
  }
  for (const r of referrerFacts(repo)) {
    add({
      digest: r.digest,
      pushedAt: '2024-11-08T00:00:00Z',
      size: r.size,
      mediaType: r.mediaType,
      artifactMediaType: r.artifactType,
      subject: r.subject,
    });
  }
  // Whatever else the repository holds is an old build whose tag moved on (and, for an index,
  // its platform manifests): untagged, as ECR keeps it until something deletes it.
  for (const m of repo.manifests) {
    if (out.has(m.digest) || tagged.has(m.digest)) continue;
    const doc = JSON.parse(m.bytes.toString('utf8')) as {
      config?: { mediaType: string; size: number };
      layers?: Array<{ size: number }>;
    };
    add({
      digest: m.digest,
      pushedAt: '2024-01-01T00:00:00Z',
      size: doc.config
        ? doc.config.size + (doc.layers ?? []).reduce((n, l) => n + l.size, 0)
        : m.bytes.length,
      mediaType: m.mediaType,
      ...(doc.config ? { artifactMediaType: doc.config.mediaType } : {}),
    });
  }
  return [...out.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
}

/** The test's push and pull times on the fake's images. */
function withTimes(records: ImageRecord[], opts: EcrFakeOptions): ImageRecord[] {
  return records.map((r) => {
    const pushedAt = opts.pushedAt?.[r.digest];
    const pulledAt = opts.pulledAt?.[r.digest];
    return { ...r, ...(pushedAt ? { pushedAt } : {}), ...(pulledAt ? { pulledAt } : {}) };
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const epochSeconds = (iso: string) => Date.parse(iso) / 1000;

function pageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset, k: randomBytes(6).toString('hex') })).toString('base64');
}

function tokenOffset(token: unknown): number | undefined {
  if (typeof token !== 'string') return 0;
  try {
    const o = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { o?: unknown }).o;
    return typeof o === 'number' ? o : undefined;
  } catch {
    return undefined;
  }
}

export async function startEcrFake(opts: EcrFakeOptions = {}): Promise<EcrFake> {
  const repos = opts.repositories ?? sampleRepositories();
  const account = opts.accountId ?? '123456789012';
  const region = opts.region ?? 'eu-west-1';
  const registryHost = `${account}.dkr.ecr.${region}.amazonaws.com`;
  const scannedRepo = (r: RepositoryContent) => !(opts.unscanned ?? []).includes(r.name);
  const images = new Map(
    repos.map((r) => [
      r.name,
      withTimes(imagesOf(tagFacts(r), scannedRepo(r), !opts.unscannedIndexes), opts),
    ]),
  );
  const untagged = new Map(
    repos.map((r) => [r.name, withTimes(untaggedOf(r, tagFacts(r), scannedRepo(r)), opts)]),
  );
  const createdAt = epochSeconds('2023-05-01T09:00:00Z');
  /** password → uses left (Infinity = until expiry), or 'expired'. */
  const passwords = new Map<string, number | 'expired'>();
  let shortLived: number | undefined;
  const denied = new Set<string>();
  let throttled = 0;
  let sessionsExpired = false;
  const apiCalls: ApiCall[] = [];
  const refused: EcrFake['refused'] = [];
  const issued: string[] = [];

  const issuePassword = (uses = Number.POSITIVE_INFINITY): string => {
    // Real ones are long base64 JSON envelopes; the shape does not matter to clients.
    const pw = `eyJwYXlsb2FkIjoi${randomBytes(36).toString('base64url')}`;
    passwords.set(pw, uses);
    issued.push(pw);
    return pw;
  };

  const registryAuth = (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    const auth = req.headers.authorization ?? '';
    const refuse = (status: number, code: string, message: string, challenge: boolean) => {
      refused.push({ method: req.method ?? 'GET', path, status });
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Docker-Distribution-API-Version': 'registry/2.0',
        ...(challenge
          ? { 'WWW-Authenticate': `Basic realm="https://${registryHost}/",service="ecr.amazonaws.com"` }
          : {}),
      });
      res.end(JSON.stringify({ errors: [{ code, message }] }));
      return true;
    };
    const m = /^Basic (.+)$/i.exec(auth);
    if (!m) return refuse(401, 'DENIED', 'Not Authorized', true);
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    const pw = decoded.slice(colon + 1);
    const state = passwords.get(pw);
    if (user !== 'AWS' || state === undefined) return refuse(401, 'DENIED', 'Not Authorized', true);
    if (state === 'expired' || state <= 0) {
      passwords.set(pw, 'expired');
      return refuse(
        403,
        'DENIED',
        'Your authorization token has expired. Reauthenticate and try again.',
        false,
      );
    }
    passwords.set(pw, state - 1);
    const n = new URL(path, 'http://x').searchParams.get('n');
    if (n !== null && Number(n) > 1000) {
      refused.push({ method: req.method ?? 'GET', path, status: 405 });
      res.writeHead(405, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: MAX_N_TEXT }] }));
      return true;
    }
    return false;
  };

  const api = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const text = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = {};
    }
    const sig =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[a-f0-9]{64}$/.exec(
        String(req.headers.authorization ?? ''),
      );
    const call: ApiCall = { op, body, status: 200, ...(sig ? { accessKey: sig[1]!, region: sig[3]! } : {}) };
    apiCalls.push(call);
    const send = (status: number, doc: unknown) => {
      call.status = status;
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'x-amzn-RequestId': randomBytes(16).toString('hex'),
      });
      res.end(JSON.stringify(doc));
    };
    const fail = (type: string, message: string, status = 400) => {
      call.error = type;
      send(status, { __type: type, message });
    };
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1' || !target.startsWith(TARGET_PREFIX))
      return fail('UnknownOperationException', '');
    if (!sig) return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (sig[1] !== FAKE_ACCESS_KEY || sig[4] !== 'ecr')
      return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (sessionsExpired)
      return fail('ExpiredTokenException', 'The security token included in the request is expired');
    if (throttled > 0) {
      throttled--;
      return fail('ThrottlingException', 'Rate exceeded');
    }
    const arn = `arn:aws:sts::${account}:assumed-role/github-actions/GitHubActions`;
    const repoArn = (name: string) => `arn:aws:ecr:${region}:${account}:repository/${name}`;
    if (denied.has(op)) {
      const resource = typeof body.repositoryName === 'string' ? repoArn(body.repositoryName) : '*';
      return fail(
        'AccessDeniedException',
        `User: ${arn} is not authorized to perform: ecr:${op} on resource: ${resource} because no identity-based policy allows the ecr:${op} action`,
      );
    }
    const maxResults = body.maxResults;
    if (maxResults !== undefined && (typeof maxResults !== 'number' || maxResults < 1 || maxResults > 1000)) {
      return fail(
        'InvalidParameterException',
        `Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'`,
      );
    }
    if (body.registryId !== undefined && body.registryId !== account) {
      return fail(
        'AccessDeniedException',
        `User: ${arn} is not authorized to perform: ecr:${op} on resource: arn:aws:ecr:${region}:${String(body.registryId)}:repository/* because no resource-based policy allows the ecr:${op} action`,
      );
    }
    const repositoryNotFound = (name: unknown) =>
      fail(
        'RepositoryNotFoundException',
        `The repository with name '${String(name)}' does not exist in the registry with id '${account}'`,
      );
    const page = <T>(all: T[], cap: number | undefined): { items: T[]; nextToken?: string } | undefined => {
      const offset = tokenOffset(body.nextToken);
      if (offset === undefined) return undefined;
      const size = Math.min((maxResults as number | undefined) ?? 100, cap ?? 1000);
      const items = all.slice(offset, offset + size);
      return offset + size < all.length ? { items, nextToken: pageToken(offset + size) } : { items };
    };
    switch (op) {
      case 'GetAuthorizationToken': {
        const pw = issuePassword(shortLived);
        shortLived = undefined;
        return send(200, {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${pw}`).toString('base64'),
              expiresAt: Math.floor(Date.now() / 1000) + TOKEN_LIFE_S,
              proxyEndpoint: `https://${registryHost}`,
            },
          ],
        });
      }
      case 'DescribeRepositories': {
        const all = [...images.keys()].sort();
        const p = page(all, opts.repositoriesPageCap);
        if (!p) return fail('InvalidParameterException', 'Invalid parameter at nextToken');
        return send(200, {
          repositories: p.items.map((name) => ({
            repositoryArn: repoArn(name),
            registryId: account,
            repositoryName: name,
            repositoryUri: `${registryHost}/${name}`,
            createdAt,
            imageTagMutability: 'MUTABLE',
            imageScanningConfiguration: { scanOnPush: true },
            encryptionConfiguration: { encryptionType: 'AES256' },
          })),
          ...(p.nextToken ? { nextToken: p.nextToken } : {}),
        });
      }
      case 'DescribeImages': {
        const name = body.repositoryName;
        const list = typeof name === 'string' ? images.get(name) : undefined;
        if (!list) return repositoryNotFound(name);
        const status = (body.filter as { tagStatus?: string } | undefined)?.tagStatus ?? 'ANY';
        const loose = untagged.get(name as string) ?? [];
        const all = status === 'UNTAGGED' ? loose : status === 'TAGGED' ? list : [...list, ...loose];
        const p = page(all, opts.imagesPageCap);
        if (!p) return fail('InvalidParameterException', 'Invalid parameter at nextToken');
        return send(200, {
          imageDetails: p.items.map((img) => ({
            registryId: account,
            repositoryName: name,
            imageDigest: img.digest,
            // ECR leaves the field out of an untagged image rather than sending an empty list.
            ...(img.tags.length ? { imageTags: img.tags } : {}),
            imageSizeInBytes: img.size,
            imagePushedAt: epochSeconds(img.pushedAt),
            ...(img.pulledAt ? { lastRecordedPullTime: epochSeconds(img.pulledAt) } : {}),
            imageManifestMediaType: img.mediaType,
            ...(img.artifactMediaType ? { artifactMediaType: img.artifactMediaType } : {}),
            ...(img.subject ? { subjectManifestDigest: img.subject } : {}),
            ...(img.severity
              ? {
                  imageScanStatus: {
                    status: 'COMPLETE',
                    description: 'The scan was completed successfully.',
                  },
                  imageScanFindingsSummary: {
                    imageScanCompletedAt: epochSeconds(img.pushedAt) + 42,
                    vulnerabilitySourceUpdatedAt: epochSeconds('2025-06-01T00:00:00Z'),
                    findingSeverityCounts: img.severity,
                  },
                }
              : {}),
          })),
          ...(p.nextToken ? { nextToken: p.nextToken } : {}),
        });
      }
      case 'BatchDeleteImage': {
        const name = body.repositoryName;
        const list = typeof name === 'string' ? images.get(name) : undefined;
        if (!list) return repositoryNotFound(name);
        const ids = Array.isArray(body.imageIds) ? (body.imageIds as Array<Record<string, unknown>>) : [];
        if (ids.length < 1 || ids.length > 100) {
          return fail(
            'InvalidParameterException',
            "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or equal to 100'",
          );
        }
        return send(200, batchDelete(name as string, ids));
      }
      default:
        return fail('UnknownOperationException', '');
    }
  };

  /**
   * BatchDeleteImage as the API reference describes it: by digest the image goes with every tag
   * (one imageIds entry per tag), by tag only that tag (the image with its last tag); an image a
   * manifest list still holds is refused with ImageReferencedByManifestList, an unknown one with
   * ImageNotFound. What goes is gone from DescribeImages and from the registry alike.
   */
  const batchDelete = (repo: string, ids: Array<Record<string, unknown>>) => {
    const deleted: Array<Record<string, string>> = [];
    const failures: Array<Record<string, unknown>> = [];
    const tagged = images.get(repo)!;
    const loose = untagged.get(repo) ?? [];
    for (const id of ids) {
      const digest = typeof id.imageDigest === 'string' ? id.imageDigest : undefined;
      if (!digest) {
        failures.push({ imageId: id, failureCode: 'MissingDigestAndTag', failureReason: 'Missing digest' });
        continue;
      }
      const record = [...tagged, ...loose].find((i) => i.digest === digest);
      if (!record) {
        failures.push({
          imageId: id,
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found',
        });
        continue;
      }
      const holders = indexesHolding(repo, digest);
      if (holders.length > 0) {
        failures.push({
          imageId: id,
          failureCode: 'ImageReferencedByManifestList',
          failureReason: `Requested image referenced by manifest list: [${holders.join(', ')}]`,
        });
        continue;
      }
      for (const l of [tagged, loose]) {
        const at = l.indexOf(record);
        if (at >= 0) l.splice(at, 1);
      }
      registry.removeManifest(repo, digest);
      if (record.tags.length === 0) deleted.push({ imageDigest: digest });
      for (const tag of record.tags) deleted.push({ imageDigest: digest, imageTag: tag });
    }
    return { imageIds: deleted, failures };
  };

  /** Digests of the manifest lists still in `repo` that name `digest` among their manifests. */
  const indexesHolding = (repo: string, digest: string): string[] => {
    const content = repos.find((r) => r.name === repo);
    const present = new Set([...images.get(repo)!, ...(untagged.get(repo) ?? [])].map((i) => i.digest));
    const out: string[] = [];
    for (const m of content?.manifests ?? []) {
      if (!present.has(m.digest)) continue;
      const doc = JSON.parse(m.bytes.toString('utf8')) as { manifests?: Array<{ digest?: string }> };
      if (doc.manifests?.some((c) => c.digest === digest)) out.push(m.digest);
    }
    return out;
  };

  const registry = await startDemoRegistry(repos, {
    referrers: 'api',
    ...(opts.tagPageSize !== undefined ? { tagPageSize: opts.tagPageSize } : {}),
    ...(opts.catalogPageSize !== undefined ? { catalogPageSize: opts.catalogPageSize } : {}),
    intercept(req, res) {
      const path = req.url ?? '/';
      if (req.method === 'POST' && path === '/') {
        api(req, res).catch((err) => {
          res.writeHead(500);
          res.end(String(err));
        });
        return true;
      }
      if (path.startsWith('/v2')) return registryAuth(req, res, path);
      return false;
    },
  });

  return {
    url: registry.url,
    registryHost,
    registry,
    apiCalls,
    issued,
    refused,
    loginPassword: () => issuePassword(),
    expirePasswords() {
      for (const k of passwords.keys()) passwords.set(k, 'expired');
    },
    shortLivedPasswords(uses) {
      shortLived = uses;
    },
    deny: (op) => denied.add(op),
    throttle(n) {
      throttled = n;
    },
    expireSessions() {
      sessionsExpired = true;
    },
    images: (repo) => images.get(repo) ?? [],
    untagged: (repo) => untagged.get(repo) ?? [],
    close: () => registry.close(),
  };
}

export interface EcrPublicFake {
  url: string;
  registry: DemoRegistry;
  /** Requests to /token/. */
  tokenRequests: number;
  refused: Array<{ method: string; path: string; status: number; authorization?: string }>;
  close(): Promise<void>;
}

/**
 * ECR Public: GET /token/ hands anyone a pull token; /v2 wants it as Bearer and challenges with
 * its own realm otherwise.
 */
export async function startEcrPublicFake(repos: RepositoryContent[]): Promise<EcrPublicFake> {
  const tokens = new Set<string>();
  const refused: EcrPublicFake['refused'] = [];
  let origin = '';
  const fake: EcrPublicFake = {
    url: '',
    registry: undefined as unknown as DemoRegistry,
    tokenRequests: 0,
    refused,
    close: () => fake.registry.close(),
  };
  fake.registry = await startDemoRegistry(repos, {
    referrers: 'api',
    intercept(req, res) {
      const path = req.url ?? '/';
      const url = new URL(path, 'http://x');
      if (url.pathname === '/token/' || url.pathname === '/token') {
        fake.tokenRequests++;
        const token = randomBytes(40).toString('base64url');
        tokens.add(token);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ token }));
        return true;
      }
      if (!url.pathname.startsWith('/v2')) return false;
      const auth = req.headers.authorization ?? '';
      const bearer = /^Bearer (.+)$/.exec(auth)?.[1];
      if (!bearer || !tokens.has(bearer)) {
        refused.push({
          method: req.method ?? 'GET',
          path,
          status: 401,
          ...(auth ? { authorization: auth } : {}),
        });
        res.writeHead(401, {
          'Content-Type': 'application/json; charset=utf-8',
          'WWW-Authenticate': `Bearer realm="${origin}/token/",service="public.ecr.aws",scope="aws"`,
        });
        res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'Not Authorized' }] }));
        return true;
      }
      const n = url.searchParams.get('n');
      if (n !== null && Number(n) > 1000) {
        refused.push({ method: req.method ?? 'GET', path, status: 405 });
        res.writeHead(405, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: MAX_N_TEXT }] }));
        return true;
      }
      return false;
    },
  });
  origin = fake.registry.url;
  fake.url = origin;
  return fake;
}
