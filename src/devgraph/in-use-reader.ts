// What Devgraph shows in use, for retention's protect_in_use: the DockerImages and DockerManifests
// of this run's providers that an entity this action does not manage points at (a Deployment USES
// one). One walk of `GET /entities/` with relations per run, before anything is planned; the
// digest of a targeted entity is read from its spec, never from its name.
import type { DevgraphInUse } from '../retention/in-use.js';
import { DOCKER_KINDS } from './definitions.js';
import { DevgraphClient, type DevgraphClientOptions } from './devgraph-client.js';
import { DEFAULT_PAGE_SIZE, walkEntityPages } from './entity-pages.js';
import { entityKey } from './reconcile.js';
import type { ServerEntity, ServerRelation } from './wire.js';

const DOCKER_KIND_SET = new Set<string>(DOCKER_KINDS);
const TARGET_KINDS = new Set(['DockerImage', 'DockerManifest']);
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** One relation whose target may be ours and whose source may not be: decided once all is listed. */
interface Pointer {
  source: string;
  target: string;
  /** `Deployment/web USES it`. */
  says: string;
}

/**
 * The pure half: pages of the listing in, per provider each digest with what points at it out.
 * A relation counts when its target is a DockerImage or DockerManifest one of `providers`
 * discovered (`status.discovery_source`) with a digest in its spec, and its source is anything
 * else than a Docker entity of those providers: their own relations (an image USES its
 * manifests, an attestation REFERS_TO its subject) say nothing about use. A Docker source the
 * listing does not show counts as foreign: protecting more is the safe mistake.
 */
export class InUseCollector {
  /** Docker entities listed, by key: the provider that discovered it ('' for none). */
  private readonly owners = new Map<string, string>();
  /** Targets that can be ours, by key: their provider and digest. */
  private readonly digests = new Map<string, { provider: string; digest: string }>();
  /**
   * By relation signature, so a relation listed on the pages of both its ends counts once. A
   * source listed on a later page is decided in finish().
   */
  private readonly pointers = new Map<string, Pointer>();

  constructor(private readonly providers: ReadonlySet<string>) {}

  addPage(page: { entities: readonly ServerEntity[]; relations: readonly ServerRelation[] }): void {
    for (const e of page.entities) {
      if (!DOCKER_KIND_SET.has(e.kind)) continue;
      const key = entityKey(e.kind, e.metadata.namespace, e.metadata.name);
      const owner = e.status?.discovery_source ?? '';
      this.owners.set(key, owner);
      const digest = e.spec?.digest;
      if (
        TARGET_KINDS.has(e.kind) &&
        this.providers.has(owner) &&
        typeof digest === 'string' &&
        DIGEST.test(digest)
      )
        this.digests.set(key, { provider: owner, digest });
    }
    for (const r of page.relations) {
      if (!TARGET_KINDS.has(r.target.kind)) continue;
      const source = entityKey(r.source.kind, r.source.namespace ?? 'default', r.source.name);
      const target = entityKey(r.target.kind, r.target.namespace ?? 'default', r.target.name);
      // Most of the graph's own relations are known as such at once: a page lists its entities'.
      if (this.ours(source)) continue;
      const says = `${r.source.kind}/${r.source.name} ${r.relation} it`;
      this.pointers.set(`${source}\u0001${r.relation}\u0001${target}`, { source, target, says });
    }
  }

  /** Per provider, each digest with what points at it, sorted. */
  finish(): Map<string, Map<string, string[]>> {
    const found = new Map<string, Map<string, Set<string>>>();
    for (const p of this.pointers.values()) {
      const target = this.digests.get(p.target);
      if (!target || this.ours(p.source)) continue;
      const digests = found.get(target.provider) ?? new Map<string, Set<string>>();
      found.set(target.provider, digests);
      const says = digests.get(target.digest) ?? new Set<string>();
      digests.set(target.digest, says);
      says.add(p.says);
    }
    return new Map(
      [...found].map(([provider, digests]) => [
        provider,
        new Map([...digests].map(([digest, says]) => [digest, [...says].sort()])),
      ]),
    );
  }

  private ours(key: string): boolean {
    const owner = this.owners.get(key);
    return owner !== undefined && this.providers.has(owner);
  }
}

export interface DevgraphReadOptions extends DevgraphClientOptions {
  /** Entities per listing page. */
  pageSize?: number;
}

/**
 * What Devgraph shows in use for `providers`, or why it could not be read to the end: an error, a
 * listing cut short or an item that could not be read all mean a relation may be missing, and a
 * missing relation would let retention delete what runs. Never throws.
 */
export async function readDevgraphInUse(
  opts: DevgraphReadOptions,
  providers: Iterable<string>,
): Promise<DevgraphInUse> {
  const client = new DevgraphClient(opts);
  const collector = new InUseCollector(new Set(providers));
  const problems: string[] = [];
  try {
    const end = await walkEntityPages(client, opts.pageSize ?? DEFAULT_PAGE_SIZE, (page) => {
      problems.push(...page.problems);
      collector.addPage(page);
    });
    if (!end.complete)
      return {
        unreadable: `the entity listing at offset ${end.repeatedAt} began again with an entity already listed (does the server ignore offset?)`,
      };
  } catch (err) {
    return { unreadable: withoutPrefix(err instanceof Error ? err.message : String(err)) };
  }
  if (problems.length > 0)
    return {
      unreadable: `${withoutPrefix(problems[0]!)}${problems.length > 1 ? `, and ${problems.length - 1} more items` : ''}`,
    };
  return { uses: collector.finish() };
}

function withoutPrefix(message: string): string {
  return message.replace(/^Devgraph: /, '');
}
