// Signed supply-chain bytes shaped as cosign writes them, signed for real with keys made here:
// legacy simple-signing payloads (specs/SIGNATURE_SPEC.md), DSSE envelopes with in-toto statements
// (specs/ATTESTATION_SPEC.md) and sigstore bundles v0.3 (protobuf-specs sigstore_bundle.proto, JSON
// form), for tests that check signatures or seed a registry with them.
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { parseVerifyKey, type VerifyKey } from '../../src/config/verify-keys.js';

export interface TestKey {
  privateKey: KeyObject;
  /** PEM, as `verify.keys` takes it (cosign.pub). */
  publicPem: string;
  /** base64 SHA-256 of the public key's DER: cosign's bundle key hint. */
  hint: string;
}

/** A fresh key pair; ECDSA P-256 is what `cosign generate-key-pair` makes. */
export function makeKey(type: 'ec' | 'rsa' = 'ec'): TestKey {
  const { privateKey, publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    hint: createHash('sha256').update(der).digest('base64'),
  };
}

/** The parsed `verify.keys` entries for these keys, as load-config makes them. */
export function verifyKeys(...keys: TestKey[]): VerifyKey[] {
  return keys.map((k, i) => {
    const parsed = parseVerifyKey(k.publicPem, `verify.keys[${i}]`);
    if ('error' in parsed) throw new Error(parsed.error);
    return parsed.key;
  });
}

/** SHA-256 signature (ASN.1 DER for ECDSA, PKCS#1 v1.5 for RSA), as cosign signs with these keys. */
export function signBytes(key: TestKey, data: Uint8Array): Buffer {
  return sign('sha256', data, key.privateKey);
}

/** A cosign simple-signing payload naming `digest`, byte for byte as cosign lays it out. */
export function simpleSigningPayload(digest: string, reference = 'registry.test/app'): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': reference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** The layer annotations of a legacy `.sig` manifest for a signed payload. */
export function simpleSigningAnnotations(key: TestKey, payload: Uint8Array): Record<string, string> {
  return { 'dev.cosignproject.cosign/signature': signBytes(key, payload).toString('base64') };
}

/** An in-toto v1 statement about `digest`. */
export function statement(digest: string, predicateType: string, predicate: unknown = {}): Buffer {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'registry.test/app', digest: { [algorithm]: hex } }],
      predicateType,
      predicate,
    }),
  );
}

const IN_TOTO = 'application/vnd.in-toto+json';

/** DSSE pre-authentication encoding (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md). */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType);
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

/** A signed DSSE envelope (the JSON of a cosign `.att` layer). */
export function dsseEnvelope(key: TestKey, payload: Uint8Array, payloadType = IN_TOTO) {
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [
      { keyid: '', sig: signBytes(key, preAuthEncoding(payloadType, payload)).toString('base64') },
    ],
  };
}

/**
 * A Rekor v1 log entry as a bundle carries it: well-formed, but not from any real log. Checking
 * it offline is impossible, and a verifier must not need to.
 */
const LOG_ENTRY = {
  logIndex: '214748364',
  logId: { keyId: Buffer.alloc(32, 7).toString('base64') },
  kindVersion: { kind: 'dsse', version: '0.0.1' },
  integratedTime: '1765000000',
  inclusionPromise: { signedEntryTimestamp: Buffer.alloc(70, 1).toString('base64') },
  inclusionProof: {
    logIndex: '92584935',
    rootHash: Buffer.alloc(32, 2).toString('base64'),
    treeSize: '92584936',
    hashes: [Buffer.alloc(32, 3).toString('base64')],
    checkpoint: {
      envelope: 'rekor.sigstore.dev - 1193050959916656506\n92584936\nAAAA\n\n— rekor.sigstore.dev xyz\n',
    },
  },
  canonicalizedBody: Buffer.from('{}').toString('base64'),
};

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * A sigstore bundle v0.3 as cosign 3 writes for `cosign sign --key` (predicate
 * https://sigstore.dev/cosign/sign/v1) or `cosign attest --key`: a DSSE envelope over an in-toto
 * statement, the key named by its hint, one transparency-log entry.
 */
export function sigstoreBundle(
  key: TestKey,
  payload: Uint8Array,
  opts: { hint?: string; tlog?: boolean } = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      mediaType: BUNDLE_MEDIA_TYPE,
      verificationMaterial: {
        publicKey: { hint: opts.hint ?? key.hint },
        tlogEntries: opts.tlog === false ? [] : [LOG_ENTRY],
        timestampVerificationData: {},
      },
      dsseEnvelope: dsseEnvelope(key, payload),
    }),
  );
}

/** A message-signature bundle: the signature is over `artifact` itself (an image manifest). */
export function messageSignatureBundle(key: TestKey, artifact: Uint8Array): Buffer {
  return Buffer.from(
    JSON.stringify({
      mediaType: BUNDLE_MEDIA_TYPE,
      verificationMaterial: { publicKey: { hint: key.hint }, tlogEntries: [] },
      messageSignature: {
        messageDigest: {
          algorithm: 'SHA2_256',
          digest: createHash('sha256').update(artifact).digest('base64'),
        },
        signature: signBytes(key, artifact).toString('base64'),
      },
    }),
  );
}

/** The sha256 digest of bytes, as registries name them. */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
