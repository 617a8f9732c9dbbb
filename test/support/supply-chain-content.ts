// Supply-chain test content: real bytes shaped like what cosign (legacy `.sig/.att/.sbom` tags and
// sigstore bundles), BuildKit (attestation manifests, both forms) and artifact pushers (a SARIF
// report) leave in a registry, each signature really made with an ECDSA P-256 test key. Shapes
// follow sigstore/cosign specs/BUNDLE_SPEC.md, specs/SBOM_SPEC.md, pkg/oci/remote/write.go,
// moby/buildkit docs/attestations/attestation-storage.md and the OCI image and distribution specs
// (manifest `subject`/`artifactType`, the referrers tag schema).
//
// Everything is deterministic within a process except ECDSA signatures, which node:crypto draws
// with a random nonce and whose keys are generated per process: assert digests through the facts,
// never as literals.

import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  type BuiltImage,
  buildImage,
  type Content,
  content,
  descriptor,
  type Platform,
  RepositoryBuilder,
  type RepositoryContent,
} from '../../src/demo/image-builder.js';
import type {
  ImageTrust,
  ManifestRole,
  SignatureVerdict,
  VulnerabilityCounts,
} from '../../src/model/discovery.js';
import { MediaType } from '../../src/oci/media-types.js';
import { preAuthEncoding, simpleSigningPayload as simpleSigningBytes } from './signing.js';

export const SupplyChainMediaType = {
  SimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  DsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  InToto: 'application/vnd.in-toto+json',
  /** cosign attach sbom --type spdx --input-format json */
  SpdxJson: 'text/spdx+json',
  SigstoreBundle: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  Empty: 'application/vnd.oci.empty.v1+json',
  Sarif: 'application/sarif+json',
  /** BuildKit >= 0.32 marks its attestation manifests as OCI artifacts with this type. */
  BuildkitAttestation: 'application/vnd.docker.attestation.manifest.v1+json',
} as const;

export const PredicateType = {
  Spdx: 'https://spdx.dev/Document',
  SlsaV02: 'https://slsa.dev/provenance/v0.2',
  SlsaV1: 'https://slsa.dev/provenance/v1',
  CosignSign: 'https://sigstore.dev/cosign/sign/v1',
  CosignVuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  /** `cosign attest --type custom`: neither an SBOM nor provenance, so no image flag depends on it. */
  CosignCustom: 'https://cosign.sigstore.dev/attestation/v1',
} as const;

export const SupplyChainAnnotation = {
  CosignSignature: 'dev.cosignproject.cosign/signature',
  /** The layer annotation `cosign attest` writes on a legacy `.att` layer. */
  CosignPredicateType: 'predicateType',
  BundleContent: 'dev.sigstore.bundle.content',
  BundlePredicateType: 'dev.sigstore.bundle.predicateType',
  Created: 'org.opencontainers.image.created',
  Title: 'org.opencontainers.image.title',
  InTotoPredicateType: 'in-toto.io/predicate-type',
  ReferenceType: 'vnd.docker.reference.type',
  ReferenceDigest: 'vnd.docker.reference.digest',
} as const;

const IN_TOTO_V01 = 'https://in-toto.io/Statement/v0.1';
const IN_TOTO_V1 = 'https://in-toto.io/Statement/v1';
const EMPTY_CONFIG = content(SupplyChainMediaType.Empty, '{}');
// Go's zero time: what cosign's go-containerregistry leaves in a signature image's config.
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

// --- keys and signing -------------------------------------------------------------------------

export interface TestKey {
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SubjectPublicKeyInfo PEM, as `cosign generate-key-pair` writes cosign.pub. */
  publicKeyPem: string;
  /** base64 SHA-256 of the DER public key: the bundle's verificationMaterial.publicKey.hint. */
  hint: string;
}

export function generateTestKey(name: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    name,
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    hint: createHash('sha256').update(der).digest('base64'),
  };
}

export interface SupplyChainKeys {
  /** The key `verify:` is configured with in the tests. */
  signing: TestKey;
  /** A key nobody configures: its signatures are valid but unknown. */
  other: TestKey;
}

let processKeys: SupplyChainKeys | undefined;

/** The two test keys of this process (generated once, so every builder call agrees). */
export function testKeys(): SupplyChainKeys {
  processKeys ??= { signing: generateTestKey('signing'), other: generateTestKey('other') };
  return processKeys;
}

// One signature per key and message, so building the same content twice gives the same bytes.
const signatures = new Map<string, string>();

/** ECDSA-SHA256 over `data`, ASN.1 DER, base64: what cosign puts in its signature annotation. */
export function signBase64(key: TestKey, data: Buffer): string {
  const id = `${key.hint}:${createHash('sha256').update(data).digest('hex')}`;
  let sig = signatures.get(id);
  if (!sig) {
    sig = sign('sha256', data, key.privateKey).toString('base64');
    signatures.set(id, sig);
  }
  return sig;
}

/** DSSE v1 pre-authentication encoding: what a DSSE signature is computed over (signing.ts). */
export const pae = preAuthEncoding;

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

function dsseEnvelope(statement: unknown, key: TestKey): DsseEnvelope {
  const payload = Buffer.from(JSON.stringify(statement));
  const payloadType = SupplyChainMediaType.InToto;
  return {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: '', sig: signBase64(key, pae(payloadType, payload)) }],
  };
}

function statement(
  version: typeof IN_TOTO_V01 | typeof IN_TOTO_V1,
  subjectName: string,
  subjectDigest: string,
  predicateType: string,
  predicate: unknown,
) {
  return {
    _type: version,
    subject: [{ name: subjectName, digest: { sha256: hexOf(subjectDigest) } }],
    predicateType,
    predicate,
  };
}

// --- tags ---------------------------------------------------------------------------------------

export function hexOf(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** The referrers tag schema's tag for a subject: `sha256-<hex>`. */
export function fallbackTag(subjectDigest: string): string {
  return subjectDigest.replace(':', '-');
}

/** A legacy cosign tag: `sha256-<hex>.sig`, `.att` or `.sbom`. */
export function cosignTag(subjectDigest: string, kind: 'sig' | 'att' | 'sbom'): string {
  return `${fallbackTag(subjectDigest)}.${kind}`;
}

// --- accessory builders -------------------------------------------------------------------------

const NO_PLATFORM: Platform = { architecture: '', os: '' };

/** A manifest of OCI `layers` over an image-config-typed config, as cosign's legacy tags are. */
function cosignImage(layers: { layer: Content; annotations: Record<string, string> }[]): BuiltImage {
  const config = content(
    MediaType.OciConfig,
    JSON.stringify({
      architecture: '',
      created: GO_ZERO_TIME,
      history: [{ created: GO_ZERO_TIME }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.layer.digest) },
      config: {},
    }),
  );
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: descriptor(config),
    layers: layers.map((l) => descriptor(l.layer, { annotations: l.annotations })),
  };
  return {
    manifest: content(MediaType.OciManifest, JSON.stringify(doc)),
    config,
    layers: layers.map((l) => l.layer),
    platform: NO_PLATFORM,
  };
}

/** The simple-signing payload cosign signs for an image, as a layer. */
function simpleSigningPayload(dockerReference: string, digest: string): Content {
  return content(SupplyChainMediaType.SimpleSigning, simpleSigningBytes(digest, dockerReference));
}

/**
 * A legacy `.sig` manifest: one simple-signing layer per signature, the base64 DER signature over
 * the payload bytes in the layer annotation. `payloadDigest` lets a test sign a payload naming
 * another image (a replayed signature).
 */
export function cosignSignature(
  subjectDigest: string,
  key: TestKey,
  opts: { dockerReference: string; payloadDigest?: string },
): BuiltImage {
  const payload = simpleSigningPayload(opts.dockerReference, opts.payloadDigest ?? subjectDigest);
  return cosignImage([
    {
      layer: payload,
      annotations: { [SupplyChainAnnotation.CosignSignature]: signBase64(key, payload.bytes) },
    },
  ]);
}

/**
 * A legacy `.att` manifest: a DSSE envelope around an in-toto statement for the subject.
 * `statementDigest` lets a test sign a statement naming another image (a replayed attestation).
 */
export function cosignAttestation(
  subjectDigest: string,
  key: TestKey,
  opts: { dockerReference: string; predicateType: string; predicate: unknown; statementDigest?: string },
): BuiltImage {
  const named = opts.statementDigest ?? subjectDigest;
  const envelope = dsseEnvelope(
    statement(IN_TOTO_V01, opts.dockerReference, named, opts.predicateType, opts.predicate),
    key,
  );
  const layer = content(SupplyChainMediaType.DsseEnvelope, JSON.stringify(envelope));
  // cosign leaves an empty signature annotation on attestation layers: the signature is in the envelope.
  return cosignImage([
    {
      layer,
      annotations: {
        [SupplyChainAnnotation.CosignSignature]: '',
        [SupplyChainAnnotation.CosignPredicateType]: opts.predicateType,
      },
    },
  ]);
}

/** A legacy `.sbom` manifest as `cosign attach sbom` stores an SPDX JSON document. */
export function cosignSbom(spdx: unknown): BuiltImage {
  return cosignImage([
    { layer: content(SupplyChainMediaType.SpdxJson, JSON.stringify(spdx)), annotations: {} },
  ]);
}

/** An OCI 1.1 artifact manifest: empty config, `artifactType`, one layer, `subject`. */
export function artifactManifest(opts: {
  subject: Content;
  artifactType: string;
  layer: Content;
  layerAnnotations?: Record<string, string>;
  annotations?: Record<string, string>;
}): BuiltImage {
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: opts.artifactType,
    config: descriptor(EMPTY_CONFIG),
    layers: [descriptor(opts.layer, opts.layerAnnotations ? { annotations: opts.layerAnnotations } : {})],
    subject: descriptor(opts.subject),
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  };
  return {
    manifest: content(MediaType.OciManifest, JSON.stringify(doc)),
    config: EMPTY_CONFIG,
    layers: [opts.layer],
    platform: NO_PLATFORM,
  };
}

/**
 * A sigstore bundle v0.3 referrer as cosign 3 writes it: the bundle (a DSSE envelope around an
 * in-toto statement for the subject, signed with `key`, with the key's hint) as the only layer.
 */
export function sigstoreBundle(
  subject: Content,
  key: TestKey,
  opts: {
    dockerReference: string;
    predicateType: string;
    predicate: unknown;
    created: string;
    /** The digest the signed statement names, when not the subject's (a replayed bundle). */
    statementDigest?: string;
  },
): BuiltImage {
  const named = opts.statementDigest ?? subject.digest;
  const bundle = {
    mediaType: SupplyChainMediaType.SigstoreBundle,
    verificationMaterial: { publicKey: { hint: key.hint }, tlogEntries: [], timestampVerificationData: {} },
    dsseEnvelope: dsseEnvelope(
      statement(IN_TOTO_V1, opts.dockerReference, named, opts.predicateType, opts.predicate),
      key,
    ),
  };
  const layer = content(SupplyChainMediaType.SigstoreBundle, JSON.stringify(bundle));
  return artifactManifest({
    subject,
    artifactType: SupplyChainMediaType.SigstoreBundle,
    layer,
    layerAnnotations: { [SupplyChainAnnotation.Title]: `sha256-${hexOf(layer.digest)}.sigstore.json` },
    annotations: {
      [SupplyChainAnnotation.BundleContent]: 'dsse-envelope',
      [SupplyChainAnnotation.BundlePredicateType]: opts.predicateType,
      [SupplyChainAnnotation.Created]: opts.created,
    },
  });
}

export interface ReferrerDescriptorDoc {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/**
 * The descriptor a referrers list holds for a manifest (distribution spec 1.1): its artifactType,
 * else its config's media type, and its annotations. Undefined when it has no `subject`.
 */
export function referrerDescriptor(
  manifest: Content,
): { subject: string; descriptor: ReferrerDescriptorDoc } | undefined {
  const doc = JSON.parse(manifest.bytes.toString('utf8')) as {
    artifactType?: string;
    config?: { mediaType?: string };
    subject?: { digest?: string };
    annotations?: Record<string, string>;
  };
  if (!doc.subject?.digest) return undefined;
  const artifactType = doc.artifactType ?? doc.config?.mediaType;
  return {
    subject: doc.subject.digest,
    descriptor: {
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.bytes.length,
      ...(artifactType ? { artifactType } : {}),
      ...(doc.annotations ? { annotations: doc.annotations } : {}),
    },
  };
}

/** An OCI index of referrer descriptors: the body of a referrers answer and of a fallback tag. */
export function referrersIndex(descriptors: ReferrerDescriptorDoc[]): Content {
  return content(
    MediaType.OciIndex,
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: descriptors }),
  );
}

// --- BuildKit -----------------------------------------------------------------------------------

type BuildkitForm = 'index-only' | 'referrer';

function buildkitAttestation(
  platformManifest: Content,
  opts: { form: BuildkitForm; seed: string; created: string },
): BuiltImage {
  const subjectName = `pkg:docker/${opts.seed}`;
  const predicates: [string, unknown][] = [
    [PredicateType.Spdx, spdxDocument(opts.seed, opts.created)],
    [
      PredicateType.SlsaV1,
      {
        buildDefinition: {
          buildType: 'https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md',
          externalParameters: { request: { frontend: 'dockerfile.v0' } },
        },
        runDetails: { builder: { id: '' }, metadata: { invocationID: opts.seed, startedOn: opts.created } },
      },
    ],
  ];
  const layers = predicates.map(([type, predicate]) => ({
    type,
    layer: content(
      SupplyChainMediaType.InToto,
      JSON.stringify(statement(IN_TOTO_V01, subjectName, platformManifest.digest, type, predicate)),
    ),
  }));
  const config = content(
    MediaType.OciConfig,
    JSON.stringify({
      architecture: 'unknown',
      os: 'unknown',
      config: {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.layer.digest) },
    }),
  );
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    ...(opts.form === 'referrer' ? { artifactType: SupplyChainMediaType.BuildkitAttestation } : {}),
    config: descriptor(config),
    layers: layers.map((l) =>
      descriptor(l.layer, { annotations: { [SupplyChainAnnotation.InTotoPredicateType]: l.type } }),
    ),
    ...(opts.form === 'referrer' ? { subject: descriptor(platformManifest) } : {}),
  };
  return {
    manifest: content(MediaType.OciManifest, JSON.stringify(doc)),
    config,
    layers: layers.map((l) => l.layer),
    platform: { architecture: 'unknown', os: 'unknown' },
  };
}

interface MultiArch {
  index: Content;
  platforms: BuiltImage[];
  /** BuildKit attestation manifests, each with the platform manifest it describes. */
  attestations: { built: BuiltImage; subject: string }[];
}

const PLATFORMS: Platform[] = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux' },
];

/** A linux/amd64 + linux/arm64 OCI index, with BuildKit attestation manifests when `buildkit` is set. */
function multiArch(seed: string, created: string, buildkit?: BuildkitForm): MultiArch {
  const platforms = PLATFORMS.map((platform) =>
    buildImage({
      platform,
      created,
      seed,
      labels: { 'org.opencontainers.image.version': seed },
      layerSize: 256,
    }),
  );
  const attestations = buildkit
    ? platforms.map((p) => ({
        built: buildkitAttestation(p.manifest, { form: buildkit, seed, created }),
        subject: p.manifest.digest,
      }))
    : [];
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      ...platforms.map((p) => descriptor(p.manifest, { platform: { ...p.platform } })),
      ...attestations.map((a) =>
        descriptor(a.built.manifest, {
          platform: { architecture: 'unknown', os: 'unknown' },
          annotations: {
            [SupplyChainAnnotation.ReferenceType]: 'attestation-manifest',
            [SupplyChainAnnotation.ReferenceDigest]: a.subject,
          },
        }),
      ),
    ],
  };
  return { index: content(MediaType.OciIndex, JSON.stringify(doc, null, 2)), platforms, attestations };
}

// --- documents ----------------------------------------------------------------------------------

function spdxDocument(name: string, created: string) {
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `https://devgraph.test/spdx/${name}`,
    creationInfo: { created, creators: ['Tool: devgraph-test-fixtures'] },
    packages: [
      {
        SPDXID: 'SPDXRef-Package-busybox',
        name: 'busybox',
        versionInfo: '1.36.1',
        downloadLocation: 'NOASSERTION',
      },
    ],
  };
}

type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

/** Findings behind the vulnerability facts: [id, severity, fixed in (or none)]. */
const VULN_FINDINGS: [string, Severity, string | undefined][] = [
  ['CVE-2026-0001', 'CRITICAL', '1.2.4'],
  ['CVE-2026-0002', 'HIGH', '2.0.1'],
  ['CVE-2026-0003', 'HIGH', undefined],
  ['CVE-2026-0004', 'MEDIUM', '3.1.0'],
  ['CVE-2026-0005', 'MEDIUM', undefined],
  ['CVE-2026-0006', 'MEDIUM', '3.1.2'],
  ['CVE-2026-0007', 'LOW', undefined],
];

const SARIF_FINDINGS: [string, Severity][] = [
  ['CVE-2026-1001', 'CRITICAL'],
  ['CVE-2026-1002', 'CRITICAL'],
  ['CVE-2026-1003', 'HIGH'],
  ['CVE-2026-1004', 'LOW'],
];

// GitHub code scanning reads `security-severity` scores: >= 9 critical, >= 7 high, >= 4 medium, else low.
const SEVERITY_SCORE: Record<Severity, string> = { CRITICAL: '9.8', HIGH: '7.5', MEDIUM: '5.3', LOW: '2.1' };
const SARIF_LEVEL: Record<Severity, string> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
};

/** Counts of scanner severities (`CRITICAL`, `HIGH`…), and how many have a fix when known. */
export function severityCounts(severities: string[], fixable?: number): VulnerabilityCounts {
  const n = (s: Severity) => severities.filter((x) => x === s).length;
  return {
    total: severities.length,
    critical: n('CRITICAL'),
    high: n('HIGH'),
    medium: n('MEDIUM'),
    low: n('LOW'),
    ...(fixable === undefined ? {} : { fixable }),
  };
}

/** A cosign `vuln` predicate whose scanner result is a Trivy JSON report. */
function vulnPredicate(artifactName: string, scannedAt: string) {
  return {
    invocation: { parameters: null, uri: '', event_id: '', 'builder.id': '' },
    scanner: {
      uri: 'pkg:github/aquasecurity/trivy@0.58.0',
      version: '0.58.0',
      db: { uri: '', version: '' },
      result: {
        SchemaVersion: 2,
        ArtifactName: artifactName,
        ArtifactType: 'container_image',
        Results: [
          {
            Target: `${artifactName} (debian 12.8)`,
            Class: 'os-pkgs',
            Type: 'debian',
            Vulnerabilities: VULN_FINDINGS.map(([id, severity, fixed], i) => ({
              VulnerabilityID: id,
              PkgName: `pkg${i}`,
              InstalledVersion: '1.0.0',
              ...(fixed ? { FixedVersion: fixed } : {}),
              Severity: severity,
            })),
          },
        ],
      },
    },
    metadata: { scanStartedOn: scannedAt, scanFinishedOn: scannedAt },
  };
}

/** A SARIF 2.1.0 report as Trivy writes one for an image. */
function sarifReport(artifactName: string) {
  return {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: {
          driver: {
            name: 'Trivy',
            informationUri: 'https://github.com/aquasecurity/trivy',
            version: '0.58.0',
            rules: SARIF_FINDINGS.map(([id, severity]) => ({
              id,
              name: 'OsPackageVulnerability',
              shortDescription: { text: id },
              defaultConfiguration: { level: SARIF_LEVEL[severity] },
              properties: {
                precision: 'very-high',
                'security-severity': SEVERITY_SCORE[severity],
                tags: ['vulnerability', 'security', severity],
              },
            })),
          },
        },
        results: SARIF_FINDINGS.map(([id, severity], i) => ({
          ruleId: id,
          ruleIndex: i,
          level: SARIF_LEVEL[severity],
          message: { text: `Package: pkg${i}\nSeverity: ${severity}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifactName, uriBaseId: 'ROOTPATH' },
                region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
              },
            },
          ],
        })),
        originalUriBaseIds: { ROOTPATH: { uri: 'file:///' } },
      },
    ],
  };
}

// --- the repository -----------------------------------------------------------------------------

/** The tagged images of the supply-chain repository, each showing one case. */
export type SupplyChainImage =
  /** Legacy cosign tags on the index: `.sig` (signing key), `.att` (SLSA v0.2), `.sbom` (SPDX). */
  | 'legacy'
  /** Sigstore bundles (signature + cosign vuln attestation) listed by a `sha256-<hex>` fallback tag. */
  | 'bundle'
  /** BuildKit attestation children (SPDX + SLSA v1), a SARIF report listed by a fallback tag. */
  | 'buildkit'
  /** BuildKit >= 0.32: the attestation children are also OCI artifacts with a `subject`. */
  | 'buildkit-referrer'
  /** A `.sig` and an `.att` by the other key: valid, but by a key nobody configured. */
  | 'unknown-key'
  /** A `.sig`, a signature bundle and an `.att` by the signing key that name another image (replayed). */
  | 'bad-signature'
  /** A `.sig` on the linux/amd64 manifest only: not signed as a whole. */
  | 'half-signed'
  /** Nothing attached. */
  | 'unsigned';

export const SUPPLY_CHAIN_IMAGES: readonly SupplyChainImage[] = [
  'legacy',
  'bundle',
  'buildkit',
  'buildkit-referrer',
  'unknown-key',
  'bad-signature',
  'half-signed',
  'unsigned',
];

/** How a manifest reached the repository. */
export type StoredAs =
  | 'tagged-index'
  | 'platform'
  | 'attestation-child'
  | 'cosign-tag'
  | 'referrer'
  | 'fallback-index';

export interface ManifestFact {
  digest: string;
  mediaType: string;
  storedAs: StoredAs;
  /** The role discovery should give it; absent for a fallback index (a listing, not an accessory). */
  role?: ManifestRole;
  /** The manifest's artifactType, else its config's media type when that is not an image config. */
  artifactType?: string;
  predicateTypes?: string[];
  /** The digest it refers to (OCI subject, cosign tag name, BuildKit reference digest). */
  subject?: string;
  /** The tag holding it, for cosign tags and fallback indexes. */
  tag?: string;
  /**
   * Expected verdict for a signature or a signed attestation (DSSE envelope, bundle) with `verify`
   * configured with the signing key only; BuildKit's unsigned attestations have none.
   */
  verification?: SignatureVerdict;
  /** `os/arch` of a platform manifest. */
  platform?: string;
}

export interface ImageFact {
  tag: string;
  /** The index digest. */
  digest: string;
  /** Platform manifest digest by `os/arch`. */
  platforms: Record<string, string>;
  /** BuildKit attestation manifests inside the index. */
  attestationChildren: string[];
  /** Expected trust with `verify` configured with the signing key only. */
  trust: Required<ImageTrust>;
  /** Expected counts read from an attached report, and which report. */
  vulnerabilities?: VulnerabilityCounts & { from: 'cosign-vuln-attestation' | 'sarif' };
  /** Every accessory referring to the index or one of its platforms (cosign tags, referrers, BuildKit children). */
  accessories: string[];
}

export interface SupplyChainFacts {
  repository: string;
  /** The docker-reference the signatures name (`registry.test/<repository>`). */
  dockerReference: string;
  images: Record<SupplyChainImage, ImageFact>;
  /** Every manifest in the repository, by digest. */
  manifests: Record<string, ManifestFact>;
  /** Tags of DockerImages (one per SupplyChainImage). */
  imageTags: string[];
  /** Tags holding only accessories: legacy cosign tags and `sha256-<hex>` fallback indexes. */
  accessoryTags: string[];
  /** What `GET /v2/<name>/referrers/<subject>` lists: subject digest -> referrer digests. */
  referrers: Record<string, string[]>;
  /** The PEM public key of `keys.signing`, for a `verify:` config. */
  publicKeyPem: string;
}

export interface SupplyChainRepository {
  content: RepositoryContent;
  facts: SupplyChainFacts;
}

const CREATED = '2026-01-15T10:00:00Z';
const ATTACHED = '2026-01-15T10:05:00Z';

/**
 * A repository holding every supply-chain case on multi-arch (linux/amd64 + linux/arm64) images,
 * with the facts the tests assert. Same name and keys in one process give the same bytes.
 */
export function supplyChainRepository(
  name = 'supply/chain',
  keys: SupplyChainKeys = testKeys(),
): SupplyChainRepository {
  const dockerReference = `registry.test/${name}`;
  const builder = new RepositoryBuilder(name);
  const manifests: Record<string, ManifestFact> = {};
  const accessoryTags: string[] = [];
  const fact = (m: Content, f: Omit<ManifestFact, 'digest' | 'mediaType'>) => {
    manifests[m.digest] = { digest: m.digest, mediaType: m.mediaType, ...f };
  };

  const images = {} as Record<SupplyChainImage, ImageFact>;
  const built = {} as Record<SupplyChainImage, MultiArch>;
  for (const tag of SUPPLY_CHAIN_IMAGES) {
    const form = tag === 'buildkit' ? 'index-only' : tag === 'buildkit-referrer' ? 'referrer' : undefined;
    const img = multiArch(`${name}:${tag}`, CREATED, form);
    built[tag] = img;
    for (const p of img.platforms) {
      builder.addImage(p);
      fact(p.manifest, {
        storedAs: 'platform',
        role: 'image',
        platform: `${p.platform.os}/${p.platform.architecture}`,
      });
    }
    for (const a of img.attestations) {
      builder.addImage(a.built);
      fact(a.built.manifest, {
        storedAs: 'attestation-child',
        role: 'attestation',
        ...(form === 'referrer' ? { artifactType: SupplyChainMediaType.BuildkitAttestation } : {}),
        predicateTypes: [PredicateType.Spdx, PredicateType.SlsaV1],
        subject: a.subject,
      });
    }
    builder.addManifest(img.index, tag);
    fact(img.index, { storedAs: 'tagged-index', role: 'index' });
    images[tag] = {
      tag,
      digest: img.index.digest,
      platforms: Object.fromEntries(
        img.platforms.map((p) => [`${p.platform.os}/${p.platform.architecture}`, p.manifest.digest]),
      ),
      attestationChildren: img.attestations.map((a) => a.built.manifest.digest),
      trust: { signed: false, sbom: false, provenance: false, verified: false },
      accessories: img.attestations.map((a) => a.built.manifest.digest),
    };
  }

  const addCosignTag = (
    image: SupplyChainImage,
    subject: string,
    kind: 'sig' | 'att' | 'sbom',
    m: BuiltImage,
    extra: Partial<ManifestFact>,
  ) => {
    const tag = cosignTag(subject, kind);
    builder.addImage(m, tag);
    accessoryTags.push(tag);
    const role: ManifestRole = kind === 'sig' ? 'signature' : kind === 'att' ? 'attestation' : 'sbom';
    fact(m.manifest, { storedAs: 'cosign-tag', role, subject, tag, ...extra });
    images[image].accessories.push(m.manifest.digest);
  };
  const addReferrer = (
    image: SupplyChainImage,
    m: BuiltImage,
    f: Omit<ManifestFact, 'digest' | 'mediaType' | 'storedAs'>,
  ) => {
    builder.addImage(m);
    fact(m.manifest, { storedAs: 'referrer', subject: built[image].index.digest, ...f });
    images[image].accessories.push(m.manifest.digest);
  };
  const addFallbackIndex = (image: SupplyChainImage, referrers: BuiltImage[]) => {
    const subject = built[image].index.digest;
    const listing = referrersIndex(referrers.map((r) => referrerDescriptor(r.manifest)!.descriptor));
    const tag = fallbackTag(subject);
    builder.addManifest(listing, tag);
    accessoryTags.push(tag);
    fact(listing, { storedAs: 'fallback-index', subject, tag });
  };

  // legacy: .sig, .att, .sbom on the index
  {
    const subject = images.legacy.digest;
    addCosignTag('legacy', subject, 'sig', cosignSignature(subject, keys.signing, { dockerReference }), {
      verification: 'verified',
    });
    addCosignTag(
      'legacy',
      subject,
      'att',
      cosignAttestation(subject, keys.signing, {
        dockerReference,
        predicateType: PredicateType.SlsaV02,
        predicate: {
          builder: { id: 'https://github.com/devgraph/fixtures/.github/workflows/build.yml@refs/heads/main' },
          buildType: 'https://github.com/slsa-framework/slsa-github-generator/container@v1',
          invocation: { configSource: { uri: 'git+https://github.com/devgraph/fixtures@refs/heads/main' } },
        },
      }),
      { predicateTypes: [PredicateType.SlsaV02], verification: 'verified' },
    );
    addCosignTag('legacy', subject, 'sbom', cosignSbom(spdxDocument(`${name}:legacy`, CREATED)), {});
    images.legacy.trust = { signed: true, sbom: true, provenance: true, verified: true };
  }

  // bundle: a signature bundle and a vuln attestation bundle, listed by the fallback tag
  {
    const subject = built.bundle.index;
    const signature = sigstoreBundle(subject, keys.signing, {
      dockerReference,
      predicateType: PredicateType.CosignSign,
      predicate: {},
      created: ATTACHED,
    });
    const vuln = sigstoreBundle(subject, keys.signing, {
      dockerReference,
      predicateType: PredicateType.CosignVuln,
      predicate: vulnPredicate(`${dockerReference}:bundle`, ATTACHED),
      created: ATTACHED,
    });
    addReferrer('bundle', signature, {
      role: 'signature',
      artifactType: SupplyChainMediaType.SigstoreBundle,
      predicateTypes: [PredicateType.CosignSign],
      verification: 'verified',
    });
    addReferrer('bundle', vuln, {
      role: 'attestation',
      artifactType: SupplyChainMediaType.SigstoreBundle,
      predicateTypes: [PredicateType.CosignVuln],
      verification: 'verified',
    });
    addFallbackIndex('bundle', [signature, vuln]);
    images.bundle.trust = { signed: true, sbom: false, provenance: false, verified: true };
    const fixable = VULN_FINDINGS.filter(([, , fixed]) => fixed).length;
    images.bundle.vulnerabilities = {
      ...severityCounts(
        VULN_FINDINGS.map(([, s]) => s),
        fixable,
      ),
      from: 'cosign-vuln-attestation',
    };
  }

  // buildkit: attestation children in the index, and a SARIF report listed by the fallback tag
  {
    const subject = built.buildkit.index;
    const sarif = artifactManifest({
      subject,
      artifactType: SupplyChainMediaType.Sarif,
      layer: content(SupplyChainMediaType.Sarif, JSON.stringify(sarifReport(`${dockerReference}:buildkit`))),
      layerAnnotations: { [SupplyChainAnnotation.Title]: 'trivy.sarif' },
      annotations: { [SupplyChainAnnotation.Created]: ATTACHED },
    });
    addReferrer('buildkit', sarif, { role: 'artifact', artifactType: SupplyChainMediaType.Sarif });
    addFallbackIndex('buildkit', [sarif]);
    images.buildkit.trust = { signed: false, sbom: true, provenance: true, verified: false };
    images.buildkit.vulnerabilities = {
      ...severityCounts(SARIF_FINDINGS.map(([, s]) => s)),
      from: 'sarif',
    };
  }
  images['buildkit-referrer'].trust = { signed: false, sbom: true, provenance: true, verified: false };

  // unknown-key: valid signature by a key nobody configured
  {
    const subject = images['unknown-key'].digest;
    addCosignTag('unknown-key', subject, 'sig', cosignSignature(subject, keys.other, { dockerReference }), {
      verification: 'unknown-key',
    });
    const attestation = cosignAttestation(subject, keys.other, {
      dockerReference,
      predicateType: PredicateType.CosignCustom,
      predicate: { data: 'attested with a key nobody configured', timestamp: ATTACHED },
    });
    addCosignTag('unknown-key', subject, 'att', attestation, {
      predicateTypes: [PredicateType.CosignCustom],
      verification: 'unknown-key',
    });
    images['unknown-key'].trust = { signed: true, sbom: false, provenance: false, verified: false };
  }

  // bad-signature: the signing key's signatures over a payload and a statement naming the legacy image
  {
    const subject = images['bad-signature'].digest;
    // Its payload names this tag's reference, so the manifest is not byte for byte legacy's own
    // `.sig` (that replay is one manifest under two tags: discovery links it to both subjects).
    const sig = cosignSignature(subject, keys.signing, {
      dockerReference: `${dockerReference}:bad-signature`,
      payloadDigest: images.legacy.digest,
    });
    addCosignTag('bad-signature', subject, 'sig', sig, { verification: 'bad' });
    // And a bundle replayed the same way: signed by the signing key, its statement naming the legacy image.
    const replayed = sigstoreBundle(built['bad-signature'].index, keys.signing, {
      dockerReference,
      predicateType: PredicateType.CosignSign,
      predicate: {},
      created: ATTACHED,
      statementDigest: images.legacy.digest,
    });
    addReferrer('bad-signature', replayed, {
      role: 'signature',
      artifactType: SupplyChainMediaType.SigstoreBundle,
      predicateTypes: [PredicateType.CosignSign],
      verification: 'bad',
    });
    addFallbackIndex('bad-signature', [replayed]);
    // And an `.att` replayed the same way: genuine, its statement naming the legacy image.
    const copied = cosignAttestation(subject, keys.signing, {
      dockerReference,
      predicateType: PredicateType.CosignCustom,
      predicate: { data: 'attested for the legacy image', timestamp: ATTACHED },
      statementDigest: images.legacy.digest,
    });
    addCosignTag('bad-signature', subject, 'att', copied, {
      predicateTypes: [PredicateType.CosignCustom],
      verification: 'bad',
    });
    images['bad-signature'].trust = { signed: true, sbom: false, provenance: false, verified: false };
  }

  // half-signed: only the linux/amd64 manifest carries a signature
  {
    const subject = images['half-signed'].platforms['linux/amd64']!;
    addCosignTag('half-signed', subject, 'sig', cosignSignature(subject, keys.signing, { dockerReference }), {
      verification: 'verified',
    });
  }

  const repository = builder.build();
  const referrers: Record<string, string[]> = {};
  for (const m of repository.manifests) {
    const r = referrerDescriptor(m);
    if (r) referrers[r.subject] = [...(referrers[r.subject] ?? []), m.digest];
  }

  return {
    content: repository,
    facts: {
      repository: name,
      dockerReference,
      images,
      manifests,
      imageTags: [...SUPPLY_CHAIN_IMAGES],
      accessoryTags: accessoryTags.sort(),
      referrers,
      publicKeyPem: keys.signing.publicKeyPem,
    },
  };
}
