import test from 'ava';
import { CanonicalEncoder, CborEncodeError, encodeCanonical, float16Bits } from '../../../ledger/cbor/canonical-encode.ts';
import type { CborValue } from '../../../ledger/cbor/value.ts';
import { appendixA, fromVector } from '../../helpers/cbor-vectors.ts';

const vectors = appendixA();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('RFC 8949 Appendix A: every deterministic example encodes to its bytes', (t) => {
  t.true(vectors.vectors.length > 40);
  for (const { value, hex: want } of vectors.vectors) t.is(hex(encodeCanonical(fromVector(value))), want, JSON.stringify(value));
});

test('Appendix A: an array of 25 items uses a 1-byte length', (t) => {
  const a = Array.from({ length: 25 }, (_, i) => i + 1);
  t.is(hex(encodeCanonical(a)), '98190102030405060708090a0b0c0d0e0f101112131415161718181819');
});

test('integer boundaries use the shortest head', (t) => {
  const cases: [number | bigint, string][] = [
    [23, '17'], [24, '1818'], [255, '18ff'], [256, '190100'], [65535, '19ffff'], [65536, '1a00010000'],
    [4294967295, '1affffffff'], [4294967296, '1b0000000100000000'], [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
    [2 ** 53, '1b0020000000000000'], [-24, '37'], [-25, '3818'], [-256, '38ff'], [-257, '390100'],
    [-(2 ** 32), '3affffffff'], [-(2 ** 32) - 1, '3b0000000100000000'], [2n ** 64n - 1n, '1bffffffffffffffff'],
    [5n, '05'], [-5n, '24'],
  ];
  for (const [v, want] of cases) t.is(hex(encodeCanonical(v)), want, String(v));
});

test('floats take the shortest of float16/32/64 that keeps the value', (t) => {
  const cases: [number, string][] = [
    [0.5, 'f93800'], [-2.5, 'f9c100'], [65504.5, 'fa477fe080'], [0.1, 'fb3fb999999999999a'], [2 ** -24, 'f90001'],
    [2 ** -25, 'fa33000000'], [2 ** -14, 'f90400'], [2 ** -15, 'f90200'], [1.5 * 2 ** -24, 'fa33c00000'],
    [3 + 2 ** -22, 'fa40400001'], [1e-300, 'fb01a56e1fc2f8f359'], [2 ** 64, 'fa5f800000'], [-(2 ** 70), 'fae2800000'],
    [65520, '19fff0'], [Math.fround(1.1), 'fa3f8ccccd'], [-0, 'f98000'],
  ];
  for (const [v, want] of cases) t.is(hex(encodeCanonical(v)), want, String(v));
});

test('float16Bits refuses values float16 cannot hold exactly', (t) => {
  t.is(float16Bits(1), 0x3c00);
  t.is(float16Bits(65504), 0x7bff);
  t.is(float16Bits(65536), -1); // overflows float16
  t.is(float16Bits(1 + 2 ** -10), 0x3c01);
  t.is(float16Bits(1 + 2 ** -11), -1); // one bit too many
  t.is(float16Bits(2 ** -25), -1); // below the smallest subnormal
});

test('map keys are sorted bytewise by their encoding, whatever the insertion order', (t) => {
  // 10 (0a) < 100 (1864) < -1 (20) < "z" (617a) < "aa" (626161) < [100] < [-1] < false (f4)
  const m = new Map<CborValue, CborValue>([[false, 8], [[-1], 7], [[100], 6], ['aa', 5], ['z', 4], [-1, 3], [100, 2], [10, 1]]);
  t.is(hex(encodeCanonical(m)), 'a80a011864022003617a046261610581186406812007f408');
  // RFC 8949 section 4.2.1's own example of the difference from length-first order
  t.is(hex(encodeCanonical(new Map([[24, 1], [-1, 2]]))), 'a21818012002');
  t.is(hex(encodeCanonical(new Map([[-1, 2], [24, 1]]))), 'a21818012002');
  // integer keys: uints ascending, then nints by magnitude
  t.is(hex(encodeCanonical(new Map([[-300, 0], [-2, 0], [-1, 0], [1000, 0], [3, 0]]))), 'a503001903e8002000210039012b00');
  // text keys of a plain object: shorter first, then bytewise (the cache must not change this)
  for (let i = 0; i < 3; i++) t.is(hex(encodeCanonical({ bb: 1, a: 2, b: 3, ü: 4 })), 'a4616102616203626262' + '01' + '62c3bc04');
});

test('keys that encode alike are refused', (t) => {
  const e = t.throws(() => encodeCanonical(new Map<CborValue, CborValue>([[1, 'a'], [1n, 'b']])), { instanceOf: CborEncodeError });
  t.regex(e.message, /encode alike/);
});

test('what has no CBOR encoding is refused with its path', (t) => {
  t.regex(t.throws(() => encodeCanonical({ a: [1, { b: undefined as unknown as CborValue }] }))!.message, /undefined.*at \.a\[1\]\.b/);
  t.regex(t.throws(() => encodeCanonical([new Date()] as unknown as CborValue))!.message, /Date is not a CBOR value at \[0\]/);
  t.regex(t.throws(() => encodeCanonical(new Uint16Array(2) as unknown as CborValue))!.message, /Uint16Array/);
  t.regex(t.throws(() => encodeCanonical('\ud800x'))!.message, /lone UTF-16 surrogate/);
  t.regex(t.throws(() => encodeCanonical((() => 1) as unknown as CborValue))!.message, /function/);
  const cyclic: CborValue[] = [];
  cyclic.push(cyclic);
  t.throws(() => encodeCanonical(cyclic), { instanceOf: CborEncodeError, message: /nesting deeper/ });
});

test('long and non-ASCII text, and bignums', (t) => {
  const s = 'Zelle ' + 'ü'.repeat(200) + ' 水';
  const enc = encodeCanonical(s);
  const utf8 = Buffer.from(s, 'utf8');
  t.is(hex(enc), '79' + utf8.length.toString(16).padStart(4, '0') + utf8.toString('hex'));
  t.is(hex(encodeCanonical(2n ** 100n)), 'c24d10000000000000000000000000');
  t.is(hex(encodeCanonical(-(2n ** 100n) - 1n)), 'c34d10000000000000000000000000');
});

test('results stay valid after later encodes; encodeView is scratch', (t) => {
  const enc = new CanonicalEncoder(256);
  const first = enc.encode([1, 2, 3]);
  const many = Array.from({ length: 100 }, (_, i) => enc.encode({ i, pad: 'x'.repeat(i) }));
  t.is(hex(first), '83010203');
  t.is(hex(many[5]!), hex(encodeCanonical({ i: 5, pad: 'xxxxx' })));
  const big = enc.encode(new Uint8Array(10_000).fill(9)); // larger than a chunk
  t.is(big.length, 10_003);
  const view = enc.encodeView([7]);
  t.is(hex(view), '8107');
  t.is(hex(first), '83010203');
});
