// What the bench children share: their peak RSS, and graph.json written as the shells write it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { jsonPieces } from '../src/graph/graph-json.js';
import { type GraphSource, graphDocument } from '../src/graph/graph-source.js';
import type { Secrets } from '../src/secrets.js';

/**
 * Peak RSS of this process image: VmHWM from /proc/self/status. getrusage's maxRSS also counts
 * the pages of the parent it was forked from (Linux keeps the pre-exec high-water mark), so
 * beside a bench parent holding a large synthetic registry every child read as large as the parent.
 */
export function maxRssMb(): number {
  let kb = process.resourceUsage().maxRSS;
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) kb = Number(hwm[1]);
  } catch {
    // Not Linux: getrusage is what there is.
  }
  return Math.round((kb / 1024) * 10) / 10;
}

/**
 * graph.json's sha256, the file written to `out` when given: hashed and written piece by piece, as
 * the shells write it (one string of a large graph would be the peak being measured).
 */
export async function hashGraph(graph: GraphSource, secrets: Secrets, out?: string): Promise<string> {
  const hash = createHash('sha256');
  const pieces = function* () {
    for (const piece of jsonPieces(graphDocument(graph), (json) => secrets.redact(json), true)) {
      hash.update(piece);
      yield piece;
    }
  };
  if (out) await writeFile(out, pieces());
  else for (const _ of pieces());
  return hash.digest('hex');
}

/**
 * With BENCH_HEAP_PROFILE=<file>, starts sampling the allocations that only a full collection
 * frees (or that are still live at the end) and returns what stops it and writes
 * <file>.<pid>.heapprofile, for Chrome DevTools' Memory tab: what fills the old generation, and
 * so the peak RSS. Without it, both do nothing.
 */
export async function startHeapProfile(): Promise<() => Promise<void>> {
  const profile = process.env.BENCH_HEAP_PROFILE;
  if (!profile) return async () => {};
  const inspector = new Session();
  inspector.connect();
  await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 16384,
    // Garbage a young collection frees costs no RSS; what survives into the old generation does.
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  });
  return async () => {
    const sampled = await inspector.post('HeapProfiler.stopSampling');
    await writeFile(`${profile}.${process.pid}.heapprofile`, JSON.stringify(sampled.profile));
    inspector.disconnect();
  };
}
