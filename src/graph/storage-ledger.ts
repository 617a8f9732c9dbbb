// What a registry's repositories take in storage, counted from the digests each references:
// distinct blobs (layers, configs) and manifest documents, each counted once per repository and
// once per registry, and split into what one repository alone references and what others reference
// too. Fed by a discovery run (retention/storage.ts, from each repository's inventory) and by a
// merge (from the shards' `storage_blobs`), so both write the same `storage` fields.
//
// Repositories are added one at a time and dropped by the caller: across them only a table of
// digests is kept, in typed arrays, because at 100,000 images a Map of digest strings would hold a
// string and an entry for every distinct blob of the registry until the last repository is done.
import { createHash } from 'node:crypto';
import type { GraphReceipt, StorageBlobs } from '../model/graph.js';

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

/**
 * Storage of one registry, one repository at a time: `addReferences` (or `addBlobs`) each
 * repository as it is done (nothing of it is kept), then `finish` once all are in, since whether a
 * blob is shared is known only then.
 */
export class BlobLedger {
  private readonly table = new DigestTable();
  private readonly repositories: Array<{
    provider: string;
    repository: string;
    total: number;
    untagged: number | undefined;
    partial: boolean;
  }> = [];

  /**
   * A repository as a shard graph's receipt gives it (retention's storageBlobsOf): a sharded run's
   * merge adds every shard's repositories to one ledger, so what they share across shards counts
   * as shared.
   */
  addBlobs(provider: string, repository: string, blobs: StorageBlobs): void {
    this.addReferences(provider, repository, blobs.partial, blobs.untagged !== undefined, (reference) => {
      for (const row of blobs.tagged) reference(...parseRow(row), true);
      for (const row of blobs.untagged ?? []) reference(...parseRow(row), false);
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

  /**
   * Adds one repository: `feed` hands over each digest it references, what is tagged before what
   * is not, so a blob an untagged manifest shares with a tagged one is not counted again. A digest
   * may come more than once; the first size given for it is the one that counts.
   */
  addReferences(
    provider: string,
    repository: string,
    partial: boolean,
    listsUntagged: boolean,
    feed: (reference: (digest: string, size: number, tagged: boolean) => void) => void,
  ): void {
    const repo = this.repositories.length;
    const { table } = this;
    let total = 0;
    let untagged = 0;
    feed((digest, size, tagged) => {
      const bytes = table.reference(digest, size, repo, tagged);
      if (tagged) total += bytes;
      else untagged += bytes;
    });
    this.repositories.push({
      provider,
      repository,
      total,
      untagged: listsUntagged ? untagged : undefined,
      partial,
    });
  }
}

/** A `storage` field to write: a provider's DockerRegistry (no repository) or one of its DockerRepositories. */
export interface StorageField {
  provider: string;
  repository?: string;
  storage: Storage;
}

/**
 * The storage of a run's registries, one ledger per provider, for the graph's `storage` fields:
 * fed as repositories are discovered (or, in a merge, as the shards' receipts are read).
 */
export class RunStorage<L extends BlobLedger = BlobLedger> {
  private readonly ledgers = new Map<string, L>();

  /** Every provider of the run: each DockerRegistry gets its figures, repositories or none. */
  constructor(providers: Iterable<string>, make: () => L) {
    for (const p of providers) this.ledgers.set(p, make());
  }

  of(provider: string): L {
    const ledger = this.ledgers.get(provider);
    if (!ledger) throw new Error(`storage: provider ${provider} was not given to RunStorage`);
    return ledger;
  }

  /**
   * Every registry's and repository's figures. `receipts` are the registry-level ones (repository
   * `*`): a registry whose repository listing was cut short has repositories nobody counted.
   */
  finish(receipts: readonly GraphReceipt[]): StorageField[] {
    const fields: StorageField[] = [];
    for (const [provider, ledger] of this.ledgers) {
      const { registry, repositories } = ledger.finish();
      const cut = receipts.some((r) => r.provider === provider && r.repository === '*' && !r.complete);
      fields.push({ provider, storage: cut ? { ...registry, partial: true } : registry });
      for (const r of repositories) fields.push({ provider, repository: r.repository, storage: r.storage });
    }
    return fields;
  }
}

/** A digest and a size in bytes, as `storage_blobs` writes them. */
export const STORAGE_ROW = /^(\S+) (\d{1,15})$/;

function parseRow(row: string): [string, number] {
  const m = STORAGE_ROW.exec(row);
  if (!m) throw new Error(`storage_blobs: ${JSON.stringify(row)} is not "<digest> <bytes>"`);
  return [m[1]!, Number(m[2])];
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
