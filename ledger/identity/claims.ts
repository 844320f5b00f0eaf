// Typed reads of the integer-keyed CBOR maps of the identity structures (device-cert.cddl,
// cert-request.cddl, key-rotation.cddl, revocation-list.cddl): each read names the structure and
// the field, so a refused certificate says exactly which claim was wrong. Also the COSE_Key
// (RFC 9052 section 7) <-> SEC1 public key conversion the `cnf` claim and requests need.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { decodeCbor } from '../cbor/decode.ts';
import type { CborValue } from '../cbor/value.ts';
import type { Curve } from '../signers/backend.ts';
import { IdentityError } from './identity-error.ts';

export type CborMap = ReadonlyMap<CborValue, CborValue>;

/** Decodes canonical CBOR that must be a map with only the given keys. */
export function decodeClaims(bytes: Uint8Array, what: string, allowed: readonly number[]): CborMap {
  let v: CborValue;
  try {
    v = decodeCbor(bytes, { canonical: true, maxDepth: 8, maxSize: 64 * 1024 });
  } catch (err) {
    throw new IdentityError('malformed', `${what}: not canonical CBOR (${(err as Error).message})`, { cause: err });
  }
  return asMap(v, what, allowed);
}

export function asMap(v: CborValue | undefined, what: string, allowed: readonly number[]): CborMap {
  if (!(v instanceof Map)) throw new IdentityError('malformed', `${what}: expected a CBOR map`);
  for (const k of v.keys()) {
    if (typeof k !== 'number' || !allowed.includes(k)) throw new IdentityError('malformed', `${what}: unexpected field ${String(k)}`);
  }
  return v;
}

const bad = (what: string, key: number, expect: string): never => {
  throw new IdentityError('malformed', `${what}: field ${key} must be ${expect}`);
};

export function text(m: CborMap, key: number, what: string, max = 128): string {
  const v = m.get(key);
  return typeof v === 'string' && v.length >= 1 && v.length <= max ? v : bad(what, key, `text of 1..${max} characters`);
}
export function optText(m: CborMap, key: number, what: string, max = 128): string | undefined {
  return m.has(key) ? text(m, key, what, max) : undefined;
}
export function uint(m: CborMap, key: number, what: string): number {
  const v = m.get(key);
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : bad(what, key, 'an unsigned integer');
}
export function optUint(m: CborMap, key: number, what: string): number | undefined {
  return m.has(key) ? uint(m, key, what) : undefined;
}
export function bytes(m: CborMap, key: number, what: string, size?: number): Uint8Array {
  const v = m.get(key);
  return v instanceof Uint8Array && (size === undefined || v.length === size) ? v : bad(what, key, size ? `a byte string of ${size} bytes` : 'a byte string');
}

const CRV_CURVE = new Map<number, Curve>([
  [8, 'secp256k1'],
  [1, 'P-256'],
]);

/** The SEC1 compressed public key and curve of a COSE_Key EC2 map (kty 2, crv 8 or 1, x, y). */
export function fromCoseKey(v: CborValue | undefined, what: string): { publicKey: Uint8Array; curve: Curve } {
  const m = asMap(v, what, [1, -1, -2, -3]);
  if (m.get(1) !== 2) throw new IdentityError('malformed', `${what}: kty (1) must be 2 (EC2)`);
  const curve = CRV_CURVE.get(m.get(-1) as number);
  if (curve === undefined) throw new IdentityError('malformed', `${what}: crv (-1) must be 8 (secp256k1) or 1 (P-256)`);
  const x = bytes(m, -2, what, 32);
  const y = bytes(m, -3, what, 32);
  const raw = new Uint8Array(65);
  raw[0] = 4;
  raw.set(x, 1);
  raw.set(y, 33);
  try {
    const Point = curve === 'secp256k1' ? secp256k1.Point : p256.Point;
    return { publicKey: Point.fromBytes(raw).toBytes(true), curve };
  } catch {
    throw new IdentityError('malformed', `${what}: x, y is not a point on ${curve}`);
  }
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
