// AWS ECR (private) and ECR Public.
//
// Private ECR works two ways. With a registry password from `aws ecr get-login-password` in the
// config, everything goes through the registry API (Basic `AWS:<password>`, _catalog, tags/list with
// n ≤ 1000, a HEAD per tag). Without one, the AWS SDK uses the job's AWS credentials (what
// aws-actions/configure-aws-credentials exports): GetAuthorizationToken mints the registry
// password, DescribeRepositories lists repositories and DescribeImages lists up to 1000 images per
// call with digest, push time and scan summary, so no tag needs a registry request to be resolved.
//
// ECR Public (public.ecr.aws) serves pulls to an anonymous token from GET /token/ and has no
// repository listing for anonymous users, so the selectors must name the repositories.
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandOutput,
  DescribeRepositoriesCommand,
  type DescribeRepositoriesCommandOutput,
  ECRClient,
  GetAuthorizationTokenCommand,
  type ImageDetail,
  type TagStatus,
} from '@aws-sdk/client-ecr';
import { z } from 'zod';
import { registryErrorText } from '../auth/registry-auth.js';
import { parseWwwAuthenticate } from '../auth/www-authenticate.js';
import { type EcrHost, parseEcrHost } from '../config/registry-hosts.js';
import type { Credentials, ProviderSettings } from '../config/settings.js';
import { AuthError, RegistryError } from '../errors.js';
import { describeUrl, type Tally } from '../http/http-client.js';
import { PageWalk, readPage, readRows } from '../http/page-walker.js';
import type { LifecycleImage, UntaggedManifest, VulnerabilityCounts } from '../model/discovery.js';
import { MediaType } from '../oci/media-types.js';
import type { RegistryClient } from '../oci/registry-client.js';
import {
  type DeleteAnswer,
  type OpenAdapter,
  ociAdapter,
  type ReferrerDescriptor,
  type RegistryAdapter,
  type RepositoryListing,
  type TagListing,
  type VendorContext,
  type VendorTag,
} from './registry-adapter.js';
import { literalNames, literalNamespace, namingAdvice } from './selector-names.js';
import { jsonBody } from './vendor-api.js';

/** DescribeImages and DescribeRepositories accept at most this many results per call. */
const API_PAGE_SIZE = 1000;
/** The SDK's own retries (throttling, 5xx) per call, the first try included. */
const SDK_MAX_ATTEMPTS = 4;
const PERMISSIONS = 'ecr:GetAuthorizationToken, ecr:DescribeRepositories, ecr:DescribeImages';
const EXPIRED_REGISTRY_TOKEN = /authorization token has expired/i;
const PUBLIC_HOST = 'public.ecr.aws';

export { type EcrHost, parseEcrHost };

function hasCredentials(c: Credentials): boolean {
  return !!(c.username || c.password || c.token);
}

/**
 * The registry credential for token mode. ECR's registry expects Basic `AWS:<password>`, so a lone
 * token becomes that password; a base64 `AWS:<password>` (GetAuthorizationToken's
 * authorizationToken, pasted as is) is unwrapped.
 */
export function ecrRegistryCredentials(c: Credentials): Credentials {
  const secret = c.password ?? c.token;
  if (!secret) return c;
  if (!c.username) {
    const decoded = decodeAuthorizationToken(secret);
    if (decoded) return decoded;
  }
  return { username: c.username ?? 'AWS', password: secret };
}

function decodeAuthorizationToken(value: string): Credentials | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0 || text.slice(0, colon) !== 'AWS') return undefined;
  return { username: 'AWS', password: text.slice(colon + 1) };
}

/** Scan summary counts (`CRITICAL`, …, `UNDEFINED`) in the graph's lowercase form. */
export function vulnerabilityCounts(counts: Record<string, number> | undefined): VulnerabilityCounts {
  const out: VulnerabilityCounts = { total: 0 };
  for (const [severity, n] of Object.entries(counts ?? {})) {
    if (typeof n !== 'number' || n <= 0) continue;
    const key = severity.toLowerCase();
    const field =
      key === 'critical' || key === 'high' || key === 'medium' || key === 'low' || key === 'informational'
        ? key
        : 'unknown';
    out[field] = (out[field] ?? 0) + n;
    out.total += n;
  }
  return out;
}

export const openEcr: OpenAdapter = async (ctx) => {
  const host = new URL(ctx.settings.apiUrl).host;
  const parsed = parseEcrHost(host);
  if (!parsed && (host === PUBLIC_HOST || (await looksLikeEcrPublic(ctx)))) return openEcrPublic(ctx);
  if (hasCredentials(ctx.settings.credentials)) return openTokenMode(ctx);
  return openSdkMode(ctx, parsed);
};

/**
 * Mirrors, proxies and tests use other host names: ECR Public's /v2/ challenge (Bearer, service
 * public.ecr.aws) tells it apart from private ECR's Basic one.
 */
async function looksLikeEcrPublic(ctx: VendorContext): Promise<boolean> {
  const res = await ctx.connect({}).ping();
  return parseWwwAuthenticate(res.headers['www-authenticate']).some(
    (c) => c.scheme === 'bearer' && c.params.service === PUBLIC_HOST,
  );
}

/** Adds what to do about an ECR registry refusal to the shared client's message. */
function withRegistryHint(err: unknown, hint: string): never {
  if (err instanceof AuthError) throw new AuthError(`${err.message}; ${hint}`, err.details);
  throw err;
}

/**
 * An image that refers to another (an OCI 1.1 referrer: a signature, an attestation, an SBOM)
 * as the subject's accessory, typed by what DescribeImages says of it; true when it was one.
 */
function addReferrer(image: ImageDetail, referrers: Map<string, ReferrerDescriptor[]>): boolean {
  const subject = image.subjectManifestDigest;
  const digest = image.imageDigest;
  if (!subject || !DIGEST.test(subject) || !digest || !DIGEST.test(digest)) return false;
  const list = referrers.get(subject) ?? [];
  if (!list.some((d) => d.digest === digest)) {
    list.push({
      digest,
      ...(image.imageManifestMediaType ? { mediaType: image.imageManifestMediaType } : {}),
      ...(image.artifactMediaType ? { artifactType: image.artifactMediaType } : {}),
    });
  }
  referrers.set(subject, list);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Token mode: the documented `docker login` form, registry API only.

function openTokenMode(ctx: VendorContext, fallback?: string): RegistryAdapter {
  const creds = ecrRegistryCredentials(ctx.credentials);
  ctx.secrets.add(creds.password);
  const client = ctx.connect(creds);
  const hint =
    'ECR registry passwords (aws ecr get-login-password) expire after 12 hours: fetch a new one in the same job, or remove username/password/token to let the AWS credentials of aws-actions/configure-aws-credentials mint one';
  const base = ociAdapter(ctx, client);
  return {
    ...base,
    describeCredential: () =>
      `Basic "${creds.username}" with an ECR registry password from ${ctx.credentialSource}`,
    listRepositories: () => client.listRepositories().catch((e) => withRegistryHint(e, hint)),
    listTags: (repo, tally) => client.listTags(repo, tally).catch((e) => withRegistryHint(e, hint)),
    notes: () => [
      ...(fallback ? [fallback] : []),
      'ECR: registry password only (no AWS API): one manifest request per tag; AWS credentials would list digests, push times and scan results in one call per 1000 images',
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// SDK mode: the ECR API with the job's AWS credentials.

interface AwsErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { attempts?: number; httpStatusCode?: number };
}

/** A clear message for an ECR API failure: what was asked, why AWS refused, what to change. */
export function ecrApiError(err: unknown, op: string, target: string, endpoint: string): RegistryError {
  const e = (err ?? {}) as AwsErrorLike;
  const name = e.name ?? 'Error';
  const aws = e.message ? `: ${e.message}` : '';
  const status = e.$metadata?.httpStatusCode;
  const details = { ...(status ? { status } : {}), code: name };
  switch (name) {
    case 'CredentialsProviderError':
      return new AuthError(
        `no AWS credentials for the ECR API (${op}): add an aws-actions/configure-aws-credentials step before this one (a role allowed ${PERMISSIONS}), or set token: \${ECR_TOKEN} with the output of \`aws ecr get-login-password\``,
        { code: name },
      );
    case 'AccessDeniedException':
      return new AuthError(
        `the ECR API denied ${op} on ${target} (AccessDeniedException${aws}); the AWS identity needs the ecr:${op} permission (the read-only set is ${PERMISSIONS})`,
        details,
      );
    case 'ExpiredTokenException':
    case 'ExpiredToken':
    case 'RequestExpired':
      return new AuthError(
        `the AWS credentials have expired (${name}) calling ${op}: re-run aws-actions/configure-aws-credentials, or raise its role-duration-seconds for long runs`,
        details,
      );
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'InvalidClientTokenId':
    case 'MissingAuthenticationTokenException':
    case 'SignatureDoesNotMatch':
      return new AuthError(
        `AWS rejected the credentials calling ECR ${op} (${name}${aws}): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or the aws-actions/configure-aws-credentials step`,
        details,
      );
    case 'RepositoryNotFoundException':
      return new RegistryError(`ECR has no repository ${target} (RepositoryNotFoundException${aws})`, {
        ...details,
        status: 404,
      });
    case 'ThrottlingException':
    case 'TooManyRequestsException':
      return new RegistryError(
        `the ECR API throttled ${op} on ${target} (${name}) and ${e.$metadata?.attempts ?? SDK_MAX_ATTEMPTS} attempts did not get through; lower concurrency or run at a quieter time`,
        { ...details, status: 429, retryable: true },
      );
    default:
      if (
        !status &&
        /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|socket|timeout/i.test(`${e.code} ${e.message}`)
      ) {
        return new RegistryError(
          `cannot reach the ECR API at ${endpoint} (${e.code ?? name}): check ecr_api_url/region and the network`,
          { code: name, retryable: true },
        );
      }
      return new RegistryError(`the ECR API failed ${op} on ${target} (${name}${aws})`, details);
  }
}

// The SDK has turned the JSON into objects already; what it cannot promise is that the service
// (or a proxy, or an endpoint set by ecr_api_url) sent the lists and the fields we read.
const RepositoriesPage = z
  .object({ repositories: z.array(z.unknown()), nextToken: z.string().nullish() })
  .transform((o) => ({ rows: o.repositories, nextToken: o.nextToken }));
const ImagesPage = z
  .object({ imageDetails: z.array(z.unknown()), nextToken: z.string().nullish() })
  .transform((o) => ({ rows: o.imageDetails, nextToken: o.nextToken }));

const EcrRepository = z.looseObject({ repositoryName: z.string() });

const EcrImage = z.looseObject({
  // Without a digest the image's tags are still listed and get resolved through the registry.
  imageDigest: z.string().nullish(),
  imageTags: z.array(z.string()).nullish(),
  // The SDK turns the API's epoch seconds into Dates.
  imagePushedAt: z.date().nullish(),
  lastRecordedPullTime: z.date().nullish(),
  imageSizeInBytes: z.number().nonnegative().nullish(),
  imageManifestMediaType: z.string().nullish(),
  subjectManifestDigest: z.string().nullish(),
  imageStatus: z.string().nullish(),
  lastArchivedAt: z.date().nullish(),
  lastActivatedAt: z.date().nullish(),
});

const INDEX_TYPES: ReadonlySet<string | undefined> = new Set([
  MediaType.OciIndex,
  MediaType.DockerManifestList,
]);
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** BatchDeleteImage's answer: the image ids it deleted, and a failure per id it did not. */
const BatchDeleteAnswer = z.object({
  imageIds: z.array(z.looseObject({ imageDigest: z.string().nullish() })).nullish(),
  failures: z
    .array(z.looseObject({ failureCode: z.string().nullish(), failureReason: z.string().nullish() }))
    .nullish(),
});

/** What the untagged images of a repository hold for the core: referrers, platform scans, the images. */
interface Untagged {
  referrers: Map<string, ReferrerDescriptor[]>;
  scans: Map<string, VulnerabilityCounts>;
  manifests: UntaggedManifest[];
}

/** RFC 3339 without milliseconds, as the other times in the graph are written. */
function isoTime(d: Date | null | undefined): string | undefined {
  return d instanceof Date && !Number.isNaN(d.getTime())
    ? d.toISOString().replace(/\.000Z$/, 'Z')
    : undefined;
}

/** An untagged DescribeImages row as retention reads it; none without a digest. */
function untaggedManifest(image: z.output<typeof EcrImage>): UntaggedManifest | undefined {
  const digest = image.imageDigest;
  if (!digest || !DIGEST.test(digest)) return undefined;
  const pushedAt = isoTime(image.imagePushedAt);
  const lastPulledAt = isoTime(image.lastRecordedPullTime);
  return {
    digest,
    ...(image.imageManifestMediaType ? { mediaType: image.imageManifestMediaType } : {}),
    ...(pushedAt ? { pushedAt } : {}),
    ...(lastPulledAt ? { lastPulledAt } : {}),
    ...(typeof image.imageSizeInBytes === 'number' ? { size: image.imageSizeInBytes } : {}),
  };
}

/** Whether some selector previews an ECR lifecycle policy: only then are the rows kept for it. */
function previewsLifecycle(p: ProviderSettings): boolean {
  return p.selectors.some((s) => s.retention?.ecrLifecyclePolicy !== undefined);
}

class EcrApi {
  calls = 0;
  /** Tagged single-platform images DescribeImages returned without a basic-scan summary. */
  unscanned = 0;
  /** Tagged manifest lists without a summary: ECR scans their platform manifests instead. */
  perPlatform = 0;
  /** Repositories whose untagged images could not all be read (their receipts say why). */
  readonly untaggedProblems: string[] = [];

  constructor(
    private readonly sdk: ECRClient,
    readonly endpoint: string,
    readonly registryId: string | undefined,
  ) {}

  /** One API call, counted with its retries; failures become RegistryErrors. */
  async send<T>(command: unknown, op: string, target: string, tally?: Tally): Promise<T> {
    try {
      // biome-ignore lint/suspicious/noExplicitAny: one entry point for three command types.
      const out = (await this.sdk.send(command as any)) as T & AwsErrorLike;
      this.count(out.$metadata?.attempts, tally);
      return out;
    } catch (err) {
      const e = err as AwsErrorLike;
      // A credentials failure happens before any request leaves.
      if (e.name !== 'CredentialsProviderError') this.count(e.$metadata?.attempts, tally);
      throw ecrApiError(err, op, target, this.endpoint);
    }
  }

  private count(attempts: number | undefined, tally?: Tally): void {
    const n = attempts && attempts > 0 ? attempts : 1;
    this.calls += n;
    if (tally) tally.requests += n;
  }

  async authorizationToken(): Promise<{ credentials: Credentials; encoded: string; expiresAt?: number }> {
    const out = await this.send<{
      authorizationData?: Array<{ authorizationToken?: string; expiresAt?: Date }>;
    }>(new GetAuthorizationTokenCommand({}), 'GetAuthorizationToken', 'the registry', undefined);
    const encoded = out.authorizationData?.[0]?.authorizationToken;
    const credentials = encoded ? decodeAuthorizationToken(encoded) : undefined;
    if (!encoded || !credentials)
      throw new AuthError('the ECR API answered GetAuthorizationToken without a usable authorizationToken');
    const expiresAt = out.authorizationData?.[0]?.expiresAt;
    return {
      credentials,
      encoded,
      ...(expiresAt instanceof Date ? { expiresAt: expiresAt.getTime() } : {}),
    };
  }

  /** One DescribeRepositories or DescribeImages listing, followed by its nextToken. */
  private pages<S extends z.ZodType>(
    p: ProviderSettings,
    call: (nextToken: string | undefined) => Promise<unknown>,
    page: z.ZodType<{ rows: unknown[]; nextToken?: string | null | undefined }>,
    row: S,
    noun: string,
  ): PageWalk<z.output<S>> {
    return PageWalk.cursors({
      source: 'the ECR API',
      maxPages: p.maxPages,
      read: async (cursor) => {
        const out = readPage(await call(cursor), page, `the ECR API's ${noun} page`);
        return { ...readRows(out.rows, row, noun), next: out.nextToken ?? undefined };
      },
    });
  }

  async repositories(p: ProviderSettings): Promise<RepositoryListing> {
    const walk = this.pages(
      p,
      (nextToken) =>
        this.send<DescribeRepositoriesCommandOutput>(
          new DescribeRepositoriesCommand({
            ...(this.registryId ? { registryId: this.registryId } : {}),
            maxResults: API_PAGE_SIZE,
            ...(nextToken ? { nextToken } : {}),
          }),
          'DescribeRepositories',
          this.registryId ? `registry ${this.registryId}` : 'the registry',
        ),
      RepositoriesPage,
      EcrRepository,
      'repository',
    );
    const items = new Set<string>();
    for await (const page of walk) for (const r of page.items) items.add(r.repositoryName);
    return { items: [...items], ...walk.verdict };
  }

  /** One DescribeImages listing of a repository, filtered by tag status. */
  private images(p: ProviderSettings, repo: string, tagStatus: TagStatus, tally: Tally) {
    return this.pages(
      p,
      (nextToken) =>
        this.send<DescribeImagesCommandOutput>(
          new DescribeImagesCommand({
            repositoryName: repo,
            ...(this.registryId ? { registryId: this.registryId } : {}),
            filter: { tagStatus },
            maxResults: API_PAGE_SIZE,
            ...(nextToken ? { nextToken } : {}),
          }),
          'DescribeImages',
          repo,
          tally,
        ),
      ImagesPage,
      EcrImage,
      'image',
    );
  }

  /**
   * Tags from the tagged images, then referrers, platform scans and the untagged images
   * themselves (for retention) from the untagged ones. Two listings rather than one with
   * tagStatus ANY: the tag listing stays as complete and as cheap as before whatever untagged
   * leftovers a repository holds, and a repository without untagged images pays one call for the
   * second. With an ECR lifecycle policy to preview, both listings' rows are handed on as the
   * policy sees them.
   */
  async tags(p: ProviderSettings, repo: string, tally: Tally): Promise<TagListing> {
    const items = new Set<string>();
    const vendor = new Map<string, VendorTag>();
    const referrers = new Map<string, ReferrerDescriptor[]>();
    const rows: LifecycleImage[] | undefined = previewsLifecycle(p) ? [] : undefined;
    const walk = this.images(p, repo, 'TAGGED', tally);
    for await (const page of walk) {
      for (const image of page.items) {
        this.addImage(image as ImageDetail, items, vendor, p.discoverVulnerabilities);
        addReferrer(image as ImageDetail, referrers);
        addRow(image, rows);
      }
    }
    const listing: TagListing = { items: [...items], vendor, ...walk.verdict };
    // Without a tag nothing is selected, so nothing there needs its referrers or platform scans.
    if (items.size === 0)
      return { ...listing, referrers, ...(p.discoverVulnerabilities ? { scans: new Map() } : {}) };
    const untagged = await this.untagged(p, repo, tally, referrers, rows);
    if ('problem' in untagged) {
      // The tags are whole; what the untagged images say is not, so no referrer or platform scan
      // is handed on as if it were all there, and the receipt says why.
      this.untaggedProblems.push(repo);
      return {
        ...listing,
        complete: false,
        problem: [listing.problem, `untagged images (referrers, platform scans): ${untagged.problem}`]
          .filter(Boolean)
          .join('; '),
      };
    }
    return {
      ...listing,
      referrers: untagged.referrers,
      ...(p.discoverVulnerabilities ? { scans: untagged.scans } : {}),
      ...(listing.complete
        ? { untagged: untagged.manifests, ...(rows ? { lifecycleImages: rows } : {}) }
        : {}),
    };
  }

  /**
   * BatchDeleteImage by digest: the image and every tag on it, in one call. ECR answers 200 with
   * a per-image failure (ImageReferencedByManifestList, ImageNotFound, …) rather than an error; a
   * role without ecr:BatchDeleteImage gets AccessDeniedException.
   */
  async deleteImage(repo: string, digest: string, tally: Tally): Promise<DeleteAnswer> {
    let out: unknown;
    try {
      out = await this.send(
        new BatchDeleteImageCommand({
          repositoryName: repo,
          ...(this.registryId ? { registryId: this.registryId } : {}),
          imageIds: [{ imageDigest: digest }],
        }),
        'BatchDeleteImage',
        repo,
        tally,
      );
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      const status = err.details.status !== undefined ? { status: err.details.status } : {};
      return err instanceof AuthError
        ? { outcome: 'refused', why: 'denied', ...status, message: err.message }
        : { outcome: 'failed', ...status, message: err.message };
    }
    const parsed = BatchDeleteAnswer.safeParse(out);
    if (!parsed.success) {
      return {
        outcome: 'failed',
        message: `the ECR API answered BatchDeleteImage on ${repo} with something else than its documented shape`,
      };
    }
    if (parsed.data.imageIds?.some((id) => id.imageDigest === digest)) return { outcome: 'deleted' };
    const failure = parsed.data.failures?.[0];
    const said = failure
      ? [failure.failureCode, failure.failureReason].filter(Boolean).join(': ')
      : 'no image deleted and no failure given';
    return { outcome: 'failed', message: `the ECR API did not delete ${repo}@${digest} (${said})` };
  }

  private async untagged(
    p: ProviderSettings,
    repo: string,
    tally: Tally,
    referrers: Map<string, ReferrerDescriptor[]>,
    rows: LifecycleImage[] | undefined,
  ): Promise<Untagged | { problem: string }> {
    const scans = new Map<string, VulnerabilityCounts>();
    const manifests: UntaggedManifest[] = [];
    const walk = this.images(p, repo, 'UNTAGGED', tally);
    try {
      for await (const page of walk) {
        for (const row of page.items) {
          const manifest = untaggedManifest(row);
          if (manifest) manifests.push(manifest);
          addRow(row, rows);
          const image = row as ImageDetail;
          if (addReferrer(image, referrers)) continue;
          const counts = image.imageScanFindingsSummary?.findingSeverityCounts;
          if (counts && image.imageDigest && DIGEST.test(image.imageDigest))
            scans.set(image.imageDigest, vulnerabilityCounts(counts));
        }
      }
    } catch (err) {
      if (err instanceof RegistryError) return { problem: err.message };
      throw err;
    }
    const verdict = walk.verdict;
    return verdict.complete ? { referrers, scans, manifests } : { problem: verdict.problem! };
  }

  private addImage(
    image: ImageDetail,
    items: Set<string>,
    vendor: Map<string, VendorTag>,
    withScans: boolean,
  ): void {
    const tags = image.imageTags ?? [];
    if (tags.length === 0) return;
    const digest = image.imageDigest;
    const pushed = image.imagePushedAt instanceof Date ? image.imagePushedAt.toISOString() : undefined;
    const counts = image.imageScanFindingsSummary?.findingSeverityCounts;
    if (withScans && !counts) {
      if (INDEX_TYPES.has(image.imageManifestMediaType)) this.perPlatform++;
      else this.unscanned++;
    }
    for (const tag of tags) {
      items.add(tag);
      // Without a digest the tag is still listed and gets resolved through the registry.
      if (!digest || !DIGEST.test(digest)) continue;
      vendor.set(tag, {
        digest,
        ...(pushed ? { pushedAt: pushed.replace(/\.000Z$/, 'Z') } : {}),
        ...(withScans && counts ? { vulnerabilities: vulnerabilityCounts(counts) } : {}),
      });
    }
  }
}

/**
 * An image as the lifecycle policy sees it, from the DescribeImages row the ECR listing already
 * read (tagged and untagged); none for a row without a digest or push time. Which manifests a
 * manifest list references is not in the row: set `children` from the manifests discovery read.
 */
export function lifecycleImageFromEcr(detail: ImageDetail): LifecycleImage | undefined {
  const { imageDigest: digest, imagePushedAt } = detail;
  if (!digest || !(imagePushedAt instanceof Date)) return undefined;
  const iso = (d: Date | undefined) => (d instanceof Date ? { value: d.toISOString() } : undefined);
  const pulled = iso(detail.lastRecordedPullTime);
  const archived = iso(detail.lastArchivedAt);
  const activated = iso(detail.lastActivatedAt);
  return {
    digest,
    tags: detail.imageTags ?? [],
    pushedAt: imagePushedAt.toISOString(),
    ...(pulled ? { lastPulledAt: pulled.value } : {}),
    // An image being restored (ACTIVATING) is still in archive until the restore completes.
    ...(detail.imageStatus === 'ARCHIVED' || detail.imageStatus === 'ACTIVATING'
      ? { storageClass: 'archive' as const }
      : {}),
    ...(archived ? { lastArchivedAt: archived.value } : {}),
    ...(activated ? { lastActivatedAt: activated.value } : {}),
    ...(detail.subjectManifestDigest ? { subject: detail.subjectManifestDigest } : {}),
  };
}

/** A DescribeImages row as the lifecycle policy sees it, when the rows are kept for a preview. */
function addRow(image: z.output<typeof EcrImage>, rows: LifecycleImage[] | undefined): void {
  if (!rows) return;
  const row = lifecycleImageFromEcr(image as ImageDetail);
  if (row) rows.push(row);
}

/** One "vulnerabilities:" line (it replaces the generic one), when some image has no summary. */
function vulnerabilityNotes(api: EcrApi): string[] {
  const parts: string[] = [];
  if (api.unscanned > 0)
    parts.push(
      `${api.unscanned} images have no basic-scan summary (never scanned, or enhanced scanning reports in Amazon Inspector)`,
    );
  if (api.perPlatform > 0)
    parts.push(
      `${api.perPlatform} multi-platform images have no summary of their own: ECR scans their platform manifests, whose counts are summed for them`,
    );
  return parts.length > 0 ? [`vulnerabilities: ${parts.join('; ')}`] : [];
}

async function openSdkMode(ctx: VendorContext, parsed: EcrHost | undefined): Promise<RegistryAdapter> {
  const p = ctx.settings;
  const env = ctx.ambient.env;
  const region = p.region ?? parsed?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const host = new URL(p.apiUrl).host;
  if (!region) {
    throw new RegistryError(
      `cannot tell the AWS region of ${host} (not an <account>.dkr.ecr.<region>.amazonaws.com host): set region in the config, e.g. region: us-east-1`,
    );
  }
  const keyId = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  const session = env.AWS_SESSION_TOKEN;
  ctx.secrets.add(secret);
  ctx.secrets.add(session);
  const explicit = keyId && secret;
  const source = explicit ? 'AWS_ACCESS_KEY_ID in the environment' : "the AWS SDK's default credential chain";
  const sdk = new ECRClient({
    region,
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: { requestTimeout: p.timeoutMs, connectionTimeout: Math.min(p.timeoutMs, 10_000) },
    ...(p.ecrApiUrl ? { endpoint: p.ecrApiUrl } : {}),
    ...(parsed?.fips ? { useFipsEndpoint: true } : {}),
    ...(explicit
      ? {
          credentials: {
            accessKeyId: keyId,
            secretAccessKey: secret,
            ...(session ? { sessionToken: session } : {}),
          },
        }
      : {}),
  });
  const endpoint = p.ecrApiUrl ?? `the ECR API in ${region}`;
  const api = new EcrApi(sdk, endpoint, parsed?.accountId);

  let minted: Awaited<ReturnType<EcrApi['authorizationToken']>>;
  try {
    minted = await api.authorizationToken();
  } catch (err) {
    // Without AWS credentials, a docker login left in config.json (amazon-ecr-login) still works.
    if (
      err instanceof AuthError &&
      err.details.code === 'CredentialsProviderError' &&
      hasCredentials(ctx.credentials)
    ) {
      sdk.destroy();
      return openTokenMode(
        ctx,
        `ECR: no AWS credentials, so the registry login from ${ctx.credentialSource} is used without the ECR API`,
      );
    }
    sdk.destroy();
    throw err;
  }
  let expiresAt = minted.expiresAt;
  let current: Credentials;
  const remember = (m: typeof minted) => {
    ctx.secrets.add(m.encoded);
    ctx.secrets.add(m.credentials.password);
    expiresAt = m.expiresAt;
    current = m.credentials;
    return m.credentials;
  };
  const basicHeader = (c: Credentials) =>
    `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  // The registry password lives 12 hours and can expire inside a long run: re-mint it once,
  // shared by every request that saw the expiry, and retry.
  let pending: Promise<void> | undefined;
  const client: RegistryClient = ctx.connect(remember(minted), {
    onFailure: async (res, { sentAuthorization }) => {
      if (res.status !== 401 && res.status !== 403) return undefined;
      const expired =
        EXPIRED_REGISTRY_TOKEN.test(registryErrorText(res) ?? '') ||
        (expiresAt !== undefined && Date.now() >= expiresAt - 60_000);
      if (!expired) return undefined;
      if (sentAuthorization === basicHeader(current)) {
        pending ??= api
          .authorizationToken()
          .then((m) => client.auth.replaceCredentials(remember(m)))
          .finally(() => {
            pending = undefined;
          });
        await pending;
      }
      return 'retry';
    },
  });
  return {
    client,
    describeCredential: () =>
      `AWS credentials from ${source} through the ECR API (region ${region}), registry password from GetAuthorizationToken`,
    listRepositories: () => api.repositories(p),
    listTags: (repo, tally) => api.tags(p, repo, tally),
    deleteManifest: (repo, digest, _tags, tally) => api.deleteImage(repo, digest, tally),
    headFirst: false,
    scansVulnerabilities: true,
    notes: () => [
      `ECR API: ${api.calls} calls`,
      ...(p.discoverVulnerabilities ? vulnerabilityNotes(api) : []),
      ...(api.untaggedProblems.length > 0
        ? [
            `ECR API: the untagged images of ${api.untaggedProblems.join(', ')} could not all be read: their referrers and platform scans are left out (see the receipts)`,
          ]
        : []),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// ECR Public.

async function openEcrPublic(ctx: VendorContext): Promise<RegistryAdapter> {
  const p = ctx.settings;
  if (hasCredentials(ctx.credentials)) {
    ctx.log.warn(
      `${p.name}: not using the credentials from ${ctx.credentialSource} for ECR Public: get-login-password credentials have been answered with HTTP 400 on tags/list; public repositories are read with the anonymous token`,
    );
  }
  const url = new URL('/token/', p.apiUrl).toString();
  const res = await ctx.http.request({
    method: 'GET',
    url,
    kind: 'token',
    timeoutMs: p.timeoutMs,
    headers: { accept: 'application/json' },
  });
  if (res.status !== 200)
    throw new AuthError(
      `ECR Public's anonymous token endpoint ${describeUrl(url)} answered HTTP ${res.status}`,
      {
        status: res.status,
      },
    );
  const token = (jsonBody(res) as { token?: unknown } | null | undefined)?.token;
  if (typeof token !== 'string' || !token)
    throw new AuthError(`ECR Public's token endpoint ${describeUrl(url)} sent no token`);
  ctx.secrets.add(token);
  const client = ctx.connect({ token });
  return {
    ...ociAdapter(ctx, client),
    describeCredential: () => 'an anonymous ECR Public token (GET /token/)',
    listRepositories: async () => publicRepositories(p),
    notes: () => ['ECR Public: anonymous token; no listing API, so one manifest request per tag'],
  };
}

/** ECR Public lists nothing to anonymous users: the selectors must spell the repositories out. */
export function publicRepositories(p: ProviderSettings): RepositoryListing {
  const items = new Set<string>();
  for (const s of p.selectors) {
    const alias = literalNamespace(s.namespacePattern.source);
    const names = literalNames(s.repositoryPattern.source);
    if (!alias || !names) {
      const advice = namingAdvice('repository_pattern', s.repositoryPattern.source);
      throw new RegistryError(
        `ECR Public has no repository listing for anonymous users: selector namespace_pattern ${JSON.stringify(s.namespacePattern.source)} and repository_pattern ${JSON.stringify(s.repositoryPattern.source)} must name repositories literally, e.g. namespace_pattern: "^docker$" and repository_pattern: "^(library/nginx|library/redis)$"${advice ? `; ${advice}` : ''}`,
      );
    }
    for (const n of names) items.add(`${alias}/${n}`);
  }
  return { items: [...items].sort(), pages: 0, complete: true };
}
