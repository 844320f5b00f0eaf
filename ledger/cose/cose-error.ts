// The one error a COSE verifier throws: a reason code a caller can count by, and a message
// that says what was wrong (never key material).
import { ReasonError } from '../../hal/reason-error.ts';

export type CoseErrorReason =
  | 'malformed'
  | 'not-canonical'
  | 'alg-not-allowed'
  | 'typ-mismatch'
  | 'unknown-kid'
  | 'key-alg-mismatch'
  | 'bad-signature';

export class CoseError extends ReasonError<CoseErrorReason> {
  override readonly name = 'CoseError';
}
