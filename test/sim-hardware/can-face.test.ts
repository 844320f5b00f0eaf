import test from 'ava';
import { loadDbc } from '../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../devices/bms/can-bms-driver.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../devices/bms/profiles/voltrail.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { ManualClock } from '../../hal/clock.ts';
import { startSimRig } from '../../sim-hardware/sim-rig.ts';

const settle = () => new Promise((r) => setImmediate(r));

test('the driver reads the simulated BMS over a virtual bus, within the DBC resolution of what the BMS measured', async (t) => {
  const db = await loadDbc(VOLTRAIL_DBC_PATH);
  const hub = new VirtualCanHub();
  const clock = new ManualClock();
  const rig = await startSimRig({ bms: 'voltrail', canBus: hub.open(), cells: 20, seed: 7, profile: 'cc:30', clock, maxStepS: 0.05 });
  t.teardown(() => rig.close());
  const driver = new CanBmsDriver({ source: 'voltrail', bus: hub.open(), db, rules: VOLTRAIL_RULES, clock });
  const ac = new AbortController();
  const reading = driver.start(ac.signal);
  for (let i = 0; i < 50; i++) {
    rig.sim.advance(0.1);
    clock.advance(100);
    await settle();
  }
  const measured = rig.bms.measure();
  const s = driver.snapshot();
  t.true(Math.abs(s.packVoltageV! - measured.packVoltageV) <= 0.005 + 1e-9, `pack ${s.packVoltageV} vs ${measured.packVoltageV}`);
  t.true(Math.abs(s.currentA! - measured.currentA) <= 0.05 + 1e-9, `current ${s.currentA} vs ${measured.currentA}`);
  t.true(Math.abs(s.socPct! - measured.socPct) <= 0.05 + 1e-9, `soc ${s.socPct} vs ${measured.socPct}`);
  t.is(s.cellVoltagesMv.length, 20);
  t.true(s.cellVoltagesMv.every((mv, i) => Math.abs(mv - measured.cellVoltageV[i]! * 1000) <= 0.5 + 1e-6));
  t.is(s.temperaturesC.length, measured.temperatureC.length);
  t.true(s.currentA! > 29 && s.currentA! < 31, 'a 30 A discharge reads as positive current');
  t.is(s.contactorClosed, true);
  t.is(driver.counters.rejected, 0);
  t.true(rig.canFace!.counters.sent > 100);
  ac.abort();
  await reading;
});

test('corrupted frames are counted by the face; truncated ones are rejected by the driver, never fatal', async (t) => {
  const db = await loadDbc(VOLTRAIL_DBC_PATH);
  const hub = new VirtualCanHub();
  const clock = new ManualClock();
  const rig = await startSimRig({ bms: 'voltrail', canBus: hub.open(), cells: 12, seed: 3, profile: 'urban', clock, maxStepS: 0.05 });
  t.teardown(() => rig.close());
  rig.faults.can.corruptionProbability = 0.3;
  const driver = new CanBmsDriver({ source: 'voltrail', bus: hub.open(), db, rules: VOLTRAIL_RULES, clock });
  const ac = new AbortController();
  const reading = driver.start(ac.signal);
  for (let i = 0; i < 30; i++) {
    rig.sim.advance(0.1);
    await settle();
  }
  t.true(rig.canFace!.counters.corrupted > 10);
  t.true(driver.counters.rejected > 0);
  t.true(driver.counters.decoded > 0);
  ac.abort();
  await reading;
});
