// Discovery against the real CNCF Distribution registry (Debian's docker-registry), seeded
// through its HTTP API, in its three auth modes. The whole graph is asserted: the explicit checks
// below are derived from the seed data, and the full file is compared with a reviewed snapshot.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltImage } from '../../src/demo/image-builder.js';
import { HttpClient } from '../../src/http/http-client.js';
import type { Entity, Graph } from '../../src/model/graph.js';
import { discoverText } from '../support/discover-text.js';
import { publishedGraphText } from '../support/graph-file.js';
import { pushRepositories } from '../support/push-content.js';
import { type RunningRegistry, registryAvailable, startRegistry } from '../support/registry-process.js';
import {
  ACME_API,
  ACME_EPOCH,
  MANY_TAGS_COUNT,
  manyTagName,
  manyTags,
  NGINX,
  ORG_TEAM_APP,
  seededRepositories,
} from '../support/seed-data.js';

const GENERATED_AT = '2026-01-01T00:00:00Z';

if (!registryAvailable()) {
  throw new Error(
    '/usr/bin/docker-registry is missing: install the Debian package docker-registry (.ci/run does)',
  );
}

function configFor(registry: RunningRegistry, creds: { username?: string; password?: string } = {}): string {
  return `providers:
  - name: seeded
    type: docker
    config:
      registry_type: private
      api_url: ${registry.url}
${creds.username ? `      username: ${creds.username}\n` : ''}${creds.password ? `      password: \${REGISTRY_PASSWORD}\n` : ''}      selectors:
        - namespace_pattern: "many"
          max_tags: 10
        - max_tags: 0
`;
}

async function discoverOnce(
  registry: RunningRegistry,
  opts: { username?: string; password?: string; token?: string; stateDir?: string } = {},
) {
  const text = opts.token
    ? configFor(registry).replace('      selectors:', '      token: ${REGISTRY_TOKEN}\n      selectors:')
    : configFor(registry, opts);
  const result = await discoverText(text, {
    env: { REGISTRY_PASSWORD: opts.password, REGISTRY_TOKEN: opts.token },
    origin: 'test config',
    http: new HttpClient(),
    generatedAt: GENERATED_AT,
    stateDir: opts.stateDir,
  });
  return {
    ...result,
    graph: result.graph.load(),
    text: await publishedGraphText(result.graph, result.secrets),
  };
}

const byKind = (g: Graph, kind: Entity['kind']) => g.entities.filter((e) => e.kind === kind);
const entity = (g: Graph, kind: Entity['kind'], name: string) => {
  const e = g.entities.find((x) => x.kind === kind && x.metadata.name === name);
  if (!e)
    throw new Error(
      `no ${kind} named ${name}; have ${byKind(g, kind)
        .map((x) => x.metadata.name)
        .join(', ')}`,
    );
  return e;
};
const imageSize = (img: BuiltImage) =>
  img.config.bytes.length + img.layers.reduce((s, l) => s + l.bytes.length, 0);
const hex12 = (digest: string) => digest.slice('sha256:'.length, 'sha256:'.length + 12);

/** The graph with the registry's random port replaced, so it can be compared across runs. */
function normalised(text: string, registry: RunningRegistry): string {
  return text.split(registry.url).join('http://registry.test').split(registry.host).join('registry.test');
}

describe('discovery against a real registry (open)', () => {
  let registry: RunningRegistry;
  let stateDir: string;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'open' });
    await pushRepositories(registry, seededRepositories({ includeManyTags: true }));
    stateDir = await mkdtemp(join(tmpdir(), 'dg-state-'));
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  let cold: Awaited<ReturnType<typeof discoverOnce>>;
  it('discovers every repository completely', async () => {
    cold = await discoverOnce(registry, { stateDir });
    expect(cold.complete).toBe(true);
    expect(
      cold.graph.receipts.map((r) => [r.repository, r.complete, r.tags_listed, r.tags_selected]),
    ).toEqual([
      ['acme/api', true, 4, 4],
      ['acme/epoch', true, 2, 2],
      ['library/nginx', true, 4, 4],
      ['many/tags', true, MANY_TAGS_COUNT, 10],
      ['org/team/app', true, 3, 2],
    ]);
  });

  it('models an OCI index with attestations: platforms, aliases, manifests, sizes', () => {
    const g = cold.graph;
    const index = NGINX.v1_25_3;
    for (const tag of ['1.25.3', '1.25', 'latest']) {
      const img = entity(g, 'DockerImage', `library-nginx-${tag.replace(/\./g, '-')}`);
      expect(img.spec).toMatchObject({
        repository: 'library/nginx',
        tag,
        digest: index.manifest.digest,
        media_type: 'application/vnd.oci.image.index.v1+json',
        platforms: ['linux/amd64', 'linux/arm64/v8'],
        size: index.children.reduce((s, c) => s + imageSize(c), 0),
        created: '2023-10-24T22:44:45Z',
      });
      expect(img.spec.architecture).toBeUndefined();
      expect(img.metadata.labels['devgraph.ai/image-tag']).toBe(tag);
    }
    const indexEntity = entity(g, 'DockerManifest', `library-nginx-manifest-${hex12(index.manifest.digest)}`);
    expect(indexEntity.spec).toMatchObject({
      schema_version: 2,
      layer_digests: [],
      platforms: ['linux/amd64', 'linux/arm64/v8'],
    });
    const arm = index.children[1]!;
    expect(entity(g, 'DockerManifest', `library-nginx-manifest-${hex12(arm.manifest.digest)}`).spec).toEqual({
      repository: 'library/nginx',
      digest: arm.manifest.digest,
      media_type: 'application/vnd.oci.image.manifest.v1+json',
      schema_version: 2,
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      size: imageSize(arm),
      config_digest: arm.config.digest,
      layer_digests: arm.layers.map((l) => l.digest),
      created: '2023-10-24T22:44:45Z',
      role: 'image',
      registry_url: registry.url,
    });
    // Attestation manifests are not platforms, but they are manifests of the image (issue 16):
    // each an attestation referring to the platform manifest its index names for it.
    expect(index.attestations).toHaveLength(2);
    index.attestations.forEach((att, i) => {
      const name = `library-nginx-manifest-${hex12(att.digest)}`;
      expect(entity(g, 'DockerManifest', name).spec).toMatchObject({
        role: 'attestation',
        predicate_types: ['https://slsa.dev/provenance/v0.2'],
        subject: index.children[i]!.manifest.digest,
      });
      expect(
        g.relations.some(
          (r) =>
            r.relation === 'REFERS_TO' &&
            r.source.name === name &&
            r.target.name === `library-nginx-manifest-${hex12(index.children[i]!.manifest.digest)}`,
        ),
      ).toBe(true);
    });
    expect(indexEntity.spec.role).toBe('index');
    const nginxManifests = byKind(g, 'DockerManifest').filter((m) => m.spec.repository === 'library/nginx');
    // two indexes, two platforms each; the 1.25.3 index also carries two attestations
    expect(nginxManifests).toHaveLength(8);
    const uses = g.relations
      .filter((r) => r.relation === 'USES' && r.source.name === 'library-nginx-latest')
      .map((r) => r.target.name);
    expect(uses.sort()).toEqual(
      [index.manifest, ...index.children.map((c) => c.manifest), ...index.attestations]
        .map((m) => `library-nginx-manifest-${hex12(m.digest)}`)
        .sort(),
    );
    // Provenance on every platform; no signature, no SBOM.
    expect(entity(g, 'DockerImage', 'library-nginx-latest').spec).toMatchObject({
      signed: false,
      sbom: false,
      provenance: true,
    });
  });

  it('reads Docker v2 manifests, a Docker manifest list and config labels', () => {
    const g = cold.graph;
    const v110 = entity(g, 'DockerImage', 'acme-api-v1-1-0');
    expect(v110.spec).toMatchObject({
      digest: ACME_API.v1_1_0.manifest.digest,
      media_type: 'application/vnd.docker.distribution.manifest.v2+json',
      architecture: 'amd64',
      os: 'linux',
      platforms: ['linux/amd64'],
      layers: 2,
      size: imageSize(ACME_API.v1_1_0),
      created: '2024-02-20T09:00:00Z',
    });
    expect((v110.spec.labels as Record<string, string>)['org.opencontainers.image.revision']).toBe(
      'rev-1.1.0',
    );
    expect(entity(g, 'DockerImage', 'acme-api-multi').spec).toMatchObject({
      digest: ACME_API.multi.manifest.digest,
      media_type: 'application/vnd.docker.distribution.manifest.list.v2+json',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
    });
    expect(entity(g, 'DockerRepository', 'acme-api').spec).toEqual({
      name: 'api',
      full_name: 'acme/api',
      namespace: 'acme',
      official: false,
      automated: false,
      registry_url: registry.url,
      source_repository: 'https://github.com/acme/api',
      // Asserted to the byte in test/integration/storage.test.ts.
      storage: expect.objectContaining({ partial: false }),
    });
  });

  it('handles nested names, alias tags and cosign signature tags', () => {
    const g = cold.graph;
    const repo = entity(g, 'DockerRepository', 'org-team-app');
    expect(repo.spec).toMatchObject({ name: 'team/app', namespace: 'org', full_name: 'org/team/app' });
    const main = entity(g, 'DockerImage', 'org-team-app-main');
    const sha = entity(g, 'DockerImage', 'org-team-app-sha-abc1234');
    expect(main.spec.digest).toBe(ORG_TEAM_APP.main.manifest.digest);
    expect(sha.spec.digest).toBe(main.spec.digest);
    expect(main.spec.signed).toBe(true);
    // The signature tag is an accessory of `main`, not an image of its own.
    expect(byKind(g, 'DockerImage').some((e) => e.spec.tag === ORG_TEAM_APP.signatureTag)).toBe(false);
    // One image manifest for the two alias tags, and the signature referring to it.
    const manifests = byKind(g, 'DockerManifest').filter((m) => m.spec.repository === 'org/team/app');
    expect(manifests.filter((m) => m.spec.role === 'image')).toHaveLength(1);
    expect(manifests.filter((m) => m.spec.role === 'signature').map((m) => m.spec.subject)).toEqual([
      main.spec.digest,
    ]);
    const receipt = g.receipts.find((r) => r.repository === 'org/team/app')!;
    expect(receipt.accessory_tags).toBe(1);
  });

  it('keeps the newest max_tags by created, over more than 1,000 tags', () => {
    const tags = byKind(cold.graph, 'DockerImage')
      .filter((e) => e.spec.repository === 'many/tags')
      .map((e) => e.spec.tag);
    expect(tags).toEqual(Array.from({ length: 10 }, (_, i) => manyTagName(MANY_TAGS_COUNT - 9 + i)));
    const newestDigest = manyTags().images[MANY_TAGS_COUNT - 1]!.manifest.digest;
    expect(entity(cold.graph, 'DockerImage', `many-tags-${manyTagName(MANY_TAGS_COUNT)}`).spec.digest).toBe(
      newestDigest,
    );
  });

  it('keeps epoch-dated images but ranks them as undated', () => {
    const epoch = entity(cold.graph, 'DockerImage', 'acme-epoch-reproducible');
    expect(epoch.spec.created).toBe('1970-01-01T00:00:00Z');
    expect(epoch.spec.digest).toBe(ACME_EPOCH.epoch.manifest.digest);
  });

  it('relates every entity: repository → registry, image → repository, image → manifest, manifest → repository', () => {
    const g = cold.graph;
    const names = new Set(g.entities.map((e) => `${e.kind}/${e.metadata.name}`));
    for (const r of g.relations) {
      expect(names.has(`${r.source.kind}/${r.source.name}`)).toBe(true);
      expect(names.has(`${r.target.kind}/${r.target.name}`)).toBe(true);
    }
    expect(byKind(g, 'DockerRegistry')).toHaveLength(1);
    const belongs = (kind: Entity['kind']) =>
      g.relations.filter((r) => r.relation === 'BELONGS_TO' && r.source.kind === kind).length;
    expect(belongs('DockerRepository')).toBe(byKind(g, 'DockerRepository').length);
    expect(belongs('DockerImage')).toBe(byKind(g, 'DockerImage').length);
    expect(belongs('DockerManifest')).toBe(byKind(g, 'DockerManifest').length);
  });

  it('matches the reviewed snapshot of the whole graph', async () => {
    await expect(normalised(cold.text, registry)).toMatchFileSnapshot(
      '__snapshots__/seeded-registry.graph.json',
    );
  });

  it('a warm run fetches no manifest and no blob, and gives the same graph', async () => {
    const warm = await discoverOnce(registry, { stateDir });
    // Distribution answers If-None-Match with the digest as ETag: one conditional GET per tag, each a
    // 304; the signature tag of a selected image is revalidated too (its subject's accessories are read).
    const candidates = cold.graph.receipts.reduce((s, r) => s + r.tags_listed, 0);
    expect(warm.counts.manifest ?? 0).toBe(candidates);
    expect(warm.counts.blob ?? 0).toBe(0);
    expect(warm.counts['manifest-head'] ?? 0).toBe(0);
    expect(warm.summary).toContain(`${candidates} of ${candidates} known tags unchanged (304 Not Modified)`);
    const strip = (g: Graph) =>
      JSON.stringify({ ...g, receipts: g.receipts.map((r) => ({ ...r, requests: 0 })) });
    expect(strip(warm.graph)).toBe(strip(cold.graph));
  });

  it('two cold runs over the same registry write byte-identical files', async () => {
    const again = await discoverOnce(registry);
    const first = await discoverOnce(registry);
    expect(again.text).toBe(first.text);
  });
});

describe('discovery against a real registry (htpasswd Basic)', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'basic' });
    await pushRepositories(registry, seededRepositories({ includeManyTags: false }));
  }, 60_000);
  afterAll(() => registry?.stop());

  it('discovers with the right password', async () => {
    const r = await discoverOnce(registry, { username: 'alice', password: registry.users.alice });
    expect(r.complete).toBe(true);
    expect(byKind(r.graph, 'DockerImage')).toHaveLength(4 + 2 + 4 + 2);
  });

  it('a wrong password gives one clear message, an incomplete receipt, and no secret', async () => {
    const r = await discoverOnce(registry, { username: 'alice', password: 'wrong-password-123' });
    expect(r.complete).toBe(false);
    expect(r.graph.receipts).toHaveLength(1);
    const [receipt] = r.graph.receipts;
    expect(receipt!.repository).toBe('*');
    expect(receipt!.errors).toEqual([
      `cannot list repositories: registry ${registry.host} denied access to registry:catalog:* (HTTP 401: UNAUTHORIZED authentication required); credential used: username "alice" with a password; check the credentials and their permissions`,
    ]);
    expect(r.text).not.toContain('wrong-password-123');
    expect(r.summary).not.toContain('wrong-password-123');
  });

  it('no credentials says the registry needs them', async () => {
    const r = await discoverOnce(registry);
    expect(r.graph.receipts[0]!.errors[0]).toContain(
      'this registry needs credentials: set username/password or token',
    );
  });
});

describe('discovery against a real registry (Bearer tokens)', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushRepositories(registry, seededRepositories({ includeManyTags: false }));
  }, 60_000);
  afterAll(() => registry?.stop());

  it('exchanges credentials for one token per scope and discovers everything', async () => {
    registry.tokenServer!.reset();
    const r = await discoverOnce(registry, { username: 'bob', password: registry.users.bob });
    expect(r.complete).toBe(true);
    expect(byKind(r.graph, 'DockerRepository')).toHaveLength(4);
    const scopes = registry.tokenServer!.requests.map((q) => q.scopes.join(' ')).sort();
    expect(scopes).toEqual([
      'registry:catalog:*',
      'repository:acme/api:pull',
      'repository:acme/epoch:pull',
      'repository:library/nginx:pull',
      'repository:org/team/app:pull',
    ]);
    expect(registry.tokenServer!.requests.every((q) => q.user === 'bob' && q.method === 'GET')).toBe(true);
  });

  it('falls back to the OAuth2 POST when the token endpoint refuses GET', async () => {
    registry.tokenServer!.reset();
    registry.tokenServer!.options.postOnly = true;
    try {
      const r = await discoverOnce(registry, { username: 'bob', password: registry.users.bob });
      expect(r.complete).toBe(true);
      expect(
        registry.tokenServer!.requests.some(
          (q) => q.method === 'POST' && q.grantType === 'password' && q.status === 200,
        ),
      ).toBe(true);
    } finally {
      registry.tokenServer!.options.postOnly = false;
    }
  });

  it('renews a token that expires mid-run', async () => {
    registry.tokenServer!.reset();
    registry.tokenServer!.setExpiresIn(1);
    try {
      const r = await discoverOnce(registry, { username: 'bob', password: registry.users.bob });
      expect(r.complete).toBe(true);
    } finally {
      registry.tokenServer!.setExpiresIn(300);
    }
  });

  it('sends a configured static token as the bearer, with no token exchange', async () => {
    const ts = registry.tokenServer!;
    const pull = (name: string) => ({ type: 'repository', name, actions: ['pull'] });
    const token = ts.issueToken('bob', [
      { type: 'registry', name: 'catalog', actions: ['*'] },
      ...['acme/api', 'acme/epoch', 'library/nginx', 'org/team/app'].map(pull),
    ]);
    ts.reset();
    const r = await discoverOnce(registry, { token });
    expect(r.graph.receipts.flatMap((x) => x.errors)).toEqual([]);
    expect(byKind(r.graph, 'DockerRepository')).toHaveLength(4);
    expect(ts.requests).toEqual([]);
    expect(r.text).not.toContain(token);
  });

  it('a wrong password names the token service, the scope and the user', async () => {
    const r = await discoverOnce(registry, { username: 'bob', password: 'not-bobs-password' });
    expect(r.complete).toBe(false);
    expect(r.graph.receipts[0]!.errors[0]).toMatch(
      /^cannot list repositories: token service 127\.0\.0\.1:\d+ for registry 127\.0\.0\.1:\d+ refused registry:catalog:\* \(HTTP 401\); credential used: username "bob" with a password/,
    );
    expect(r.text).not.toContain('not-bobs-password');
  });
});
