import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntry } from './apply.js';
import type { RetentionPlan } from './plan.js';
import { combineReports, readPlanFile } from './plan-file.js';
import type { RetentionReport } from './retention-planner.js';

const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function plan(provider: string, repository: string, bytes: number[], skipped?: string): RetentionPlan {
  return {
    provider,
    registry: `https://${provider}.example`,
    repository,
    ...(skipped ? { skipped } : {}),
    deletions: bytes.map((b, i) => ({
      repository,
      digest: D(i + 1),
      tags: [`t${i}`],
      role: 'image' as const,
      cause: 'rules' as const,
      reason: 'keep_newest 1',
      bytes_reclaimed: b,
    })),
    protected: [],
    blast_radius: [],
    reclaimable_bytes: bytes.reduce((a, b) => a + b, 0),
    notes: [],
  };
}

function entry(repository: string, answer: JournalEntry['answer'], bytes: number): JournalEntry {
  return { provider: 'hub', repository, digest: D(1), tags: [], bytes, reason: 'r', answer, requests: 1 };
}

describe('combineReports', () => {
  it('gives the report one run over every repository gives: plans in order, totals over them', () => {
    const a: RetentionReport = {
      plans: [plan('hub', 'zeta', [10, 5]), plan('hub', 'alpha', [], 'incomplete')],
      deletions: 2,
      reclaimable_bytes: 15,
      skipped: 1,
    };
    const b: RetentionReport = {
      plans: [plan('acr', 'web', [7]), plan('hub', 'mid', [1])],
      deletions: 2,
      reclaimable_bytes: 8,
      skipped: 0,
    };
    const combined = combineReports([a, b]);
    expect(combined.plans.map((p) => `${p.provider}/${p.repository}`)).toEqual([
      'acr/web',
      'hub/alpha',
      'hub/mid',
      'hub/zeta',
    ]);
    expect(combined).toMatchObject({ deletions: 4, reclaimable_bytes: 23, skipped: 1 });
    expect(combined.applied).toBeUndefined();
    expect(combineReports([])).toEqual({ plans: [], deletions: 0, reclaimable_bytes: 0, skipped: 0 });
  });

  it('puts the shards’ journals one after the other and adds up what they did', () => {
    const applied = (journal: JournalEntry[], stopped?: string): RetentionReport['applied'] => ({
      journal,
      counts: {
        deleted: journal.filter((e) => e.answer === 'deleted').length,
        refused: journal.filter((e) => e.answer === 'refused').length,
        failed: 0,
        skipped: journal.filter((e) => e.answer === 'skipped').length,
      },
      bytesDeleted: journal.filter((e) => e.answer === 'deleted').reduce((n, e) => n + e.bytes, 0),
      messages: stopped ? [stopped] : ['one held back'],
      ...(stopped ? { stopped } : {}),
    });
    const first = applied([entry('a', 'deleted', 3), entry('a', 'refused', 4)]);
    const second = applied([entry('b', 'skipped', 9)], 'over max-deletions');
    const combined = combineReports([
      { plans: [], deletions: 0, reclaimable_bytes: 0, skipped: 0, applied: first },
      { plans: [], deletions: 0, reclaimable_bytes: 0, skipped: 0 },
      { plans: [], deletions: 0, reclaimable_bytes: 0, skipped: 0, applied: second },
    ]);
    expect(combined.applied).toEqual({
      journal: [...first!.journal, ...second!.journal],
      counts: { deleted: 1, refused: 1, failed: 0, skipped: 1 },
      bytesDeleted: 3,
      messages: ['one held back', 'over max-deletions'],
      stopped: 'over max-deletions',
    });
  });
});

describe('readPlanFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dg-plan-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the file as written, says when there is none, and names what is wrong', async () => {
    const report: RetentionReport = {
      plans: [plan('hub', 'app', [4])],
      deletions: 1,
      reclaimable_bytes: 4,
      skipped: 0,
    };
    const path = join(dir, 'retention-plan.json');
    await writeFile(path, JSON.stringify(report, null, 2));
    const read = await readPlanFile(path);
    expect(read).toEqual({ report });
    expect(JSON.stringify((read as { report: RetentionReport }).report)).toBe(JSON.stringify(report));
    expect(await readPlanFile(join(dir, 'none.json'))).toEqual({ missing: true });
    await writeFile(path, '{"plans": ');
    expect(await readPlanFile(path)).toMatchObject({ error: expect.stringMatching(/^not valid JSON/) });
    await writeFile(path, JSON.stringify({ ...report, deletions: -1 }));
    expect(await readPlanFile(path)).toMatchObject({
      error: expect.stringMatching(/^not a retention plan: deletions: /),
    });
  });
});
