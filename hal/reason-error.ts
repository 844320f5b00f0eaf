// The base of voltrail's errors that carry a stable reason code: programs count and branch on
// `reason` (a string union per module), people read the message, which says what was wrong,
// where, and what to do (never key material). Subclasses only name themselves and their reasons.

export class ReasonError<R extends string> extends Error {
  readonly reason: R;
  constructor(reason: R, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}
