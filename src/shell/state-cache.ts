// Carries the state directory from one workflow run to the next through the Actions cache. The
// cache only ever saves time: a miss, a damaged entry or an unreachable service leaves the run
// cold, which is slower but produces the same graph, so nothing here throws.
//
// @actions/cache reports a service that is down as a plain miss (restore) or -1 (save), after
// retrying with backoff and waiting minutes on a socket that never answers. So each operation
// first asks the service one question (actions-service.ts) under the operation's time limit, and
// only then hands the work to the library, raced against what is left of the limit.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as actionsCache from '@actions/cache';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { Log } from '../log.js';
import type { CacheKeys } from '../state/cache-key.js';
import { askService, onEnterpriseServer, type ServiceEnv } from './actions-service.js';
import { seconds, withTimeLimit } from './time-limit.js';

/**
 * Restore and save each get this long, the service check included. With the artifact upload's
 * limit (graph-artifact.ts) a dead service costs a step about 90 s at most; a restore that finds
 * the service down skips the save, so it costs 60 s.
 */
export const CACHE_TIME_LIMIT_MS = 30_000;

/** The part of @actions/cache this module uses; tests pass a stand-in. */
export interface CacheApi {
  isFeatureAvailable(): boolean;
  restoreCache(
    paths: string[],
    primaryKey: string,
    restoreKeys?: string[],
    options?: { timeLimitMs: number },
  ): Promise<string | undefined>;
  saveCache(paths: string[], key: string): Promise<number>;
  /** Why the service cannot be used right now, or undefined when it answers; within `limitMs`. */
  check?(limitMs: number): Promise<string | undefined>;
}

export const actionsCacheApi: CacheApi = {
  isFeatureAvailable: () => actionsCache.isFeatureAvailable(),
  restoreCache: (paths, primaryKey, restoreKeys, options) =>
    actionsCache.restoreCache(
      paths,
      primaryKey,
      restoreKeys,
      // The library's own limits on a download (30 s per request and 10 min per segment by default).
      options
        ? {
            timeoutInMs: Math.ceil(Math.min(options.timeLimitMs, 30_000)),
            segmentTimeoutInMs: Math.ceil(options.timeLimitMs),
          }
        : undefined,
    ),
  saveCache: (paths, key) => actionsCache.saveCache(paths, key),
  check: (limitMs) => checkCacheService(process.env, limitMs),
};

export type RestoreOutcome =
  | { status: 'hit'; key: string; message: string }
  | { status: 'miss'; message: string }
  /** The entry was restored but could not be read back; the directory was emptied. */
  | { status: 'corrupt'; key: string; message: string }
  /** No cache service (outside Actions, GHES without cache) or it failed. */
  | { status: 'unavailable' | 'error'; message: string }
  /** The service answered an error, refused the connection or did not answer in time: not a miss. */
  | { status: 'down'; message: string };

export type SaveOutcome =
  | { status: 'saved'; key: string; message: string }
  | { status: 'skipped' | 'unavailable' | 'error'; message: string };

export interface StateCacheOptions {
  /** The state directory, absolute. Restore and save must name it identically: the path is part of the entry's version. */
  dir: string;
  keys: CacheKeys;
  log: Log;
  cache?: CacheApi;
  /** The most this restore or save may take, the service check included (CACHE_TIME_LIMIT_MS). */
  timeLimitMs?: number;
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
  const down = (reason: string): RestoreOutcome => ({
    status: 'down',
    message: `State cache: the cache service is down (${reason}); starting cold, and this run's state will not be saved.`,
  });
  const limit = startLimit(opts);
  const trouble = await serviceTrouble(cache, limit.ms);
  if (trouble) return down(trouble);
  const wasEmpty = await isEmptyDir(dir);
  let key: string | undefined;
  try {
    const left = limit.left();
    const restored = await withTimeLimit(
      cache.restoreCache([dir], keys.primaryKey, keys.restoreKeys, { timeLimitMs: left }),
      left,
    );
    if (!restored.done) {
      // The library may still be writing; what it left so far is not a state to trust.
      await wipeIfNew(dir, wasEmpty);
      return down(`the restore did not finish within ${seconds(limit.ms)}`);
    }
    key = restored.value;
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
  // A service found down at the start was warned about then; not saving is its announced consequence.
  if (outcome.status === 'error' && opts.restored?.status !== 'down') opts.log.warn(outcome.message);
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
  if (opts.restored?.status === 'down') {
    return {
      status: 'error',
      message: 'State cache: state not saved; the cache service was down when this run started.',
    };
  }
  if (!available(cache)) {
    return {
      status: 'unavailable',
      message: 'State cache: the Actions cache service is not available here; state not saved.',
    };
  }
  const down = (reason: string): SaveOutcome => ({
    status: 'error',
    message: `State cache: the cache service is down (${reason}); state not saved; the next run starts from an older entry or cold.`,
  });
  const limit = startLimit(opts);
  const trouble = await serviceTrouble(cache, limit.ms);
  if (trouble) return down(trouble);
  try {
    const saved = await withTimeLimit(cache.saveCache([dir], keys.primaryKey), limit.left());
    if (!saved.done) return down(`the save did not finish within ${seconds(limit.ms)}`);
    const id = saved.value;
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

function startLimit(opts: StateCacheOptions): { ms: number; left(): number } {
  const ms = opts.timeLimitMs ?? CACHE_TIME_LIMIT_MS;
  const started = performance.now();
  return { ms, left: () => Math.max(1, ms - (performance.now() - started)) };
}

/** Why the service cannot be used now, or undefined (also when the API has no check). */
async function serviceTrouble(cache: CacheApi, limitMs: number): Promise<string | undefined> {
  if (!cache.check) return undefined;
  try {
    const checked = await withTimeLimit(cache.check(limitMs), limitMs);
    return checked.done ? checked.value : `no answer within ${seconds(limitMs)}`;
  } catch (err) {
    return oneLine(errorMessage(err));
  }
}

const CACHE_LOOKUP = '/twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL';
/** The check looks up a key under a version nothing is saved with: a real lookup that finds nothing. */
const CHECK_KEY = 'devgraph-docker-service-check';
const CHECK_VERSION = createHash('sha256').update(CHECK_KEY).digest('hex');
const lookupAnswer = z.object({ ok: z.boolean() });

/**
 * Asks the cache service @actions/cache would use (the same variables decide) for an entry that
 * does not exist: any well-formed answer means it is up. Never throws.
 */
export async function checkCacheService(env: ServiceEnv, limitMs: number): Promise<string | undefined> {
  // The library's own choice: cache service v2 (Twirp on the results service) when the runner
  // enables it, except on GitHub Enterprise Server, which has only v1.
  const v2 = Boolean(env.ACTIONS_CACHE_SERVICE_V2) && !onEnterpriseServer(env);
  const base = v2 ? env.ACTIONS_RESULTS_URL : env.ACTIONS_CACHE_URL || env.ACTIONS_RESULTS_URL;
  // Without a URL there is nothing to ask; the library decides availability on the same variables.
  if (!base) return undefined;
  return v2
    ? askService(
        {
          method: 'POST',
          url: new URL(CACHE_LOOKUP, base).href,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: CHECK_KEY, restore_keys: [], version: CHECK_VERSION }),
        },
        lookupAnswer,
        env,
        limitMs,
      )
    : askService(
        {
          method: 'GET',
          url: `${base}_apis/artifactcache/cache?keys=${CHECK_KEY}&version=${CHECK_VERSION}`,
          headers: { accept: 'application/json;api-version=6.0-preview.1' },
        },
        undefined,
        env,
        limitMs,
      );
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
