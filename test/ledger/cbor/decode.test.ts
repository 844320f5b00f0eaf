import test from 'ava';
import type { ExecutionContext } from 'ava';
import { decodeCbor, decodeCborAt, CborError } from '../../../ledger/cbor/decode.ts';
import type { DecodeOptions } from '../../../ledger/cbor/decode.ts';
import { encodeCanonical } from '../../../ledger/cbor/canonical-encode.ts';
import { Tagged } from '../../../ledger/cbor/value.ts';
import { appendixA, fromVector } from '../../helpers/cbor-vectors.ts';

const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'));

function refuses(t: ExecutionContext, h: string, reason: CborError['reason'], offset: number, opts: DecodeOptions = { canonical: true }): void {
  const err = t.throws(() => decodeCbor(bytes(h), opts), { instanceOf: CborError }, h);
  t.is(err?.reason, reason, `${h}: ${err?.message}`);
  t.is(err?.offset, offset, `${h}: ${err?.message}`);
  t.regex(err?.message ?? '', new RegExp(`^CBOR at byte ${offset}: `));
}

test('every Appendix A vector decodes canonically and re-encodes to the same bytes', (t) => {
  for (const { value, hex } of appendixA().vectors) {
    const decoded = decodeCbor(bytes(hex), { canonical: true });
    t.is(Buffer.from(encodeCanonical(decoded)).toString('hex'), hex);
    const want = fromVector(value);
    if (typeof want === 'number' && Number.isNaN(want)) t.true(Number.isNaN(decoded));
    else t.deepEqual(decoded, want, hex);
  }
});

test('maps decode to Map, bignums to bigint, big integers to bigint', (t) => {
  const m = decodeCbor(bytes('a3 01 61 61 20 61 62 61 78 a1 02 03')) as Map<unknown, unknown>;
  t.true(m instanceof Map);
  t.deepEqual([...m.keys()], [1, -1, 'x']);
  t.deepEqual(m.get('x'), new Map([[2, 3]]));
  t.is(decodeCbor(bytes('1b0020000000000000')), 2n ** 53n);
  t.is(decodeCbor(bytes('1b001fffffffffffff')), Number.MAX_SAFE_INTEGER);
  t.is(decodeCbor(bytes('3b001ffffffffffffe')), -Number.MAX_SAFE_INTEGER);
  t.is(decodeCbor(bytes('c24d10000000000000000000000000'), { canonical: true }), 2n ** 100n);
  t.deepEqual(decodeCbor(bytes('d2 80')), new Tagged(18, []));
  t.is(decodeCbor(bytes('63 ef bb bf')), '\ufeff'); // a byte-order mark is content, not stripped
});

test('non-canonical encodings are refused in canonical mode, with offset and reason', (t) => {
  refuses(t, '1817', 'not-canonical', 0);
  refuses(t, '190017', 'not-canonical', 0);
  refuses(t, '1a0000ffff', 'not-canonical', 0);
  refuses(t, '1b00000000ffffffff', 'not-canonical', 0);
  refuses(t, '82 01 5801 ff', 'not-canonical', 2); // a byte string length in a longer head
  refuses(t, 'a2 02 01 01 01', 'not-canonical', 3); // keys out of order
  refuses(t, 'a2 20 02 1818 01', 'not-canonical', 3); // length-first is not bytewise
  refuses(t, 'f93c00', 'not-canonical', 0); // 1.0 must be the integer 1
  refuses(t, 'fa3fc00000', 'not-canonical', 0); // float32 that fits float16
  refuses(t, 'fb3ff8000000000000', 'not-canonical', 0); // float64 that fits float16
  refuses(t, 'fb3ff19999a0000000', 'not-canonical', 0); // float64 that fits float32 (1.1f)
  refuses(t, 'f97e01', 'not-canonical', 0); // NaN with a payload
  refuses(t, 'fa7fc00000', 'not-canonical', 0); // NaN as float32
  refuses(t, 'c2 41 01', 'not-canonical', 0); // bignum that fits in 64 bits
  refuses(t, 'c2 4a 00 01 00 00 00 00 00 00 00 00', 'not-canonical', 0); // leading zero
  // the same inputs are fine without `canonical`
  t.is(decodeCbor(bytes('1817')), 23);
  t.deepEqual(decodeCbor(bytes('a2 02 01 01 01')), new Map([[2, 1], [1, 1]]));
  t.is(decodeCbor(bytes('f93c00')), 1);
});

test('malformed input is refused in every mode', (t) => {
  for (const canonical of [true, false]) {
    const o = { canonical };
    refuses(t, '', 'truncated', 0, o);
    refuses(t, '18', 'truncated', 0, o);
    refuses(t, '83 01 02', 'truncated', 0, o); // declares 3 items, 2 bytes remain
    refuses(t, '5a 00010000 00', 'truncated', 0, o);
    refuses(t, '62 61', 'truncated', 0, o);
    refuses(t, '01 02', 'trailing-bytes', 1, o);
    refuses(t, '5f 41 01 ff', 'indefinite-length', 0, o);
    refuses(t, '9f ff', 'indefinite-length', 0, o);
    refuses(t, 'ff', 'indefinite-length', 0, o);
    refuses(t, '1c', 'reserved', 0, o);
    refuses(t, 'fe', 'reserved', 0, o);
    refuses(t, '62 c3 28', 'invalid-utf8', 0, o);
    refuses(t, '63 ed a0 80', 'invalid-utf8', 0, o); // an encoded surrogate
    refuses(t, 'f7', 'invalid-simple', 0, o);
    refuses(t, 'f8 20', 'invalid-simple', 0, o);
    refuses(t, 'e0', 'invalid-simple', 0, o);
    refuses(t, 'a2 01 01 01 02', 'duplicate-key', 3, o);
    refuses(t, 'c2 01', 'invalid-bignum', 0, o);
  }
  refuses(t, 'a2 01 01 18 01 02', 'duplicate-key', 3, {}); // same value, different bytes
});

test('limits bound depth, items, lengths and size', (t) => {
  refuses(t, '81'.repeat(40) + '00', 'too-deep', 32, {});
  t.is((decodeCbor(bytes('81'.repeat(5) + '00'), { maxDepth: 5 }) as unknown[]).length, 1);
  refuses(t, '81'.repeat(6) + '00', 'too-deep', 5, { maxDepth: 5 });
  refuses(t, '85 00 00 00 00 00', 'too-long', 0, { maxArrayLength: 4 });
  refuses(t, 'a1 00 00', 'too-long', 0, { maxMapSize: 0 });
  refuses(t, '45 0102030405', 'too-long', 0, { maxStringLength: 4 });
  refuses(t, '83 00 00 00', 'too-many-items', 3, { maxItems: 3 });
  refuses(t, '1b ffffffffffffffff', 'too-large', 0, { maxSize: 4 });
  // a huge declared length is refused before anything is allocated
  refuses(t, '9b 0000000100000000', 'too-long', 0, {});
  refuses(t, '9a 00010000' + '00'.repeat(10), 'truncated', 0, { maxArrayLength: 1 << 20 });
});

test('decodeCborAt reads a CBOR sequence item by item', (t) => {
  const seq = bytes('01 6161 82 02 03');
  const a = decodeCborAt(seq, 0);
  const b = decodeCborAt(seq, a.end);
  const c = decodeCborAt(seq, b.end);
  t.deepEqual([a.value, b.value, c.value], [1, 'a', [2, 3]]);
  t.is(c.end, seq.length);
  t.throws(() => decodeCborAt(seq, 99), { instanceOf: RangeError });
  t.throws(() => decodeCbor('00' as unknown as Uint8Array), { instanceOf: TypeError });
});

test('byte strings are copies, also from a Buffer', (t) => {
  const input = Buffer.from('43010203', 'hex');
  const out = decodeCbor(input) as Uint8Array;
  input[1] = 9;
  t.is(out[0], 1);
});
