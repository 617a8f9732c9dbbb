import { describe, expect, it } from 'vitest';
import type { ManifestRecord } from '../model/discovery.js';
import { imageTrust, rollUp } from './accessory-reader.js';
import { type AccessoryShape, classifyAccessory, type FoundAs } from './classify.js';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const EMPTY = 'application/vnd.oci.empty.v1+json';
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

const layer = (mediaType: string, annotations?: Record<string, string>) => ({
  digest: `sha256:${'a'.repeat(64)}`,
  size: 1,
  mediaType,
  ...(annotations ? { annotations } : {}),
});

describe('classifyAccessory', () => {
  it.each<[string, AccessoryShape, FoundAs, ReturnType<typeof classifyAccessory>]>([
    [
      'legacy cosign .sig (image config, simple signing layer)',
      { configMediaType: OCI_CONFIG, layers: [layer('application/vnd.dev.cosign.simplesigning.v1+json')] },
      'sig',
      { role: 'signature', predicateTypes: [] },
    ],
    [
      'a simple signing layer found without its tag',
      { configMediaType: OCI_CONFIG, layers: [layer('application/vnd.dev.cosign.simplesigning.v1+json')] },
      undefined,
      { role: 'signature', predicateTypes: [] },
    ],
    [
      'legacy cosign .att: DSSE layer with its predicateType annotation',
      {
        configMediaType: OCI_CONFIG,
        layers: [
          layer('application/vnd.dsse.envelope.v1+json', {
            predicateType: 'https://slsa.dev/provenance/v0.2',
          }),
        ],
      },
      'att',
      { role: 'attestation', predicateTypes: ['https://slsa.dev/provenance/v0.2'] },
    ],
    [
      'legacy cosign .sbom (SPDX layer)',
      { configMediaType: OCI_CONFIG, layers: [layer('text/spdx+json')] },
      'sbom',
      { role: 'sbom', predicateTypes: [] },
    ],
    [
      'sigstore bundle signature',
      {
        artifactType: BUNDLE,
        configMediaType: EMPTY,
        layers: [layer(BUNDLE)],
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
      },
      undefined,
      { role: 'signature', artifactType: BUNDLE, predicateTypes: ['https://sigstore.dev/cosign/sign/v1'] },
    ],
    [
      'sigstore bundle attestation, even under a .sig name (Harbor types every bundle as a signature)',
      {
        artifactType: BUNDLE,
        configMediaType: EMPTY,
        layers: [layer(BUNDLE)],
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://spdx.dev/Document' },
      },
      'sig',
      { role: 'attestation', artifactType: BUNDLE, predicateTypes: ['https://spdx.dev/Document'] },
    ],
    [
      'BuildKit attestation manifest (image config, in-toto layers)',
      {
        configMediaType: OCI_CONFIG,
        layers: [
          layer('application/vnd.in-toto+json', { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' }),
          layer('application/vnd.in-toto+json', {
            'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v1',
          }),
        ],
      },
      'buildkit-attestation',
      {
        role: 'attestation',
        predicateTypes: ['https://spdx.dev/Document', 'https://slsa.dev/provenance/v1'],
      },
    ],
    [
      'notation signature',
      {
        artifactType: 'application/vnd.cncf.notary.signature',
        configMediaType: EMPTY,
        layers: [layer('application/jose+json')],
      },
      undefined,
      { role: 'signature', artifactType: 'application/vnd.cncf.notary.signature', predicateTypes: [] },
    ],
    [
      'an artifact type in the config media type (ORAS before OCI 1.1)',
      { configMediaType: 'application/vnd.cyclonedx+json', layers: [layer('application/json')] },
      undefined,
      { role: 'sbom', artifactType: 'application/vnd.cyclonedx+json', predicateTypes: [] },
    ],
    [
      'a SARIF report: an artifact',
      {
        artifactType: 'application/sarif+json',
        configMediaType: EMPTY,
        layers: [layer('application/sarif+json')],
      },
      undefined,
      { role: 'artifact', artifactType: 'application/sarif+json', predicateTypes: [] },
    ],
  ])('%s', (_name, shape, foundAs, expected) => {
    expect(classifyAccessory(shape, foundAs)).toEqual(expected);
  });
});

describe('imageTrust: an accessory counts on the tag or on every platform', () => {
  const INDEX = 'sha256:index';
  const AMD = 'sha256:amd';
  const ARM = 'sha256:arm';
  const acc = (
    role: ManifestRecord['role'],
    subject: string,
    extra: Partial<ManifestRecord> = {},
  ): ManifestRecord => ({
    digest: `sha256:${role}-${subject}`,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    schemaVersion: 2,
    labels: {},
    role,
    subject,
    ...extra,
  });
  const provenance = { predicateTypes: ['https://slsa.dev/provenance/v1'] };
  const spdx = { predicateTypes: ['https://spdx.dev/Document'] };

  it.each<[string, ManifestRecord[], string[] | undefined, boolean, ReturnType<typeof imageTrust>]>([
    ['nothing found', [], [], false, { signed: false, sbom: false, provenance: false }],
    [
      'a signature on the tag',
      [acc('signature', INDEX)],
      [],
      false,
      { signed: true, sbom: false, provenance: false },
    ],
    [
      'a signature on one platform only',
      [acc('signature', AMD)],
      [],
      false,
      { signed: false, sbom: false, provenance: false },
    ],
    [
      'a signature on every platform',
      [acc('signature', AMD), acc('signature', ARM)],
      [],
      false,
      { signed: true, sbom: false, provenance: false },
    ],
    [
      'BuildKit attestations on every platform: SBOM and provenance',
      [
        acc('attestation', AMD, { predicateTypes: [...spdx.predicateTypes, ...provenance.predicateTypes] }),
        acc('attestation', ARM, { predicateTypes: [...spdx.predicateTypes, ...provenance.predicateTypes] }),
      ],
      [],
      false,
      { signed: false, sbom: true, provenance: true },
    ],
    ['an sbom accessory', [acc('sbom', INDEX)], [], false, { signed: false, sbom: true, provenance: false }],
    [
      'provenance from the vendor store alone',
      [],
      ['https://slsa.dev/provenance/v1'],
      false,
      { signed: false, sbom: false, provenance: true },
    ],
    [
      'a vendor store not asked: SBOM and provenance the registry does not show are unknown',
      [acc('signature', INDEX)],
      undefined,
      false,
      { signed: true },
    ],
    [
      'a vendor store not asked: what the registry shows is still found',
      [acc('attestation', INDEX, { predicateTypes: provenance.predicateTypes })],
      undefined,
      false,
      { signed: false, provenance: true },
    ],
    [
      'verification asked: a good signature for the tag',
      [acc('signature', INDEX, { verification: 'verified' })],
      [],
      true,
      { signed: true, sbom: false, provenance: false, verified: true },
    ],
    [
      'verification asked: a bad signature is signed but not verified',
      [acc('signature', INDEX, { verification: 'bad' })],
      [],
      true,
      { signed: true, sbom: false, provenance: false, verified: false },
    ],
    [
      'a verified signature found under another subject vouches only for the one it names',
      [acc('signature', 'sha256:other', { verification: 'verified', alsoRefersTo: [INDEX] })],
      [],
      true,
      { signed: true, sbom: false, provenance: false, verified: false },
    ],
  ])('%s', (_name, accessories, vendor, verifying, expected) => {
    expect(imageTrust(INDEX, [AMD, ARM], accessories, vendor, verifying)).toEqual(expected);
  });
});

describe('rollUp', () => {
  it('adds up platform counts only when every platform has them, and says so', () => {
    expect(
      rollUp([
        { total: 3, critical: 1, high: 2 },
        { total: 1, critical: 1 },
      ]),
    ).toEqual({
      total: 4,
      critical: 2,
      high: 2,
      source: 'registry scanner, summed over platform manifests',
    });
    expect(rollUp([{ total: 3 }, undefined])).toBeUndefined();
    expect(rollUp([])).toBeUndefined();
  });
});
