// Argument checks shared by the signer backends: they name the argument and never echo key
// bytes into a message (secrets never reach logs or errors).
import type { Curve } from './backend.ts';

export function checkDigest(digest: Uint8Array): Uint8Array {
  if (!(digest instanceof Uint8Array)) throw new TypeError('digest: expected a Uint8Array');
  if (digest.length !== 32) throw new RangeError(`digest: expected 32 bytes (a SHA-256 hash), got ${digest.length}`);
  return digest;
}

export function checkPrivateKey(privateKey: Uint8Array, curve: Curve, valid: boolean): Uint8Array {
  if (!(privateKey instanceof Uint8Array)) throw new TypeError('privateKey: expected a Uint8Array');
  if (privateKey.length !== 32) throw new RangeError(`privateKey: expected 32 bytes, got ${privateKey.length}`);
  if (!valid) throw new RangeError(`privateKey: not a valid ${curve} private key (must be in [1, n-1])`);
  return privateKey;
}
