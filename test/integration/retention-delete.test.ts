// Each vendor's delete path against its fake, through the adapter the engine opens: the plain OCI
// DELETE (allowed, switched off, denied), ECR's BatchDeleteImage, GHCR's package-version delete
// and Docker Hub's tag delete followed by the registry's manifest delete, each with the refusals
// the vendor documents. Every case deletes the multi-arch image acme/web-frontend:pr-418 (an
// index and its two platform manifests) or tries to.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { startDemoRegistry } from '../../src/demo/demo-registry.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import { openAdapter } from '../../src/registries/open-adapter.js';
import type { Ambient, RegistryAdapter } from '../../src/registries/registry-adapter.js';
import { applyPlan } from '../../src/retention/apply.js';
import { Secrets } from '../../src/secrets.js';
import { plainRegistryConfig } from '../support/config-text.js';
import { tagFacts } from '../support/fakes/content-facts.js';
import { type DockerHubFake, startDockerHubFake } from '../support/fakes/docker-hub-fake.js';
import { type EcrFake, FAKE_ACCESS_KEY, FAKE_SECRET_KEY, startEcrFake } from '../support/fakes/ecr-fake.js';
import { type GhcrFake, GITHUB_TOKEN, ORG, PAT, startGhcrFake } from '../support/fakes/ghcr-fake.js';

const REPO = 'acme/web-frontend';
const PR = tagFacts(sampleRepositories().find((r) => r.name === REPO)!).find((f) => f.tag === 'pr-418')!;
const INDEX = PR.digest;
const PLATFORMS = PR.platforms.map((p) => p.digest);
const UNKNOWN = `sha256:${'0'.repeat(64)}`;

interface Opened {
  adapter: RegistryAdapter;
  http: HttpClient;
  counts(): Record<string, number>;
}

const opened: HttpClient[] = [];
async function open(
  yaml: string,
  env: Record<string, string> = {},
  ambient: Ambient = { env: {} },
): Promise<Opened> {
  const secrets = new Secrets();
  const settings = loadConfig(yaml, { env, secrets, origin: 'delete test config' }).providers[0]!;
  const http = new HttpClient({ baseBackoffMs: 1 });
  opened.push(http);
  const adapter = await openAdapter({ settings, http, secrets, log: silentLog, ambient });
  http.counts.clear();
  return { adapter, http, counts: () => Object.fromEntries(http.counts) };
}
afterAll(async () => {
  await Promise.all(opened.map((h) => h.close()));
});

const del = (o: Opened, repo: string, digest: string, tags: string[] = []) =>
  o.adapter.deleteManifest!(repo, digest, tags, { requests: 0 });

const plainYaml = (url: string) => plainRegistryConfig(url, { name: 'plain' });

describe('plain OCI registries: DELETE /v2/<name>/manifests/<digest>', () => {
  it('deletes the manifest with every tag on it, one request each, when deletes are enabled', async () => {
    const registry = await startDemoRegistry(sampleRepositories(), { deletes: 'enabled' });
    try {
      const o = await open(plainYaml(registry.url));
      expect(await del(o, REPO, INDEX, ['pr-418'])).toEqual({ outcome: 'deleted' });
      for (const p of PLATFORMS) expect(await del(o, REPO, p)).toEqual({ outcome: 'deleted' });
      expect(o.counts()).toEqual({ delete: 3 });
      expect((await o.adapter.listTags(REPO, { requests: 0 })).items).not.toContain('pr-418');
      expect((await o.adapter.listTags(REPO, { requests: 0 })).items).toContain('latest');
      expect(await del(o, REPO, INDEX)).toMatchObject({
        outcome: 'failed',
        status: 404,
        message: expect.stringContaining('MANIFEST_UNKNOWN'),
      });
      // A tag is never sent: what it points at may have moved by the time the request lands.
      expect(await del(o, REPO, 'latest')).toMatchObject({ outcome: 'failed' });
      expect(registry.requests.filter((r) => r.method === 'DELETE')).toHaveLength(4);
    } finally {
      await registry.close();
    }
  });

  it('reads 405 UNSUPPORTED as a registry that deletes nothing, 403 as a credential that may not', async () => {
    const off = await startDemoRegistry(sampleRepositories());
    const denied = await startDemoRegistry(sampleRepositories(), { deletes: 'denied' });
    try {
      expect(await del(await open(plainYaml(off.url)), REPO, INDEX)).toMatchObject({
        outcome: 'refused',
        why: 'unsupported',
        status: 405,
        message: expect.stringMatching(
          /does not allow deletes \(HTTP 405: UNSUPPORTED The operation is unsupported\.\); on Distribution set storage\.delete\.enabled: true$/,
        ),
      });
      expect(await del(await open(plainYaml(denied.url)), REPO, INDEX)).toMatchObject({
        outcome: 'refused',
        why: 'denied',
        status: 403,
        message: expect.stringContaining(
          `denied access to repository:${REPO}:delete (HTTP 403: DENIED requested access to the resource is denied)`,
        ),
      });
    } finally {
      await off.close();
      await denied.close();
    }
  });
});

describe('ECR: BatchDeleteImage', () => {
  let fake: EcrFake;
  const yaml = () => `providers:
  - name: ecr
    type: docker
    config:
      registry_type: ecr
      api_url: ${fake.url}
      ecr_api_url: ${fake.url}
      region: eu-west-1
      selectors:
        - max_tags: 0
`;
  const env = {
    AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: FAKE_SECRET_KEY,
    AWS_REGION: 'eu-west-1',
  };
  beforeEach(async () => {
    fake = await startEcrFake({ repositories: sampleRepositories() });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('deletes an image by digest in one call, and refuses a platform its index still holds', async () => {
    const o = await open(yaml(), { ...env, ...{} }, { env });
    const before = fake.apiCalls.length;
    expect(await del(o, REPO, PLATFORMS[0]!)).toMatchObject({
      outcome: 'failed',
      message: expect.stringContaining(
        `ImageReferencedByManifestList: Requested image referenced by manifest list: [${INDEX}]`,
      ),
    });
    expect(await del(o, REPO, INDEX, ['pr-418'])).toEqual({ outcome: 'deleted' });
    for (const p of PLATFORMS) expect(await del(o, REPO, p)).toEqual({ outcome: 'deleted' });
    expect(fake.apiCalls.slice(before).map((c) => c.op)).toEqual(Array(4).fill('BatchDeleteImage'));
    expect(fake.apiCalls.slice(before).map((c) => c.body.imageIds)).toEqual([
      [{ imageDigest: PLATFORMS[0] }],
      [{ imageDigest: INDEX }],
      ...PLATFORMS.map((p) => [{ imageDigest: p }]),
    ]);
    expect(fake.images(REPO).map((i) => i.digest)).not.toContain(INDEX);
    expect(fake.untagged(REPO).map((i) => i.digest)).not.toEqual(expect.arrayContaining(PLATFORMS));
    expect((await o.adapter.listTags(REPO, { requests: 0 })).items).not.toContain('pr-418');
    expect(await del(o, REPO, UNKNOWN)).toMatchObject({
      outcome: 'failed',
      message: expect.stringContaining('ImageNotFound: Requested image not found'),
    });
  });

  it('reads AccessDeniedException as a refusal naming the permission', async () => {
    const o = await open(yaml(), env, { env });
    fake.deny('BatchDeleteImage');
    expect(await del(o, REPO, INDEX, ['pr-418'])).toMatchObject({
      outcome: 'refused',
      why: 'denied',
      message: expect.stringContaining('the AWS identity needs the ecr:BatchDeleteImage permission'),
    });
    expect(fake.images(REPO).map((i) => i.digest)).toContain(INDEX);
  });

  it('executes a plan in order through the adapter', async () => {
    const o = await open(yaml(), env, { env });
    const plan = [
      ...PLATFORMS.map((digest) => ({ digest, tags: [] as string[], after: [INDEX] })),
      { digest: INDEX, tags: ['pr-418'], after: [] as string[] },
    ].map((d) => ({ ...d, provider: 'ecr', repository: REPO, reason: 'test', bytes: 1 }));
    const result = await applyPlan(plan, () => o.adapter);
    expect(result.journal.map((e) => [e.digest, e.answer])).toEqual([
      [INDEX, 'deleted'],
      ...PLATFORMS.map((p) => [p, 'deleted']),
    ]);
  });
});

describe('GHCR: package version delete', () => {
  let fake: GhcrFake;
  const repo = `${ORG}/web-frontend`;
  const yaml = (token: string) => `providers:
  - name: ghcr
    type: docker
    config:
      registry_type: ghcr
      api_url: ${fake.url}
      github_api_url: ${fake.apiUrl}
      token: ${token}
      selectors:
        - namespace_pattern: "${ORG}"
          repository_pattern: "^web-frontend$"
`;
  beforeAll(async () => {
    fake = await startGhcrFake();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('deletes the version named by the digest, its id taken from the versions listing', async () => {
    const o = await open(yaml(PAT));
    await o.adapter.listTags(repo, { requests: 0 });
    fake.reset();
    expect(await del(o, repo, INDEX, ['pr-418'])).toEqual({ outcome: 'deleted' });
    for (const p of PLATFORMS) expect(await del(o, repo, p)).toEqual({ outcome: 'deleted' });
    expect(fake.apiRequests.map((r) => `${r.method} ${r.status}`)).toEqual(Array(3).fill('DELETE 204'));
    expect(fake.apiRequests[0]!.path).toMatch(
      new RegExp(`^/orgs/${ORG}/packages/container/web-frontend/versions/\\d+$`),
    );
    const after = await o.adapter.listTags(repo, { requests: 0 });
    expect(after.items).not.toContain('pr-418');
    expect(after.items).toContain('latest');
    // A digest the listing does not know: the listing is read again, then nothing is sent.
    fake.reset();
    expect(await del(o, repo, UNKNOWN)).toMatchObject({
      outcome: 'failed',
      message: expect.stringContaining('no package version of that digest'),
    });
    expect(fake.apiRequests.every((r) => r.method === 'GET')).toBe(true);
  });

  it("reads GitHub's 403 for a GITHUB_TOKEN without delete rights as a refusal", async () => {
    const o = await open(yaml(GITHUB_TOKEN));
    expect(
      await del(
        o,
        repo,
        tagFacts(sampleRepositories().find((r) => r.name === REPO)!).find((f) => f.tag === 'latest')!.digest,
        ['latest'],
      ),
    ).toMatchObject({
      outcome: 'refused',
      why: 'denied',
      status: 403,
      message: expect.stringContaining('HTTP 403 "Resource not accessible by integration"'),
    });
  });
});

describe('Docker Hub: tag delete, then the manifest by digest', () => {
  let fake: DockerHubFake;
  const PAT_ALICE = 'dckr_pat_alice_delete0123456789';
  const PAT_BOB = 'dckr_pat_bob_delete0123456789';
  const yaml = (user?: string) => `providers:
  - name: hub
    type: docker
    config:
      registry_type: docker-hub
      api_url: ${fake.registryUrl}
      hub_url: ${fake.hubUrl}
${user ? `      username: ${user}\n      password: \${HUB_PAT}\n` : ''}      selectors:
        - namespace_pattern: "^acme$"
`;
  beforeAll(async () => {
    fake = await startDockerHubFake({
      users: {
        alice: { pats: [PAT_ALICE], namespaces: ['acme'] },
        bob: { pats: [PAT_BOB], namespaces: [] },
      },
    });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('deletes each tag through the Hub API, then the untagged manifest through the registry', async () => {
    const o = await open(yaml('alice'), { HUB_PAT: PAT_ALICE });
    fake.reset();
    // A platform manifest while its index stands: the registry refuses it.
    expect(await del(o, REPO, PLATFORMS[0]!)).toMatchObject({ outcome: 'refused', status: 403 });
    expect(await del(o, REPO, INDEX, ['pr-418'])).toEqual({ outcome: 'deleted' });
    for (const p of PLATFORMS) expect(await del(o, REPO, p)).toEqual({ outcome: 'deleted' });
    expect(fake.hubRequests.filter((r) => r.method === 'DELETE').map((r) => [r.path, r.status])).toEqual([
      ['/v2/namespaces/acme/repositories/web-frontend/tags/pr-418', 204],
    ]);
    expect(
      fake.registryRequests
        .filter((r) => r.method === 'DELETE')
        .map((r) => [r.path.split('/').at(-1), r.status]),
    ).toEqual([[PLATFORMS[0], 403], [INDEX, 202], ...PLATFORMS.map((p) => [p, 202])]);
    // The delete token asks for the delete action only.
    expect(fake.tokenRequests.map((t) => t.scopes)).toContainEqual([`repository:${REPO}:delete`]);
    const after = await o.adapter.listTags(REPO, { requests: 0 });
    expect(after.items).not.toContain('pr-418');
    expect(after.items).toContain('latest');
  });

  it('refuses without a login, and reports the Hub refusing a user outside the namespace', async () => {
    const anonymous = await open(yaml());
    expect(await del(anonymous, REPO, INDEX, ['latest'])).toMatchObject({
      outcome: 'refused',
      why: 'unsupported',
      message: expect.stringContaining('Docker Hub deletes need a login'),
    });
    const bob = await open(yaml('bob'), { HUB_PAT: PAT_BOB });
    expect(await del(bob, REPO, INDEX, ['latest'])).toMatchObject({
      outcome: 'refused',
      why: 'denied',
      status: 403,
      message: expect.stringContaining('Docker Hub refused to delete tag latest (HTTP 403: forbidden)'),
    });
  });
});
