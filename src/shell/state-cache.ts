// Carries the state directory from one workflow run to the next through the Actions cache. The
// cache only ever saves time: a miss, a damaged entry or an unreachable service leaves the run
// cold, which is slower but produces the same graph, so nothing here throws.
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as actionsCache from '@actions/cache';
import { errorMessage } from '../errors.js';
import type { Log } from '../log.js';
import type { CacheKeys } from '../state/cache-key.js';

/** The part of @actions/cache this module uses; tests pass a stand-in. */
export interface CacheApi {
  isFeatureAvailable(): boolean;
  restoreCache(paths: string[], primaryKey: string, restoreKeys?: string[]): Promise<string | undefined>;
  saveCache(paths: string[], key: string): Promise<number>;
}

export const actionsCacheApi: CacheApi = {
  isFeatureAvailable: () => actionsCache.isFeatureAvailable(),
  restoreCache: (paths, primaryKey, restoreKeys) => actionsCache.restoreCache(paths, primaryKey, restoreKeys),
  saveCache: (paths, key) => actionsCache.saveCache(paths, key),
};

export type RestoreOutcome =
  | { status: 'hit'; key: string; message: string }
  | { status: 'miss'; message: string }
  /** The entry was restored but could not be read back; the directory was emptied. */
  | { status: 'corrupt'; key: string; message: string }
  /** No cache service (outside Actions, GHES without cache) or it failed. */
  | { status: 'unavailable' | 'error'; message: string };

export type SaveOutcome =
  | { status: 'saved'; key: string; message: string }
  | { status: 'skipped' | 'unavailable' | 'error'; message: string };

export interface StateCacheOptions {
  /** The state directory, absolute. Restore and save must name it identically: the path is part of the entry's version. */
  dir: string;
  keys: CacheKeys;
  log: Log;
  cache?: CacheApi;
}

/**
 * Restores the newest state saved for this config into `dir`. Logs exactly one line saying what
 * happened and returns the same for the job summary.
 */
export async function restoreState(opts: StateCacheOptions): Promise<RestoreOutcome> {
  const cache = opts.cache ?? actionsCacheApi;
  const outcome = await restoreOnce(opts, cache);
  if (outcome.status === 'hit' || outcome.status === 'miss' || outcome.status === 'unavailable')
    opts.log.info(outcome.message);
  else opts.log.warn(outcome.message);
  return outcome;
}

async function restoreOnce(opts: StateCacheOptions, cache: CacheApi): Promise<RestoreOutcome> {
  const { dir, keys } = opts;
  if (!available(cache)) {
    return {
      status: 'unavailable',
      message: 'State cache: the Actions cache service is not available here; starting cold.',
    };
  }
  const wasEmpty = await isEmptyDir(dir);
  let key: string | undefined;
  try {
    key = await cache.restoreCache([dir], keys.primaryKey, keys.restoreKeys);
  } catch (err) {
    await wipeIfNew(dir, wasEmpty);
    return {
      status: 'error',
      message: `State cache: restore failed (${oneLine(errorMessage(err))}); starting cold.`,
    };
  }
  if (key === undefined) {
    // @actions/cache reports a download or extraction failure as a plain miss; files showing up
    // in a directory that was empty mean it stopped halfway.
    if (wasEmpty && !(await isEmptyDir(dir))) {
      await wipeIfNew(dir, true);
      return {
        status: 'error',
        message: 'State cache: restore stopped partway; the partial state was removed; starting cold.',
      };
    }
    return {
      status: 'miss',
      message: `State cache: no saved state for ${keys.prefix} yet; starting cold.`,
    };
  }
  const unreadable = await unreadableState(dir);
  if (unreadable) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return {
      status: 'corrupt',
      key,
      message: `State cache: the entry ${key} could not be read (${unreadable}); it was discarded; starting cold.`,
    };
  }
  return { status: 'hit', key, message: `State cache: restored ${key}.` };
}

/**
 * Saves `dir` under this run's own key. `restored` is what restoreState returned, so an entry is
 * never written twice under one key (the service refuses that).
 */
export async function saveState(
  opts: StateCacheOptions & { restored?: RestoreOutcome },
): Promise<SaveOutcome> {
  const cache = opts.cache ?? actionsCacheApi;
  const outcome = await saveOnce(opts, cache);
  if (outcome.status === 'error') opts.log.warn(outcome.message);
  else opts.log.info(outcome.message);
  return outcome;
}

async function saveOnce(
  opts: StateCacheOptions & { restored?: RestoreOutcome },
  cache: CacheApi,
): Promise<SaveOutcome> {
  const { dir, keys } = opts;
  if (opts.restored?.status === 'hit' && opts.restored.key === keys.primaryKey) {
    return { status: 'skipped', message: `State cache: ${keys.primaryKey} already holds this run's state.` };
  }
  if (await isEmptyDir(dir)) {
    return { status: 'skipped', message: 'State cache: the state directory is empty; nothing to save.' };
  }
  if (!available(cache)) {
    return {
      status: 'unavailable',
      message: 'State cache: the Actions cache service is not available here; state not saved.',
    };
  }
  try {
    const id = await cache.saveCache([dir], keys.primaryKey);
    // saveCache reports most failures (quota, a concurrent writer) by returning -1 after its own log line.
    if (id === -1) {
      return {
        status: 'error',
        message: `State cache: the service did not save ${keys.primaryKey}; the next run starts from an older entry or cold.`,
      };
    }
    return { status: 'saved', key: keys.primaryKey, message: `State cache: saved ${keys.primaryKey}.` };
  } catch (err) {
    return {
      status: 'error',
      message: `State cache: save failed (${oneLine(errorMessage(err))}); the next run starts from an older entry or cold.`,
    };
  }
}

function available(cache: CacheApi): boolean {
  try {
    return cache.isFeatureAvailable();
  } catch {
    return false;
  }
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch {
    return true;
  }
}

async function wipeIfNew(dir: string, wasEmpty: boolean): Promise<void> {
  if (!wasEmpty) return;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}

/**
 * Why the restored directory cannot be used, or undefined. Content files verify themselves by
 * digest when read; what can silently break is structure (a file where a directory belongs) and
 * the JSON documents, which have no digest.
 */
async function unreadableState(dir: string): Promise<string | undefined> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return `${dir} is not a directory`;
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
      const path = join(entry.parentPath, entry.name);
      try {
        JSON.parse(await readFile(path, 'utf8'));
      } catch {
        return `${path.slice(dir.length + 1)} is not valid JSON`;
      }
    }
    return undefined;
  } catch (err) {
    return oneLine(errorMessage(err));
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
