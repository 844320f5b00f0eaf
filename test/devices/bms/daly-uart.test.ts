import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  dalyChecksum,
  dalyRequest,
  DalyUartDriver,
  DALY_FORMAT,
  decodeDalyBalancing,
  decodeDalyCellExtremes,
  decodeDalyCells,
  decodeDalyFailures,
  decodeDalyMos,
  decodeDalyPack,
  decodeDalyStatus,
  decodeDalyTempExtremes,
  decodeDalyTemps,
} from '../../../devices/bms/daly-uart.ts';
import { FrameReader } from '../../../devices/bms/frame-reader.ts';
import { uartCounters } from '../../../devices/bms/driver-counters.ts';
import { BmsTimeoutError } from '../../../devices/bms/bms-errors.ts';
import { byteByByte, driverRig, hex } from '../../helpers/uart-device.ts';

interface Exchange {
  id: number;
  request: string;
  response: string[];
  expect: unknown;
}
const V = JSON.parse(readFileSync(new URL('../../vectors/daly-uart-driver.json', import.meta.url), 'utf8')) as { capture: Exchange[] };
const byId = (id: number) => V.capture.find((e) => e.id === id)!;
const data = (f: Uint8Array) => f.subarray(4, 12);
const frame = (id: number, d: number[]) => {
  const f = new Uint8Array(13);
  f.set([0xa5, 0x01, id, 0x08, ...d]);
  f[12] = dalyChecksum(f.subarray(0, 12));
  return f;
};

test('requests are byte-exact with the capture', (t) => {
  for (const e of V.capture) t.deepEqual(dalyRequest(e.id), hex(e.request));
});

test('captured responses decode to exactly the expected values', (t) => {
  const reader = new FrameReader(DALY_FORMAT, uartCounters());
  const frames = (id: number) => byId(id).response.flatMap((r) => reader.push(hex(r))).map(data);
  t.deepEqual(decodeDalyPack(frames(0x90)[0]!), byId(0x90).expect);
  t.deepEqual(decodeDalyCellExtremes(frames(0x91)[0]!), byId(0x91).expect);
  t.deepEqual(decodeDalyTempExtremes(frames(0x92)[0]!), byId(0x92).expect);
  t.deepEqual(decodeDalyMos(frames(0x93)[0]!), byId(0x93).expect);
  t.deepEqual(decodeDalyStatus(frames(0x94)[0]!), byId(0x94).expect);
  t.deepEqual(decodeDalyCells(frames(0x95), 14), byId(0x95).expect);
  t.deepEqual(decodeDalyTemps(frames(0x96), 1), byId(0x96).expect);
  t.deepEqual(decodeDalyBalancing(frames(0x97)[0]!, 14), byId(0x97).expect);
  t.deepEqual(decodeDalyFailures(frames(0x98)[0]!), byId(0x98).expect);
});

test('current sign, temperature offset, balance and failure bits', (t) => {
  t.is(decodeDalyPack(Uint8Array.from([0x02, 0x10, 0, 0, 0x74, 0xb5, 0x01, 0xf4])).currentA, 12.3, '29877 = 12.3 A discharge');
  t.is(decodeDalyPack(Uint8Array.from([0x02, 0x10, 0, 0, 0x75, 0x94, 0x01, 0xf4])).currentA, -10, '30100 = 10 A charge');
  t.deepEqual(decodeDalyTemps([Uint8Array.from([1, 0, 40, 41, 80, 255, 30, 50]), Uint8Array.from([2, 45, 0, 0, 0, 0, 0, 0])], 8), [-40, 0, 1, 40, 215, -10, 10, 5]);
  t.deepEqual(decodeDalyBalancing(Uint8Array.from([0b101, 0b10, 0, 0, 0, 0, 0, 0]), 10), [true, false, true, false, false, false, false, false, false, true]);
  t.deepEqual(decodeDalyFailures(Uint8Array.from([0x02, 0x20, 0x08, 0, 0x10, 0x04, 0x04, 7])), {
    faults: { cellOverVoltage: true, overTemperature: true, dischargeOverCurrent: true, contactorFault: true, sensorFailure: true, shortCircuit: true },
    faultCode: 7,
  });
});

test('the reader rejects bad checksums and foreign headers, resyncs after garbage, byte by byte', (t) => {
  const counters = uartCounters();
  const reader = new FrameReader(DALY_FORMAT, counters);
  const good = hex(byId(0x90).response[0]!);
  const bad = good.slice();
  bad[7]! ^= 4;
  const out: Uint8Array[] = [];
  for (const b of [...hex('A5 A5 01 13 08 00'), ...bad, ...good]) out.push(...reader.push(Uint8Array.of(b)));
  t.deepEqual(out, [good]);
  t.is(counters.rejectedBy.checksum, 1);
  t.is(counters.rejectedBy.header, 2, 'A5 A5 01 (length byte 01) and A5 01 13 (id 13)');
});

function answers(id: number): Uint8Array[] {
  return byId(id).response.map(hex);
}

const rig = (respond: (req: Uint8Array, i: number) => Uint8Array[] | undefined, opts: { timeoutMs?: number; retries?: number } = {}) => driverRig(13, (o) => new DalyUartDriver(o), respond, opts);

test('over a real pty: a poll reads 0x90-0x98, cells over five frames, into a snapshot with the captured values', async (t) => {
  const r = await rig((req) => answers(req[2]!));
  try {
    await r.driver.poll();
    const s = r.driver.snapshot();
    t.is(s.packVoltageV, 52.8);
    t.is(s.currentA, 0);
    t.is(s.socPct, 50);
    t.is(s.sohPct, null);
    t.is(s.fullCapacityAh, null);
    t.is(s.remainingCapacityAh, 20);
    t.is(s.cycleCount, 0);
    t.deepEqual(s.cellVoltagesMv, byId(0x95).expect as number[]);
    t.deepEqual(s.temperaturesC, [21]);
    t.is(s.balancing.length, 14);
    t.deepEqual(s.faults, {});
    t.is(s.contactorClosed, true);
    t.is(s.meta.cellVoltagesMv?.source, 'daly');
    t.is(r.device.requests.length, 9);
    t.is(r.driver.counters.rejected, 0);
  } finally {
    await r.close();
  }
});

test('over a real pty: split, out-of-order, corrupted, truncated and missing replies', async (t) => {
  const asked = new Map<number, number>();
  const r = await rig((req) => {
    const id = req[2]!;
    const a = answers(id);
    const n = (asked.get(id) ?? 0) + 1;
    asked.set(id, n);
    if (id === 0x95 && n === 1) {
      const bad = a[2]!.slice();
      bad[6]! ^= 1;
      return [hex('00 FF A5'), a[4]!, a[0]!, bad, a[1]!, a[3]!]; // frame 3 corrupted: retried
    }
    if (id === 0x95) return [a[4]!, a[3]!, a[2]!, a[1]!, a[0]!].flatMap(byteByByte);
    if (id === 0x90 && n === 1) return [a[0]!.subarray(0, 7)];
    if (id === 0x93 && n <= 2) return undefined; // two missing replies, the third try answers
    return a.flatMap(byteByByte);
  });
  try {
    await r.driver.poll();
    const s = r.driver.snapshot();
    t.deepEqual(s.cellVoltagesMv, byId(0x95).expect as number[]);
    t.is(s.packVoltageV, 52.8);
    const c = r.driver.counters;
    t.is(c.rejectedBy.checksum, 1);
    t.is(c.rejectedBy.truncated, 1);
    t.is(c.timeouts, 4, '0x90 truncated, 0x93 twice, 0x95 with frame 3 corrupted');
    t.is(c.polls, 1);
  } finally {
    await r.close();
  }
});

test('over a real pty: discharge current, two temperature frames, failure bits', async (t) => {
  const status = frame(0x94, [4, 9, 0, 1, 0, 0x01, 0x2c, 0]);
  const r = await rig((req) => {
    switch (req[2]) {
      case 0x94: return [status];
      case 0x90: return [frame(0x90, [0x02, 0x10, 0, 0, 0x74, 0xb5, 0x01, 0xf4])];
      case 0x93: return [frame(0x93, [2, 0, 1, 3, 0, 0, 0x30, 0x39])];
      case 0x95: return [frame(0x95, [1, 0x0d, 0x05, 0x0d, 0x06, 0x0d, 0x07, 0]), frame(0x95, [2, 0x0d, 0x08, 0, 0, 0, 0, 0])];
      case 0x96: return [frame(0x96, [1, 60, 61, 62, 63, 64, 65, 66]), frame(0x96, [2, 30, 0, 0, 0, 0, 0, 0])];
      case 0x97: return [frame(0x97, [0b1001, 0, 0, 0, 0, 0, 0, 0])];
      case 0x98: return [frame(0x98, [0x08, 0, 0, 0, 0, 0, 0x04, 0])];
      default: return [frame(req[2]!, [0, 0, 0, 0, 0, 0, 0, 0])];
    }
  });
  try {
    await r.driver.poll();
    const s = r.driver.snapshot();
    t.is(s.currentA, 12.3);
    t.is(s.cycleCount, 300);
    t.is(s.remainingCapacityAh, 12.345);
    t.is(s.contactorClosed, false);
    t.deepEqual(s.cellVoltagesMv, [3333, 3334, 3335, 3336]);
    t.deepEqual(s.temperaturesC, [20, 21, 22, 23, 24, 25, 26, -10, -40]);
    t.deepEqual(s.balancing, [true, false, false, true]);
    t.deepEqual(s.faults, { cellUnderVoltage: true, shortCircuit: true });
  } finally {
    await r.close();
  }
});

test('over a real pty: silence gives a BmsTimeoutError naming the port', async (t) => {
  const r = await rig(() => undefined, { timeoutMs: 80, retries: 1 });
  try {
    await t.throwsAsync(r.driver.poll(), { instanceOf: BmsTimeoutError, message: new RegExp(`no answer from the Daly BMS on ${r.pair.b} to status information \\(0x94\\)`) });
  } finally {
    await r.close();
  }
});
