import test from 'ava';
import { encodeMessage, loadDbc, type DbcDatabase } from '../../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../../devices/bms/can-bms-driver.ts';
import { FOXBMS_RULES } from '../../../devices/bms/profiles/foxbms.ts';
import { ivtSRules, IVT_S_DEFAULT_PERIOD_MS } from '../../../devices/sensors/ivt-s.ts';
import { ISO165_RULES } from '../../../devices/sensors/iso165.ts';
import { SnapshotMerger } from '../../../devices/snapshot-merger.ts';
import { VirtualCanHub } from '../../../hal/can/virtual.ts';
import { ManualClock } from '../../../hal/clock.ts';
import { dbcPath } from '../../helpers/dbc-files.ts';

const zeros = (db: DbcDatabase, message: string) => Object.fromEntries(db.messageByName(message)!.signals.map((s) => [s.name, 0]));

async function setup() {
  const [fox, ivt, imd] = await Promise.all([loadDbc(dbcPath('foxbms.dbc')), loadDbc(dbcPath('IVT-S_12082020.dbc')), loadDbc(dbcPath('iso165_IMD.dbc'))]);
  const clock = new ManualClock();
  const hub = new VirtualCanHub();
  const bms = new CanBmsDriver({ source: 'foxbms', bus: hub.open(), db: fox, rules: FOXBMS_RULES, clock });
  const shunt = new CanBmsDriver({ source: 'ivt-s', bus: hub.open(), db: ivt, rules: ivtSRules(), clock, defaultCycleMs: IVT_S_DEFAULT_PERIOD_MS });
  const iso = new CanBmsDriver({ source: 'iso165', bus: hub.open(), db: imd, rules: ISO165_RULES, clock });
  const ivtFrame = (mA: number, err = 0) => encodeMessage(ivt, 'IVT_Msg_Result_I', { ...zeros(ivt, 'IVT_Msg_Result_I'), IVT_ID_Result_I: 1, IVT_Result_I: mA, IVT_Result_I_Measurement_Error: err });
  const isoFrame = (kOhm: number, failure = 0) => encodeMessage(imd, 'IMD_Info', { ...zeros(imd, 'IMD_Info'), II_IMC_R_ISO: kOhm, II_IMC_STATUS_00_IsoFailure: failure });
  const packFrame = (v: number, a: number) => encodeMessage(fox, 'f_PackValuesP0', { BatteryVoltage: v, BusVoltage: v, Current: a, Power: 0 });
  return { clock, bms, shunt, iso, ivtFrame, isoFrame, packFrame, merger: new SnapshotMerger(bms, [shunt, iso]) };
}

test('IVT-S current (mA) and iso165 insulation (kOhm) decode from their real DBCs, values exact', async (t) => {
  const { shunt, iso, ivtFrame, isoFrame } = await setup();
  shunt.handle(ivtFrame(-123_456));
  iso.handle(isoFrame(2_150));
  t.is(shunt.snapshot().currentA, -123.456);
  t.is(iso.snapshot().insulationOhm, 2_150_000);
  t.deepEqual(iso.snapshot().faults, {});
  iso.handle(isoFrame(80, 1));
  t.deepEqual(iso.snapshot().faults, { insulationFault: true });
  shunt.handle(ivtFrame(1000, 1));
  t.deepEqual(shunt.snapshot().faults, { sensorFailure: true });
});

test('merged: a fresh IVT-S current overrides the BMS current; insulation comes from the iso165; each value keeps its source', async (t) => {
  const { bms, shunt, iso, ivtFrame, isoFrame, packFrame, merger } = await setup();
  bms.handle(packFrame(352.1, 40.1));
  shunt.handle(ivtFrame(40_237));
  iso.handle(isoFrame(2_150, 0));
  const s = merger.snapshot();
  t.is(s.packVoltageV, 352.1);
  t.is(s.meta.packVoltageV?.source, 'foxbms');
  t.is(s.currentA, 40.237);
  t.is(s.meta.currentA?.source, 'ivt-s');
  t.is(s.insulationOhm, 2_150_000);
  t.is(s.meta.insulationOhm?.source, 'iso165');
});

test('merged: a stale IVT-S gives way to the fresh BMS current; when everything is stale the value stays, marked stale', async (t) => {
  const { clock, bms, shunt, ivtFrame, packFrame, merger } = await setup();
  shunt.handle(ivtFrame(40_237));
  clock.advance(250);
  bms.handle(packFrame(352.1, 40.1)); // BMS frames keep coming at 100 ms
  clock.advance(60); // IVT-S silent for 310 ms > 100 ms x 3
  let s = merger.snapshot();
  t.is(s.currentA, 40.1);
  t.is(s.meta.currentA?.source, 'foxbms');
  t.false(s.meta.currentA!.stale);
  clock.advance(1000);
  s = merger.snapshot();
  t.true(s.meta.currentA!.stale);
  t.is(typeof s.currentA, 'number');
});

test('merged: faults are the union of every source', async (t) => {
  const { fox, bms, shunt, iso, ivtFrame, isoFrame, merger } = await setup().then(async (x) => ({ ...x, fox: await loadDbc(dbcPath('foxbms.dbc')) }));
  bms.handle(encodeMessage(fox, 'f_BmsState', { ...zeros(fox, 'f_BmsState'), BmsState: 'NORMAL', PackOvercurrentChargeError: 1 }));
  shunt.handle(ivtFrame(1, 1));
  iso.handle(isoFrame(50, 1));
  t.deepEqual(merger.snapshot().faults, { chargeOverCurrent: true, sensorFailure: true, insulationFault: true });
});
