// Storage figures (issue 17) against the real registry (Distribution 2.8): seeded repositories are
// discovered, each made an inventory as discovery hands it over, and the figures are asserted to
// the byte against the seeded blobs and manifests, which are counted here from the seed data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { type Content, RepositoryBuilder, type RepositoryContent } from '../../src/demo/image-builder.js';
import { discover } from '../../src/discovery/discover.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import type { RepositoryResult } from '../../src/model/discovery.js';
import { inventoryOf } from '../../src/retention/from-discovery.js';
import type { RepositoryInventory } from '../../src/retention/inventory.js';
import { type RegistryStorage, storageOf } from '../../src/retention/storage.js';
import { Secrets } from '../../src/secrets.js';
import { NoState } from '../../src/state/state-store.js';
import { pushRepositories } from '../support/push-content.js';
import { type RunningRegistry, registryAvailable, startRegistry } from '../support/registry-process.js';
import { ACME_API, NGINX, ORG_TEAM_APP } from '../support/seed-data.js';

if (!registryAvailable()) {
  throw new Error('/usr/bin/docker-registry is missing: install the Debian package docker-registry');
}

/** The older nginx index again under another name: every blob and manifest shared with library/nginx. */
const MIRROR = new RepositoryBuilder('mirror/nginx').addIndex(NGINX.v1_24_0, '1.24.0').build();
const SEEDED = [NGINX.repo, ORG_TEAM_APP.repo, MIRROR, ACME_API.repo];
/** What discovery reads of acme/api with max_tags: 1: its newest tag, the multi-platform list (2024-04-01). */
const API_NEWEST = new RepositoryBuilder('acme/api').addIndex(ACME_API.multi, 'multi').build();

/** Bytes of distinct content by digest over the given repositories' blobs and manifests. */
function seededBytes(...repos: RepositoryContent[]): number {
  const distinct = new Map<string, Content>();
  for (const r of repos) for (const c of [...r.blobs, ...r.manifests]) distinct.set(c.digest, c);
  return [...distinct.values()].reduce((sum, c) => sum + c.bytes.length, 0);
}

/** The figures expected of `total` bytes of which `shared` another repository holds too. */
function expected(total: number, shared: number, partial = false) {
  return { total_bytes: total, unique_bytes: total - shared, shared_bytes: shared, partial };
}

describe('storage figures against a real registry', () => {
  let registry: RunningRegistry;
  let storage: RegistryStorage;
  const inventories = new Map<string, RepositoryInventory>();
  const results = new Map<string, RepositoryResult>();

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'open' });
    await pushRepositories(registry, SEEDED);
    const secrets = new Secrets();
    const settings = loadConfig(
      `providers:
  - name: local
    type: docker
    config:
      registry_type: private
      api_url: ${registry.url}
      selectors:
        - namespace_pattern: "^acme$"
          max_tags: 1
        - max_tags: 0
`,
      { env: {}, secrets, origin: 'storage test config' },
    );
    const http = new HttpClient();
    try {
      await discover(settings, {
        http,
        state: new NoState(),
        secrets,
        log: silentLog,
        onRepository: (provider, repository) => {
          results.set(repository.name, repository);
          inventories.set(repository.name, inventoryOf(provider.name, registry.host, repository));
        },
      });
    } finally {
      await http.close();
    }
    storage = storageOf([...inventories.values()]);
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
  });

  const figures = (name: string) => {
    const found = storage.repositories.find((r) => r.repository === name);
    if (!found) throw new Error(`no storage for ${name}; have ${[...inventories.keys()].join(', ')}`);
    return found.storage;
  };

  it('reads every seeded repository, each completely', () => {
    expect([...results.keys()].sort()).toEqual(['acme/api', 'library/nginx', 'mirror/nginx', 'org/team/app']);
    for (const r of results.values()) expect({ [r.name]: r.receipt.complete }).toEqual({ [r.name]: true });
  });

  it('counts an index with attestations under alias tags: every seeded blob and manifest, once', () => {
    // Both indexes, their platform manifests and BuildKit attestation manifests, with every layer and config.
    expect(figures('library/nginx')).toEqual(expected(seededBytes(NGINX.repo), seededBytes(MIRROR)));
  });

  it('counts a signature found by its cosign tag, and the image under two tags once', () => {
    expect(results.get('org/team/app')!.receipt.accessory_tags).toBe(1);
    expect(figures('org/team/app')).toEqual(expected(seededBytes(ORG_TEAM_APP.repo), 0));
  });

  it('finds a repository whose every blob another holds: all shared', () => {
    expect(figures('mirror/nginx')).toEqual(expected(seededBytes(MIRROR), seededBytes(MIRROR)));
  });

  it('says partial where max_tags left tags unread, and counts what was read', () => {
    expect(results.get('acme/api')!.images.map((i) => i.tag)).toEqual(['multi']);
    expect(figures('acme/api')).toEqual(expected(seededBytes(API_NEWEST), 0, true));
  });

  it('counts the registry with shared content once', () => {
    const total = seededBytes(NGINX.repo, ORG_TEAM_APP.repo, MIRROR, API_NEWEST);
    expect(storage.registry).toEqual(expected(total, seededBytes(MIRROR), true));
  });
});
