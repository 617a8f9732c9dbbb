// What one run leaves for the next: manifests and config blobs by digest (immutable, so valid
// forever) and the tag → digest map each repository had. Everything read back is verified, so a
// corrupt or half-written file costs a refetch, never a wrong graph.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, opendir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConsumableInventory, type RepositoryFilter } from '../graph/diff.js';
import { jsonPieces } from '../graph/graph-json.js';
import { readInventoryFile } from '../graph/read-inventory.js';
import { parseStoredPages, type StoredPages } from '../http/revalidation.js';

export type TagMap = Record<string, Record<string, string>>;

/** What a run learnt about a registry as a whole that the next run need not ask again. */
export interface RegistryFacts {
  /** When the registry was last found to have no OCI referrers API (RFC 3339). */
  referrersApiAbsentSince?: string;
  /** A vendor's own attestation store's answer per image digest, and when it was asked. */
  vendorAttestations?: Record<string, { predicateTypes: string[]; checkedAt: string }>;
}

export interface StateStore {
  getContent(digest: string): Promise<Buffer | undefined>;
  putContent(digest: string, bytes: Buffer): Promise<void>;
  /** The tag → digest map per repository recorded for a registry by the previous run. */
  loadTags(registryUrl: string): Promise<TagMap>;
  saveTags(registryUrl: string, tags: TagMap): Promise<void>;
  loadRegistryFacts(registryUrl: string): Promise<RegistryFacts>;
  saveRegistryFacts(registryUrl: string, facts: RegistryFacts): Promise<void>;
  /**
   * What the change report compares with, from the graph the previous run saved (only the
   * repositories `keep` accepts, when given); undefined when there is none or it is unreadable.
   * The comparison takes it apart (diffGraphsConsuming).
   */
  loadPreviousInventory(
    warn?: (message: string) => void,
    keep?: RepositoryFilter,
  ): Promise<ConsumableInventory | undefined>;
  /** `redact` is applied to the JSON text written (the state directory may be cached outside the runner). */
  savePreviousGraph(graph: object, redact?: (json: string) => string): Promise<void>;
  /** Listing pages with their ETags, for If-None-Match on the next run. */
  loadPages(): Promise<StoredPages>;
  savePages(pages: StoredPages): Promise<void>;
}

const Instant = z.string().refine((s) => !Number.isNaN(Date.parse(s)));
const RegistryFactsSchema = z.object({
  referrersApiAbsentSince: Instant.optional(),
  vendorAttestations: z
    .record(z.string(), z.object({ predicateTypes: z.array(z.string()), checkedAt: Instant }))
    .optional(),
});

function stripUndefined(facts: z.infer<typeof RegistryFactsSchema>): RegistryFacts {
  return {
    ...(facts.referrersApiAbsentSince ? { referrersApiAbsentSince: facts.referrersApiAbsentSince } : {}),
    ...(facts.vendorAttestations ? { vendorAttestations: facts.vendorAttestations } : {}),
  };
}

/** No state: every run is a cold run. */
export class NoState implements StateStore {
  async getContent(): Promise<undefined> {
    return undefined;
  }
  async putContent(): Promise<void> {}
  async loadTags(): Promise<TagMap> {
    return {};
  }
  async saveTags(): Promise<void> {}
  async loadRegistryFacts(): Promise<RegistryFacts> {
    return {};
  }
  async saveRegistryFacts(): Promise<void> {}
  async loadPreviousInventory(): Promise<undefined> {
    return undefined;
  }
  async savePreviousGraph(): Promise<void> {}
  async loadPages(): Promise<StoredPages> {
    return {};
  }
  async savePages(): Promise<void> {}
}

export class DirectoryState implements StateStore {
  /**
   * Files this run found damaged or unfinished (a killed run's garbled files, its temporary
   * files) and threw away, by what they held: reported in one line however many there are, since
   * a silent refetch hides a broken cache and one line per file would bury the log.
   */
  private readonly discarded = new Map<string, Set<string>>();

  constructor(readonly dir: string) {}

  private discard(what: string, path: string): void {
    const paths = this.discarded.get(what) ?? new Set<string>();
    paths.add(path);
    this.discarded.set(what, paths);
  }

  /** The one line saying what was discarded, or undefined when nothing was. */
  discardNote(): string | undefined {
    if (this.discarded.size === 0) return undefined;
    const parts = [...this.discarded].map(
      ([what, paths]) => `${paths.size} ${what}${paths.size === 1 ? '' : 's'}`,
    );
    return `state: discarded ${parts.join(', ')} left damaged or unfinished by an earlier run in ${this.dir}; anything needed from them is fetched again`;
  }

  /** Deletes the temporary files of writes that never finished (see writeAtomically); call before this run writes. */
  async removeLeftovers(): Promise<void> {
    for await (const path of filesUnder(this.dir)) {
      if (!TEMPORARY.test(path)) continue;
      await rm(path, { force: true });
      this.discard('temporary file', path);
    }
  }

  private contentPath(digest: string): string | undefined {
    const m = /^(sha256|sha512):([a-f0-9]{64,128})$/.exec(digest);
    return m ? join(this.dir, 'content', m[1]!, m[2]!) : undefined;
  }

  async getContent(digest: string): Promise<Buffer | undefined> {
    const path = this.contentPath(digest);
    if (!path) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      return undefined;
    }
    const [algorithm] = digest.split(':');
    if (`${algorithm}:${createHash(algorithm!).update(bytes).digest('hex')}` !== digest) {
      await rm(path, { force: true });
      this.discard('content file', path);
      return undefined;
    }
    return bytes;
  }

  async putContent(digest: string, bytes: Buffer): Promise<void> {
    const path = this.contentPath(digest);
    if (!path) return;
    // Written in place, not through a temporary file and a rename: getContent verifies the digest,
    // so a write cut short costs a refetch, never a wrong graph; and a temporary file, a rename
    // and a mkdir per file were most of a large run's CPU.
    const dir = join(path, '..');
    let made = this.contentDirs.get(dir);
    if (!made) {
      made = mkdir(dir, { recursive: true }).then(() => undefined);
      this.contentDirs.set(dir, made);
      made.catch(() => this.contentDirs.delete(dir));
    }
    await made;
    await writeFile(path, bytes);
  }

  /** Content directories (one per digest algorithm), created once per run instead of once per file. */
  private readonly contentDirs = new Map<string, Promise<void>>();

  private tagsPath(registryUrl: string, kind: 'tags' | 'facts' = 'tags'): string {
    return join(
      this.dir,
      kind,
      `${createHash('sha256').update(registryUrl).digest('hex').slice(0, 24)}.json`,
    );
  }

  async loadRegistryFacts(registryUrl: string): Promise<RegistryFacts> {
    const path = this.tagsPath(registryUrl, 'facts');
    try {
      const doc = JSON.parse(await readFile(path, 'utf8')) as { registry?: unknown; facts?: unknown } | null;
      if (doc?.registry !== registryUrl) return {};
      const facts = RegistryFactsSchema.safeParse(doc.facts ?? {});
      if (!facts.success) this.discard('registry facts file', path);
      return facts.success ? stripUndefined(facts.data) : {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.discard('registry facts file', path);
      return {};
    }
  }

  async saveRegistryFacts(registryUrl: string, facts: RegistryFacts): Promise<void> {
    await writeAtomically(
      this.tagsPath(registryUrl, 'facts'),
      Buffer.from(JSON.stringify({ registry: registryUrl, facts })),
    );
  }

  async loadTags(registryUrl: string): Promise<TagMap> {
    const path = this.tagsPath(registryUrl);
    try {
      const doc = JSON.parse(await readFile(path, 'utf8')) as {
        registry?: unknown;
        repositories?: unknown;
      } | null;
      if (doc?.registry !== registryUrl) {
        if (doc?.registry === undefined) this.discard('tag file', path);
        return {};
      }
      if (!doc.repositories || typeof doc.repositories !== 'object') {
        this.discard('tag file', path);
        return {};
      }
      return doc.repositories as TagMap;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.discard('tag file', path);
      return {};
    }
  }

  async saveTags(registryUrl: string, tags: TagMap): Promise<void> {
    // In pieces: as one string and its Buffer, every tag would be allocated at once at the end
    // of discovery, where a run's heap is at its largest.
    await writeAtomically(
      this.tagsPath(registryUrl),
      jsonPieces({ registry: registryUrl, repositories: new Map(Object.entries(tags)) }, unchanged),
    );
  }

  private get graphPath(): string {
    return join(this.dir, 'graph.json');
  }

  async loadPreviousInventory(
    warn?: (message: string) => void,
    keep?: RepositoryFilter,
  ): Promise<ConsumableInventory | undefined> {
    const read = await readInventoryFile(this.graphPath, keep);
    if ('inventory' in read) return new ConsumableInventory(read.inventory);
    if ('unreadable' in read)
      warn?.(
        `state: cannot read ${this.graphPath} (${read.unreadable}); this run is reported as a first inventory`,
      );
    // A corrupt previous graph only costs this run's change report; the new graph replaces it.
    else if ('error' in read)
      warn?.(`state: ignoring ${this.graphPath}: ${read.error}; this run is reported as a first inventory`);
    return undefined;
  }

  async savePreviousGraph(graph: object, redact: (json: string) => string = unchanged): Promise<void> {
    await writeAtomically(this.graphPath, jsonPieces(graph, redact));
  }

  private get pagesPath(): string {
    return join(this.dir, 'pages.json');
  }

  async loadPages(): Promise<StoredPages> {
    try {
      return parseStoredPages(JSON.parse(await readFile(this.pagesPath, 'utf8')));
    } catch (err) {
      // Missing or damaged: the listing is simply read in full again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.discard('listing-page file', this.pagesPath);
      return {};
    }
  }

  async savePages(pages: StoredPages): Promise<void> {
    await writeAtomically(this.pagesPath, jsonPieces(pages, unchanged));
  }
}

/**
 * Every file below `dir`, read one directory entry at a time: a recursive readdir holds every
 * content file's name at once. No directory
 * yet (a first run) is simply no files.
 */
async function* filesUnder(dir: string): AsyncGenerator<string> {
  const entries = await opendir(dir).catch(() => undefined);
  if (!entries) return;
  for await (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(path);
    else if (e.isFile()) yield path;
  }
}

const unchanged = (json: string) => json;

/** The names writeAtomically gives its temporary files. */
const TEMPORARY = /\.[0-9a-f]{12}\.tmp$/;

/** Write to a temporary name and rename, so a killed run never leaves a half-written file under the real name. */
async function writeAtomically(path: string, bytes: Buffer | Iterable<string>): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}
