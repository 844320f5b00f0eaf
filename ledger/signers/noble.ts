// The pure-JS signer backend on @noble/curves (audited, always available): secp256k1 (SEC 2)
// and P-256 (FIPS 186-5) ECDSA over a 32-byte digest, RFC 6979 deterministic nonces, low-S.
// noble 2.x hashes the message itself unless told `prehash: false`: we pass digests, so every
// call says so. The base point gets a larger precomputed window than noble's default (signing
// and key derivation are fixed-base multiplications), once the backend is used in earnest: the
// table holds about 3 MB, which a board that signs with the native backend (noble only checks it
// once at start, ledger/signers/pick.ts) should not carry. https://github.com/paulmillr/noble-curves
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import type { Curve, SignerBackend } from './backend.ts';
import { checkDigest, checkPrivateKey } from './input-checks.ts';

/** Window of the base-point table: 10 bits signs ~20% faster than noble's default 8. */
const BASE_WINDOW = 10;
/** Fixed-base multiplications (signatures, key derivations) before the larger table is built. */
const PREPARE_AFTER = 32;
const OPTS = { prehash: false, lowS: true } as const;

type Ecdsa = typeof secp256k1;

const prepared = new WeakSet<Ecdsa>();

function prepare(ecdsa: Ecdsa): Ecdsa {
  if (!prepared.has(ecdsa)) {
    ecdsa.Point.BASE.precompute(BASE_WINDOW, false);
    prepared.add(ecdsa);
  }
  return ecdsa;
}

class NobleBackend implements SignerBackend {
  readonly name = 'noble';
  readonly curve: Curve;
  readonly #ecdsa: Ecdsa;
  #uses = 0;

  constructor(curve: Curve, ecdsa: Ecdsa) {
    this.curve = curve;
    this.#ecdsa = ecdsa;
  }

  /** Counts a fixed-base multiplication; the larger table pays off from PREPARE_AFTER on. */
  #used(): void {
    if (this.#uses < PREPARE_AFTER && ++this.#uses === PREPARE_AFTER) prepare(this.#ecdsa);
  }

  sign(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
    this.#used();
    checkDigest(digest);
    checkPrivateKey(privateKey, this.curve, this.#ecdsa.utils.isValidSecretKey(privateKey));
    return this.#ecdsa.sign(digest, privateKey, OPTS);
  }

  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    if (!(digest instanceof Uint8Array) || digest.length !== 32) return false;
    if (!(publicKey instanceof Uint8Array) || (publicKey.length !== 33 && publicKey.length !== 65)) return false;
    try {
      // noble refuses r or s outside [1, n-1], s > n/2 (lowS) and points off the curve.
      return this.#ecdsa.verify(signature, digest, publicKey, OPTS);
    } catch {
      return false;
    }
  }

  publicKey(privateKey: Uint8Array): Uint8Array {
    this.#used();
    checkPrivateKey(privateKey, this.curve, this.#ecdsa.utils.isValidSecretKey(privateKey));
    return this.#ecdsa.getPublicKey(privateKey, true);
  }
}

const backends = new Map<Curve, SignerBackend>();

/** The noble backend for `curve` (one instance per curve; the larger table is built once it is used in earnest). */
export function nobleBackend(curve: Curve): SignerBackend {
  let b = backends.get(curve);
  if (b === undefined) {
    if (curve === 'secp256k1') b = new NobleBackend(curve, secp256k1);
    else if (curve === 'P-256') b = new NobleBackend(curve, p256 as Ecdsa);
    else throw new RangeError(`curve: '${String(curve)}' is not supported (secp256k1 or P-256)`);
    backends.set(curve, b);
  }
  return b;
}
