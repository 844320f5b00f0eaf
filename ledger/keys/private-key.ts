// A device (or authority) private key in memory: the secret lives in a private field, and the
// object prints, logs and serialises as its public identity only (curve, kid), never the
// secret. Keys are made from the platform's cryptographic randomness (node:crypto).
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { Curve, SignerBackend } from '../signers/backend.ts';
import { nobleBackend } from '../signers/noble.ts';
import { algForCurve } from '../cose/algorithms.ts';
import type { CoseAlg } from '../cose/algorithms.ts';
import { keyThumbprint } from '../cose/key-thumbprint.ts';
import type { CoseSigner } from '../cose/sign1.ts';

export class PrivateKey implements CoseSigner {
  readonly curve: Curve;
  readonly alg: CoseAlg;
  /** SEC1 compressed public key, 33 bytes. */
  readonly publicKey: Uint8Array;
  /** RFC 9679 thumbprint of the public key: the COSE kid. */
  readonly kid: Uint8Array;
  readonly #secret: Uint8Array;
  #backend: SignerBackend;

  private constructor(secret: Uint8Array, curve: Curve, backend: SignerBackend) {
    if (backend.curve !== curve) throw new RangeError(`backend: ${backend.name} is for ${backend.curve}, the key is ${curve}`);
    this.#secret = secret;
    this.#backend = backend;
    this.curve = curve;
    this.alg = algForCurve(curve);
    this.publicKey = nobleBackend(curve).publicKey(secret);
    this.kid = keyThumbprint(this.publicKey, curve);
  }

  /** A new key from the platform's cryptographic random source. */
  static generate(curve: Curve = 'secp256k1', backend?: SignerBackend): PrivateKey {
    const noble = nobleBackend(curve);
    for (;;) {
      const secret = new Uint8Array(randomBytes(32));
      try {
        noble.publicKey(secret); // refuses 0 and values >= n (probability ~2^-128)
      } catch {
        continue;
      }
      return new PrivateKey(secret, curve, backend ?? noble);
    }
  }

  /** A key from its 32 secret bytes (copied). */
  static fromBytes(secret: Uint8Array, curve: Curve = 'secp256k1', backend?: SignerBackend): PrivateKey {
    if (!(secret instanceof Uint8Array)) throw new TypeError('secret: expected a Uint8Array');
    // Uint8Array.from copies (Buffer#slice would share memory with the caller, who may wipe it).
    return new PrivateKey(Uint8Array.from(secret), curve, backend ?? nobleBackend(curve));
  }

  /** Signs with another backend from now on (e.g. the one `pickBackend` chose). */
  useBackend(backend: SignerBackend): void {
    if (backend.curve !== this.curve) throw new RangeError(`backend: ${backend.name} is for ${backend.curve}, the key is ${this.curve}`);
    this.#backend = backend;
  }

  get backendName(): string {
    return this.#backend.name;
  }

  signDigest(digest: Uint8Array): Uint8Array {
    return this.#backend.sign(digest, this.#secret);
  }

  /** n digests (n*32 bytes) -> n signatures (n*64 bytes): one call for a batch backend (signMany), else one sign each. */
  signDigests(digests: Uint8Array): Uint8Array {
    if (!(digests instanceof Uint8Array) || digests.length % 32 !== 0) throw new TypeError('digests: expected a Uint8Array of n*32 bytes');
    const b = this.#backend as SignerBackend & { signMany?: (digests: Uint8Array, privateKey: Uint8Array) => Uint8Array };
    if (typeof b.signMany === 'function') return b.signMany(digests, this.#secret);
    const n = digests.length / 32;
    const out = new Uint8Array(n * 64);
    for (let i = 0; i < n; i++) out.set(b.sign(digests.subarray(32 * i, 32 * i + 32), this.#secret), 64 * i);
    return out;
  }

  /**
   * The secret bytes, for the key file writer and the signing pool only. A copy: wipe it with
   * `.fill(0)` when done.
   */
  exportSecret(): Uint8Array {
    return Uint8Array.from(this.#secret);
  }

  toString(): string {
    return `PrivateKey(${this.curve}, kid ${Buffer.from(this.kid).toString('hex')})`;
  }

  toJSON(): { curve: Curve; kid: string; publicKey: string } {
    return { curve: this.curve, kid: Buffer.from(this.kid).toString('hex'), publicKey: Buffer.from(this.publicKey).toString('hex') };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
