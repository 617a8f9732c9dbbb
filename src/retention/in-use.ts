// Which images are running, from a file of image references such as
// `kubectl get pods -A -o jsonpath='{..image}'` prints, and from Devgraph (the entities that point
// at a DockerImage or DockerManifest): retention never deletes them. A reference that cannot be
// read is reported and skipped; one bad line must not cost the protection of the rest.
import type { RepositoryInventory } from './inventory.js';

/** A tag reference, resolved against each repository's tags when its plan is made. */
export interface TagInUse {
  /** The registry host as references write it; Docker Hub's hosts are all `docker.io`. */
  registry: string;
  /** With Docker Hub's implied `library/` for official images. */
  repository: string;
  tag: string;
}

export interface InUseProblem {
  /** 1-based line of the file. */
  line: number;
  /** The reference as written, cut short when long. */
  text: string;
  problem: string;
}

export interface InUse {
  /** Digests references name (`repo@sha256:…`, `repo:tag@sha256:…`), and bare digests (image IDs). */
  digests: Set<string>;
  /** References by tag alone. */
  tags: TagInUse[];
  /** The first MAX_PROBLEMS references that could not be read. */
  problems: InUseProblem[];
  /** Every reference that could not be read, including those past MAX_PROBLEMS. */
  problemCount: number;
}

/** Problems kept with their text; past this a file is not a list of references at all. */
export const MAX_PROBLEMS = 50;

/** Longer than any reference a registry accepts (a name is at most 255 characters). */
const MAX_REFERENCE = 1000;

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const TAG = /^\w[\w.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;

const DOCKER_HUB_HOSTS = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** Reads image references separated by white space; `#` starts a comment to the end of its line. */
export function parseInUse(text: string): InUse {
  const out: InUse = { digests: new Set(), tags: [], problems: [], problemCount: 0 };
  const seenTags = new Set<string>();
  text.split('\n').forEach((lineText, i) => {
    for (const token of lineText.split(/\s+/)) {
      if (token === '') continue;
      if (token.startsWith('#')) break;
      const ref = parseReference(token);
      if ('problem' in ref) {
        out.problemCount++;
        if (out.problems.length < MAX_PROBLEMS)
          out.problems.push({ line: i + 1, text: shorten(token), problem: ref.problem });
      } else if (ref.digest) {
        out.digests.add(ref.digest);
      } else if (ref.tag !== undefined) {
        const key = `${ref.registry}/${ref.repository}:${ref.tag}`;
        if (!seenTags.has(key))
          out.tags.push({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
        seenTags.add(key);
      }
    }
  });
  return out;
}

interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * One reference, read as Docker reads a name: the first component is a registry host when it has
 * a `.` or `:` or is `localhost`, else the name is on Docker Hub; a name without a tag means
 * `latest`. A digest, when given, is what runs, whatever the tag says now.
 */
export function parseReference(token: string): Reference | { problem: string } {
  if (token.length > MAX_REFERENCE)
    return { problem: `longer than ${MAX_REFERENCE} characters; not an image reference` };
  if (DIGEST.test(token)) return { registry: '', repository: '', digest: token };
  const at = token.indexOf('@');
  const digest = at < 0 ? undefined : token.slice(at + 1);
  if (digest !== undefined && !DIGEST.test(digest))
    return {
      problem: `"@${shorten(digest, 30)}" is not a digest; write @sha256: and 64 lowercase hex digits`,
    };
  const named = at < 0 ? token : token.slice(0, at);
  const slash = named.indexOf('/');
  const first = slash < 0 ? '' : named.slice(0, slash);
  const hasHost = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = hasHost ? first : 'docker.io';
  if (!HOST.test(host)) return { problem: `"${shorten(host, 60)}" is not a registry host` };
  const rest = hasHost ? named.slice(slash + 1) : named;
  const colon = rest.lastIndexOf(':');
  const tag = colon < 0 ? undefined : rest.slice(colon + 1);
  const path = colon < 0 ? rest : rest.slice(0, colon);
  if (tag !== undefined && !TAG.test(tag))
    return {
      problem: `":${shorten(tag, 30)}" is not a tag; a tag is letters, digits, _, . and - (at most 128, not starting with . or -)`,
    };
  const components = path.split('/');
  if (path === '' || !components.every((c) => PATH_COMPONENT.test(c)))
    return {
      problem:
        'not an image reference; write [registry/]repository[:tag][@sha256:…], the repository in lowercase letters, digits and separators (., _, -, /)',
    };
  const registry = DOCKER_HUB_HOSTS.has(host.toLowerCase()) ? 'docker.io' : host.toLowerCase();
  const repository = registry === 'docker.io' && components.length === 1 ? `library/${path}` : path;
  return digest ? { registry, repository, digest } : { registry, repository, tag: tag ?? 'latest' };
}

/**
 * The digests in use in one repository: every digest the file names (content is the same bytes
 * wherever it is stored, so a digest in use is kept in every repository holding it); the tags of
 * references to this repository, as the inventory resolves them; and the images whose config is
 * a bare digest (a runtime's image ID).
 */
export function inUseDigests(inUse: InUse, inventory: RepositoryInventory): Set<string> {
  const out = new Set(inUse.digests);
  const host = registryHost(inventory.registry);
  const wanted = new Set(
    inUse.tags
      .filter((t) => t.registry === host && sameRepository(t.repository, inventory.repository))
      .map((t) => t.tag),
  );
  for (const t of inventory.tags) if (wanted.has(t.tag)) out.add(t.digest);
  if (inUse.digests.size > 0) {
    const manifests = [...inventory.manifests.values(), ...(inventory.untagged ?? [])];
    for (const m of manifests) if (m.blobs.some((b) => inUse.digests.has(b.digest))) out.add(m.digest);
  }
  return out;
}

/**
 * What Devgraph says is in use, read once per run before anything is planned
 * (src/devgraph/in-use-reader.ts): per provider name, each digest with the entities that point at
 * it (`Deployment/web USES it`). `unreadable` says why Devgraph could not be read to the end: then
 * nothing is known to be out of use, and no repository with protect_in_use is planned.
 */
export type DevgraphInUse =
  | { uses: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>> }
  | { unreadable: string };

/** Devgraph's reasons listed for one digest; past this, the rest are counted. */
export const MAX_DEVGRAPH_REASONS = 3;

const FILE_REASON = 'in use: named by the in-use input';

/**
 * Every digest in use in one repository with why, for the plan's `protected[].why`: those the
 * in-use file names (inUseDigests), and those Devgraph shows entities pointing at in this
 * repository's provider. A digest Devgraph names is the same bytes in every repository of the
 * provider, so it is kept in each (a wrong match only protects more).
 */
export function inUseReasons(
  inUse: InUse | undefined,
  devgraph: DevgraphInUse | undefined,
  inventory: RepositoryInventory,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (inUse) for (const d of inUseDigests(inUse, inventory)) out.set(d, [FILE_REASON]);
  const uses = devgraph && 'uses' in devgraph ? devgraph.uses.get(inventory.provider) : undefined;
  for (const [digest, users] of uses ?? []) {
    const reasons = users.slice(0, MAX_DEVGRAPH_REASONS).map((u) => `in use in Devgraph: ${u}`);
    if (users.length > MAX_DEVGRAPH_REASONS)
      reasons.push(
        `in use in Devgraph: and ${users.length - MAX_DEVGRAPH_REASONS} more entities point at it`,
      );
    out.set(digest, [...(out.get(digest) ?? []), ...reasons]);
  }
  return out;
}

/** The host of a registry given as a URL or a host (and path); Docker Hub's hosts as `docker.io`. */
export function registryHost(registry: string): string {
  const host = (
    URL.canParse(registry) && registry.includes('://')
      ? new URL(registry).host
      : registry.replace(/^[a-z]+:\/\//i, '').split('/')[0]!
  ).toLowerCase();
  return DOCKER_HUB_HOSTS.has(host) ? 'docker.io' : host;
}

/**
 * A reference's path names the repository when it is the same, or ends with it: registries that
 * serve repositories under a path (Artifactory's `host/docker-local/app`) are inventoried without
 * it. A wrong match only protects more.
 */
function sameRepository(path: string, repository: string): boolean {
  const p = path.toLowerCase();
  const r = repository.toLowerCase();
  return p === r || p.endsWith(`/${r}`);
}

function shorten(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
