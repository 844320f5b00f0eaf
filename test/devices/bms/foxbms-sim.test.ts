import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadDbc } from '../../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../../devices/bms/can-bms-driver.ts';
import { FOXBMS_RULES } from '../../../devices/bms/profiles/foxbms.ts';
import { ivtSRules, IVT_S_DEFAULT_PERIOD_MS } from '../../../devices/sensors/ivt-s.ts';
import { ISO165_RULES } from '../../../devices/sensors/iso165.ts';
import { SnapshotMerger } from '../../../devices/snapshot-merger.ts';
import { VirtualCanHub } from '../../../hal/can/virtual.ts';
import { ManualClock } from '../../../hal/clock.ts';
import { startSimRig } from '../../../sim-hardware/sim-rig.ts';

const shared = (name: string) => fileURLToPath(new URL(`../../../../shared/data/dbc/${name}`, import.meta.url));

test('the foxBMS profile, IVT-S and iso165 drivers read the simulator\'s devices on one bus, merged into one snapshot', async (t) => {
  const hub = new VirtualCanHub();
  const clock = new ManualClock();
  const rig = await startSimRig({
    bms: 'foxbms',
    dbcPath: shared('foxbms.dbc'),
    ivtDbcPath: shared('IVT-S_12082020.dbc'),
    imdDbcPath: shared('iso165_IMD.dbc'),
    canBus: hub.open(),
    cells: 18,
    seed: 5,
    profile: 'cc:20',
    clock,
    maxStepS: 0.05,
  });
  t.teardown(() => rig.close());
  const [fox, ivt, imd] = await Promise.all([loadDbc(shared('foxbms.dbc')), loadDbc(shared('IVT-S_12082020.dbc')), loadDbc(shared('iso165_IMD.dbc'))]);
  const bms = new CanBmsDriver({ source: 'foxbms', bus: hub.open(), db: fox, rules: FOXBMS_RULES, clock, counts: { cellVoltagesMv: 18, temperaturesC: 5 } });
  const ivtS = new CanBmsDriver({ source: 'ivt-s', bus: hub.open(), db: ivt, rules: ivtSRules(), clock, defaultCycleMs: IVT_S_DEFAULT_PERIOD_MS });
  const iso = new CanBmsDriver({ source: 'iso165', bus: hub.open(), db: imd, rules: ISO165_RULES, clock });
  const ac = new AbortController();
  const running = Promise.all([bms, ivtS, iso].map((d) => d.start(ac.signal)));
  for (let i = 0; i < 120; i++) {
    rig.sim.advance(0.1);
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
  }
  const s = new SnapshotMerger(bms, [ivtS, iso]).snapshot();
  const measured = rig.bms.measure();
  const truth = rig.pack.truth();
  t.is(s.cellVoltagesMv.length, 18, 'every cell through the multiplexed frames');
  const sent = (rig.canFace as unknown as { lastSent: Map<string, typeof measured> }).lastSent.get('f_CellVoltages')!;
  const worst = Math.max(...s.cellVoltagesMv.map((mv, i) => Math.abs(mv - sent.cellVoltageV[i]! * 1000)));
  t.true(worst <= 0.5 + 1e-6, `cells as the BMS sent them (1 mV resolution): worst ${worst} mV`);
  t.true(Math.abs(s.currentA! - truth.currentA) < 0.1, `current from the IVT-S (${s.currentA}) vs truth ${truth.currentA}`);
  t.is(s.meta.currentA?.source, 'ivt-s', 'a fresh IVT-S current overrides the BMS current');
  t.true(s.currentA! > 0, 'discharge is positive');
  t.true(Math.abs(s.packVoltageV! - measured.packVoltageV) < 0.5, `pack ${s.packVoltageV} vs ${measured.packVoltageV}`);
  t.true(s.insulationOhm !== null && s.insulationOhm > 1e6, `insulation ${s.insulationOhm}`);
  t.falsy(s.faults.sensorFailure, 'valid cells raise no sensor failure');
  t.is(bms.counters.rejected + ivtS.counters.rejected + iso.counters.rejected, 0);
  ac.abort();
  await running;
});
