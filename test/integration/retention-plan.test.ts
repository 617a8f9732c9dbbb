// Issue 17, the plan end to end: the real registry seeded with multi-arch images, their
// attestations and signatures, discovered with a `retention:` selector; retention-plan.json and the
// outputs as the shells publish them, and storage in the graph.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { Storage } from '../../src/graph/storage-ledger.js';
import { HttpClient } from '../../src/http/http-client.js';
import { silentLog } from '../../src/log.js';
import type { Entity } from '../../src/model/graph.js';
import { formatBytes } from '../../src/output/summary-markdown.js';
import { publish } from '../../src/publish.js';
import { parseInUse } from '../../src/retention/in-use.js';
import { Secrets } from '../../src/secrets.js';
import { retentionConfig } from '../support/config-text.js';
import { discoverText } from '../support/discover-text.js';
import { pushRepository } from '../support/push-content.js';
import { type RunningRegistry, registryAvailable, startRegistry } from '../support/registry-process.js';
import { SUPPLY_CHAIN_IMAGES, supplyChainRepository } from '../support/supply-chain-content.js';

if (!registryAvailable()) {
  throw new Error('/usr/bin/docker-registry is missing: install the Debian package docker-registry');
}

const { content, facts } = supplyChainRepository();

function discover(
  registry: RunningRegistry,
  retention: string,
  inUse?: string,
  applyRetention?: { maxDeletions?: number },
) {
  return discoverText(retentionConfig(registry.url, retention), {
    origin: 'retention test config',
    http: new HttpClient(),
    generatedAt: '2026-01-01T00:00:00Z',
    inUse: inUse ? parseInUse(inUse) : undefined,
    applyRetention,
  });
}

describe('retention plan end to end (issue 17)', () => {
  let registry: RunningRegistry;
  let out: string;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'open' });
    await pushRepository(registry, content);
    out = await mkdtemp(join(tmpdir(), 'dg-retention-'));
  }, 60_000);
  afterAll(async () => {
    registry?.stop();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('keep_newest deletes the oldest image with its platforms and accessories, and says what it frees', async () => {
    const run = await discover(registry, `{ keep_newest: ${SUPPLY_CHAIN_IMAGES.length - 1} }`);
    const graph = run.graph.load();
    const images = graph.entities.filter((e) => e.kind === 'DockerImage');
    const earliest = images.map((i) => String(i.spec.created)).sort()[0];
    const report = run.retention!;
    expect(report.plans).toHaveLength(1);
    const [plan] = report.plans;
    expect(plan!.skipped).toBeUndefined();
    // One of the oldest images' index goes first, then what it alone holds: its platform
    // manifests and every accessory that refers to it or to them.
    const gone = new Set(plan!.deletions.map((d) => d.digest));
    const oldest = images.find((i) => i.spec.digest === plan!.deletions[0]!.digest)!;
    expect(oldest.spec.created).toBe(earliest);
    const manifests = graph.entities.filter((e) => e.kind === 'DockerManifest');
    const platforms = (digest: unknown) =>
      graph.relations
        .filter((r) => r.relation === 'USES' && r.source.name === oldest.metadata.name)
        .map((r) => manifests.find((m) => m.metadata.name === r.target.name)!.spec.digest)
        .filter((d) => d !== digest);
    for (const d of platforms(oldest.spec.digest)) expect(gone.has(d as string)).toBe(true);
    const referring = (digests: Set<unknown>) =>
      manifests.filter((m: Entity) => m.spec.subject !== undefined && digests.has(m.spec.subject));
    for (const a of referring(new Set([oldest.spec.digest, ...platforms(oldest.spec.digest)])))
      expect(gone.has(a.spec.digest as string)).toBe(true);
    // Nothing of another image is touched.
    for (const img of images.filter((i) => i !== oldest))
      expect(gone.has(img.spec.digest as string)).toBe(false);
    expect(plan!.reclaimable_bytes).toBeGreaterThan(0);
    expect(report.deletions).toBe(plan!.deletions.length);

    expect(run.summary).toMatch(/Retention plan: \d+ manifest deletions over 1 repositories would free/);

    // Storage is in the graph, per repository and for the registry (each figure is asserted to the
    // byte in storage.test.ts), and the summary's storage table says what the plan frees.
    const repository = graph.entities.find((e) => e.kind === 'DockerRepository')!;
    const storage = repository.spec.storage as Storage;
    expect(storage.partial).toBe(false);
    expect(storage.total_bytes).toBeGreaterThanOrEqual(plan!.reclaimable_bytes);
    expect(storage.unique_bytes).toBe(storage.total_bytes);
    expect(graph.entities.find((e) => e.kind === 'DockerRegistry')!.spec.storage).toEqual(storage);
    const frees = formatBytes(plan!.reclaimable_bytes);
    expect(run.summary).toContain(
      '| Registry | Repository | Total | Unique | Shared | Retention plan frees |',
    );
    expect(run.summary).toContain(
      `| ${plan!.provider} | ${repository.spec.full_name} | ${formatBytes(storage.total_bytes)} | ${formatBytes(storage.total_bytes)} | 0 B | ${frees} |`,
    );

    // Published as retention-plan.json and two outputs; nothing was deleted.
    const outputs: Record<string, string> = {};
    const secrets = new Secrets();
    const published = await publish(run, {
      outputDir: out,
      secrets,
      log: silentLog,
      merged: false,
      ports: { setOutput: (name, value) => (outputs[name] = value) },
    });
    const written = JSON.parse(await readFile(published.retentionPath!, 'utf8')) as typeof report;
    expect(written.plans[0]!.deletions.map((d) => d.digest)).toEqual(plan!.deletions.map((d) => d.digest));
    expect(outputs['retention-deletions']).toBe(String(report.deletions));
    expect(outputs['retention-reclaimable-bytes']).toBe(String(report.reclaimable_bytes));
    const again = await discover(registry, '{ keep_newest: 100 }');
    expect(again.graph.load().entities.filter((e) => e.kind === 'DockerImage')).toHaveLength(images.length);
    expect(again.retention!.deletions).toBe(0);
  });

  it('an image named in the in-use file is protected, by tag or by digest', async () => {
    const run = await discover(
      registry,
      '{ keep_newest: 0, keep_tags: ["^unsigned$"] }',
      `${new URL(registry.url).host}/${facts.repository}:legacy\n${facts.repository}@${facts.images.bundle.digest}\n`,
    );
    const plan = run.retention!.plans[0]!;
    const gone = new Set(plan.deletions.map((d) => d.digest));
    expect(gone.has(facts.images.legacy.digest)).toBe(false);
    expect(gone.has(facts.images.bundle.digest)).toBe(false);
    expect(gone.has(facts.images.unsigned.digest)).toBe(false);
    expect(gone.has(facts.images['half-signed'].digest)).toBe(true);
    const why = plan.protected.filter((p) => p.digest === facts.images.bundle.digest);
    expect(why.length).toBeGreaterThan(0);
  });

  it('max-deletions below the plan deletes nothing and says so', async () => {
    const run = await discover(registry, '{ keep_newest: 1 }', undefined, { maxDeletions: 1 });
    const applied = run.retention!.applied!;
    expect(applied.counts.deleted).toBe(0);
    expect(applied.stopped).toMatch(/max-deletions/);
    const again = await discover(registry, '{ keep_newest: 100 }');
    expect(again.graph.load().entities.filter((e) => e.kind === 'DockerImage')).toHaveLength(
      SUPPLY_CHAIN_IMAGES.length,
    );
  });

  it('retention apply deletes exactly what the plan lists: a second discovery shows it gone and nothing else', async () => {
    const before = await discover(registry, '{ keep_newest: 100 }');
    const beforeGraph = before.graph.load();
    const run = await discover(registry, `{ keep_newest: ${SUPPLY_CHAIN_IMAGES.length - 2} }`, undefined, {});
    const plan = run.retention!.plans[0]!;
    const applied = run.retention!.applied!;
    expect(applied.counts.deleted).toBe(plan.deletions.length);
    expect(applied.counts.refused + applied.counts.failed + applied.counts.skipped).toBe(0);
    expect(run.summary).toMatch(/Retention apply: \d+ deleted/);
    const gone = new Set(plan.deletions.map((d) => d.digest));
    const goneTags = new Set(plan.deletions.flatMap((d) => d.tags));
    const after = (await discover(registry, '{ keep_newest: 100 }')).graph.load();
    const digests = (g: typeof after, kind: string) =>
      g.entities.filter((e) => e.kind === kind).map((e) => String(e.spec.digest));
    const tags = (g: typeof after) =>
      g.entities.filter((e) => e.kind === 'DockerImage').map((e) => String(e.spec.tag));
    expect(tags(after).sort()).toEqual(
      tags(beforeGraph)
        .filter((t) => !goneTags.has(t))
        .sort(),
    );
    expect(digests(after, 'DockerManifest').sort()).toEqual(
      digests(beforeGraph, 'DockerManifest')
        .filter((d) => !gone.has(d))
        .sort(),
    );
    expect(after.receipts[0]!.accessory_tags).toBeLessThan(beforeGraph.receipts[0]!.accessory_tags!);
  });

  it('a broken ECR lifecycle policy stops the run before discovery, naming the field', async () => {
    await expect(
      discover(registry, '{ ecr_lifecycle_policy: { rules: [{ rulePriority: 0 }] } }'),
    ).rejects.toThrow(ConfigError);
    await expect(
      discover(registry, '{ ecr_lifecycle_policy: { rules: [{ rulePriority: 0 }] } }'),
    ).rejects.toThrow(/providers\[0\]\.config\.selectors\[0\]\.retention\.ecr_lifecycle_policy\.rules\[0\]/);
  });
});
