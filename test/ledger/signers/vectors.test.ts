// Every signer backend against the ECDSA vectors in test/vectors/ (made with python3-ecdsa by
// make-ecdsa-vectors.py): identical RFC 6979 low-S signatures, and verify refusing high-S,
// out-of-range, malformed signatures and public keys that are not on the curve.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { nobleBackend } from '../../../ledger/signers/noble.ts';
import { pickBackend } from '../../../ledger/signers/pick.ts';
import { opensslVerifyBackend } from '../../../ledger/signers/openssl-verify.ts';
import type { Curve, SignerBackend } from '../../../ledger/signers/backend.ts';

interface VectorFile {
  curve: Curve;
  signatures: { privateKey: string; publicKey: string; message: string; digest: string; sig: string }[];
  tests: { tcId: number; comment: string; publicKey: string; digest: string; message: string; sig: string; result: 'valid' | 'invalid'; flags: string[] }[];
}

const load = (name: string) => JSON.parse(readFileSync(new URL(`../../vectors/${name}`, import.meta.url), 'utf8')) as VectorFile;
const files = [load('ecdsa-secp256k1.json'), load('ecdsa-p256.json')];
const hx = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function backendsFor(curve: Curve): Promise<SignerBackend[]> {
  const list = [nobleBackend(curve), opensslVerifyBackend(curve)];
  const picked = (await pickBackend(curve, { prefer: '' })).backend;
  if (!list.includes(picked)) list.push(picked);
  return list;
}

for (const file of files) {
  test(`${file.curve}: every backend signs the vectors byte for byte`, async (t) => {
    t.true(file.signatures.length >= 40);
    for (const b of await backendsFor(file.curve)) {
      for (const v of file.signatures) {
        t.is(toHex(b.publicKey(hx(v.privateKey))), v.publicKey, `${b.name} public key`);
        t.is(toHex(b.sign(hx(v.digest), hx(v.privateKey))), v.sig, `${b.name} sig, key ${v.privateKey}`);
      }
    }
  });

  test(`${file.curve}: every backend's verify (and verifyMessage) gives the expected result on each test case`, async (t) => {
    t.true(file.tests.some((c) => c.flags.includes('HighS')));
    t.true((await backendsFor(file.curve)).some((b) => b.verifyMessage !== undefined));
    for (const b of await backendsFor(file.curve)) {
      for (const c of file.tests) {
        let got: boolean | string;
        try {
          got = b.verify(hx(c.sig), hx(c.digest), hx(c.publicKey));
        } catch (err) {
          got = `threw ${(err as Error).message}`;
        }
        t.is(got, c.result === 'valid', `${b.name} tc ${c.tcId}: ${c.comment}`);
        if (b.verifyMessage) {
          let viaMessage: boolean | string;
          try {
            viaMessage = b.verifyMessage(hx(c.sig), hx(c.message), hx(c.publicKey));
          } catch (err) {
            viaMessage = `threw ${(err as Error).message}`;
          }
          t.is(viaMessage, c.result === 'valid', `${b.name} verifyMessage tc ${c.tcId}: ${c.comment}`);
        }
      }
    }
  });
}

test('RFC 6979 appendix A.2.5 (P-256, SHA-256): the published r, and s as low-S', (t) => {
  const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const p256 = load('ecdsa-p256.json');
  const key = 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721';
  const published = [
    ['sample', 'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716', 'f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8'],
    ['test', 'f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367', '019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083'],
  ];
  for (const [msg, r, s] of published) {
    const v = p256.signatures.find((x) => x.privateKey === key && x.message === Buffer.from(msg!).toString('hex'))!;
    const sig = nobleBackend('P-256').sign(hx(v.digest), hx(key));
    const sBig = BigInt('0x' + s);
    const low = sBig > n >> 1n ? n - sBig : sBig;
    t.is(toHex(sig), r! + low.toString(16).padStart(64, '0'), msg);
  }
});
