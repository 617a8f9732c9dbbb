// One discovery with a config document, as the shells run one, for tests that look at its result.
import { loadConfig } from '../../src/config/load-config.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import { type RunOptions, runDiscovery } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';

export interface DiscoverTextOptions extends Partial<Omit<RunOptions, 'secrets'>> {
  /** The variables the config's `${VAR}` references read. */
  env?: Record<string, string>;
}

/**
 * Discovers with the config document `text` at a fixed generation time, logging nothing unless
 * `log` is given. Without `http`, the client does not wait between retries but counts the waits
 * it was asked for (`waits`); the client is closed after either way.
 */
export async function discoverText(text: string, options: DiscoverTextOptions = {}) {
  const waits: number[] = [];
  const {
    env = {},
    http = new HttpClient({
      sleep: async (ms) => {
        waits.push(ms);
      },
    }),
    ...run
  } = options;
  const secrets = new Secrets();
  const settings = loadConfig(text, { env, secrets, origin: 'test' });
  try {
    const r = await runDiscovery(settings, {
      secrets,
      log: silentLog,
      http,
      generatedAt: '2025-01-01T00:00:00Z',
      ...run,
    });
    return { ...r, http, secrets, waits };
  } finally {
    await http.close();
  }
}
