// What a registry's repositories take in storage, from their inventories: distinct blobs (layers,
// configs) and manifest documents, each counted once per repository and once per registry, and
// split into what one repository alone references and what others reference too.
//
// Repositories are added one at a time and dropped by the caller: across them only a table of
// digests is kept, in typed arrays, because at 100,000 images a Map of digest strings would hold a
// string and an entry for every distinct blob of the registry until the last repository is done.
import { createHash } from 'node:crypto';
import type { InventoryManifest, RepositoryInventory } from './inventory.js';

/** The `storage` spec field of a DockerRepository and of a DockerRegistry. */
export interface Storage {
  /** Distinct blobs and manifest documents of what is tagged (index children and accessories included). */
  total_bytes: number;
  /** Of total_bytes, what no other repository of the registry references. */
  unique_bytes: number;
  /** Of total_bytes, what another repository of the registry references too. */
  shared_bytes: number;
  /**
   * What untagged manifests reference beyond total_bytes; only where the registry lists untagged
   * manifests.
   */
  untagged_bytes?: number;
  /** Some of the repository was not read (max_tags, a failure, sizes not stated): figures are at least this. */
  partial: boolean;
}

export interface RepositoryStorage {
  provider: string;
  repository: string;
  storage: Storage;
}

export interface RegistryStorage {
  /** The registry as a whole: a blob several repositories reference is counted once. */
  registry: Storage;
  /** Per repository, in the order they were added. */
  repositories: RepositoryStorage[];
}

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
export class StorageLedger {
  private readonly table = new DigestTable();
  private readonly repositories: Array<{
    provider: string;
    repository: string;
    total: number;
    untagged: number | undefined;
    partial: boolean;
  }> = [];
  private registry: string | undefined;

  add(inventory: RepositoryInventory): void {
    if (this.registry !== undefined && inventory.registry !== this.registry)
      throw new Error(
        `storage is figured per registry: ${inventory.repository} is in ${inventory.registry}, not ${this.registry}`,
      );
    this.registry = inventory.registry;
    const repo = this.repositories.length;
    const { table } = this;
    const count = (m: InventoryManifest, tagged: boolean): number => {
      let bytes = table.reference(m.digest, m.size, repo, tagged);
      for (const b of m.blobs) bytes += table.reference(b.digest, b.size, repo, tagged);
      return bytes;
    };
    // What is tagged first, so a blob an untagged manifest shares with it is not counted again.
    let total = 0;
    for (const m of inventory.manifests.values()) total += count(m, true);
    let untagged: number | undefined;
    if (inventory.untagged) {
      untagged = 0;
      for (const m of inventory.untagged) if (!inventory.manifests.has(m.digest)) untagged += count(m, false);
    }
    this.repositories.push({
      provider: inventory.provider,
      repository: inventory.repository,
      total,
      untagged,
      partial: inventory.partial || !inventory.complete,
    });
  }

  finish(): RegistryStorage {
    const unique = new Float64Array(this.repositories.length);
    const registry = { total: 0, unique: 0, untagged: 0 };
    this.table.forEach((size, owner, flags) => {
      if (!(flags & TAGGED_ANYWHERE)) {
        registry.untagged += size;
        return;
      }
      registry.total += size;
      if (flags & SHARED) return;
      unique[owner]! += size;
      registry.unique += size;
    });
    const listsUntagged = this.repositories.some((r) => r.untagged !== undefined);
    return {
      registry: figures(
        registry.total,
        registry.unique,
        listsUntagged ? registry.untagged : undefined,
        this.repositories.some((r) => r.partial),
      ),
      repositories: this.repositories.map((r, i) => ({
        provider: r.provider,
        repository: r.repository,
        storage: figures(r.total, unique[i]!, r.untagged, r.partial),
      })),
    };
  }
}

function figures(total: number, unique: number, untagged: number | undefined, partial: boolean): Storage {
  return {
    total_bytes: total,
    unique_bytes: unique,
    shared_bytes: total - unique,
    ...(untagged !== undefined ? { untagged_bytes: untagged } : {}),
    partial,
  };
}

const USED = 1;
/** Referenced by more than one repository. */
const SHARED = 2;
/** Referenced by a tagged manifest of some repository. */
const TAGGED_ANYWHERE = 4;

/**
 * Digests by their first 128 bits, each with its size, the last repository that referenced it (so
 * a repository counts it once; while only one has, its owner) and flags: open addressing over
 * typed arrays. 128 bits, not 64: a registry's tenant could afford 2^32 tries to make two blobs
 * collide on 64.
 */
class DigestTable {
  private keys = new Uint32Array(4 * 1024);
  private sizes = new Float64Array(1024);
  private lasts = new Int32Array(1024);
  private flags = new Uint8Array(1024);
  private used = 0;
  private readonly key = new Uint32Array(4);

  /**
   * Notes that repository `repo` references `digest`: its bytes the first time it does, else 0.
   * The size first stated for a digest stands, so a registry stating two for one blob still gets
   * figures that add up. A repository's tagged references come before its untagged ones.
   */
  reference(digest: string, size: number, repo: number, tagged: boolean): number {
    if (2 * (this.used + 1) > this.flags.length) this.grow();
    keyOf(digest, this.key);
    const i = this.slot(this.key);
    const mark = tagged ? TAGGED_ANYWHERE : 0;
    if (this.flags[i] === 0) {
      this.keys.set(this.key, 4 * i);
      this.sizes[i] = size;
      this.lasts[i] = repo;
      this.flags[i] = USED | mark;
      this.used++;
      return size;
    }
    if (this.lasts[i] === repo) {
      this.flags[i]! |= mark;
      return 0;
    }
    this.lasts[i] = repo;
    this.flags[i]! |= SHARED | mark;
    return this.sizes[i]!;
  }

  /** Each digest: its size, the repository that referenced it (the last, when shared), its flags. */
  forEach(visit: (size: number, owner: number, flags: number) => void): void {
    for (let i = 0; i < this.flags.length; i++)
      if (this.flags[i] !== 0) visit(this.sizes[i]!, this.lasts[i]!, this.flags[i]!);
  }

  /** Where the key is, or the empty slot where it would go. */
  private slot(key: Uint32Array): number {
    const mask = this.flags.length - 1;
    const { keys } = this;
    for (let i = key[0]! & mask; ; i = (i + 1) & mask) {
      const at = 4 * i;
      if (
        this.flags[i] === 0 ||
        (keys[at] === key[0] && keys[at + 1] === key[1] && keys[at + 2] === key[2] && keys[at + 3] === key[3])
      )
        return i;
    }
  }

  private grow(): void {
    const { keys, sizes, lasts, flags } = this;
    const n = flags.length * 2;
    this.keys = new Uint32Array(4 * n);
    this.sizes = new Float64Array(n);
    this.lasts = new Int32Array(n);
    this.flags = new Uint8Array(n);
    for (let j = 0; j < flags.length; j++) {
      if (flags[j] === 0) continue;
      const key = keys.subarray(4 * j, 4 * j + 4);
      const i = this.slot(key);
      this.keys.set(key, 4 * i);
      this.sizes[i] = sizes[j]!;
      this.lasts[i] = lasts[j]!;
      this.flags[i] = flags[j]!;
    }
  }
}

const SHA256 = /^sha256:[0-9a-f]{64}$/;

/**
 * A digest's first 128 bits: a sha256 digest's own hex, which is already uniform; any other
 * digest (another algorithm, an odd encoding) is hashed to get bits that are.
 */
function keyOf(digest: string, into: Uint32Array): void {
  if (SHA256.test(digest)) {
    for (let w = 0; w < 4; w++) into[w] = Number.parseInt(digest.slice(7 + 8 * w, 15 + 8 * w), 16);
    return;
  }
  const hashed = createHash('sha256').update(digest).digest();
  for (let w = 0; w < 4; w++) into[w] = hashed.readUInt32BE(4 * w);
}
