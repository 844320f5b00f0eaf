import test from 'ava';
import { loadDbc, encodeMessage } from '../../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../../devices/bms/can-bms-driver.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../../devices/bms/profiles/voltrail.ts';
import { VirtualCanHub } from '../../../hal/can/virtual.ts';
import { ManualClock } from '../../../hal/clock.ts';
import { canFrame } from '../../../hal/can/frame.ts';

async function setup() {
  const db = await loadDbc(VOLTRAIL_DBC_PATH);
  const hub = new VirtualCanHub();
  const clock = new ManualClock();
  const driver = new CanBmsDriver({ source: 'voltrail', bus: hub.open(), db, rules: VOLTRAIL_RULES, clock });
  return { db, clock, driver };
}

test('the voltrail DBC parses, with cycle times and 192 cell signals', async (t) => {
  const db = await loadDbc(VOLTRAIL_DBC_PATH);
  t.is(db.messageByName('VT_PackStatus')?.cycleTimeMs, 100);
  t.is(db.messageByName('VT_CellVoltages')?.signals.filter((s) => /^Cell\d{3}_Voltage$/.test(s.name)).length, 192);
});

test('frames become a snapshot in canonical units; partial cell sets are not reported', async (t) => {
  const { db, clock, driver } = await setup();
  driver.handle(encodeMessage(db, 'VT_PackStatus', { PackVoltage: 350.12, PackCurrent: -42.5, StateOfCharge: 81.3, ContactorState: 'closed', StatusCounter: 1, MinCellVoltage: 3.6 }));
  driver.handle(encodeMessage(db, 'VT_PackCapacity', { RemainingCapacity: 40.5, FullCapacity: 50, CycleCount: 12, StateOfHealth: 97.5, CellCount: 4 }));
  driver.handle(encodeMessage(db, 'VT_CellVoltages', { CellGroup: 0, Cell001_Voltage: 3650, Cell002_Voltage: 3651, Cell003_Voltage: 3652 }));
  let s = driver.snapshot();
  const near = (a: number | null, b: number) => t.true(a !== null && Math.abs(a - b) < 1e-9, `${a} ~ ${b}`);
  near(s.packVoltageV, 350.12);
  near(s.currentA, -42.5);
  near(s.socPct, 81.3);
  near(s.sohPct, 97.5);
  t.is(s.contactorClosed, true);
  t.deepEqual(s.cellVoltagesMv, [], 'cell 4 not yet received');
  driver.handle(encodeMessage(db, 'VT_CellVoltages', { CellGroup: 1, Cell004_Voltage: 3649, Cell005_Voltage: 0, Cell006_Voltage: 0 }));
  driver.handle(encodeMessage(db, 'VT_Faults', { ...Object.fromEntries(db.messageByName('VT_Faults')!.signals.map((g) => [g.name, 0])), OverTemperature: 1, FaultCounter: 1 }));
  driver.handle(encodeMessage(db, 'VT_Balancing', { BalanceGroup: 0, BalanceBits_0: 0b1010 }));
  s = driver.snapshot();
  t.deepEqual(s.cellVoltagesMv, [3650, 3651, 3652, 3649], 'trimmed to the cell count');
  t.deepEqual(s.balancing, [false, true, false, true]);
  t.deepEqual(s.faults, { overTemperature: true });
  t.false(s.meta.packVoltageV!.stale);
  clock.advance(301);
  s = driver.snapshot();
  t.true(s.meta.packVoltageV!.stale, 'older than 3 x 100 ms');
  t.false(s.meta.fullCapacityAh!.stale, '1000 ms message still fresh');
});

test('a known id with a bad length is counted and skipped; unknown ids are counted', async (t) => {
  const { driver } = await setup();
  driver.handle(canFrame({ id: 1552, data: [1, 2] }));
  driver.handle(canFrame({ id: 0x123, data: [1] }));
  t.is(driver.counters.rejected, 1);
  t.is(driver.counters.unknown, 1);
  t.regex(driver.counters.lastError!, /0x610 \(VT_PackStatus\)/);
});
