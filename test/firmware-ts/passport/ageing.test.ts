// The lifecycle accounts against the simulator's ground truth: a 4-cell NMC pack with fast
// ageing (so that a hundred cycles fade it by ~10 %) is cycled (C/2 discharge to 3.0 V, rest,
// CC-CV charge to 4.2 V, rest) in 10 s steps, the simulated BMS measuring it with its default
// sensor noise and current offset, and the accountant fed the BMS's readings as snapshots.
// Equivalent full cycles must come within 1 % and capacity fade within 2 % (points of fade)
// of the plant's truth; the pack's capacity is its weakest cell's, as a series pack delivers.
import test from 'ava';
import { Pack } from '../../../sim-hardware/plant/pack.ts';
import { Simulation } from '../../../sim-hardware/simulation.ts';
import { ccCv, constantCurrent, rest, sequence } from '../../../sim-hardware/plant/profiles.ts';
import { SimulatedBms, type BmsReadings } from '../../../sim-hardware/bms/simulated-bms.ts';
import { emptySnapshot, type BatterySnapshot } from '../../../devices/snapshot.ts';
import { LifecycleAccountant, accountingLimits } from '../../../firmware-ts/passport/lifecycle-accountant.ts';
import { decodeSummary, encodeSummary } from '../../../ledger/passport/lifecycle-summary.ts';

const T0 = Date.UTC(2026, 0, 1);

/** What a driver would make of the BMS's report. */
function snapshotOf(r: BmsReadings): BatterySnapshot {
  const t = T0 + Math.round(r.timeS * 1000);
  const s = emptySnapshot(t);
  s.packVoltageV = r.packVoltageV;
  s.currentA = r.currentA;
  s.socPct = r.socPct;
  s.sohPct = r.sohPct;
  s.cellVoltagesMv = r.cellVoltageV.map((v) => v * 1000);
  s.temperaturesC = r.temperatureC;
  s.fullCapacityAh = r.fullCapacityAh;
  s.remainingCapacityAh = r.remainingAh;
  s.contactorClosed = r.contactorClosed;
  s.faults = { ...r.faults };
  return s;
}

test('equivalent full cycles within 1 % and capacity fade within 2 % of the plant after many cycles, noise on', (t) => {
  const pack = new Pack({ cells: 4, chemistry: 'nmc', seed: 7, soc: 1, cell: { ageing: { fadePerEfc: 0.001, resistanceGrowthPerEfc: 0.002 } } });
  const bms = new SimulatedBms(pack, { seed: 7, sampleIntervalS: 10 });
  const cycle = sequence([
    constantCurrent(25, { minCellV: 3.0 }),
    rest(600),
    ccCv({ currentA: 25, cellVoltageV: 4.2, cutoffA: 2.5 }),
    rest(600),
  ], 100);
  const sim = new Simulation({ pack, profile: cycle, maxStepS: 10 }).attach(bms);
  let acc = new LifecycleAccountant(accountingLimits({ chemistry: 'NMC', capacityAh: 50, nominalV: 4 * 3.7 }, { resistanceStepMs: 10_000 }));
  let restarted = false;
  let last = -1;
  while (!sim.profileDone) {
    sim.advance(10);
    const r = bms.measure();
    if (r.timeS === last) continue;
    last = r.timeS;
    acc.observe(snapshotOf(r));
    // Halfway, the board restarts: the counters come back from the summary it wrote.
    if (!restarted && pack.equivalentCycles > 50) {
      restarted = true;
      acc = new LifecycleAccountant(acc.limits, decodeSummary(encodeSummary(acc.summary()), 'summary'));
    }
  }
  const final = acc.summary().quantities;
  const truth = pack.truth();
  const efc = final.numberOfFullCycles!.value;
  t.true(truth.equivalentCycles > 80, `the plant ran ${truth.equivalentCycles} cycles`);
  t.true(Math.abs(efc / truth.equivalentCycles - 1) < 0.01, `EFC ${efc} vs truth ${truth.equivalentCycles}`);
  const capTruth = Math.min(...truth.capacityAh);
  const fadeTruth = 100 * (1 - capTruth / pack.nominalAh);
  const fade = final.capacityFade!.value;
  t.true(fadeTruth > 8, `the plant faded ${fadeTruth} %`);
  t.true(Math.abs(fade - fadeTruth) < 2, `fade ${fade} % vs truth ${fadeTruth} %`);
  t.is(final.remainingCapacity!.provenance, 'measured');
  t.is(final.capacityThroughput!.unit, 'A.h');
  const rTruth = 100 * (truth.r0Ohm.reduce((a, b) => a + b) / truth.r0NewOhm.reduce((a, b) => a + b) - 1);
  // Resistance from rest-to-load steps at 10 s sampling includes part of the RC pair, which ages alike.
  t.true(Math.abs(final.internalResistanceIncrease!.value - rTruth) < 8, `resistance increase ${final.internalResistanceIncrease!.value} % vs truth ${rTruth} %`);
  t.log(`EFC ${efc.toFixed(2)} vs ${truth.equivalentCycles.toFixed(2)}; fade ${fade.toFixed(2)} % vs ${fadeTruth.toFixed(2)} %; R +${final.internalResistanceIncrease!.value.toFixed(1)} % vs ${rTruth.toFixed(1)} %`);
});
