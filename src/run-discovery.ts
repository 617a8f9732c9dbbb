// What the CLI and the action share: settings in, graph and summary out. The shells decide
// where files go and how progress is shown.
import type { Settings } from './config/settings.js';
import { discover } from './discovery/discover.js';
import { buildGraph } from './graph/build-graph.js';
import type { Graph } from './graph/types.js';
import { HttpClient } from './http/http-client.js';
import type { Log } from './log.js';
import { renderSummary } from './output/summary-markdown.js';
import type { Ambient } from './registries/registry-adapter.js';
import type { Secrets } from './secrets.js';
import { DirectoryState, NoState } from './state/state-store.js';

export interface RunOptions {
  secrets: Secrets;
  log: Log;
  stateDir?: string;
  concurrency?: number;
  /** Fixed generation time (SOURCE_DATE_EPOCH or tests), else now. */
  generatedAt?: string;
  http?: HttpClient;
  /** Environment, GITHUB_TOKEN and Docker's config file, as the shell found them. */
  ambient?: Ambient;
}

export interface RunResult {
  graph: Graph;
  summary: string;
  complete: boolean;
  requests: Record<string, number>;
}

export async function runDiscovery(settings: Settings, opts: RunOptions): Promise<RunResult> {
  const http = opts.http ?? new HttpClient();
  try {
    const result = await discover(settings, {
      http,
      state: opts.stateDir ? new DirectoryState(opts.stateDir) : new NoState(),
      secrets: opts.secrets,
      log: opts.log,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.ambient ? { ambient: opts.ambient } : {}),
    });
    const graph = buildGraph(result, opts.generatedAt ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const total = Object.values(result.requests).reduce((a, b) => a + b, 0);
    const byKind = Object.entries(result.requests)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const summary = opts.secrets.redact(
      renderSummary(graph, {
        notes: [
          ...result.providers.flatMap((pr) => pr.notes.map((n) => `${pr.settings.name}: ${n}`)),
          `Requests: ${total}${byKind ? ` (${byKind})` : ''}.`,
        ],
      }),
    );
    return { graph, summary, complete: graph.receipts.every((r) => r.complete), requests: result.requests };
  } finally {
    if (!opts.http) await http.close();
  }
}

/** SOURCE_DATE_EPOCH (seconds) as an RFC 3339 time, for reproducible output. */
export function generatedAtFromEnv(env: Record<string, string | undefined>): string | undefined {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (!epoch || !/^\d+$/.test(epoch)) return undefined;
  return new Date(Number(epoch) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The graph file's text: stable key order as built, two-space indent, trailing newline. */
export function serializeGraph(graph: Graph, secrets: Secrets): string {
  return secrets.redact(`${JSON.stringify(graph, null, 2)}\n`);
}
