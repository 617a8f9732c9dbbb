// What storage accounting keeps across a registry of 100,000 images: 1,000 repositories of 100
// images, each image a manifest, a config, two layers of its own and three of 50 base layers the
// whole registry shares. Inventories are made one at a time and dropped, as discovery hands them
// over; what stays is the ledger. Beside it, for comparison, a Map of digest → size over the same
// digests, which is what the ledger's typed arrays stand in for. Last, what the size fields add to
// 100,000 image manifest records (five layers each) held at once, as a repository of that many
// images holds them until it is done. And the rows a shard graph's receipts carry for the merge
// (storageBlobsOf) for every repository at once: what a shard run holding all of them keeps until
// its graph is written, and what a merge holds of all its shards.
//   node --expose-gc --import tsx bench/storage-memory.ts [--json]
import { createHash } from 'node:crypto';
import type { ManifestRecord } from '../src/model/discovery.js';
import type { InventoryManifest, RepositoryInventory } from '../src/retention/inventory.js';
import { StorageLedger, storageBlobsOf } from '../src/retention/storage.js';

const REPOSITORIES = 1000;
const IMAGES_PER_REPOSITORY = 100;
const BASE_LAYERS = 50;

const digest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
const bases = Array.from({ length: BASE_LAYERS }, (_, i) => digest(`base ${i}`));

function* inventories(): Generator<RepositoryInventory> {
  for (let r = 0; r < REPOSITORIES; r++) {
    const manifests = new Map<string, InventoryManifest>();
    for (let i = 0; i < IMAGES_PER_REPOSITORY; i++) {
      const d = digest(`manifest ${r} ${i}`);
      manifests.set(d, {
        digest: d,
        role: 'image',
        size: 1_000 + i,
        blobs: [
          { digest: digest(`config ${r} ${i}`), size: 2_000 + i },
          { digest: bases[(r + i) % BASE_LAYERS]!, size: 30_000_000 },
          { digest: bases[(r + 2 * i) % BASE_LAYERS]!, size: 30_000_000 },
          { digest: bases[(r + 3 * i + 1) % BASE_LAYERS]!, size: 30_000_000 },
          { digest: digest(`layer a ${r} ${i}`), size: 100_000 + i },
          { digest: digest(`layer b ${r} ${i}`), size: 500_000 + i },
        ],
        children: [],
        subjects: [],
      });
    }
    yield {
      provider: 'bench',
      registry: 'registry.bench',
      repository: `team/${r}`,
      complete: true,
      partial: false,
      tags: [],
      manifests,
    };
  }
}

function retained(): number {
  if (!global.gc) throw new Error('run with node --expose-gc');
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** MB still reachable after `build`, which returns what it keeps; time includes making the inventories. */
function measure(build: () => unknown): { retained_mb: number; ms: number } {
  const before = retained();
  const started = performance.now();
  const held = build();
  const ms = Math.round(performance.now() - started);
  const mb = Math.round((retained() - before) / 1e5) / 10;
  // Reachable until measured.
  void held;
  return { retained_mb: mb, ms };
}

let figures: ReturnType<StorageLedger['finish']> | undefined;
const ledger = measure(() => {
  const l = new StorageLedger();
  for (const inventory of inventories()) l.add(inventory);
  figures = l.finish();
  return l;
});
let distinct = 0;
const map = measure(() => {
  const m = new Map<string, number>();
  for (const inventory of inventories())
    for (const x of inventory.manifests.values()) {
      m.set(x.digest, x.size);
      for (const b of x.blobs) m.set(b.digest, b.size);
    }
  distinct = m.size;
  return m;
});

/** Image records in the property order the fetcher writes, with or without the size fields. */
function records(sized: boolean): ManifestRecord[] {
  const layers = Array.from({ length: 5 }, (_, j) => ({
    digest: digest(`record layer ${j}`),
    size: 1_000 + j,
  }));
  const made: ManifestRecord[] = [];
  for (let i = 0; i < REPOSITORIES * IMAGES_PER_REPOSITORY; i++) {
    const own = digest(`record ${i}`);
    made.push(
      sized
        ? {
            digest: own,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            schemaVersion: 2,
            configDigest: own,
            layerDigests: layers.map((l) => l.digest),
            configSize: 1_500 + i,
            layerSizes: layers.map((l) => l.size + i),
            documentSize: 900,
            size: 6_500 + 6 * i,
            labels: {},
          }
        : {
            digest: own,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            schemaVersion: 2,
            configDigest: own,
            layerDigests: layers.map((l) => l.digest),
            size: 6_500 + 6 * i,
            labels: {},
          },
    );
  }
  return made;
}
let rowCount = 0;
const rows = measure(() => {
  const held = [];
  for (const inventory of inventories()) {
    const blobs = storageBlobsOf(inventory);
    rowCount += blobs.tagged.length;
    held.push(blobs);
  }
  return held;
});
const unsized = measure(() => records(false));
const sized = measure(() => records(true));
const result = {
  images: REPOSITORIES * IMAGES_PER_REPOSITORY,
  distinct_digests: distinct,
  registry_total_bytes: figures?.registry.total_bytes,
  ledger,
  map,
  records: { without_sizes_mb: unsized.retained_mb, with_sizes_mb: sized.retained_mb },
  shard_rows: { rows: rowCount, retained_mb: rows.retained_mb },
};
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else
  console.log(
    `${result.images} images, ${distinct} distinct digests: storage ledger ${ledger.retained_mb} MB retained (${ledger.ms} ms with making the inventories); a Map of digest → size ${map.retained_mb} MB (${map.ms} ms)\n` +
      `${result.images} image records held at once: ${unsized.retained_mb} MB without the size fields, ${sized.retained_mb} MB with them\n` +
      `storage_blobs rows of every repository held at once: ${rowCount} rows, ${rows.retained_mb} MB`,
  );
