// Inputs for property tests of the record parsers (record-scan.test.ts, native-scan.test.ts):
// arbitrary CBOR values for bodies, and damaged copies of encoded bytes, deterministic from a
// seed so that a failing case names its input.
import fc from 'fast-check';
import { Tagged, type CborValue } from '../../ledger/cbor/value.ts';

/** A small deterministic generator: rnd(n) gives an integer in 0..n-1. */
export function rng(seed: number): (n: number) => number {
  let x = (seed * 2654435761 + 1) >>> 0;
  return (n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return Math.floor((x / 0x1_0000_0000) * n);
  };
}

/** `count` damaged copies of `b`, in turn: a flipped bit, a replaced byte, a cut tail, an inserted byte, a dropped byte. */
export function mutations(b: Uint8Array, seed: number, count = 40): Uint8Array[] {
  const rnd = rng(seed);
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const m = Uint8Array.from(b);
    const at = rnd(b.length);
    switch (k % 5) {
      case 0:
        m[at]! ^= 1 << rnd(8);
        out.push(m);
        break;
      case 1:
        m[at] = rnd(256);
        out.push(m);
        break;
      case 2:
        out.push(b.subarray(0, at));
        break;
      case 3:
        out.push(Uint8Array.from([...b.subarray(0, at), rnd(256), ...b.subarray(at)]));
        break;
      default:
        out.push(Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]));
    }
  }
  return out;
}

/** Arbitrary CBOR values: integers at every head size, floats, bignums, text, bytes, nested arrays and maps, tags. */
export const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -70000, max: 70000 }),
    fc.constantFrom(0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -(2 ** 32), 1.5, -0, NaN, Infinity),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
    fc.uint8Array({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.uniqueArray(fc.tuple(fc.oneof(fc.integer({ min: -30, max: 300 }), fc.string({ maxLength: 4 })), tie('v')), { maxLength: 5, selector: (e) => e[0] }).map((es) => new Map<CborValue, CborValue>(es)),
    tie('v').map((v) => new Tagged(1, v)),
  ),
})).v;
