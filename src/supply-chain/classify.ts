// What an accessory manifest is, from what it says of itself: its artifactType, its config's media
// type, its layers' media types and annotations. Every scheme that stores signatures, attestations
// and SBOMs (OCI referrers, cosign's legacy tags, sigstore bundles, BuildKit attestation manifests,
// Harbor accessories) is read by these rules, so an artifact found two ways is classed one way.
import type { ManifestRole } from '../model/discovery.js';
import { isImageConfigType, type LayerRef } from '../oci/manifest.js';

export const COSIGN_SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGSTORE_BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** A DSSE envelope layer: cosign's legacy `.att` layers, and attestations pushed as artifacts. */
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
/** `dev.sigstore.bundle.predicateType` of a bundle that is a signature rather than an attestation. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
/** The OCI empty descriptor's media type: a config that says nothing about the artifact. */
const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';

const SIGNATURE_TYPES = new Set([
  COSIGN_SIMPLE_SIGNING,
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  'application/vnd.cncf.notary.signature',
]);
const ATTESTATION_TYPES = new Set([
  DSSE_ENVELOPE,
  'application/vnd.in-toto+json',
  'application/vnd.docker.attestation.manifest.v1+json',
  'application/vnd.dev.cosign.artifact.att.v1+json',
]);
const SBOM_TYPES = new Set([
  'application/spdx+json',
  'text/spdx',
  'text/spdx+json',
  'text/spdx+xml',
  'application/vnd.cyclonedx',
  'application/vnd.cyclonedx+json',
  'application/vnd.cyclonedx+xml',
  'application/vnd.syft+json',
  'application/vnd.dev.cosign.artifact.sbom.v1+json',
  'application/vnd.goharbor.harbor.sbom.v1',
]);

/** In-toto predicate types that are an SBOM, and those that are build provenance. */
const SBOM_PREDICATES = [/^https:\/\/spdx\.dev\/Document/, /^https:\/\/cyclonedx\.org\/bom/];
const PROVENANCE_PREDICATES = [/^https:\/\/slsa\.dev\/provenance\//];

export function isSbomPredicate(predicateType: string): boolean {
  return SBOM_PREDICATES.some((p) => p.test(predicateType));
}

export function isProvenancePredicate(predicateType: string): boolean {
  return PROVENANCE_PREDICATES.some((p) => p.test(predicateType));
}

/** How an accessory was found, where that says more than its bytes (cosign's legacy tag suffixes). */
export type FoundAs = 'sig' | 'att' | 'sbom' | 'buildkit-attestation' | undefined;

export interface AccessoryShape {
  artifactType?: string;
  configMediaType?: string;
  layers: readonly LayerRef[];
  annotations?: Record<string, string>;
}

export interface AccessoryClass {
  role: ManifestRole;
  artifactType?: string;
  predicateTypes: string[];
}

/** The role, artifact type and in-toto predicate types of an accessory manifest. */
export function classifyAccessory(m: AccessoryShape, foundAs?: FoundAs): AccessoryClass {
  const artifactType =
    m.artifactType ??
    (m.configMediaType && m.configMediaType !== EMPTY_CONFIG && !isImageConfigType(m.configMediaType)
      ? m.configMediaType
      : undefined);
  const predicateTypes = new Set<string>();
  const bundlePredicate = m.annotations?.[BUNDLE_PREDICATE_ANNOTATION];
  if (bundlePredicate) predicateTypes.add(bundlePredicate);
  for (const l of m.layers) {
    // BuildKit names it `in-toto.io/predicate-type`; cosign's .att layers `predicateType`.
    const p = l.annotations?.['in-toto.io/predicate-type'] ?? l.annotations?.predicateType;
    if (p) predicateTypes.add(p);
  }
  const types = [artifactType, ...m.layers.map((l) => l.mediaType)].filter((t): t is string => !!t);
  const predicates = [...predicateTypes];
  const result = (role: ManifestRole): AccessoryClass => ({
    role,
    ...(artifactType ? { artifactType } : {}),
    predicateTypes: predicates,
  });
  if (artifactType === SIGSTORE_BUNDLE || types.includes(SIGSTORE_BUNDLE))
    return result(bundlePredicate === COSIGN_SIGN_PREDICATE ? 'signature' : 'attestation');
  if (foundAs === 'sig' || types.some((t) => SIGNATURE_TYPES.has(t))) return result('signature');
  if (foundAs === 'sbom' || types.some((t) => SBOM_TYPES.has(t))) return result('sbom');
  if (
    foundAs === 'att' ||
    foundAs === 'buildkit-attestation' ||
    predicates.length > 0 ||
    types.some((t) => ATTESTATION_TYPES.has(t))
  )
    return result('attestation');
  return result('artifact');
}
