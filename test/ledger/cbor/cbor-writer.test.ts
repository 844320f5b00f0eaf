import test from 'ava';
import fc from 'fast-check';
import { CborWriter } from '../../../ledger/cbor/cbor-writer.ts';
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

test('ints writes an array as encodeCanonical does, the first `count` values only', (t) => {
  const w = new CborWriter(2);
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: -70000, max: 70000 }), fc.maxSafeInteger(), fc.constant(-0)), { maxLength: 40 }), fc.nat(5), (values, cut) => {
      const count = Math.max(0, values.length - cut);
      return Buffer.compare(Buffer.from(w.reset().ints(values, count).take()), Buffer.from(encodeCanonical(values.slice(0, count)))) === 0;
    }),
  );
  t.pass();
});
