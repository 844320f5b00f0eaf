import test from 'ava';
import { CanInitializationError, CanNotPermittedError } from '../../hal/can/errors.ts';
import { canFrame } from '../../hal/can/frame.ts';
import { isRealBus, openBus, parseBusSpec } from '../../hal/can/spec.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { SlcanAdapter } from '../../sim-hardware/slcan-adapter.ts';
import { ptyPair } from '../helpers/pty.ts';

test('specs parse into their backend and options', (t) => {
  t.deepEqual(parseBusSpec('slcan:/dev/ttyACM0@500000?baud=115200'), { kind: 'slcan', path: '/dev/ttyACM0', bitrate: 500000, baudRate: 115200 });
  t.deepEqual(parseBusSpec('slcan:/dev/ttyUSB1'), { kind: 'slcan', path: '/dev/ttyUSB1' });
  t.deepEqual(parseBusSpec('slcan:/dev/ttyACM0@1000000?timestamps=1'), { kind: 'slcan', path: '/dev/ttyACM0', bitrate: 1_000_000, timestamps: true });
  t.deepEqual(parseBusSpec('socketcan:can0'), { kind: 'socketcan', iface: 'can0' });
  t.deepEqual(parseBusSpec('virtual:pack'), { kind: 'virtual', name: 'pack' });
  t.deepEqual(parseBusSpec('replay:logs/drive.log'), { kind: 'replay', path: 'logs/drive.log', timing: 'recorded' });
  t.deepEqual(parseBusSpec('replay:a.log?timing=fast'), { kind: 'replay', path: 'a.log', timing: 'fast' });
  t.true(isRealBus(parseBusSpec('slcan:/dev/x')));
  t.true(isRealBus(parseBusSpec('socketcan:can0')));
  t.false(isRealBus(parseBusSpec('virtual:x')));
});

test('bad specs name the spec, the problem and the allowed forms', (t) => {
  const cases: [string, RegExp][] = [
    ['can0', /'can0': it has no kind before a colon/],
    ['pcan:usb1', /unknown bus kind 'pcan'/],
    ['slcan:', /nothing after 'slcan:'/],
    ['slcan:/dev/ttyACM0@12345', /bitrate '12345' is not one .*500000/],
    ['slcan:/dev/ttyACM0@fast', /bitrate 'fast'/],
    ['slcan:/dev/ttyACM0?speed=1', /unknown option 'speed' \(allowed here: baud, timestamps\)/],
    ['slcan:/dev/ttyACM0?baud=-5', /baud '-5'/],
    ['slcan:/dev/ttyACM0?timestamps=maybe', /must be 1 or 0/],
    ['replay:x.log?timing=slow', /'recorded' or 'fast'/],
    ['socketcan:can0?x=1', /allowed here: none/],
  ];
  for (const [spec, message] of cases) {
    const err = t.throws(() => parseBusSpec(spec), { instanceOf: CanInitializationError, message }, spec);
    t.regex(err!.message, /Allowed forms: slcan:PATH.*socketcan:IFACE.*virtual:NAME.*replay:FILE/);
  }
});

test('virtual specs share a hub through the hubs map, and only then', async (t) => {
  const hubs = new Map<string, VirtualCanHub>();
  const a = await openBus('virtual:pack', { hubs });
  const b = await openBus('virtual:pack', { hubs });
  const other = await openBus('virtual:pack');
  t.is(hubs.size, 1);
  await a.send(canFrame({ id: 5 }));
  t.is((await b.receive(100)).id, 5);
  await t.throwsAsync(other.receive(20));
  await Promise.all([a.close(), b.close(), other.close()]);
});

test('real buses open listen-only unless transmit is given', async (t) => {
  const pair = await ptyPair();
  const hub = new VirtualCanHub();
  const adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  const quiet = await openBus(`slcan:${pair.b}@125000`);
  t.false(quiet.canTransmit);
  t.is(adapter.state, 'listen-only');
  t.is(adapter.bitrate, 125_000);
  t.is(quiet.channel, `slcan:${pair.b}@125000`);
  await t.throwsAsync(quiet.send(canFrame({ id: 1 })), { instanceOf: CanNotPermittedError });
  await quiet.close();
  await adapter.waitForState('closed'); // closing leaves the adapter off the bus (C)
  const loud = await openBus(`slcan:${pair.b}@500000`, { transmit: true });
  t.true(loud.canTransmit);
  t.is(adapter.state, 'open');
  await loud.close();
  await adapter.close();
  await pair.close();
});

test('a socketcan spec on a kernel without CAN says what to check', async (t) => {
  await t.throwsAsync(openBus('socketcan:can0'), { instanceOf: CanInitializationError, message: /socketcan:can0: .*ip link/ });
  await t.throwsAsync(openBus('socketcan:not a name'), { instanceOf: CanInitializationError, message: /not a network interface name/ });
});
