// Referrers (OCI 1.1 manifests with a `subject`) as vendor fakes need them: built as real bytes
// that the fake's /v2 side serves, and read back as the facts a vendor API reports about them
// (ECR's subjectManifestDigest/artifactMediaType, Harbor's accessories), so both sides of a fake
// describe one registry.
import {
  type BuiltImage,
  type Content,
  content,
  type RepositoryContent,
} from '../../../src/demo/image-builder.js';
import { MediaType } from '../../../src/oci/media-types.js';

/** OCI's empty descriptor body, the config of an artifact that needs none (image-spec manifest.md). */
const EMPTY = content('application/vnd.oci.empty.v1+json', '{}');

export interface ReferrerSpec {
  subject: Content;
  /** The manifest's `artifactType`; absent to type the artifact by its config media type alone. */
  artifactType?: string;
  /** The config's media type when it is not the empty descriptor (cosign's OCI 1.1 signatures). */
  configMediaType?: string;
  layerMediaType: string;
  payload: string;
  annotations?: Record<string, string>;
}

/** An artifact manifest referring to `subject`, pushed by digest (untagged) as OCI 1.1 clients do. */
export function buildReferrer(spec: ReferrerSpec): BuiltImage {
  const config = spec.configMediaType ? content(spec.configMediaType, '{}') : EMPTY;
  const layer = content(spec.layerMediaType, spec.payload);
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    ...(spec.artifactType ? { artifactType: spec.artifactType } : {}),
    config: { mediaType: config.mediaType, digest: config.digest, size: config.bytes.length },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.bytes.length }],
    subject: {
      mediaType: spec.subject.mediaType,
      digest: spec.subject.digest,
      size: spec.subject.bytes.length,
    },
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  return {
    manifest: content(MediaType.OciManifest, JSON.stringify(doc)),
    config,
    layers: [layer],
    platform: { architecture: '', os: '' },
  };
}

/** A repository's content with referrers added, pushed by digest (no tag), blobs and all. */
export function withReferrers(repo: RepositoryContent, referrers: BuiltImage[]): RepositoryContent {
  return {
    ...repo,
    blobs: [...repo.blobs, ...referrers.flatMap((r) => [r.config, ...r.layers])],
    manifests: [...repo.manifests, ...referrers.map((r) => r.manifest)],
  };
}

export interface ReferrerFact {
  digest: string;
  mediaType: string;
  /** What a vendor reports as the artifact's type: `artifactType`, else the config's media type. */
  artifactType: string;
  subject: string;
  /** Bytes of the manifest document, its config and layers. */
  size: number;
}

interface ManifestDoc {
  artifactType?: string;
  config?: { mediaType: string; size: number };
  layers?: Array<{ size: number }>;
  subject?: { digest: string };
}

/** Every manifest of a repository that names a subject, as a vendor API describes it. */
export function referrerFacts(repo: RepositoryContent): ReferrerFact[] {
  const out: ReferrerFact[] = [];
  for (const m of repo.manifests) {
    const doc = JSON.parse(m.bytes.toString('utf8')) as ManifestDoc;
    if (!doc.subject || !doc.config) continue;
    out.push({
      digest: m.digest,
      mediaType: m.mediaType,
      artifactType: doc.artifactType ?? doc.config.mediaType,
      subject: doc.subject.digest,
      size: m.bytes.length + doc.config.size + (doc.layers ?? []).reduce((a, l) => a + l.size, 0),
    });
  }
  return out.sort((a, b) => (a.digest < b.digest ? -1 : 1));
}
