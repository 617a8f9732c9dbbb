// The blob-reading checks a provider's config asks for, in the shape the accessory reader calls:
// signatures against the `verify` keys, and vulnerability counts from attached reports.
import type { VerifyKey } from '../config/verify-keys.js';
import type { AccessoryChecks } from './accessory-reader.js';
import { DSSE_ENVELOPE, SIGSTORE_BUNDLE } from './classify.js';
import {
  COSIGN_REKOR_BUNDLE_ANNOTATION,
  COSIGN_SIGNATURE_ANNOTATION,
  checkDsseEnvelope,
  checkSigstoreBundle,
  checkSimpleSigning,
} from './signature-check.js';
import { isVulnerabilityReport, readVulnerabilityReport } from './vulnerability-report.js';

export function accessoryChecks(p: {
  verifyKeys?: VerifyKey[];
  discoverVulnerabilities: boolean;
}): AccessoryChecks {
  const checks: AccessoryChecks = {};
  const keys = p.verifyKeys;
  if (keys && keys.length > 0) {
    checks.signature = async (layer, blob, subject, role) => {
      if (layer.mediaType === SIGSTORE_BUNDLE)
        return checkSigstoreBundle({ bundle: await blob(), subject }, keys);
      const rekorBundle = layer.annotations?.[COSIGN_REKOR_BUNDLE_ANNOTATION];
      const rekor = rekorBundle ? { rekorBundle } : {};
      if (layer.mediaType === DSSE_ENVELOPE)
        return checkDsseEnvelope({ envelope: await blob(), subject, ...rekor }, keys);
      // cosign leaves an empty signature annotation on its attestation layers too: only a
      // signature's layer holds a simple-signing signature.
      const signature = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
      if (role !== 'signature' || signature === undefined) return undefined;
      return checkSimpleSigning({ payload: await blob(), signature, subject, ...rekor }, keys);
    };
  }
  if (p.discoverVulnerabilities) {
    checks.vulnerabilities = async (layer, accessory, blob) => {
      const described = {
        ...(accessory.artifactType ? { artifactType: accessory.artifactType } : {}),
        ...(layer.mediaType ? { mediaType: layer.mediaType } : {}),
        predicateTypes: accessory.predicateTypes,
      };
      return isVulnerabilityReport(described) ? readVulnerabilityReport(await blob()) : undefined;
    };
  }
  return checks;
}
