// AWS ECR against its fake: the ECR API with the job's AWS credentials (digests, push times and
// scan counts from DescribeImages, no per-tag registry requests), the registry password from
// get-login-password (plain OCI path), and ECR Public with its anonymous token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { RepositoryContent } from '../../src/demo/image-builder.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { HttpClient } from '../../src/http/http-client.js';
import { type Log, silentLog } from '../../src/log.js';
import type { Graph } from '../../src/model/graph.js';
import { vulnerabilityCounts } from '../../src/registries/ecr.js';
import { openAdapter } from '../../src/registries/open-adapter.js';
import type { Ambient } from '../../src/registries/registry-adapter.js';
import { Secrets } from '../../src/secrets.js';
import { comparableGraph } from '../support/comparable-graph.js';
import { discoverText } from '../support/discover-text.js';
import { renameRepositories, tagFacts } from '../support/fakes/content-facts.js';
import {
  type EcrFake,
  FAKE_ACCESS_KEY,
  FAKE_SECRET_KEY,
  fakeSeverityCounts,
  startEcrFake,
  startEcrPublicFake,
} from '../support/fakes/ecr-fake.js';
import { manyTagsRepository } from '../support/fakes/many-tags.js';
import { buildReferrer, withReferrers } from '../support/fakes/referrers.js';

const root = join(import.meta.dirname, '..', '..');
const EXAMPLE = readFileSync(join(root, 'examples', 'configs', 'ecr.yml'), 'utf8');
const PUBLIC_EXAMPLE = readFileSync(join(root, 'examples', 'configs', 'ecr-public.yml'), 'utf8');

/** What aws-actions/configure-aws-credentials exports. */
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: FAKE_SECRET_KEY,
  AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN',
  AWS_REGION: 'eu-west-1',
};

type ProviderConfig = Record<string, unknown>;

/** The README example with the fake's URLs, optionally changed further. */
function exampleFor(fake: { url: string }, change: (c: ProviderConfig) => void = () => {}, text = EXAMPLE) {
  const doc = parse(text) as { providers: Array<{ config: ProviderConfig }> };
  const config = doc.providers[0]!.config;
  config.api_url = fake.url;
  if (text === EXAMPLE) config.ecr_api_url = fake.url;
  change(config);
  return stringify(doc);
}

interface RunOptions {
  env?: Record<string, string>;
  ambient?: Partial<Ambient>;
  log?: Log;
}

function run(yaml: string, o: RunOptions = {}) {
  return discoverText(yaml, {
    env: o.env,
    origin: 'ecr.yml',
    log: o.log,
    http: new HttpClient({ baseBackoffMs: 1 }),
    generatedAt: '2025-07-01T00:00:00Z',
    ambient: { env: {}, ...o.ambient },
  });
}

const images = (g: Graph) => g.entities.filter((e) => e.kind === 'DockerImage');
const receiptOf = (g: Graph, repo: string) => g.receipts.find((r) => r.repository === repo)!;
const ops = (fake: EcrFake) => fake.apiCalls.map((c) => c.op);

let fake: EcrFake;
beforeAll(async () => {
  fake = await startEcrFake({
    repositories: [...sampleRepositories(), manyTagsRepository('acme/many-tags', 250)],
    imagesPageCap: 100,
    repositoriesPageCap: 3,
    tagPageSize: 3,
    catalogPageSize: 2,
    unscanned: ['acme/legacy-batch'],
  });
});
afterAll(() => fake.close());
afterEach(() => {
  fake.apiCalls.length = 0;
  fake.registry.requests.length = 0;
  fake.refused.length = 0;
  vi.unstubAllEnvs();
});

describe('ECR with AWS credentials (ECR API)', () => {
  it('lists every repository and tag through DescribeRepositories/DescribeImages pages, no per-tag registry requests', async () => {
    const r = await run(exampleFor(fake), { ambient: { env: AWS_ENV } });
    expect(r.complete).toBe(true);
    expect(r.graph.receipts.map((x) => [x.repository, x.tags_listed])).toEqual([
      ['acme/legacy-batch', 3],
      ['acme/many-tags', 250],
      ['acme/payments-api', 8],
      ['acme/platform/ingress-controller', 4],
      ['acme/web-frontend', 4],
    ]);
    // 8 repositories at 3 per page; 250 images at (a server-capped) 100 per page.
    expect(ops(fake).filter((o) => o === 'DescribeRepositories')).toHaveLength(3);
    const many = receiptOf(r.graph.load(), 'acme/many-tags');
    expect(many.pages).toBe(3);
    expect((many.pages / many.tags_listed) * 100).toBeLessThanOrEqual(3);
    expect(ops(fake).filter((o) => o === 'GetAuthorizationToken')).toHaveLength(1);
    // Tags come from the tagged images only; a second listing of the untagged ones (referrers,
    // platform scans), one call per repository here, is the only other DescribeImages call.
    const isUntagged = (c: (typeof fake.apiCalls)[number]) =>
      (c.body.filter as { tagStatus?: string } | undefined)?.tagStatus === 'UNTAGGED';
    for (const call of fake.apiCalls.filter((c) => c.op === 'DescribeImages')) {
      expect(call.body).toMatchObject({
        maxResults: 1000,
        filter: { tagStatus: isUntagged(call) ? 'UNTAGGED' : 'TAGGED' },
      });
      expect(call).toMatchObject({ accessKey: FAKE_ACCESS_KEY, region: 'eu-west-1', status: 200 });
    }
    expect(fake.apiCalls.filter((c) => c.op === 'DescribeImages' && isUntagged(c))).toHaveLength(5);
    // Receipts count the API calls made for the repository, plus its manifest and config requests.
    expect(many.requests).toBeGreaterThanOrEqual(3);
    // The registry sees no listing and no manifest by tag: only the kept images' trees by digest.
    const served = fake.registry.requests;
    expect(served.some((q) => q.kind === 'catalog' || q.kind === 'tags')).toBe(false);
    expect(served.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:'))).toEqual([]);
    expect(served.filter((q) => q.kind === 'manifest')).toHaveLength(
      r.graph.load().entities.filter((e) => e.kind === 'DockerManifest').length,
    );
    expect(r.summary).toContain(`ECR API: ${fake.apiCalls.length} calls`);
    // The minted registry password and the AWS secrets are masked.
    for (const s of [fake.issued[0]!, AWS_ENV.AWS_SECRET_ACCESS_KEY, AWS_ENV.AWS_SESSION_TOKEN])
      expect(r.secrets.redact(`x ${s} x`)).toBe('x *** x');
  });

  it('keeps the newest max_tags by imagePushedAt and reports it as last_updated', async () => {
    const r = await run(exampleFor(fake), { ambient: { env: AWS_ENV } });
    const newest = fake
      .images('acme/many-tags')
      .sort((a, b) => (a.pushedAt < b.pushedAt ? 1 : -1))
      .slice(0, 5);
    const kept = images(r.graph.load()).filter((e) => e.spec.repository === 'acme/many-tags');
    expect(kept.map((e) => e.spec.tag).sort()).toEqual(newest.map((i) => i.tags[0]).sort());
    for (const img of newest) {
      const entity = kept.find((e) => e.spec.tag === img.tags[0])!;
      expect(entity.spec.last_updated).toBe(img.pushedAt);
    }
    // Only the 5 kept images' manifests were read from that repository.
    const manifests = fake.registry.requests.filter(
      (q) => q.kind === 'manifest' && q.path.includes('many-tags'),
    );
    expect(manifests).toHaveLength(5);
  });

  it('fills vulnerabilities from the scan summary, and says which images have none', async () => {
    const r = await run(exampleFor(fake), { ambient: { env: AWS_ENV } });
    const web = fake.images('acme/web-frontend')[0]!;
    const entity = images(r.graph.load()).find(
      (e) => e.spec.repository === 'acme/web-frontend' && e.spec.tag === web.tags[0],
    )!;
    expect(entity.spec.vulnerabilities).toEqual(vulnerabilityCounts(web.severity));
    expect(vulnerabilityCounts({ CRITICAL: 2, HIGH: 1, UNDEFINED: 3 })).toEqual({
      total: 6,
      critical: 2,
      high: 1,
      unknown: 3,
    });
    expect(fakeSeverityCounts(web.digest)).toEqual(web.severity);
    const legacy = images(r.graph.load()).filter((e) => e.spec.repository === 'acme/legacy-batch');
    expect(legacy.length).toBeGreaterThan(0);
    for (const e of legacy) expect(e.spec.vulnerabilities).toBeUndefined();
    expect(r.summary).toMatch(/vulnerabilities: 2 images have no basic-scan summary/);
    expect(r.summary).not.toContain('not available');
  });

  it('re-mints the registry password once when ECR says it expired mid-run', async () => {
    fake.shortLivedPasswords(2);
    const r = await run(exampleFor(fake), { ambient: { env: AWS_ENV } });
    expect(r.complete).toBe(true);
    expect(fake.refused.filter((q) => q.status === 403).length).toBeGreaterThan(0);
    expect(ops(fake).filter((o) => o === 'GetAuthorizationToken')).toHaveLength(2);
  });

  it('names the missing permission when the role may not call an operation', async () => {
    const denied = await startEcrFake();
    try {
      denied.deny('DescribeImages');
      const r = await run(exampleFor(denied), { ambient: { env: AWS_ENV } });
      expect(r.complete).toBe(false);
      expect(receiptOf(r.graph.load(), 'acme/web-frontend').errors[0]).toBe(
        `cannot list tags: the ECR API denied DescribeImages on acme/web-frontend (AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/github-actions/GitHubActions is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:eu-west-1:123456789012:repository/acme/web-frontend because no identity-based policy allows the ecr:DescribeImages action); the AWS identity needs the ecr:DescribeImages permission (the read-only set is ecr:GetAuthorizationToken, ecr:DescribeRepositories, ecr:DescribeImages)`,
      );
      denied.deny('GetAuthorizationToken');
      const r2 = await run(exampleFor(denied), { ambient: { env: AWS_ENV } });
      expect(r2.graph.receipts[0]!.errors[0]).toMatch(
        /^cannot reach the registry: the ECR API denied GetAuthorizationToken .*the AWS identity needs the ecr:GetAuthorizationToken permission/,
      );
    } finally {
      await denied.close();
    }
  });

  it('rides out throttling with the SDK retries and counts every attempt', async () => {
    fake.throttle(2);
    const r = await run(exampleFor(fake), { ambient: { env: AWS_ENV } });
    expect(r.complete).toBe(true);
    expect(fake.apiCalls.filter((c) => c.error === 'ThrottlingException')).toHaveLength(2);
    expect(r.summary).toContain(`ECR API: ${fake.apiCalls.length} calls`);
  });

  it('says when throttling outlasts the retries', async () => {
    fake.throttle(4);
    const r = await run(exampleFor(fake), { ambient: { env: AWS_ENV } });
    fake.throttle(0);
    expect(r.graph.receipts[0]!.errors[0]).toBe(
      'cannot reach the registry: the ECR API throttled GetAuthorizationToken on the registry (ThrottlingException) and 4 attempts did not get through; lower concurrency or run at a quieter time',
    );
  });

  it('explains rejected, expired and missing AWS credentials', async () => {
    const wrong = await run(exampleFor(fake), {
      ambient: { env: { ...AWS_ENV, AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG0' } },
    });
    expect(wrong.graph.receipts[0]!.errors[0]).toBe(
      'cannot reach the registry: AWS rejected the credentials calling ECR GetAuthorizationToken (UnrecognizedClientException: The security token included in the request is invalid.): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or the aws-actions/configure-aws-credentials step',
    );

    const expiring = await startEcrFake();
    try {
      expiring.expireSessions();
      const expired = await run(exampleFor(expiring), { ambient: { env: AWS_ENV } });
      expect(expired.graph.receipts[0]!.errors[0]).toBe(
        'cannot reach the registry: the AWS credentials have expired (ExpiredTokenException) calling GetAuthorizationToken: re-run aws-actions/configure-aws-credentials, or raise its role-duration-seconds for long runs',
      );
    } finally {
      await expiring.close();
    }

    fake.apiCalls.length = 0;
    // Nothing for the SDK's default chain either (no env, files or instance metadata).
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      vi.stubEnv(k, undefined);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
    const none = await run(exampleFor(fake), { ambient: { env: { AWS_REGION: 'eu-west-1' } } });
    expect(none.graph.receipts[0]!.errors[0]).toBe(
      'cannot reach the registry: no AWS credentials for the ECR API (GetAuthorizationToken): add an aws-actions/configure-aws-credentials step before this one (a role allowed ecr:GetAuthorizationToken, ecr:DescribeRepositories, ecr:DescribeImages), or set token: ${ECR_TOKEN} with the output of `aws ecr get-login-password`',
    );
    expect(fake.apiCalls).toEqual([]);

    // ...but a docker login left in config.json (aws-actions/amazon-ecr-login) still gets through.
    const auth = Buffer.from(`AWS:${fake.loginPassword()}`).toString('base64');
    const docker = await run(exampleFor(fake), {
      ambient: {
        env: { AWS_REGION: 'eu-west-1' },
        dockerConfig: {
          path: '/home/runner/.docker/config.json',
          text: JSON.stringify({ auths: { [new URL(fake.url).host]: { auth } } }),
        },
      },
    });
    expect(docker.complete).toBe(true);
    expect(docker.summary).toContain(
      'no AWS credentials, so the registry login from /home/runner/.docker/config.json',
    );
  });

  it('asks for a region when the host does not carry one', async () => {
    const r = await run(exampleFor(fake), { ambient: { env: { ...AWS_ENV, AWS_REGION: '' } } });
    expect(r.graph.receipts[0]!.errors[0]).toMatch(
      /cannot tell the AWS region of 127\.0\.0\.1:\d+ .*set region in the config/,
    );
    const withRegion = await run(
      exampleFor(fake, (c) => (c.region = 'eu-west-1')),
      {
        ambient: { env: { ...AWS_ENV, AWS_REGION: '' } },
      },
    );
    expect(withRegion.complete).toBe(true);
  });
});

describe('ECR with a registry password (get-login-password)', () => {
  const withToken = (c: ProviderConfig) => {
    c.token = '${ECR_TOKEN}';
  };

  it('sends Basic AWS:<token> and lists every repository and tag page with n ≤ 1000', async () => {
    const password = fake.loginPassword();
    const r = await run(exampleFor(fake, withToken), {
      env: { ECR_TOKEN: password },
      ambient: { env: AWS_ENV },
    });
    expect(r.complete).toBe(true);
    expect(fake.apiCalls).toEqual([]);
    expect(receiptOf(r.graph.load(), 'acme/many-tags').tags_listed).toBe(250);
    expect(receiptOf(r.graph.load(), 'acme/many-tags').pages).toBe(84);
    const served = fake.registry.requests;
    // 8 repositories at 2 per catalog page.
    expect(served.filter((q) => q.kind === 'catalog')).toHaveLength(4);
    expect(
      served
        .filter((q) => q.kind === 'catalog' || q.kind === 'tags')
        .every((q) => /[?&]n=1000\b/.test(q.path) || q.path.includes('last=')),
    ).toBe(true);
    expect(fake.refused.filter((q) => q.status === 405)).toEqual([]);
    // Plain OCI path: one manifest request by tag per candidate (not 405-retried, not doubled).
    const byTag = served.filter((q) => q.kind === 'manifest' && !q.path.includes('sha256:'));
    expect(byTag.filter((q) => q.path.includes('many-tags'))).toHaveLength(250);
    expect(r.summary).toContain('registry password only (no AWS API)');
    expect(r.secrets.redact(password)).toBe('***');
  });

  it('accepts username AWS + password, and the base64 authorizationToken as token', async () => {
    const password = fake.loginPassword();
    const basic = await run(
      exampleFor(fake, (c) => {
        c.username = 'AWS';
        c.password = '${ECR_TOKEN}';
        c.selectors = [{ namespace_pattern: '^acme$', repository_pattern: '^web-frontend$', max_tags: 2 }];
      }),
      { env: { ECR_TOKEN: password } },
    );
    expect(basic.complete).toBe(true);
    const encoded = Buffer.from(`AWS:${password}`).toString('base64');
    const b64 = await run(
      exampleFor(fake, (c) => {
        c.token = '${ECR_TOKEN}';
        c.selectors = [{ namespace_pattern: '^acme$', repository_pattern: '^web-frontend$', max_tags: 2 }];
      }),
      { env: { ECR_TOKEN: encoded } },
    );
    expect(b64.complete).toBe(true);
    expect(comparableGraph(b64.graph.load())).toBe(comparableGraph(basic.graph.load()));
  });

  it('answers n > 1000 with 405 UNSUPPORTED like ECR', async () => {
    const auth = `Basic ${Buffer.from(`AWS:${fake.loginPassword()}`).toString('base64')}`;
    const res = await fetch(`${fake.url}/v2/acme/web-frontend/tags/list?n=1001`, {
      headers: { authorization: auth },
    });
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual({
      errors: [
        {
          code: 'UNSUPPORTED',
          message:
            "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'",
        },
      ],
    });
  });

  it('says what to do about an expired or wrong password', async () => {
    const password = fake.loginPassword();
    fake.expirePasswords();
    const expired = await run(exampleFor(fake, withToken), { env: { ECR_TOKEN: password } });
    expect(expired.graph.receipts[0]!.errors[0]).toMatch(
      /^cannot list repositories: registry 127\.0\.0\.1:\d+ denied access to registry:catalog:\* \(HTTP 403: DENIED Your authorization token has expired\. Reauthenticate and try again\.\); credential used: username "AWS" with a password; check the credentials and their permissions; ECR registry passwords \(aws ecr get-login-password\) expire after 12 hours: fetch a new one in the same job/,
    );
    const wrong = await run(exampleFor(fake, withToken), { env: { ECR_TOKEN: 'not-a-real-ecr-password' } });
    expect(wrong.graph.receipts[0]!.errors[0]).toMatch(
      /^cannot list repositories: registry 127\.0\.0\.1:\d+ denied access to registry:catalog:\* \(HTTP 401: DENIED Not Authorized\)/,
    );
    expect(wrong.summary).not.toContain('not-a-real-ecr-password');
  });
});

describe('ECR fast path and the plain OCI path', () => {
  it('give the same graph for the same registry', async () => {
    const small = await startEcrFake();
    try {
      const all = (c: ProviderConfig) => {
        c.discover_vulnerabilities = false;
        c.selectors = [{ max_tags: 0 }];
      };
      const api = await run(exampleFor(small, all), { ambient: { env: AWS_ENV } });
      const password = small.loginPassword();
      const oci = await run(
        exampleFor(small, (c) => {
          all(c);
          c.registry_type = 'private';
          c.username = 'AWS';
          c.password = '${ECR_TOKEN}';
          delete c.ecr_api_url;
        }),
        { env: { ECR_TOKEN: password } },
      );
      expect(api.complete).toBe(true);
      expect(oci.complete).toBe(true);
      // 34 tags, one of them a cosign signature (not an image).
      expect(images(api.graph.load()).length).toBe(33);
      expect(comparableGraph(api.graph.load())).toBe(comparableGraph(oci.graph.load()));
    } finally {
      await small.close();
    }
  });
});

describe('ECR untagged images: referrers and platform scans (adapter)', () => {
  const SIGSTORE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const SPDX = 'application/spdx+json';

  /** nginx (3 indexes, 2 platforms and 2 BuildKit attestations each), `latest` signed and with an SBOM. */
  function signedRepository(): RepositoryContent {
    const base = renameRepositories([sampleRepositories()[0]!], () => 'acme/signed')[0]!;
    const latest = base.manifests.find((m) => m.digest === base.tags.latest)!;
    const referrers = [
      buildReferrer({
        subject: latest,
        artifactType: SIGSTORE,
        layerMediaType: SIGSTORE,
        payload: '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}',
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
      }),
      buildReferrer({
        subject: latest,
        artifactType: SPDX,
        layerMediaType: SPDX,
        payload: '{"spdxVersion":"SPDX-2.3"}',
      }),
    ];
    return withReferrers(base, referrers);
  }

  async function open(
    fakeOptions: Parameters<typeof startEcrFake>[0],
    change: (c: ProviderConfig) => void = () => {},
  ) {
    const own = await startEcrFake({
      repositories: [signedRepository()],
      unscannedIndexes: true,
      ...fakeOptions,
    });
    const secrets = new Secrets();
    const settings = loadConfig(exampleFor(own, change), { env: {}, secrets, origin: 'ecr.yml' });
    const http = new HttpClient({ baseBackoffMs: 1 });
    const adapter = await openAdapter({
      settings: settings.providers[0]!,
      http,
      secrets,
      log: silentLog,
      ambient: { env: AWS_ENV },
    });
    return {
      fake: own,
      adapter,
      close: async () => {
        await http.close();
        await own.close();
      },
    };
  }

  it('hands referrers on by subject and platform scans by digest; neither becomes a tag', async () => {
    const o = await open({});
    try {
      const tally = { requests: 0 };
      const listing = await o.adapter.listTags('acme/signed', tally);
      const tagged = o.fake.images('acme/signed');
      const untagged = o.fake.untagged('acme/signed');
      expect(listing.complete).toBe(true);
      expect(listing.items.sort()).toEqual(tagged.flatMap((i) => i.tags).sort());
      expect([...listing.vendor!.values()].every((v) => tagged.some((i) => i.digest === v.digest))).toBe(
        true,
      );
      // ECR does not scan a manifest list: the tags carry no counts, their platforms do.
      expect([...listing.vendor!.values()].some((v) => v.vulnerabilities)).toBe(false);
      const latest = tagged.find((i) => i.tags.includes('latest'))!.digest;
      const refs = untagged.filter((u) => u.subject);
      expect(refs).toHaveLength(2);
      expect(Object.fromEntries(listing.referrers!)).toEqual({
        [latest]: refs.map((r) => ({
          digest: r.digest,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          artifactType: r.artifactMediaType,
        })),
      });
      expect(refs.map((r) => r.artifactMediaType).sort()).toEqual([SPDX, SIGSTORE].sort());
      // Six platform manifests scanned; the six attestation manifests and the referrers are not.
      const platforms = untagged.filter((u) => u.severity);
      expect(platforms).toHaveLength(6);
      expect(Object.fromEntries(listing.scans!)).toEqual(
        Object.fromEntries(platforms.map((u) => [u.digest, vulnerabilityCounts(u.severity)])),
      );
      // One call for the tags, one for the untagged images; pages count the tag listing alone.
      expect(o.fake.apiCalls.filter((c) => c.op === 'DescribeImages').map((c) => c.body.filter)).toEqual([
        { tagStatus: 'TAGGED' },
        { tagStatus: 'UNTAGGED' },
      ]);
      expect(tally.requests).toBe(2);
      expect(listing.pages).toBe(1);
      expect(o.adapter.notes()).toContain(
        'vulnerabilities: 3 multi-platform images have no summary of their own: ECR scans their platform manifests, whose counts are summed for them',
      );
    } finally {
      await o.close();
    }
  });

  it('discovery sums the platform scans into each multi-platform image and reads the referrers it names', async () => {
    const own = await startEcrFake({ repositories: [signedRepository()], unscannedIndexes: true });
    try {
      const r = await run(exampleFor(own), { ambient: { env: AWS_ENV } });
      expect(r.complete).toBe(true);
      const g = r.graph.load();
      const untagged = own.untagged('acme/signed');
      for (const img of images(g)) {
        const index = g.entities.find(
          (e) => e.kind === 'DockerManifest' && e.spec.digest === img.spec.digest,
        )!;
        const platforms = (index.spec.role === 'index' ? untagged : []).filter((u) =>
          g.relations.some(
            (rel) =>
              rel.relation === 'USES' &&
              rel.source.name === img.metadata.name &&
              rel.target.name.endsWith(u.digest.slice(7, 19)) &&
              u.severity,
          ),
        );
        expect(platforms).toHaveLength(2);
        const total = platforms.reduce((n, u) => n + vulnerabilityCounts(u.severity).total, 0);
        expect((img.spec.vulnerabilities as { total: number; source: string }).total).toBe(total);
        expect((img.spec.vulnerabilities as { source: string }).source).toBe(
          'registry scanner, summed over platform manifests',
        );
      }
      // `latest` carries the signature and the SBOM ECR lists as its referrers.
      expect(images(g).find((e) => e.spec.tag === 'latest')!.spec).toMatchObject({
        signed: true,
        sbom: true,
      });
    } finally {
      await own.close();
    }
  });

  it('hands every untagged image on for retention, and with a lifecycle policy every row, from the same two calls', async () => {
    const platform = tagFacts(signedRepository())[0]!.platforms[0]!.digest;
    const pulled = '2026-11-28T06:00:00Z';
    const o = await open({ pulledAt: { [platform]: pulled } }, (c) => {
      c.selectors = [
        {
          max_tags: 0,
          retention: {
            untagged_older_than: '7d',
            ecr_lifecycle_policy: {
              rules: [
                {
                  rulePriority: 1,
                  selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 5 },
                  action: { type: 'expire' },
                },
              ],
            },
          },
        },
      ];
    });
    try {
      const tally = { requests: 0 };
      const listing = await o.adapter.listTags('acme/signed', tally);
      expect(listing.complete).toBe(true);
      const rows = o.fake.untagged('acme/signed');
      expect(rows).toHaveLength(14);
      expect(listing.untagged).toEqual(
        rows.map((r) => ({
          digest: r.digest,
          mediaType: r.mediaType,
          pushedAt: r.pushedAt,
          ...(r.digest === platform ? { lastPulledAt: pulled } : {}),
          size: r.size,
        })),
      );
      // The lifecycle preview's rows: the 3 tagged images and the 14 untagged ones, as AWS reads them.
      const tagged = o.fake.images('acme/signed');
      expect(listing.lifecycleImages).toHaveLength(17);
      expect(listing.lifecycleImages!.find((i) => i.digest === platform)).toEqual({
        digest: platform,
        tags: [],
        pushedAt: new Date(rows.find((r) => r.digest === platform)!.pushedAt).toISOString(),
        lastPulledAt: new Date(pulled).toISOString(),
      });
      for (const t of tagged)
        expect(listing.lifecycleImages!.find((i) => i.digest === t.digest)!.tags).toEqual(t.tags);
      const signature = rows.find((r) => r.subject)!;
      expect(listing.lifecycleImages!.find((i) => i.digest === signature.digest)!.subject).toBe(
        signature.subject,
      );
      // The same two calls as without retention.
      expect(o.fake.apiCalls.filter((c) => c.op === 'DescribeImages').map((c) => c.body.filter)).toEqual([
        { tagStatus: 'TAGGED' },
        { tagStatus: 'UNTAGGED' },
      ]);
      expect(tally.requests).toBe(2);
    } finally {
      await o.close();
    }
  });

  it('reads every page of the untagged images, and keeps scans out without discover_vulnerabilities', async () => {
    const o = await open({ imagesPageCap: 4 }, (c) => {
      c.discover_vulnerabilities = false;
    });
    try {
      const tally = { requests: 0 };
      const listing = await o.adapter.listTags('acme/signed', tally);
      expect(listing.complete).toBe(true);
      expect(listing.scans).toBeUndefined();
      expect([...listing.referrers!.values()].flat()).toHaveLength(2);
      // 3 tagged images on one page; 14 untagged (6 platforms, 6 attestations, 2 referrers) on four.
      expect(o.fake.untagged('acme/signed')).toHaveLength(14);
      expect(tally.requests).toBe(5);
    } finally {
      await o.close();
    }
  });

  it('hands on no referrers or scans when the untagged images cannot all be read, and says why', async () => {
    const o = await open({ imagesPageCap: 4 }, (c) => {
      c.max_pages = 2;
    });
    try {
      const listing = await o.adapter.listTags('acme/signed', { requests: 0 });
      expect(listing.items).toHaveLength(7);
      expect(listing.complete).toBe(false);
      expect(listing.problem).toBe(
        'untagged images (referrers, platform scans): stopped after 2 pages (max_pages); raise max_pages to list everything',
      );
      expect(listing.referrers).toBeUndefined();
      expect(listing.scans).toBeUndefined();
      expect(o.adapter.notes()).toContain(
        'ECR API: the untagged images of acme/signed could not all be read: their referrers and platform scans are left out (see the receipts)',
      );
    } finally {
      await o.close();
    }
  });
});

describe('ECR Public', () => {
  it('reads named repositories with the anonymous token, Bearer on /v2', async () => {
    const pub = await startEcrPublicFake(renameRepositories(sampleRepositories(), (n) => `docker/${n}`));
    try {
      const warnings: string[] = [];
      const r = await run(
        exampleFor(pub, () => {}, PUBLIC_EXAMPLE),
        {
          log: { ...silentLog, warn: (m) => warnings.push(m) },
        },
      );
      expect(r.complete).toBe(true);
      expect(r.graph.receipts.map((x) => [x.repository, x.tags_selected])).toEqual([
        ['docker/library/nginx', 3],
        ['docker/library/redis', 3],
      ]);
      expect(pub.tokenRequests).toBe(1);
      // The one refusal is the unauthenticated ping that recognises ECR Public by its challenge.
      expect(pub.refused).toEqual([expect.objectContaining({ path: '/v2/', status: 401 })]);
      expect(pub.registry.requests.some((q) => q.kind === 'tags' && q.path.includes('n=1000'))).toBe(true);
      expect(warnings).toEqual([]);
    } finally {
      await pub.close();
    }
  });

  it('refuses patterns it cannot enumerate, and warns about configured credentials', async () => {
    const pub = await startEcrPublicFake(renameRepositories(sampleRepositories(), (n) => `docker/${n}`));
    try {
      const regex = await run(
        exampleFor(
          pub,
          (c) => (c.selectors = [{ namespace_pattern: '^docker$', repository_pattern: 'library/.*' }]),
          PUBLIC_EXAMPLE,
        ),
      );
      expect(regex.graph.receipts[0]!.errors[0]).toBe(
        'cannot list repositories: ECR Public has no repository listing for anonymous users: selector namespace_pattern "^docker$" and repository_pattern "library/.*" must name repositories literally, e.g. namespace_pattern: "^docker$" and repository_pattern: "^(library/nginx|library/redis)$"',
      );
      // "library/ng" would select library/nginx and more; it names no repository docker/library/ng.
      const prefix = await run(
        exampleFor(
          pub,
          (c) => (c.selectors = [{ namespace_pattern: 'docker', repository_pattern: 'library/ng' }]),
          PUBLIC_EXAMPLE,
        ),
      );
      expect(prefix.graph.receipts.map((x) => [x.repository, x.complete])).toEqual([['*', false]]);
      expect(prefix.graph.receipts[0]!.errors[0]).toBe(
        'cannot list repositories: ECR Public has no repository listing for anonymous users: selector namespace_pattern "docker" and repository_pattern "library/ng" must name repositories literally, e.g. namespace_pattern: "^docker$" and repository_pattern: "^(library/nginx|library/redis)$"; repository_pattern "library/ng" names no repository without a listing (it also matches every longer name that starts with it); write "^library/ng$" to name library/ng alone',
      );
      const warnings: string[] = [];
      const creds = await run(
        exampleFor(
          pub,
          (c) => {
            c.username = 'AWS';
            c.password = '${ECR_PUBLIC_TOKEN}';
          },
          PUBLIC_EXAMPLE,
        ),
        {
          env: { ECR_PUBLIC_TOKEN: 'eyJwYXlsb2FkIjoiZmFrZSJ9' },
          log: { ...silentLog, warn: (m) => warnings.push(m) },
        },
      );
      expect(creds.complete).toBe(true);
      expect(warnings).toEqual([
        'ecr-public: not using the credentials from the config for ECR Public: get-login-password credentials have been answered with HTTP 400 on tags/list; public repositories are read with the anonymous token',
      ]);
      expect(pub.refused.some((q) => q.authorization?.startsWith('Basic'))).toBe(false);
    } finally {
      await pub.close();
    }
  });
});
