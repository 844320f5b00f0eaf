// The v2x bench's radio buffer: frames come out whole and in order across many wrap-arounds,
// a full buffer drops (and counts) what does not fit instead of growing, the wake flag is
// claimed once until the reader clears it, and a second thread's view of the same buffer
// sees the same frames.
import test from 'ava';
import { RadioRing } from '../../bench/suites/v2x-radio-ring.ts';

const frame = (i: number, n: number) => Uint8Array.from({ length: n }, (_, k) => (i * 31 + k) & 0xff);

test('frames of varied sizes come out whole and in order across wrap-arounds', (t) => {
  const ring = new RadioRing(4096);
  const reader = new RadioRing(ring.buffer);
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 200; round++) {
    for (let k = 0; k < 7; k++, next++) t.true(ring.write(frame(next, 1 + ((next * 37) % 300))), `frame ${next}`);
    for (const f of reader.read(1000)) {
      t.deepEqual(f, frame(expect, 1 + ((expect * 37) % 300)));
      expect++;
    }
  }
  t.is(expect, next);
  t.is(ring.used, 0);
  t.is(ring.dropped, 0);
});

test('a full buffer drops and counts frames, and takes frames again once read', (t) => {
  const ring = new RadioRing(4096);
  let written = 0;
  for (let i = 0; i < 100; i++) if (ring.write(frame(i, 200))) written++;
  t.is(written, Math.floor(4096 / 202));
  t.is(ring.dropped, 100 - written);
  t.true(ring.used <= ring.capacity);
  const got = ring.read(5);
  t.is(got.length, 5);
  t.deepEqual(got[0], frame(0, 200));
  t.true(ring.write(frame(1000, 200)));
  t.is(ring.read(1000).length, written - 5 + 1);
  t.throws(() => ring.write(new Uint8Array(0)), { instanceOf: RangeError });
  t.throws(() => new RadioRing(5000), { instanceOf: RangeError, message: /power of two/ });
});

test('the wake flag is claimed once until the reader reads', (t) => {
  const ring = new RadioRing(4096);
  t.true(ring.claimWake());
  t.false(ring.claimWake());
  ring.read(1);
  t.true(ring.claimWake());
});
