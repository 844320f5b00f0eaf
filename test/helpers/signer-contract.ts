// One contract suite that every SignerBackend must pass (noble, native, any future one):
// deterministic low-S r||s signatures, and a verify that says false (never throws) for high-S,
// malformed and foreign signatures. Call it from a test file with a backend to check.
import test from 'ava';
import type { Curve, SignerBackend } from '../../ledger/signers/backend.ts';

export const ORDER: Readonly<Record<Curve, bigint>> = {
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};

/** Compressed generator point: the public key of private key 1. */
const GENERATOR: Readonly<Record<Curve, string>> = {
  secp256k1: '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
  'P-256': '036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296',
};

export const toBig = (b: Uint8Array): bigint => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));
export const toBytes32 = (n: bigint): Uint8Array => new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));

/** The same signature with s replaced by n - s: valid ECDSA, but high-S (malleated). */
export function malleate(sig: Uint8Array, curve: Curve): Uint8Array {
  const out = sig.slice();
  out.set(toBytes32(ORDER[curve] - toBig(sig.subarray(32))), 32);
  return out;
}

export function signerContract(backend: SignerBackend, label = `${backend.name} ${backend.curve}`): void {
  const curve = backend.curve;
  const n = ORDER[curve];
  const key = toBytes32(0x1f2e3d4c5b6a79880102030405060708090a0b0c0d0e0f10111213141516171n);
  const digest = new Uint8Array(32).fill(0x5a);
  const one = toBytes32(1n);

  test(`${label}: publicKey is SEC1 compressed`, (t) => {
    t.is(Buffer.from(backend.publicKey(one)).toString('hex'), GENERATOR[curve]);
    const pub = backend.publicKey(key);
    t.is(pub.length, 33);
    t.true(pub[0] === 2 || pub[0] === 3);
  });

  test(`${label}: sign is deterministic, 64 bytes, low-S, and verifies`, (t) => {
    const pub = backend.publicKey(key);
    for (let i = 0; i < 8; i++) {
      const d = digest.map((x) => x ^ i);
      const sig = backend.sign(d, key);
      t.is(sig.length, 64);
      t.deepEqual(backend.sign(d, key), sig);
      t.true(toBig(sig.subarray(32)) <= n >> 1n, 'low-S');
      t.true(backend.verify(sig, d, pub));
      t.false(backend.verify(sig, d.map((x, j) => (j === 31 ? x ^ 1 : x)), pub), 'other digest');
    }
  });

  test(`${label}: verify refuses high-S and malformed signatures (false, not a throw)`, (t) => {
    const pub = backend.publicKey(key);
    const sig = backend.sign(digest, key);
    const r = sig.subarray(0, 32);
    const s = sig.subarray(32);
    const cat = (a: Uint8Array, b: Uint8Array) => new Uint8Array([...a, ...b]);
    const hostile: [string, Uint8Array, Uint8Array?][] = [
      ['high-S (n - s)', malleate(sig, curve)],
      ['r = 0', cat(toBytes32(0n), s)],
      ['s = 0', cat(r, toBytes32(0n))],
      ['r = n', cat(toBytes32(n), s)],
      ['s = n', cat(r, toBytes32(n))],
      ['r = r + n (>= n)', toBig(r) + n < 2n ** 256n ? cat(toBytes32(toBig(r) + n), s) : cat(toBytes32(2n ** 256n - 1n), s)],
      ['63 bytes', sig.subarray(0, 63)],
      ['65 bytes', cat(sig, new Uint8Array(1))],
      ['empty', new Uint8Array(0)],
      ['DER instead of r||s', new Uint8Array([0x30, 0x44, 0x02, 0x20, ...r, 0x02, 0x20, ...s])],
      ['bit flip in r', sig.map((x, i) => (i === 3 ? x ^ 0x10 : x))],
      ['bit flip in s', sig.map((x, i) => (i === 40 ? x ^ 0x01 : x))],
      ['public key off the curve', sig, new Uint8Array([0x02, ...new Uint8Array(32).fill(0xff)])],
      ['public key with a bad prefix', sig, new Uint8Array([0x05, ...pub.subarray(1)])],
      ['public key truncated', sig, pub.subarray(0, 32)],
      ['another key', sig, backend.publicKey(one)],
    ];
    for (const [what, bad, badPub] of hostile) {
      let result: boolean | string;
      try {
        result = backend.verify(bad, digest, badPub ?? pub);
      } catch (err) {
        result = `threw ${(err as Error).message}`;
      }
      t.is(result, false, what);
    }
    t.false(backend.verify(sig, digest.subarray(0, 31), pub), 'short digest');
  });

  if (backend.verifyMessage) {
    const verifyMessage = backend.verifyMessage.bind(backend);
    test(`${label}: verifyMessage checks SHA-256(message) with the same rules`, async (t) => {
      const { createHash } = await import('node:crypto');
      const pub = backend.publicKey(key);
      const msg = new TextEncoder().encode('a telemetry record');
      const sig = backend.sign(createHash('sha256').update(msg).digest(), key);
      t.true(verifyMessage(sig, msg, pub));
      t.false(verifyMessage(malleate(sig, curve), msg, pub), 'high-S');
      t.false(verifyMessage(sig, msg.subarray(1), pub), 'other message');
      t.false(verifyMessage(sig.subarray(0, 63), msg, pub), '63 bytes');
      t.false(verifyMessage(sig, msg, new Uint8Array([0x02, ...new Uint8Array(32).fill(0xff)])), 'off the curve');
      t.false(verifyMessage(sig, msg, backend.publicKey(one)), 'another key');
    });
  }

  test(`${label}: sign refuses bad arguments, naming them and not the key`, (t) => {
    t.throws(() => backend.sign(digest.subarray(1), key), { instanceOf: RangeError, message: /digest/ });
    t.throws(() => backend.sign(digest, toBytes32(0n)), { message: /privateKey/ });
    t.throws(() => backend.sign(digest, toBytes32(n)), { message: /privateKey/ });
    const err = t.throws(() => backend.sign(digest, key.subarray(1)));
    t.false(err!.message.includes(Buffer.from(key.subarray(1, 8)).toString('hex')));
  });
}
