// `registry_type: private` recognises products from the /v2/ ping and hands over to their adapter;
// a real CNCF Distribution stays on the plain OCI path.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDemoRegistry } from '../../src/demo/demo-registry.js';
import { buildImage, RepositoryBuilder } from '../../src/demo/image-builder.js';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import type { HttpResponse } from '../../src/http/http-client.js';
import { detectRegistry } from '../../src/registries/private.js';
import { discoverText } from '../support/discover-text.js';
import { startArtifactoryFake } from '../support/fakes/artifactory-fake.js';
import { DEFAULT_FAKE_USERS, startNexusFake } from '../support/fakes/nexus-fake.js';
import { pushRepositories } from '../support/push-content.js';
import { type RunningRegistry, registryAvailable, startRegistry } from '../support/registry-process.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function ping(headers: Record<string, string>, status = 401): HttpResponse {
  return { status, headers, body: Buffer.alloc(0), url: 'https://r.example/v2/' };
}

describe('detectRegistry', () => {
  it.each([
    ['artifactory', { 'x-jfrog-version': 'Artifactory/7.77.5 77705900' }],
    ['artifactory', { 'x-artifactory-id': 'abc' }],
    ['nexus', { server: 'Nexus/3.68.1-02 (OSS)' }],
    ['nexus', { 'www-authenticate': 'BASIC realm="Sonatype Nexus Repository Manager"' }],
    [
      'harbor',
      {
        'www-authenticate':
          'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry"',
      },
    ],
    ['quay', { 'www-authenticate': 'Bearer realm="https://quay.io/v2/auth",service="quay.io"' }],
    [
      'quay',
      { 'www-authenticate': 'Bearer realm="https://registry.example.com/v2/auth",service="quay-enterprise"' },
    ],
  ])('%s from %j', (type, headers) => {
    expect(detectRegistry(ping(headers))?.type).toBe(type);
  });

  it.each([
    [{ 'docker-distribution-api-version': 'registry/2.0' }],
    [{ 'www-authenticate': 'Basic realm="Registry Realm"' }],
    [{ 'www-authenticate': 'Bearer realm="https://auth.example.com/token",service="registry.example.com"' }],
    [
      {
        'www-authenticate': 'Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry"',
      },
    ],
  ])('nothing from a plain registry: %j', (headers) => {
    expect(detectRegistry(ping(headers))).toBeUndefined();
  });
});

async function discoverPrivate(apiUrl: string, creds: { username?: string; password?: string } = {}) {
  const yaml = `providers:
  - name: reg
    type: docker
    config:
      registry_type: private
      api_url: ${apiUrl}
${creds.username ? `      username: ${creds.username}\n      password: ${creds.password}\n` : ''}      selectors:
        - max_tags: 1
`;
  const lines: string[] = [];
  const r = await discoverText(yaml, {
    log: { info: (m) => lines.push(m), warn: (m) => lines.push(m), debug: () => {} },
  });
  const listed = r.graph.receipts.filter((x) => x.repository !== '*').reduce((a, x) => a + x.tags_listed, 0);
  return { ...r, lines, listed, errors: r.graph.receipts.flatMap((x) => x.errors) };
}

const manyTags = () => {
  const img = buildImage({ created: '2024-03-01T00:00:00Z', seed: 'many' });
  const b = new RepositoryBuilder('acme/many').addImage(img);
  for (let i = 0; i < 150; i++) b.tag(`t${String(i).padStart(3, '0')}`, img.manifest.digest);
  return [...sampleRepositories(), b.build()];
};
const TOTAL = manyTags().reduce((a, r) => a + Object.keys(r.tags).length, 0);

describe('registry_type: private on a vendor', () => {
  it('Nexus (Server header): delegates, says so once, and lists past the missing Link', async () => {
    const f = await startNexusFake({ repositories: manyTags(), pageCap: 50 });
    closers.push(() => f.close());
    const r = await discoverPrivate(f.apiUrl, { username: 'ci', password: DEFAULT_FAKE_USERS.ci! });
    expect(r.errors).toEqual([]);
    expect(r.listed).toBe(TOTAL);
    expect(r.lines.filter((l) => l.includes('looks like'))).toEqual([
      `reg: ${f.host} looks like nexus (Server: Nexus/3.68.1-02 (OSS)); using its adapter. Set registry_type: nexus to pin this`,
    ]);
    expect(r.summary).toContain('Nexus: listings continue');
  });

  it('Artifactory (X-JFrog-Version): delegates and fixes its next-page links', async () => {
    const f = await startArtifactoryFake({ repositories: manyTags(), pageCap: 50 });
    closers.push(() => f.close());
    const r = await discoverPrivate(f.urls.docker, { username: 'ci', password: DEFAULT_FAKE_USERS.ci! });
    expect(r.errors).toEqual([]);
    expect(r.listed).toBe(TOTAL);
    expect(r.lines.find((l) => l.includes('looks like'))).toBe(
      `reg: ${f.host} looks like artifactory (X-JFrog-Version: Artifactory/7.77.5 77705900); using its adapter. Set registry_type: artifactory to pin this`,
    );
  });

  it('Harbor (token service harbor-registry at /service/token): hands over to the Harbor adapter', async () => {
    const reg = await startDemoRegistry(sampleRepositories(), {
      intercept: (req, res) => {
        if (req.url !== '/v2/') return false;
        res.writeHead(401, {
          'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/service/token",service="harbor-registry"`,
          'Content-Type': 'application/json',
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized to access repository"}]}');
        return true;
      },
    });
    closers.push(() => reg.close());
    const r = await discoverPrivate(reg.url);
    expect(r.lines.find((l) => l.includes('looks like'))).toBe(
      `reg: ${reg.host} looks like harbor (the token service "harbor-registry" at ${reg.url}/service/token); using its adapter. Set registry_type: harbor to pin this`,
    );
  });
});

describe.skipIf(!registryAvailable())('registry_type: private on a real Distribution stays plain', () => {
  let open: RunningRegistry;
  let token: RunningRegistry;
  beforeAll(async () => {
    [open, token] = await Promise.all([startRegistry({ auth: 'open' }), startRegistry({ auth: 'token' })]);
    await Promise.all([
      pushRepositories(open, sampleRepositories()),
      pushRepositories(token, sampleRepositories()),
    ]);
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), token?.stop()]);
  });

  it.each(['open', 'token'] as const)('%s mode: no detection, complete listing', async (mode) => {
    const reg = mode === 'open' ? open : token;
    const creds = mode === 'token' ? { username: 'alice', password: reg.users.alice! } : {};
    const r = await discoverPrivate(reg.url, creds);
    expect(r.errors).toEqual([]);
    expect(r.lines.some((l) => l.includes('looks like'))).toBe(false);
    expect(r.listed).toBe(sampleRepositories().reduce((a, x) => a + Object.keys(x.tags).length, 0));
    expect(r.summary).not.toContain('Nexus');
  });
});
