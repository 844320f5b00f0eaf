// COSE Key thumbprint (RFC 9679, https://www.rfc-editor.org/rfc/rfc9679): SHA-256 over the
// deterministic CBOR of the key's required parameters. For an EC2 key that is
// {1: 2 (kty EC2), -1: crv, -2: x, -3: y}, with crv 8 for secp256k1 (RFC 8812 section 4.1)
// and 1 for P-256 (RFC 9053 section 7.1). voltrail uses it as the `kid` of a signer.
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import type { Curve } from '../signers/backend.ts';

const KTY_EC2 = 2;
const CRV: Readonly<Record<Curve, number>> = { secp256k1: 8, 'P-256': 1 };

/** x and y (32 bytes each) of a SEC1 public key, compressed or not; throws when off the curve. */
export function publicKeyCoordinates(publicKey: Uint8Array, curve: Curve): { x: Uint8Array; y: Uint8Array } {
  if (!(publicKey instanceof Uint8Array)) throw new TypeError('publicKey: expected a Uint8Array');
  const Point = curve === 'secp256k1' ? secp256k1.Point : curve === 'P-256' ? p256.Point : undefined;
  if (Point === undefined) throw new RangeError(`curve: '${String(curve)}' is not supported (secp256k1 or P-256)`);
  let raw: Uint8Array;
  try {
    raw = Point.fromBytes(publicKey).toBytes(false);
  } catch {
    throw new RangeError(`publicKey: not a ${curve} point (SEC1, 33 or 65 bytes, on the curve)`);
  }
  return { x: raw.subarray(1, 33), y: raw.subarray(33, 65) };
}

/** The COSE_Key (RFC 9052 section 7) of a public key, as a map with integer labels. */
export function coseKey(publicKey: Uint8Array, curve: Curve): Map<number, number | Uint8Array> {
  const { x, y } = publicKeyCoordinates(publicKey, curve);
  return new Map<number, number | Uint8Array>([
    [1, KTY_EC2],
    [-1, CRV[curve]],
    [-2, x],
    [-3, y],
  ]);
}

/** RFC 9679 thumbprint (SHA-256, 32 bytes) of a public key. */
export function keyThumbprint(publicKey: Uint8Array, curve: Curve): Uint8Array {
  return new Uint8Array(createHash('sha256').update(encodeCanonical(coseKey(publicKey, curve))).digest());
}
