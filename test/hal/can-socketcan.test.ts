// This kernel has no CAN (no AF_CAN, no vcan), so the real addon can only show its errors here
// (see can-spec.test.ts). The mapping between frames and the addon's messages is checked
// against a scripted channel that keeps node-can 4.0's interface (src/can.d.ts).
import test from 'ava';
import { CanInitializationError, CanNotPermittedError, CanOperationError } from '../../hal/can/errors.ts';
import { canFrame } from '../../hal/can/frame.ts';
import { openSocketcan } from '../../hal/can/socketcan.ts';
import type { AddonMessage, RawChannel, SocketcanAddon } from '../../hal/can/socketcan.ts';

function scriptedAddon() {
  const sent: { fd: boolean; msg: AddonMessage }[] = [];
  const filters: unknown[] = [];
  const listeners: Record<string, (arg?: AddonMessage) => void> = {};
  const state = { started: false, stopped: false };
  const channel: RawChannel = {
    addListener: (event: string, fn: (arg?: AddonMessage) => void) => void (listeners[event] = fn),
    start: () => void (state.started = true),
    stop: () => void (state.stopped = true),
    send: (msg) => void sent.push({ fd: false, msg }),
    sendFD: (msg) => void sent.push({ fd: true, msg }),
    setRxFilters: (f) => void filters.push(f),
  } as RawChannel;
  const addon: SocketcanAddon = { createRawChannelWithOptions: () => channel };
  return { addon, sent, filters, state, emit: (msg: AddonMessage) => listeners.onMessage?.(msg), stopped: () => listeners.onStopped?.() };
}

test('received messages become frames with the kernel timestamp', async (t) => {
  const s = scriptedAddon();
  const bus = await openSocketcan({ iface: 'can0', addon: s.addon });
  t.true(s.state.started);
  s.emit({ id: 0x123, ext: false, rtr: false, data: Buffer.from([1, 2]), ts_sec: 1700000000, ts_usec: 500000 });
  s.emit({ id: 0x1abcdef, ext: true, data: Buffer.alloc(12, 7), ts_sec: 1700000001, ts_usec: 0 });
  const a = await bus.receive(100);
  t.deepEqual([a.id, a.extended, [...a.data], a.timestamp], [0x123, false, [1, 2], 1700000000.5]);
  const b = await bus.receive(100);
  t.true(b.fd && b.extended);
  await bus.close();
  t.true(s.state.stopped);
});

test('listen-only by default: nothing reaches the socket', async (t) => {
  const s = scriptedAddon();
  const bus = await openSocketcan({ iface: 'can0', addon: s.addon });
  await t.throwsAsync(bus.send(canFrame({ id: 0x210, data: [1] })), { instanceOf: CanNotPermittedError, message: /socketcan:can0 .*--transmit/ });
  t.deepEqual(s.sent, []);
  await bus.close();
});

test('with transmit, classic and FD frames go out through send and sendFD', async (t) => {
  const s = scriptedAddon();
  const bus = await openSocketcan({ iface: 'vcan0', addon: s.addon, transmit: true });
  await bus.send(canFrame({ id: 0x18ff50e5, extended: true, data: [9] }));
  await bus.send(canFrame({ id: 0x100, fd: true, data: new Uint8Array(16) }));
  t.deepEqual(
    s.sent.map(({ fd, msg }) => [fd, msg.id, msg.ext, msg.data?.length]),
    [
      [false, 0x18ff50e5, true, 1],
      [true, 0x100, false, 16],
    ],
  );
  bus.setFilters([{ id: 0x123, extended: true }]);
  t.deepEqual(s.filters.at(-1), [{ id: (0x123 | 0x80000000) >>> 0, mask: 0x1fffffff }]);
  await bus.close();
});

test('a stopped socket fails the bus as disconnected; addon errors are initialization errors', async (t) => {
  const s = scriptedAddon();
  const bus = await openSocketcan({ iface: 'can0', addon: s.addon });
  const pending = bus.receive();
  s.stopped();
  await t.throwsAsync(pending, { instanceOf: CanOperationError, message: /socket stopped/ });
  await bus.close();
  const broken: SocketcanAddon = {
    createRawChannelWithOptions: () => {
      throw new Error('Error while creating channel');
    },
  };
  await t.throwsAsync(openSocketcan({ iface: 'can9', addon: broken }), { instanceOf: CanInitializationError, message: /can9.*ip link show can9/ });
});
