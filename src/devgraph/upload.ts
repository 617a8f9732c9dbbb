// Hands a built graph to Devgraph: read what the server holds, plan (reconcile.ts), then write in
// an order that never leaves the graph emptier than before a failure: definitions, entity
// upserts, new relations, stale relations, deleted entities. A failure never throws; the result
// says what was written and what was not, so the shell can warn and keep the artifact. An entity
// the server did not store takes its relations with it: they are counted as not written, not sent.
import { asSource, type GraphSource } from '../graph/graph-source.js';
import type { HttpClient } from '../http/http-client.js';
import { mapLimit } from '../http/semaphore.js';
import type { Log } from '../log.js';
import type { Graph } from '../model/graph.js';
import type { Secrets } from '../secrets.js';
import { entityDefinitions, PLURALS } from './definitions.js';
import { DevgraphClient, DevgraphError } from './devgraph-client.js';
import { DEFAULT_PAGE_SIZE, walkEntityPages } from './entity-pages.js';
import {
  describePlan,
  entityKey,
  normaliseServerRelation,
  type PlanSummary,
  relationSignature,
  UploadPlan,
  type Upsert,
} from './reconcile.js';
import type { WireEntity, WireRelation } from './wire.js';

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

const MAX_RELATION_BATCH = 100;
const DEFAULT_ENTITY_BATCH = 250;
const DELETES_IN_FLIGHT = 4;
const MAX_ERRORS = 25;

/**
 * Uploads `discovered`, a graph in memory or one read as a stream (a discovery's spilled graph, a
 * graph file): the graph is read a few times, one entity at a time, and never held whole.
 */
export async function uploadToDevgraph(
  discovered: Graph | GraphSource,
  opts: DevgraphUploadOptions,
): Promise<DevgraphUploadResult> {
  const graph = asSource(discovered);
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

  // What Devgraph stores is what graph.json shows: a credential that surfaced in registry data
  // (a label, a description) goes out masked, never in the clear.
  const plan = new UploadPlan(graph, opts.now ?? new Date().toISOString(), (json) =>
    opts.secrets.redact(json),
  );
  try {
    await readExisting(client, plan, opts.pageSize ?? DEFAULT_PAGE_SIZE, fail);
  } catch (err) {
    fail(`${messageOf(err)}; nothing was written to Devgraph`);
    return finish();
  }

  let summary: PlanSummary;
  try {
    summary = plan.finish();
  } catch (err) {
    fail(`Devgraph: cannot plan the upload: ${messageOf(err)}; nothing was written`);
    return finish();
  }
  let withheldRelations = 0;
  if (opts.withholdDeletes && (plan.delete.length > 0 || plan.relationDeletes.length > 0))
    withheldRelations = plan.withholdDeletes();
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
  const totals = Object.values(summary.byKind);
  const upserts = totals.reduce((n, k) => n + k.create + k.update, 0);
  try {
    // Definitions matter only to what is stored; an unchanged run sends nothing at all.
    if (upserts > 0 && !(await registerDefinitions())) {
      notWritten.entities += upserts;
      notWritten.relations += summary.relations.create;
      notWritten.relationDeletes += plan.relationDeletes.length;
      notWritten.entityDeletes += plan.delete.length;
      return finish(summary);
    }

    // Entities the server did not store: a relation to one of them is not sent (it would fail).
    const unstored = new Set<string>();
    let definitionsRetried = false;
    const store = async (namespace: string, plural: string, batch: Upsert[]) => {
      const entities = batch.map((u) => u.entity);
      const send = async () => {
        try {
          return await client.bulkUpsert(namespace, plural, entities);
        } catch (err) {
          // Definitions deleted since we registered them: register again once, as Devgraph's providers do.
          if (err instanceof DevgraphError && err.status === 404 && !definitionsRetried) {
            definitionsRetried = true;
            if (await registerDefinitions()) return await client.bulkUpsert(namespace, plural, entities);
          }
          throw err;
        }
      };
      const result = await attempt(send, () => {
        notWritten.entities += batch.length;
        for (const u of batch) unstored.add(keyOf(u.entity));
      });
      if (!result) return;
      for (const problem of result.problems) fail(problem);
      const failed = new Set<string>();
      let unnamed = 0;
      for (const f of result.failed) {
        if (f.name === undefined) unnamed++;
        else failed.add(f.name);
        fail(`Devgraph: could not store ${plural} ${namespace}/${f.name ?? '(unnamed)'}: ${f.error}`);
      }
      for (const u of batch) {
        if (failed.has(u.entity.metadata.name)) {
          notWritten.entities++;
          unstored.add(keyOf(u.entity));
        } else if (u.create) written.entitiesCreated++;
        else written.entitiesUpdated++;
      }
      // A failure the server did not name is still one entity less stored; which one is unknown.
      for (let i = 0; i < unnamed; i++) {
        notWritten.entities++;
        if (written.entitiesUpdated > 0) written.entitiesUpdated--;
        else written.entitiesCreated--;
      }
    };
    // The bulk endpoint takes one plural in one namespace per call; the graph is in kind and
    // namespace order, so a batch is sent when it is full or the next entity belongs elsewhere.
    const batchSize = opts.entityBatchSize ?? DEFAULT_ENTITY_BATCH;
    let batch: Upsert[] = [];
    let group = '';
    for (const u of plan.upserts()) {
      const here = `${u.entity.kind}\u0000${u.entity.metadata.namespace}`;
      if (batch.length > 0 && (here !== group || batch.length >= batchSize)) {
        const first = batch[0]!.entity;
        await store(first.metadata.namespace, PLURALS[first.kind], batch);
        batch = [];
      }
      group = here;
      batch.push(u);
    }
    if (batch.length > 0) {
      const first = batch[0]!.entity;
      await store(first.metadata.namespace, PLURALS[first.kind], batch);
    }

    let skipped = 0;
    const sendable = function* (relations: Iterable<WireRelation>): Generator<WireRelation> {
      for (const r of relations) {
        if (
          unstored.size > 0 &&
          (unstored.has(entityKey(r.source.kind, r.source.namespace, r.source.name)) ||
            unstored.has(entityKey(r.target.kind, r.target.namespace, r.target.name)))
        ) {
          skipped++;
          continue;
        }
        yield r;
      }
    };
    await createRelations(
      client,
      sendable(plan.relationCreates()),
      opts.relationBatchSize ?? MAX_RELATION_BATCH,
      {
        attempt,
        log: opts.log,
        fail,
        onCreated: () => written.relationsCreated++,
        onNotCreated: () => notWritten.relations++,
      },
    );
    if (skipped > 0) {
      notWritten.relations += skipped;
      const line = `Devgraph: ${skipped} relations not sent because an entity they join was not stored (see the errors above)`;
      report.push(line);
      opts.log.info(line);
    }

    await mapLimit(plan.relationDeletes, DELETES_IN_FLIGHT, async (relation) => {
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
  fail: (message: string) => void;
  onCreated: () => void;
  onNotCreated: () => void;
}

/**
 * Bulk calls per namespace in batches, each sent once full; a batch the server refuses, or only
 * partly creates, is retried one relation at a time so one bad relation does not cost the other 99.
 */
async function createRelations(
  client: DevgraphClient,
  relations: Iterable<WireRelation>,
  batchSize: number,
  hooks: RelationHooks,
): Promise<void> {
  const size = Math.max(1, Math.min(MAX_RELATION_BATCH, batchSize));
  const open = new Map<string, WireRelation[]>();
  for (const r of relations) {
    let batch = open.get(r.namespace);
    if (!batch) {
      batch = [];
      open.set(r.namespace, batch);
    }
    batch.push(r);
    if (batch.length >= size) {
      open.delete(r.namespace);
      await createBatch(client, r.namespace, batch, hooks);
    }
  }
  for (const [namespace, batch] of open) await createBatch(client, namespace, batch, hooks);
}

async function createBatch(
  client: DevgraphClient,
  namespace: string,
  batch: WireRelation[],
  hooks: RelationHooks,
): Promise<void> {
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
    for (const problem of result.problems) hooks.fail(problem);
    const created = new Set(result.created.map((r) => relationSignature(normaliseServerRelation(r))));
    retry = result.failureCount > 0 ? batch.filter((r) => !created.has(relationSignature(r))) : [];
    for (let i = 0; i < batch.length - retry.length; i++) hooks.onCreated();
  } else if (batchError instanceof DevgraphError && batchError.fatal) {
    for (const _ of batch) hooks.onNotCreated();
    return;
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

/** Every page of `GET /entities/` into the plan (walkEntityPages). */
async function readExisting(
  client: DevgraphClient,
  plan: UploadPlan,
  pageSize: number,
  fail: (message: string) => void,
): Promise<void> {
  const end = await walkEntityPages(client, pageSize, (page) => {
    for (const problem of page.problems) fail(problem);
    plan.addExisting(page);
  });
  if (!end.complete)
    fail(
      `Devgraph: the entity listing at offset ${end.repeatedAt} began again with an entity already listed (does the server ignore offset?); entities beyond it were not compared, so stale ones there are not deleted`,
    );
}

function keyOf(e: WireEntity): string {
  return entityKey(e.kind, e.metadata.namespace, e.metadata.name);
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
