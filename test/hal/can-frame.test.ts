import test from 'ava';
import { canFrame, formatCanId } from '../../hal/can/frame.ts';

test('standard and extended ids are checked when a frame is made', (t) => {
  t.is(canFrame({ id: 0x7ff }).extended, false);
  t.is(canFrame({ id: 0x800 }).extended, true);
  t.throws(() => canFrame({ id: 0x800, extended: false }), { instanceOf: RangeError, message: /0x800.*11-bit/ });
  t.throws(() => canFrame({ id: 0x20000000 }), { instanceOf: RangeError, message: /29-bit/ });
  t.throws(() => canFrame({ id: -1 }), { instanceOf: RangeError });
});

test('classic frames carry at most 8 bytes; CAN FD only the DLC lengths', (t) => {
  t.throws(() => canFrame({ id: 1, data: new Uint8Array(9) }), { message: /at most 8/ });
  t.is(canFrame({ id: 1, data: new Uint8Array(64), fd: true }).data.length, 64);
  t.throws(() => canFrame({ id: 1, data: new Uint8Array(9), fd: true }), { message: /not a CAN FD length/ });
  t.throws(() => canFrame({ id: 1, brs: true }), { message: /need a CAN FD frame/ });
});

test('remote frames carry a dlc and no data', (t) => {
  const f = canFrame({ id: 0x123, remote: true, dlc: 4 });
  t.is(f.dlc, 4);
  t.is(f.data.length, 0);
  t.throws(() => canFrame({ id: 1, remote: true, data: [1] }), { message: /remote frame carries no data/ });
  t.is(formatCanId(f), '123');
  t.is(formatCanId(canFrame({ id: 0xabc, extended: true })), '00000ABC');
});
