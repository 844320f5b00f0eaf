// A backend that signs with noble (RFC 6979 deterministic, which node:crypto cannot do) and
// verifies messages with OpenSSL through node:crypto: about 4x noble's verification speed on
// secp256k1 and 20x on P-256 (TOOLCHAIN.md). OpenSSL accepts high-S signatures, so the low-S
// and range checks are made here first. OpenSSL hashes the message itself, so it offers
// `verifyMessage`; `verify` over a bare digest stays with noble.
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Curve, SignerBackend } from './backend.ts';
import { nobleBackend } from './noble.ts';

const ORDER: Readonly<Record<Curve, bigint>> = {
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};

// SubjectPublicKeyInfo (RFC 5480) prefixes for a 33-byte compressed and a 65-byte uncompressed point.
export const SPKI_PREFIX: Readonly<Record<Curve, Record<33 | 65, Buffer>>> = {
  secp256k1: {
    33: Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex'),
    65: Buffer.from('3056301006072a8648ce3d020106052b8104000a034200', 'hex'),
  },
  'P-256': {
    33: Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
    65: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  },
};

const KEY_CACHE_LIMIT = 1024;

function scalar(b: Uint8Array, at: number): bigint {
  let n = 0n;
  for (let i = at; i < at + 32; i++) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

class OpensslVerifyBackend implements SignerBackend {
  readonly name = 'noble+openssl';
  readonly curve: Curve;
  readonly #noble: SignerBackend;
  readonly #n: bigint;
  readonly #keys = new Map<string, KeyObject | null>();

  constructor(curve: Curve) {
    this.curve = curve;
    this.#noble = nobleBackend(curve);
    this.#n = ORDER[curve];
  }

  sign(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
    return this.#noble.sign(digest, privateKey);
  }

  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
    return this.#noble.verify(signature, digest, publicKey);
  }

  publicKey(privateKey: Uint8Array): Uint8Array {
    return this.#noble.publicKey(privateKey);
  }

  /** The OpenSSL key object for a compressed point; null when it is not on the curve. */
  #key(publicKey: Uint8Array): KeyObject | null {
    const id = Buffer.from(publicKey).toString('latin1');
    let k = this.#keys.get(id);
    if (k === undefined) {
      try {
        k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX[this.curve][publicKey.length as 33 | 65], publicKey]), format: 'der', type: 'spki' });
      } catch {
        k = null;
      }
      if (this.#keys.size >= KEY_CACHE_LIMIT) this.#keys.clear();
      this.#keys.set(id, k);
    }
    return k;
  }

  verifyMessage(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    if (!(message instanceof Uint8Array)) return false;
    if (!(publicKey instanceof Uint8Array)) return false;
    const compressed = publicKey.length === 33 && (publicKey[0] === 2 || publicKey[0] === 3);
    if (!compressed && !(publicKey.length === 65 && publicKey[0] === 4)) return false;
    const r = scalar(signature, 0);
    const s = scalar(signature, 32);
    if (r === 0n || r >= this.#n || s === 0n || s > this.#n >> 1n) return false; // low-S only
    const key = this.#key(publicKey);
    if (key === null) return false;
    try {
      return cryptoVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      return false;
    }
  }
}

const backends = new Map<Curve, SignerBackend>();

export function opensslVerifyBackend(curve: Curve): SignerBackend {
  let b = backends.get(curve);
  if (b === undefined) {
    if (curve !== 'secp256k1' && curve !== 'P-256') throw new RangeError(`curve: '${String(curve)}' is not supported (secp256k1 or P-256)`);
    backends.set(curve, (b = new OpensslVerifyBackend(curve)));
  }
  return b;
}

/** A pickBackend candidate: available wherever node:crypto's OpenSSL knows the curve. */
export const loadOpensslVerify = (curve: Curve): SignerBackend | undefined => {
  const b = opensslVerifyBackend(curve);
  try {
    b.verifyMessage!(new Uint8Array(64), new Uint8Array(0), nobleBackend(curve).publicKey(new Uint8Array(32).fill(1)));
    return b;
  } catch {
    return undefined;
  }
};
