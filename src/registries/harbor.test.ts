import { describe, expect, it } from 'vitest';
import { harborArtifactTags, harborRepositoryPath, harborVulnerabilities } from './harbor.js';
import type { VendorTag } from './registry-adapter.js';

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
      false,
    );
    expect(Object.fromEntries(vendor)).toEqual({
      latest: { digest: D1, pushedAt: '2024-10-03T00:00:00Z' },
      '1.0': { digest: D1, pushedAt: '2024-10-02T17:55:35Z' },
      [`sha256-${'a'.repeat(64)}.sig`]: { digest: SIG, pushedAt: '2024-10-04T00:00:00Z' },
    });
  });
});
