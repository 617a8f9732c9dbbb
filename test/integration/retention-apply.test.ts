// Issue 17, apply: the real registry (Distribution 2.8 with storage.delete.enabled) seeded with
// multi-arch indexes, BuildKit attestation children, cosign tags, referrers behind a fallback tag
// and aliases. A hand-written list of deletions goes through the OCI delete path of the engine's
// own adapter; a second discovery then must show exactly those tags and manifests gone and
// nothing else. The same registry with deletes off refuses, and the run says so instead of failing.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import type { Entity, Graph } from '../../src/model/graph.js';
import { renderChangeReport } from '../../src/output/change-report.js';
import { publish } from '../../src/publish.js';
import { openAdapter } from '../../src/registries/open-adapter.js';
import type { RegistryAdapter } from '../../src/registries/registry-adapter.js';
import { applyPlan, type Deletion } from '../../src/retention/apply.js';
import { Secrets } from '../../src/secrets.js';
import { plainRegistryConfig } from '../support/config-text.js';
import { type DiscoverTextOptions, discoverText } from '../support/discover-text.js';
import { pushRepository } from '../support/push-content.js';
import {
  DEFAULT_USERS,
  type RunningRegistry,
  registryAvailable,
  startRegistry,
} from '../support/registry-process.js';
import {
  cosignTag,
  fallbackTag,
  SUPPLY_CHAIN_IMAGES,
  type SupplyChainImage,
  supplyChainRepository,
} from '../support/supply-chain-content.js';

if (!registryAvailable()) {
  throw new Error('/usr/bin/docker-registry is missing: install the Debian package docker-registry');
}

const { content, facts } = supplyChainRepository('retention/app');
// Aliases: one on an image that goes (its digest takes it along), one on an image that stays.
content.tags['legacy-latest'] = facts.images.legacy.digest;
content.tags['unsigned-stable'] = facts.images.unsigned.digest;
const USER = 'alice';

const ORIGIN = 'retention apply test config';
const ENV = { REGISTRY_PASSWORD: DEFAULT_USERS[USER] };

function configFor(registry: RunningRegistry, retention?: string): string {
  return plainRegistryConfig(registry.url, {
    name: 'seeded',
    lines: [`username: ${USER}`, 'password: ${REGISTRY_PASSWORD}'],
    retention,
  });
}

function settingsFor(registry: RunningRegistry, secrets: Secrets) {
  return loadConfig(configFor(registry), { env: ENV, secrets, origin: ORIGIN });
}

/** A discovery of the seeded provider as the CLI makes one, with `retention` and the run's `options`. */
function discoverSeeded(registry: RunningRegistry, retention?: string, options: DiscoverTextOptions = {}) {
  return discoverText(configFor(registry, retention), {
    env: ENV,
    origin: ORIGIN,
    http: new HttpClient(),
    generatedAt: '2026-01-01T00:00:00Z',
    ...options,
  });
}

async function discover(registry: RunningRegistry): Promise<Graph> {
  return (await discoverSeeded(registry)).graph.load();
}

/** Runs `fn` with the engine's adapter for the seeded provider, and the requests it made by kind. */
async function withAdapter<T>(
  registry: RunningRegistry,
  fn: (adapter: RegistryAdapter) => Promise<T>,
): Promise<{ value: T; counts: Record<string, number> }> {
  const secrets = new Secrets();
  const http = new HttpClient();
  try {
    const [settings] = settingsFor(registry, secrets).providers;
    const adapter = await openAdapter({
      settings: settings!,
      http,
      secrets,
      log: silentLog,
      ambient: { env: {} },
    });
    http.counts.clear();
    const value = await fn(adapter);
    return { value, counts: Object.fromEntries(http.counts) };
  } finally {
    await http.close();
  }
}

const tagsOf = (digest: string) =>
  Object.entries(content.tags)
    .filter(([, d]) => d === digest)
    .map(([t]) => t)
    .sort();

/**
 * What a plan deleting whole images lists, written out from the fixture's facts: each index with
 * every tag on it, then its platform manifests and BuildKit attestation children (after the
 * index), then every accessory of the index or of a platform (after what it refers to).
 */
function deletionsFor(images: SupplyChainImage[]): Deletion[] {
  const out: Deletion[] = [];
  const del = (digest: string, after: string[]): Deletion => ({
    provider: 'seeded',
    repository: facts.repository,
    digest,
    tags: tagsOf(digest),
    reason: 'hand-written test plan',
    bytes: content.manifests.find((m) => m.digest === digest)!.bytes.length,
    after,
  });
  for (const name of images) {
    const img = facts.images[name];
    const platforms = Object.values(img.platforms);
    out.push(del(img.digest, []));
    for (const p of platforms) out.push(del(p, [img.digest]));
    for (const a of img.attestationChildren) out.push(del(a, [img.digest, facts.manifests[a]!.subject!]));
    for (const m of Object.values(facts.manifests)) {
      if (m.storedAs === 'attestation-child' || !m.subject) continue;
      if (m.subject === img.digest || platforms.includes(m.subject)) out.push(del(m.digest, [m.subject]));
    }
  }
  return out;
}

const kind = (g: Graph, k: string): Entity[] => g.entities.filter((e) => e.kind === k);
const imageTags = (g: Graph) =>
  kind(g, 'DockerImage')
    .map((e) => String(e.spec.tag))
    .sort();
const manifestDigests = (g: Graph) =>
  kind(g, 'DockerManifest')
    .map((e) => String(e.spec.digest))
    .sort();

async function listedTags(registry: RunningRegistry): Promise<string[]> {
  const { value } = await withAdapter(registry, (a) => a.listTags(facts.repository, { requests: 0 }));
  return [...value.items].sort();
}

describe('apply on the real registry with deletes enabled', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushRepository(registry, content, { username: USER, password: DEFAULT_USERS[USER]! });
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('deletes exactly the planned manifests and tags, in order, one request each', async () => {
    const before = await discover(registry);
    const tagsBefore = await listedTags(registry);
    expect(tagsBefore).toEqual(Object.keys(content.tags).sort());
    const deletions = deletionsFor(['legacy', 'buildkit']);
    // The hand-written plan covers what the issue asks for: aliases, a multi-arch index with its
    // attestation children, cosign signature tags, referrers behind a fallback tag.
    const goneTags = deletions.flatMap((d) => d.tags).sort();
    expect(goneTags).toEqual(
      [
        'legacy',
        'legacy-latest',
        cosignTag(facts.images.legacy.digest, 'sig'),
        cosignTag(facts.images.legacy.digest, 'att'),
        cosignTag(facts.images.legacy.digest, 'sbom'),
        'buildkit',
        fallbackTag(facts.images.buildkit.digest),
      ].sort(),
    );
    expect(deletions.some((d) => facts.manifests[d.digest]?.storedAs === 'attestation-child')).toBe(true);
    expect(deletions.some((d) => facts.manifests[d.digest]?.role === 'signature')).toBe(true);

    const { value: result, counts } = await withAdapter(registry, (adapter) =>
      applyPlan(deletions, () => adapter),
    );
    expect(result.messages).toEqual([]);
    expect(result.counts).toEqual({ deleted: deletions.length, refused: 0, failed: 0, skipped: 0 });
    expect(result.journal.every((e) => e.requests >= 1)).toBe(true);
    // Apply cost: one DELETE per deletion; the token for the delete scope is minted once.
    expect(counts).toEqual({ delete: deletions.length, token: 1 });
    // Every index went before its children, every subject before what refers to it.
    const position = new Map(result.journal.map((e, i) => [e.digest, i]));
    for (const d of deletions)
      for (const a of d.after) expect(position.get(a)!).toBeLessThan(position.get(d.digest)!);

    const gone = new Set(deletions.map((d) => d.digest));
    expect(await listedTags(registry)).toEqual(tagsBefore.filter((t) => !goneTags.includes(t)));
    const after = await discover(registry);
    expect(after.receipts.map((r) => r.complete)).toEqual([true]);
    expect(imageTags(after)).toEqual(imageTags(before).filter((t) => !goneTags.includes(t)));
    expect(manifestDigests(after)).toEqual(manifestDigests(before).filter((d) => !gone.has(d)));
    expect(imageTags(after)).toContain('unsigned-stable');
  }, 60_000);
});

describe('apply on the real registry with deletes disabled', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token', deletes: false });
    await pushRepository(registry, content, { username: USER, password: DEFAULT_USERS[USER]! });
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('asks once, reports the refusal with the registry words and deletes nothing', async () => {
    const tagsBefore = await listedTags(registry);
    const deletions = deletionsFor(['unsigned']);
    const { value: result, counts } = await withAdapter(registry, (adapter) =>
      applyPlan(deletions, () => adapter),
    );
    expect(counts.delete).toBe(1);
    expect(result.counts).toEqual({ deleted: 0, refused: 1, failed: 0, skipped: deletions.length - 1 });
    const [refused] = result.journal.filter((e) => e.answer === 'refused');
    expect(refused).toMatchObject({ digest: facts.images.unsigned.digest, status: 405 });
    expect(refused?.detail).toMatch(/does not allow deletes \(HTTP 405: UNSUPPORTED/);
    expect(refused?.detail).toContain('storage.delete.enabled: true');
    expect(result.messages).toEqual([
      `seeded: the registry does not allow deletes, so nothing more was asked of it: ${refused?.detail}`,
    ]);
    expect(await listedTags(registry)).toEqual(tagsBefore);
  }, 60_000);

  it('a run whose deletes are refused keeps everything in its graph, receipts as discovered', async () => {
    const before = await discover(registry);
    const run = await discoverSeeded(registry, `{ keep_newest: ${SUPPLY_CHAIN_IMAGES.length - 2} }`, {
      applyRetention: {},
    });
    expect(run.retention!.applied!.counts.refused).toBe(1);
    expect(run.retention!.applied!.counts.deleted).toBe(0);
    const graph = run.graph.load();
    run.graph.close();
    expect(graph.entities).toEqual(before.entities);
    expect(graph.relations).toEqual(before.relations);
    expect(graph.receipts[0]!.deleted_by_retention).toBeUndefined();
  }, 60_000);
});

describe('retention apply in a run: its graph says what the registry holds now', () => {
  let registry: RunningRegistry;
  let dir: string;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushRepository(registry, content, { username: USER, password: DEFAULT_USERS[USER]! });
    dir = await mkdtemp(join(tmpdir(), 'dg-apply-graph-'));
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A run as the CLI makes it, with a state directory so each run is compared with the last. */
  function run(retention?: string, applyRetention?: { maxDeletions?: number }) {
    return discoverSeeded(registry, retention, { stateDir: join(dir, 'state'), applyRetention });
  }

  it("the run's graph.json equals a fresh discovery's; the change report calls the deleted tags removed", async () => {
    const before = (await run()).graph.load();
    const applying = await run(`{ keep_newest: ${SUPPLY_CHAIN_IMAGES.length - 2} }`, {});
    const applied = applying.retention!.applied!;
    const deleted = applied.journal.filter((e) => e.answer === 'deleted');
    expect(deleted.length).toBeGreaterThan(0);
    expect(applied.counts).toMatchObject({ refused: 0, failed: 0, skipped: 0 });
    const imageTagsBefore = new Set(imageTags(before));
    const goneImages = deleted.flatMap((e) => e.tags.filter((t) => imageTagsBefore.has(t))).sort();
    expect(goneImages.length).toBeGreaterThan(0);
    // Some of what went is not an image: platform manifests, attestations, signatures.
    expect(deleted.some((e) => e.tags.length === 0)).toBe(true);

    const out = join(dir, 'out');
    const published = await publish(applying, {
      outputDir: out,
      secrets: new Secrets(),
      log: silentLog,
      merged: false,
    });
    applying.graph.close();
    const written = JSON.parse(await readFile(published.graphPath, 'utf8')) as Graph;

    const freshRun = await run();
    const fresh = freshRun.graph.load();
    freshRun.graph.close();
    expect(imageTags(fresh)).toEqual(imageTags(before).filter((t) => !goneImages.includes(t)));
    expect(written.entities).toEqual(fresh.entities);
    expect(written.relations).toEqual(fresh.relations);

    // The receipt is the one discovery wrote, counting what the apply took out.
    const [receipt] = written.receipts;
    const { requests: _r, deleted_by_retention, ...asDiscovered } = receipt!;
    const { requests: _b, ...discoveredBefore } = before.receipts[0]!;
    expect(deleted_by_retention).toBe(deleted.length);
    expect(asDiscovered).toEqual(discoveredBefore);

    // Compared with the run before, the deleted tags are removed, nothing else changed; the next
    // run, compared with what the apply run kept, finds nothing changed.
    const changes = applying.changes!;
    expect(changes.removedTags.map((t) => t.tag).sort()).toEqual(goneImages);
    expect([...changes.newTags, ...changes.movedTags, ...changes.unverified]).toEqual([]);
    expect(renderChangeReport(changes)).toContain(goneImages[0]);
    const next = freshRun.changes!;
    expect([...next.removedTags, ...next.newTags, ...next.movedTags]).toEqual([]);
  }, 60_000);
});
