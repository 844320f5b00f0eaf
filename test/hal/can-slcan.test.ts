// The slcan backend and the emulated adapter beyond the common contract: python-can's slcan as
// an independent peer (both directions), garbage on the line, adapters that do not ack or that
// refuse, an adapter that unplugs and is plugged back in, adapter timestamps.
import test from 'ava';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { CanInitializationError, CanNotPermittedError, CanOperationError } from '../../hal/can/errors.ts';
import { canFrame } from '../../hal/can/frame.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { openSlcan } from '../../hal/can/slcan.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { SlcanAdapter } from '../../sim-hardware/slcan-adapter.ts';
import { ptyPair } from '../helpers/pty.ts';

const PEER = fileURLToPath(new URL('fixtures/python_can_slcan_peer.py', import.meta.url));

// Standard, extended, remote (both widths), empty and full frames.
const FRAMES: CanFrame[] = [
  canFrame({ id: 0x123, data: [0x11, 0x22, 0x33] }),
  canFrame({ id: 0x18ff50e5, extended: true, data: [0xca, 0xfe] }),
  canFrame({ id: 0x7df, remote: true, dlc: 8 }),
  canFrame({ id: 0x1abcdef, extended: true, remote: true, dlc: 2 }),
  canFrame({ id: 0x000, data: [] }),
  canFrame({ id: 0x7ff, data: [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0x55] }),
  canFrame({ id: 0x1fffffff, extended: true, data: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] }),
];

type PyFrame = { id: number; ext: boolean; rtr: boolean; dlc: number; data: string };
const toPy = (f: CanFrame): PyFrame => ({ id: f.id, ext: f.extended, rtr: f.remote, dlc: f.dlc, data: Buffer.from(f.data).toString('hex') });

/** Runs the python-can peer; resolves once it is ready, with a promise of what it received. */
function pythonPeer(channel: string, send: CanFrame[], receiveCount: number): Promise<{ received: Promise<PyFrame[]> }> {
  const child = spawn('/usr/bin/python3', [PEER, channel, JSON.stringify(send.map(toPy)), String(receiveCount)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<PyFrame[]>((resolve, reject) =>
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`python-can peer exited ${code}: ${err}`));
      resolve(out.split('\n').slice(1).filter(Boolean).map((l) => JSON.parse(l) as PyFrame));
    }),
  );
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const before = out;
      out += d;
      if (!before.includes('ready\n') && out.includes('ready\n')) resolve({ received: exited });
    });
    exited.catch(reject);
  });
}

async function receiveN(bus: { receive(ms: number): Promise<CanFrame> }, n: number): Promise<CanFrame[]> {
  const out: CanFrame[] = [];
  for (let i = 0; i < n; i++) out.push(await bus.receive(10_000));
  return out;
}

function openRaw(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200 }, (err) => (err ? reject(err) : resolve(port)));
  });
}

test('python-can drives the emulated adapter: frames cross both ways', async (t) => {
  const pair = await ptyPair();
  const hub = new VirtualCanHub();
  const node = hub.open();
  const adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  const fromPython = receiveN(node, FRAMES.length);
  const py = await pythonPeer(pair.b, FRAMES, FRAMES.length);
  t.deepEqual((await fromPython).map(toPy), FRAMES.map(toPy));
  await adapter.waitForState('open');
  t.is(adapter.bitrate, 500_000);
  for (const f of FRAMES) await node.send(f);
  t.deepEqual(await py.received, FRAMES.map(toPy));
  // python-can opens with C, S6, O and then O again: a Lawicel adapter refuses the second O.
  t.is(adapter.stats.refused, 1);
  await adapter.close();
  await node.close();
  await pair.close();
});

test('the slcan backend and python-can talk directly over a pty pair, both ways', async (t) => {
  // python-can's slcan does not acknowledge anything: this is also the non-acking adapter case.
  const pair = await ptyPair();
  const bus = await openSlcan({ path: pair.a, bitrate: 500_000, transmit: true, ackTimeoutMs: 100 });
  const fromPython = receiveN(bus, FRAMES.length);
  const py = await pythonPeer(pair.b, FRAMES, FRAMES.length);
  t.deepEqual((await fromPython).map(toPy), FRAMES.map(toPy));
  for (const f of FRAMES) await bus.send(f);
  t.deepEqual(await py.received, FRAMES.map(toPy));
  t.false(bus.confirmsFrames, 'no acks came, so sends stopped waiting for them');
  t.true(bus.unanswered >= 1);
  // python-can's own open sequence (C, S6, O) reaches us as lines that are not frames.
  t.is(bus.stats().received, FRAMES.length);
  await bus.close();
  await pair.close();
});

test('garbage on the serial line is counted and skipped; frames after it still arrive', async (t) => {
  const pair = await ptyPair();
  const device = await openRaw(pair.a);
  // A silent adapter: commands get no reply, so the backend waits out each ack timeout.
  const bus = await openSlcan({ path: pair.b, ackTimeoutMs: 50 });
  const got = receiveN(bus, 3);
  device.write('t1232AABB\r');
  device.write(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d])); // binary junk
  device.write('t12\r'); // truncated frame
  device.write('t1239AA\r'); // DLC out of range
  device.write('T1FFFFFFF1GG\r'); // not hex
  device.write('t8001AA\r'); // hmm: 0x800 needs 29 bits
  device.write('x'.repeat(500) + '\r'); // an endless line: resynchronise at the next \r
  device.write('hello\r');
  device.write('T1ABCDEF00\r');
  device.write('t1232AABBC\r'); // one stray digit
  device.write('r7DF8\r');
  const frames = await got;
  t.deepEqual(frames.map((f) => [f.id, f.extended, f.remote, Buffer.from(f.data).toString('hex')]), [
    [0x123, false, false, 'aabb'],
    [0x1abcdef0, true, false, ''],
    [0x7df, false, true, ''],
  ]);
  t.is(bus.stats().malformed, 8);
  await bus.close();
  await new Promise((r) => device.close(r));
  await pair.close();
});

test('an adapter that refuses a frame (BEL) rejects that send; the bus goes on', async (t) => {
  const pair = await ptyPair();
  const hub = new VirtualCanHub();
  const node = hub.open();
  const adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  const bus = await openSlcan({ path: pair.b, transmit: true });
  t.is(await bus.version(), 'V1013');
  t.is(await bus.serialNumber(), 'NV001');
  t.deepEqual(await bus.command('C'), { kind: 'ok' });
  const err = await t.throwsAsync(bus.send(canFrame({ id: 0x10, data: [1] })), { instanceOf: CanOperationError });
  t.regex(err!.message, /refused frame 010#01/);
  t.deepEqual(await bus.command('O'), { kind: 'ok' });
  await bus.send(canFrame({ id: 0x10, data: [2] }));
  t.deepEqual([...(await node.receive(2000)).data], [2]);
  t.is(bus.refused, 1);
  t.true(bus.confirmsFrames);
  await bus.close();
  await adapter.close();
  await node.close();
  await pair.close();
});

for (const frameAck of ['cr', 'none'] as const) {
  test(`adapters that ack frames with ${frameAck === 'cr' ? 'a bare \\r (CANable)' : 'nothing'} work too`, async (t) => {
    const pair = await ptyPair();
    const hub = new VirtualCanHub();
    const node = hub.open();
    const adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open(), frameAck });
    // Long enough that a slow machine does not pass for an adapter that never acks.
    const bus = await openSlcan({ path: pair.b, transmit: true, ackTimeoutMs: 1000 });
    for (const f of FRAMES) await bus.send(f);
    t.deepEqual((await receiveN(node, FRAMES.length)).map(toPy), FRAMES.map(toPy));
    t.is(bus.confirmsFrames, frameAck === 'cr');
    await bus.close();
    await adapter.close();
    await node.close();
    await pair.close();
  });
}

test('commands cannot get around listen-only', async (t) => {
  const pair = await ptyPair();
  const hub = new VirtualCanHub();
  const node = hub.open();
  const adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  const bus = await openSlcan({ path: pair.b });
  await t.throwsAsync(bus.command('O'), { instanceOf: CanNotPermittedError, message: /--transmit/ });
  await t.throwsAsync(bus.command('t1230'), { instanceOf: TypeError, message: /use send/ });
  t.is(adapter.state, 'listen-only');
  t.is(adapter.stats.toBus, 0);
  await bus.close();
  await adapter.close();
  await node.close();
  await pair.close();
});

test('the adapter refuses listen-only sends and wrong commands like firmware does', async (t) => {
  const pair = await ptyPair();
  const hub = new VirtualCanHub();
  const node = hub.open();
  const adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  const host = await openRaw(pair.b);
  let text = '';
  host.on('data', (d: Buffer) => (text += d.toString('latin1')));
  host.write('S6\rL\rt1230\rS4\rO\rC\rQ\rS9\rV\r');
  await adapter.waitForState('listen-only');
  while (!text.includes('V1013\r')) await new Promise((r) => setTimeout(r, 10));
  t.is(text, '\r\r\x07\x07\x07\r\x07\x07V1013\r');
  await t.throwsAsync(node.receive(20));
  await new Promise((r) => host.close(r));
  await adapter.close();
  await node.close();
  await pair.close();
});

test('an adapter that unplugs fails the bus as disconnected; a reopened port resumes', async (t) => {
  const dir = tmpdir();
  const links = { linkA: join(dir, `voltrail-slcan-${process.pid}-dev`), linkB: join(dir, `voltrail-slcan-${process.pid}-host`) };
  const hub = new VirtualCanHub();
  const node = hub.open();
  let pair = await ptyPair(links);
  let adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  const bus = await openSlcan({ path: links.linkB, bitrate: 250_000 });
  const it = bus.frames();
  await node.send(canFrame({ id: 1 }));
  t.is((await it.next()).value?.id, 1);
  t.is((await bus.receive(1000)).id, 1);
  const pendingNext = it.next();
  const pendingReceive = bus.receive();
  // Unplug: the adapter and its pty vanish.
  await adapter.close();
  await pair.close();
  const err = await t.throwsAsync(pendingNext, { instanceOf: CanOperationError });
  t.is(err?.kind, 'disconnected');
  t.regex(err!.message, /disconnected.*reopen/);
  await t.throwsAsync(pendingReceive, { instanceOf: CanOperationError, message: /disconnected/ });
  await t.throwsAsync(bus.receive(10), { message: /disconnected/ });
  t.true(bus.stats().errors >= 1);
  // Reopening while it is still gone fails clearly; once plugged back in, it resumes.
  await t.throwsAsync(bus.reopen(), { instanceOf: CanInitializationError, message: /cannot open/ });
  pair = await ptyPair(links);
  adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  await bus.reopen();
  t.is(adapter.state, 'listen-only');
  t.is(adapter.bitrate, 250_000);
  const got = bus.receive(5000);
  await node.send(canFrame({ id: 2, data: [2] }));
  t.is((await got).id, 2);
  await bus.close();
  await adapter.close();
  await node.close();
  await pair.close();
});

test('unplugging while frames are being sent ends the sending with the disconnect, not a crash', async (t) => {
  const pair = await ptyPair();
  const hub = new VirtualCanHub();
  const node = hub.open();
  const adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  const bus = await openSlcan({ path: pair.b, transmit: true, ackTimeoutMs: 100 });
  const task = bus.sendPeriodic(canFrame({ id: 0x321, data: [1, 2, 3] }), 1);
  await node.receive(5000);
  await adapter.close();
  await pair.close();
  await task.done;
  t.true(task.error instanceof CanOperationError);
  t.regex(String((task.error as Error).message), /disconnected|write failed/);
  await t.throwsAsync(bus.send(canFrame({ id: 1 })), { instanceOf: CanOperationError });
  await bus.close();
  await node.close();
});

test('adapter timestamps are parsed and keep frames in time order', async (t) => {
  const pair = await ptyPair();
  const hub = new VirtualCanHub();
  const node = hub.open();
  const adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  const bus = await openSlcan({ path: pair.b, timestamps: true });
  t.true(adapter.timestamps);
  const got = receiveN(bus, 3);
  for (let i = 0; i < 3; i++) await node.send(canFrame({ id: 0x100 + i, data: [i] }));
  const frames = await got;
  t.deepEqual(frames.map((f) => f.id), [0x100, 0x101, 0x102]);
  const ts = frames.map((f) => f.timestamp!);
  t.true(ts[0]! <= ts[1]! && ts[1]! <= ts[2]!);
  t.true(Math.abs(ts[0]! - Date.now() / 1000) < 5);
  t.is(bus.stats().malformed, 0);
  await bus.close();
  await adapter.close();
  await node.close();
  await pair.close();
});

test('a bitrate an slcan adapter cannot set is refused before anything opens', async (t) => {
  await t.throwsAsync(openSlcan({ path: '/dev/null', bitrate: 333_333 }), {
    instanceOf: CanInitializationError,
    message: /333333.*500000/,
  });
  await t.throwsAsync(openSlcan({ path: join(tmpdir(), 'no-such-tty') }), { instanceOf: CanInitializationError, message: /cannot open .*plugged in/ });
});
