import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ManifestRecord, Receipt, RepositoryResult } from '../model/discovery.js';
import { MediaType } from '../oci/media-types.js';
import { inventoryOf } from './from-discovery.js';

const d = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

/** An image manifest as the fetcher records it: config and layers with their stated sizes. */
function image(digest: string, extra: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    digest,
    mediaType: MediaType.OciManifest,
    schemaVersion: 2,
    configDigest: d(`${digest} config`),
    layerDigests: [d(`${digest} layer 1`), d(`${digest} layer 2`)],
    configSize: 100,
    layerSizes: [1000, 2000],
    documentSize: 400,
    size: 3100,
    labels: {},
    ...extra,
  };
}

function receipt(extra: Partial<Receipt> = {}): Receipt {
  return {
    provider: 'hub',
    repository: 'acme/app',
    complete: true,
    tags_listed: 3,
    tags_selected: 3,
    pages: 1,
    requests: 9,
    errors: [],
    ...extra,
  };
}

function result(
  images: RepositoryResult['images'],
  records: ManifestRecord[],
  extra: Partial<Receipt> = {},
): RepositoryResult {
  return {
    name: 'acme/app',
    images,
    manifests: new Map(records.map((r) => [r.digest, r])),
    receipt: receipt(extra),
  };
}

const IDX = d('index');
const AMD = d('amd64');
const ARM = d('arm64');
const ATT = d('attestation');
const SIG = d('signature');
const LONE = d('single');

/** An index with two platforms and a BuildKit attestation, under two tags; a signed single image. */
function discovered(): RepositoryResult {
  return result(
    [
      { tag: 'latest', digest: IDX, pushedAt: '2026-03-02T10:00:00Z' },
      { tag: 'v2', digest: IDX, pushedAt: '2026-03-01T10:00:00+00:00' },
      { tag: 'v1', digest: LONE },
    ],
    [
      {
        digest: IDX,
        mediaType: MediaType.OciIndex,
        schemaVersion: 2,
        layerDigests: [],
        documentSize: 900,
        size: 6200,
        labels: {},
        children: [AMD, ARM],
        attestations: 1,
        created: '2026-03-01T09:00:00Z',
        attestationChildren: [{ digest: ATT, subject: AMD }],
      },
      image(AMD, { created: '2026-03-01T09:00:00Z' }),
      image(ARM),
      image(ATT, {
        role: 'attestation',
        subject: AMD,
        configSize: 2,
        layerDigests: [d('provenance')],
        layerSizes: [1500],
      }),
      image(LONE, { created: '2025-12-24T00:00:00Z' }),
      image(SIG, {
        role: 'signature',
        subject: LONE,
        alsoRefersTo: [AMD],
        layerDigests: [d('payload')],
        layerSizes: [250],
        artifact: true,
      }),
    ],
  );
}

describe('inventoryOf', () => {
  it('takes tags, manifests with their roles, blobs, children and subjects from the discovery', () => {
    const inv = inventoryOf('hub', 'registry.example.com', discovered());
    expect(inv).toMatchObject({
      provider: 'hub',
      registry: 'registry.example.com',
      repository: 'acme/app',
      complete: true,
      partial: false,
    });
    expect('untagged' in inv).toBe(false);
    expect(inv.tags).toEqual([
      { tag: 'latest', digest: IDX, pushedAt: '2026-03-02T10:00:00Z', created: '2026-03-01T09:00:00Z' },
      { tag: 'v2', digest: IDX, pushedAt: '2026-03-01T10:00:00+00:00', created: '2026-03-01T09:00:00Z' },
      { tag: 'v1', digest: LONE, created: '2025-12-24T00:00:00Z' },
    ]);
    expect(inv.manifests.get(IDX)).toEqual({
      digest: IDX,
      role: 'index',
      size: 900,
      blobs: [],
      children: [AMD, ARM, ATT],
      subjects: [],
      // The newest push of the tags on it.
      pushedAt: '2026-03-02T10:00:00Z',
      created: '2026-03-01T09:00:00Z',
    });
    expect(inv.manifests.get(AMD)).toEqual({
      digest: AMD,
      role: 'image',
      size: 400,
      blobs: [
        { digest: d(`${AMD} config`), size: 100 },
        { digest: d(`${AMD} layer 1`), size: 1000 },
        { digest: d(`${AMD} layer 2`), size: 2000 },
      ],
      children: [],
      subjects: [],
      created: '2026-03-01T09:00:00Z',
    });
    expect(inv.manifests.get(ATT)).toMatchObject({
      role: 'attestation',
      blobs: [
        { digest: d(`${ATT} config`), size: 2 },
        { digest: d('provenance'), size: 1500 },
      ],
      subjects: [AMD],
    });
    expect(inv.manifests.get(SIG)).toMatchObject({ role: 'signature', subjects: [LONE, AMD] });
    expect([...inv.manifests.keys()]).toEqual([IDX, AMD, ARM, ATT, LONE, SIG]);
  });

  it('gives records without a role the one their shape implies, as the graph does', () => {
    const artifact = image(d('chart'), { artifact: true });
    const inv = inventoryOf(
      'hub',
      'registry.example.com',
      result([{ tag: 'chart', digest: artifact.digest }], [artifact], { tags_listed: 1, tags_selected: 1 }),
    );
    expect(inv.manifests.get(artifact.digest)!.role).toBe('artifact');
  });

  it('says partial where the storage figures cannot cover the repository', () => {
    const cases: Array<[string, RepositoryResult, { complete: boolean; partial: boolean }]> = [
      ['everything read', discovered(), { complete: true, partial: false }],
      [
        'accessory tags are not unread images',
        { ...discovered(), receipt: receipt({ tags_listed: 5, tags_selected: 3, accessory_tags: 2 }) },
        { complete: true, partial: false },
      ],
      [
        'max_tags left tags unread',
        { ...discovered(), receipt: receipt({ tags_listed: 6, tags_selected: 3, accessory_tags: 2 }) },
        { complete: true, partial: true },
      ],
      [
        'a failed tag',
        {
          ...discovered(),
          receipt: receipt({ complete: false, tags_listed: 4, tags_selected: 3, errors: ['v0: 500'] }),
        },
        { complete: false, partial: true },
      ],
      [
        'an incomplete tag listing',
        { ...discovered(), receipt: receipt({ complete: false, errors: ['tag listing: page 2: 502'] }) },
        { complete: false, partial: true },
      ],
    ];
    for (const [why, r, expected] of cases)
      expect({ why, ...pick(inventoryOf('hub', 'r', r)) }).toEqual({ why, ...expected });
  });

  it('says partial where a manifest read states no sizes or an index child was not read', () => {
    const SCHEMA1: ManifestRecord = {
      digest: LONE,
      mediaType: MediaType.DockerSchema1Signed,
      schemaVersion: 1,
      layerDigests: [d('schema1 layer')],
      documentSize: 3000,
      labels: {},
    };
    const unknown: Array<[string, (records: Map<string, ManifestRecord>) => void]> = [
      [
        'described by a vendor listing',
        (records) =>
          records.set(LONE, {
            digest: LONE,
            mediaType: MediaType.OciManifest,
            schemaVersion: 2,
            size: 3100,
            labels: {},
          }),
      ],
      ['schema 1: layers without sizes', (records) => records.set(LONE, SCHEMA1)],
      ['an attestation child not read (supply chain off)', (records) => records.delete(ATT)],
      ['a platform child missing', (records) => records.delete(ARM)],
    ];
    for (const [why, change] of unknown) {
      const r = discovered();
      change(r.manifests);
      expect({ why, ...pick(inventoryOf('hub', 'r', r)) }).toEqual({ why, complete: true, partial: true });
    }
    const schema1 = discovered();
    schema1.manifests.set(LONE, SCHEMA1);
    // Its layer is still known by digest, for the planner; its size is not.
    expect(inventoryOf('hub', 'r', schema1).manifests.get(LONE)!.blobs).toEqual([
      { digest: d('schema1 layer'), size: 0 },
    ]);
  });
});

describe('inventoryOf: untagged manifests a vendor listing names (untaggedOf)', () => {
  const OLD = d('old build');
  const OLD_INDEX = d('old index');

  it('takes the record discovery made for one it read, with the listing push time where it had none', () => {
    const r = discovered();
    r.untagged = [
      { digest: AMD, pushedAt: '2026-03-01T10:00:05Z', size: 1 },
      { digest: ATT, mediaType: MediaType.OciManifest },
    ];
    const inv = inventoryOf('ghcr', 'ghcr.io', r);
    // The platform manifest of IDX: the same blobs and size as the read record, dated by the listing.
    expect(inv.untagged![0]).toEqual({ ...inv.manifests.get(AMD)!, pushedAt: '2026-03-01T10:00:05Z' });
    // Nothing to add: the read record as it is, its role attestation kept.
    expect(inv.untagged![1]).toBe(inv.manifests.get(ATT));
  });

  it('keeps a read push time over the listing, which may date a tag change rather than the push', () => {
    const r = discovered();
    r.images = r.images.map((i) => (i.digest === LONE ? { ...i, pushedAt: '2025-01-01T00:00:00Z' } : i));
    r.untagged = [{ digest: LONE, pushedAt: '2026-01-01T00:00:00Z' }];
    const inv = inventoryOf('hub', 'r', r);
    expect(inv.untagged![0]!.pushedAt).toBe('2025-01-01T00:00:00Z');
    expect(inv.untagged![0]).toBe(inv.manifests.get(LONE));
  });

  it('makes one discovery did not read a piece of the size the vendor gives: no blobs, its children if listed', () => {
    const r = discovered();
    r.untagged = [
      { digest: OLD, mediaType: MediaType.DockerManifest, pushedAt: '2025-10-01T00:00:00Z', size: 5120 },
      {
        digest: OLD_INDEX,
        mediaType: MediaType.OciIndex,
        pushedAt: '2025-11-01T00:00:00Z',
        size: 9000,
        children: [d('old amd64'), d('old arm64')],
      },
      // No media type (GHCR's versions), but children: an index all the same.
      { digest: d('listed index'), children: [d('x')] },
      // Nothing but the digest: an image of unknown size and age.
      { digest: d('bare') },
    ];
    const inv = inventoryOf('harbor', 'harbor.example.com', r);
    expect(inv.untagged).toEqual([
      {
        digest: OLD,
        role: 'image',
        size: 5120,
        blobs: [],
        children: [],
        subjects: [],
        pushedAt: '2025-10-01T00:00:00Z',
      },
      {
        digest: OLD_INDEX,
        role: 'index',
        size: 9000,
        blobs: [],
        children: [d('old amd64'), d('old arm64')],
        subjects: [],
        pushedAt: '2025-11-01T00:00:00Z',
      },
      { digest: d('listed index'), role: 'index', size: 0, blobs: [], children: [d('x')], subjects: [] },
      { digest: d('bare'), role: 'image', size: 0, blobs: [], children: [], subjects: [] },
    ]);
    // Listed untagged manifests are not read manifests, and do not make the figures partial.
    expect(inv.manifests.has(OLD)).toBe(false);
    expect(pick(inv)).toEqual({ complete: true, partial: false });
  });

  it('lists none as none: an empty list is a registry that lists untagged manifests and has none', () => {
    const r = discovered();
    r.untagged = [];
    expect(inventoryOf('acr', 'r', r).untagged).toEqual([]);
  });
});

function pick(inv: { complete: boolean; partial: boolean }) {
  return { complete: inv.complete, partial: inv.partial };
}
