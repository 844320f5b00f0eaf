// The simulated BMS: what it measures, estimates and protects, against the plant's ground truth.
import test from 'ava';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { constantCurrent, rest, sequence } from '../../sim-hardware/plant/profiles.ts';
import { urbanCycle } from '../../sim-hardware/plant/drive-cycles.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';
import { SimulatedBms } from '../../sim-hardware/bms/simulated-bms.ts';

function rig(packOpts: ConstructorParameters<typeof Pack>[0], bmsOpts: ConstructorParameters<typeof SimulatedBms>[1] = {}, maxStepS = 0.5) {
  const pack = new Pack(packOpts);
  const bms = new SimulatedBms(pack, { seed: 9, ...bmsOpts });
  const sim = new Simulation({ pack, maxStepS }).attach(bms);
  return { pack, bms, sim };
}

test('readings are quantised and carry the configured noise around the truth', (t) => {
  const { pack, bms, sim } = rig({ cells: 50, soc: 0.6, seed: 2 }, { sensors: { cellVoltageNoiseV: 0.002 } }, 0.1);
  const errs: number[] = [];
  for (let k = 0; k < 40; k++) {
    sim.advance(0.1);
    const r = bms.measure();
    for (let i = 0; i < 50; i++) {
      t.is(Math.round(r.cellVoltageV[i]! * 1000), Number((r.cellVoltageV[i]! * 1000).toFixed(6)), 'a 1 mV step');
      errs.push(r.cellVoltageV[i]! - pack.vCell[i]!);
    }
  }
  const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
  const sd = Math.sqrt(errs.reduce((a, b) => a + (b - mean) ** 2, 0) / errs.length);
  // Noise 2 mV plus uniform quantisation error (1 mV / sqrt 12) in quadrature.
  t.true(Math.abs(sd - Math.sqrt(0.002 ** 2 + 0.001 ** 2 / 12)) < 0.0002, `error sd ${sd}`);
  t.true(Math.abs(mean) < 0.0002, `error mean ${mean}`);
  t.is(bms.measure().temperatureC.length, 13);
});

test('under-voltage trips after its delay, opens the contactor and the current stops', (t) => {
  const { pack, bms, sim } = rig({ cells: 4, soc: 0.08, seed: 1 });
  sim.setProfile(constantCurrent(50));
  sim.advanceUntil(() => !bms.contactorClosed, 3600);
  const r = bms.measure();
  t.true(r.faults.cellUnderVoltage);
  t.false(r.contactorClosed);
  t.false(r.dischargeEnabled);
  t.true(r.chargeEnabled, 'an under-voltage still allows charging');
  t.true(Math.min(...r.cellVoltageV) < 2.8);
  sim.advance(1);
  t.is(pack.currentA, 0, 'no current through an open contactor');
  t.is(sim.demandedA, 50, 'while the load still asks for it');
});

test('charge over-voltage blocks charging and releases with hysteresis', (t) => {
  const { pack, bms, sim } = rig({ cells: 4, soc: 0.97, seed: 1 });
  sim.setProfile(sequence([constantCurrent(-40, { durationS: 3600 }), rest()]));
  sim.advanceUntil(() => bms.faults.cellOverVoltage === true, 3600);
  t.true(bms.faults.cellOverVoltage);
  t.false(bms.measure().chargeEnabled);
  t.true(bms.measure().dischargeEnabled);
  sim.advance(1);
  t.is(pack.currentA, 0);
  t.true(pack.maxCellV > 4.15, 'relaxation alone does not reach the release threshold at once');
});

test('over-current trips within its delay and recovers after the release delay', (t) => {
  const { pack, bms, sim } = rig({ cells: 4, soc: 0.8, seed: 1 }, {}, 0.1);
  sim.setProfile(constantCurrent(200));
  const tripAfter = sim.advanceUntil(() => !bms.contactorClosed, 60, 0.1);
  t.true(tripAfter >= 2 && tripAfter < 2.5, `tripped after ${tripAfter} s (delay 2 s)`);
  t.true(bms.faults.dischargeOverCurrent);
  sim.setProfile(constantCurrent(20));
  sim.advance(29);
  t.false(bms.contactorClosed, 'still open before the 30 s release delay');
  sim.advance(2);
  t.true(bms.contactorClosed);
  sim.advance(1);
  t.true(pack.currentA === 20);
});

test('the cycle counter counts nominal capacities discharged', (t) => {
  const { bms, sim } = rig({ cells: 2, soc: 0.5, seed: 1, spread: { selfDischargePct: 0 } }, { cycles: 7 }, 5);
  sim.setProfile(sequence([constantCurrent(25, { durationS: 2880 }), constantCurrent(-25, { durationS: 2880 })], 4));
  sim.advanceUntil((s) => s.profileDone, 10 * 3600);
  // 4 x 20 Ah = 80 Ah out = 1.6 nominal capacities (plus the sensor offset of 0.03 A).
  t.is(bms.measure().cycles, 8);
});

test('a short circuit latches until the protections are reset', (t) => {
  const { bms, sim } = rig({ cells: 4, soc: 0.8, seed: 1 }, {}, 0.1);
  sim.setProfile(sequence([constantCurrent(800, { durationS: 1 }), rest()]));
  sim.advance(120);
  t.true(bms.faults.shortCircuit);
  t.false(bms.contactorClosed);
  bms.resetProtections();
  sim.advance(1);
  t.true(bms.contactorClosed);
  t.falsy(bms.faults.shortCircuit);
});

test('an over-heating cell trips over-temperature through the thermal model', (t) => {
  const { pack, bms, sim } = rig({ cells: 8, soc: 0.5, seed: 1 }, { sensors: { temperatureSensors: 8 } }, 5);
  pack.extraHeatW[3] = 20; // a neighbouring hot spot: 25 + 20 W * 3 K/W = 85 degC at steady state
  sim.advanceUntil(() => bms.faults.overTemperature === true, 4 * 3600, 5);
  t.true(bms.faults.overTemperature);
  t.false(bms.contactorClosed);
  const r = bms.measure();
  t.true(r.temperatureC[3]! > 60 && r.temperatureC[0]! < 30, `sensor 3 ${r.temperatureC[3]} degC, sensor 0 ${r.temperatureC[0]} degC`);
});

test('the SoC estimate tracks the truth through driving and rest', (t) => {
  const { pack, bms, sim } = rig({ cells: 16, soc: 0.9, seed: 4, spread: { socPct: 0.5 } }, {}, 1);
  t.true(Math.abs(bms.measure().socPct - pack.meanSoc * 100) < 3, 'initial estimate from OCV');
  sim.setProfile(sequence([urbanCycle({ repeat: 20, scale: 0.35 }), rest(1800)]));
  let worst = 0;
  sim.advanceUntil((s) => {
    worst = Math.max(worst, Math.abs(bms.measure().socPct - s.pack.meanSoc * 100));
    return s.profileDone;
  }, 10 * 3600);
  t.true(pack.meanSoc < 0.75, `drove down to ${pack.meanSoc}`);
  t.true(worst < 3, `worst SoC error ${worst} points`);
  t.true(bms.estimator.corrections >= 1, 'corrected from OCV at rest');
  t.true(Math.abs(bms.measure().socPct - pack.meanSoc * 100) < 1.5, `after rest: ${bms.measure().socPct} vs ${pack.meanSoc * 100}`);
});

test('two OCV rests across a discharge estimate the faded capacity (SoH)', (t) => {
  const { pack, bms, sim } = rig({ cells: 8, soc: 0.95, seed: 6, equivalentCycles: 1000 }, { restTimeS: 900 }, 2);
  const trueMeanAh = pack.truth().capacityAh.reduce((a, b) => a + b, 0) / 8;
  sim.setProfile(sequence([rest(1000), constantCurrent(25, { durationS: 4800 }), rest(1000)]));
  sim.advanceUntil((s) => s.profileDone, 20_000);
  t.is(bms.estimator.capacityUpdates, 1);
  const est = bms.estimator.lastCapacityEstimateAh;
  t.true(Math.abs(est - trueMeanAh) / trueMeanAh < 0.03, `estimated ${est} Ah, true mean ${trueMeanAh} Ah`);
  t.true(bms.measure().sohPct < 95, `SoH moved towards ${((est / 50) * 100).toFixed(1)} %: ${bms.measure().sohPct}`);
  t.is(bms.measure().cycles, 1000, 'cycle count starts from the pack age; 33 Ah is not yet a cycle');
});

test('passive balancing bleeds the high cells towards the low ones', (t) => {
  const { pack, sim } = rig({ cells: 6, soc: 0.96, seed: 8, spread: { socPct: 1.5, selfDischargePct: 0 } }, {}, 10);
  const spread = () => Math.max(...pack.soc) - Math.min(...pack.soc);
  const before = spread();
  sim.advance(6 * 3600);
  t.true(pack.balancing.some((b) => b === 1) || spread() < 0.005);
  t.true(spread() < before - 0.012, `SoC spread ${before} -> ${spread()}`);
});

test('losing power opens the contactor and freezes the readings', (t) => {
  const { pack, bms, sim } = rig({ cells: 4, soc: 0.5 });
  sim.setProfile(constantCurrent(10));
  sim.advance(10);
  const frozen = bms.measure();
  bms.setPowered(false);
  sim.advance(10);
  t.is(pack.currentA, 0);
  t.is(bms.measure(), frozen);
  bms.setPowered(true);
  sim.advance(1);
  t.is(pack.currentA, 10);
});

test('with every cell channel stuck, the pack-voltage protection still stops an over-charge', (t) => {
  const { pack, bms, sim } = rig({ cells: 4, soc: 0.93, seed: 1, spread: { capacityPct: 0, socPct: 0 } }, { balancing: false });
  sim.advance(1);
  for (let i = 0; i < 4; i++) bms.sensorFaults.cellStuckV[i] = bms.measure().cellVoltageV[i]!;
  sim.setProfile(constantCurrent(-25));
  sim.advanceUntil(() => !bms.contactorClosed, 3 * 3600);
  t.true(bms.faults.packOverVoltage);
  t.falsy(bms.faults.cellOverVoltage, 'the stuck channels saw nothing');
  t.true(pack.packVoltageV / 4 > 4.2 && pack.maxCellV < 4.35, `stopped at ${pack.maxCellV} V per cell`);
});
