// An in-memory stand-in for the Actions cache service behind @actions/cache's three functions
// (the CacheApi seam), for tests about what the state does across runs. How the real library
// behaves against the service's HTTP API, down or up, is tested on actions-results-fake.ts.
// It keeps the rules state-cache.ts relies on:
// - an entry is immutable: saving under an existing key fails (the library returns -1 after
//   "another job may be creating this cache");
// - the paths are part of an entry's version: restoring other paths finds nothing;
// - restore tries the primary key exactly, then each restore key as a prefix, newest entry first;
// - keys over 512 characters or with commas throw (the library's ValidationError);
// - a restore extracts over whatever is already in the directory.
// Modes: unavailable (isFeatureAvailable() false, as outside Actions), outage (restore and save
// throw), partial (restore writes some files, then reports a miss, as the library does when the
// extraction fails midway).
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { CacheApi } from '../../../src/shell/state-cache.js';

export interface CacheEntry {
  key: string;
  version: string;
  files: Map<string, Buffer>;
  order: number;
}

export interface ActionsCacheFake extends CacheApi {
  entries: CacheEntry[];
  calls: { fn: 'restoreCache' | 'saveCache'; paths: string[]; key: string; restoreKeys?: string[] }[];
  mode: 'normal' | 'unavailable' | 'outage' | 'partial';
}

export function createActionsCacheFake(): ActionsCacheFake {
  let order = 0;
  const fake: ActionsCacheFake = {
    entries: [],
    calls: [],
    mode: 'normal',
    isFeatureAvailable: () => fake.mode !== 'unavailable',
    async restoreCache(paths, primaryKey, restoreKeys = []) {
      fake.calls.push({ fn: 'restoreCache', paths, key: primaryKey, restoreKeys });
      for (const k of [primaryKey, ...restoreKeys]) checkKey(k);
      if (fake.mode === 'outage') throw new Error('Cache service responded with 503');
      const version = paths.join('\n');
      const candidates = fake.entries.filter((e) => e.version === version);
      const newest = (list: CacheEntry[]) => list.sort((a, b) => b.order - a.order)[0];
      const entry =
        candidates.find((e) => e.key === primaryKey) ??
        restoreKeys.map((p) => newest(candidates.filter((e) => e.key.startsWith(p)))).find((e) => e);
      if (!entry) return undefined;
      const [root] = paths as [string];
      const files = [...entry.files];
      const count = fake.mode === 'partial' ? Math.ceil(files.length / 2) : files.length;
      for (const [rel, bytes] of files.slice(0, count)) {
        await mkdir(dirname(join(root, rel)), { recursive: true });
        await writeFile(join(root, rel), bytes);
      }
      return fake.mode === 'partial' ? undefined : entry.key;
    },
    async saveCache(paths, key) {
      fake.calls.push({ fn: 'saveCache', paths, key });
      checkKey(key);
      if (fake.mode === 'outage') throw new Error('Cache service responded with 503');
      if (fake.entries.some((e) => e.key === key)) return -1;
      const [root] = paths as [string];
      const files = new Map<string, Buffer>();
      for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const path = join(entry.parentPath, entry.name);
        files.set(relative(root, path), await readFile(path));
      }
      order += 1;
      fake.entries.push({ key, version: paths.join('\n'), files, order });
      return order;
    },
  };
  return fake;
}

function checkKey(key: string): void {
  if (key.length > 512) throw new Error(`Key Validation Error: ${key} cannot be larger than 512 characters.`);
  if (key.includes(',')) throw new Error(`Key Validation Error: ${key} cannot contain commas.`);
}
