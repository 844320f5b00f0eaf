// One ECDSA check of the reception pipeline, in a form that can cross to a worker thread:
// the curve, the public key, the exact bytes signed (the COSE Sig_structure, hashed by the
// verifier) and r||s. `deferredBackend` lets the existing certificate reader
// (verifyPseudonymCertificate) do all its structural and claim checks now while it hands its
// one signature check over as a SignatureCheck, to be verified later in the priority queue:
// a certificate attached to a message costs a verification too, and must not jump the queue.
import type { Curve, SignerBackend } from '../../ledger/signers/backend.ts';
import { opensslVerifyBackend } from '../../ledger/signers/openssl-verify.ts';

export interface SignatureCheck {
  curve: Curve;
  /** SEC1 point, 33 or 65 bytes. */
  publicKey: Uint8Array;
  /** The bytes signed (SHA-256 is applied by the verifier). */
  message: Uint8Array;
  /** r||s, 64 bytes; high-S is refused. */
  signature: Uint8Array;
}

/** Verifies one check on this thread (OpenSSL through node:crypto, low-S enforced). */
export function verifyCheck(c: SignatureCheck): boolean {
  return opensslVerifyBackend(c.curve).verifyMessage!(c.signature, c.message, c.publicKey);
}

/**
 * A backend whose `verifyMessage` records the check and answers true: structure and claims
 * are checked now, the signature later. Use it for exactly one verify1 call.
 */
export function deferredBackend(curve: Curve): { backend: SignerBackend; taken: () => SignatureCheck | undefined } {
  const real = opensslVerifyBackend(curve);
  let check: SignatureCheck | undefined;
  const backend: SignerBackend = {
    name: 'deferred',
    curve,
    sign: () => {
      throw new Error('deferred backend: verification only');
    },
    verify: () => {
      throw new Error('deferred backend: use verifyMessage');
    },
    publicKey: (k) => real.publicKey(k),
    verifyMessage: (signature, message, publicKey) => {
      check = { curve, publicKey: publicKey.slice(), message: message.slice(), signature: signature.slice() };
      return true;
    },
  };
  return { backend, taken: () => check };
}
