// The native signer backend: voltrail's own thin N-API addon over the system libsecp256k1
// (ledger/signers/native/, built by scripts/build-native.mjs where a compiler and the library
// exist). Same contract as every SignerBackend (backend.ts): ECDSA secp256k1 over a 32-byte
// digest, RFC 6979 nonces, low-S, r||s; verify refuses high-S and never throws. It adds batch
// calls that sign or verify n digests in one crossing into C, for the ledger's bulk paths.
// Optional by design: `loadNativeBackend()` answers undefined when the addon is not built or
// does not load, and the caller falls back to the pure-JavaScript backend.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { SignerBackend } from './backend.ts';

/** The raw functions of the addon (secp256k1_addon.c); results are written into `out`. */
interface NativeAddon {
  sign(digest: Uint8Array, privateKey: Uint8Array, out: Uint8Array): boolean;
  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean;
  publicKey(privateKey: Uint8Array, out: Uint8Array): boolean;
  signMany(digests: Uint8Array, privateKey: Uint8Array, out: Uint8Array): boolean;
  verifyMany(signatures: Uint8Array, digests: Uint8Array, publicKey: Uint8Array, out: Uint8Array): number;
}

/** A SignerBackend with batch calls: n digests concatenated, n results in one call. */
export interface BatchSignerBackend extends SignerBackend {
  /** Signs n digests (n*32 bytes) with one key; returns n signatures r||s (n*64 bytes), or writes them into `out`. */
  signMany(digests: Uint8Array, privateKey: Uint8Array, out?: Uint8Array): Uint8Array;
  /** Verifies n signatures (n*64 bytes) over n digests (n*32 bytes) by one key; returns n bytes, 1 valid, 0 not. */
  verifyMany(signatures: Uint8Array, digests: Uint8Array, publicKey: Uint8Array, out?: Uint8Array): Uint8Array;
}

/** Where the built addon lands (gitignored; rebuilt by `npm run build:native`). */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('./native/build/Release/voltrail_secp256k1.node', import.meta.url));

let cached: { addon?: NativeAddon; reason?: string } | undefined;

function loadAddon(): { addon?: NativeAddon; reason?: string } {
  if (cached) return cached;
  if (!existsSync(NATIVE_ADDON_PATH)) {
    cached = { reason: 'not built (run `npm run build:native`; needs a C compiler and libsecp256k1-dev)' };
  } else {
    try {
      cached = { addon: createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon };
    } catch (err) {
      cached = { reason: `does not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
    }
  }
  return cached;
}

/** Why the native backend is or is not available, for `voltrail doctor` and the bench. */
export function nativeBackendStatus(): { available: boolean; path: string; reason?: string } {
  const { addon, reason } = loadAddon();
  return addon ? { available: true, path: NATIVE_ADDON_PATH } : { available: false, path: NATIVE_ADDON_PATH, reason };
}

function bytes(value: unknown, length: number, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${field} must be a Uint8Array, got ${value === null ? 'null' : typeof value}`);
  if (value.length !== length) throw new TypeError(`${field} must be ${length} bytes, got ${value.length}`);
  return value;
}

function multiple(value: unknown, unit: number, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${field} must be a Uint8Array, got ${value === null ? 'null' : typeof value}`);
  if (value.length % unit !== 0) throw new TypeError(`${field} must be a multiple of ${unit} bytes, got ${value.length}`);
  return value;
}

function output(out: Uint8Array | undefined, length: number, field: string): Uint8Array {
  if (out === undefined) return new Uint8Array(length);
  if (!(out instanceof Uint8Array)) throw new TypeError(`${field} must be a Uint8Array`);
  if (out.length < length) throw new RangeError(`${field} must hold at least ${length} bytes, has ${out.length}`);
  return out;
}

const KEY_RANGE = 'privateKey out of range: it must be 1 <= key < n, the secp256k1 group order';

/**
 * Per-thread scratch for single calls. A small Uint8Array (64 bytes or less) lives inside V8's
 * heap, and handing one to native code makes V8 move it out first: an allocation and a copy on
 * every call with a fresh digest or output array. Copying the inputs into views of one
 * off-heap ArrayBuffer, and the output out of it, costs a few dozen bytes of copying instead.
 * The private key is wiped from the scratch after each call.
 */
function scratch(): {
  sig: Uint8Array;
  digest: Uint8Array;
  key: Uint8Array;
  pub33: Uint8Array;
  pub65: Uint8Array;
  out: Uint8Array;
} {
  const b = new ArrayBuffer(272);
  return {
    sig: new Uint8Array(b, 0, 64),
    digest: new Uint8Array(b, 64, 32),
    key: new Uint8Array(b, 96, 32),
    pub33: new Uint8Array(b, 128, 33),
    pub65: new Uint8Array(b, 128, 65),
    out: new Uint8Array(b, 200, 64),
  };
}

/** The native backend, or undefined when the addon is not built or does not load here. */
export function loadNativeBackend(): BatchSignerBackend | undefined {
  const { addon } = loadAddon();
  if (!addon) return undefined;
  const s = scratch();
  return {
    name: 'libsecp256k1',
    curve: 'secp256k1',
    sign(digest, privateKey) {
      s.digest.set(bytes(digest, 32, 'digest'));
      s.key.set(bytes(privateKey, 32, 'privateKey'));
      const ok = addon.sign(s.digest, s.key, s.out);
      s.key.fill(0);
      if (!ok) throw new RangeError(KEY_RANGE);
      return s.out.slice();
    },
    verify(signature, digest, publicKey) {
      // Anything but Uint8Arrays of the right sizes is simply not a valid signature.
      if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
      if (!(digest instanceof Uint8Array) || digest.length !== 32) return false;
      if (!(publicKey instanceof Uint8Array) || (publicKey.length !== 33 && publicKey.length !== 65)) return false;
      const pub = publicKey.length === 33 ? s.pub33 : s.pub65;
      s.sig.set(signature);
      s.digest.set(digest);
      pub.set(publicKey);
      return addon.verify(s.sig, s.digest, pub);
    },
    publicKey(privateKey) {
      s.key.set(bytes(privateKey, 32, 'privateKey'));
      const ok = addon.publicKey(s.key, s.out);
      s.key.fill(0);
      if (!ok) throw new RangeError(KEY_RANGE);
      return s.out.slice(0, 33);
    },
    signMany(digests, privateKey, out) {
      const n = multiple(digests, 32, 'digests').length / 32;
      const result = output(out, n * 64, 'out');
      if (!addon.signMany(digests, bytes(privateKey, 32, 'privateKey'), result)) throw new RangeError(KEY_RANGE);
      return out === undefined ? result : result.subarray(0, n * 64);
    },
    verifyMany(signatures, digests, publicKey, out) {
      const n = multiple(digests, 32, 'digests').length / 32;
      if (multiple(signatures, 64, 'signatures').length !== n * 64) {
        throw new TypeError(`signatures must be ${n * 64} bytes for ${n} digests, got ${signatures.length}`);
      }
      if (!(publicKey instanceof Uint8Array)) throw new TypeError('publicKey must be a Uint8Array');
      const result = output(out, n, 'out');
      addon.verifyMany(signatures, digests, publicKey, result);
      return out === undefined ? result : result.subarray(0, n);
    },
  };
}
