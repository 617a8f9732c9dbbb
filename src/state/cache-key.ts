// Which Actions cache entry holds a config's state. Caches are immutable per key, and the state
// changes on every run, so each run saves under a key of its own and restores the newest entry
// that shares the config's prefix. The prefix is a hash of everything that shapes discovery
// except credentials: rotating a token keeps the state, and two configs never share it.
import { createHash } from 'node:crypto';
import type { ProviderSettings, Selector, Settings } from '../config/settings.js';

/** Bumped when the state directory's layout changes in a way older entries cannot be read as. */
export const STATE_FORMAT = 'v1';
const KEY_ROOT = 'devgraph-docker-state';
/** @actions/cache refuses keys over 512 characters; the run suffix needs room after the prefix. */
const MAX_PREFIX_LENGTH = 400;

export interface CacheKeys {
  /** The prefix every run of this config shares. */
  prefix: string;
  /** This run's own key: nothing else ever saves under it. */
  primaryKey: string;
  /** Tried in order when the primary key misses; the service picks the newest entry per prefix. */
  restoreKeys: string[];
}

/**
 * A short, stable hash of the providers' settings without credentials. It also tells apart the
 * sticky PR comments of two configs in one repository.
 */
export function configHash(settings: Settings): string {
  const canonical = canonicalJson(settings.providers.map(providerIdentity));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

// Only what decides which entities come out: tuning (timeout, concurrency) does not split the cache.
function providerIdentity(p: ProviderSettings): Record<string, unknown> {
  return {
    name: p.name,
    namespace: p.namespace,
    registry_type: p.registryType,
    api_url: p.apiUrl,
    hub_url: p.hubUrl,
    github_api_url: p.githubApiUrl ?? null,
    ecr_api_url: p.ecrApiUrl ?? null,
    region: p.region ?? null,
    discover_vulnerabilities: p.discoverVulnerabilities,
    max_pages: p.maxPages,
    selectors: p.selectors.map(selectorIdentity),
  };
}

function selectorIdentity(s: Selector): Record<string, unknown> {
  return {
    namespace_pattern: s.namespacePattern.source,
    repository_pattern: s.repositoryPattern.source,
    include_tags: s.includeTags ? [...s.includeTags].sort() : null,
    exclude_tags: s.excludeTags.map((p) => p.source),
    max_tags: s.maxTags,
  };
}

/** JSON with object keys sorted at every level, so equal settings always hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Why a `cache-key` input cannot be used, or undefined when it can. */
export function cacheKeyProblem(prefix: string): string | undefined {
  if (prefix.includes(','))
    return `inputs.cache-key: must not contain commas (the Actions cache rejects them), got ${JSON.stringify(prefix)}`;
  if (prefix.length > MAX_PREFIX_LENGTH)
    return `inputs.cache-key: must be at most ${MAX_PREFIX_LENGTH} characters, got ${prefix.length}`;
  if (!/\S/.test(prefix))
    return 'inputs.cache-key: must not be blank; leave it unset to derive it from the config';
  return undefined;
}

/**
 * The keys for this run. `override` is the `cache-key` input (already checked with
 * cacheKeyProblem); run id and attempt come from GITHUB_RUN_ID / GITHUB_RUN_ATTEMPT, so a re-run
 * attempt saves beside the first instead of colliding with it.
 */
export function cacheKeys(opts: {
  settings: Settings;
  override?: string;
  runId?: string;
  runAttempt?: string;
  /** `2/3`: each shard keeps its own state, as it sees only its own repositories. */
  shard?: { index: number; count: number };
}): CacheKeys {
  const shared = opts.override?.trim() || `${KEY_ROOT}-${STATE_FORMAT}-${configHash(opts.settings)}`;
  const prefix = opts.shard ? `${shared}-shard-${opts.shard.index}-of-${opts.shard.count}` : shared;
  // "-run-" ends the prefix, so restoring "team-run-" never picks up an entry of "team-a".
  const base = `${prefix}-run-`;
  const runId = opts.runId && /^\d+$/.test(opts.runId) ? opts.runId : 'local';
  const attempt = opts.runAttempt && /^\d+$/.test(opts.runAttempt) ? opts.runAttempt : '1';
  return { prefix, primaryKey: `${base}${runId}-${attempt}`, restoreKeys: [base] };
}
