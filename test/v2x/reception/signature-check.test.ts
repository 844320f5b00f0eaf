// The reception hot path's ECDSA check: its byte-wise range and low-S rule agree with the
// bigint rule (1 <= r < n, 1 <= s <= n/2) at and around every bound, it agrees with the ledger's
// OpenSSL backend on genuine, high-S and altered signatures on both curves, and a packed batch
// (the wire form to worker threads) round-trips and refuses bytes that do not parse; the
// reception's Sig_structure builder equals the ledger's.
import test from 'ava';
import fc from 'fast-check';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { Curve } from '../../../ledger/signers/backend.ts';
import { opensslVerifyBackend } from '../../../ledger/signers/openssl-verify.ts';
import { sigStructure } from '../../../ledger/cose/sign1.ts';
import { packBatch, unpackBatch } from '../../../v2x/reception/check-batch.ts';
import { v2xSigStructure } from '../../../v2x/reception/sig-structure.ts';
import { inRangeLowS, verifyCheck } from '../../../v2x/reception/signature-check.ts';
import type { SignatureCheck } from '../../../v2x/reception/signature-check.ts';

const ORDER: Record<Curve, bigint> = {
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};
const CURVES: Curve[] = ['P-256', 'secp256k1'];
const OPENSSL_NAME: Record<Curve, string> = { 'P-256': 'prime256v1', secp256k1: 'secp256k1' };

const be32 = (v: bigint) => Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'));
const sig = (r: bigint, s: bigint) => {
  const out = new Uint8Array(64);
  out.set(be32(r), 0);
  out.set(be32(s), 32);
  return out;
};
const rule = (r: bigint, s: bigint, n: bigint) => r >= 1n && r < n && s >= 1n && s <= n >> 1n;

test('range and low-S: the byte comparison agrees with the bigint rule at every bound', (t) => {
  for (const curve of CURVES) {
    const n = ORDER[curve];
    const h = n >> 1n;
    const edges = [0n, 1n, 2n, h - 1n, h, h + 1n, n - 1n, n, n + 1n, (1n << 256n) - 1n];
    for (const r of edges) for (const s of edges) t.is(inRangeLowS(sig(r, s), curve), rule(r, s, n), `${curve} r=${r.toString(16)} s=${s.toString(16)}`);
  }
});

test('range and low-S: random r and s (property)', (t) => {
  const big = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
  for (const curve of CURVES) {
    fc.assert(fc.property(big, big, (r, s) => inRangeLowS(sig(r, s), curve) === rule(r, s, ORDER[curve])), { numRuns: 300 });
  }
  t.pass();
});

function genuine(curve: Curve, uncompressed: boolean): SignatureCheck {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: OPENSSL_NAME[curve] });
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  const point = uncompressed ? Uint8Array.from(Buffer.concat([Buffer.from([4]), x, y])) : Uint8Array.from(Buffer.concat([Buffer.from([2 + (y[31]! & 1)]), x]));
  const message = Uint8Array.from(Buffer.from(`a Sig_structure on ${curve}`));
  const raw = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const n = ORDER[curve];
  const s = BigInt('0x' + raw.subarray(32).toString('hex'));
  const low = s > n >> 1n ? n - s : s; // the pipeline refuses high-S: normalise, as the sealers do
  return { curve, publicKey: point, message, signature: sig(BigInt('0x' + raw.subarray(0, 32).toString('hex')), low) };
}

test('verifyCheck agrees with the ledger backend: genuine, high-S, altered message, other key, bad point', (t) => {
  for (const curve of CURVES) {
    const ledger = opensslVerifyBackend(curve);
    const same = (c: SignatureCheck) => ledger.verifyMessage!(c.signature, c.message, c.publicKey);
    for (const uncompressed of [false, true]) {
      const g = genuine(curve, uncompressed);
      t.true(verifyCheck(g));
      t.true(same(g));
      const n = ORDER[curve];
      const s = BigInt('0x' + Buffer.from(g.signature.subarray(32)).toString('hex'));
      const high = { ...g, signature: sig(BigInt('0x' + Buffer.from(g.signature.subarray(0, 32)).toString('hex')), n - s) };
      t.false(verifyCheck(high), 'high-S');
      t.is(verifyCheck(high), same(high));
      const altered = { ...g, message: Uint8Array.from(g.message, (b, i) => (i === 3 ? b ^ 1 : b)) };
      t.false(verifyCheck(altered));
      const other = { ...g, publicKey: genuine(curve, uncompressed).publicKey };
      t.false(verifyCheck(other));
      const offCurve = { ...g, publicKey: Uint8Array.from(g.publicKey, (b, i) => (i === g.publicKey.length - 1 ? b ^ 1 : b)) };
      t.is(verifyCheck(offCurve), same(offCurve));
      t.false(verifyCheck({ ...g, signature: g.signature.subarray(0, 63) }));
      t.false(verifyCheck({ ...g, publicKey: g.publicKey.subarray(1) }));
    }
  }
});

test('a packed batch round-trips, keeps each job with its checks, and refuses truncated or trailing bytes', (t) => {
  const a = genuine('P-256', false);
  const b = genuine('secp256k1', true);
  const jobs = [[a], [b, a], [b]];
  const packed = packBatch(jobs);
  const back = unpackBatch(packed);
  t.is(back.length, 3);
  t.deepEqual(
    back.map((checks) => checks.map((c) => [c.curve, Buffer.from(c.publicKey).toString('hex'), Buffer.from(c.message).toString('hex'), Buffer.from(c.signature).toString('hex')])),
    jobs.map((checks) => checks.map((c) => [c.curve, Buffer.from(c.publicKey).toString('hex'), Buffer.from(c.message).toString('hex'), Buffer.from(c.signature).toString('hex')])),
  );
  t.deepEqual(back.map((checks) => checks.every(verifyCheck)), [true, true, true]);
  t.throws(() => unpackBatch(packed.subarray(0, packed.length - 1)), { instanceOf: RangeError, message: /truncated/ });
  const longer = new Uint8Array(packed.length + 1);
  longer.set(packed);
  t.throws(() => unpackBatch(longer), { instanceOf: RangeError, message: /trailing/ });
  t.throws(() => packBatch([[{ ...a, signature: a.signature.subarray(1) }]]), { instanceOf: RangeError, message: /signature of 63 bytes/ });
  t.deepEqual(unpackBatch(packBatch([])), []);
});

test('the one-allocation Sig_structure equals the ledger builder at every length boundary', (t) => {
  for (const pl of [0, 1, 23, 24, 255, 256, 2048, 65535, 65536]) {
    for (const hl of [0, 5, 24, 300]) {
      const protectedBytes = Uint8Array.from({ length: hl }, (_, i) => i & 0xff);
      const payload = Uint8Array.from({ length: pl }, (_, i) => (i * 7) & 0xff);
      t.deepEqual(v2xSigStructure(protectedBytes, payload), sigStructure(protectedBytes, new Uint8Array(0), payload), `payload ${pl}, protected ${hl}`);
    }
  }
});
