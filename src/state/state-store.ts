// What one run leaves for the next: manifests and config blobs by digest (immutable, so valid
// forever) and the tag → digest map each repository had. Everything read back is verified, so a
// corrupt or half-written file costs a refetch, never a wrong graph.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseGraph } from '../graph/diff.js';
import type { Graph } from '../graph/types.js';

export type TagMap = Record<string, Record<string, string>>;

export interface StateStore {
  getContent(digest: string): Promise<Buffer | undefined>;
  putContent(digest: string, bytes: Buffer): Promise<void>;
  /** The tag → digest map per repository recorded for a registry by the previous run. */
  loadTags(registryUrl: string): Promise<TagMap>;
  saveTags(registryUrl: string, tags: TagMap): Promise<void>;
  /** The graph the previous run wrote, for the change report; undefined when there is none or it is unreadable. */
  loadPreviousGraph(warn?: (message: string) => void): Promise<Graph | undefined>;
  savePreviousGraph(graph: Graph): Promise<void>;
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
  async loadPreviousGraph(): Promise<undefined> {
    return undefined;
  }
  async savePreviousGraph(): Promise<void> {}
}

export class DirectoryState implements StateStore {
  constructor(readonly dir: string) {}

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
      return undefined;
    }
    return bytes;
  }

  async putContent(digest: string, bytes: Buffer): Promise<void> {
    const path = this.contentPath(digest);
    if (path) await writeAtomically(path, bytes);
  }

  private tagsPath(registryUrl: string): string {
    return join(
      this.dir,
      'tags',
      `${createHash('sha256').update(registryUrl).digest('hex').slice(0, 24)}.json`,
    );
  }

  async loadTags(registryUrl: string): Promise<TagMap> {
    try {
      const doc = JSON.parse(await readFile(this.tagsPath(registryUrl), 'utf8')) as {
        registry?: unknown;
        repositories?: unknown;
      };
      if (doc.registry !== registryUrl || !doc.repositories || typeof doc.repositories !== 'object')
        return {};
      return doc.repositories as TagMap;
    } catch {
      return {};
    }
  }

  async saveTags(registryUrl: string, tags: TagMap): Promise<void> {
    await writeAtomically(
      this.tagsPath(registryUrl),
      Buffer.from(JSON.stringify({ registry: registryUrl, repositories: tags })),
    );
  }

  private get graphPath(): string {
    return join(this.dir, 'graph.json');
  }

  async loadPreviousGraph(warn?: (message: string) => void): Promise<Graph | undefined> {
    let text: string;
    try {
      text = await readFile(this.graphPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        warn?.(
          `state: cannot read ${this.graphPath} (${(err as NodeJS.ErrnoException).code ?? String(err)}); this run is reported as a first inventory`,
        );
      return undefined;
    }
    const parsed = parseGraph(text);
    if ('error' in parsed) {
      // A corrupt previous graph only costs this run's change report; the new graph replaces it.
      warn?.(`state: ignoring ${this.graphPath}: ${parsed.error}; this run is reported as a first inventory`);
      return undefined;
    }
    return parsed.graph;
  }

  async savePreviousGraph(graph: Graph): Promise<void> {
    await writeAtomically(this.graphPath, Buffer.from(JSON.stringify(graph)));
  }
}

/** Write to a temporary name and rename, so a killed run never leaves a half-written file under the real name. */
async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}
