import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { Secrets } from '../secrets.js';
import { cacheKeyProblem, cacheKeys, canonicalJson, configHash } from './cache-key.js';

const settings = (yaml: string) => loadConfig(yaml, { env: {}, secrets: new Secrets(), origin: 'test' });
const ONE = 'providers:\n  - name: a\n    type: docker\n';

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(canonicalJson({ a: undefined, b: 'x' })).toBe('{"b":"x"}');
  });
});

describe('configHash', () => {
  it('is 16 hex characters and stable', () => {
    expect(configHash(settings(ONE))).toMatch(/^[0-9a-f]{16}$/);
    expect(configHash(settings(ONE))).toBe(configHash(settings(ONE)));
  });

  it('ignores credentials and include_tags order, not the provider order', () => {
    const tags = (list: string) =>
      `${ONE}    config:\n      token: secret-value\n      selectors: [{ include_tags: [${list}] }]\n`;
    expect(configHash(settings(tags('x, y')))).toBe(configHash(settings(tags('y, x'))));
    expect(configHash(settings(tags('x, y')))).toBe(
      configHash(settings(tags('x, y').replace('secret-value', 'another-one'))),
    );
    const two = `${ONE}  - name: b\n    type: docker\n`;
    const swapped = 'providers:\n  - name: b\n    type: docker\n  - name: a\n    type: docker\n';
    expect(configHash(settings(two))).not.toBe(configHash(settings(swapped)));
  });
});

describe('cacheKeys', () => {
  it('outside a workflow run falls back to a local key', () => {
    const k = cacheKeys({ settings: settings(ONE) });
    expect(k.primaryKey).toBe(`${k.prefix}-run-local-1`);
  });

  it('trims an override and ignores junk run ids', () => {
    const k = cacheKeys({ settings: settings(ONE), override: ' team ', runId: '12;rm', runAttempt: 'x' });
    expect(k).toEqual({ prefix: 'team', primaryKey: 'team-run-local-1', restoreKeys: ['team-run-'] });
  });

  it('gives each shard a state of its own, apart from the unsharded one', () => {
    const k = cacheKeys({
      settings: settings(ONE),
      override: 'team',
      runId: '7',
      shard: { index: 2, count: 3 },
    });
    expect(k).toEqual({
      prefix: 'team-shard-2-of-3',
      primaryKey: 'team-shard-2-of-3-run-7-1',
      restoreKeys: ['team-shard-2-of-3-run-'],
    });
    expect(k.restoreKeys[0]!.startsWith('team-run-')).toBe(false);
  });
});

describe('cache-key input', () => {
  // The cache and cache-key inputs are read by the Action's input schema (shell/action-inputs.test.ts).
  it('a cache-key the service would refuse is reported up front', () => {
    expect(cacheKeyProblem('a,b')).toMatch(/^inputs.cache-key: must not contain commas/);
    expect(cacheKeyProblem('x'.repeat(401))).toMatch(/at most 400 characters, got 401/);
    expect(cacheKeyProblem('nightly')).toBeUndefined();
  });
});
