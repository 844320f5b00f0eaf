// The native signer backend (ledger/signers/native.ts) against @noble/curves as the independent
// implementation: byte-identical RFC 6979 low-S signatures, and a verify that refuses high-S,
// malformed input and the wrong key without throwing. Skipped, with a note, where the addon is
// not built (no compiler or no libsecp256k1-dev): voltrail then runs on the pure-JS backend.
import test from 'ava';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { loadNativeBackend, nativeBackendStatus, NATIVE_ADDON_PATH } from '../../ledger/signers/native.ts';

const backend = loadNativeBackend();
const status = nativeBackendStatus();
const native = backend ? test : test.skip;
if (!backend) {
  test('native backend not built: tests skipped', (t) => {
    t.log(`native signer ${status.reason ?? 'unavailable'}; the addon tests are skipped`);
    t.false(status.available);
  });
}

const N = secp256k1.Point.CURVE().n;
const sha256 = (text: string): Uint8Array => new Uint8Array(createHash('sha256').update(text).digest());
const toBig = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex')}`);
const to32 = (v: bigint): Uint8Array => Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'));

// Deterministic "random" keys and digests: reproducible failures, no flakiness.
function vectors(count: number): { priv: Uint8Array; digest: Uint8Array }[] {
  const out = [];
  for (let i = 0; i < count; i++) {
    let priv = sha256(`key ${i}`);
    while (toBig(priv) === 0n || toBig(priv) >= N) priv = sha256(`key ${i} again`);
    out.push({ priv, digest: sha256(`digest ${i}`) });
  }
  return out;
}

native('signatures are byte-identical to @noble/curves for 200 keys and digests', (t) => {
  for (const { priv, digest } of vectors(200)) {
    const ours = backend!.sign(digest, priv);
    const noble = secp256k1.sign(digest, priv, { prehash: false });
    t.deepEqual(Buffer.from(ours).toString('hex'), Buffer.from(noble).toString('hex'));
    t.true(backend!.verify(ours, digest, backend!.publicKey(priv)));
  }
});

native('edge digests (all zero, all 0xff, the group order) sign like noble', (t) => {
  const priv = sha256('edge key');
  for (const digest of [new Uint8Array(32), new Uint8Array(32).fill(0xff), to32(N), to32(N - 1n)]) {
    t.deepEqual(backend!.sign(digest, priv), secp256k1.sign(digest, priv, { prehash: false }));
  }
});

native('public keys are SEC1 compressed and equal to noble', (t) => {
  for (const { priv } of vectors(50)) t.deepEqual(backend!.publicKey(priv), secp256k1.getPublicKey(priv, true));
  const one = to32(1n);
  t.deepEqual(backend!.publicKey(one), secp256k1.Point.BASE.toBytes(true));
});

native('signatures are low-S', (t) => {
  for (const { priv, digest } of vectors(100)) t.true(toBig(backend!.sign(digest, priv).subarray(32)) <= N / 2n);
});

native('verify refuses the high-S twin of a valid signature, as noble does', (t) => {
  const { priv, digest } = vectors(1)[0]!;
  const pub = backend!.publicKey(priv);
  const sig = backend!.sign(digest, priv);
  const high = new Uint8Array(64);
  high.set(sig.subarray(0, 32));
  high.set(to32(N - toBig(sig.subarray(32))), 32);
  t.false(backend!.verify(high, digest, pub));
  t.false(secp256k1.verify(high, digest, pub, { prehash: false }));
});

native('verify refuses the wrong key, digest or signature', (t) => {
  const [a, b] = vectors(2);
  const sig = backend!.sign(a!.digest, a!.priv);
  t.false(backend!.verify(sig, a!.digest, backend!.publicKey(b!.priv)));
  t.false(backend!.verify(sig, b!.digest, backend!.publicKey(a!.priv)));
  const flipped = sig.slice();
  flipped[10]! ^= 1;
  t.false(backend!.verify(flipped, a!.digest, backend!.publicKey(a!.priv)));
});

native('verify answers false, never throws, on malformed input', (t) => {
  const { priv, digest } = vectors(1)[0]!;
  const pub = backend!.publicKey(priv);
  const sig = backend!.sign(digest, priv);
  const r = sig.subarray(0, 32);
  const s = sig.subarray(32);
  const cat = (x: Uint8Array, y: Uint8Array): Uint8Array => Uint8Array.from([...x, ...y]);
  const offCurve = Uint8Array.from([0x02, ...new Uint8Array(31), 5]); // x = 5: x^3 + 7 is not a square mod p
  const hostile: [string, unknown, unknown, unknown][] = [
    ['r = 0', cat(new Uint8Array(32), s), digest, pub],
    ['s = 0', cat(r, new Uint8Array(32)), digest, pub],
    ['r = n', cat(to32(N), s), digest, pub],
    ['s = n', cat(r, to32(N)), digest, pub],
    ['r, s all 0xff', new Uint8Array(64).fill(0xff), digest, pub],
    ['signature 63 bytes', sig.subarray(0, 63), digest, pub],
    ['signature 65 bytes', cat(sig, new Uint8Array(1)), digest, pub],
    ['DER instead of r||s', secp256k1.sign(digest, priv, { prehash: false, format: 'der' }), digest, pub],
    ['digest 31 bytes', sig, digest.subarray(1), pub],
    ['digest empty', sig, new Uint8Array(0), pub],
    ['key 32 bytes', sig, digest, pub.subarray(1)],
    ['key prefix 0x05', sig, digest, Uint8Array.from([0x05, ...pub.subarray(1)])],
    ['key off the curve', sig, digest, offCurve],
    ['key all zero', sig, digest, new Uint8Array(33)],
    ['signature is a string', 'x'.repeat(64), digest, pub],
    ['signature is null', null, digest, pub],
    ['digest is an array', sig, Array.from(digest), pub],
    ['key is undefined', sig, digest, undefined],
    ['key is a Uint16Array', sig, digest, new Uint16Array(33)],
  ];
  for (const [what, a, b, c] of hostile) {
    t.false(backend!.verify(a as Uint8Array, b as Uint8Array, c as Uint8Array), what);
  }
});

native('sign refuses keys out of range with RangeError and wrong types with TypeError', (t) => {
  const digest = sha256('d');
  t.throws(() => backend!.sign(digest, new Uint8Array(32)), { instanceOf: RangeError, message: /privateKey out of range/ });
  t.throws(() => backend!.sign(digest, to32(N)), { instanceOf: RangeError });
  t.throws(() => backend!.publicKey(to32(N)), { instanceOf: RangeError });
  t.throws(() => backend!.sign(digest, new Uint8Array(31)), { instanceOf: TypeError, message: /privateKey must be 32 bytes/ });
  t.throws(() => backend!.sign(digest.subarray(1), sha256('k')), { instanceOf: TypeError, message: /digest must be 32 bytes/ });
  t.throws(() => backend!.sign('x' as unknown as Uint8Array, sha256('k')), { instanceOf: TypeError });
});

native('signMany equals one sign per digest, into a fresh or a caller buffer', (t) => {
  const priv = sha256('batch key');
  const digests = new Uint8Array(32 * 17);
  for (let i = 0; i < 17; i++) digests.set(sha256(`batch ${i}`), 32 * i);
  const sigs = backend!.signMany(digests, priv);
  t.is(sigs.length, 17 * 64);
  for (let i = 0; i < 17; i++) {
    t.deepEqual(sigs.subarray(64 * i, 64 * i + 64), secp256k1.sign(digests.subarray(32 * i, 32 * i + 32), priv, { prehash: false }));
  }
  const buffer = new Uint8Array(17 * 64 + 10);
  t.deepEqual(backend!.signMany(digests, priv, buffer), sigs);
  t.deepEqual(backend!.signMany(new Uint8Array(0), priv), new Uint8Array(0));
  t.throws(() => backend!.signMany(digests.subarray(1), priv), { instanceOf: TypeError, message: /multiple of 32/ });
  t.throws(() => backend!.signMany(digests, priv, new Uint8Array(64)), { instanceOf: RangeError, message: /at least 1088/ });
  t.throws(() => backend!.signMany(digests, new Uint8Array(32)), { instanceOf: RangeError });
});

native('verifyMany flags exactly the bad signatures, high-S included', (t) => {
  const priv = sha256('batch key');
  const pub = backend!.publicKey(priv);
  const n = 9;
  const digests = new Uint8Array(32 * n);
  for (let i = 0; i < n; i++) digests.set(sha256(`v ${i}`), 32 * i);
  const sigs = backend!.signMany(digests, priv);
  t.deepEqual(backend!.verifyMany(sigs, digests, pub), new Uint8Array(n).fill(1));
  sigs[64 * 2 + 5]! ^= 0x80; // corrupt r of #2
  sigs.set(to32(N - toBig(sigs.subarray(64 * 5 + 32, 64 * 6))), 64 * 5 + 32); // high-S twin of #5
  const expected = new Uint8Array(n).fill(1);
  expected[2] = 0;
  expected[5] = 0;
  t.deepEqual(backend!.verifyMany(sigs, digests, pub), expected);
  t.deepEqual(backend!.verifyMany(sigs, digests, backend!.publicKey(sha256('other'))), new Uint8Array(n));
  t.deepEqual(backend!.verifyMany(sigs, digests, new Uint8Array(33)), new Uint8Array(n), 'an invalid key fails every signature');
  t.throws(() => backend!.verifyMany(sigs.subarray(64), digests, pub), { instanceOf: TypeError, message: /must be 576 bytes for 9 digests/ });
});

native('the addon loads and signs in a worker thread (one shared library context)', async (t) => {
  const { priv, digest } = vectors(1)[0]!;
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const addon = require(workerData.path);
    const out = new Uint8Array(64);
    addon.sign(workerData.digest, workerData.priv, out);
    parentPort.postMessage(out);`;
  const worker = new Worker(source, { eval: true, workerData: { path: NATIVE_ADDON_PATH, priv, digest } });
  const sig = await new Promise<Uint8Array>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  t.deepEqual(new Uint8Array(sig), backend!.sign(digest, priv));
});
