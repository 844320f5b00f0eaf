// A set of trusted public keys, looked up by kid (their RFC 9679 thumbprint), for `verify1`.
// The kid is computed here from the key itself, so an entry cannot claim another key's kid.
import type { Curve } from '../signers/backend.ts';
import { algForCurve } from './algorithms.ts';
import { keyThumbprint } from './key-thumbprint.ts';
import type { VerifyKey } from './sign1.ts';

export class KeyRing {
  readonly #byKid = new Map<string, VerifyKey>();

  constructor(keys: Iterable<{ publicKey: Uint8Array; curve: Curve }> = []) {
    for (const k of keys) this.add(k.publicKey, k.curve);
  }

  /** Adds a key; returns its kid. */
  add(publicKey: Uint8Array, curve: Curve): Uint8Array {
    const kid = keyThumbprint(publicKey, curve);
    this.#byKid.set(Buffer.from(kid).toString('hex'), { publicKey: Uint8Array.from(publicKey), alg: algForCurve(curve) });
    return kid;
  }

  get size(): number {
    return this.#byKid.size;
  }

  /** The lookup `verify1` takes (`{ keys: ring.lookup }`). */
  readonly lookup = (kid: Uint8Array): VerifyKey | undefined => this.#byKid.get(Buffer.from(kid).toString('hex'));
}
