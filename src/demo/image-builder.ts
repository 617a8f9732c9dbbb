// Builds real, content-addressed image content (config blobs, layers, manifests, indexes) in
// memory. The demo registry serves it and the tests push it into a real registry, so both
// exercise the discovery engine with byte-exact documents rather than hand-written JSON.
import { createHash } from 'node:crypto';
import { MediaType } from '../oci/media-types.js';

export interface Content {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface BuiltImage {
  manifest: Content;
  config: Content;
  layers: Content[];
  platform: Platform;
}

export interface BuiltIndex {
  manifest: Content;
  children: BuiltImage[];
  attestations: Content[];
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export type Format = 'oci' | 'docker';

export interface ImageSpec {
  format?: Format;
  platform?: Platform;
  created: string;
  labels?: Record<string, string>;
  /** Distinguishes otherwise identical images (e.g. two versions built at the same second). */
  seed: string;
  layerCount?: number;
  layerSize?: number;
}

export function content(mediaType: string, bytes: Buffer | string): Content {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return { mediaType, bytes: buf, digest: `sha256:${createHash('sha256').update(buf).digest('hex')}` };
}

/** The OCI descriptor of `c` (mediaType, digest, size) with `extra` fields such as platform or annotations. */
export function descriptor(c: Content, extra: Record<string, unknown> = {}) {
  return { mediaType: c.mediaType, digest: c.digest, size: c.bytes.length, ...extra };
}

export function buildImage(spec: ImageSpec): BuiltImage {
  const format = spec.format ?? 'oci';
  const platform = spec.platform ?? { architecture: 'amd64', os: 'linux' };
  const layerCount = spec.layerCount ?? 2;
  const layerSize = spec.layerSize ?? 512;
  const layerType = format === 'oci' ? MediaType.OciLayerGzip : MediaType.DockerLayerGzip;
  const layers: Content[] = [];
  for (let i = 0; i < layerCount; i++) {
    // Deterministic pseudo-random bytes so every seed gives distinct, repeatable layers.
    const bytes = Buffer.alloc(layerSize);
    let h = createHash('sha256').update(`${spec.seed}/${platform.architecture}/${i}`).digest();
    for (let off = 0; off < layerSize; off += h.length) {
      h.copy(bytes, off);
      h = createHash('sha256').update(h).digest();
    }
    layers.push(content(layerType, bytes));
  }
  const configDoc = {
    created: spec.created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Labels: spec.labels ?? {}, Env: ['PATH=/usr/local/bin:/usr/bin:/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    history: [{ created: spec.created, created_by: `seed ${spec.seed}` }],
  };
  const config = content(
    format === 'oci' ? MediaType.OciConfig : MediaType.DockerConfig,
    JSON.stringify(configDoc),
  );
  const manifestDoc = {
    schemaVersion: 2,
    mediaType: format === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest,
    config: descriptor(config),
    layers: layers.map((l) => descriptor(l)),
  };
  const manifest = content(manifestDoc.mediaType, JSON.stringify(manifestDoc, null, 2));
  return { manifest, config, layers, platform };
}

/** An in-toto attestation manifest as BuildKit attaches it to an index (platform unknown/unknown). */
function buildAttestation(subject: BuiltImage, seed: string): BuiltImage {
  const layer = content(
    'application/vnd.in-toto+json',
    JSON.stringify({ predicateType: 'https://slsa.dev/provenance/v0.2', seed }),
  );
  const config = content(
    MediaType.OciConfig,
    JSON.stringify({ architecture: 'unknown', os: 'unknown', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: descriptor(config),
    layers: [
      descriptor(layer, { annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }),
    ],
  };
  void subject;
  return {
    manifest: content(MediaType.OciManifest, JSON.stringify(doc)),
    config,
    layers: [layer],
    platform: { architecture: 'unknown', os: 'unknown' },
  };
}

export interface IndexSpec {
  format?: Format;
  images: BuiltImage[];
  /** Add a BuildKit-style attestation manifest per platform image. */
  attest?: boolean;
}

export function buildIndex(spec: IndexSpec): BuiltIndex & { attestationImages: BuiltImage[] } {
  const format = spec.format ?? 'oci';
  const attestationImages: BuiltImage[] = [];
  const manifests: Record<string, unknown>[] = spec.images.map((img) =>
    descriptor(img.manifest, {
      platform: {
        architecture: img.platform.architecture,
        os: img.platform.os,
        ...(img.platform.variant ? { variant: img.platform.variant } : {}),
      },
    }),
  );
  if (spec.attest) {
    for (const img of spec.images) {
      const att = buildAttestation(img, img.manifest.digest);
      attestationImages.push(att);
      manifests.push(
        descriptor(att.manifest, {
          platform: { architecture: 'unknown', os: 'unknown' },
          annotations: {
            'vnd.docker.reference.type': 'attestation-manifest',
            'vnd.docker.reference.digest': img.manifest.digest,
          },
        }),
      );
    }
  }
  const doc = {
    schemaVersion: 2,
    mediaType: format === 'oci' ? MediaType.OciIndex : MediaType.DockerManifestList,
    manifests,
  };
  return {
    manifest: content(doc.mediaType, JSON.stringify(doc, null, 2)),
    children: spec.images,
    attestations: attestationImages.map((a) => a.manifest),
    attestationImages,
  };
}

/** A cosign-style signature: an OCI manifest stored under the tag `sha256-<hex>.sig`. */
export function buildSignature(subjectDigest: string, seed: string): BuiltImage {
  const payload = content(
    'application/vnd.dev.cosign.simplesigning.v1+json',
    JSON.stringify({
      critical: {
        image: { 'docker-manifest-digest': subjectDigest },
        type: 'cosign container image signature',
      },
      seed,
    }),
  );
  const config = content(
    MediaType.OciConfig,
    JSON.stringify({
      architecture: '',
      os: '',
      rootfs: { type: 'layers', diff_ids: [payload.digest] },
      config: {},
    }),
  );
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: descriptor(config),
    layers: [descriptor(payload, { annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQDdemo' } })],
  };
  return {
    manifest: content(MediaType.OciManifest, JSON.stringify(doc)),
    config,
    layers: [payload],
    platform: { architecture: '', os: '' },
  };
}

export function signatureTag(subjectDigest: string): string {
  return `${subjectDigest.replace(':', '-')}.sig`;
}

/** Everything a registry must hold for one repository, in push order (blobs, children, indexes). */
export interface RepositoryContent {
  name: string;
  blobs: Content[];
  manifests: Content[];
  tags: Record<string, string>;
}

export class RepositoryBuilder {
  private readonly blobs = new Map<string, Content>();
  private readonly manifests = new Map<string, Content>();
  private readonly tags: Record<string, string> = {};

  constructor(readonly name: string) {}

  addImage(image: BuiltImage, ...tags: string[]): this {
    this.blobs.set(image.config.digest, image.config);
    for (const l of image.layers) this.blobs.set(l.digest, l);
    this.manifests.set(image.manifest.digest, image.manifest);
    for (const t of tags) this.tags[t] = image.manifest.digest;
    return this;
  }

  addIndex(index: ReturnType<typeof buildIndex>, ...tags: string[]): this {
    for (const child of [...index.children, ...index.attestationImages]) this.addImage(child);
    this.manifests.set(index.manifest.digest, index.manifest);
    for (const t of tags) this.tags[t] = index.manifest.digest;
    return this;
  }

  /** A manifest whose blobs are added separately (an index of referrers, a fallback tag). */
  addManifest(manifest: Content, ...tags: string[]): this {
    this.manifests.set(manifest.digest, manifest);
    for (const t of tags) this.tags[t] = manifest.digest;
    return this;
  }

  tag(tag: string, digest: string): this {
    this.tags[tag] = digest;
    return this;
  }

  build(): RepositoryContent {
    return {
      name: this.name,
      blobs: [...this.blobs.values()],
      manifests: [...this.manifests.values()],
      tags: { ...this.tags },
    };
  }
}
