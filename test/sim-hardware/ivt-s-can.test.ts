// The simulated IVT-S: its result frames, decoded with the vendor's real DBC and the project's
// codec, carry the plant's current and voltage within the shunt's resolution and noise, with the
// sign of its mounting; counters, status bytes and wire faults behave as the DBC describes.
import test from 'ava';
import { decodeFrame, loadDbc } from '../../devices/dbc/index.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { ManualClock } from '../../hal/clock.ts';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';
import { constantCurrent } from '../../sim-hardware/plant/profiles.ts';
import { IvtSSensor, IVT_RESULTS } from '../../sim-hardware/can/ivt-s-can.ts';
import { startSimRig } from '../../sim-hardware/sim-rig.ts';
import { dbcPath } from '../helpers/dbc-files.ts';

const IVT = dbcPath('IVT-S_12082020.dbc');
const FOX = dbcPath('foxbms.dbc');
const settle = () => new Promise((r) => setImmediate(r));

async function bench(currentA: number, opts: { reversed?: boolean } = {}) {
  const db = await loadDbc(IVT);
  const hub = new VirtualCanHub();
  const pack = new Pack({ cells: 16, chemistry: 'nmc', seed: 3, soc: 0.6 });
  const sim = new Simulation({ pack, profile: constantCurrent(currentA), maxStepS: 0.02 });
  const ivt = new IvtSSensor({ pack, bus: hub.open(), db, seed: 3, ...opts });
  sim.attach(ivt);
  const rx = hub.open({ queueCapacity: 100_000 });
  const frames: CanFrame[] = [];
  void (async () => {
    for await (const f of rx.frames()) frames.push(f);
  })().catch(() => {});
  return { db, pack, sim, ivt, frames, close: () => rx.close() };
}

test('current, voltages and power match the plant within the shunt resolution; discharge reads positive', async (t) => {
  const b = await bench(42);
  t.teardown(b.close);
  for (let i = 0; i < 50; i++) {
    b.sim.advance(0.02);
    await settle();
  }
  const decoded = b.frames.map((f) => decodeFrame(b.db, f, { choices: false })!);
  const names = new Set(decoded.map((d) => d.name));
  for (const r of IVT_RESULTS) t.true(names.has(`IVT_Msg_Result_${r}`), `${r} sent`);
  const lastI = decoded.filter((d) => d.name === 'IVT_Msg_Result_I').at(-1)!.signals;
  const sent = b.ivt.lastSent.get('I')!;
  t.is(lastI.IVT_ID_Result_I, 0);
  t.is(lastI.IVT_Result_I, sent.value, 'the frame carries the value recorded as sent');
  t.true(Math.abs((lastI.IVT_Result_I as number) / 1000 - sent.truthCurrentA) < 0.03, `I ${lastI.IVT_Result_I} mA vs truth ${sent.truthCurrentA} A`);
  t.true((lastI.IVT_Result_I as number) > 41_900, 'a 42 A discharge reads +42 A');
  const u1 = decoded.filter((d) => d.name === 'IVT_Msg_Result_U1').at(-1)!.signals;
  const su1 = b.ivt.lastSent.get('U1')!;
  t.is(u1.IVT_ID_Result_U1, 1);
  t.true(Math.abs((u1.IVT_Result_U1 as number) / 1000 - su1.truthPackV) < 0.01, `U1 ${u1.IVT_Result_U1} mV vs ${su1.truthPackV} V`);
  const w = decoded.filter((d) => d.name === 'IVT_Msg_Result_W').at(-1)!.signals;
  t.true(Math.abs((w.IVT_Result_W as number) - su1.truthPackV * 42) < 5, `W ${w.IVT_Result_W}`);
  const as = decoded.filter((d) => d.name === 'IVT_Msg_Result_As').at(-1)!.signals;
  t.true(Math.abs((as.IVT_Result_As as number) - 42 * b.sim.timeS) <= 42 * 0.1 + 1, `As ${as.IVT_Result_As} after ${b.sim.timeS} s`);
  const temp = decoded.filter((d) => d.name === 'IVT_Msg_Result_T').at(-1)!.signals;
  t.true(Math.abs((temp.IVT_Result_T as number) - b.pack.ambientC) < 1, `T ${temp.IVT_Result_T}`);
  // The 4-bit message counter counts each result's frames, wrapping at 16.
  const counts = decoded.filter((d) => d.name === 'IVT_Msg_Result_I').map((d) => d.signals.IVT_MsgCount_Result_I as number);
  t.true(counts.length > 16);
  t.true(counts.every((c, i) => c === i % 16));
  t.is(lastI.IVT_Result_I_OCS, 0);
  t.is(lastI.IVT_Result_I_System_Error, 0);
  // foxBMS 2 reads the same frames with its own copy of the layout (CS_IsabellenhuetteIvtString0Curr).
  const fox = await loadDbc(FOX);
  const viaFox = decodeFrame(fox, b.frames.filter((f) => f.id === 0x521).at(-1)!)!;
  t.is(viaFox.name, 'CS_IsabellenhuetteIvtString0Curr');
  t.is(viaFox.signals.IVT_Result_I, lastI.IVT_Result_I);
});

test('charging reads negative; a reversed shunt reads the other way', async (t) => {
  const charge = await bench(-20);
  t.teardown(charge.close);
  const rev = await bench(20, { reversed: true });
  t.teardown(rev.close);
  for (let i = 0; i < 10; i++) {
    charge.sim.advance(0.02);
    rev.sim.advance(0.02);
  }
  t.true(charge.ivt.lastSent.get('I')!.value < -19_900);
  t.true(rev.ivt.lastSent.get('I')!.value < -19_900);
  t.true(rev.ivt.lastSent.get('I')!.truthCurrentA > 19.9, 'the plant discharges all the same');
});

test('the shunt is finer than the BMS: its current error is a fraction of the BMS current sense error', async (t) => {
  const hub = new VirtualCanHub();
  const rig = await startSimRig({ bms: 'foxbms', dbcPath: FOX, ivtDbcPath: IVT, canBus: hub.open(), clock: new ManualClock(), cells: 12, seed: 8, profile: 'cc:25', maxStepS: 0.02 });
  t.teardown(() => rig.close());
  let ivtErr = 0;
  let bmsErr = 0;
  for (let i = 0; i < 200; i++) {
    rig.sim.advance(0.02);
    const truth = rig.pack.currentA;
    ivtErr += Math.abs(rig.ivt!.lastSent.get('I')!.value / 1000 - rig.ivt!.lastSent.get('I')!.truthCurrentA);
    bmsErr += Math.abs(rig.bms.measure().currentA - truth);
  }
  t.true(ivtErr < bmsErr / 3, `mean error IVT ${(ivtErr / 200).toFixed(4)} A vs BMS ${(bmsErr / 200).toFixed(4)} A`);
});

test('wire faults reach the sensor too: loss and bus-off counted', async (t) => {
  const b = await bench(10);
  t.teardown(b.close);
  b.ivt.faults.frameLossProbability = 0.5;
  for (let i = 0; i < 50; i++) b.sim.advance(0.02);
  t.true(b.ivt.counters.dropped > 10);
  b.ivt.faults.frameLossProbability = 0;
  b.ivt.faults.busOff = true;
  const dropped = b.ivt.counters.dropped;
  await settle();
  const n = b.frames.length;
  for (let i = 0; i < 20; i++) b.sim.advance(0.02);
  await settle();
  t.is(b.frames.length, n);
  t.true(b.ivt.counters.dropped >= dropped + 20);
});
