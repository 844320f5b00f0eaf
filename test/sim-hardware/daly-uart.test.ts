// The Daly emulator answers the requests of a real unit's capture with the captured bytes,
// including the bytes its transmit buffer carries over, over a real pty pair.
import test from 'ava';
import { readFileSync } from 'node:fs';
import type { BmsReadings } from '../../sim-hardware/bms/simulated-bms.ts';
import type { BmsSource } from '../../sim-hardware/uart/bms-source.ts';
import { DalyResponder, dalyRequest } from '../../sim-hardware/uart/daly-protocol.ts';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { SimulatedBms } from '../../sim-hardware/bms/simulated-bms.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';
import { constantCurrent } from '../../sim-hardware/plant/profiles.ts';
import { exchange, hex, toHex, withUartFace } from '../helpers/serial-collect.ts';

interface Vectors {
  readings: { packVoltageV: number; currentA: number; socPct: number; remainingAh: number; timeS: number; cycles: number; dio: number; temperatureC: number[]; cellVoltageMv: number[] };
  exchanges: { command: string; request: string; response: string[] }[];
}
const V = JSON.parse(readFileSync(new URL('../vectors/daly-uart.json', import.meta.url), 'utf8')) as Vectors;

function captureSource(): BmsSource {
  const r = V.readings;
  const readings: BmsReadings = {
    timeS: r.timeS,
    packVoltageV: r.packVoltageV,
    currentA: r.currentA,
    cellVoltageV: r.cellVoltageMv.map((mv) => mv / 1000),
    temperatureC: r.temperatureC,
    socPct: r.socPct,
    sohPct: 100,
    remainingAh: r.remainingAh,
    fullCapacityAh: 40,
    nominalCapacityAh: 40,
    cycles: r.cycles,
    balancing: r.cellVoltageMv.map(() => false),
    faults: {},
    contactorClosed: true,
    chargeEnabled: true,
    dischargeEnabled: true,
  };
  return { measure: () => readings, powered: true, hardwareVersion: 'daly', productionDate: { year: 2021, month: 1, day: 1 } };
}

test('requests are built as captured', (t) => {
  for (const e of V.exchanges) t.is(toHex(dalyRequest(hex(e.request)[2]!)), toHex(hex(e.request)), e.command);
});

test('the responder answers the captured requests with the captured bytes, in order', (t) => {
  const daly = new DalyResponder(captureSource(), { dio: V.readings.dio });
  for (const e of V.exchanges) {
    const out = daly.feed(hex(e.request), 0);
    t.deepEqual(out.map(toHex), e.response.map((r) => toHex(hex(r))), e.command);
  }
});

test('garbage, split and corrupted requests; other host addresses; unknown ids stay unanswered', (t) => {
  const daly = new DalyResponder(captureSource());
  const req = dalyRequest(0x90);
  t.deepEqual(daly.feed(hex('A5 A5 00 13'), 0), []);
  t.deepEqual(daly.feed(req.subarray(0, 6), 1), []);
  t.is(daly.feed(req.subarray(6), 2).length, 1);
  const bad = Buffer.from(req);
  bad[12] ^= 0xff;
  t.is(daly.feed(Buffer.concat([bad, dalyRequest(0x93, 0x80)]), 3).length, 1);
  t.deepEqual(daly.feed(dalyRequest(0x42), 4), []);
  t.is(daly.refused, 1);
  t.true(daly.scanner.stats.badFrames >= 1);
});

test('over a real pty: the capture byte for byte, 0x95 as several frames', async (t) => {
  await withUartFace(new DalyResponder(captureSource(), { dio: 2 }), captureSource(), async (host) => {
    for (const e of V.exchanges) {
      const want = Buffer.concat(e.response.map(hex));
      const got = await exchange(host, hex(e.request), want.length);
      t.is(toHex(got), toHex(want), e.command);
    }
  });
});

test('live pack over a pty: current offset 30000 below = discharge, cell frames cover every cell', async (t) => {
  const pack = new Pack({ cells: 16, soc: 0.6, seed: 4 });
  const bms = new SimulatedBms(pack, { seed: 4 });
  const sim = new Simulation({ pack, profile: constantCurrent(30), maxStepS: 1 }).attach(bms);
  sim.advance(5);
  await withUartFace(new DalyResponder(bms), bms, async (host) => {
    const f90 = await exchange(host, dalyRequest(0x90), 13);
    const current = (f90.readUInt16BE(8) - 30000) / 10;
    t.true(Math.abs(current + 30) < 0.2, `Daly current ${current} A: below the offset is discharge`);
    t.is(f90.readUInt16BE(10) / 10, Math.round(bms.measure().socPct * 10) / 10);
    const f95 = await exchange(host, dalyRequest(0x95), 13 * 6);
    t.is(f95.length, 13 * 6, '16 cells = 6 frames of 3');
    const mv: number[] = [];
    for (let k = 0; k < 6; k++) {
      t.is(f95[13 * k + 4], k + 1, 'frame numbers from 1');
      for (let c = 0; c < 3; c++) mv.push(f95.readUInt16BE(13 * k + 5 + 2 * c));
    }
    for (let c = 0; c < 16; c++) t.true(Math.abs(mv[c]! / 1000 - pack.vCell[c]!) < 0.005, `cell ${c + 1}`);
    const f94 = await exchange(host, dalyRequest(0x94), 13);
    t.is(f94[4], 16);
    t.is(f94[5], bms.measure().temperatureC.length);
    t.is(f94[7], 1, 'load on');
  });
});

test('protection trips show as 0x98 failure bits and MOS states in 0x93', (t) => {
  const pack = new Pack({ cells: 4, soc: 0.06, seed: 1 });
  const bms = new SimulatedBms(pack);
  const sim = new Simulation({ pack, profile: constantCurrent(50), maxStepS: 0.5 }).attach(bms);
  sim.advanceUntil(() => !bms.contactorClosed, 3600);
  const daly = new DalyResponder(bms);
  const f98 = daly.respond(0x98)[0]!;
  t.is(f98[4]! & 0x08, 0x08, 'cell volt low level 2');
  const f93 = daly.respond(0x93)[0]!;
  t.is(f93[5], 1, 'charge MOS on');
  t.is(f93[6], 0, 'discharge MOS off');
});
