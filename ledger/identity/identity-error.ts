// The error every identity check throws: a stable reason code for programs and a message that
// says what was wrong, in which structure and field, and what to do.

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

export class IdentityError extends Error {
  readonly reason: IdentityErrorReason;
  constructor(reason: IdentityErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IdentityError';
    this.reason = reason;
  }
}
