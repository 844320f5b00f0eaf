// The foxBMS 2 face: its frames, decoded with foxBMS 2's real foxbms.dbc and the project's DBC
// codec, carry what the simulated BMS measured, within each signal's resolution; all cells come
// through the multiplexed cell voltages; wire faults are counted.
import test from 'ava';
import { decodeFrame, loadDbc, type DbcDatabase, type SignalValue } from '../../devices/dbc/index.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import type { CanBus } from '../../hal/can/bus.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { ManualClock } from '../../hal/clock.ts';
import { dbcPath } from '../helpers/dbc-files.ts';
import { startSimRig, type SimRigOptions } from '../../sim-hardware/sim-rig.ts';
import type { FoxbmsCanFace } from '../../sim-hardware/can/foxbms-can.ts';

// The shared copies (../shared/data/dbc/ beside the repository; the helper finds them from a worktree too).
const FOX = dbcPath('foxbms.dbc');
const IMD = dbcPath('iso165_IMD.dbc');
const settle = () => new Promise((r) => setImmediate(r));
let dbPromise: Promise<DbcDatabase> | undefined;
const foxDb = () => (dbPromise ??= loadDbc(FOX));

function collect(bus: CanBus): CanFrame[] {
  const got: CanFrame[] = [];
  void (async () => {
    try {
      for await (const f of bus.frames()) got.push(f);
    } catch {
      // closed
    }
  })();
  return got;
}

async function rigWithListener(opts: Partial<SimRigOptions>) {
  const hub = new VirtualCanHub();
  const rig = await startSimRig({ bms: 'foxbms', dbcPath: FOX, canBus: hub.open(), clock: new ManualClock(), maxStepS: 0.05, ...opts });
  const listener = hub.open({ queueCapacity: 100_000 });
  const frames = collect(listener);
  return { rig, frames, face: rig.canFace as FoxbmsCanFace, close: async () => (await listener.close(), await rig.close()) };
}

async function run(rig: { sim: { advance(s: number): void } }, seconds: number) {
  for (let t = 0; t < seconds; t += 0.1) {
    rig.sim.advance(0.1);
    await settle();
  }
}

/** The last decoded frame of a message (and mux value), with its signals as numbers. */
function last(db: DbcDatabase, frames: CanFrame[], name: string, mux?: number): Record<string, SignalValue> | undefined {
  for (let i = frames.length - 1; i >= 0; i--) {
    const d = decodeFrame(db, frames[i]!, { choices: false });
    if (d?.name !== name) continue;
    const m = Object.keys(d.signals).find((k) => k.endsWith('_Mux'));
    if (mux !== undefined && d.signals[m!] !== mux) continue;
    return d.signals;
  }
  return undefined;
}

const near = (a: SignalValue | undefined, b: number, tol: number) => typeof a === 'number' && Math.abs(a - b) <= tol + 1e-9;

test('pack values, state and limits decode to what the BMS measured; discharge current is positive', async (t) => {
  const db = await foxDb();
  const { rig, frames, face, close } = await rigWithListener({ cells: 18, seed: 5, profile: 'cc:30' });
  t.teardown(close);
  await run(rig, 6);
  const r = face.lastSent.get('f_PackValuesP0')!;
  const p0 = last(db, frames, 'f_PackValuesP0')!;
  t.true(near(p0.BatteryVoltage, r.packVoltageV, 0.05), `voltage ${p0.BatteryVoltage} vs ${r.packVoltageV}`);
  t.true(near(p0.Current, r.currentA, 0.005), `current ${p0.Current} vs ${r.currentA}`);
  t.true((p0.Current as number) > 29 && (p0.Current as number) < 31, 'a 30 A discharge is +30 A on the foxBMS wire');
  t.true(near(p0.Power, (r.packVoltageV * r.currentA) / 1000, 0.005));
  t.true(near(p0.BusVoltage, r.packVoltageV, 0.05), 'contactor closed: bus at pack voltage');
  const sv = last(db, frames, 'f_StringValuesP0', 0)!;
  t.true(near(sv.Voltage, face.lastSent.get('f_StringValuesP0')!.packVoltageV, 0.005));
  t.true(near(sv.Current, face.lastSent.get('f_StringValuesP0')!.currentA, 0.005));

  const st = decodeFrame(db, frames.filter((f) => f.id === 544).at(-1)!)!.signals;
  t.is(st.BmsState, 'NORMAL');
  t.is(st.NumberOfConnectedStrings, 1);
  t.is(st.GeneralError, 'No Error');
  t.is(st.InsulationMonitoring, 'Inactive', 'no IMD on this bus');

  const se = last(db, frames, 'f_PackStateEstimation')!;
  const rs = face.lastSent.get('f_PackStateEstimation')!;
  t.true(near(se.MinimumSoc, rs.socPct, 0.05), `soc ${se.MinimumSoc} vs ${rs.socPct}`);
  t.true(near(se.Soh, rs.sohPct, 0.25));
  const ssE = last(db, frames, 'f_StringStateEstimation', 0)!;
  t.true(near(ssE.MinimumSoc, face.lastSent.get('f_StringStateEstimation')!.socPct, 0.1));

  const mm = last(db, frames, 'f_PackMinMaxCellVoltage')!;
  const rm = face.lastSent.get('f_PackMinMaxCellVoltage')!;
  t.true(near(mm.MinimumCellVoltage, Math.min(...rm.cellVoltageV) * 1000, 0.5));
  t.true(near(mm.MaximumCellVoltage, Math.max(...rm.cellVoltageV) * 1000, 0.5));
  const mt = last(db, frames, 'f_PackMinMaxCellTemperature')!;
  const rt = face.lastSent.get('f_PackMinMaxCellTemperature')!;
  t.true(near(mt.MaximumCellTemperature, Math.max(...rt.temperatureC), 0.5));
  const smt = last(db, frames, 'f_StringMinMaxCellTemperature', 0)!;
  t.true(near(smt.MinimumCellTemperature, Math.min(...face.lastSent.get('f_StringMinMaxCellTemperature')!.temperatureC), 0.25));

  const lim = last(db, frames, 'f_PackLimits')!;
  const trip = (n: string) => rig.bms.protections.find((p) => p.name === n)!.limit.trip;
  t.true(near(lim.MaximumDischargeCurrent, Math.min(trip('dischargeOverCurrent'), 1023.75), 0.125));
  t.true(near(lim.MaximumBatteryVoltage, trip('packOverVoltage'), 2));
  const energy = last(db, frames, 'f_StringValuesP1', 0)!;
  t.true((energy.EnergyCounter as number) > 0, 'discharged energy counts up');

  // Cyclic rates in simulated time: 100 ms pack values, 1 s state estimation.
  const count = (id: number) => frames.filter((f) => f.id === id).length;
  const s = rig.sim.timeS;
  t.true(Math.abs(count(563) - s / 0.1) <= 1.5, `f_PackValuesP0 frames in ${s} s: ${count(563)}`);
  t.true(Math.abs(count(565) - s / 1) <= 1.5, `f_PackStateEstimation frames in ${s} s: ${count(565)}`);
  t.is(face.counters.dropped, 0);
});

test('multiplexed cell voltages cover every cell, with invalid flags as the DBC value table says; temperatures too', async (t) => {
  const db = await foxDb();
  const { rig, frames, face, close } = await rigWithListener({ cells: 22, seed: 9 });
  t.teardown(close);
  await run(rig, 6);
  const r = face.lastSent.get('f_CellVoltages')!;
  const sweep = frames.filter((f) => f.id === 592).slice(-6);
  t.is(sweep.length, 6, '22 cells: mux 0..5');
  const seen = new Map<number, number>();
  const flags = new Map<number, SignalValue>();
  for (const f of sweep) {
    const s = decodeFrame(db, f)!.signals;
    for (const [k, v] of Object.entries(s)) {
      const m = /^CellVoltage_(\d{3})(_invalidFlag)?$/.exec(k);
      if (!m) continue;
      if (m[2]) flags.set(Number(m[1]), v);
      else seen.set(Number(m[1]), v as number);
    }
  }
  for (let i = 0; i < 22; i++) {
    t.true(near(seen.get(i), r.cellVoltageV[i]! * 1000, 0.5), `cell ${i}: ${seen.get(i)} mV vs ${r.cellVoltageV[i]} V`);
    t.is(flags.get(i), 'Valid');
  }
  t.is(flags.get(22), 'Invalid', 'places past the last cell are invalid');
  t.is(seen.get(23), 0);

  const temps = frames.filter((f) => f.id === 608).map((f) => decodeFrame(db, f, { choices: false })!.signals);
  const rt = face.lastSent.get('f_CellTemperatures')!;
  t.true(temps.length >= 1);
  const lastT = temps.at(-1)!;
  for (let j = 0; j < rt.temperatureC.length; j++) {
    t.true(near(lastT[`CellTemperature_${String(j).padStart(3, '0')}`], rt.temperatureC[j]!, 0.5));
    t.is(lastT[`CellTemperature_${String(j).padStart(3, '0')}_invalidFlag`], 1, 'raw 1 = "Valid"');
  }
});

test('an open sense wire marks that cell invalid and sets OpenWireError', async (t) => {
  const db = await foxDb();
  const { rig, frames, close } = await rigWithListener({ cells: 8, seed: 2, faults: [{ fault: { kind: 'openWire', cell: 3 }, at: 0 }] });
  t.teardown(close);
  await run(rig, 6);
  const s = last(db, frames, 'f_CellVoltages', 0)!;
  t.is(s.CellVoltage_003_invalidFlag, 0, 'raw 0 = "Invalid"');
  t.is(s.CellVoltage_002_invalidFlag, 1);
  t.is(last(db, frames, 'f_StringState', 0)!.OpenWireError, 1);
});

test('with an iso165 on the bus the BMS reports its insulation resistance', async (t) => {
  const db = await foxDb();
  const { rig, frames, close } = await rigWithListener({ cells: 8, seed: 4, imdDbcPath: IMD });
  t.teardown(close);
  await run(rig, 3);
  const p1 = last(db, frames, 'f_PackValuesP1')!;
  t.true(near(p1.InsulationResistance, 5000, 300), `insulation ${p1.InsulationResistance} kOhm`);
  const st = decodeFrame(db, frames.filter((f) => f.id === 544).at(-1)!)!.signals;
  t.is(st.InsulationMonitoring, 'Active');
  t.is(st.InsulationError, 'No Error');
});

test('wire faults: frame loss, corruption and bus-off are counted; bus-off is silence', async (t) => {
  const { rig, frames, face, close } = await rigWithListener({ cells: 8, seed: 6 });
  t.teardown(close);
  rig.faults.can.frameLossProbability = 0.3;
  await run(rig, 2);
  t.true(face.counters.dropped > 20, `dropped ${face.counters.dropped}`);
  rig.faults.can.frameLossProbability = 0;
  rig.faults.can.corruptionProbability = 0.5;
  await run(rig, 2);
  t.true(face.counters.corrupted > 20, `corrupted ${face.counters.corrupted}`);
  rig.faults.can.corruptionProbability = 0;
  rig.faults.inject({ kind: 'canBusOff' }, rig.sim);
  const before = frames.length;
  const droppedBefore = face.counters.dropped;
  await run(rig, 1);
  t.is(frames.length, before, 'nothing on the wire during bus-off');
  t.true(face.counters.dropped > droppedBefore);
});

test('the face refuses a DBC that is not foxBMS 2 (naming the file)', async (t) => {
  const err = await t.throwsAsync(startSimRig({ bms: 'foxbms', dbcPath: IMD, canBus: new VirtualCanHub().open(), clock: new ManualClock() }));
  t.regex(err!.message, /iso165_IMD\.dbc.*f_BmsState/);
  await t.throwsAsync(startSimRig({ bms: 'foxbms' }), { instanceOf: TypeError, message: /dbcPath/ });
});
