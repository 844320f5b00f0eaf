// One ECDSA check of the reception pipeline, in a form that can cross to a worker thread:
// the curve, the public key, the exact bytes signed (the COSE Sig_structure, hashed by the
// verifier) and r||s; and `verifyCheck`, its verification with OpenSSL through node:crypto
// (SEC 1 v2 section 4.1.4; RFC 9053 section 2.1 for ES256's r||s form). This is the hot path
// of reception (one call per message), so it is written for it: the range and low-S checks
// compare bytes with the curve order instead of building bigints, and the OpenSSL key object
// of a public key is kept (by the key's own Uint8Array when a cached certificate hands the same
// one again, by its bytes otherwise), so a signer costs one key parse, not one per message.
// `deferredBackend` lets the existing certificate reader (verifyPseudonymCertificate) do all
// its structural and claim checks now while it hands its one signature check over as a
// SignatureCheck, to be verified later in the priority queue: a certificate attached to a
// message costs a verification too, and must not jump the queue.
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Curve, SignerBackend } from '../../ledger/signers/backend.ts';
import { SPKI_PREFIX, opensslVerifyBackend } from '../../ledger/signers/openssl-verify.ts';

export interface SignatureCheck {
  curve: Curve;
  /** SEC1 point, 33 or 65 bytes. */
  publicKey: Uint8Array;
  /** The bytes signed (SHA-256 is applied by the verifier). */
  message: Uint8Array;
  /** r||s, 64 bytes; high-S is refused. */
  signature: Uint8Array;
}

const hexBytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** The group order n (SEC 2 section 2.4.1 for secp256k1, FIPS 186-4 D.1.2.3 for P-256), big-endian. */
const ORDER: Readonly<Record<Curve, Uint8Array>> = {
  secp256k1: hexBytes('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'),
  'P-256': hexBytes('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
};

/** floor(n / 2): the largest low-S value. */
const HALF_ORDER: Readonly<Record<Curve, Uint8Array>> = {
  secp256k1: hexBytes('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0'),
  'P-256': hexBytes('7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8'),
};

/** -1, 0 or 1 as the 32 bytes at `at` compare with `bound` (big-endian). */
function compare32(b: Uint8Array, at: number, bound: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = b[at + i]! - bound[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function isZero32(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (b[at + i] !== 0) return false;
  return true;
}

/** 1 <= r < n and 1 <= s <= n/2 (low-S: OpenSSL itself accepts both s and n - s). */
export function inRangeLowS(signature: Uint8Array, curve: Curve): boolean {
  if (isZero32(signature, 0) || compare32(signature, 0, ORDER[curve]) >= 0) return false;
  return !isZero32(signature, 32) && compare32(signature, 32, HALF_ORDER[curve]) <= 0;
}

const KEY_CACHE_LIMIT = 4096;
/** Key objects by the public key's own array (a cached certificate hands the same one every time). */
const byArray = new WeakMap<Uint8Array, KeyObject | null>();
/** Key objects by curve and bytes, for keys that arrive as fresh arrays (worker threads). Bounded. */
const byBytes = new Map<string, KeyObject | null>();

function parseKey(curve: Curve, publicKey: Uint8Array): KeyObject | null {
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX[curve][publicKey.length as 33 | 65], publicKey]), format: 'der', type: 'spki' });
  } catch {
    return null; // not a point on the curve
  }
}

/** The OpenSSL key object of a SEC1 point; null when it is not on the curve. */
function keyObject(curve: Curve, publicKey: Uint8Array): KeyObject | null {
  const known = byArray.get(publicKey);
  if (known !== undefined) return known;
  const id = curve + Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1');
  let k = byBytes.get(id);
  if (k === undefined) {
    k = parseKey(curve, publicKey);
    if (byBytes.size >= KEY_CACHE_LIMIT) byBytes.delete(byBytes.keys().next().value!);
    byBytes.set(id, k);
  }
  byArray.set(publicKey, k);
  return k;
}

/** Verifies one check on this thread (OpenSSL through node:crypto, low-S enforced). */
export function verifyCheck(c: SignatureCheck): boolean {
  const { curve, publicKey, message, signature } = c;
  if (curve !== 'P-256' && curve !== 'secp256k1') return false;
  if (!(signature instanceof Uint8Array) || signature.length !== 64 || !(message instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
  const n = publicKey.length;
  if (!((n === 33 && (publicKey[0] === 2 || publicKey[0] === 3)) || (n === 65 && publicKey[0] === 4))) return false;
  if (!inRangeLowS(signature, curve)) return false;
  const key = keyObject(curve, publicKey);
  if (key === null) return false;
  try {
    return cryptoVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
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
