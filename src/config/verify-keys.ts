// Public keys that `verify:` trusts. Parsed when the config loads so a wrong key is a config error
// naming the field, not a run that quietly verifies nothing.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** A public key signatures are checked against. */
export interface VerifyKey {
  publicKey: KeyObject;
  /**
   * base64 of the SHA-256 of the key's DER (SubjectPublicKeyInfo): the hint cosign writes into a
   * sigstore bundle's verificationMaterial.publicKey, so a bundle can say which key it claims.
   */
  hint: string;
  /** Where the key was given, for messages: `providers[0].config.verify.keys[1]`. */
  origin: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/**
 * Keys cosign can sign with whose signatures are checked the same way by both cosign and the
 * sigstore library we verify with (SHA-256). Cosign signs with P-384/P-521 keys using SHA-384/512
 * and with Ed25519 keys using Ed25519ph, which would be read as bad signatures: refused instead.
 */
const SUPPORTED = 'ECDSA P-256 keys (what "cosign generate-key-pair" makes) and RSA keys';

/**
 * Reads one `verify.keys` entry: a PEM public key. The error says what the text is instead and what
 * would fix it; it never quotes the text, which may be a private key pasted by mistake.
 */
export function parseVerifyKey(text: string, origin: string): { key: VerifyKey } | { error: string } {
  // PEM holds no backslash: this is a key pasted into a one-line secret with its breaks escaped.
  if (text.includes('\\n'))
    return {
      error:
        'not a PEM public key: it holds "\\n" written out instead of line breaks; store the key with its real line breaks (a multi-line secret, or a YAML "|" block)',
    };
  const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => m[1]!);
  if (blocks.length === 0) {
    if (/^[\w./~-]+\.(pub|pem|key)$/.test(text.trim()))
      return {
        error:
          'looks like a file name; give the key itself (the text of cosign.pub, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----), e.g. from a secret as ${COSIGN_PUBLIC_KEY}',
      };
    return {
      error:
        'not a PEM public key; give the whole of cosign.pub, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----',
    };
  }
  if (blocks.length > 1)
    return { error: `holds ${blocks.length} PEM blocks; give each key as its own list item` };
  const label = blocks[0]!;
  if (label.includes('PRIVATE KEY'))
    return {
      error:
        'is a private key (value not shown); give its public key instead (cosign public-key --key cosign.key), and keep the private key out of the config',
    };
  if (label.includes('CERTIFICATE'))
    return {
      error: 'is a certificate; give the public key it holds (openssl x509 -pubkey -noout -in cert.pem)',
    };
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(text.trim());
  } catch {
    return {
      error: `is a "${label}" block that is not a readable public key; copy the key again, whole and unchanged`,
    };
  }
  const type = publicKey.asymmetricKeyType;
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  if (type === 'ec' && curve !== 'prime256v1')
    return { error: `is an ECDSA ${curve ?? 'unknown-curve'} key; only ${SUPPORTED} are supported` };
  if (type !== 'ec' && type !== 'rsa')
    return { error: `is an ${type ?? 'unknown'} key; only ${SUPPORTED} are supported` };
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { key: { publicKey, hint: createHash('sha256').update(der).digest('base64'), origin } };
}
