import { describe, expect, it } from 'vitest';
import {
  harborAccessories,
  harborArtifactTags,
  harborListedManifest,
  harborRepositoryPath,
  harborVulnerabilities,
} from './harbor.js';
import type { ReferrerDescriptor, VendorTag } from './registry-adapter.js';

const D1 = `sha256:${'a'.repeat(64)}`;
const SIG = `sha256:${'b'.repeat(64)}`;

describe('harbor helpers', () => {
  it('double-encodes nested repository names', () => {
    expect(harborRepositoryPath('platform/ingress-controller')).toBe('platform%252Fingress-controller');
    expect(harborRepositoryPath('nginx')).toBe('nginx');
  });

  it('reads a finished scan, and nothing from an unfinished or missing one', () => {
    const summary = {
      total: 9,
      fixable: 2,
      summary: { Critical: 1, High: 2, Medium: 3, Low: 1, Negligible: 1, Unknown: 1 },
    };
    expect(harborVulnerabilities({ 'application/x': { scan_status: 'Success', summary } })).toEqual({
      total: 9,
      fixable: 2,
      critical: 1,
      high: 2,
      medium: 3,
      low: 1,
      informational: 1,
      unknown: 1,
    });
    expect(harborVulnerabilities({ 'application/x': { scan_status: 'Running' } })).toBeUndefined();
    expect(harborVulnerabilities({})).toBeUndefined();
    expect(harborVulnerabilities(null)).toBeUndefined();
  });

  it('maps tags to the artifact digest and rebuilds a cosign accessory tag', () => {
    const vendor = new Map<string, VendorTag>();
    harborArtifactTags(
      [
        {
          digest: D1,
          push_time: '2024-10-02T17:55:35.000Z',
          tags: [
            { name: 'latest', push_time: '2024-10-03T00:00:00.000Z' },
            { name: '1.0', push_time: '0001-01-01T00:00:00.000Z' },
          ],
          accessories: [
            {
              type: 'signature.cosign',
              digest: SIG,
              subject_artifact_digest: D1,
              creation_time: '2024-10-04T00:00:00.000Z',
            },
          ],
        },
      ],
      vendor,
      { vulnerabilities: false, describe: false },
    );
    expect(Object.fromEntries(vendor)).toEqual({
      latest: { digest: D1, pushedAt: '2024-10-03T00:00:00Z' },
      '1.0': { digest: D1, pushedAt: '2024-10-02T17:55:35Z' },
      [`sha256-${'a'.repeat(64)}.sig`]: { digest: SIG, pushedAt: '2024-10-04T00:00:00Z' },
    });
  });

  it('hands accessories on by subject, typed where Harbor names the type', () => {
    const child = `sha256:${'c'.repeat(64)}`;
    const n = (ch: string) => `sha256:${ch.repeat(64)}`;
    const referrers = new Map<string, ReferrerDescriptor[]>();
    const rows = [
      {
        digest: D1,
        accessories: [
          { type: 'signature.cosign', digest: SIG, subject_artifact_digest: D1 },
          { type: 'signature.notation', digest: n('d') },
          { type: 'sbom.harbor', digest: n('e'), subject_artifact_digest: D1 },
          { type: 'subject.accessory', digest: n('f'), subject_artifact_digest: child },
          { type: 'signature.cosign', digest: 'sha256:short' },
        ],
      },
    ];
    harborAccessories(rows, referrers);
    // The same page read twice (a retried walk) adds nothing.
    harborAccessories(rows, referrers);
    expect(Object.fromEntries(referrers)).toEqual({
      [D1]: [
        { digest: SIG, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' },
        { digest: n('d'), artifactType: 'application/vnd.cncf.notary.signature' },
        { digest: n('e'), artifactType: 'application/vnd.goharbor.harbor.sbom.v1' },
      ],
      [child]: [{ digest: n('f') }],
    });
  });

  describe('harborListedManifest (read_manifests: false)', () => {
    const image = {
      digest: D1,
      type: 'IMAGE',
      manifest_media_type: 'application/vnd.oci.image.manifest.v1+json',
      size: 2048,
      extra_attrs: {
        created: '2024-10-02T17:55:35.123456789Z',
        architecture: 'amd64',
        os: 'linux',
        author: 'ci',
        config: { Labels: { 'org.opencontainers.image.source': 'https://github.com/acme/app', n: 1 } },
      },
    };

    it("describes a single-platform image from its row's extra_attrs", () => {
      expect(harborListedManifest(image)).toEqual({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        platform: { architecture: 'amd64', os: 'linux' },
        created: '2024-10-02T17:55:35.123456789Z',
        size: 2048,
        labels: { 'org.opencontainers.image.source': 'https://github.com/acme/app' },
      });
      const bare = {
        ...image,
        size: 0,
        extra_attrs: { ...image.extra_attrs, created: '0001-01-01T00:00:00Z', config: null },
      };
      expect(harborListedManifest(bare)).toEqual({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        platform: { architecture: 'amd64', os: 'linux' },
        labels: {},
      });
    });

    it('leaves to the manifest what the row cannot say', () => {
      const index = {
        ...image,
        manifest_media_type: 'application/vnd.oci.image.index.v1+json',
        extra_attrs: {},
      };
      for (const row of [
        index,
        { ...image, type: 'CHART' },
        { ...image, manifest_media_type: 'application/vnd.docker.distribution.manifest.v1+prettyjws' },
        { ...image, extra_attrs: null },
        { ...image, extra_attrs: { ...image.extra_attrs, os: '' } },
        { ...image, extra_attrs: { ...image.extra_attrs, architecture: 'arm' } },
        { ...image, extra_attrs: { ...image.extra_attrs, architecture: 'arm64' } },
      ])
        expect(harborListedManifest(row)).toBeUndefined();
    });

    it('is attached to every tag of the row only when asked for', () => {
      const row = { ...image, tags: [{ name: 'a' }, { name: 'b' }] };
      const on = new Map<string, VendorTag>();
      harborArtifactTags([row], on, { vulnerabilities: false, describe: true });
      expect(on.get('a')?.listed?.platform).toEqual({ architecture: 'amd64', os: 'linux' });
      expect(on.get('b')?.listed).toBe(on.get('a')?.listed);
      const off = new Map<string, VendorTag>();
      harborArtifactTags([row], off, { vulnerabilities: false, describe: false });
      expect(off.get('a')?.listed).toBeUndefined();
    });
  });
});
