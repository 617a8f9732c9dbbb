import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BlobLedger } from '../graph/storage-ledger.js';
import type { ManifestRole } from '../model/discovery.js';
import type { InventoryManifest, RepositoryInventory } from './inventory.js';
import { StorageLedger, storageBlobsOf, storageOf } from './storage.js';

const d = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

/** A manifest of `size` document bytes referencing blobs given as [digest, bytes]. */
function m(
  digest: string,
  size: number,
  blobs: Array<[string, number]>,
  extra: { role?: ManifestRole; children?: string[]; subjects?: string[] } = {},
): InventoryManifest {
  return {
    digest,
    role: extra.role ?? 'image',
    size,
    blobs: blobs.map(([b, s]) => ({ digest: b, size: s })),
    children: extra.children ?? [],
    subjects: extra.subjects ?? [],
  };
}

function inventory(
  repository: string,
  tags: Record<string, string>,
  manifests: InventoryManifest[],
  extra: Partial<RepositoryInventory> = {},
): RepositoryInventory {
  return {
    provider: 'hub',
    registry: 'registry.example.com',
    repository,
    complete: true,
    partial: false,
    tags: Object.entries(tags).map(([tag, digest]) => ({ tag, digest })),
    manifests: new Map(manifests.map((x) => [x.digest, x])),
    ...extra,
  };
}

// Blobs several manifests or repositories reference.
const BASE = d('base layer');
const EMPTY = d('empty config');

// app: a multi-arch index under three alias tags, its platforms sharing BASE, a BuildKit
// attestation and a cosign signature sharing the empty config.
const IDX = d('app index');
const AMD = d('app amd64');
const ARM = d('app arm64');
const ATT = d('app attestation');
const SIG = d('app signature');
const app = () =>
  inventory('acme/app', { latest: IDX, v1: IDX, 'v1.0': IDX }, [
    m(IDX, 300, [], { role: 'index', children: [AMD, ARM, ATT] }),
    m(AMD, 400, [
      [d('app amd64 config'), 150],
      [BASE, 5000],
      [d('app amd64 layer'), 700],
    ]),
    m(ARM, 410, [
      [d('app arm64 config'), 160],
      [BASE, 5000],
      [d('app arm64 layer'), 800],
    ]),
    m(
      ATT,
      350,
      [
        [EMPTY, 2],
        [d('app provenance'), 1200],
      ],
      { role: 'attestation', subjects: [AMD] },
    ),
    m(
      SIG,
      250,
      [
        [EMPTY, 2],
        [d('app signature payload'), 90],
      ],
      { role: 'signature', subjects: [IDX] },
    ),
  ]);
// 300 + (400 + 150 + 5000 + 700) + (410 + 160 + 800) + (350 + 2 + 1200) + (250 + 90)
const APP_TOTAL = 9812;

// worker: one image on the same BASE, signed (the same empty config).
const W1 = d('worker image');
const worker = () =>
  inventory('acme/worker', { main: W1 }, [
    m(W1, 500, [
      [d('worker config'), 120],
      [BASE, 5000],
      [d('worker layer'), 3000],
    ]),
    m(
      d('worker signature'),
      260,
      [
        [EMPTY, 2],
        [d('worker signature payload'), 95],
      ],
      { role: 'signature', subjects: [W1] },
    ),
  ]);
// 500 + 120 + 5000 + 3000 + 260 + 2 + 95
const WORKER_TOTAL = 8977;
// BASE + EMPTY
const APP_WORKER_SHARED = 5002;

// cache: a registry listing untagged manifests (ECR); one untagged manifest is also tagged.
const K1 = d('cache stable');
const LK = d('cache layer');
const cache = () =>
  inventory(
    'acme/cache',
    { stable: K1 },
    [
      m(K1, 450, [
        [d('cache config'), 130],
        [LK, 2500],
      ]),
    ],
    {
      untagged: [
        m(d('cache untagged 1'), 440, [
          [d('cache untagged 1 config'), 125],
          [LK, 2500],
          [d('cache untagged 1 layer'), 4000],
        ]),
        m(d('cache untagged 2'), 430, [
          [d('cache untagged 2 config'), 135],
          [BASE, 5000],
          [d('cache untagged 2 layer'), 600],
        ]),
        m(K1, 450, [
          [d('cache config'), 130],
          [LK, 2500],
        ]),
      ],
    },
  );
// 450 + 130 + 2500
const CACHE_TOTAL = 3080;
// (440 + 125 + 4000) + (430 + 135 + 5000 + 600): LK is tagged here; BASE is not, here.
const CACHE_UNTAGGED = 10730;
// Tagged nowhere in the registry: BASE and LK are.
const REGISTRY_UNTAGGED = 440 + 125 + 4000 + 430 + 135 + 600;

describe('storageOf', () => {
  it('counts a manifest under several alias tags once', () => {
    const image = d('one image');
    const s = storageOf([
      inventory('acme/one', { a: image, b: image, c: image }, [
        m(image, 527, [
          [d('one config'), 1469],
          [d('one layer'), 31_337],
        ]),
      ]),
    ]);
    expect(s.repositories[0]!.storage).toEqual({
      total_bytes: 527 + 1469 + 31_337,
      unique_bytes: 527 + 1469 + 31_337,
      shared_bytes: 0,
      partial: false,
    });
  });

  it('counts an index, its platforms, its attestation and a signature, each blob once', () => {
    const s = storageOf([app()]);
    const figures = { total_bytes: APP_TOTAL, unique_bytes: APP_TOTAL, shared_bytes: 0, partial: false };
    expect(s.repositories).toEqual([{ provider: 'hub', repository: 'acme/app', storage: figures }]);
    expect(s.registry).toEqual(figures);
  });

  it('splits what repositories share from what each holds alone, and counts shared blobs once per registry', () => {
    const s = storageOf([app(), worker()]);
    expect(s.repositories.map((r) => [r.repository, r.storage])).toEqual([
      [
        'acme/app',
        {
          total_bytes: APP_TOTAL,
          unique_bytes: APP_TOTAL - APP_WORKER_SHARED,
          shared_bytes: APP_WORKER_SHARED,
          partial: false,
        },
      ],
      [
        'acme/worker',
        {
          total_bytes: WORKER_TOTAL,
          unique_bytes: WORKER_TOTAL - APP_WORKER_SHARED,
          shared_bytes: APP_WORKER_SHARED,
          partial: false,
        },
      ],
    ]);
    expect(s.registry).toEqual({
      total_bytes: APP_TOTAL + WORKER_TOTAL - APP_WORKER_SHARED,
      unique_bytes: APP_TOTAL + WORKER_TOTAL - 2 * APP_WORKER_SHARED,
      shared_bytes: APP_WORKER_SHARED,
      partial: false,
    });
  });

  it('gives untagged bytes beyond what is tagged, only where untagged manifests are listed', () => {
    const s = storageOf([app(), worker(), cache()]);
    expect(s.repositories.map((r) => [r.repository, r.storage.untagged_bytes])).toEqual([
      ['acme/app', undefined],
      ['acme/worker', undefined],
      ['acme/cache', CACHE_UNTAGGED],
    ]);
    expect(s.repositories[2]!.storage).toEqual({
      total_bytes: CACHE_TOTAL,
      unique_bytes: CACHE_TOTAL,
      shared_bytes: 0,
      untagged_bytes: CACHE_UNTAGGED,
      partial: false,
    });
    expect(s.registry).toEqual({
      total_bytes: APP_TOTAL + WORKER_TOTAL - APP_WORKER_SHARED + CACHE_TOTAL,
      unique_bytes: APP_TOTAL + WORKER_TOTAL - 2 * APP_WORKER_SHARED + CACHE_TOTAL,
      shared_bytes: APP_WORKER_SHARED,
      untagged_bytes: REGISTRY_UNTAGGED,
      partial: false,
    });
    expect('untagged_bytes' in storageOf([app(), worker()]).registry).toBe(false);
    // A listing with nothing untagged says 0, not "unknown".
    expect(storageOf([inventory('acme/none', {}, [], { untagged: [] })]).registry.untagged_bytes).toBe(0);
  });

  it('treats a blob another repository holds only untagged as shared: deleting this one would not free it', () => {
    const layer = d('app amd64 layer');
    const other = inventory('acme/other', {}, [], {
      untagged: [m(d('other untagged'), 100, [[layer, 700]])],
    });
    const s = storageOf([app(), other]);
    expect(s.repositories[0]!.storage).toEqual({
      total_bytes: APP_TOTAL,
      unique_bytes: APP_TOTAL - 700,
      shared_bytes: 700,
      partial: false,
    });
    expect(s.registry).toEqual({
      total_bytes: APP_TOTAL,
      unique_bytes: APP_TOTAL - 700,
      shared_bytes: 700,
      untagged_bytes: 100,
      partial: false,
    });
  });

  it('says partial for a repository read in part or incompletely, and for its registry', () => {
    const s = storageOf([
      app(),
      inventory('acme/newest-only', { v9: d('v9') }, [m(d('v9'), 100, [[d('v9 layer'), 1000]])], {
        partial: true,
      }),
      inventory('acme/failed', {}, [], { complete: false }),
    ]);
    expect(s.repositories.map((r) => [r.repository, r.storage.partial])).toEqual([
      ['acme/app', false],
      ['acme/newest-only', true],
      ['acme/failed', true],
    ]);
    expect(s.repositories[1]!.storage.total_bytes).toBe(1100);
    expect(s.registry).toEqual({
      total_bytes: APP_TOTAL + 1100,
      unique_bytes: APP_TOTAL + 1100,
      shared_bytes: 0,
      partial: true,
    });
    expect(storageOf([app(), worker()]).registry.partial).toBe(false);
  });

  it('counts a layer repeated within one manifest once', () => {
    const gzipOfNothing = d('empty gzip layer');
    const s = storageOf([
      inventory('acme/old', { v1: d('old') }, [
        m(d('old'), 900, [
          [d('old config'), 300],
          [gzipOfNothing, 32],
          [d('old layer'), 4000],
          [gzipOfNothing, 32],
        ]),
      ]),
    ]);
    expect(s.registry.total_bytes).toBe(900 + 300 + 32 + 4000);
  });

  it('keeps the size first stated for a digest, so the figures still add up', () => {
    const blob = d('stated twice');
    const s = storageOf([
      inventory('acme/a', { v1: d('a') }, [m(d('a'), 10, [[blob, 1000]])]),
      inventory('acme/b', { v1: d('b') }, [m(d('b'), 20, [[blob, 999]])]),
    ]);
    expect(s.repositories.map((r) => r.storage.total_bytes)).toEqual([1010, 1020]);
    expect(s.registry).toEqual({ total_bytes: 1030, unique_bytes: 30, shared_bytes: 1000, partial: false });
  });

  it('tells digests of other algorithms apart', () => {
    const s = storageOf([
      inventory('acme/odd', { v1: 'sha512:aa' }, [
        m('sha512:aa', 1, [
          ['sha512:ab', 10],
          ['sha256:not-hex', 100],
          [`sha256:${'0'.repeat(64)}`, 1000],
        ]),
      ]),
    ]);
    expect(s.registry.total_bytes).toBe(1111);
  });

  it('refuses inventories of two registries: storage is figured per registry', () => {
    expect(() => storageOf([app(), { ...worker(), registry: 'mirror.example.com' }])).toThrowError(
      /acme\/worker is in mirror\.example\.com, not registry\.example\.com/,
    );
  });

  it('gives nothing for no repositories', () => {
    expect(storageOf([])).toEqual({
      registry: { total_bytes: 0, unique_bytes: 0, shared_bytes: 0, partial: false },
      repositories: [],
    });
  });

  it('takes repositories one at a time, as a generator hands them out', () => {
    function* made() {
      yield app();
      yield worker();
      yield cache();
    }
    const ledger = new StorageLedger();
    for (const x of made()) ledger.add(x);
    expect(ledger.finish()).toEqual(storageOf([app(), worker(), cache()]));
    expect(storageOf(made())).toEqual(storageOf([app(), worker(), cache()]));
  });

  it('holds thousands of repositories and distinct blobs', () => {
    const base = d('common base');
    const n = 3000;
    function* repositories() {
      for (let i = 0; i < n; i++) {
        const image = d(`image ${i}`);
        yield inventory(`r/${i}`, { latest: image }, [
          m(image, 100, [
            [base, 7],
            [d(`layer ${i}`), i],
          ]),
        ]);
      }
    }
    const s = storageOf(repositories());
    const own = (n * (n - 1)) / 2 + 100 * n;
    expect(s.registry).toEqual({ total_bytes: own + 7, unique_bytes: own, shared_bytes: 7, partial: false });
    expect(s.repositories[n - 1]!.storage).toEqual({
      total_bytes: 100 + 7 + n - 1,
      unique_bytes: 100 + n - 1,
      shared_bytes: 7,
      partial: false,
    });
  });

  it('agrees with counting by sets, over many random registries', () => {
    let seed = 17;
    const random = (below: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      // The high bits: an LCG's low bits repeat with short periods.
      return Math.floor((seed / 2_147_483_648) * below);
    };
    const pool = Array.from({ length: 40 }, (_, i) => d(`pool ${i}`));
    const sizeOf = (digest: string) => Number.parseInt(digest.slice(7, 12), 16);
    for (let round = 0; round < 50; round++) {
      const inventories = Array.from({ length: 1 + random(5) }, (_, r) => {
        const pick = () =>
          Array.from({ length: 1 + random(4) }, () => pool[random(pool.length)]!).map(
            (b) => [b, sizeOf(b)] as [string, number],
          );
        const manifests = Array.from({ length: random(4) }, () => {
          const digest = pool[random(pool.length)]!;
          return m(digest, sizeOf(digest), pick());
        });
        const untagged = random(2)
          ? Array.from({ length: random(3) }, () => {
              const digest = pool[random(pool.length)]!;
              return m(digest, sizeOf(digest), pick());
            })
          : undefined;
        return inventory(`r/${r}`, {}, manifests, untagged ? { untagged } : {});
      });

      // The same figures the plain way: sets of digests per repository.
      const tagged = inventories.map(
        (inv) =>
          new Set([...inv.manifests.values()].flatMap((x) => [x.digest, ...x.blobs.map((b) => b.digest)])),
      );
      const all = inventories.map(
        (inv, i) =>
          new Set([
            ...tagged[i]!,
            ...(inv.untagged ?? [])
              .filter((x) => !inv.manifests.has(x.digest))
              .flatMap((x) => [x.digest, ...x.blobs.map((b) => b.digest)]),
          ]),
      );
      const bytes = (set: Iterable<string>) => [...set].reduce((sum, x) => sum + sizeOf(x), 0);
      const elsewhere = (i: number, x: string) => all.some((s, j) => j !== i && s.has(x));
      const anyTagged = new Set(tagged.flatMap((s) => [...s]));
      const anyListed = new Set(all.flatMap((s) => [...s]));
      const registryUnique = [...anyTagged].filter((x) => all.filter((s) => s.has(x)).length === 1);

      const s = storageOf(inventories);
      expect(s.repositories.map((r) => r.storage)).toEqual(
        inventories.map((inv, i) => ({
          total_bytes: bytes(tagged[i]!),
          unique_bytes: bytes([...tagged[i]!].filter((x) => !elsewhere(i, x))),
          shared_bytes: bytes([...tagged[i]!].filter((x) => elsewhere(i, x))),
          ...(inv.untagged ? { untagged_bytes: bytes([...all[i]!].filter((x) => !tagged[i]!.has(x))) } : {}),
          partial: false,
        })),
      );
      expect(s.registry).toEqual({
        total_bytes: bytes(anyTagged),
        unique_bytes: bytes(registryUnique),
        shared_bytes: bytes(anyTagged) - bytes(registryUnique),
        ...(inventories.some((inv) => inv.untagged)
          ? { untagged_bytes: bytes([...anyListed].filter((x) => !anyTagged.has(x))) }
          : {}),
        partial: false,
      });
    }
  });
});

describe("storageBlobsOf (a shard graph's receipt rows)", () => {
  it('lists each digest once, tagged before untagged, with the size that counts', () => {
    const rows = storageBlobsOf(cache());
    expect(rows).toEqual({
      partial: false,
      tagged: [`${K1} 450`, `${d('cache config')} 130`, `${LK} 2500`],
      untagged: [
        `${d('cache untagged 1')} 440`,
        `${d('cache untagged 1 config')} 125`,
        `${d('cache untagged 1 layer')} 4000`,
        `${d('cache untagged 2')} 430`,
        `${d('cache untagged 2 config')} 135`,
        `${BASE} 5000`,
        `${d('cache untagged 2 layer')} 600`,
      ],
    });
    // No untagged list where the registry lists no untagged manifests.
    expect('untagged' in storageBlobsOf(app())).toBe(false);
    expect(storageBlobsOf({ ...worker(), complete: false }).partial).toBe(true);
  });

  it('counts the rows, repositories in any order, as the inventories they came from', () => {
    const inventories = [app(), worker(), cache(), { ...app(), repository: 'acme/app-copy', partial: true }];
    const ledger = new BlobLedger();
    for (const i of [...inventories].reverse()) ledger.addBlobs(i.provider, i.repository, storageBlobsOf(i));
    const byName = (s: ReturnType<typeof storageOf>) => ({
      registry: s.registry,
      repositories: Object.fromEntries(s.repositories.map((r) => [r.repository, r.storage])),
    });
    expect(byName(ledger.finish())).toEqual(byName(storageOf(inventories)));
  });

  it('refuses a row that is not "<digest> <bytes>"', () => {
    expect(() =>
      new BlobLedger().addBlobs('hub', 'a', { partial: false, tagged: ['sha256:ab'] }),
    ).toThrowError('storage_blobs: "sha256:ab" is not "<digest> <bytes>"');
  });
});
