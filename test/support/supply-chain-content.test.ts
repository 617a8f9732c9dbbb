// Proves the supply-chain fixtures: the real registry accepts every manifest as built, the
// signatures verify with node:crypto the way cosign checks them, the documents say what the
// facts say, and the referrers proxy answers as distribution-spec 1.1 describes in every mode.
import { createVerify, type KeyObject, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepositoryContent } from '../../src/demo/image-builder.js';
import { MediaType } from '../../src/oci/media-types.js';
import { authorization, pushRepository } from './push-content.js';
import { type ReferrersProxy, startReferrersProxy } from './referrers-proxy.js';
import { type RunningRegistry, registryAvailable, startRegistry } from './registry-process.js';
import {
  cosignTag,
  type DsseEnvelope,
  fallbackTag,
  hexOf,
  PredicateType,
  pae,
  SUPPLY_CHAIN_IMAGES,
  SupplyChainAnnotation,
  SupplyChainMediaType,
  severityCounts,
  supplyChainRepository,
  testKeys,
} from './supply-chain-content.js';

if (!registryAvailable()) {
  throw new Error('/usr/bin/docker-registry is missing: install the Debian package docker-registry');
}

const ACCEPT = [MediaType.OciIndex, MediaType.OciManifest].join(', ');
const keys = testKeys();
const { content, facts } = supplyChainRepository('supply/chain', keys);
const repo = facts.repository;

interface Manifest {
  mediaType?: string;
  artifactType?: string;
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
  subject?: { mediaType: string; digest: string; size: number };
  annotations?: Record<string, string>;
}
interface Index {
  mediaType?: string;
  manifests: {
    mediaType: string;
    digest: string;
    size: number;
    artifactType?: string;
    platform?: { architecture: string; os: string };
    annotations?: Record<string, string>;
  }[];
}

async function getJson<T>(base: string, path: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { accept: ACCEPT, ...headers } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function getBlob(base: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${base}/v2/${repo}/blobs/${digest}`);
  if (res.status !== 200) throw new Error(`GET blob ${digest}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

function verifies(publicKey: KeyObject, data: Buffer, base64Signature: string): boolean {
  return verify('sha256', data, publicKey, Buffer.from(base64Signature, 'base64'));
}

/** A DSSE envelope's statement, if its first signature verifies with `publicKey` over the PAE. */
function openEnvelope(envelope: DsseEnvelope, publicKey: KeyObject) {
  const payload = Buffer.from(envelope.payload, 'base64');
  const ok = verifies(publicKey, pae(envelope.payloadType, payload), envelope.signatures[0]!.sig);
  return {
    ok,
    statement: JSON.parse(payload.toString('utf8')) as {
      _type: string;
      subject: { name: string; digest: { sha256: string } }[];
      predicateType: string;
      predicate: Record<string, unknown>;
    },
  };
}

describe('supply-chain content in the real registry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'open' });
    await pushRepository(registry, content);
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('holds every tag and every manifest byte for byte', async () => {
    const tags = await getJson<{ tags: string[] }>(registry.url, `/v2/${repo}/tags/list`);
    expect(tags.tags.sort()).toEqual([...facts.imageTags, ...facts.accessoryTags].sort());
    expect(facts.imageTags).toEqual([...SUPPLY_CHAIN_IMAGES]);
    for (const m of content.manifests) {
      const res = await fetch(`${registry.url}/v2/${repo}/manifests/${m.digest}`, {
        headers: { accept: ACCEPT },
      });
      expect(res.status, m.digest).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe(m.digest);
      expect(Buffer.from(await res.arrayBuffer()).equals(m.bytes)).toBe(true);
    }
    expect(Object.keys(facts.manifests).sort()).toEqual(content.manifests.map((m) => m.digest).sort());
  });

  it('has multi-arch indexes whose platforms and attestation children match the facts', async () => {
    for (const name of SUPPLY_CHAIN_IMAGES) {
      const img = facts.images[name];
      const index = await getJson<Index>(registry.url, `/v2/${repo}/manifests/${img.tag}`);
      const platforms = index.manifests.filter((d) => d.platform?.os !== 'unknown');
      expect(
        Object.fromEntries(platforms.map((d) => [`${d.platform!.os}/${d.platform!.architecture}`, d.digest])),
      ).toEqual(img.platforms);
      const children = index.manifests.filter((d) => d.platform?.os === 'unknown');
      expect(children.map((d) => d.digest)).toEqual(img.attestationChildren);
      for (const c of children) {
        expect(c.annotations?.[SupplyChainAnnotation.ReferenceType]).toBe('attestation-manifest');
        expect(c.annotations?.[SupplyChainAnnotation.ReferenceDigest]).toBe(
          facts.manifests[c.digest]!.subject,
        );
      }
    }
  });

  it('keeps legacy cosign signatures that verify with the signing key over the payload bytes', async () => {
    const check = async (
      name: 'legacy' | 'unknown-key' | 'bad-signature' | 'half-signed',
      subject: string,
    ) => {
      const sig = await getJson<Manifest>(registry.url, `/v2/${repo}/manifests/${cosignTag(subject, 'sig')}`);
      expect(sig.config.mediaType).toBe(MediaType.OciConfig);
      const layer = sig.layers[0]!;
      expect(layer.mediaType).toBe(SupplyChainMediaType.SimpleSigning);
      const payload = await getBlob(registry.url, layer.digest);
      const signature = layer.annotations![SupplyChainAnnotation.CosignSignature]!;
      const named = (JSON.parse(payload.toString('utf8')) as { critical: { image: Record<string, string> } })
        .critical.image['docker-manifest-digest'];
      return {
        bySigning: verifies(keys.signing.publicKey, payload, signature),
        byOther: verifies(keys.other.publicKey, payload, signature),
        named,
        name,
      };
    };
    expect(await check('legacy', facts.images.legacy.digest)).toEqual({
      bySigning: true,
      byOther: false,
      named: facts.images.legacy.digest,
      name: 'legacy',
    });
    expect(await check('unknown-key', facts.images['unknown-key'].digest)).toMatchObject({
      bySigning: false,
      byOther: true,
      named: facts.images['unknown-key'].digest,
    });
    // A replayed signature: genuine, but over a payload naming another image.
    expect(await check('bad-signature', facts.images['bad-signature'].digest)).toMatchObject({
      bySigning: true,
      named: facts.images.legacy.digest,
    });
    const amd64 = facts.images['half-signed'].platforms['linux/amd64']!;
    expect(await check('half-signed', amd64)).toMatchObject({ bySigning: true, named: amd64 });

    // The same check as cosign's, spelled with the streaming API on the PEM text a user configures.
    const sig = await getJson<Manifest>(
      registry.url,
      `/v2/${repo}/manifests/${cosignTag(facts.images.legacy.digest, 'sig')}`,
    );
    const payload = await getBlob(registry.url, sig.layers[0]!.digest);
    const v = createVerify('SHA256').update(payload);
    expect(
      v.verify(
        facts.publicKeyPem,
        sig.layers[0]!.annotations![SupplyChainAnnotation.CosignSignature]!,
        'base64',
      ),
    ).toBe(true);
  });

  it('keeps a legacy .att whose DSSE envelope verifies and names the image, and an SPDX .sbom', async () => {
    const subject = facts.images.legacy.digest;
    const att = await getJson<Manifest>(registry.url, `/v2/${repo}/manifests/${cosignTag(subject, 'att')}`);
    const layer = att.layers[0]!;
    expect(layer.mediaType).toBe(SupplyChainMediaType.DsseEnvelope);
    expect(layer.annotations?.[SupplyChainAnnotation.CosignPredicateType]).toBe(PredicateType.SlsaV02);
    const envelope = JSON.parse((await getBlob(registry.url, layer.digest)).toString('utf8')) as DsseEnvelope;
    const { ok, statement } = openEnvelope(envelope, keys.signing.publicKey);
    expect(ok).toBe(true);
    expect(statement.predicateType).toBe(PredicateType.SlsaV02);
    expect(statement.subject[0]!.digest.sha256).toBe(hexOf(subject));

    const sbom = await getJson<Manifest>(registry.url, `/v2/${repo}/manifests/${cosignTag(subject, 'sbom')}`);
    expect(sbom.layers[0]!.mediaType).toBe(SupplyChainMediaType.SpdxJson);
    const spdx = JSON.parse((await getBlob(registry.url, sbom.layers[0]!.digest)).toString('utf8'));
    expect(spdx).toMatchObject({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT' });
  });

  it('keeps an .att by the other key, and a genuine .att replayed onto bad-signature naming the legacy image', async () => {
    const open = async (name: 'unknown-key' | 'bad-signature') => {
      const tag = cosignTag(facts.images[name].digest, 'att');
      const att = await getJson<Manifest>(registry.url, `/v2/${repo}/manifests/${tag}`);
      const layer = att.layers[0]!;
      expect(layer.mediaType).toBe(SupplyChainMediaType.DsseEnvelope);
      expect(layer.annotations?.[SupplyChainAnnotation.CosignPredicateType]).toBe(PredicateType.CosignCustom);
      const envelope = JSON.parse(
        (await getBlob(registry.url, layer.digest)).toString('utf8'),
      ) as DsseEnvelope;
      const bySigning = openEnvelope(envelope, keys.signing.publicKey);
      return {
        bySigning: bySigning.ok,
        byOther: openEnvelope(envelope, keys.other.publicKey).ok,
        named: `sha256:${bySigning.statement.subject[0]!.digest.sha256}`,
        verification: Object.values(facts.manifests).find((m) => m.tag === tag)?.verification,
      };
    };
    expect(await open('unknown-key')).toEqual({
      bySigning: false,
      byOther: true,
      named: facts.images['unknown-key'].digest,
      verification: 'unknown-key',
    });
    expect(await open('bad-signature')).toEqual({
      bySigning: true,
      byOther: false,
      named: facts.images.legacy.digest,
      verification: 'bad',
    });
  });

  it('lists sigstore bundles under the fallback tag; each bundle DSSE verifies and names the image', async () => {
    const img = facts.images.bundle;
    const listing = await getJson<Index>(registry.url, `/v2/${repo}/manifests/${fallbackTag(img.digest)}`);
    expect(listing.mediaType).toBe(MediaType.OciIndex);
    expect(listing.manifests.map((d) => d.digest)).toEqual(facts.referrers[img.digest]);
    const seen: string[] = [];
    for (const d of listing.manifests) {
      expect(d.artifactType).toBe(SupplyChainMediaType.SigstoreBundle);
      const m = await getJson<Manifest>(registry.url, `/v2/${repo}/manifests/${d.digest}`);
      expect(d.annotations).toEqual(m.annotations);
      expect(m.config).toMatchObject({ mediaType: SupplyChainMediaType.Empty, size: 2 });
      expect((await getBlob(registry.url, m.config.digest)).toString()).toBe('{}');
      expect(m.subject).toMatchObject({ digest: img.digest, mediaType: MediaType.OciIndex });
      const bundle = JSON.parse((await getBlob(registry.url, m.layers[0]!.digest)).toString('utf8')) as {
        mediaType: string;
        verificationMaterial: { publicKey: { hint: string } };
        dsseEnvelope: DsseEnvelope;
      };
      expect(bundle.mediaType).toBe(SupplyChainMediaType.SigstoreBundle);
      expect(bundle.verificationMaterial.publicKey.hint).toBe(keys.signing.hint);
      const { ok, statement } = openEnvelope(bundle.dsseEnvelope, keys.signing.publicKey);
      expect(ok).toBe(true);
      expect(openEnvelope(bundle.dsseEnvelope, keys.other.publicKey).ok).toBe(false);
      expect(statement.subject[0]!.digest.sha256).toBe(hexOf(img.digest));
      expect(m.annotations?.[SupplyChainAnnotation.BundlePredicateType]).toBe(statement.predicateType);
      expect(facts.manifests[d.digest]!.predicateTypes).toEqual([statement.predicateType]);
      seen.push(statement.predicateType);
      if (statement.predicateType === PredicateType.CosignVuln) {
        const result = (
          statement.predicate.scanner as {
            result: { Results: { Vulnerabilities: { Severity: string; FixedVersion?: string }[] }[] };
          }
        ).result;
        const vulns = result.Results.flatMap((r) => r.Vulnerabilities);
        const { from: _from, ...expected } = img.vulnerabilities!;
        expect({
          ...severityCounts(vulns.map((v) => v.Severity)),
          fixable: vulns.filter((v) => v.FixedVersion).length,
        }).toEqual(expected);
      }
    }
    expect(seen).toEqual([PredicateType.CosignSign, PredicateType.CosignVuln]);
  });

  it('lists a replayed signature bundle for bad-signature: genuine, but naming the legacy image', async () => {
    const img = facts.images['bad-signature'];
    const listing = await getJson<Index>(registry.url, `/v2/${repo}/manifests/${fallbackTag(img.digest)}`);
    expect(listing.manifests.map((d) => d.digest)).toEqual(facts.referrers[img.digest]);
    const m = await getJson<Manifest>(registry.url, `/v2/${repo}/manifests/${listing.manifests[0]!.digest}`);
    expect(m.subject?.digest).toBe(img.digest);
    const bundle = JSON.parse((await getBlob(registry.url, m.layers[0]!.digest)).toString('utf8')) as {
      dsseEnvelope: DsseEnvelope;
    };
    const { ok, statement } = openEnvelope(bundle.dsseEnvelope, keys.signing.publicKey);
    expect(ok).toBe(true);
    expect(statement.subject[0]!.digest.sha256).toBe(hexOf(facts.images.legacy.digest));
    expect(facts.manifests[listing.manifests[0]!.digest]!.verification).toBe('bad');
  });

  it('lists a SARIF report under the BuildKit image fallback tag, with the facts counts', async () => {
    const img = facts.images.buildkit;
    const listing = await getJson<Index>(registry.url, `/v2/${repo}/manifests/${fallbackTag(img.digest)}`);
    expect(listing.manifests).toHaveLength(1);
    expect(listing.manifests[0]!.artifactType).toBe(SupplyChainMediaType.Sarif);
    const m = await getJson<Manifest>(registry.url, `/v2/${repo}/manifests/${listing.manifests[0]!.digest}`);
    const sarif = JSON.parse((await getBlob(registry.url, m.layers[0]!.digest)).toString('utf8')) as {
      runs: {
        tool: { driver: { rules: { id: string; properties: { 'security-severity': string } }[] } };
        results: { ruleId: string }[];
      }[];
    };
    const run = sarif.runs[0]!;
    const score = new Map(
      run.tool.driver.rules.map((r) => [r.id, Number(r.properties['security-severity'])]),
    );
    const severity = (s: number) => (s >= 9 ? 'CRITICAL' : s >= 7 ? 'HIGH' : s >= 4 ? 'MEDIUM' : 'LOW');
    const { from, ...expected } = img.vulnerabilities!;
    expect(from).toBe('sarif');
    expect(severityCounts(run.results.map((r) => severity(score.get(r.ruleId)!)))).toEqual(expected);
  });

  it('has BuildKit attestation children with SPDX and SLSA v1 layers; the >= 0.32 form also has a subject', async () => {
    for (const name of ['buildkit', 'buildkit-referrer'] as const) {
      for (const child of facts.images[name].attestationChildren) {
        const m = await getJson<Manifest>(registry.url, `/v2/${repo}/manifests/${child}`);
        expect(m.layers.map((l) => l.annotations?.[SupplyChainAnnotation.InTotoPredicateType])).toEqual([
          PredicateType.Spdx,
          PredicateType.SlsaV1,
        ]);
        expect(m.layers.every((l) => l.mediaType === SupplyChainMediaType.InToto)).toBe(true);
        const statement = JSON.parse((await getBlob(registry.url, m.layers[0]!.digest)).toString('utf8'));
        expect(statement.subject[0].digest.sha256).toBe(hexOf(facts.manifests[child]!.subject!));
        if (name === 'buildkit-referrer') {
          expect(m.artifactType).toBe(SupplyChainMediaType.BuildkitAttestation);
          expect(m.subject?.digest).toBe(facts.manifests[child]!.subject);
          expect(facts.referrers[m.subject!.digest]).toEqual([child]);
        } else {
          expect(m.subject).toBeUndefined();
        }
      }
    }
  });

  it('states a role for every manifest but the fallback listings, and expected trust per image', () => {
    const roles = Object.values(facts.manifests).map((m) => [m.storedAs, m.role ?? '-']);
    const distinct = [...new Set(roles.map((r) => r.join(' ')))].sort();
    expect(distinct).toEqual([
      'attestation-child attestation',
      'cosign-tag attestation',
      'cosign-tag sbom',
      'cosign-tag signature',
      'fallback-index -',
      'platform image',
      'referrer artifact',
      'referrer attestation',
      'referrer signature',
      'tagged-index index',
    ]);
    expect(
      Object.fromEntries(SUPPLY_CHAIN_IMAGES.map((n) => [n, Object.values(facts.images[n].trust).join(' ')])),
    ).toEqual({
      legacy: 'true true true true',
      bundle: 'true false false true',
      buildkit: 'false true true false',
      'buildkit-referrer': 'false true true false',
      'unknown-key': 'true false false false',
      'bad-signature': 'true false false false',
      'half-signed': 'false false false false',
      unsigned: 'false false false false',
    });
  });
});

describe('referrers proxy in front of the real registry', () => {
  let registry: RunningRegistry;
  let proxy: ReferrersProxy;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'open' });
    proxy = await startReferrersProxy({ upstream: registry.url, content: [content] });
    // Pushed through the proxy: uploads, Location headers and tags pass untouched.
    await pushRepository({ ...registry, url: proxy.url, host: proxy.host }, content);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  const referrersOf = (digest: string, query = '') =>
    fetch(`${proxy.url}/v2/${repo}/referrers/${digest}${query}`);

  it('passes pushes and reads through and counts them by kind', async () => {
    expect(proxy.counts.uploads).toBeGreaterThan(0);
    proxy.resetCounts();
    await getJson(proxy.url, `/v2/${repo}/tags/list`);
    await getJson(proxy.url, `/v2/${repo}/manifests/legacy`);
    await fetch(`${proxy.url}/v2/${repo}/blobs/${content.blobs[0]!.digest}`).then((r) => r.arrayBuffer());
    await referrersOf(facts.images.bundle.digest).then((r) => r.arrayBuffer());
    expect(proxy.counts).toMatchObject({ tags: 1, manifests: 1, blobs: 1, referrers: 1, uploads: 0 });
    expect(proxy.requests.map((r) => [r.method, r.kind, r.status])).toEqual([
      ['GET', 'tags', 200],
      ['GET', 'manifests', 200],
      ['GET', 'blobs', 200],
      ['GET', 'referrers', 200],
    ]);
  });

  it('answers the OCI 1.1 referrers API from the pushed content', async () => {
    for (const [subject, expected] of Object.entries(facts.referrers)) {
      const res = await referrersOf(subject);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(MediaType.OciIndex);
      const index = (await res.json()) as Index;
      expect(index.mediaType).toBe(MediaType.OciIndex);
      expect(index.manifests.map((d) => d.digest)).toEqual(expected);
      for (const d of index.manifests) {
        const m = content.manifests.find((x) => x.digest === d.digest)!;
        const doc = JSON.parse(m.bytes.toString('utf8')) as Manifest;
        expect(d).toEqual({
          mediaType: MediaType.OciManifest,
          digest: m.digest,
          size: m.bytes.length,
          artifactType: doc.artifactType,
          ...(doc.annotations ? { annotations: doc.annotations } : {}),
        });
      }
    }
    // The BuildKit >= 0.32 children are referrers of each platform manifest.
    const child = facts.images['buildkit-referrer'];
    expect(facts.referrers[child.platforms['linux/arm64']!]).toEqual([child.attestationChildren[1]]);
    // No referrers, or an unknown digest: 200 with an empty index.
    const none = await referrersOf(facts.images.unsigned.digest);
    expect(none.status).toBe(200);
    expect(((await none.json()) as Index).manifests).toEqual([]);
    const bad = await referrersOf('sha256:nothex');
    expect(bad.status).toBe(400);
    await bad.arrayBuffer();
  });

  it('filters by artifactType and says so, or ignores the filter without the header', async () => {
    const subject = facts.images.bundle.digest;
    const query = `?artifactType=${encodeURIComponent(SupplyChainMediaType.Sarif)}`;
    const applied = await referrersOf(subject, query);
    expect(applied.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(((await applied.json()) as Index).manifests).toEqual([]);

    const ignoring = await startReferrersProxy({
      upstream: registry.url,
      content: [content],
      filter: 'ignore',
    });
    try {
      const res = await fetch(`${ignoring.url}/v2/${repo}/referrers/${subject}${query}`);
      expect(res.headers.get('oci-filters-applied')).toBeNull();
      expect(((await res.json()) as Index).manifests.map((d) => d.digest)).toEqual(facts.referrers[subject]);
    } finally {
      await ignoring.close();
    }
  });

  it('pages with Link rel="next" until every referrer is listed, keeping the filter', async () => {
    const paged = await startReferrersProxy({ upstream: registry.url, content: [content], pageSize: 1 });
    try {
      const subject = facts.images.bundle.digest;
      const digests: string[] = [];
      let next: string | undefined = `/v2/${repo}/referrers/${subject}`;
      let pages = 0;
      while (next) {
        const res: Response = await fetch(new URL(next, paged.url));
        digests.push(...((await res.json()) as Index).manifests.map((d) => d.digest));
        pages++;
        next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
      }
      expect(pages).toBe(2);
      expect(digests).toEqual(facts.referrers[subject]);

      const query = `?artifactType=${encodeURIComponent(SupplyChainMediaType.SigstoreBundle)}`;
      const first = await fetch(`${paged.url}/v2/${repo}/referrers/${subject}${query}`);
      await first.arrayBuffer();
      expect(first.headers.get('link')).toContain(
        `artifactType=${encodeURIComponent(SupplyChainMediaType.SigstoreBundle)}`,
      );
      expect(paged.counts.referrers).toBe(3);
    } finally {
      await paged.close();
    }
  });

  it('gives an ETag and answers 304 to If-None-Match until the referrers change', async () => {
    const subject = facts.images.bundle.digest;
    const first = await referrersOf(subject);
    const etag = first.headers.get('etag');
    await first.arrayBuffer();
    expect(etag).toMatch(/^"sha256:[a-f0-9]{64}"$/);
    const again = await fetch(`${proxy.url}/v2/${repo}/referrers/${subject}`, {
      headers: { 'if-none-match': etag! },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    // A new referrer for the subject: the same If-None-Match now gets the new list.
    const extra = supplyChainRepository('supply/chain', keys).content;
    const dropped: RepositoryContent = {
      ...extra,
      manifests: extra.manifests.filter((m) => m.digest !== facts.referrers[subject]![1]),
    };
    proxy.setContent([dropped]);
    try {
      const changed = await fetch(`${proxy.url}/v2/${repo}/referrers/${subject}`, {
        headers: { 'if-none-match': etag! },
      });
      expect(changed.status).toBe(200);
      expect(((await changed.json()) as Index).manifests.map((d) => d.digest)).toEqual([
        facts.referrers[subject]![0],
      ]);
    } finally {
      proxy.setContent([content]);
    }
  });

  it('answers like registries without the API in each fallback mode', async () => {
    const subject = facts.images.bundle.digest;
    const answer = async () => {
      const res = await referrersOf(subject);
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    };
    try {
      proxy.setMode('absent');
      expect(await answer()).toMatchObject({ status: 404, type: 'application/json' });
      proxy.setMode('passthrough');
      // Distribution 2.8's own answer: its router has no such route.
      expect(await answer()).toMatchObject({ status: 404, body: '404 page not found\n' });
      for (const status of [400, 405, 406] as const) {
        proxy.setMode(`status-${status}`);
        const a = await answer();
        expect(a.status).toBe(status);
        expect(JSON.parse(a.body).errors[0].code).toBe('UNSUPPORTED');
      }
      proxy.setMode('empty');
      const empty = await answer();
      expect(empty).toMatchObject({ status: 200, type: MediaType.OciIndex });
      expect(JSON.parse(empty.body).manifests).toEqual([]);
      proxy.setMode('not-index');
      const notIndex = await answer();
      expect(notIndex).toMatchObject({ status: 200, type: 'application/json' });
      expect(JSON.parse(notIndex.body).manifests).toBeUndefined();
    } finally {
      proxy.setMode('api');
    }
  });

  it('in gitlab mode resolves a sha256-<hex> tag to the subject itself, and has no API', async () => {
    const img = facts.images.bundle;
    try {
      proxy.setMode('gitlab');
      const res = await fetch(`${proxy.url}/v2/${repo}/manifests/${fallbackTag(img.digest)}`, {
        headers: { accept: ACCEPT },
      });
      expect(res.headers.get('docker-content-digest')).toBe(img.digest);
      const index = (await res.json()) as Index;
      expect(index.manifests.map((d) => d.digest)).toEqual(Object.values(img.platforms));
      const head = await fetch(`${proxy.url}/v2/${repo}/manifests/${fallbackTag(img.digest)}`, {
        method: 'HEAD',
        headers: { accept: ACCEPT },
      });
      expect(head.headers.get('docker-content-digest')).toBe(img.digest);
      expect((await referrersOf(img.digest)).status).toBe(404);
      // Legacy cosign tags are ordinary tags there.
      const sig = await fetch(
        `${proxy.url}/v2/${repo}/manifests/${cosignTag(facts.images.legacy.digest, 'sig')}`,
        {
          headers: { accept: ACCEPT },
        },
      );
      expect(facts.manifests[sig.headers.get('docker-content-digest')!]?.role).toBe('signature');
      await sig.arrayBuffer();
    } finally {
      proxy.setMode('api');
    }
  });
});

describe('referrers proxy in front of a token-auth registry', () => {
  let registry: RunningRegistry;
  let proxy: ReferrersProxy;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushRepository(registry, content);
    proxy = await startReferrersProxy({ upstream: registry.url, content: [content] });
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  it('passes the registry challenge through, then answers with a token', async () => {
    const subject = facts.images.bundle.digest;
    const anonymous = await fetch(`${proxy.url}/v2/${repo}/referrers/${subject}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain(`scope="repository:${repo}:pull"`);
    await anonymous.arrayBuffer();
    const auth = await authorization(registry, [`repository:${repo}:pull`]);
    const res = await fetch(`${proxy.url}/v2/${repo}/referrers/${subject}`, {
      headers: { authorization: auth! },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Index).manifests.map((d) => d.digest)).toEqual(facts.referrers[subject]);
  });
});
