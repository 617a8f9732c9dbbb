import { describe, expect, it } from 'vitest';
import {
  BUNDLE_MEDIA_TYPE,
  digestOf,
  dsseEnvelope,
  makeKey,
  messageSignatureBundle,
  signBytes,
  sigstoreBundle,
  simpleSigningPayload,
  statement,
  verifyKeys,
} from '../../test/support/signing.js';
import {
  checkDsseEnvelope,
  checkSigstoreBundle,
  checkSimpleSigning,
  strongestVerdict,
} from './signature-check.js';

const ours = makeKey();
const alsoOurs = makeKey('rsa');
const stranger = makeKey();
const keys = verifyKeys(ours, alsoOurs);

const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}');
const subject = digestOf(manifest);
const other = digestOf(Buffer.from('another image'));

const SIGN = 'https://sigstore.dev/cosign/sign/v1';
const SLSA = 'https://slsa.dev/provenance/v1';
const SPDX = 'https://spdx.dev/Document';

/** A legacy `.sig` layer's parts: the payload blob and the Rekor bundle annotation's body key. */
function rekorBundle(publicPem: string): string {
  const body = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: 'ab'.repeat(32) } },
      signature: { content: 'MEUC', publicKey: { content: Buffer.from(publicPem).toString('base64') } },
    },
  };
  return JSON.stringify({
    SignedEntryTimestamp: 'MEUCIQ==',
    Payload: {
      body: Buffer.from(JSON.stringify(body)).toString('base64'),
      integratedTime: 1765000000,
      logIndex: 5179,
      logID: 'c0d23d6a',
    },
  });
}

describe('checkSimpleSigning: legacy cosign .sig', () => {
  const payload = simpleSigningPayload(subject);
  const signature = (key = ours, bytes: Uint8Array = payload) => signBytes(key, bytes).toString('base64');

  it.each([
    [
      'signed by a configured key, for this image',
      () => ({ payload, signature: signature() }),
      'verified',
      /verified by verify.keys\[0\]/,
    ],
    [
      'signed by the second key (RSA)',
      () => ({ payload, signature: signature(alsoOurs) }),
      'verified',
      /verify.keys\[1\]/,
    ],
    [
      'signed by a configured key for another image: a copied signature',
      () => {
        const p = simpleSigningPayload(other);
        return { payload: p, signature: signature(ours, p) };
      },
      'bad',
      /for sha256:.*not for sha256:/,
    ],
    [
      'signed by a key not configured',
      () => ({ payload, signature: signature(stranger) }),
      'unknown-key',
      /no configured key/,
    ],
    [
      'payload altered after signing, no log entry to say whose it was',
      () => ({ payload: simpleSigningPayload(other), signature: signature() }),
      'unknown-key',
      /no configured key/,
    ],
    [
      'payload altered after signing, its log entry naming our key',
      () => ({
        payload: simpleSigningPayload(other),
        signature: signature(),
        rekorBundle: rekorBundle(ours.publicPem),
      }),
      'bad',
      /names the key of verify.keys\[0\].*altered/,
    ],
    [
      "a stranger's signature whose log entry names the stranger",
      () => ({ payload, signature: signature(stranger), rekorBundle: rekorBundle(stranger.publicPem) }),
      'unknown-key',
      /no configured key/,
    ],
    [
      'a signature annotation that is not base64',
      () => ({ payload, signature: 'not base64!' }),
      'bad',
      /not base64/,
    ],
    ['an empty signature annotation', () => ({ payload, signature: '' }), 'bad', /not base64/],
    [
      'signed by our key, but not a cosign payload',
      () => {
        const p = Buffer.from(
          JSON.stringify({ critical: { type: 'atomic container signature', image: {} } }),
        );
        return { payload: p, signature: signature(ours, p) };
      },
      'bad',
      /not a cosign signature payload \(critical.type/,
    ],
    [
      'signed by our key, payload not JSON',
      () => {
        const p = Buffer.from('hello');
        return { payload: p, signature: signature(ours, p) };
      },
      'bad',
      /not JSON/,
    ],
  ] as const)('%s → %s', (_, make, verdict, reason) => {
    const check = checkSimpleSigning({ ...make(), subject }, keys);
    expect(check.verdict).toBe(verdict);
    expect(check.reason).toMatch(reason);
  });

  it('reads docker-manifest-digest in any case, as cosign does (its spec writes Docker-manifest-digest)', () => {
    const p = Buffer.from(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': 'registry.test/app' },
          image: { 'Docker-manifest-digest': subject },
          type: 'cosign container image signature',
        },
        optional: { creator: 'atomic' },
      }),
    );
    expect(checkSimpleSigning({ payload: p, signature: signature(ours, p), subject }, keys).verdict).toBe(
      'verified',
    );
  });

  it('verifies nothing without keys', () => {
    expect(checkSimpleSigning({ payload, signature: signature(), subject }, []).verdict).toBe('unknown-key');
  });
});

describe('checkSigstoreBundle: sigstore bundle v0.3', () => {
  const signed = statement(subject, SIGN);

  it.each([
    ['cosign sign --key: signed for this image', () => sigstoreBundle(ours, signed), 'verified', SIGN],
    [
      'without a log entry (--tlog-upload=false)',
      () => sigstoreBundle(ours, signed, { tlog: false }),
      'verified',
      SIGN,
    ],
    [
      'cosign attest --key: provenance',
      () => sigstoreBundle(alsoOurs, statement(subject, SLSA)),
      'verified',
      SLSA,
    ],
    ['signed by our key for another image', () => sigstoreBundle(ours, statement(other, SIGN)), 'bad', SIGN],
    ['signed by a key not configured', () => sigstoreBundle(stranger, signed), 'unknown-key', SIGN],
    [
      'naming our key, signed by another: altered',
      () => sigstoreBundle(stranger, signed, { hint: ours.hint }),
      'bad',
      SIGN,
    ],
  ] as const)('%s → %s', (_, make, verdict, predicateType) => {
    const check = checkSigstoreBundle({ bundle: make(), subject }, keys);
    expect(check).toMatchObject({ verdict, predicateType });
  });

  it('a payload altered after signing is bad: the bundle names our key', () => {
    const bundle = JSON.parse(sigstoreBundle(ours, signed).toString());
    bundle.dsseEnvelope.payload = Buffer.from(statement(other, SIGN)).toString('base64');
    const check = checkSigstoreBundle({ bundle: Buffer.from(JSON.stringify(bundle)), subject }, keys);
    expect(check.verdict).toBe('bad');
    expect(check.reason).toMatch(/names the key of verify.keys\[0\].*altered/);
  });

  it('keyless (a certificate) is unknown-key: identities are not checked', () => {
    const bundle = {
      mediaType: BUNDLE_MEDIA_TYPE,
      verificationMaterial: {
        certificate: { rawBytes: Buffer.from('not checked').toString('base64') },
        tlogEntries: [],
      },
      dsseEnvelope: dsseEnvelope(stranger, signed),
    };
    const check = checkSigstoreBundle({ bundle: Buffer.from(JSON.stringify(bundle)), subject }, keys);
    expect(check).toMatchObject({ verdict: 'unknown-key', predicateType: SIGN });
    expect(check.reason).toMatch(/keyless/);
  });

  it.each([
    ['not JSON', Buffer.from('{'), /not a sigstore bundle/],
    [
      'JSON without the bundle fields',
      Buffer.from('{"mediaType":"x"}'),
      /not a sigstore bundle \(invalid bundle: mediaType/,
    ],
    [
      'a DSSE payload that is not an in-toto statement',
      sigstoreBundle(ours, Buffer.from('{"hello":"world"}')),
      /in-toto statement: _type/,
    ],
  ])('%s is bad', (_, bundle, reason) => {
    const check = checkSigstoreBundle({ bundle, subject }, keys);
    expect(check.verdict).toBe('bad');
    expect(check.reason).toMatch(reason);
  });

  describe('a message signature over the manifest', () => {
    it('verifies with the manifest bytes', () => {
      const check = checkSigstoreBundle(
        { bundle: messageSignatureBundle(ours, manifest), subject, subjectManifest: manifest },
        keys,
      );
      expect(check).toEqual({ verdict: 'verified', reason: 'verified by verify.keys[0]' });
    });

    it('is bad when the manifest it signs is another image', () => {
      const another = Buffer.from('{"schemaVersion":2}');
      const check = checkSigstoreBundle(
        { bundle: messageSignatureBundle(ours, another), subject, subjectManifest: another },
        keys,
      );
      expect(check.verdict).toBe('bad');
    });

    it('is unknown-key without the manifest bytes: nothing to check it against', () => {
      const check = checkSigstoreBundle({ bundle: messageSignatureBundle(ours, manifest), subject }, keys);
      expect(check.verdict).toBe('unknown-key');
      expect(check.reason).toMatch(/bytes were not given/);
    });
  });
});

describe('checkDsseEnvelope: a legacy cosign .att layer (DSSE envelope)', () => {
  const provenance = statement(subject, SLSA);
  const json = (envelope: unknown) => Buffer.from(JSON.stringify(envelope));
  const check = (envelope: Buffer, rekor?: string) =>
    checkDsseEnvelope({ envelope, subject, ...(rekor ? { rekorBundle: rekor } : {}) }, keys);
  /** An envelope signed over `signed`, then given `shown` as its payload. */
  const tampered = (key = ours, keyid = '') => {
    const envelope = dsseEnvelope(key, provenance);
    return {
      ...envelope,
      payload: statement(other, SLSA).toString('base64'),
      signatures: envelope.signatures.map((s) => ({ ...s, keyid })),
    };
  };

  it.each([
    [
      'cosign attest --key: signed for this image',
      () => json(dsseEnvelope(ours, provenance)),
      'verified',
      /verified by verify.keys\[0\]/,
    ],
    [
      'signed by the second key (RSA), an SBOM predicate',
      () => json(dsseEnvelope(alsoOurs, statement(subject, SPDX))),
      'verified',
      /verify.keys\[1\]/,
    ],
    [
      'signed by our key, its statement naming another image: a copied attestation',
      () => json(dsseEnvelope(ours, statement(other, SLSA))),
      'bad',
      /for sha256:.*not for sha256:/,
    ],
    [
      'signed by a key not configured',
      () => json(dsseEnvelope(stranger, provenance)),
      'unknown-key',
      /no configured key/,
    ],
    [
      'payload altered after signing, claiming no key',
      () => json(tampered()),
      'unknown-key',
      /no configured key/,
    ],
    [
      'payload altered after signing, its keyid naming our key',
      () => json(tampered(ours, ours.hint)),
      'bad',
      /it names the key of verify.keys\[0\].*altered/,
    ],
    [
      'signed by a stranger, its keyid naming our key',
      () => json(tampered(stranger, ours.hint)),
      'bad',
      /names the key of verify.keys\[0\]/,
    ],
    [
      'one of two signatures verifies: verified, as in cosign',
      () => {
        const a = dsseEnvelope(stranger, provenance);
        const b = dsseEnvelope(ours, provenance);
        return json({ ...a, signatures: [...a.signatures, ...b.signatures] });
      },
      'verified',
      /verified by verify.keys\[0\]/,
    ],
  ] as const)('%s → %s', (_, make, verdict, reason) => {
    const got = check(make());
    expect(got).toMatchObject({ verdict, predicateType: expect.any(String) });
    expect(got.reason).toMatch(reason);
  });

  it('reads the predicate type of the statement it checks', () => {
    expect(check(json(dsseEnvelope(ours, provenance))).predicateType).toBe(SLSA);
  });

  it('payload altered after signing, its transparency-log entry naming our key: bad', () => {
    const got = check(json(tampered()), rekorBundle(ours.publicPem));
    expect(got.verdict).toBe('bad');
    expect(got.reason).toMatch(/transparency-log entry names the key of verify.keys\[0\].*altered/);
  });

  it("a stranger's envelope whose transparency-log entry names the stranger: unknown-key", () => {
    expect(check(json(dsseEnvelope(stranger, provenance)), rekorBundle(stranger.publicPem)).verdict).toBe(
      'unknown-key',
    );
  });

  it.each([
    ['not JSON', Buffer.from('{'), /not a DSSE envelope \(not JSON\)/],
    ['JSON without a payload', json({ payloadType: 'x', signatures: [] }), /not a DSSE envelope \(payload/],
    [
      'a payload that is not base64',
      json({ ...dsseEnvelope(ours, provenance), payload: 'not base64!' }),
      /not a DSSE envelope \(payload: must be base64/,
    ],
    ['no signature', json({ ...dsseEnvelope(ours, provenance), signatures: [] }), /holds no signature/],
    [
      'a signature that is not base64',
      json({ ...dsseEnvelope(ours, provenance), signatures: [{ keyid: '', sig: 'not base64!' }] }),
      /not base64/,
    ],
    [
      'signed by our key, a payload that is not an in-toto statement',
      json(dsseEnvelope(ours, Buffer.from('{"hello":"world"}'))),
      /the DSSE envelope's payload is not an in-toto statement: _type/,
    ],
    [
      'signed by our key, another payload type',
      json(dsseEnvelope(ours, provenance, 'text/plain')),
      /payload type is "text\/plain"/,
    ],
  ])('%s is bad', (_, envelope, reason) => {
    const got = check(envelope);
    expect(got.verdict).toBe('bad');
    expect(got.reason).toMatch(reason);
  });

  it('verifies nothing without keys', () => {
    expect(checkDsseEnvelope({ envelope: json(dsseEnvelope(ours, provenance)), subject }, []).verdict).toBe(
      'unknown-key',
    );
  });
});

describe('strongestVerdict', () => {
  it.each([
    [[], undefined],
    [['unknown-key', 'bad'], 'bad'],
    [['bad', 'verified', 'unknown-key'], 'verified'],
    [['unknown-key'], 'unknown-key'],
  ] as const)('%j → %s', (verdicts, expected) => {
    expect(strongestVerdict(verdicts)).toBe(expected);
  });
});
