// node:crypto for the browser build of the page: the hashing and randomness the ledger's
// verification path uses, on @noble/hashes (SHA-256, FIPS 180-4) and WebCrypto's
// getRandomValues. Whatever else node:crypto has is not here on purpose: code that reaches for it
// in the browser fails at build time (the import does not resolve), not silently at run time.
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { Buffer } from './buffer.ts';

type Algorithm = 'sha256' | 'sha512';
const HASHES = { sha256, sha512 } as const;

function algorithm(name: string): (typeof HASHES)[Algorithm] {
  const h = HASHES[name.toLowerCase().replace('-', '') as Algorithm];
  if (!h) throw new TypeError(`hash algorithm '${name}' is not available in the browser build (sha256, sha512)`);
  return h;
}

function bytesOf(data: string | Uint8Array, enc?: string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, (enc as 'utf8' | undefined) ?? 'utf8') : data;
}

function output(d: Uint8Array, enc?: string): Buffer | string {
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return enc === undefined || enc === 'buffer' ? b : b.toString(enc as 'hex');
}

class Hash {
  readonly #h: ReturnType<(typeof HASHES)[Algorithm]['create']>;
  constructor(name: string) {
    this.#h = algorithm(name).create();
  }
  update(data: string | Uint8Array, enc?: string): this {
    this.#h.update(bytesOf(data, enc));
    return this;
  }
  digest(): Buffer;
  digest(enc: string): string;
  digest(enc?: string): Buffer | string {
    return output(this.#h.digest(), enc);
  }
}

export function createHash(name: string): Hash {
  return new Hash(name);
}

/** Node 20.12's one-shot `crypto.hash(algorithm, data, outputEncoding)`. */
export function hash(name: string, data: string | Uint8Array, enc: string = 'hex'): Buffer | string {
  return output(algorithm(name)(bytesOf(data)), enc);
}

export function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  // getRandomValues fills at most 65536 bytes per call.
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(b.subarray(at, Math.min(n, at + 65536)));
  return b;
}

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError('timingSafeEqual: inputs must have the same length');
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export default { createHash, hash, randomBytes, timingSafeEqual };
