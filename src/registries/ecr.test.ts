import { describe, expect, it } from 'vitest';
import {
  ecrApiError,
  ecrRegistryCredentials,
  lifecycleImageFromEcr,
  parseEcrHost,
  vulnerabilityCounts,
} from './ecr.js';

describe('ECR helpers', () => {
  it('reads account, region and FIPS from registry hosts', () => {
    expect(parseEcrHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toEqual({
      accountId: '123456789012',
      region: 'eu-west-1',
      fips: false,
    });
    expect(parseEcrHost('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com')?.fips).toBe(true);
    expect(parseEcrHost('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn')?.region).toBe('cn-north-1');
    expect(parseEcrHost('123456789012.dkr-ecr.us-east-1.on.aws')?.region).toBe('us-east-1');
    expect(parseEcrHost('public.ecr.aws')).toBeUndefined();
    expect(parseEcrHost('registry.example.com')).toBeUndefined();
  });

  it('turns the credential forms into Basic AWS:<password>', () => {
    expect(ecrRegistryCredentials({ token: 'eyJwYXlsb2Fk' })).toEqual({
      username: 'AWS',
      password: 'eyJwYXlsb2Fk',
    });
    expect(ecrRegistryCredentials({ username: 'AWS', password: 'pw-1234' })).toEqual({
      username: 'AWS',
      password: 'pw-1234',
    });
    const encoded = Buffer.from('AWS:secret-password').toString('base64');
    expect(ecrRegistryCredentials({ token: encoded })).toEqual({
      username: 'AWS',
      password: 'secret-password',
    });
  });

  it('maps scan severities to lowercase counts with a total', () => {
    expect(
      vulnerabilityCounts({ CRITICAL: 1, HIGH: 2, MEDIUM: 3, LOW: 4, INFORMATIONAL: 5, UNDEFINED: 6 }),
    ).toEqual({
      total: 21,
      critical: 1,
      high: 2,
      medium: 3,
      low: 4,
      informational: 5,
      unknown: 6,
    });
    expect(vulnerabilityCounts({})).toEqual({ total: 0 });
  });

  it('names the permission an AccessDenied lacks', () => {
    const err = ecrApiError(
      { name: 'AccessDeniedException', message: 'not authorized', $metadata: { httpStatusCode: 400 } },
      'DescribeRepositories',
      'registry 123456789012',
      'x',
    );
    expect(err.message).toContain('needs the ecr:DescribeRepositories permission');
  });
});

describe('lifecycleImageFromEcr', () => {
  const digest = `sha256:${'a'.repeat(64)}`;

  it('reads the times, storage class and subject of a DescribeImages row', () => {
    expect(
      lifecycleImageFromEcr({
        imageDigest: digest,
        imageTags: ['v1', 'latest'],
        imagePushedAt: new Date('2026-01-02T03:04:05Z'),
        lastRecordedPullTime: new Date('2026-06-01T00:00:00Z'),
        imageStatus: 'ARCHIVED',
        lastArchivedAt: new Date('2026-07-01T00:00:00Z'),
        lastActivatedAt: new Date('2026-03-01T00:00:00Z'),
        subjectManifestDigest: `sha256:${'b'.repeat(64)}`,
      }),
    ).toEqual({
      digest,
      tags: ['v1', 'latest'],
      pushedAt: '2026-01-02T03:04:05.000Z',
      lastPulledAt: '2026-06-01T00:00:00.000Z',
      storageClass: 'archive',
      lastArchivedAt: '2026-07-01T00:00:00.000Z',
      lastActivatedAt: '2026-03-01T00:00:00.000Z',
      subject: `sha256:${'b'.repeat(64)}`,
    });
  });

  it('reads an untagged, never pulled, active image as standard with no tags', () => {
    expect(
      lifecycleImageFromEcr({
        imageDigest: digest,
        imagePushedAt: new Date('2026-01-02T00:00:00Z'),
        imageStatus: 'ACTIVE',
      }),
    ).toEqual({ digest, tags: [], pushedAt: '2026-01-02T00:00:00.000Z' });
  });

  it('has no image for a row without a digest or a push time', () => {
    expect(lifecycleImageFromEcr({ imageTags: ['v1'], imagePushedAt: new Date() })).toBeUndefined();
    expect(lifecycleImageFromEcr({ imageDigest: digest })).toBeUndefined();
  });
});
