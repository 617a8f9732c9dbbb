// Hands a built graph to Devgraph: read what the server holds, plan (reconcile.ts), then write in
// an order that never leaves the graph emptier than before a failure: definitions, entity
// upserts, new relations, stale relations, deleted entities. A failure never throws; the result
// says what was written and what was not, so the shell can warn and keep the artifact.

import type { HttpClient } from '../http/http-client.js';
import { mapLimit } from '../http/semaphore.js';
import type { Log } from '../log.js';
import type { Graph } from '../model/graph.js';
import type { Secrets } from '../secrets.js';
import { entityDefinitions, PLURALS } from './definitions.js';
import { DevgraphClient, DevgraphError } from './devgraph-client.js';
import {
  describePlan,
  normaliseServerRelation,
  type Plan,
  type PlanSummary,
  planUpload,
  relationSignature,
  summarizePlan,
} from './reconcile.js';
import type { ServerEntity, ServerRelation, WireEntity, WireRelation } from './wire.js';

export interface DevgraphUploadOptions {
  /** `devgraph-url`, e.g. https://api.devgraph.ai */
  url: string;
  /** `devgraph-token` */
  token: string;
  /** `devgraph-environment` (the Devgraph-Environment header) */
  environment?: string;
  /** `devgraph-dry-run`: read and plan, write nothing. */
  dryRun?: boolean;
  http: HttpClient;
  secrets: Secrets;
  log: Log;
  /** Time stamped on what is sent; defaults to now. */
  now?: string;
  /** Entities per listing page. */
  pageSize?: number;
  /** Relations per bulk call (Devgraph's providers send at most 100). */
  relationBatchSize?: number;
  /** Entities per bulk upsert call. */
  entityBatchSize?: number;
  /**
   * Why nothing may be deleted this time, if nothing may: creates and updates go ahead, deletes
   * are kept. A merge of shard graphs sets it unless every shard's receipts are complete.
   */
  withholdDeletes?: string;
}

export interface WrittenCounts {
  definitions: number;
  entitiesCreated: number;
  entitiesUpdated: number;
  entitiesDeleted: number;
  relationsCreated: number;
  relationsDeleted: number;
}

export interface NotWrittenCounts {
  entities: number;
  entityDeletes: number;
  relations: number;
  relationDeletes: number;
}

export interface DevgraphUploadResult {
  /** True when everything planned was written (or, in a dry run, planned). */
  ok: boolean;
  dryRun: boolean;
  /** Absent when the existing graph could not be read, so nothing could be planned. */
  plan?: PlanSummary;
  written: WrittenCounts;
  notWritten: NotWrittenCounts;
  /** Clear, token-free messages, one per failure. */
  errors: string[];
  /** What to show a person: the plan, then what happened. Token-free. */
  report: string[];
}

const DEFAULT_PAGE_SIZE = 500;
const MAX_RELATION_BATCH = 100;
const DEFAULT_ENTITY_BATCH = 250;
const DELETES_IN_FLIGHT = 4;
const MAX_ERRORS = 25;

export async function uploadToDevgraph(
  discovered: Graph,
  opts: DevgraphUploadOptions,
): Promise<DevgraphUploadResult> {
  // What Devgraph stores is what graph.json shows: a credential that surfaced in registry data
  // (a label, a description) goes out masked, never in the clear.
  const graph = JSON.parse(opts.secrets.redact(JSON.stringify(discovered))) as Graph;
  const dryRun = !!opts.dryRun;
  const written: WrittenCounts = {
    definitions: 0,
    entitiesCreated: 0,
    entitiesUpdated: 0,
    entitiesDeleted: 0,
    relationsCreated: 0,
    relationsDeleted: 0,
  };
  const notWritten: NotWrittenCounts = { entities: 0, entityDeletes: 0, relations: 0, relationDeletes: 0 };
  const errors: string[] = [];
  const report: string[] = [];
  // A broken endpoint can fail hundreds of relations alike; the first ones tell the story.
  let suppressed = 0;
  const fail = (message: string) => {
    if (errors.length >= MAX_ERRORS) {
      suppressed++;
      return;
    }
    const clean = opts.secrets.redact(message);
    errors.push(clean);
    opts.log.warn(clean);
  };
  const finish = (plan?: PlanSummary): DevgraphUploadResult => {
    if (!dryRun && plan) {
      const line = describeWritten(written, notWritten);
      report.push(line);
      opts.log.info(line);
    }
    if (suppressed > 0) errors.push(`… and ${suppressed} more failures like these`);
    report.push(...errors.map((e) => `error: ${e}`));
    return {
      ok: errors.length === 0,
      dryRun,
      ...(plan ? { plan } : {}),
      written,
      notWritten,
      errors,
      report,
    };
  };

  // A shard graph lacks the other shards' repositories: reconciling it would delete them.
  if (graph.shard) {
    fail(
      `Devgraph: graph.json is shard ${graph.shard.index}/${graph.shard.count} of a sharded run; nothing was uploaded. Merge every shard's graph (devgraph-docker merge, or the action's merge-graphs input) and upload the merged graph`,
    );
    return finish();
  }
  const urlProblem = checkUrl(opts.url);
  if (urlProblem) {
    fail(urlProblem);
    return finish();
  }
  if (!opts.token) {
    fail('devgraph-token is empty; give a Devgraph API token to upload');
    return finish();
  }
  const client = new DevgraphClient({
    url: opts.url,
    token: opts.token,
    http: opts.http,
    secrets: opts.secrets,
    ...(opts.environment ? { environment: opts.environment } : {}),
  });
  const where = `${new URL(opts.url).host}${opts.environment ? ` (environment ${opts.environment})` : ''}`;

  let existing: { entities: ServerEntity[]; relations: ServerRelation[] };
  try {
    existing = await listAll(client, opts.pageSize ?? DEFAULT_PAGE_SIZE);
  } catch (err) {
    fail(`${messageOf(err)}; nothing was written to Devgraph`);
    return finish();
  }

  let plan: Plan;
  try {
    plan = planUpload({ graph, existing, now: opts.now ?? new Date().toISOString() });
  } catch (err) {
    fail(`Devgraph: cannot plan the upload: ${messageOf(err)}; nothing was written`);
    return finish();
  }
  let withheldRelations = 0;
  if (opts.withholdDeletes && (plan.delete.length > 0 || plan.relations.delete.length > 0)) {
    withheldRelations = plan.relations.delete.length;
    plan.kept.push(...plan.delete);
    plan.delete = [];
    plan.relations.delete = [];
  }
  const summary = summarizePlan(plan);
  report.push(
    `Devgraph ${dryRun ? 'dry run, nothing written' : 'upload'} to ${where}:`,
    ...describePlan(summary),
    ...(opts.withholdDeletes
      ? [
          `deletes withheld (${opts.withholdDeletes})${withheldRelations ? `: ${withheldRelations} relations not deleted` : ''}`,
        ]
      : []),
  );
  for (const line of report) opts.log.info(line);
  if (plan.kept.length > 0) {
    opts.log.info(
      `Devgraph: ${plan.kept.length} entities no longer seen are kept because their discovery was incomplete`,
    );
  }
  if (dryRun) return finish(summary);

  // A refused token or environment stops everything; whatever is left is counted as not written.
  // `quiet` failures are recovered by the caller (a relation batch retried one by one).
  let stopped = false;
  const attempt: Attempt = async (what, onFailure, quiet = false) => {
    if (stopped) {
      onFailure(undefined);
      return undefined;
    }
    try {
      return await what();
    } catch (err) {
      if (err instanceof DevgraphError && err.fatal) {
        if (!stopped) fail(`${err.message}; stopped writing`);
        stopped = true;
      } else if (quiet) {
        opts.log.warn(opts.secrets.redact(messageOf(err)));
      } else {
        fail(messageOf(err));
      }
      onFailure(err);
      return undefined;
    }
  };

  const registerDefinitions = async (): Promise<boolean> => {
    for (const definition of entityDefinitions()) {
      const created = await attempt(
        () => client.createDefinition(definition),
        () => {},
      );
      if (created === undefined) return false;
      if (created) written.definitions++;
    }
    return true;
  };
  try {
    // Definitions matter only to what is stored; an unchanged run sends nothing at all.
    const upserts = plan.create.length + plan.update.length;
    if (upserts > 0 && !(await registerDefinitions())) {
      notWritten.entities += plan.create.length + plan.update.length;
      notWritten.relations += plan.relations.create.length;
      notWritten.relationDeletes += plan.relations.delete.length;
      notWritten.entityDeletes += plan.delete.length;
      return finish(summary);
    }

    // Upserts, grouped the way the bulk endpoint takes them: one plural in one namespace per call.
    const creating = new Set(
      plan.create.map((e) => `${e.kind}\u0000${e.metadata.namespace}\u0000${e.metadata.name}`),
    );
    const groups = new Map<string, { namespace: string; plural: string; entities: WireEntity[] }>();
    for (const e of [...plan.create, ...plan.update]) {
      const plural = PLURALS[e.kind];
      const key = `${plural}\u0000${e.metadata.namespace}`;
      const group = groups.get(key) ?? { namespace: e.metadata.namespace, plural, entities: [] };
      group.entities.push(e);
      groups.set(key, group);
    }
    let definitionsRetried = false;
    for (const group of groups.values()) {
      for (const batch of chunks(group.entities, opts.entityBatchSize ?? DEFAULT_ENTITY_BATCH)) {
        const store = async () => {
          try {
            return await client.bulkUpsert(group.namespace, group.plural, batch);
          } catch (err) {
            // Definitions deleted since we registered them: register again once, as Devgraph's providers do.
            if (err instanceof DevgraphError && err.status === 404 && !definitionsRetried) {
              definitionsRetried = true;
              if (await registerDefinitions())
                return await client.bulkUpsert(group.namespace, group.plural, batch);
            }
            throw err;
          }
        };
        const result = await attempt(store, () => {
          notWritten.entities += batch.length;
        });
        if (!result) continue;
        const failed = new Set(result.failed.map((f) => f.name));
        for (const f of result.failed) {
          fail(`Devgraph: could not store ${group.plural} ${group.namespace}/${f.name}: ${f.error}`);
        }
        for (const e of batch) {
          if (failed.has(e.metadata.name)) notWritten.entities++;
          else if (creating.has(`${e.kind}\u0000${e.metadata.namespace}\u0000${e.metadata.name}`))
            written.entitiesCreated++;
          else written.entitiesUpdated++;
        }
      }
    }

    await createRelations(client, plan.relations.create, opts.relationBatchSize ?? MAX_RELATION_BATCH, {
      attempt,
      log: opts.log,
      onCreated: () => written.relationsCreated++,
      onNotCreated: () => notWritten.relations++,
    });

    await mapLimit(plan.relations.delete, DELETES_IN_FLIGHT, async (relation) => {
      const ok = await attempt(
        () => client.deleteRelation(relation),
        () => notWritten.relationDeletes++,
      );
      if (ok !== undefined) written.relationsDeleted++;
    });

    await mapLimit(plan.delete, DELETES_IN_FLIGHT, async (e) => {
      const ok = await attempt(
        () => client.deleteEntity(e.kind, e.namespace, e.name),
        () => notWritten.entityDeletes++,
      );
      if (ok !== undefined) written.entitiesDeleted++;
    });
  } catch (err) {
    // Only a bug gets here (every call is wrapped above); report it rather than throw past the shell.
    fail(`Devgraph upload stopped unexpectedly: ${messageOf(err)}`);
  }
  return finish(summary);
}

type Attempt = <T>(
  what: () => Promise<T>,
  onFailure: (err: unknown) => void,
  quiet?: boolean,
) => Promise<T | undefined>;

interface RelationHooks {
  attempt: Attempt;
  log: Log;
  onCreated: () => void;
  onNotCreated: () => void;
}

/**
 * Bulk calls per namespace in batches; a batch the server refuses, or only partly creates, is
 * retried one relation at a time so one bad relation does not cost the other 99.
 */
async function createRelations(
  client: DevgraphClient,
  relations: WireRelation[],
  batchSize: number,
  hooks: RelationHooks,
): Promise<void> {
  const byNamespace = new Map<string, WireRelation[]>();
  for (const r of relations) byNamespace.set(r.namespace, [...(byNamespace.get(r.namespace) ?? []), r]);
  const size = Math.max(1, Math.min(MAX_RELATION_BATCH, batchSize));
  for (const [namespace, list] of byNamespace) {
    for (const batch of chunks(list, size)) {
      let retry: WireRelation[] = [];
      let batchError: unknown;
      const result = await hooks.attempt(
        () => client.createRelationsBulk(namespace, batch),
        (err) => {
          batchError = err;
        },
        true,
      );
      if (result) {
        const created = new Set(result.created.map((r) => relationSignature(normaliseServerRelation(r))));
        retry = result.failureCount > 0 ? batch.filter((r) => !created.has(relationSignature(r))) : [];
        for (let i = 0; i < batch.length - retry.length; i++) hooks.onCreated();
      } else if (batchError instanceof DevgraphError && batchError.fatal) {
        for (const _ of batch) hooks.onNotCreated();
        continue;
      } else {
        retry = batch;
      }
      if (retry.length > 0) {
        hooks.log.info(`Devgraph: retrying ${retry.length} relations one by one after a failed batch`);
      }
      for (const relation of retry) {
        const done = await hooks.attempt(
          () => client.createRelation(relation).then(() => true),
          () => hooks.onNotCreated(),
        );
        if (done) hooks.onCreated();
      }
    }
  }
}

/**
 * Every page of `GET /entities/`. Devgraph's reference provider reads one page of 10000 and
 * treats everything beyond it as absent; we page on until a short page.
 */
async function listAll(
  client: DevgraphClient,
  pageSize: number,
): Promise<{ entities: ServerEntity[]; relations: ServerRelation[] }> {
  const entities = new Map<string, ServerEntity>();
  const relations: ServerRelation[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = await client.listEntities(offset, pageSize);
    let fresh = 0;
    for (const e of page.entities) {
      const key = `${e.kind}\u0000${e.metadata.namespace}\u0000${e.metadata.name}`;
      if (!entities.has(key)) fresh++;
      entities.set(key, e);
    }
    relations.push(...page.relations);
    // A server that ignores `offset` would repeat its first page forever.
    if (page.entities.length < pageSize || fresh === 0) break;
  }
  return { entities: [...entities.values()], relations };
}

function describeWritten(w: WrittenCounts, n: NotWrittenCounts): string {
  const done = `written: ${w.entitiesCreated} entities created, ${w.entitiesUpdated} updated, ${w.entitiesDeleted} deleted; ${w.relationsCreated} relations created, ${w.relationsDeleted} deleted${w.definitions ? `; ${w.definitions} definitions registered` : ''}`;
  const missing = n.entities + n.entityDeletes + n.relations + n.relationDeletes;
  if (missing === 0) return done;
  return `${done}. NOT written: ${n.entities} entity upserts, ${n.entityDeletes} entity deletes, ${n.relations} relation creates, ${n.relationDeletes} relation deletes`;
}

function checkUrl(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:' || u.protocol === 'http:') return undefined;
  } catch {
    // fall through
  }
  return `devgraph-url "${url}" is not an http(s) URL; use e.g. https://api.devgraph.ai`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
