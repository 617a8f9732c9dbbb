import { describe, expect, it } from 'vitest';
import { formatReset } from './ghcr.js';

describe('formatReset', () => {
  it('shows the reset time in UTC', () => {
    expect(formatReset(Date.parse('2030-01-01T07:05:00Z') / 1000)).toBe('resets 07:05 UTC');
    expect(formatReset(undefined)).toBe('');
  });
});
