// Storage of a discovery run's repositories, from their inventories (graph/storage-ledger.ts
// counts; docs/retention.md "Storage" says what): added to one ledger per registry as each
// repository is done, or, in a shard, written into its receipt for the merge to count.
import { BlobLedger, type RegistryStorage, RunStorage } from '../graph/storage-ledger.js';
import type { StorageBlobs } from '../model/graph.js';
import type { InventoryManifest, RepositoryInventory } from './inventory.js';

export type { RegistryStorage, RepositoryStorage, Storage } from '../graph/storage-ledger.js';

/** Storage of one registry's repositories. */
export function storageOf(inventories: Iterable<RepositoryInventory>): RegistryStorage {
  const ledger = new StorageLedger();
  for (const inventory of inventories) ledger.add(inventory);
  return ledger.finish();
}

/**
 * storageOf one repository at a time: `add` each inventory of the registry as it is made (it is
 * not kept), then `finish` once all are in, since whether a blob is shared is known only then.
 */
export class StorageLedger extends BlobLedger {
  private registry: string | undefined;

  add(inventory: RepositoryInventory): void {
    if (this.registry !== undefined && inventory.registry !== this.registry)
      throw new Error(
        `storage is figured per registry: ${inventory.repository} is in ${inventory.registry}, not ${this.registry}`,
      );
    this.registry = inventory.registry;
    this.addReferences(
      inventory.provider,
      inventory.repository,
      inventory.partial || !inventory.complete,
      inventory.untagged !== undefined,
      (reference) => eachReference(inventory, reference),
    );
  }
}

/** A discovery run's storage: a StorageLedger per provider, each fed its repositories' inventories. */
export function runStorage(providers: Iterable<string>): RunStorage<StorageLedger> {
  return new RunStorage(providers, () => new StorageLedger());
}

/**
 * Every digest a repository references, tagged ones first: each manifest document and the blobs it
 * references, then the untagged manifests discovery did not read as tagged.
 */
function eachReference(
  inventory: RepositoryInventory,
  reference: (digest: string, size: number, tagged: boolean) => void,
): void {
  const visit = (m: InventoryManifest, tagged: boolean) => {
    reference(m.digest, m.size, tagged);
    for (const b of m.blobs) reference(b.digest, b.size, tagged);
  };
  for (const m of inventory.manifests.values()) visit(m, true);
  for (const m of inventory.untagged ?? []) if (!inventory.manifests.has(m.digest)) visit(m, false);
}

/** A repository's digests for its shard graph's receipt, each once, with the size that counts. */
export function storageBlobsOf(inventory: RepositoryInventory): StorageBlobs {
  const seen = new Set<string>();
  const tagged: string[] = [];
  const untagged: string[] = [];
  eachReference(inventory, (digest, size, isTagged) => {
    if (seen.has(digest)) return;
    seen.add(digest);
    (isTagged ? tagged : untagged).push(`${digest} ${size}`);
  });
  // Held until the shard's graph is written. A row made by concatenation is a pair of pointers that
  // keeps the inventory's digest string alive with it; parsed back, each row is one flat string.
  return JSON.parse(
    JSON.stringify({
      partial: inventory.partial || !inventory.complete,
      tagged,
      ...(inventory.untagged !== undefined ? { untagged } : {}),
    }),
  ) as StorageBlobs;
}
