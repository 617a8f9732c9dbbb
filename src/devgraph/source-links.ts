// DockerRepository BUILT_FROM GithubRepository, and GithubRepository BUILDS DockerRepository, for
// images whose labels name the GitHub repository they were built from (reference/devgraph.md §5).
//
// The GithubRepository entities are found among everything the server already listed for the
// reconciliation (the same answer a `fieldSelector=spec.url=…` query gives, without a request per
// URL), whichever provider made them. The reference implementation only searched its own
// provider's entities, so it never matched; it also compared URLs by substring, so
// `github.com/acme/api` matched `github.com/acme/api-gateway`. Here both sides are reduced to
// `owner/name` and must be equal.
import { asSource, type GraphSource } from '../graph/graph-source.js';
import { DISCOVERY_SOURCE, type Entity, type Graph } from '../model/graph.js';
import type { ServerEntity, WireRelation } from './wire.js';

const GITHUB_REPOSITORY = 'GithubRepository';

/**
 * `owner/name` (lower case: GitHub names are case-insensitive) of a GitHub repository URL in any
 * of the forms labels carry: https, git+https, ssh (`git@github.com:o/r.git`), with `.git`, a
 * trailing slash or a deeper path (`/tree/main/docker`). Anything not on github.com is undefined.
 */
export function githubRepositoryKey(raw: string): string | undefined {
  let text = raw.trim();
  const ssh = /^(?:ssh:\/\/)?git@github\.com[:/](.+)$/i.exec(text);
  if (ssh) text = `https://github.com/${ssh[1]}`;
  text = text.replace(/^git\+/i, '');
  if (!/^[a-z]+:\/\//i.test(text)) text = `https://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const host = url.hostname.toLowerCase();
  if (host !== 'github.com' && host !== 'www.github.com') return undefined;
  const [owner, name] = url.pathname.split('/').filter(Boolean);
  if (!owner || !name) return undefined;
  const repo = name.replace(/\.git$/i, '');
  if (!/^[A-Za-z0-9-]+$/.test(owner) || !/^[A-Za-z0-9._-]+$/.test(repo)) return undefined;
  return `${owner}/${repo}`.toLowerCase();
}

/** The GithubRepository entities among `serverEntities`, by the `owner/name` of their URL. */
export function githubRepositories(serverEntities: Iterable<ServerEntity>): Map<string, ServerEntity[]> {
  const byKey = new Map<string, ServerEntity[]>();
  for (const e of serverEntities) {
    if (e.kind !== GITHUB_REPOSITORY) continue;
    const url = e.spec?.url;
    const key = typeof url === 'string' ? githubRepositoryKey(url) : undefined;
    if (!key) continue;
    const list = byKey.get(key);
    if (list) list.push(e);
    else byKey.set(key, [e]);
  }
  return byKey;
}

/** The BUILT_FROM / BUILDS pairs for every repository whose source is a GithubRepository on the server. */
export function sourceLinks(
  graph: Graph | GraphSource,
  serverEntities: Iterable<ServerEntity>,
): WireRelation[] {
  const github = githubRepositories(serverEntities);
  if (github.size === 0) return [];
  const links: WireRelation[] = [];
  for (const entity of asSource(graph).entities(['DockerRepository'])) links.push(...linksOf(entity, github));
  return links;
}

/** One DockerRepository's pairs, given the server's GithubRepository entities (githubRepositories). */
export function linksOf(
  entity: Pick<Entity, 'apiVersion' | 'kind' | 'metadata' | 'spec'>,
  github: Map<string, ServerEntity[]>,
): WireRelation[] {
  if (entity.kind !== 'DockerRepository') return [];
  const source = entity.spec.source_repository;
  const key = typeof source === 'string' ? githubRepositoryKey(source) : undefined;
  const targets = key ? github.get(key) : undefined;
  if (!targets) return [];
  const provider = entity.metadata.annotations?.[DISCOVERY_SOURCE];
  const metadata = () => ({
    labels: { 'managed-by': `provider:${provider}`, 'source-type': 'discovered' },
    annotations: {},
  });
  const docker = {
    apiVersion: entity.apiVersion,
    kind: entity.kind,
    name: entity.metadata.name,
    namespace: entity.metadata.namespace,
  };
  const links: WireRelation[] = [];
  for (const t of [...targets].sort((a, b) => refText(a).localeCompare(refText(b)))) {
    const github = {
      apiVersion: t.apiVersion,
      kind: GITHUB_REPOSITORY,
      name: t.metadata.name,
      namespace: t.metadata.namespace,
    };
    // The build details the reference implementation invented (Dockerfile path, context, target
    // tags) are not known from a registry, so the relations carry none.
    links.push(
      {
        namespace: docker.namespace,
        relation: 'BUILT_FROM',
        source: docker,
        target: github,
        metadata: metadata(),
        spec: {},
      },
      {
        namespace: github.namespace,
        relation: 'BUILDS',
        source: github,
        target: docker,
        metadata: metadata(),
        spec: {},
      },
    );
  }
  return links;
}

function refText(e: ServerEntity): string {
  return `${e.metadata.namespace}/${e.metadata.name}`;
}
