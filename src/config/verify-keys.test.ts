import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeKey } from '../../test/support/signing.js';
import { ConfigError } from '../errors.js';
import { Secrets } from '../secrets.js';
import { loadConfig } from './load-config.js';

/** A config whose first provider has `verify: { keys }`, each key given through an environment variable. */
function load(keys: string[]) {
  const env = Object.fromEntries(keys.map((k, i) => [`KEY_${i}`, k]));
  const text = [
    'providers:',
    '  - name: hub',
    '    type: docker',
    '    config:',
    '      verify:',
    '        keys:',
    ...keys.map((_, i) => `          - \${KEY_${i}}`),
  ].join('\n');
  return loadConfig(text, { env, secrets: new Secrets(), origin: 'test.yml' });
}

function problems(keys: string[]): string[] {
  try {
    load(keys);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const ec = makeKey();
const rsa = makeKey('rsa');
const pem = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) =>
  key.export({ type: 'spki', format: 'pem' }).toString();

describe('verify.keys', () => {
  it('parses every key, with its hint and where it was given', () => {
    const settings = load([ec.publicPem, rsa.publicPem]);
    expect(settings.providers[0]!.verifyKeys?.map((k) => [k.origin, k.hint])).toEqual([
      ['providers[0].config.verify.keys[0]', ec.hint],
      ['providers[0].config.verify.keys[1]', rsa.hint],
    ]);
  });

  it('is absent when verify is not configured', () => {
    const settings = loadConfig('providers: [{name: hub, type: docker}]', {
      env: {},
      secrets: new Secrets(),
      origin: 'test.yml',
    });
    expect(settings.providers[0]!.verifyKeys).toBeUndefined();
  });

  const privatePem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  it.each([
    ['not PEM', 'hello', /keys\[1\]: not a PEM public key; give the whole of cosign.pub/],
    ['a file name', 'keys/cosign.pub', /keys\[1\]: looks like a file name; give the key itself/],
    [
      'a key with \\n written out',
      ec.publicPem.replaceAll('\n', '\\n'),
      /keys\[1\]: not a PEM public key: it holds "\\n" written out/,
    ],
    ['a private key', privatePem, /keys\[1\]: is a private key \(value not shown\); give its public key/],
    ['a cosign private key', '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n', /is a private key/],
    [
      'a certificate',
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      /is a certificate; give the public key it holds/,
    ],
    [
      'two keys in one entry',
      ec.publicPem + rsa.publicPem,
      /holds 2 PEM blocks; give each key as its own list item/,
    ],
    [
      'a damaged key',
      ec.publicPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n'),
      /is a "PUBLIC KEY" block that is not a readable public key/,
    ],
    [
      'a P-384 key',
      pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey),
      /is an ECDSA secp384r1 key; only ECDSA P-256 keys .* and RSA keys are supported/,
    ],
    [
      'an Ed25519 key',
      pem(generateKeyPairSync('ed25519').publicKey),
      /is an ed25519 key; only ECDSA P-256 keys .* and RSA keys are supported/,
    ],
  ])('%s is a config error naming the entry and the fix', (_, text, message) => {
    const found = problems([ec.publicPem, text]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^providers\[0\]\.config\.verify\.keys\[1\]: /);
    expect(found[0]).toMatch(message);
  });

  it('never quotes a private key given by mistake', () => {
    const [message] = problems([privatePem]);
    const body = privatePem.split('\n')[1]!;
    expect(message).not.toContain(body.slice(0, 20));
  });

  it('needs at least one key, and knows its own keys', () => {
    const base = ['providers:', '  - name: hub', '    type: docker', '    config:'];
    const load =
      (...lines: string[]) =>
      () =>
        loadConfig([...base, ...lines].join('\n'), { env: {}, secrets: new Secrets(), origin: 'test.yml' });
    expect(load('      verify: { keys: [] }')).toThrow(
      /providers\[0\]\.config\.verify\.keys: needs at least one PEM public key; remove verify/,
    );
    expect(load('      verify: { key: [] }')).toThrow(
      /providers\[0\]\.config\.verify\.key: unknown key; did you mean keys\?/,
    );
  });
});
