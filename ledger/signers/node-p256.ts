// A P-256 (FIPS 186-5, ES256) signer backend whose verify fast path runs on node:crypto
// (OpenSSL), several times faster than the pure-JS curve: what a V2X receiver needs to keep up
// with a busy channel. OpenSSL hashes the message itself and offers no bare-digest ECDSA
// verify, so the fast path is `verifyMessage` (sign1's verifier hands it the Sig_structure in
// pieces); `verify` over a digest and all signing stay on noble, so signatures remain RFC 6979
// deterministic and byte-identical to every other backend. OpenSSL accepts high-S signatures:
// r and s are range-checked here first (1 <= r < n, 1 <= s <= n/2), as the SignerBackend
// contract asks. Decoded public keys are cached (bounded), as a receiver sees the same
// pseudonyms again and again.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import type { Curve, SignerBackend } from './backend.ts';
import { nobleBackend } from './noble.ts';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;
const KEY_CACHE_LIMIT = 4096;

function toBig(b: Uint8Array): bigint {
  let x = 0n;
  for (const byte of b) x = (x << 8n) | BigInt(byte);
  return x;
}

class NodeP256Backend implements SignerBackend {
  readonly name = 'node-p256';
  readonly curve: Curve = 'P-256';
  readonly #noble = nobleBackend('P-256');
  readonly #keys = new Map<string, KeyObject | null>();

  sign(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
    return this.#noble.sign(digest, privateKey);
  }

  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
    return this.#noble.verify(signature, digest, publicKey);
  }

  publicKey(privateKey: Uint8Array): Uint8Array {
    return this.#noble.publicKey(privateKey);
  }

  verifyMessage(signature: Uint8Array, parts: readonly Uint8Array[], publicKey: Uint8Array): boolean {
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    const r = toBig(signature.subarray(0, 32));
    const s = toBig(signature.subarray(32));
    if (r === 0n || r >= N || s === 0n || s > HALF_N) return false;
    const key = this.#key(publicKey);
    if (key === null) return false;
    const message = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    try {
      return nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      return false;
    }
  }

  #key(publicKey: Uint8Array): KeyObject | null {
    if (!(publicKey instanceof Uint8Array) || (publicKey.length !== 33 && publicKey.length !== 65)) return null;
    const id = Buffer.from(publicKey).toString('hex');
    let key = this.#keys.get(id);
    if (key !== undefined) return key;
    try {
      const raw = p256.Point.fromBytes(publicKey).toBytes(false); // refuses points off the curve
      key = createPublicKey({
        key: { kty: 'EC', crv: 'P-256', x: Buffer.from(raw.subarray(1, 33)).toString('base64url'), y: Buffer.from(raw.subarray(33)).toString('base64url') },
        format: 'jwk',
      });
    } catch {
      key = null;
    }
    if (this.#keys.size >= KEY_CACHE_LIMIT) this.#keys.delete(this.#keys.keys().next().value!);
    this.#keys.set(id, key);
    return key;
  }
}

let instance: SignerBackend | undefined;

/** The node:crypto P-256 backend (one instance). */
export function nodeP256Backend(): SignerBackend {
  return (instance ??= new NodeP256Backend());
}
