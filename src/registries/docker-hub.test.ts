import { describe, expect, it } from 'vitest';
import { describeWindow, jwtExpiry, parseQuotaHeader } from './docker-hub.js';

describe('docker-hub helpers', () => {
  it('reads the pull-limit headers in their "count;w=seconds" form', () => {
    expect(parseQuotaHeader('100;w=21600')).toEqual({ value: 100, window: 21600 });
    expect(parseQuotaHeader('97')).toEqual({ value: 97 });
    expect(parseQuotaHeader(' 0 ; w=3600')).toEqual({ value: 0, window: 3600 });
    expect(parseQuotaHeader(undefined)).toBeUndefined();
    expect(parseQuotaHeader('unlimited')).toBeUndefined();
  });

  it('says a window the way people do', () => {
    expect(describeWindow(21600)).toBe('6 h');
    expect(describeWindow(3600)).toBe('1 h');
    expect(describeWindow(1800)).toBe('30 min');
    expect(describeWindow(45)).toBe('45 s');
  });

  it('reads a JWT expiry, and gives up quietly on anything else', () => {
    const claims = Buffer.from(JSON.stringify({ exp: 1_700_000_600 })).toString('base64url');
    expect(jwtExpiry(`e30.${claims}.sig`)).toBe(1_700_000_600_000);
    expect(jwtExpiry('opaque-token')).toBeUndefined();
    expect(jwtExpiry('a.%%%.c')).toBeUndefined();
  });
});
