// Proves the test-support layer: a real Distribution registry in open, basic and token mode,
// seeded with the deterministic dataset and checked with plain fetch (no src/ client code).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_ACCEPT } from '../../src/oci/media-types.js';
import { authorization, fetchToken, pushRepositories } from '../support/push-content.js';
import {
  type AuthMode,
  type RunningRegistry,
  registryAvailable,
  startRegistry,
} from '../support/registry-process.js';
import {
  ACME_API,
  ACME_EPOCH,
  MANY_TAGS_COUNT,
  MANY_TAGS_NAME,
  manyTagName,
  manyTags,
  NGINX,
  ORG_TEAM_APP,
  seededRepositories,
} from '../support/seed-data.js';

function requireRegistry(): void {
  if (!registryAvailable()) {
    throw new Error(
      'docker-registry is not installed: `apt-get install docker-registry` (CNCF Distribution 2.8) to run integration tests',
    );
  }
}

async function getManifest(
  reg: RunningRegistry,
  repo: string,
  ref: string,
  auth?: string,
): Promise<Response> {
  const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
  if (auth) headers.Authorization = auth;
  return fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { headers });
}

const MODES: AuthMode[] = ['open', 'basic', 'token'];

describe.each(MODES)('real registry, %s mode', (mode) => {
  let reg: RunningRegistry;
  const repos = seededRepositories({ includeManyTags: mode === 'open' });

  beforeAll(async () => {
    requireRegistry();
    reg = await startRegistry({ auth: mode });
    await pushRepositories(reg, repos);
  });
  afterAll(async () => {
    await reg?.stop();
  });

  it('lists every seeded repository in /v2/_catalog', async () => {
    const auth = await authorization(reg, ['registry:catalog:*']);
    const res = await fetch(`${reg.url}/v2/_catalog?n=1000`, {
      headers: auth ? { Authorization: auth } : {},
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { repositories: string[] };
    expect(body.repositories.sort()).toEqual(repos.map((r) => r.name).sort());
  });

  it('serves every tag with the expected Docker-Content-Digest and bytes', async () => {
    const checks: Array<[string, string, string]> = [
      [NGINX.name, 'latest', NGINX.v1_25_3.manifest.digest],
      [NGINX.name, '1.25', NGINX.v1_25_3.manifest.digest],
      [NGINX.name, '1.24.0', NGINX.v1_24_0.manifest.digest],
      [ACME_API.name, 'v1.1.0', ACME_API.v1_1_0.manifest.digest],
      [ACME_API.name, 'multi', ACME_API.multi.manifest.digest],
      [ORG_TEAM_APP.name, 'sha-abc1234', ORG_TEAM_APP.main.manifest.digest],
      [ORG_TEAM_APP.name, ORG_TEAM_APP.signatureTag, ORG_TEAM_APP.signature.manifest.digest],
      [ACME_EPOCH.name, 'reproducible', ACME_EPOCH.epoch.manifest.digest],
    ];
    for (const repo of repos) {
      const auth = await authorization(reg, [`repository:${repo.name}:pull`]);
      for (const [tag, digest] of Object.entries(repo.tags)) {
        if (repo.name === MANY_TAGS_NAME && !tag.endsWith('00')) continue; // sample the 1,100 tags
        const res = await getManifest(reg, repo.name, tag, auth);
        expect(res.status, `${repo.name}:${tag}`).toBe(200);
        expect(res.headers.get('docker-content-digest'), `${repo.name}:${tag}`).toBe(digest);
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(bytes.equals(repo.manifests.find((m) => m.digest === digest)!.bytes)).toBe(true);
      }
    }
    for (const [name, tag, digest] of checks)
      expect(repos.find((r) => r.name === name)!.tags[tag]).toBe(digest);
  });

  if (mode === 'open') {
    it('holds all 1,100 tags of many/tags', async () => {
      const res = await fetch(`${reg.url}/v2/${MANY_TAGS_NAME}/tags/list`);
      const body = (await res.json()) as { tags: string[] };
      expect(body.tags).toHaveLength(MANY_TAGS_COUNT);
      expect(body.tags).toContain(manyTagName(1));
      expect(body.tags).toContain(manyTagName(MANY_TAGS_COUNT));
      const last = await getManifest(reg, MANY_TAGS_NAME, manyTagName(MANY_TAGS_COUNT));
      expect(last.headers.get('docker-content-digest')).toBe(
        manyTags().images[MANY_TAGS_COUNT - 1]!.manifest.digest,
      );
    });
  }

  if (mode === 'basic') {
    it('challenges anonymous and wrong-password clients with Basic', async () => {
      const anon = await fetch(`${reg.url}/v2/`);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toMatch(/^Basic realm="test-registry"/);
      const wrong = await fetch(`${reg.url}/v2/`, {
        headers: { Authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` },
      });
      expect(wrong.status).toBe(401);
    });
  }

  if (mode === 'token') {
    it('challenges anonymous clients with a Bearer realm and service', async () => {
      const res = await fetch(`${reg.url}/v2/`);
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(/^Bearer /);
      expect(challenge).toContain(`realm="${reg.tokenServer!.realm}"`);
      expect(challenge).toContain('service="test-registry"');

      const scoped = await getManifest(reg, NGINX.name, 'latest');
      expect(scoped.headers.get('www-authenticate')).toContain('scope="repository:library/nginx:pull"');
    });

    it('accepts a token fetched with good credentials and refuses bad credentials', async () => {
      const ts = reg.tokenServer!;
      ts.reset();
      const token = await fetchToken(reg, [`repository:${NGINX.name}:pull`], {
        username: 'bob',
        password: 'bob-secret',
      });
      const res = await getManifest(reg, NGINX.name, 'latest', `Bearer ${token}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe(NGINX.v1_25_3.manifest.digest);

      await expect(
        fetchToken(reg, [`repository:${NGINX.name}:pull`], { username: 'bob', password: 'wrong' }),
      ).rejects.toThrow(/401/);
      expect(ts.requests.map((r) => [r.method, r.user, r.hadBasic, r.status])).toEqual([
        ['GET', 'bob', true, 200],
        ['GET', 'bob', true, 401],
      ]);
      expect(JSON.stringify(ts.requests)).not.toContain('bob-secret');
    });

    it('gives anonymous clients an empty token unless anonymous pull is allowed', async () => {
      const ts = reg.tokenServer!;
      const anon = await fetchToken(reg, [`repository:${NGINX.name}:pull`]);
      const denied = await getManifest(reg, NGINX.name, 'latest', `Bearer ${anon}`);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_scope"');

      ts.options.allowAnonymousPull = true;
      try {
        const pullOnly = await fetchToken(reg, [`repository:${NGINX.name}:pull,push`]);
        expect((await getManifest(reg, NGINX.name, 'latest', `Bearer ${pullOnly}`)).status).toBe(200);
        expect(ts.requests.at(-1)!.granted).toEqual([
          { type: 'repository', name: NGINX.name, actions: ['pull'] },
        ]);
      } finally {
        ts.options.allowAnonymousPull = false;
      }
    });

    it('issues working tokens over the OAuth2 POST flow (password and refresh_token grants)', async () => {
      const ts = reg.tokenServer!;
      ts.options.postOnly = true;
      try {
        const get = await fetch(`${ts.realm}?service=${ts.service}&scope=repository:acme/api:pull`);
        expect(get.status).toBe(404);

        const form = new URLSearchParams({
          grant_type: 'password',
          username: 'alice',
          password: 'alice-secret',
          client_id: 'registry-support-test',
          service: ts.service,
          access_type: 'offline',
          scope: `repository:${ACME_API.name}:pull registry:catalog:*`,
        });
        const post = await fetch(ts.realm, { method: 'POST', body: form });
        expect(post.status).toBe(200);
        const body = (await post.json()) as { access_token: string; scope: string; refresh_token: string };
        expect(body.scope).toBe(`repository:${ACME_API.name}:pull registry:catalog:*`);
        const res = await getManifest(reg, ACME_API.name, 'v1.0.0', `Bearer ${body.access_token}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('docker-content-digest')).toBe(ACME_API.v1_0_0.manifest.digest);
        const catalog = await fetch(`${reg.url}/v2/_catalog`, {
          headers: { Authorization: `Bearer ${body.access_token}` },
        });
        expect(catalog.status).toBe(200);

        const refreshed = await fetch(ts.realm, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: body.refresh_token,
            client_id: 'registry-support-test',
            service: ts.service,
            scope: `repository:${ACME_EPOCH.name}:pull`,
          }),
        });
        const rbody = (await refreshed.json()) as { access_token: string };
        const epoch = await getManifest(reg, ACME_EPOCH.name, 'reproducible', `Bearer ${rbody.access_token}`);
        expect(epoch.status).toBe(200);

        const bad = await fetch(ts.realm, {
          method: 'POST',
          body: new URLSearchParams({ ...Object.fromEntries(form), password: 'wrong' }),
        });
        expect(bad.status).toBe(401);
      } finally {
        ts.options.postOnly = false;
      }
    });

    it('rejects expired tokens (beyond the registry clock-skew leeway)', async () => {
      const ts = reg.tokenServer!;
      const access = [{ type: 'repository', name: NGINX.name, actions: ['pull'] }];
      const expired = ts.issueToken('alice', access, {
        expiresIn: -120,
        notBefore: Math.floor(Date.now() / 1000) - 600,
      });
      expect((await getManifest(reg, NGINX.name, 'latest', `Bearer ${expired}`)).status).toBe(401);
      const fresh = ts.issueToken('alice', access);
      expect((await getManifest(reg, NGINX.name, 'latest', `Bearer ${fresh}`)).status).toBe(200);
    });
  }
});
