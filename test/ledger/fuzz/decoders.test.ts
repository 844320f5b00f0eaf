// Property tests: random and mutated bytes into every decoder of untrusted input (CBOR decode,
// COSE_Sign1 verify, key file parse and open). Each must return or throw its own error type
// with a message: never another exception (a crash), never a stack overflow, never a hang.
// Memory is bounded by construction: lengths are checked against the input before allocating.
import test from 'ava';
import fc from 'fast-check';
import { decodeCbor, CborError } from '../../../ledger/cbor/decode.ts';
import { encodeCanonical } from '../../../ledger/cbor/canonical-encode.ts';
import type { CborValue } from '../../../ledger/cbor/value.ts';
import { sign1, verify1 } from '../../../ledger/cose/sign1.ts';
import { CoseError } from '../../../ledger/cose/cose-error.ts';
import { KeyRing } from '../../../ledger/cose/key-ring.ts';
import { ES256, ES256K } from '../../../ledger/cose/algorithms.ts';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { KeyFileError, parseKeyFile, sealKey, unsealKey } from '../../../ledger/keys/keyfile.ts';
import { TYP } from '../../../ledger/typ.ts';

/** Random edits of a valid input: flips, overwrites, inserts, deletions, truncation. */
const mutated = (seed: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc
    .array(
      fc.oneof(
        fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
        fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
        fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((edits) => {
      let b = [...seed];
      for (const e of edits) {
        const at = b.length === 0 ? 0 : e.at % b.length;
        if (e.op === 'flip') b[at] = (b[at] ?? 0) ^ (1 << e.bit);
        else if (e.op === 'set') b[at] = e.byte;
        else if (e.op === 'insert') b.splice(at, 0, e.byte);
        else if (e.op === 'delete') b.splice(at, 1);
        else b = b.slice(0, at);
      }
      return new Uint8Array(b);
    });

function onlyThrows<E extends Error>(f: () => unknown, type: new (...a: never[]) => E): boolean {
  try {
    f();
    return true;
  } catch (err) {
    if (err instanceof type && err.message.length > 10) return true;
    throw err; // anything else is a crash: fast-check reports the input
  }
}

const k1 = PrivateKey.fromBytes(new Uint8Array(32).fill(7), 'secp256k1');
const p256 = PrivateKey.fromBytes(new Uint8Array(32).fill(8), 'P-256');
const ring = new KeyRing([k1, p256]);
const record = encodeCanonical(
  new Map<number, CborValue>([
    [1, 17],
    [2, 1764339589123],
    [3, Array.from({ length: 12 }, (_, i) => 3600 + i)],
    [4, { note: 'fault', level: -3 }],
    [5, new Uint8Array([1, 2, 3])],
    [6, 2.5],
    [7, 2n ** 70n],
  ]),
);
const signed = [sign1({ payload: record, typ: TYP.record, signer: k1 }), sign1({ payload: record, typ: TYP.v2xMessage, signer: p256 })];

test('decodeCbor: random bytes only ever give a value or a CborError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, canonical) => onlyThrows(() => decodeCbor(bytes, { canonical }), CborError)),
    { numRuns: 3000, seed: 1 },
  );
  t.pass();
});

test('decodeCbor: mutated valid encodings only ever give a value or a CborError', (t) => {
  fc.assert(
    fc.property(mutated(record), fc.boolean(), (bytes, canonical) => onlyThrows(() => decodeCbor(bytes, { canonical }), CborError)),
    { numRuns: 3000, seed: 2 },
  );
  t.pass();
});

test('decodeCbor: hostile shapes are refused quickly and without a stack overflow', (t) => {
  const deep = new Uint8Array(200_000).fill(0x81); // an array in an array in ... 200k deep
  t.is((t.throws(() => decodeCbor(deep), { instanceOf: CborError }) as CborError).reason, 'too-deep');
  const deepMaps = new Uint8Array(200_000).map((_, i) => (i % 2 ? 0x00 : 0xa1));
  t.is((t.throws(() => decodeCbor(deepMaps), { instanceOf: CborError }) as CborError).reason, 'too-deep');
  const deepTags = new Uint8Array(200_000).fill(0xc6);
  t.is((t.throws(() => decodeCbor(deepTags), { instanceOf: CborError }) as CborError).reason, 'too-deep');
  // a 4 GiB string, a 2^64-item array, a 2^32-entry map: refused before any allocation
  for (const h of ['5bffffffffffffffff', '7affffffff', '9bffffffffffffffff', 'bbffffffffffffffff', 'baffffffff00']) {
    t.throws(() => decodeCbor(Buffer.from(h, 'hex')), { instanceOf: CborError });
  }
  // many items: limited by maxItems
  const many = new Uint8Array([0x9a, 0x00, 0x01, 0x00, 0x00, ...new Uint8Array(65536)]);
  t.is((t.throws(() => decodeCbor(many, { maxItems: 1000, maxArrayLength: 1 << 17 }), { instanceOf: CborError }) as CborError).reason, 'too-many-items');
});

test('verify1: random and mutated messages only ever verify or give a CoseError', (t) => {
  const opts = { keys: ring.lookup, typ: [TYP.record, TYP.v2xMessage], algs: [ES256K, ES256] as const };
  const accepted: Uint8Array[] = [];
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated(signed[0]!), mutated(signed[1]!)), (bytes) =>
      onlyThrows(() => accepted.push(verify1(bytes, opts).payload), CoseError),
    ),
    { numRuns: 1500, seed: 3 },
  );
  // Only the unsigned part (the unprotected header) could change and still verify: whatever
  // was accepted carries exactly the signed payload.
  t.true(accepted.length < 100);
  for (const p of accepted) t.deepEqual(p, record);
});

test('key files: mutated text only ever opens or gives a KeyFileError', async (t) => {
  const text = await sealKey(k1, 'pw');
  const bytes = new TextEncoder().encode(text);
  const docs: ReturnType<typeof parseKeyFile>[] = [];
  fc.assert(
    fc.property(fc.oneof(mutated(bytes), fc.uint8Array({ maxLength: 600 })), (b) =>
      onlyThrows(() => {
        docs.push(parseKeyFile(new TextDecoder().decode(b)));
      }, KeyFileError),
    ),
    { numRuns: 2000, seed: 4 },
  );
  // Those that still parse (edits in whitespace, base64 padding bits, ...) go through scrypt
  // and the AEAD: each must open to the same key or be refused as altered.
  for (const doc of docs.slice(0, 12)) {
    try {
      const key = await unsealKey(doc, 'pw');
      t.deepEqual(key.publicKey, k1.publicKey);
    } catch (err) {
      t.true(err instanceof KeyFileError, String(err));
    }
  }
});
