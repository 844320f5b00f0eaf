import test from 'ava';
import fc from 'fast-check';
import { CborWriter, putBits, putHead, putScaledInts } from '../../../ledger/cbor/cbor-writer.ts';
import { encodeCanonical } from '../../../ledger/cbor/canonical-encode.ts';

test('integers, -0, byte strings, ASCII text and booleans come out as encodeCanonical writes them', (t) => {
  const w = new CborWriter(4); // tiny, so that the buffer grows
  const edges = [0, -0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -24, -25, -256, -257, -65536, -65537, -(2 ** 32), -(2 ** 32) - 1, -Number.MAX_SAFE_INTEGER];
  for (const v of edges) t.deepEqual(w.reset().int(v).take(), encodeCanonical(v), String(v));
  fc.assert(
    fc.property(fc.maxSafeInteger(), fc.uint8Array({ maxLength: 300 }), fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 300 }), fc.boolean(), (n, bytes, text, bool) => {
      const got = w.reset().int(n).bytes(bytes).ascii(text).bool(bool).take();
      const want = [encodeCanonical(n), encodeCanonical(bytes), encodeCanonical(text), encodeCanonical(bool)];
      return Buffer.compare(Buffer.from(got), Buffer.concat(want)) === 0;
    }),
  );
  t.throws(() => w.reset().ascii('é'), { instanceOf: RangeError });
  t.throws(() => w.reset().int(2 ** 60), { instanceOf: RangeError });
  t.throws(() => w.reset().int(-(2 ** 60)), { instanceOf: RangeError });
});

test('putScaledInts at scale 1 writes an integer array as encodeCanonical does, the first `count` values only', (t) => {
  const w = new CborWriter(2);
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: -70000, max: 70000 }), fc.maxSafeInteger(), fc.constant(-0)), { maxLength: 40 }), fc.nat(5), (values, cut) => {
      const count = Math.max(0, values.length - cut);
      const b = w.reset().reserve(9 + 9 * count);
      w.advanceTo(putScaledInts(b, 0, values, 1, count));
      return Buffer.compare(Buffer.from(w.take()), Buffer.from(encodeCanonical(values.slice(0, count)))) === 0;
    }),
  );
  t.pass();
});

test('putScaledInts rounds half away from zero and writes as encodeCanonical does; putBits packs flags LSB first', (t) => {
  const round = (x: number) => Math.sign(x) * Math.round(Math.abs(x));
  const w = new CborWriter(2);
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -70000, max: 70000 }), fc.constant(-0), fc.constant(0.5), fc.constant(-0.5)), { maxLength: 40 }),
      fc.constantFrom(1, 10, 1000),
      fc.array(fc.boolean(), { maxLength: 40 }),
      (values, scale, flags) => {
        const b = w.reset().raw(Uint8Array.of(0xee)).reserve(9 + 9 * values.length + 9 + flags.length);
        let p = putScaledInts(b, 1, values, scale);
        p = putBits(b, p, flags);
        w.advanceTo(p);
        const bits = new Uint8Array(Math.ceil(flags.length / 8));
        flags.forEach((f, i) => f && (bits[i >> 3]! |= 1 << (i & 7)));
        const want = Buffer.concat([Uint8Array.of(0xee), encodeCanonical(values.map((v) => round(v * scale))), encodeCanonical(bits)]);
        return Buffer.compare(Buffer.from(w.view()), want) === 0;
      },
    ),
  );
  // The edges of the in-place paths: int32 values (no rounding), halves, head sizes, and values
  // whose low 32 bits alone would look like a small integer.
  const edges = [0, -0, 1, 23, 23.5, 24, 255, 255.5, 256, 65534.5, 65535, 65535.4, 65535.5, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 3650, 2 ** 32 + 3650.4, -1, -0.4, -23.5, -(2 ** 31), 0.49999999999999994, Number.MAX_SAFE_INTEGER];
  for (const scale of [1, 10]) {
    const values = edges.filter((v) => Number.isSafeInteger(round(v * scale)));
    const b = w.reset().reserve(9 + 9 * values.length);
    w.advanceTo(putScaledInts(b, 0, values, scale));
    t.deepEqual(Buffer.from(w.take()), Buffer.from(encodeCanonical(values.map((v) => round(v * scale)))), `edges at scale ${scale}`);
  }
  // Values that are no safe integer once rounded have no integer encoding.
  t.throws(() => putScaledInts(new Uint8Array(64), 0, [Number.NaN], 1), { instanceOf: RangeError });
  t.throws(() => putScaledInts(new Uint8Array(64), 0, [2 ** 60], 1), { instanceOf: RangeError });
  // advanceTo only moves forward, within the buffer.
  t.throws(() => w.reset().raw(Uint8Array.of(1, 2)).advanceTo(1), { instanceOf: RangeError });
  t.throws(() => w.reset().advanceTo(w.buffer.length + 1), { instanceOf: RangeError });
  t.deepEqual(putHead(new Uint8Array(9), 0, 0, 2 ** 40), 9);
});
