// retention-plan.json read back (a shard's, for merge) and the plans of several runs put together
// into the report one run over all their repositories would have written.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ApplyResult } from './apply.js';
import { comparePlans, type RetentionReport } from './retention-planner.js';

const count = z.number().int().nonnegative();
const digest = z.string().regex(/^[a-z0-9]+:[a-f0-9]+$/);
const tags = z.array(z.string());
const role = z.enum(['index', 'image', 'signature', 'attestation', 'sbom', 'artifact']);

const planSchema = z.object({
  provider: z.string(),
  registry: z.string(),
  repository: z.string(),
  skipped: z.string().optional(),
  deletions: z.array(
    z.object({
      repository: z.string(),
      digest,
      tags,
      role,
      cause: z.enum(['rules', 'untagged', 'lifecycle', 'index_deleted', 'subject_deleted', 'orphan']),
      reason: z.string(),
      with: z.string().optional(),
      bytes_reclaimed: count,
    }),
  ),
  protected: z.array(
    z.object({
      repository: z.string(),
      digest,
      tags,
      role,
      wanted: z.string(),
      why: z.array(z.object({ by: z.string(), detail: z.string() })),
    }),
  ),
  blast_radius: z.array(
    z.object({ kind: z.string(), digest, tags, role, detail: z.string(), because: z.string().optional() }),
  ),
  reclaimable_bytes: count,
  notes: z.array(z.string()),
});

const journalSchema = z.object({
  provider: z.string(),
  repository: z.string(),
  digest: z.string(),
  tags,
  bytes: count,
  reason: z.string(),
  answer: z.enum(['deleted', 'refused', 'failed', 'skipped']),
  detail: z.string().optional(),
  status: z.number().int().optional(),
  at: z.string().optional(),
  requests: count,
});

const reportSchema = z.object({
  plans: z.array(planSchema),
  deletions: count,
  reclaimable_bytes: count,
  skipped: count,
  applied: z
    .object({
      journal: z.array(journalSchema),
      counts: z.object({ deleted: count, refused: count, failed: count, skipped: count }),
      bytesDeleted: count,
      messages: z.array(z.string()),
      stopped: z.string().optional(),
    })
    .optional(),
});

export type PlanFileRead = { report: RetentionReport } | { missing: true } | { error: string };

/**
 * A retention-plan.json as this tool writes it. The schema vouches for its shape; what is kept is
 * the file's own JSON, so the plans are written out again with their members in the order they
 * were written (a schema's output orders them its own way).
 */
export async function readPlanFile(path: string): Promise<PlanFileRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { missing: true };
    return { error: `cannot read it (${code ?? String(err)})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { error: `not valid JSON (${(err as Error).message})` };
  }
  const checked = reportSchema.safeParse(json);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    return {
      error: `not a retention plan: ${issue.path.join('.') || 'the document'}: ${issue.message}`,
    };
  }
  return { report: json as RetentionReport };
}

/**
 * The report one run over every repository of `reports` would have written: their plans in one
 * list, the totals over them, and the applies' journals one after the other, in the order given.
 */
export function combineReports(reports: readonly RetentionReport[]): RetentionReport {
  const plans = reports.flatMap((r) => r.plans).sort(comparePlans);
  const applies = reports.flatMap((r) => (r.applied ? [r.applied] : []));
  return {
    plans,
    deletions: plans.reduce((n, p) => n + p.deletions.length, 0),
    reclaimable_bytes: plans.reduce((n, p) => n + p.reclaimable_bytes, 0),
    skipped: plans.filter((p) => p.skipped).length,
    ...(applies.length > 0 ? { applied: combineApplies(applies) } : {}),
  };
}

function combineApplies(applies: readonly ApplyResult[]): ApplyResult {
  const counts = { deleted: 0, refused: 0, failed: 0, skipped: 0 };
  for (const a of applies)
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += a.counts[k];
  const stopped = applies.flatMap((a) => (a.stopped ? [a.stopped] : []));
  return {
    journal: applies.flatMap((a) => a.journal),
    counts,
    bytesDeleted: applies.reduce((n, a) => n + a.bytesDeleted, 0),
    messages: applies.flatMap((a) => a.messages),
    ...(stopped.length > 0 ? { stopped: stopped.join(' ') } : {}),
  };
}
