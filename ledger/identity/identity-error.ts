// The error every identity check throws: a stable reason code for programs and a message that
// says what was wrong, in which structure and field, and what to do.
import { ReasonError } from '../../hal/reason-error.ts';

export type IdentityErrorReason =
  | 'malformed'
  | 'bad-signature'
  | 'wrong-authority'
  | 'not-yet-valid'
  | 'expired'
  | 'wrong-battery'
  | 'wrong-key'
  | 'revoked'
  | 'uncertified'
  | 'bad-rotation'
  | 'bad-link'
  | 'replayed'
  | 'crl-rollback';

export class IdentityError extends ReasonError<IdentityErrorReason> {
  override readonly name = 'IdentityError';
}
