// The JBD emulator answers the protocol document's requests with the document's bytes, over a
// real pty pair opened with serialport; it resyncs after garbage and joins split requests.
import test from 'ava';
import { readFileSync } from 'node:fs';
import type { BmsReadings } from '../../sim-hardware/bms/simulated-bms.ts';
import type { BmsSource } from '../../sim-hardware/uart/bms-source.ts';
import { JbdResponder, jbdRequest } from '../../sim-hardware/uart/jbd-protocol.ts';
import { UartFace } from '../../sim-hardware/uart/uart-face.ts';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { SimulatedBms } from '../../sim-hardware/bms/simulated-bms.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';
import { constantCurrent } from '../../sim-hardware/plant/profiles.ts';
import { FaultInjector } from '../../sim-hardware/faults.ts';
import { exchange, hex, toHex, withUartFace } from '../helpers/serial-collect.ts';

interface Vectors {
  readings: { packVoltageV: number; currentA: number; remainingAh: number; nominalCapacityAh: number; cycles: number; productionDate: { year: number; month: number; day: number }; softwareVersion: number; socPct: number; temperatureC: number[]; cellVoltageMv: number[]; hardwareVersion: string };
  exchanges: { command: string; request: string; response: string }[];
}
const V = JSON.parse(readFileSync(new URL('../vectors/jbd-uart.json', import.meta.url), 'utf8')) as Vectors;

function documentSource(): BmsSource {
  const r = V.readings;
  const readings: BmsReadings = {
    timeS: 0,
    packVoltageV: r.packVoltageV,
    currentA: r.currentA,
    cellVoltageV: r.cellVoltageMv.map((mv) => mv / 1000),
    temperatureC: r.temperatureC,
    socPct: r.socPct,
    sohPct: 100,
    remainingAh: r.remainingAh,
    fullCapacityAh: r.nominalCapacityAh,
    nominalCapacityAh: r.nominalCapacityAh,
    cycles: r.cycles,
    balancing: r.cellVoltageMv.map(() => false),
    faults: {},
    contactorClosed: true,
    chargeEnabled: true,
    dischargeEnabled: true,
  };
  return { measure: () => readings, powered: true, hardwareVersion: r.hardwareVersion, productionDate: r.productionDate };
}

test('request frames are built as the document shows them', (t) => {
  for (const e of V.exchanges) t.is(toHex(jbdRequest(hex(e.request)[2]!)), toHex(hex(e.request)), e.command);
});

test('the responder answers each document request with the document response, byte for byte', (t) => {
  const jbd = new JbdResponder(documentSource(), { softwareVersion: V.readings.softwareVersion });
  for (const e of V.exchanges) {
    const out = jbd.feed(hex(e.request), 0);
    t.is(out.length, 1, e.command);
    t.is(toHex(out[0]!), toHex(hex(e.response)), e.command);
  }
});

test('garbage, split requests, a truncated request and bad checksums are skipped; the stream resyncs', (t) => {
  const jbd = new JbdResponder(documentSource());
  const req3 = hex(V.exchanges[0]!.request);
  const req4 = hex(V.exchanges[1]!.request);
  // Noise with start and end bytes in it, then a request split over three reads.
  t.deepEqual(jbd.feed(hex('00 77 DD DD 13 FF'), 0), []);
  t.deepEqual(jbd.feed(req3.subarray(0, 2), 1), []);
  t.deepEqual(jbd.feed(req3.subarray(2, 5), 2), []);
  const a = jbd.feed(req3.subarray(5), 3);
  t.is(a.length, 1);
  t.is(a[0]![1], 0x03);
  // A truncated request followed at once by a whole one: the whole one is answered.
  const b = jbd.feed(Buffer.concat([req4.subarray(0, 3), req4]), 4);
  t.is(b.length, 1);
  t.is(b[0]![1], 0x04);
  // A corrupted checksum is not answered; the next good request is.
  const bad = Buffer.from(req3);
  bad[5] ^= 0x01;
  t.is(jbd.feed(Buffer.concat([bad, req4]), 5).length, 1);
  t.true(jbd.scanner.stats.garbageBytes > 0 && jbd.scanner.stats.badFrames > 0);
  // An unknown command and a write are refused with status 0x80.
  const refused = jbd.feed(hex('DD 5A E1 02 00 00 FF 1D 77'), 6);
  t.is(toHex(refused[0]!), 'DD E1 80 00 FF 80 77');
});

test('over a real pty: the document exchanges, split writes, and answers after the host opens', async (t) => {
  await withUartFace(new JbdResponder(documentSource(), { softwareVersion: 0x10 }), documentSource(), async (host) => {
    for (const e of V.exchanges) {
      const want = hex(e.response);
      const got = await exchange(host, hex(e.request), want.length);
      t.is(toHex(got), toHex(want), e.command);
    }
    // Garbage, then a request written in two parts with a pause between.
    const req = hex(V.exchanges[1]!.request);
    const want = hex(V.exchanges[1]!.response);
    const pending = exchange(host, Buffer.concat([hex('12 34 DD 00'), req.subarray(0, 4)]), want.length);
    await new Promise((r) => setTimeout(r, 30));
    host.write(req.subarray(4));
    t.is(toHex(await pending), toHex(want));
  });
});

test('over a pty, live: a simulated pack discharging shows as negative JBD current; a pulled cable and power loss go silent', async (t) => {
  const pack = new Pack({ cells: 8, soc: 0.7, seed: 2 });
  const bms = new SimulatedBms(pack, { seed: 2 });
  const faults = new FaultInjector({ bms, seed: 2 });
  const sim = new Simulation({ pack, profile: constantCurrent(20), maxStepS: 1 }).attach(bms).attach(faults);
  sim.advance(10);
  await withUartFace(new JbdResponder(bms), bms, async (host) => {
    const basic = await exchange(host, jbdRequest(0x03), 7 + 23 + 2 * 2);
    t.is(basic[3], 27);
    const current = basic.readInt16BE(6) / 100;
    t.true(Math.abs(current + 20) < 0.2, `JBD current ${current} A (charge positive)`);
    t.is(basic[4 + 21], 8, 'cell count');
    t.is(basic.readUInt16BE(4) / 100, Math.round(bms.measure().packVoltageV * 100) / 100);
    const cells = await exchange(host, jbdRequest(0x04), 7 + 16);
    for (let k = 0; k < 8; k++) t.true(Math.abs(cells.readUInt16BE(4 + 2 * k) / 1000 - pack.vCell[k]!) < 0.005);
    const undo = faults.inject({ kind: 'serialDisconnect' }, sim);
    t.is((await exchange(host, jbdRequest(0x03), 1, 300)).length, 0, 'no answer while disconnected');
    undo();
    bms.setPowered(false);
    t.is((await exchange(host, jbdRequest(0x03), 1, 300)).length, 0, 'no answer without power');
    bms.setPowered(true);
    t.is((await exchange(host, jbdRequest(0x05), 7 + bms.hardwareVersion.length)).subarray(4, -3).toString(), bms.hardwareVersion);
  }, { faults });
});

test('serial noise corrupts answers so that a host checksum fails', (t) => {
  const pack = new Pack({ cells: 4 });
  const bms = new SimulatedBms(pack);
  const faults = new FaultInjector({ bms, seed: 5 });
  faults.serial.byteErrorRate = 0.2;
  const sent: Uint8Array[] = [];
  const listeners: ((b: Buffer) => void)[] = [];
  const link = { on: (_e: 'data', l: (b: Buffer) => void) => listeners.push(l), removeListener: () => {}, write: (d: Uint8Array) => sent.push(d) };
  const face = new UartFace(link, new JbdResponder(bms), bms, { faults });
  for (let k = 0; k < 20; k++) listeners[0]!(Buffer.from(jbdRequest(0x03)));
  const clean = new JbdResponder(bms).feed(jbdRequest(0x03), 0)[0]!;
  const corrupted = sent.filter((s) => toHex(s) !== toHex(clean)).length;
  t.is(face.requests, 20);
  t.true(corrupted >= 15, `${corrupted} of 20 answers corrupted at a 20 % byte error rate`);
});

test('a pack too large for a JBD board is refused with a plain message', (t) => {
  const bms = new SimulatedBms(new Pack({ cells: 40 }));
  t.throws(() => new JbdResponder(bms), { instanceOf: RangeError, message: /at most 32 cells/ });
});
