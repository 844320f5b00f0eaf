import test from 'ava';
import { loadDbc, encodeMessage, type DbcDatabase } from '../../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../../devices/bms/can-bms-driver.ts';
import { foxbmsRules, FOXBMS_RULES } from '../../../devices/bms/profiles/foxbms.ts';
import { VirtualCanHub } from '../../../hal/can/virtual.ts';
import { ManualClock } from '../../../hal/clock.ts';
import { canFrame } from '../../../hal/can/frame.ts';
import { dbcPath } from '../../helpers/dbc-files.ts';

const zeros = (db: DbcDatabase, message: string, mux?: number) =>
  Object.fromEntries(
    db
      .messageByName(message)!
      .signals.filter((s) => s.multiplexerIds === undefined || mux === undefined || s.multiplexerIds.includes(mux))
      .map((s) => [s.name, 0]),
  );

function cellFrame(db: DbcDatabase, mux: number, mv: number[], invalid: number[] = []) {
  const v: Record<string, number> = { ...zeros(db, 'f_CellVoltages', mux), f_CellVoltages_Mux: mux };
  mv.forEach((x, k) => {
    const n = String(mux * 4 + k).padStart(3, '0');
    v[`CellVoltage_${n}`] = x;
    // foxbms.dbc's value table: 1 = "Valid", 0 = "Invalid".
    v[`CellVoltage_${n}_invalidFlag`] = invalid.includes(k) ? 0 : 1;
  });
  return encodeMessage(db, 'f_CellVoltages', v);
}

function tempFrame(db: DbcDatabase, mux: number, c: number[]) {
  const v: Record<string, number> = { ...zeros(db, 'f_CellTemperatures', mux), f_CellTemperatures_Mux: mux };
  c.forEach((x, k) => {
    const n = String(mux * 6 + k).padStart(3, '0');
    v[`CellTemperature_${n}`] = x;
    if (`CellTemperature_${n}_invalidFlag` in v) v[`CellTemperature_${n}_invalidFlag`] = 1; // 1 = "Valid"
  });
  return encodeMessage(db, 'f_CellTemperatures', v);
}

async function setup(counts?: { cellVoltagesMv?: number; temperaturesC?: number }, rules = FOXBMS_RULES) {
  const db = await loadDbc(dbcPath('foxbms.dbc'));
  const clock = new ManualClock();
  const driver = new CanBmsDriver({ source: 'foxbms', bus: new VirtualCanHub().open(), db, rules, clock, ...(counts ? { counts } : {}) });
  return { db, clock, driver };
}

test('foxBMS frames encoded from values with the DBC codec decode to exactly those values', async (t) => {
  const { db, driver } = await setup({ cellVoltagesMv: 6, temperaturesC: 8 });
  driver.handle(encodeMessage(db, 'f_PackValuesP0', { BatteryVoltage: 352.1, BusVoltage: 351.9, Current: 42.37, Power: 14.92 }));
  driver.handle(encodeMessage(db, 'f_PackValuesP1', { InsulationResistance: 7000 }));
  driver.handle(encodeMessage(db, 'f_PackStateEstimation', { MinimumSoc: 71.3, MaximumSoc: 72.1, MinimumSoe: 70, MaximumSoe: 71, Energy: 40.2, Soh: 96.5 }));
  driver.handle(encodeMessage(db, 'f_BmsState', { ...zeros(db, 'f_BmsState'), BmsState: 'NORMAL' }));
  driver.handle(cellFrame(db, 0, [3701, 3702, 3703, 3704]));
  driver.handle(cellFrame(db, 1, [3705, 3706, 0, 0]));
  driver.handle(tempFrame(db, 0, [21, 22, 23, 24, 25, -5]));
  driver.handle(tempFrame(db, 1, [30, 31, 0, 0, 0, 0]));
  const s = driver.snapshot();
  t.is(s.packVoltageV, 352.1);
  t.is(s.currentA, 42.37);
  t.is(s.socPct, 71.3);
  t.is(s.sohPct, 96.5);
  t.is(s.insulationOhm, 7_000_000);
  t.is(s.contactorClosed, true);
  t.deepEqual(s.cellVoltagesMv, [3701, 3702, 3703, 3704, 3705, 3706]);
  t.deepEqual(s.temperaturesC, [21, 22, 23, 24, 25, -5, 30, 31]);
  t.deepEqual(s.faults, {});
  t.is(s.cycleCount, null, 'foxBMS sends no cycle count');
  t.is(s.meta.cellVoltagesMv?.source, 'foxbms');
  t.is(driver.counters.rejected, 0);
});

test('error flags become named faults; an invalid cell flag is a sensor failure; contactors open outside NORMAL/CHARGE/DISCHARGE', async (t) => {
  const { db, driver } = await setup();
  driver.handle(encodeMessage(db, 'f_BmsState', { ...zeros(db, 'f_BmsState'), BmsState: 'ERROR', PackOvercurrentDischargeError: 1, InsulationError: 1 }));
  driver.handle(encodeMessage(db, 'f_StringState', { ...zeros(db, 'f_StringState', 0), f_StringState_Mux: 0, OvervoltageMslError: 1, OvertemperatureDischargeMslError: 1, PositiveContactorError: 1 }));
  driver.handle(cellFrame(db, 0, [3700, 3700, 3700, 3700], [2]));
  const s = driver.snapshot();
  t.deepEqual(s.faults, { dischargeOverCurrent: true, insulationFault: true, cellOverVoltage: true, overTemperature: true, contactorFault: true, sensorFailure: true });
  t.is(s.contactorClosed, false);
  // A later frame where cell 2 is valid clears it only if no other invalid flag is set.
  driver.handle(cellFrame(db, 0, [3700, 3700, 3700, 3700]));
  t.falsy(driver.snapshot().faults.sensorFailure);
});

test('a charge-positive foxBMS build is converted with positiveDischarge: false', async (t) => {
  const { db, driver } = await setup(undefined, foxbmsRules({ positiveDischarge: false }));
  driver.handle(encodeMessage(db, 'f_PackValuesP0', { BatteryVoltage: 352.1, BusVoltage: 351.9, Current: -12.5, Power: -4.4 }));
  t.is(driver.snapshot().currentA, 12.5);
});

test('staleness: a value older than its cycle time times the margin is marked stale, not dropped', async (t) => {
  const { db, clock, driver } = await setup();
  driver.handle(encodeMessage(db, 'f_PackValuesP0', { BatteryVoltage: 352.1, BusVoltage: 351.9, Current: 1, Power: 0.35 }));
  driver.handle(encodeMessage(db, 'f_PackStateEstimation', { MinimumSoc: 71.3, MaximumSoc: 72.1, MinimumSoe: 70, MaximumSoe: 71, Energy: 40.2, Soh: 96.5 }));
  clock.advance(301); // 100 ms cycle x 3 < 301 ms < 1000 ms x 3
  const s = driver.snapshot();
  t.true(s.meta.packVoltageV!.stale);
  t.is(s.packVoltageV, 352.1);
  t.false(s.meta.socPct!.stale);
  clock.advance(3000);
  t.true(driver.snapshot().meta.socPct!.stale);
});

test('partial cell sets wait for the rest when the count is known; wrong-length frames are counted', async (t) => {
  const { db, driver } = await setup({ cellVoltagesMv: 8 });
  driver.handle(cellFrame(db, 0, [3701, 3702, 3703, 3704]));
  t.deepEqual(driver.snapshot().cellVoltagesMv, []);
  driver.handle(cellFrame(db, 1, [3705, 3706, 3707, 3708]));
  t.is(driver.snapshot().cellVoltagesMv.length, 8);
  driver.handle(canFrame({ id: 0x233, data: Uint8Array.of(1, 2, 3) }));
  t.is(driver.counters.rejected, 1);
  t.regex(driver.counters.lastError!, /0x233 \(f_PackValuesP0\)/);
});
