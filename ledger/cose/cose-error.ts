// The one error a COSE verifier throws: a reason code a caller can count by, and a message
// that says what was wrong (never key material).

export type CoseErrorReason =
  | 'malformed'
  | 'not-canonical'
  | 'alg-not-allowed'
  | 'typ-mismatch'
  | 'unknown-kid'
  | 'key-alg-mismatch'
  | 'bad-signature';

export class CoseError extends Error {
  readonly reason: CoseErrorReason;
  constructor(reason: CoseErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CoseError';
    this.reason = reason;
  }
}
