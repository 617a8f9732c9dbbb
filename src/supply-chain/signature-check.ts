// Signatures checked against the keys of `verify:`, offline: cosign's signatures (legacy `.sig`
// simple signing, sigstore bundles) and its attestations (DSSE envelopes in legacy `.att` layers or
// any other layer, attestation bundles). What a verdict means:
//
// - 'verified': a configured key verifies the signature over the signed payload, and that payload
//   names the subject digest as what was signed (an attestation: its in-toto statement's subject).
// - 'bad': evidence that something is wrong, not merely unproven: a configured key verifies the
//   signature but the payload names another image (a signature or attestation copied from
//   elsewhere) or is not the documented payload; or the signature says it was made with a
//   configured key (a bundle's key hint, a DSSE signature's keyid, a legacy layer's Rekor entry) yet
//   none verifies it (payload or signature altered); or the signature material is malformed (not
//   base64, not a bundle, not a DSSE envelope).
// - 'unknown-key': well-formed, but no configured key verifies it and it claims none of them:
//   signed by someone else's key, keyless (a Fulcio certificate: identities are not checked here),
//   or a message signature whose signed manifest bytes were not given.
//
// Bundles are read and checked with sigstore's own libraries, and so are bare DSSE envelopes: each
// of their signatures is checked as a bundle holding it, so a DSSE signature is verified one way.
// Transparency-log entries and timestamps are not checked: that needs Sigstore's trusted root,
// fetched over TUF, and the run may have no network beyond the registries; `cosign verify --key …
// --insecure-ignore-tlog` (and `cosign verify-attestation` with the same flags) checks the same thing.
import { createHash } from 'node:crypto';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { crypto as sigstoreCrypto } from '@sigstore/core';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { z } from 'zod';
import type { VerifyKey } from '../config/verify-keys.js';
import { parseVerifyKey } from '../config/verify-keys.js';
import type { SignatureVerdict } from '../model/discovery.js';
import { SIGSTORE_BUNDLE } from './classify.js';
import { BASE64, DsseEnvelopeSchema, parseJson, statementOf } from './in-toto.js';

/** Layer annotations of a legacy cosign `.sig` manifest. */
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_REKOR_BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';

export interface SignatureCheck {
  verdict: SignatureVerdict;
  /** Why, for the summary: which key verified it, or what is wrong. Never key material. */
  reason: string;
}

export interface BundleCheck extends SignatureCheck {
  /** The in-toto predicate type of the bundle's statement, read even when it does not verify. */
  predicateType?: string;
}

/** Verdicts of several signatures on one subject: one verified signature verifies it, as in cosign. */
export function strongestVerdict(verdicts: Iterable<SignatureVerdict>): SignatureVerdict | undefined {
  let best: SignatureVerdict | undefined;
  const rank = { verified: 2, bad: 1, 'unknown-key': 0 } as const;
  for (const v of verdicts) if (best === undefined || rank[v] > rank[best]) best = v;
  return best;
}

/** https://github.com/containers/image/blob/main/docs/containers-signature.5.md, as cosign writes it. */
const SimpleSigningSchema = z.looseObject({
  critical: z.looseObject({
    type: z.literal('cosign container image signature'),
    // Cosign's reader matches this key case-insensitively (Go's encoding/json), and its own spec
    // example spells it "Docker-manifest-digest".
    image: z.record(z.string(), z.unknown()),
  }),
});

/**
 * A legacy cosign signature (`sha256-<hex>.sig`): `payload` is the simple-signing layer blob,
 * `signature` the base64 of its `dev.cosignproject.cosign/signature` annotation, `subject` the
 * digest the tag names, `rekorBundle` the layer's `dev.sigstore.cosign/bundle` annotation if any.
 */
export function checkSimpleSigning(
  input: { payload: Uint8Array; signature: string; subject: string; rekorBundle?: string },
  keys: readonly VerifyKey[],
): SignatureCheck {
  const text = input.signature.trim();
  if (text === '' || !BASE64.test(text))
    return { verdict: 'bad', reason: `the ${COSIGN_SIGNATURE_ANNOTATION} annotation is not base64` };
  const signature = Buffer.from(text, 'base64');
  const payload = Buffer.from(input.payload);
  const signer = keys.find((k) => sigstoreCrypto.verify(payload, k.publicKey, signature));
  if (!signer) {
    const claimed = input.rekorBundle ? rekorClaim(input.rekorBundle, keys) : undefined;
    return claimed
      ? {
          verdict: 'bad',
          reason: `its transparency-log entry names the key of ${claimed.origin}, which does not verify it: the payload or the signature was altered`,
        }
      : { verdict: 'unknown-key', reason: 'no configured key verifies it' };
  }
  const parsed = parseJson(payload, SimpleSigningSchema);
  if ('error' in parsed)
    return {
      verdict: 'bad',
      reason: `signed by ${signer.origin}, but the payload is not a cosign signature payload (${parsed.error})`,
    };
  const image = parsed.value.critical.image;
  const named = Object.entries(image).find(([k]) => k.toLowerCase() === 'docker-manifest-digest')?.[1];
  return subjectVerdict(signer, typeof named === 'string' ? [named] : [], input.subject);
}

/**
 * A sigstore bundle (cosign 3's `application/vnd.dev.sigstore.bundle.v0.3+json` layer). A DSSE
 * bundle is checked against its in-toto statement's subjects; a message-signature bundle signs the
 * subject's manifest itself, so it can only be checked when `subjectManifest` (its bytes) is given.
 */
export function checkSigstoreBundle(
  input: { bundle: Uint8Array; subject: string; subjectManifest?: Uint8Array },
  keys: readonly VerifyKey[],
): BundleCheck {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(JSON.parse(Buffer.from(input.bundle).toString('utf8')));
  } catch (err) {
    return { verdict: 'bad', reason: `not a sigstore bundle (${describeError(err)})` };
  }
  return checkBundle(bundle, input, keys, 'the bundle');
}

/**
 * A DSSE envelope over an in-toto statement (`application/vnd.dsse.envelope.v1+json`): a legacy
 * cosign `.att` layer (sigstore/cosign specs/ATTESTATION_SPEC.md) or any referrer's layer of that
 * type. Checked against the statement's subjects; `rekorBundle` is the layer's
 * `dev.sigstore.cosign/bundle` annotation if any. One signature that verifies is enough, as in
 * `cosign verify-attestation`.
 */
export function checkDsseEnvelope(
  input: { envelope: Uint8Array; subject: string; rekorBundle?: string },
  keys: readonly VerifyKey[],
): BundleCheck {
  const parsed = parseJson(input.envelope, DsseEnvelopeSchema);
  if ('error' in parsed) return { verdict: 'bad', reason: `not a DSSE envelope (${parsed.error})` };
  const { payloadType, payload, signatures = [] } = parsed.value;
  if (signatures.length === 0) return { verdict: 'bad', reason: 'the DSSE envelope holds no signature' };
  const logClaim = input.rekorBundle ? rekorClaim(input.rekorBundle, keys) : undefined;
  const checks = signatures.map((signature): BundleCheck => {
    if (signature.sig === '' || !BASE64.test(signature.sig))
      return { verdict: 'bad', reason: 'a signature of the DSSE envelope is not base64' };
    let bundle: Bundle;
    try {
      bundle = bundleFromJSON({
        mediaType: SIGSTORE_BUNDLE,
        // The keyid is DSSE's unauthenticated hint of the key used: what a bundle's key hint is.
        verificationMaterial: { publicKey: { hint: signature.keyid ?? '' }, tlogEntries: [] },
        dsseEnvelope: { payloadType, payload, signatures: [signature] },
      });
    } catch (err) {
      return { verdict: 'bad', reason: `not a DSSE envelope (${describeError(err)})` };
    }
    return checkBundle(
      bundle,
      input,
      keys,
      'the DSSE envelope',
      logClaim && { key: logClaim, by: 'its transparency-log entry' },
    );
  });
  const verdict = strongestVerdict(checks.map((c) => c.verdict));
  return checks.find((c) => c.verdict === verdict)!;
}

/**
 * The verdict on a parsed bundle. `claim` is a configured key something outside the bundle says
 * signed it (a legacy layer's Rekor entry), besides the bundle's own key hint.
 */
function checkBundle(
  bundle: Bundle,
  input: { subject: string; subjectManifest?: Uint8Array },
  keys: readonly VerifyKey[],
  what: string,
  claim?: { key: VerifyKey; by: string },
): BundleCheck {
  // What the signature says was signed: the statement's subjects, or the manifest's own digest.
  let names: string[];
  let predicateType: string | undefined;
  let artifact: Buffer | undefined;
  if (bundle.content.$case === 'dsseEnvelope') {
    const { payloadType, payload } = bundle.content.dsseEnvelope;
    const read = statementOf(payloadType, payload);
    if ('error' in read) return { verdict: 'bad', reason: `${what}'s ${read.error}` };
    predicateType = read.statement.predicateType;
    names = read.statement.subject.flatMap((s) =>
      Object.entries(s.digest).map(([algorithm, hex]) => `${algorithm}:${hex}`),
    );
  } else {
    if (!input.subjectManifest)
      return {
        verdict: 'unknown-key',
        reason: 'a message signature over the manifest, whose bytes were not given to check it',
      };
    artifact = Buffer.from(input.subjectManifest);
    names = [`sha256:${createHash('sha256').update(artifact).digest('hex')}`];
  }
  const withPredicate = (check: SignatureCheck): BundleCheck =>
    predicateType === undefined ? check : { ...check, predicateType };

  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey')
    return withPredicate({
      verdict: 'unknown-key',
      reason: 'signed keyless (a certificate), not with a configured key',
    });
  // Offline: no log entries or timestamps to check (see the top of this file), so none are handed
  // over, and the verifier is told to require none.
  const entity = toSignedEntity(
    {
      ...bundle,
      verificationMaterial: {
        ...bundle.verificationMaterial,
        tlogEntries: [],
        timestampVerificationData: undefined,
      },
    },
    artifact,
  );
  const signer = keys.find((key) => {
    const trust = toTrustMaterial(NO_TRUSTED_ROOT, () => ({
      publicKey: key.publicKey,
      validFor: () => true,
    }));
    try {
      new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(entity);
      return true;
    } catch {
      return false;
    }
  });
  if (!signer) {
    const hinted = keys.find((k) => k.hint === material.publicKey.hint);
    const claimed = hinted ? { key: hinted, by: 'it' } : claim;
    return withPredicate(
      claimed
        ? {
            verdict: 'bad',
            reason: `${claimed.by} names the key of ${claimed.key.origin}, which does not verify it: the payload or the signature was altered`,
          }
        : { verdict: 'unknown-key', reason: 'no configured key verifies it' },
    );
  }
  return withPredicate(subjectVerdict(signer, names, input.subject));
}

function subjectVerdict(signer: VerifyKey, names: readonly string[], subject: string): SignatureCheck {
  if (names.some((n) => n.toLowerCase() === subject.toLowerCase()))
    return { verdict: 'verified', reason: `verified by ${signer.origin}` };
  return {
    verdict: 'bad',
    reason: `signed by ${signer.origin} for ${names.length > 0 ? names.join(', ') : 'no image'}, not for ${subject}: a signature of another image`,
  };
}

/** An empty trusted root: keys come from `verify:`, and no log, CA or timestamp authority is trusted. */
const NO_TRUSTED_ROOT: Parameters<typeof toTrustMaterial>[0] = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

/** The Rekor entry a legacy signature carries (https://github.com/sigstore/rekor, `hashedrekord`/`rekord`). */
const RekorBundleSchema = z.looseObject({
  Payload: z.looseObject({ body: z.string().regex(BASE64) }),
});
const RekorBodySchema = z.looseObject({
  spec: z.looseObject({
    signature: z.looseObject({ publicKey: z.looseObject({ content: z.string().regex(BASE64) }) }),
  }),
});

/**
 * The configured key a legacy signature's Rekor entry says signed it. The entry is not verified
 * (that needs Rekor's key): it only tells an altered signature from a stranger's.
 */
function rekorClaim(annotation: string, keys: readonly VerifyKey[]): VerifyKey | undefined {
  const bundle = parseJson(Buffer.from(annotation, 'utf8'), RekorBundleSchema);
  if ('error' in bundle) return undefined;
  const body = parseJson(Buffer.from(bundle.value.Payload.body, 'base64'), RekorBodySchema);
  if ('error' in body) return undefined;
  const pem = Buffer.from(body.value.spec.signature.publicKey.content, 'base64').toString('utf8');
  const key = parseVerifyKey(pem, '');
  return 'key' in key ? keys.find((k) => k.hint === key.key.hint) : undefined;
}

function describeError(err: unknown): string {
  if (err instanceof Error && 'fields' in err && Array.isArray(err.fields))
    return `${err.message}: ${err.fields.join(', ')}`;
  return err instanceof Error ? err.message : String(err);
}
