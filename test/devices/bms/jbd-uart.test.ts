import test from 'ava';
import { readFileSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { systemClock } from '../../../hal/clock.ts';
import { SerialPortLink } from '../../../hal/serial/serialport-link.ts';
import { decodeJbdBasicInfo, decodeJbdCellVoltages, jbdRequest, JbdUartDriver, JBD_FORMAT } from '../../../devices/bms/jbd-uart.ts';
import { FrameReader } from '../../../devices/bms/frame-reader.ts';
import { uartCounters } from '../../../devices/bms/driver-counters.ts';
import { BmsTimeoutError } from '../../../devices/bms/bms-errors.ts';
import { ptyPair } from '../../helpers/pty.ts';
import { byteByByte, driverRig, hex, scriptedDevice } from '../../helpers/uart-device.ts';

interface Vector {
  command: number;
  request?: string;
  response: string;
  expect?: unknown;
}
const V = JSON.parse(readFileSync(new URL('../../vectors/jbd-uart-driver.json', import.meta.url), 'utf8')) as { document: Vector[]; constructed: Vector[] };
const doc = (cmd: number) => V.document.find((v) => v.command === cmd)!;
const data = (frame: Uint8Array) => frame.subarray(4, frame.length - 3);

test('requests are byte-exact with the protocol document', (t) => {
  for (const v of V.document) t.deepEqual(jbdRequest(v.command), hex(v.request!));
});

test('document and constructed responses decode to exactly the expected values', (t) => {
  for (const v of [...V.document, ...V.constructed]) {
    if (!v.expect) continue;
    const reader = new FrameReader(JBD_FORMAT, uartCounters());
    const [frame] = reader.push(hex(v.response));
    t.truthy(frame, `frame for 0x0${v.command}`);
    if (v.command === 3) {
      const { faults, ...rest } = decodeJbdBasicInfo(data(frame!));
      const { faults: wantFaults, ...want } = v.expect as Record<string, unknown>;
      t.deepEqual(rest, want);
      t.deepEqual(faults, wantFaults);
    } else if (v.command === 4) t.deepEqual(decodeJbdCellVoltages(data(frame!)), v.expect as number[]);
    else t.is(new TextDecoder('latin1').decode(data(frame!)), v.expect as string);
  }
});

test('the reader frames by length: 0xDD and 0x77 inside data do not split frames, byte-by-byte or after garbage', (t) => {
  const counters = uartCounters();
  const reader = new FrameReader(JBD_FORMAT, counters);
  const frames: Uint8Array[] = [];
  const stream = [...hex('00 DD 77 13 FF'), ...hex(V.constructed[0]!.response), ...hex(V.constructed[1]!.response)];
  for (const b of stream) frames.push(...reader.push(Uint8Array.of(b)));
  t.is(frames.length, 2);
  t.deepEqual(frames[0], hex(V.constructed[0]!.response));
  t.deepEqual(frames[1], hex(V.constructed[1]!.response));
  t.is(counters.garbageBytes, 4, '00, 77 13 FF skipped');
  t.is(counters.rejectedBy.header, 1, 'DD 77: 77 is no command');
});

test('corrupted checksum, end byte and truncated frames are rejected and counted, the next good frame is found', (t) => {
  const counters = uartCounters();
  const reader = new FrameReader(JBD_FORMAT, counters);
  const good = hex(doc(4).response);
  const badSum = good.slice();
  badSum[10]! ^= 0x01;
  const badEnd = good.slice();
  badEnd[badEnd.length - 1] = 0x78;
  const frames = [...reader.push(badSum), ...reader.push(badEnd), ...reader.push(good)];
  t.deepEqual(frames, [good]);
  t.is(counters.rejectedBy.checksum, 1);
  t.is(counters.rejectedBy.end, 1);
  reader.push(good.subarray(0, 12));
  t.deepEqual(reader.flush(), []);
  t.is(counters.rejectedBy.truncated, 1);
  t.deepEqual(reader.push(good), [good]);
});

test('garbage that looks like a header hides a good frame only until flush', (t) => {
  const counters = uartCounters();
  const reader = new FrameReader(JBD_FORMAT, counters);
  const good = hex(doc(4).response);
  t.deepEqual(reader.push(Uint8Array.from([...hex('DD 03 00 55'), ...good])), [], 'waiting for 92 bytes');
  t.deepEqual(reader.flush(), [good]);
  t.is(counters.rejectedBy.truncated, 1);
});

test('a 0x03 whose length does not hold its NTCs is a RangeError naming the command', (t) => {
  const d = data(hex(doc(3).response));
  t.throws(() => decodeJbdBasicInfo(d.subarray(0, 24)), { instanceOf: RangeError, message: /JBD 0x03.*2 temperatures/ });
});

const rig = (respond: (req: Uint8Array, i: number) => Uint8Array[] | undefined, opts: { timeoutMs?: number; retries?: number } = {}) => driverRig(7, (o) => new JbdUartDriver(o), respond, opts);

const answer = (req: Uint8Array) => hex(V.document.find((v) => v.command === req[2])!.response);

test('over a real pty: a poll gives a snapshot with the document values, discharge-positive current, no SoH', async (t) => {
  const r = await rig((req) => [answer(req)]);
  try {
    await r.driver.poll();
    const s = r.driver.snapshot();
    t.is(r.driver.hardwareVersion, '0123456789');
    t.is(s.packVoltageV, 58.88);
    t.is(s.currentA, 0);
    t.is(s.socPct, 72);
    t.is(s.sohPct, null);
    t.is(s.remainingCapacityAh, 7.2);
    t.is(s.fullCapacityAh, 10);
    t.is(s.meta.fullCapacityAh?.measured, false, 'nominal capacity is a setting');
    t.is(s.cycleCount, 0);
    t.deepEqual(s.temperaturesC, [20.3, 21.5]);
    t.deepEqual(s.cellVoltagesMv, doc(4).expect as number[]);
    t.is(s.contactorClosed, true);
    t.deepEqual(s.faults, {});
    t.is(s.meta.packVoltageV?.source, 'jbd');
    t.false(s.meta.packVoltageV!.stale);
    t.deepEqual(r.device.requests, ['dda50500fffb77', 'dda50300fffd77', 'dda50400fffc77']);
    t.is(r.driver.counters.rejected, 0);
  } finally {
    await r.close();
  }
});

test('over a real pty: byte-by-byte replies, garbage first, and data holding DD', async (t) => {
  const replies: Record<number, Uint8Array> = { 3: hex(V.constructed[0]!.response), 4: hex(V.constructed[1]!.response), 5: answer(Uint8Array.of(0, 0, 5)) };
  const r = await rig((req, i) => [hex(i === 1 ? 'DD 03 00 55' : 'DD 77 00 55'), ...byteByByte(replies[req[2]!]!)]);
  try {
    await r.driver.poll();
    const s = r.driver.snapshot();
    t.is(s.packVoltageV, 53.41);
    t.is(s.currentA, 5.47);
    t.deepEqual(s.cellVoltagesMv, [3550, 3447, 3300, 3549]);
    t.deepEqual(s.balancing, [true, false, true, false]);
    t.deepEqual(s.faults, { cellOverVoltage: true, shortCircuit: true });
    t.deepEqual(s.temperaturesC, [17, 5, -6.4]);
    t.is(s.contactorClosed, false, 'charge MOSFET off');
    t.true(r.driver.counters.garbageBytes > 0);
  } finally {
    await r.close();
  }
});

test('over a real pty: corrupted, truncated and missing replies are retried and counted', async (t) => {
  const r = await rig((req, i) => {
    const good = answer(req);
    if (i === 0) {
      const bad = good.slice();
      bad[5]! ^= 0xff;
      return [bad];
    }
    if (i === 2) return [good.subarray(0, 9)];
    if (i === 4) return undefined;
    return [good];
  });
  try {
    await r.driver.poll();
    const c = r.driver.counters;
    t.is(c.rejectedBy.checksum, 1);
    t.is(c.rejectedBy.truncated, 1);
    t.is(c.timeouts, 3);
    t.is(c.retries, 3);
    t.is(c.responses, 3);
    t.is(c.polls, 1);
    t.is(r.driver.snapshot().packVoltageV, 58.88);
  } finally {
    await r.close();
  }
});

test('over a real pty: a BMS that never answers gives an error naming the port and what to check; the snapshot says so', async (t) => {
  const r = await rig(() => undefined, { timeoutMs: 100, retries: 1 });
  try {
    const err = await t.throwsAsync(r.driver.poll(), { instanceOf: BmsTimeoutError });
    t.regex(err!.message, new RegExp(`no answer from the JBD BMS on ${r.pair.b} to hardware version \\(0x05\\) after 2 tries`));
    t.regex(err!.message, /wiring/);
    t.is(r.driver.counters.failedPolls, 1);
    t.true(r.driver.snapshot().faults.communicationLost);
  } finally {
    await r.close();
  }
});

test('a refused command (status 0x80) is counted and reported', async (t) => {
  const r = await rig((req) => (req[2] === 3 ? [hex(V.constructed[2]!.response)] : [answer(req)]), { retries: 0 });
  try {
    await t.throwsAsync(r.driver.poll(), { message: /refused basic information \(0x03\) \(status 0x80\)/ });
    t.is(r.driver.counters.rejectedBy.status, 1);
  } finally {
    await r.close();
  }
});

test('over a real pty: a port that disappears and comes back at the same path is reopened', async (t) => {
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/voltrail-jbd-'));
  const links = { linkA: `${dir}/bms`, linkB: `${dir}/host` };
  let pair = await ptyPair(links);
  let device = await scriptedDevice(pair.a, 7, (req) => [answer(req)]);
  const link = new SerialPortLink(new SerialPort({ path: links.linkB, baudRate: 9600, autoOpen: false }));
  const driver = new JbdUartDriver({ link, clock: systemClock, timeoutMs: 1000, retries: 1, backoffMs: 10 });
  try {
    await driver.poll();
    await device.close();
    await pair.close(); // the adapter is unplugged
    await t.throwsAsync(driver.poll());
    t.is(driver.counters.failedPolls, 1);
    t.true(driver.snapshot().faults.communicationLost);
    pair = await ptyPair(links); // plugged back in: udev gives it the same name
    device = await scriptedDevice(pair.a, 7, (req) => [answer(req)]);
    await driver.poll();
    t.true(driver.counters.reopens >= 1);
    t.is(driver.counters.polls, 2);
    t.falsy(driver.snapshot().faults.communicationLost);
  } finally {
    await driver.close();
    await device.close();
    await pair.close();
  }
});
