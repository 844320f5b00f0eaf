// What the ledger needs from the COSE layer, as two small interfaces: sign a payload under a
// typ, and verify one. ledger.ts and verify.ts depend on these only, so that the key store and
// the signer backend (noble, native, a secure element) stay behind them.

export interface PayloadSigner {
  /** The signer's key id (RFC 9679 thumbprint) as it appears in the COSE header. */
  readonly kid: Uint8Array;
  /** COSE_Sign1 bytes over `payload`, with `typ` in the protected header. */
  sign(payload: Uint8Array, typ: string): Uint8Array;
}

export interface PayloadVerifier {
  /**
   * The verified payload, its signer and typ (one of `typs`); throws an Error saying why when
   * the signature, the key or the typ does not hold.
   */
  verify(cose: Uint8Array, typs: readonly string[]): { payload: Uint8Array; kid: Uint8Array; typ: string };
}
