import test from 'ava';
import type { ExecutionContext } from 'ava';
import { sign1, verify1, sign1Digest } from '../../../ledger/cose/sign1.ts';
import { CoseError } from '../../../ledger/cose/cose-error.ts';
import { ES256, ES256K } from '../../../ledger/cose/algorithms.ts';
import { KeyRing } from '../../../ledger/cose/key-ring.ts';
import { keyThumbprint } from '../../../ledger/cose/key-thumbprint.ts';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { TYP } from '../../../ledger/typ.ts';
import { encodeCanonical } from '../../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../../ledger/cbor/decode.ts';
import { Tagged } from '../../../ledger/cbor/value.ts';
import type { CborValue } from '../../../ledger/cbor/value.ts';
import { nobleBackend } from '../../../ledger/signers/noble.ts';
import { malleate } from '../../helpers/signer-contract.ts';

const k1 = PrivateKey.fromBytes(new Uint8Array(32).fill(0x11), 'secp256k1');
const p256 = PrivateKey.fromBytes(new Uint8Array(32).fill(0x22), 'P-256');
const other = PrivateKey.fromBytes(new Uint8Array(32).fill(0x33), 'secp256k1');
const ring = new KeyRing([k1, p256]);
const payload = encodeCanonical(new Map<number, CborValue>([[1, 42], [2, [3650, 3651, 3649]]]));
const record = sign1({ payload, typ: TYP.record, signer: k1 });
const opts = { keys: ring.lookup, typ: TYP.record };

function refused(t: ExecutionContext, f: () => unknown, reason: CoseError['reason'], msg?: RegExp): void {
  const err = t.throws(f, { instanceOf: CoseError });
  t.is(err?.reason, reason, err?.message);
  if (msg) t.regex(err!.message, msg);
}

test('the message is a tagged COSE_Sign1 with the profile protected header', (t) => {
  const top = decodeCbor(record, { canonical: true }) as Tagged;
  t.is(top.tag, 18);
  const [prot, unprot, body, sig] = top.value as [Uint8Array, Map<number, CborValue>, Uint8Array, Uint8Array];
  t.deepEqual(decodeCbor(prot, { canonical: true }), new Map<number, CborValue>([[1, -47], [4, keyThumbprint(k1.publicKey, 'secp256k1')], [16, TYP.record]]));
  t.is(unprot.size, 0);
  t.deepEqual(body, payload);
  t.is(sig.length, 64);
  t.deepEqual(k1.kid, keyThumbprint(k1.publicKey, 'secp256k1'));
  // RFC 6979: the same input signs to the same bytes
  t.deepEqual(sign1({ payload, typ: TYP.record, signer: k1 }), record);
});

test('ES256K and ES256 verify and return what was signed', (t) => {
  const v = verify1(record, opts);
  t.deepEqual(v.payload, payload);
  t.deepEqual(v.kid, k1.kid);
  t.is(v.alg, ES256K);
  t.is(v.typ, TYP.record);
  const m = sign1({ payload, typ: TYP.v2xMessage, signer: p256, externalAad: new Uint8Array([1, 2]) });
  const w = verify1(m, { keys: ring.lookup, typ: TYP.v2xMessage, algs: [ES256], externalAad: new Uint8Array([1, 2]) });
  t.is(w.alg, ES256);
  refused(t, () => verify1(m, { keys: ring.lookup, typ: TYP.v2xMessage, algs: [ES256] }), 'bad-signature'); // aad missing
});

test('a record cannot pass for a checkpoint or anything else (typ)', (t) => {
  refused(t, () => verify1(record, { ...opts, typ: TYP.checkpoint }), 'typ-mismatch', /typ is application\/vnd\.voltrail\.record\+cose, expected .*checkpoint/);
  for (const typ of Object.values(TYP)) {
    if (typ !== TYP.record) refused(t, () => verify1(record, { ...opts, typ }), 'typ-mismatch');
  }
  t.is(verify1(record, { ...opts, typ: [TYP.event, TYP.record] }).typ, TYP.record);
});

test('an algorithm not configured is refused, and a key of the wrong curve', (t) => {
  const m = sign1({ payload, typ: TYP.record, signer: p256 });
  refused(t, () => verify1(m, opts), 'alg-not-allowed', /algorithm -7 is not accepted here \(accepted: ES256K\)/);
  refused(t, () => verify1(record, { ...opts, algs: [ES256] }), 'alg-not-allowed');
  // a lookup that hands back a P-256 key for an ES256K message
  refused(t, () => verify1(record, { ...opts, keys: () => ({ publicKey: p256.publicKey, alg: ES256 }) }), 'key-alg-mismatch');
});

test('an unknown kid, or a kid that names another key, is refused', (t) => {
  const m = sign1({ payload, typ: TYP.record, signer: other });
  refused(t, () => verify1(m, opts), 'unknown-kid', new RegExp(Buffer.from(other.kid).toString('hex')));
  // a signer that claims k1's kid but signs with another key
  const liar = { alg: ES256K as typeof ES256K, kid: k1.kid, signDigest: (d: Uint8Array) => other.signDigest(d) };
  refused(t, () => verify1(sign1({ payload, typ: TYP.record, signer: liar }), opts), 'bad-signature');
});

test('flipping any bit of the message makes it fail', (t) => {
  for (let i = 0; i < record.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const bad = record.slice();
      bad[i]! ^= bit;
      t.throws(() => verify1(bad, opts), { instanceOf: CoseError }, `byte ${i} bit ${bit}`);
    }
  }
});

test('high-S, trailing bytes, untagged and non-canonical headers are refused', (t) => {
  const top = decodeCbor(record) as Tagged;
  const [prot, , body, sig] = top.value as [Uint8Array, Map<number, CborValue>, Uint8Array, Uint8Array];
  const rebuild = (p: Uint8Array, s: Uint8Array, u: Map<number, CborValue> = new Map()) => encodeCanonical(new Tagged(18, [p, u, body, s]));
  t.notThrows(() => verify1(rebuild(prot, sig), opts));
  refused(t, () => verify1(rebuild(prot, malleate(sig, 'secp256k1')), opts), 'bad-signature');
  refused(t, () => verify1(new Uint8Array([...record, 0]), opts), 'malformed', /after the data item/);
  refused(t, () => verify1(encodeCanonical([prot, new Map(), body, sig]), opts), 'malformed', /tag 18/);
  refused(t, () => verify1(encodeCanonical(new Tagged(98, [prot, new Map(), body, sig])), opts), 'malformed');
  refused(t, () => verify1(rebuild(prot, sig.subarray(1)), opts), 'malformed', /64 bytes/);
  refused(t, () => verify1(encodeCanonical(new Tagged(18, [prot, new Map(), null, sig])), opts), 'malformed', /detached/);
  // the same header with a non-shortest alg encoding (0x3900 0x2e instead of 0x38 0x2e)
  const longAlg = new Uint8Array([0xa3, 0x01, 0x39, 0x00, 0x2e, ...prot.subarray(3)]);
  refused(t, () => verify1(rebuild(longAlg, sig), opts), 'not-canonical');
  // header keys out of order
  const kid = k1.kid;
  const swapped = new Uint8Array([0xa3, 0x04, 0x58, 32, ...kid, 0x01, 0x38, 0x2e, ...encodeCanonical(16).subarray(0, 1), ...encodeCanonical(TYP.record)]);
  refused(t, () => verify1(rebuild(swapped, sig), opts), 'not-canonical');
  // alg/kid/typ in the unprotected header, or an unknown protected label
  refused(t, () => verify1(rebuild(prot, sig, new Map<number, CborValue>([[16, TYP.checkpoint]])), opts), 'malformed', /unprotected/);
  const extra = encodeCanonical(new Map<number, CborValue>([[1, -47], [4, kid], [16, TYP.record], [99, 1]]));
  refused(t, () => verify1(rebuild(extra, sig), opts), 'malformed', /label 99/);
  refused(t, () => verify1(new Uint8Array(0), opts), 'malformed');
});

test('unprotected parameters travel but are not signed; profile labels may not go there', (t) => {
  const m = sign1({ payload, typ: TYP.record, signer: k1, unprotected: new Map<number, CborValue>([[33, new Uint8Array([1])]]) });
  t.deepEqual(verify1(m, opts).unprotected.get(33), new Uint8Array([1]));
  t.throws(() => sign1({ payload, typ: TYP.record, signer: k1, unprotected: new Map<number, CborValue>([[4, k1.kid]]) }), { instanceOf: RangeError });
  t.throws(() => sign1({ payload: 'x' as unknown as Uint8Array, typ: TYP.record, signer: k1 }), { instanceOf: TypeError, message: /payload/ });
});

test('Sig_structure is the RFC 9052 array, hashed with SHA-256', async (t) => {
  const { createHash } = await import('node:crypto');
  const prot = new Uint8Array([0xa1, 0x01, 0x26]);
  const aad = new Uint8Array([9]);
  const want = createHash('sha256').update(encodeCanonical(['Signature1', prot, aad, payload])).digest();
  t.deepEqual(new Uint8Array(sign1Digest(prot, aad, payload)), new Uint8Array(want));
  const big = new Uint8Array(70_000).fill(1);
  t.deepEqual(new Uint8Array(sign1Digest(prot, aad, big)), new Uint8Array(createHash('sha256').update(encodeCanonical(['Signature1', prot, aad, big])).digest()));
});

test('verify uses the backend it is given', (t) => {
  let calls = 0;
  const noble = nobleBackend('secp256k1');
  const counting = { ...noble, name: 'counting', curve: noble.curve, sign: noble.sign.bind(noble), publicKey: noble.publicKey.bind(noble), verify: (s: Uint8Array, d: Uint8Array, p: Uint8Array) => (calls++, noble.verify(s, d, p)) };
  verify1(record, { ...opts, backends: { secp256k1: counting } });
  t.is(calls, 1);
});
