// The signer backend interface: raw ECDSA over a 32-byte message digest, with RFC 6979
// deterministic nonces and low-S signatures in r||s form (64 bytes). Every backend gives
// byte-identical signatures for the same key and digest, and every `verify` refuses high-S.
// Backends are chosen by `pickBackend` (fastest available); the pure-JS one is always there.

export type Curve = 'secp256k1' | 'P-256';

export interface SignerBackend {
  /** Short name for reports and `voltrail doctor`, e.g. `noble`, `libsecp256k1`. */
  readonly name: string;
  readonly curve: Curve;
  /** Signs a 32-byte digest (already hashed). Returns r||s, 64 bytes, low-S. */
  sign(digest: Uint8Array, privateKey: Uint8Array): Uint8Array;
  /** Verifies r||s over a 32-byte digest; false (never a throw) for high-S or malformed input. */
  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean;
  /** Public key for a private key, SEC1 compressed (33 bytes). */
  publicKey(privateKey: Uint8Array): Uint8Array;
  /**
   * Optional fast path: verifies r||s over SHA-256 of the concatenated `parts` (the message,
   * hashed by the backend). For backends such as node:crypto that cannot verify a bare digest.
   * Same contract as `verify`: false, never a throw, for high-S or malformed input.
   */
  verifyMessage?(signature: Uint8Array, parts: readonly Uint8Array[], publicKey: Uint8Array): boolean;
}
