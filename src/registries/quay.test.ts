import { describe, expect, it } from 'vitest';
import { quayCredentials, quayLiveTags } from './quay.js';
import type { VendorTag } from './registry-adapter.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

describe('quay helpers', () => {
  it('sends each credential where Quay accepts it', () => {
    expect(quayCredentials({ token: 't0k3n' })).toEqual({
      apiToken: 't0k3n',
      registry: { username: '$oauthtoken', password: 't0k3n' },
    });
    expect(quayCredentials({ username: '$oauthtoken', password: 't0k3n' }).apiToken).toBe('t0k3n');
    expect(quayCredentials({ username: 'acme+ci', password: 'robot' })).toEqual({
      registry: { username: 'acme+ci', password: 'robot' },
    });
    expect(quayCredentials({ username: 'acme+ci', token: 'robot' })).toEqual({
      registry: { username: 'acme+ci', password: 'robot' },
    });
    expect(quayCredentials({ username: 'acme+ci', password: 'robot', token: 'oauth' })).toEqual({
      apiToken: 'oauth',
      registry: { username: 'acme+ci', password: 'robot' },
    });
    expect(quayCredentials({})).toEqual({ registry: {} });
  });

  it('keeps live tags only, the newest entry of each name', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const vendor = new Map<string, VendorTag>();
    quayLiveTags(
      [
        { name: 'latest', manifest_digest: D1, start_ts: 1_727_891_735 },
        { name: 'old', manifest_digest: D2, start_ts: 1_700_000_000, end_ts: 1_710_000_000 },
        { name: 'latest', manifest_digest: D2, start_ts: 1_718_139_852, end_ts: 1_727_891_735 },
        { name: 'expiring', manifest_digest: D2, start_ts: 1_700_000_000, end_ts: 1_800_000_000 },
        { name: 'dated', manifest_digest: D2, last_modified: 'Wed, 02 Oct 2024 17:55:35 -0000' },
      ],
      vendor,
      now,
    );
    expect(Object.fromEntries(vendor)).toEqual({
      latest: { digest: D1, pushedAt: '2024-10-02T17:55:35Z' },
      expiring: { digest: D2, pushedAt: '2023-11-14T22:13:20Z' },
      dated: { digest: D2, pushedAt: '2024-10-02T17:55:35Z' },
    });
  });
});
