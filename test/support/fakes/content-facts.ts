// The facts a vendor API reports about tags (digest, push time, size, platforms), derived from
// the same content the OCI side of a fake serves, so a fake's vendor API and its /v2 API always
// describe one registry. Every vendor fake builds its answers from these.
import type { Content, RepositoryContent } from '../../../src/demo/image-builder.js';

export interface PlatformFact {
  digest: string;
  mediaType: string;
  os: string;
  architecture: string;
  variant?: string;
  /** Compressed bytes: config + layers. */
  size: number;
  /** Bytes of the manifest document (Harbor counts them in an artifact's size). */
  documentSize: number;
  /** The config's media type (a signature or SBOM is not an image config). */
  configMediaType: string;
  created?: string;
  labels: Record<string, string>;
}

export interface TagFact {
  repository: string;
  tag: string;
  digest: string;
  mediaType: string;
  isIndex: boolean;
  /** The image's config `created` (for an index: its newest platform's). */
  created?: string;
  /**
   * The push time a vendor would report: `created`, except for images whose created is the Unix
   * epoch (reproducible builds), which get a fixed 2024-01-01 push time.
   */
  pushedAt: string;
  /** Compressed bytes: config + layers, summed over platforms for an index. */
  size: number;
  /** Platform images (attestations excluded); one entry for a single-platform image. */
  platforms: PlatformFact[];
  /** Attestation manifests inside an index (platform unknown/unknown). */
  attestations: string[];
}

function byDigest(repo: RepositoryContent): Map<string, Content> {
  return new Map([...repo.manifests, ...repo.blobs].map((c) => [c.digest, c]));
}

function json(c: Content): Record<string, unknown> {
  return JSON.parse(c.bytes.toString('utf8')) as Record<string, unknown>;
}

interface Descriptor {
  digest: string;
  mediaType: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

function imageFact(all: Map<string, Content>, digest: string): PlatformFact {
  const m = all.get(digest)!;
  const doc = json(m) as { config: Descriptor; layers: Descriptor[] };
  const config = json(all.get(doc.config.digest)!) as {
    os?: string;
    architecture?: string;
    variant?: string;
    created?: string;
    config?: { Labels?: Record<string, string> | null } | null;
  };
  return {
    digest,
    mediaType: m.mediaType,
    os: config.os ?? 'unknown',
    architecture: config.architecture ?? 'unknown',
    ...(config.variant ? { variant: config.variant } : {}),
    size: doc.config.size + doc.layers.reduce((a, l) => a + l.size, 0),
    documentSize: m.bytes.length,
    configMediaType: doc.config.mediaType,
    ...(config.created ? { created: config.created } : {}),
    labels: config.config?.Labels ?? {},
  };
}

/** Facts for every tag of a repository, in tag-name order. */
export function tagFacts(repo: RepositoryContent): TagFact[] {
  const all = byDigest(repo);
  return Object.entries(repo.tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([tag, digest]) => {
      const m = all.get(digest)!;
      const doc = json(m) as { manifests?: Descriptor[] };
      const isIndex = Array.isArray(doc.manifests);
      const children = isIndex
        ? doc.manifests!.filter(
            (d) => d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
          )
        : [];
      const attestations = isIndex
        ? doc.manifests!.filter(
            (d) => d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest',
          )
        : [];
      const platforms = isIndex ? children.map((d) => imageFact(all, d.digest)) : [imageFact(all, digest)];
      const created = platforms
        .map((p) => p.created)
        .filter((c): c is string => !!c)
        .sort()
        .pop();
      const epoch = !created || created.startsWith('1970-');
      return {
        repository: repo.name,
        tag,
        digest,
        mediaType: m.mediaType,
        isIndex,
        ...(created ? { created } : {}),
        pushedAt: epoch ? '2024-01-01T00:00:00Z' : created,
        size: platforms.reduce((a, p) => a + p.size, 0),
        platforms,
        attestations: attestations.map((a) => a.digest),
      };
    });
}

/** The same content under other repository names (e.g. a GCR project prefix or a Harbor project). */
export function renameRepositories(
  repos: RepositoryContent[],
  rename: (name: string) => string,
): RepositoryContent[] {
  return repos.map((r) => ({ ...r, name: rename(r.name) }));
}
