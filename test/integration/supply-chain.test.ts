// Issue 16 end to end: the real registry (Distribution 2.8, no referrers API) seeded with every
// supply-chain scheme — legacy cosign tags, sigstore bundles and a SARIF report behind referrers
// fallback tags, BuildKit attestation manifests in both forms — discovered through the engine,
// directly and through the referrers proxy in each of its modes. The expectations come from the
// fixture's facts (test/support/supply-chain-content.ts), never from the code under test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { HttpClient } from '../../src/http/http-client.js';
import { type Log, silentLog } from '../../src/log.js';
import type { Entity, Graph } from '../../src/model/graph.js';
import { runDiscovery } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';
import { captureLog } from '../support/capture-log.js';
import { pushRepository } from '../support/push-content.js';
import {
  type ReferrersMode,
  type ReferrersProxy,
  type ReferrersProxyOptions,
  startReferrersProxy,
} from '../support/referrers-proxy.js';
import { type RunningRegistry, registryAvailable, startRegistry } from '../support/registry-process.js';
import { SUPPLY_CHAIN_IMAGES, supplyChainRepository } from '../support/supply-chain-content.js';

if (!registryAvailable()) {
  throw new Error('/usr/bin/docker-registry is missing: install the Debian package docker-registry');
}

const { content, facts } = supplyChainRepository();
const GENERATED_AT = '2026-01-01T00:00:00Z';

async function discover(
  apiUrl: string,
  stateDir?: string,
  user?: { username: string; password: string },
  require?: string,
  log: Log = silentLog,
) {
  const secrets = new Secrets();
  const login = user ? `      username: ${user.username}\n      password: \${REGISTRY_PASSWORD}\n` : '';
  const settings = loadConfig(
    `providers:
  - name: supply
    type: docker
    config:
      registry_type: private
      api_url: ${apiUrl}
${login}      discover_vulnerabilities: true
      verify:
        keys:
          - \${COSIGN_PUBLIC_KEY}
      selectors:
        - max_tags: 0
${require ? `          require: ${require}\n` : ''}`,
    {
      env: { COSIGN_PUBLIC_KEY: facts.publicKeyPem, REGISTRY_PASSWORD: user?.password },
      secrets,
      origin: 'supply-chain test config',
    },
  );
  const http = new HttpClient();
  try {
    const result = await runDiscovery(settings, {
      secrets,
      log,
      generatedAt: GENERATED_AT,
      http,
      ...(stateDir ? { stateDir } : {}),
    });
    return { ...result, graph: result.graph.load() };
  } finally {
    await http.close();
  }
}

const kind = (g: Graph, k: Entity['kind']) => g.entities.filter((e) => e.kind === k);
const manifestEntity = (g: Graph, digest: string) => {
  const e = kind(g, 'DockerManifest').find((m) => m.spec.digest === digest);
  if (!e)
    throw new Error(`no DockerManifest for ${digest} (${facts.manifests[digest]?.storedAs ?? 'unknown'})`);
  return e;
};
const imageEntity = (g: Graph, tag: string) => {
  const e = kind(g, 'DockerImage').find((i) => i.spec.tag === tag);
  if (!e) throw new Error(`no DockerImage for tag ${tag}`);
  return e;
};

/** REFERS_TO as `referrer digest -> subject digest`, sorted. */
function refersTo(g: Graph): string[] {
  const digestOf = new Map(kind(g, 'DockerManifest').map((m) => [m.metadata.name, m.spec.digest as string]));
  return g.relations
    .filter((r) => r.relation === 'REFERS_TO')
    .map((r) => `${digestOf.get(r.source.name)} -> ${digestOf.get(r.target.name)}`)
    .sort();
}

/** What the facts say REFERS_TO must hold: every accessory (not a fallback listing) to its subject. */
const EXPECTED_REFERS_TO = Object.values(facts.manifests)
  .filter((m) => m.role && m.subject)
  .map((m) => `${m.digest} -> ${m.subject}`)
  .sort();

/** The graph with the registry's address taken out, to compare runs through different front doors. */
function comparable(g: Graph, url: string): string {
  const host = new URL(url).host;
  return JSON.stringify({ ...g, receipts: g.receipts.map((r) => ({ ...r, requests: 0 })) })
    .split(url)
    .join('http://registry.test')
    .split(host)
    .join('registry.test');
}

/** The supply-chain assertions every front door must satisfy. */
function assertSupplyChainGraph(g: Graph): void {
  const [receipt] = g.receipts.filter((r) => r.repository === facts.repository);
  expect(receipt).toMatchObject({
    complete: true,
    tags_listed: facts.imageTags.length + facts.accessoryTags.length,
    tags_selected: facts.imageTags.length,
    accessory_tags: facts.accessoryTags.length,
    errors: [],
  });

  // Accessory tags are never DockerImages.
  expect(
    kind(g, 'DockerImage')
      .map((i) => i.spec.tag)
      .sort(),
  ).toEqual([...facts.imageTags].sort());

  for (const name of SUPPLY_CHAIN_IMAGES) {
    const img = facts.images[name];
    const spec = imageEntity(g, img.tag).spec;
    expect({
      tag: img.tag,
      signed: spec.signed,
      sbom: spec.sbom,
      provenance: spec.provenance,
      verified: spec.verified,
    }).toEqual({ tag: img.tag, ...img.trust });
    expect(spec.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    if (img.vulnerabilities) {
      // A severity with no finding may be written as 0 or left out; `fixable` only where the report says.
      const got = spec.vulnerabilities as Record<string, unknown> | undefined;
      const severities = ['total', 'critical', 'high', 'medium', 'low'] as const;
      expect(Object.fromEntries(severities.map((k) => [k, got?.[k] ?? 0]))).toEqual(
        Object.fromEntries(severities.map((k) => [k, img.vulnerabilities![k] ?? 0])),
      );
      if (got?.fixable !== undefined) expect(got.fixable).toBe(img.vulnerabilities.fixable);
      expect(got?.source).toBeTruthy();
    } else {
      expect(spec.vulnerabilities).toBeUndefined();
    }
  }

  // Every manifest reached, with its role, type, predicates and subject.
  for (const m of Object.values(facts.manifests)) {
    if (!m.role) continue;
    const spec = manifestEntity(g, m.digest).spec;
    expect({
      digest: m.digest,
      role: spec.role,
      artifact_type: spec.artifact_type,
      predicate_types: spec.predicate_types,
      subject: spec.subject,
      verification: spec.verification,
    }).toEqual({
      digest: m.digest,
      role: m.role,
      artifact_type: m.artifactType,
      predicate_types: m.predicateTypes,
      subject: m.subject,
      verification: m.verification,
    });
  }
  // Each manifest once, whichever schemes listed it (BuildKit >= 0.32 children are seen twice).
  const digests = kind(g, 'DockerManifest').map((m) => m.spec.digest as string);
  expect(new Set(digests).size).toBe(digests.length);
  expect(refersTo(g)).toEqual(EXPECTED_REFERS_TO);
}

describe('supply chain end to end (issue 16)', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'open' });
    await pushRepository(registry, content);
  }, 60_000);
  afterAll(() => registry?.stop());

  let direct: Awaited<ReturnType<typeof discover>>;
  /** The cold graph without the API, with its front door's address taken out. */
  let directText: string;

  describe('a registry without the referrers API (Distribution 2.8 as it is)', () => {
    let proxy: ReferrersProxy;
    let stateDir: string;
    beforeAll(async () => {
      // Passthrough: Distribution's own 404 for /referrers, with the requests counted.
      proxy = await startReferrersProxy({ upstream: registry.url, content: [content], mode: 'passthrough' });
      stateDir = await mkdtemp(join(tmpdir(), 'dg-supply-none-'));
    });
    afterAll(async () => {
      await proxy?.close();
      if (stateDir) await rm(stateDir, { recursive: true, force: true });
    });

    const log = captureLog();

    it('finds every scheme through fallback and cosign tags and BuildKit children', async () => {
      direct = await discover(proxy.url, stateDir, undefined, undefined, log);
      directText = comparable(direct.graph, proxy.url);
      expect(direct.complete).toBe(true);
      assertSupplyChainGraph(direct.graph);
    });

    it('warns of each bad signature and bad signed attestation once, naming it and its subject', () => {
      const bad = Object.values(facts.manifests).filter((m) => m.verification === 'bad');
      expect(bad.map((m) => m.role).sort()).toEqual(['attestation', 'signature', 'signature']);
      const warned = log.lines
        .filter((l) => l.level === 'warn' && / a bad (signature|signed attestation) of /.test(l.text))
        .map((l) => l.text);
      expect(warned).toHaveLength(bad.length);
      for (const m of bad) {
        const noun = m.role === 'signature' ? 'signature' : 'signed attestation';
        expect(
          warned.filter((w) => w.includes(`@${m.digest}: a bad ${noun} of ${m.subject}: `)),
        ).toHaveLength(1);
      }
    });

    it('costs nothing beyond fetching each manifest once, and asks for referrers at most once', () => {
      expect(proxy.counts.tags).toBe(1);
      // Each manifest of the repository (tagged or reached by digest) once; no manifest twice.
      const manifestPaths = proxy.requests.filter((r) => r.kind === 'manifests').map((r) => r.path);
      expect(new Set(manifestPaths).size).toBe(manifestPaths.length);
      expect(proxy.counts.manifests).toBe(content.manifests.length);
      const blobPaths = proxy.requests.filter((r) => r.kind === 'blobs').map((r) => r.path);
      expect(new Set(blobPaths).size).toBe(blobPaths.length);
      expect(proxy.counts.referrers).toBeLessThanOrEqual(1);
    });

    it('a warm run revalidates tags only, asks no referrers, and gives the same graph', async () => {
      proxy.resetCounts();
      const warm = await discover(proxy.url, stateDir);
      expect(proxy.counts.referrers).toBe(0);
      expect(proxy.counts.blobs).toBe(0);
      const manifests = proxy.requests.filter((r) => r.kind === 'manifests');
      expect(manifests.length).toBeLessThanOrEqual(facts.imageTags.length + facts.accessoryTags.length);
      expect(manifests.every((r) => r.status === 304)).toBe(true);
      expect(comparable(warm.graph, proxy.url)).toBe(directText);
    });
  });

  it('a require: policy over the real registry names exactly the images that miss it', async () => {
    const run = await discover(registry.url, undefined, undefined, '{ verified: true, sbom: true }');
    const expected = SUPPLY_CHAIN_IMAGES.flatMap((name) => {
      const { tag, trust } = facts.images[name];
      return [...(trust.verified ? [] : [`${tag} verified`]), ...(trust.sbom ? [] : [`${tag} sbom`])];
    }).sort();
    expect(run.policy?.checked).toBe(SUPPLY_CHAIN_IMAGES.length);
    expect(run.policy?.violations.map((v) => `${v.tag} ${v.rule}`).sort()).toEqual(expected);
  });

  describe('the OCI 1.1 referrers API in front of it', () => {
    let proxy: ReferrersProxy;
    let state: string;
    beforeAll(async () => {
      proxy = await startReferrersProxy({ upstream: registry.url, content: [content], mode: 'api' });
      state = await mkdtemp(join(tmpdir(), 'dg-supply-api-'));
    });
    afterAll(async () => {
      await proxy?.close();
      if (state) await rm(state, { recursive: true, force: true });
    });

    it('gives the same graph, each referrer once', async () => {
      const run = await discover(proxy.url, state);
      assertSupplyChainGraph(run.graph);
      expect(comparable(run.graph, proxy.url)).toBe(directText);
      // Only selected images and their platform manifests are asked, after one question whether
      // the API exists (the digest of nothing, asked once per run).
      const probe = `/v2/${facts.repository}/referrers/sha256:${'0'.repeat(64)}`;
      const all = proxy.requests.filter((r) => r.kind === 'referrers').map((r) => r.path.split('?')[0]);
      expect(all.filter((p) => p === probe)).toHaveLength(1);
      const asked = all.filter((p) => p !== probe);
      expect(asked).toHaveLength(SUPPLY_CHAIN_IMAGES.length * 3);
      const selected = new Set(
        SUPPLY_CHAIN_IMAGES.flatMap((n) => [
          facts.images[n].digest,
          ...Object.values(facts.images[n].platforms),
        ]).map((d) => `/v2/${facts.repository}/referrers/${d}`),
      );
      expect(asked.every((p) => selected.has(p!))).toBe(true);
      expect(new Set(asked).size).toBe(asked.length);
    });

    it('a warm run revalidates referrers with If-None-Match: every answer a 304', async () => {
      proxy.resetCounts();
      const warm = await discover(proxy.url, state);
      assertSupplyChainGraph(warm.graph);
      // The run's question whether the API exists goes to whichever repository comes first, so it
      // is asked afresh, once; every subject's answer is revalidated.
      const probe = `/referrers/sha256:${'0'.repeat(64)}`;
      const referrers = proxy.requests.filter((r) => r.kind === 'referrers' && !r.path.endsWith(probe));
      expect(referrers.length).toBeGreaterThan(0);
      expect(referrers.every((r) => r.status === 304)).toBe(true);
      expect(proxy.requests.filter((r) => r.path.endsWith(probe)).map((r) => r.status)).toEqual([200]);
      expect(proxy.counts.blobs).toBe(0);
    });
  });

  describe('registries whose referrers answer is no proof', () => {
    const fronts: [string, Omit<ReferrersProxyOptions, 'upstream' | 'content'>][] = [
      ...(['absent', 'status-400', 'status-405', 'status-406', 'not-index', 'empty'] as const).map(
        (mode) => [`${mode}: falls back to the tags`, { mode }] as [string, { mode: ReferrersMode }],
      ),
      ['paged answers and an ignored artifactType filter', { pageSize: 1, filter: 'ignore' }],
    ];
    for (const [label, options] of fronts) {
      it(`${label}: the same graph`, async () => {
        const proxy = await startReferrersProxy({ upstream: registry.url, content: [content], ...options });
        try {
          const run = await discover(proxy.url);
          assertSupplyChainGraph(run.graph);
          expect(comparable(run.graph, proxy.url)).toBe(directText);
          // No state directory here: a blob two checks need (a signed vulnerability attestation) is
          // still fetched once.
          const blobPaths = proxy.requests.filter((r) => r.kind === 'blobs').map((r) => r.path);
          expect(new Set(blobPaths).size).toBe(blobPaths.length);
        } finally {
          await proxy.close();
        }
      });
    }

    it('gitlab: a sha256-<hex> tag that resolves to the subject lists none of its children as referrers', async () => {
      const proxy = await startReferrersProxy({ upstream: registry.url, content: [content], mode: 'gitlab' });
      try {
        const run = await discover(proxy.url);
        const g = run.graph;
        for (const name of SUPPLY_CHAIN_IMAGES) {
          const img = facts.images[name];
          for (const platform of Object.values(img.platforms)) {
            expect(manifestEntity(g, platform).spec.role).toBe('image');
            expect(refersTo(g)).not.toContain(`${platform} -> ${img.digest}`);
          }
          expect(refersTo(g)).not.toContain(`${img.digest} -> ${img.digest}`);
        }
        // What does not depend on the fallback tags is still found.
        for (const name of [
          'legacy',
          'buildkit',
          'buildkit-referrer',
          'unknown-key',
          'half-signed',
        ] as const) {
          expect(imageEntity(g, facts.images[name].tag).spec).toMatchObject(facts.images[name].trust);
        }
      } finally {
        await proxy.close();
      }
    });
  });
});

describe('supply chain behind Bearer tokens (issue 16)', () => {
  let registry: RunningRegistry;
  let proxy: ReferrersProxy;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushRepository(registry, content);
    proxy = await startReferrersProxy({ upstream: registry.url, content: [content], mode: 'api' });
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  it('answers the registry challenge on the referrers API with the repository pull token', async () => {
    registry.tokenServer!.reset();
    const run = await discover(proxy.url, undefined, { username: 'bob', password: registry.users.bob! });
    assertSupplyChainGraph(run.graph);
    expect(proxy.requests.filter((r) => r.kind === 'referrers' && r.status === 200).length).toBeGreaterThan(
      0,
    );
    const scopes = new Set(registry.tokenServer!.requests.flatMap((q) => q.scopes));
    expect([...scopes].sort()).toEqual(['registry:catalog:*', `repository:${facts.repository}:pull`]);
  });
});
