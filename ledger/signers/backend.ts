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
   * Optional: verifies r||s over SHA-256(message), hashing and checking in one call, with the
   * same rules as `verify` (false for high-S or malformed input). A backend that can only
   * hash-and-verify (OpenSSL through node:crypto) offers this; COSE verification uses it when
   * present.
   */
  verifyMessage?(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}
