// One discovery with a config document, as the shells run one, for tests that look at its result.
import { loadConfig } from '../../src/config/load-config.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import { type RunOptions, runDiscovery } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';

export interface DiscoverTextOptions extends Partial<RunOptions> {
  /** The variables the config's `${VAR}` references read. */
  env?: Record<string, string | undefined>;
  /** Where the config came from, as its errors name it; "test" unless given. */
  origin?: string;
}

/**
 * Discovers with the config document `text`, at a fixed generation time and logging nothing
 * unless told otherwise; `secrets` (fresh unless given) learns the config's secrets. Without
 * `http`, the client does not wait between retries but keeps the waits it was asked for
 * (`waits`); the client is closed after either way, its `retries` and request `counts` read when
 * the run returned.
 */
export async function discoverText(text: string, options: DiscoverTextOptions = {}) {
  const waits: number[] = [];
  const {
    env = {},
    origin = 'test',
    secrets = new Secrets(),
    log = silentLog,
    generatedAt = '2025-01-01T00:00:00Z',
    http = new HttpClient({
      sleep: async (ms) => {
        waits.push(ms);
      },
    }),
    ...run
  } = options;
  const settings = loadConfig(text, { env, secrets, origin });
  try {
    const r = await runDiscovery(settings, { ...run, secrets, log, http, generatedAt });
    // Counted before the close, which waits for requests still in flight (and their retries).
    return { ...r, http, secrets, waits, retries: http.retries, counts: Object.fromEntries(http.counts) };
  } finally {
    await http.close();
  }
}
