// Registry documents validated at the boundary: whatever a registry sends is either one of
// these shapes or a clear error, never an unchecked cast.
import { z } from 'zod';
import { RegistryError } from '../errors.js';
import { isIndexType, MediaType } from './media-types.js';

const Digest = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/);

const Platform = z.object({
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
});

const Descriptor = z.object({
  mediaType: z.string().optional(),
  digest: Digest,
  size: z.number().int().nonnegative(),
  platform: Platform.optional().catch(undefined),
  annotations: z.record(z.string(), z.string()).optional().catch(undefined),
  artifactType: z.string().optional(),
});

const IndexDoc = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(Descriptor),
});

const ImageDoc = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor).default([]),
  subject: Descriptor.optional(),
  annotations: z.record(z.string(), z.string()).optional().catch(undefined),
});

const Schema1Doc = z.object({
  schemaVersion: z.literal(1),
  architecture: z.string().optional(),
  fsLayers: z.array(z.object({ blobSum: Digest })).default([]),
  history: z.array(z.object({ v1Compatibility: z.string() })).default([]),
});

export interface PlatformRef {
  architecture: string;
  os: string;
  variant?: string;
}

export interface IndexChild {
  digest: string;
  mediaType?: string;
  size: number;
  platform?: PlatformRef;
  /** BuildKit attestation manifests (platform unknown/unknown) are not platforms. */
  attestation: boolean;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A layer or config as the manifest describes it; annotations carry cosign's and BuildKit's facts. */
export interface LayerRef {
  digest: string;
  size: number;
  mediaType?: string;
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; schemaVersion: 2; children: IndexChild[] }
  | {
      kind: 'image';
      mediaType: string;
      schemaVersion: 2;
      config: { digest: string; size: number; mediaType?: string };
      layers: LayerRef[];
      artifactType?: string;
      /** The digest of the manifest this one refers to (OCI 1.1 `subject`). */
      subject?: string;
      annotations?: Record<string, string>;
    }
  | {
      kind: 'schema1';
      mediaType: string;
      schemaVersion: 1;
      architecture?: string;
      layers: string[];
      created?: string;
    };

/**
 * The descriptors of an OCI index as a referrers answer or a referrers fallback tag holds them;
 * undefined when the document is not an index (a registry without the API answering something else).
 */
export function parseReferrersIndex(bytes: Buffer): IndexChild[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const r = IndexDoc.safeParse(json);
  return r.success ? r.data.manifests.map(indexChild) : undefined;
}

function indexChild(d: z.infer<typeof Descriptor>): IndexChild {
  return {
    digest: d.digest,
    ...(d.mediaType ? { mediaType: d.mediaType } : {}),
    size: d.size,
    ...(d.platform ? { platform: d.platform } : {}),
    attestation:
      d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
      (d.platform?.architecture === 'unknown' && d.platform?.os === 'unknown'),
    ...(d.artifactType ? { artifactType: d.artifactType } : {}),
    ...(d.annotations ? { annotations: d.annotations } : {}),
  };
}

export function parseManifest(bytes: Buffer, mediaType: string, where: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryError(`${where}: the manifest is not valid JSON`, { code: 'MANIFEST_INVALID' });
  }
  const fail = (issues: z.core.$ZodIssue[]) =>
    new RegistryError(
      `${where}: the manifest (${mediaType}) is malformed at ${issues[0]?.path.join('.') || 'top level'}: ${issues[0]?.message}`,
      {
        code: 'MANIFEST_INVALID',
      },
    );
  const looksLikeIndex =
    !!json && typeof json === 'object' && Array.isArray((json as { manifests?: unknown }).manifests);
  if (isIndexType(mediaType) || (looksLikeIndex && !(json as { config?: unknown }).config)) {
    const r = IndexDoc.safeParse(json);
    if (!r.success) throw fail(r.error.issues);
    return {
      kind: 'index',
      mediaType,
      schemaVersion: 2,
      children: r.data.manifests.map(indexChild),
    };
  }
  if (mediaType === MediaType.DockerSchema1 || mediaType === MediaType.DockerSchema1Signed) {
    const r = Schema1Doc.safeParse(json);
    if (!r.success) throw fail(r.error.issues);
    let created: string | undefined;
    const top = r.data.history[0]?.v1Compatibility;
    if (top) {
      try {
        const v1 = JSON.parse(top) as { created?: unknown };
        if (typeof v1.created === 'string') created = v1.created;
      } catch {
        // A broken v1Compatibility entry only costs us the creation time.
      }
    }
    return {
      kind: 'schema1',
      mediaType,
      schemaVersion: 1,
      ...(r.data.architecture ? { architecture: r.data.architecture } : {}),
      layers: [...r.data.fsLayers].reverse().map((l) => l.blobSum),
      ...(created ? { created } : {}),
    };
  }
  const r = ImageDoc.safeParse(json);
  if (!r.success) throw fail(r.error.issues);
  return {
    kind: 'image',
    mediaType,
    schemaVersion: 2,
    config: {
      digest: r.data.config.digest,
      size: r.data.config.size,
      ...(r.data.config.mediaType ? { mediaType: r.data.config.mediaType } : {}),
    },
    layers: r.data.layers.map((l) => ({
      digest: l.digest,
      size: l.size,
      ...(l.mediaType ? { mediaType: l.mediaType } : {}),
      ...(l.annotations ? { annotations: l.annotations } : {}),
    })),
    ...(r.data.artifactType ? { artifactType: r.data.artifactType } : {}),
    ...(r.data.subject ? { subject: r.data.subject.digest } : {}),
    ...(r.data.annotations ? { annotations: r.data.annotations } : {}),
  };
}

const ConfigDoc = z.object({
  created: z.string().optional().catch(undefined),
  architecture: z.string().optional().catch(undefined),
  os: z.string().optional().catch(undefined),
  variant: z.string().optional().catch(undefined),
  config: z
    .object({ Labels: z.record(z.string(), z.string()).nullable().optional().catch(undefined) })
    .nullable()
    .optional()
    .catch(undefined),
});

export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  labels: Record<string, string>;
}

/** Reads what we use from an image config blob; anything else in it is ignored. */
export function parseImageConfig(bytes: Buffer, where: string): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryError(`${where}: the image config is not valid JSON`);
  }
  const r = ConfigDoc.safeParse(json);
  if (!r.success) throw new RegistryError(`${where}: the image config is not a JSON object`);
  const d = r.data;
  // `labels` first: an object literal that starts with a spread and goes on gets a hidden class
  // of its own in V8, one per image config (bench --scale).
  return {
    labels: d.config?.Labels ?? {},
    ...(d.created ? { created: d.created } : {}),
    ...(d.architecture ? { architecture: d.architecture } : {}),
    ...(d.os ? { os: d.os } : {}),
    ...(d.variant ? { variant: d.variant } : {}),
  };
}

/** Config media types that describe a runnable image (others are artifacts: signatures, SBOMs, helm charts). */
export function isImageConfigType(mediaType: string | undefined): boolean {
  return mediaType === undefined || mediaType === MediaType.OciConfig || mediaType === MediaType.DockerConfig;
}

/** The media type a stored manifest declares, or the one its shape implies when it declares none. */
export function inferManifestMediaType(bytes: Buffer, contentType?: string): string | undefined {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as {
      mediaType?: unknown;
      schemaVersion?: unknown;
      signatures?: unknown;
      manifests?: unknown;
      config?: { mediaType?: unknown };
    };
    if (typeof doc.mediaType === 'string') return doc.mediaType;
    if (doc.schemaVersion === 1)
      return doc.signatures ? MediaType.DockerSchema1Signed : MediaType.DockerSchema1;
    if (contentType && contentType !== 'application/json' && contentType !== 'application/octet-stream')
      return contentType;
    if (Array.isArray(doc.manifests)) return MediaType.OciIndex;
    if (doc.config)
      return doc.config.mediaType === MediaType.DockerConfig
        ? MediaType.DockerManifest
        : MediaType.OciManifest;
  } catch {
    return undefined;
  }
  return undefined;
}
