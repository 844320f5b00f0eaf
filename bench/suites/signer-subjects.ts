// The signers measured by the signers suite, prepared inside a benchmark worker thread
// (harness/rate-worker.ts calls `prepare`). Each works on the same ring of 64 digests over 8
// keys, bytes in and bytes out, as the C reference does; prepare checks that the subject's
// signatures verify (and, for the deterministic secp256k1 signers, equal noble's) before
// anything is timed, so no figure is ever the speed of a failing call.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { loadNativeBackend } from '../../ledger/signers/native.ts';
import { requirePeer } from '../harness/thirdparty.ts';

export type SignerSubject =
  | 'native'
  | 'native-batch'
  | 'noble'
  | 'noble-precomputed'
  | 'node-secp256k1'
  | 'node-p256'
  | 'secp256k1-npm'
  | 'tiny-secp256k1';

export interface SignerParams {
  subject: SignerSubject;
  op: 'sign' | 'verify';
}

export const RING = 64;
export const KEYS = 8;
/** Digests per call of the batch subject: the whole ring. */
export const BATCH = RING;

const sha256 = (text: string): Uint8Array => new Uint8Array(createHash('sha256').update(text).digest());

function ring(): { privs: Uint8Array[]; pubs: Uint8Array[]; digests: Uint8Array[] } {
  const privs = Array.from({ length: KEYS }, (_, k) => sha256(`voltrail bench key ${k}`));
  return { privs, pubs: privs.map((p) => secp256k1.getPublicKey(p, true)), digests: Array.from({ length: RING }, (_, i) => sha256(`voltrail bench digest ${i}`)) };
}

interface Signer {
  sign(digest: Uint8Array, k: number): Uint8Array;
  verify(sig: Uint8Array, digest: Uint8Array, k: number): boolean;
  deterministic: boolean;
}

function nodeSigner(curve: 'secp256k1' | 'P-256', privs: Uint8Array[]): Signer {
  let keys: { priv: KeyObject; pub: KeyObject }[];
  if (curve === 'secp256k1') {
    // The ring's own keys, as JWK, so node:crypto signs with the same keys as everyone else.
    const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
    keys = privs.map((d) => {
      const p = secp256k1.getPublicKey(d, false);
      const jwk = { kty: 'EC', crv: 'secp256k1', d: b64(d), x: b64(p.subarray(1, 33)), y: b64(p.subarray(33)) };
      return { priv: createPrivateKey({ key: jwk, format: 'jwk' }), pub: createPublicKey({ key: { ...jwk, d: undefined }, format: 'jwk' }) };
    });
  } else {
    keys = privs.map(() => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return { priv: privateKey, pub: publicKey };
    });
  }
  // node:crypto has no sign-a-digest call: it hashes its input with SHA-256 first (32 bytes
  // here, a fraction of a percent of the ECDSA time). Nonces are random; S is not normalised.
  return {
    deterministic: false,
    sign: (digest, k) => nodeSign('sha256', digest, { key: keys[k]!.priv, dsaEncoding: 'ieee-p1363' }),
    verify: (sig, digest, k) => nodeVerify('sha256', digest, { key: keys[k]!.pub, dsaEncoding: 'ieee-p1363' }, sig),
  };
}

function signerFor(subject: SignerSubject, privs: Uint8Array[], pubs: Uint8Array[]): Signer {
  switch (subject) {
    case 'native':
    case 'native-batch': {
      const b = loadNativeBackend();
      if (!b) throw new Error('the native signer addon is not built (npm run build:native)');
      return { deterministic: true, sign: (d, k) => b.sign(d, privs[k]!), verify: (s, d, k) => b.verify(s, d, pubs[k]!) };
    }
    case 'noble':
    case 'noble-precomputed':
      if (subject === 'noble-precomputed') secp256k1.Point.BASE.precompute(10, false);
      return {
        deterministic: true,
        sign: (d, k) => secp256k1.sign(d, privs[k]!, { prehash: false }),
        verify: (s, d, k) => secp256k1.verify(s, d, pubs[k]!, { prehash: false }),
      };
    case 'node-secp256k1':
      return nodeSigner('secp256k1', privs);
    case 'node-p256':
      return nodeSigner('P-256', privs);
    case 'secp256k1-npm': {
      // './bindings' is the native addon itself; the package's index silently falls back to
      // pure-JS elliptic when the addon does not load, which is not what is compared here.
      const lib = requirePeer('secp256k1/bindings') as {
        ecdsaSign(msg: Uint8Array, key: Uint8Array): { signature: Uint8Array };
        ecdsaVerify(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean;
      };
      return { deterministic: true, sign: (d, k) => lib.ecdsaSign(d, privs[k]!).signature, verify: (s, d, k) => lib.ecdsaVerify(s, d, pubs[k]!) };
    }
    case 'tiny-secp256k1': {
      const lib = requirePeer('tiny-secp256k1') as {
        sign(h: Uint8Array, d: Uint8Array): Uint8Array;
        verify(h: Uint8Array, q: Uint8Array, sig: Uint8Array, strict?: boolean): boolean;
      };
      // strict: refuse high-S, as voltrail's verify does.
      return { deterministic: true, sign: (d, k) => lib.sign(d, privs[k]!), verify: (s, d, k) => lib.verify(d, pubs[k]!, s, true) };
    }
    default:
      throw new RangeError(`unknown signer subject ${String(subject)}`);
  }
}

/** Prepares the timed operation; returns a function doing one call and answering how many items it handled. */
export function prepare(params: SignerParams): () => number {
  const { privs, pubs, digests } = ring();
  const signer = signerFor(params.subject, privs, pubs);
  const sigs = digests.map((d, i) => signer.sign(d, i % KEYS));
  // One entry per key is checked: enough to catch a wrong binding, cheap enough for pure JS.
  for (let i = 0; i < KEYS; i++) {
    if (!signer.verify(sigs[i]!, digests[i]!, i)) throw new Error(`${params.subject}: its own signature ${i} does not verify`);
    if (signer.deterministic && Buffer.compare(sigs[i]!, secp256k1.sign(digests[i]!, privs[i]!, { prehash: false })) !== 0) {
      throw new Error(`${params.subject}: signature ${i} differs from @noble/curves (RFC 6979, low-S)`);
    }
  }

  let i = 0;
  let sink = 0;
  if (params.subject === 'native-batch') {
    const b = loadNativeBackend()!;
    const all = new Uint8Array(RING * 32);
    digests.forEach((d, j) => all.set(d, 32 * j));
    const batchSigs = privs.map((p) => b.signMany(all, p));
    const sigOut = new Uint8Array(RING * 64);
    const okOut = new Uint8Array(RING);
    if (params.op === 'sign') {
      return () => {
        b.signMany(all, privs[i++ % KEYS]!, sigOut);
        return BATCH;
      };
    }
    return () => {
      const k = i++ % KEYS;
      b.verifyMany(batchSigs[k]!, all, pubs[k]!, okOut);
      if (okOut[RING - 1] !== 1) throw new Error('native-batch: a valid signature failed to verify');
      return BATCH;
    };
  }
  if (params.op === 'sign') {
    return () => {
      const j = i++ % RING;
      sink ^= signer.sign(digests[j]!, j % KEYS)[0]!;
      return 1 + (sink & 0);
    };
  }
  return () => {
    const j = i++ % RING;
    if (!signer.verify(sigs[j]!, digests[j]!, j % KEYS)) throw new Error(`${params.subject}: signature ${j} failed to verify`);
    return 1;
  };
}
