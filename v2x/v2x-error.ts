// The one error V2X decoding and verification throw: a reason code the reception pipeline can
// count by, and a message that says what was wrong and where (field path, signer digest).
import { ReasonError } from '../hal/reason-error.ts';
import { CborError } from '../ledger/cbor/decode.ts';
import { CoseError } from '../ledger/cose/cose-error.ts';

export type V2xErrorReason =
  | 'malformed' // not CBOR / not COSE_Sign1 / wrong shape
  | 'not-canonical' // CBOR that is not RFC 8949 core deterministic
  | 'bad-field' // a field missing, unknown, of the wrong type or out of range
  | 'wrong-typ' // the COSE typ is not the one expected
  | 'alg-not-allowed'
  | 'unknown-signer' // no certificate cached for the signer digest (ask for it)
  | 'bad-certificate' // the attached certificate is forged, expired, or not for the signer
  | 'not-permitted' // the certificate does not allow this message type
  | 'bad-signature'
  | 'expired' // a certificate or statement outside its validity at the time it matters
  | 'replayed'
  | 'stale'
  | 'wrong-challenger'
  | 'unknown-challenge'
  | 'uncertified' // an identity key no fleet statement vouches for
  | 'not-bound'; // an attestation for another pseudonym than the message's signer

export class V2xError extends ReasonError<V2xErrorReason> {
  override readonly name = 'V2xError';
}

const COSE_REASON: Record<string, V2xErrorReason> = {
  malformed: 'malformed',
  'not-canonical': 'not-canonical',
  'alg-not-allowed': 'alg-not-allowed',
  'typ-mismatch': 'wrong-typ',
  'unknown-kid': 'unknown-signer',
  'key-alg-mismatch': 'bad-certificate',
  'bad-signature': 'bad-signature',
};

/** Wraps a decoder's or verifier's error into a V2xError, with `where` in front of its message. */
export function asV2xError(err: unknown, where: string): V2xError {
  if (err instanceof V2xError) return err;
  if (err instanceof CborError) return new V2xError(err.reason === 'not-canonical' ? 'not-canonical' : 'malformed', `${where}: ${err.message}`, { cause: err });
  if (err instanceof CoseError) return new V2xError(COSE_REASON[err.reason] ?? 'malformed', `${where}: ${err.message}`, { cause: err });
  if (err instanceof TypeError || err instanceof RangeError) return new V2xError('bad-field', err.message, { cause: err });
  throw err;
}
