// The transports: UDP on loopback (unicast, and multicast where the host routes it) and the
// simulated channel's delay, loss and busy ratio on a ManualClock; a pipeline fed by each.
import test from 'ava';
import { ManualClock } from '../../../hal/clock.ts';
import { parseUdpUrl, UdpTransport } from '../../../v2x/transports/udp-transport.ts';
import { SimulatedChannel } from '../../../v2x/transports/simulated-channel.ts';
import type { Frame } from '../../../v2x/transports/transport.ts';
import { OpensslSealer } from '../../../v2x/sim/openssl-sealer.ts';
import { cam, rig, T0 } from '../reception/reception-fixtures.ts';

test('udp:// addresses are parsed and checked', (t) => {
  t.deepEqual(parseUdpUrl('udp://239.1.2.3:4000'), { host: '239.1.2.3', port: 4000 });
  t.throws(() => parseUdpUrl('udp://239.1.2.3'), { instanceOf: RangeError, message: /udp:\/\/IPV4:PORT/ });
  t.throws(() => parseUdpUrl('udp://example:4000'), { instanceOf: RangeError });
  t.throws(() => parseUdpUrl('udp://127.0.0.1:70000'), { message: /port 70000/ });
});

test('UDP on loopback carries messages into the reception pipeline', async (t) => {
  const r = rig({}, 1);
  const rx = await UdpTransport.open({ address: { host: '127.0.0.1', port: 9 }, listenPort: 0 });
  const tx = await UdpTransport.open({ address: { host: '127.0.0.1', port: rx.localPort }, listenPort: 0 });
  const frames: Frame[] = [];
  const got = new Promise<void>((resolve) =>
    rx.onFrame((f) => {
      frames.push(f);
      r.pipeline.receive(f.bytes);
      if (frames.length === 2) resolve();
    }),
  );
  const sealer = new OpensslSealer(r.pool[0]!);
  await tx.send(sealer.seal('cam', cam(481_372_160), T0, true));
  await tx.send(new Uint8Array([1, 2, 3]));
  await got;
  await r.pipeline.drain();
  await Promise.all([rx.close(), tx.close()]);
  t.is(frames.length, 2);
  t.regex(frames[0]!.from!, /^127\.0\.0\.1:\d+$/);
  t.deepEqual(r.pipeline.counters.snapshot(), { received: 2, accepted: 1, dropped: { malformed: 1 } });
});

test('UDP multicast: a member hears the group, its own frames included (loopback)', async (t) => {
  let a: UdpTransport;
  try {
    a = await UdpTransport.open({ address: { host: '239.255.42.99', port: 0 }, interface: '127.0.0.1' });
  } catch (err) {
    t.log(`multicast is not routed on this host (${(err as Error).message})`);
    return t.pass();
  }
  const port = a.localPort;
  await a.close();
  const rx = await UdpTransport.open({ address: { host: '239.255.42.99', port }, interface: '127.0.0.1' });
  const heard = new Promise<Frame>((resolve) => rx.onFrame(resolve));
  await rx.send(new Uint8Array([0xd2, 0x84]));
  const timeout = new Promise<undefined>((resolve) => (globalThis.setTimeout(resolve, 2000) as unknown as NodeJS.Timeout).unref());
  const f = await Promise.race([heard, timeout]);
  await rx.close();
  if (f === undefined) {
    t.log('multicast loopback is not delivered on this host');
    return t.pass();
  }
  t.deepEqual([...f.bytes], [0xd2, 0x84]);
});

test('the simulated channel delays, loses (seeded) and reports its busy ratio', async (t) => {
  const clock = new ManualClock(T0);
  const ch = new SimulatedChannel({ clock, delayMs: 5, loss: 0.25, seed: 7 });
  const a = ch.attach('a');
  const b = ch.attach('b');
  const c = ch.attach('c');
  const atB: Frame[] = [];
  const atC: Frame[] = [];
  b.onFrame((f) => atB.push(f));
  c.onFrame((f) => atC.push(f));
  for (let i = 0; i < 400; i++) await a.send(new Uint8Array(300).fill(i & 0xff));
  await Promise.resolve();
  t.is(atB.length, 0); // nothing before the delay
  clock.advance(5);
  await new Promise((r) => setImmediate(r));
  const heard = atB.length + atC.length;
  t.is(heard + ch.lost, 800);
  t.true(ch.lost > 150 && ch.lost < 250, `${ch.lost} lost of 800`);
  t.true(atB.every((f) => f.from === 'a'));
  // 400 frames of 300 bytes within one window: the next window reports the channel as full.
  clock.advance(100);
  await a.send(new Uint8Array(10));
  t.is(ch.busyRatio, 1);
  const fixed = new SimulatedChannel({ clock, busyRatio: 0.42 });
  const x = fixed.attach();
  const y = fixed.attach();
  const got: Frame[] = [];
  y.onFrame((f) => got.push(f));
  await x.send(new Uint8Array(1));
  clock.advance(2);
  await new Promise((r) => setImmediate(r));
  t.is(got[0]!.busyRatio, 0.42);
});

test('a pipeline on the simulated channel follows the channel busy ratio into DCC', async (t) => {
  const clock = new ManualClock(T0);
  const intervals: number[] = [];
  const r = rig({ clock, onDccInterval: (ms) => intervals.push(ms) }, 1);
  const ch = new SimulatedChannel({ clock, busyRatio: 0.7, delayMs: 1 });
  const tx = ch.attach();
  ch.attach().onFrame((f) => r.pipeline.receive(f.bytes, f.busyRatio));
  for (let i = 0; i < 5; i++) {
    await tx.send(new Uint8Array([0]));
    clock.advance(100);
    await new Promise((res) => setImmediate(res));
  }
  t.is(r.pipeline.dcc.state.name, 'restrictive');
  t.is(intervals.at(-1), 1000);
});
