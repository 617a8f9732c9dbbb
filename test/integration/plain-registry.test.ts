// examples/configs/plain-registry.yml as a user runs it, against the real CNCF Distribution
// registry with Basic auth: only api_url names the registry (no registry_type), so the type is
// taken from the host, and the log says so.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { HttpClient } from '../../src/http/http-client.js';
import { runDiscovery } from '../../src/run-discovery.js';
import { Secrets } from '../../src/secrets.js';
import { pushRepositories } from '../support/push-content.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';
import { seededRepositories } from '../support/seed-data.js';

const EXAMPLE = readFileSync(
  join(import.meta.dirname, '..', '..', 'examples', 'configs', 'plain-registry.yml'),
  'utf8',
);

describe('examples/configs/plain-registry.yml', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'basic' });
    await pushRepositories(registry, seededRepositories({ includeManyTags: false }));
  }, 60_000);
  afterAll(() => registry?.stop());

  it('has no registry_type, so the only change a user makes is the URL', () => {
    expect(EXAMPLE).toContain('      api_url: https://registry.example.com\n');
    expect(EXAMPLE).not.toMatch(/^\s*registry_type:/m);
  });

  it('discovers every repository with the credentials from the environment, and says which type it chose', async () => {
    const secrets = new Secrets();
    const settings = loadConfig(EXAMPLE.replace('https://registry.example.com', registry.url), {
      env: { REGISTRY_USERNAME: 'alice', REGISTRY_PASSWORD: registry.users.alice },
      secrets,
      origin: 'examples/configs/plain-registry.yml',
    });
    expect(settings.providers.map((p) => p.registryType)).toEqual(['private']);
    const lines: string[] = [];
    const http = new HttpClient();
    try {
      const r = await runDiscovery(settings, {
        secrets,
        http,
        log: { info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`), debug: () => {} },
      });
      try {
        expect(lines.filter((l) => l.includes('registry_type'))).toEqual([
          `registry: registry_type not set: private (a plain OCI registry; Harbor, Quay, Nexus and Artifactory are recognised from its answers) from api_url's host ${registry.host}; set registry_type to choose another`,
        ]);
        expect(lines.filter((l) => l.startsWith('warning:'))).toEqual([]);
        expect(r.complete).toBe(true);
        expect(
          r.graph.receipts.map((x) => [x.repository, x.complete, x.tags_selected > 0, x.errors]),
        ).toEqual([
          ['acme/api', true, true, []],
          ['acme/epoch', true, true, []],
          ['library/nginx', true, true, []],
          ['org/team/app', true, true, []],
        ]);
        expect(r.graph.count('DockerImage')).toBeGreaterThan(0);
      } finally {
        r.graph.close();
      }
    } finally {
      await http.close();
    }
  });
});
