// Issue 17 on ECR, against its fake: the untagged images the adapter already lists (ecr.test.ts
// checks the listing) become the retention inventory's untagged manifests with no extra request,
// untagged_older_than plans and applies through BatchDeleteImage without touching a kept index's
// platform manifests, and an ECR lifecycle preview reads the DescribeImages rows (push and pull
// times, tags, untagged rows).
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { content as buildContent, type RepositoryContent } from '../../src/demo/image-builder.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { HttpClient } from '../../src/http/http-client.js';
import { MediaType } from '../../src/oci/media-types.js';
import { type DiscoverTextOptions, discoverText } from '../support/discover-text.js';
import { renameRepositories } from '../support/fakes/content-facts.js';
import {
  type EcrFake,
  FAKE_ACCESS_KEY,
  FAKE_SECRET_KEY,
  type ImageRecord,
  startEcrFake,
} from '../support/fakes/ecr-fake.js';
import { buildReferrer, withReferrers } from '../support/fakes/referrers.js';

const REPO = 'acme/signed';
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: FAKE_SECRET_KEY,
  AWS_REGION: 'eu-west-1',
};
const DAY = 86_400_000;

/**
 * nginx's three multi-arch indexes (two platform and two attestation manifests each, all
 * untagged in ECR), `latest` signed with a referrer, and two old builds whose tags moved on: the
 * single-platform images once tagged 0.9.2 and 0.9.3 of legacy-batch, now untagged.
 */
function repository(): { content: RepositoryContent; oldBuild: string; youngBuild: string } {
  const [nginx, , , , , legacy] = sampleRepositories();
  const base = renameRepositories([nginx!], () => REPO)[0]!;
  const latest = base.manifests.find((m) => m.digest === base.tags.latest)!;
  const signed = withReferrers(base, [
    buildReferrer({
      subject: latest,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      layerMediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      payload: '{}',
    }),
  ]);
  const oldBuild = legacy!.tags['0.9.2']!;
  const youngBuild = legacy!.tags['0.9.3']!;
  const leftovers = legacy!.manifests.filter((m) => m.digest === oldBuild || m.digest === youngBuild);
  return {
    content: {
      ...signed,
      blobs: [...signed.blobs, ...legacy!.blobs],
      manifests: [...signed.manifests, ...leftovers],
    },
    oldBuild,
    youngBuild,
  };
}

/** One ECR provider reading every tag, with these retention rules (none: plain discovery). */
const config = (fake: EcrFake, retention?: Record<string, unknown>) =>
  stringify({
    providers: [
      {
        name: 'ecr',
        type: 'docker',
        config: {
          registry_type: 'ecr',
          api_url: fake.url,
          ecr_api_url: fake.url,
          region: 'eu-west-1',
          selectors: [{ max_tags: 0, ...(retention ? { retention } : {}) }],
        },
      },
    ],
  });

/** A discovery of `fake` as the CLI makes one, with AWS credentials in the environment. */
const discoverEcr = (text: string, options: DiscoverTextOptions = {}) =>
  discoverText(text, {
    origin: 'ecr.yml',
    http: new HttpClient({ baseBackoffMs: 1 }),
    ambient: { env: AWS_ENV },
    ...options,
  });

async function discover(fake: EcrFake, retention: Record<string, unknown>, apply = false) {
  const run = await discoverEcr(config(fake, retention), {
    generatedAt: '2026-12-01T00:00:00Z',
    ...(apply ? { applyRetention: {} } : {}),
  });
  return { ...run, plan: run.retention!.plans[0]! };
}

/** A lifecycle rule: expire untagged images pushed more than 7 days ago. */
const untaggedAfter7Days = (rulePriority: number) => ({
  rulePriority,
  selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 },
  action: { type: 'expire' },
});

/** A lifecycle rule: expire all but the newest `n` tagged images, whatever their tags. */
const keepNewestTagged = (rulePriority: number, n: number) => ({
  rulePriority,
  selection: { tagStatus: 'tagged', tagPatternList: ['*'], countType: 'imageCountMoreThan', countNumber: n },
  action: { type: 'expire' },
});

/** The platform and attestation manifests of the tagged indexes, as the fake's content holds them. */
function indexChildren(content: RepositoryContent, tagged: ImageRecord[]): Set<string> {
  const out = new Set<string>();
  for (const t of tagged) {
    const doc = content.manifests.find((m) => m.digest === t.digest)!;
    const parsed = JSON.parse(doc.bytes.toString('utf8')) as { manifests?: Array<{ digest: string }> };
    for (const c of parsed.manifests ?? []) out.add(c.digest);
  }
  return out;
}

let fake: EcrFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('ECR untagged images: from the listing already read', () => {
  it('adds no request to a discovery: retention and a lifecycle preview cost what discovery costs', async () => {
    const { content } = repository();
    fake = await startEcrFake({ repositories: [content] });
    await discoverEcr(config(fake));
    const before = { api: fake.apiCalls.map((c) => c.op), registry: fake.registry.requests.length };
    fake.apiCalls.length = 0;
    fake.registry.requests.length = 0;
    await discover(fake, {
      untagged_older_than: '7d',
      ecr_lifecycle_policy: {
        rules: [untaggedAfter7Days(1)],
      },
    });
    expect(fake.apiCalls.map((c) => c.op)).toEqual(before.api);
    expect(fake.registry.requests.length).toBe(before.registry);
    // GetAuthorizationToken, DescribeRepositories, DescribeImages TAGGED and UNTAGGED.
    expect(before.api).toEqual([
      'GetAuthorizationToken',
      'DescribeRepositories',
      'DescribeImages',
      'DescribeImages',
    ]);
  });
});

describe('ECR untagged_older_than: plan and apply (BatchDeleteImage)', () => {
  it("deletes the old build alone, never a kept index's platform or attestation manifests, and a second discovery finds only it gone", async () => {
    const { content, oldBuild, youngBuild } = repository();
    const young = new Date(Date.now() - DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
    fake = await startEcrFake({ repositories: [content], pushedAt: { [youngBuild]: young } });
    const tagged = [...fake.images(REPO)];
    const children = indexChildren(content, tagged);
    expect(children.size).toBe(12);

    const run = await discover(fake, { untagged_older_than: '7d' }, true);
    expect(run.plan.skipped).toBeUndefined();
    expect(run.plan.deletions.map((d) => [d.digest, d.cause, d.tags])).toEqual([[oldBuild, 'untagged', []]]);
    expect(run.plan.deletions[0]!.reason).toMatch(/^untagged_older_than 7d: untagged, \d+ days old$/);
    expect(run.plan.deletions[0]!.bytes_reclaimed).toBeGreaterThan(0);
    // Every platform and attestation manifest of the kept indexes was wanted by the rule (untagged,
    // old) and is kept, saying by which index.
    const keptByIndex = run.plan.protected.filter((p) => p.why.some((w) => w.by === 'kept_index'));
    expect(new Set(keptByIndex.map((p) => p.digest))).toEqual(children);
    for (const d of run.plan.deletions) expect(children.has(d.digest)).toBe(false);
    // The young build is not old enough.
    expect(run.plan.deletions.some((d) => d.digest === youngBuild)).toBe(false);

    // Applied: one BatchDeleteImage by digest, answered deleted.
    expect(run.retention!.applied!.journal.map((j) => [j.digest, j.answer])).toEqual([[oldBuild, 'deleted']]);
    expect(fake.apiCalls.filter((c) => c.op === 'BatchDeleteImage').map((c) => c.body.imageIds)).toEqual([
      [{ imageDigest: oldBuild }],
    ]);

    // A second discovery: the old build is gone, every tag and every other image is still there.
    fake.apiCalls.length = 0;
    const again = await discover(fake, { untagged_older_than: '7d' });
    expect(fake.untagged(REPO).map((u) => u.digest)).not.toContain(oldBuild);
    expect(fake.untagged(REPO)).toHaveLength(14);
    expect(fake.images(REPO)).toEqual(tagged);
    expect(again.plan.deletions).toEqual([]);
    expect(again.graph.receipts[0]!.complete).toBe(true);
  });
});

describe('ECR untagged_older_than: an old multi-arch build', () => {
  it('deletes an untagged index before its platform and attestation manifests, which ECR refuses while it stays', async () => {
    // nginx with 1.25.4 moved away: its index and what it references are untagged old builds.
    const [nginx] = sampleRepositories();
    const { '1.25.4': old, ...tags } = nginx!.tags;
    fake = await startEcrFake({ repositories: [{ ...nginx!, tags }] });
    const children = indexChildren(nginx!, [{ digest: old! } as ImageRecord]);
    expect(children.size).toBe(4);

    const run = await discover(fake, { untagged_older_than: '7d' }, true);
    // Discovery never read that index, so nothing says which manifests it holds; it still goes first.
    expect(run.plan.deletions.map((d) => d.digest)).toEqual([old, ...[...children].sort()]);
    expect(run.plan.deletions.map((d) => d.role)).toEqual(['index', 'image', 'image', 'image', 'image']);
    expect(run.retention!.applied!.journal.map((j) => j.answer)).toEqual(Array(5).fill('deleted'));
    expect(fake.untagged(nginx!.name).map((u) => u.digest)).toEqual(
      expect.not.arrayContaining([old, ...children]),
    );
  });
});

describe('ECR lifecycle preview from the DescribeImages rows', () => {
  it('counts multi-arch images as indexes, expires old untagged builds, and holds the platforms of kept indexes', async () => {
    const { content, oldBuild, youngBuild } = repository();
    const young = new Date(Date.now() - DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
    fake = await startEcrFake({ repositories: [content], pushedAt: { [youngBuild]: young } });
    // Newest first, ties by digest, as the evaluator ranks them: the third goes.
    const ranked = [...fake.images(REPO)].sort(
      (a, b) => Date.parse(b.pushedAt) - Date.parse(a.pushedAt) || (a.digest < b.digest ? -1 : 1),
    );
    expect(ranked).toHaveLength(3);
    const oldest = ranked[2]!;
    const policy = {
      rules: [keepNewestTagged(1, 2), untaggedAfter7Days(2)],
    };
    // As a mapping here; the next test gives it as the JSON text AWS prints.
    const run = await discover(fake, { ecr_lifecycle_policy: policy });
    const reasons = new Map(run.plan.deletions.map((d) => [d.digest, d.reason]));
    expect(reasons.get(oldest.digest)).toBe(
      'ECR lifecycle rule 1: imageCountMoreThan 2: number 3 by push time, newest first',
    );
    expect(reasons.get(oldBuild)).toMatch(
      /^ECR lifecycle rule 2: sinceImagePushed 7 days: pushed \d+ days ago$/,
    );
    // The expired index's own platform and attestation manifests are untagged and old: rule 2
    // expires them after it. No other index's go, and nothing else.
    const own = indexChildren(content, [oldest]);
    for (const d of own)
      expect(reasons.get(d)).toMatch(
        new RegExp(
          `^ECR lifecycle rule 2: sinceImagePushed 7 days: pushed \\d+ days ago, after manifest list ${oldest.digest}$`,
        ),
      );
    expect(new Set(reasons.keys())).toEqual(new Set([oldest.digest, oldBuild, ...own]));
    expect(run.plan.deletions.every((d) => d.cause === 'lifecycle')).toBe(true);
    expect(run.plan.deletions[0]!.digest).toBe(oldest.digest);
    const others = indexChildren(content, ranked.slice(0, 2));
    for (const d of run.plan.deletions) expect(others.has(d.digest)).toBe(false);
    expect(run.plan.deletions.some((d) => d.digest === youngBuild)).toBe(false);
  });

  it('counts sinceImagePulled from lastRecordedPullTime, and from the push for an image never pulled', async () => {
    const { content } = repository();
    const base = await startEcrFake({ repositories: [content] });
    const [first, ...rest] = [...base.images(REPO)].sort((a, b) => (a.digest < b.digest ? -1 : 1));
    await base.close();
    const recently = new Date(Date.now() - 2 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
    fake = await startEcrFake({ repositories: [content], pulledAt: { [first!.digest]: recently } });
    const policy = {
      rules: [
        {
          rulePriority: 1,
          description: 'archive what nobody pulled for 30 days',
          selection: {
            tagStatus: 'tagged',
            tagPatternList: ['*'],
            countType: 'sinceImagePulled',
            countUnit: 'days',
            countNumber: 30,
          },
          action: { type: 'transition', targetStorageClass: 'archive' },
        },
      ],
    };
    const run = await discover(fake, { ecr_lifecycle_policy: JSON.stringify(policy) });
    // Archiving deletes nothing: the plan says what moves to archive, and deletes nothing.
    expect(run.plan.deletions).toEqual([]);
    const archived = run.plan.notes.filter((n) => n.includes('archive storage class'));
    // The two indexes nobody pulled, and the signature of one of them, which follows its subject.
    expect(archived).toHaveLength(rest.length + 1);
    for (const image of rest) {
      const note = archived.find((n) => n.includes(`moves ${image.digest}`))!;
      expect(note).toMatch(
        new RegExp(
          `^ECR lifecycle rule 1: sinceImagePulled 30 days: never pulled; pushed \\d+ days ago: moves ${image.digest} \\(${image.tags.join(', ')}\\) to the archive storage class$`,
        ),
      );
    }
    const signature = fake.untagged(REPO).find((u) => u.subject)!;
    expect(archived).toContainEqual(
      `ECR lifecycle rule 1: its subject ${signature.subject} is archived, and ECR takes referrers with it: moves ${signature.digest} to the archive storage class`,
    );
    expect(rest.map((i) => i.digest)).toContain(signature.subject);
    expect(archived.some((n) => n.includes(first!.digest))).toBe(false);
  });

  it("counts a cosign signature tag as the tagged image it is to ECR: a keep-N rule over '*' expires it, and the preview says so", async () => {
    const { content } = repository();
    const latest = content.tags.latest!;
    // cosign's legacy signature: a plain image manifest tagged sha256-<hex>.sig, no subject.
    const payload = buildContent('application/vnd.dev.cosign.simplesigning.v1+json', '{"critical":{}}');
    const config = buildContent('application/vnd.oci.image.config.v1+json', '{}');
    const signature = buildContent(
      MediaType.OciManifest,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: config.mediaType, digest: config.digest, size: config.bytes.length },
        layers: [{ mediaType: payload.mediaType, digest: payload.digest, size: payload.bytes.length }],
      }),
    );
    const sigTag = `${latest.replace(':', '-')}.sig`;
    const signed: RepositoryContent = {
      ...content,
      blobs: [...content.blobs, config, payload],
      manifests: [...content.manifests, signature],
      tags: { ...content.tags, [sigTag]: signature.digest },
    };
    // Signed long ago: the oldest of the four tagged images.
    fake = await startEcrFake({
      repositories: [signed],
      pushedAt: { [signature.digest]: '2020-01-01T00:00:00Z' },
    });
    const policy = {
      rules: [keepNewestTagged(1, 3)],
    };
    const run = await discover(fake, { ecr_lifecycle_policy: policy });
    // The plan itself keeps a signature of a kept image; ECR does not, and the preview says so.
    expect(run.plan.deletions).toEqual([]);
    const kept = run.plan.protected.find((p) => p.digest === signature.digest)!;
    expect(kept.wanted).toBe(
      'ECR lifecycle rule 1: imageCountMoreThan 3: number 4 by push time, newest first',
    );
    expect(kept.why.map((w) => w.by)).toEqual(['kept_subject']);
    expect(run.plan.notes).toEqual([
      `ECR lifecycle rule 1: imageCountMoreThan 3: number 4 by push time, newest first: ECR will expire ${signature.digest} (${sigTag}) although this plan keeps it (${kept.why[0]!.detail}); a rule of higher priority that selects it and keeps it would save it`,
    ]);
  });
});
