// graph.json as the action and the CLI publish it (graphDocument, writeGraphFile: indented,
// redacted, newline-terminated), written to a temporary file and read back, for tests that
// compare or parse the published text.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGraphFile } from '../../src/graph/graph-json.js';
import { asSource, type GraphSource, graphDocument } from '../../src/graph/graph-source.js';
import type { Graph } from '../../src/model/graph.js';
import type { Secrets } from '../../src/secrets.js';

export async function publishedGraphText(graph: Graph | GraphSource, secrets: Secrets): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dg-graph-'));
  try {
    const path = join(dir, 'graph.json');
    await writeGraphFile(path, graphDocument(asSource(graph)), (json) => secrets.redact(json));
    return await readFile(path, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
