// The envelope formats attestations travel in: a DSSE envelope (cosign `.att` layers, the inside of
// a sigstore bundle) whose payload is an in-toto statement. Parsed tolerantly (extra fields pass) and
// strictly where a value is used.
import { z } from 'zod';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** Standard or URL-safe base64: DSSE names the first, and some writers use the second. */
export const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** https://github.com/secure-systems-lab/dsse/blob/master/envelope.md */
export const DsseEnvelopeSchema = z.looseObject({
  payloadType: z.string(),
  payload: z.string().regex(BASE64, 'must be base64'),
  signatures: z.array(z.looseObject({ sig: z.string(), keyid: z.string().optional() })).optional(),
});
export type DsseEnvelope = z.infer<typeof DsseEnvelopeSchema>;

/** An in-toto Statement, v0.1 or v1: what it is about (`subject`) and what it says (`predicate`). */
export const StatementSchema = z.looseObject({
  _type: z.string(),
  subject: z.array(z.looseObject({ name: z.string().optional(), digest: z.record(z.string(), z.string()) })),
  predicateType: z.string(),
  predicate: z.unknown().optional(),
});
export type Statement = z.infer<typeof StatementSchema>;

/** The statement a DSSE payload carries, or why it carries none. */
export function statementOf(
  payloadType: string,
  payload: Uint8Array,
): { statement: Statement } | { error: string } {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return { error: `payload type is ${JSON.stringify(payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}` };
  const parsed = parseJson(payload, StatementSchema);
  return 'error' in parsed
    ? { error: `payload is not an in-toto statement: ${parsed.error}` }
    : { statement: parsed.value };
}

/** JSON bytes read through a schema; the error names the first field that did not fit. */
export function parseJson<T>(bytes: Uint8Array, schema: z.ZodType<T>): { value: T } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { error: 'not JSON' };
  }
  return parseValue(raw, schema);
}

/** A value read through a schema; the error names the first field that did not fit. */
export function parseValue<T>(raw: unknown, schema: z.ZodType<T>): { value: T } | { error: string } {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { value: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { error: `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}` };
}
