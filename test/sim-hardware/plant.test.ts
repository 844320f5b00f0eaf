// Physics of the plant, checked against quantities computed independently of the model's
// parameters where possible: integrals of the drive table, energy balance, capacity measured by
// discharging to cut-off.
import test from 'ava';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { ccCv, constantCurrent, constantPower, driveCycle, rest, sequence } from '../../sim-hardware/plant/profiles.ts';
import { urbanCycle } from '../../sim-hardware/plant/drive-cycles.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';

const quiet = { selfDischargePct: 0, capacityPct: 0, resistancePct: 0 };

test('charge throughput equals the integral of the current table, in the counters and in every cell', (t) => {
  // A piecewise-linear current table (A): its exact integral is the trapezoid sum.
  const table: [number, number][] = [[0, 0], [60, 80], [120, 80], [150, -60], [240, -20], [300, 40], [400, 0]];
  let exactAs = 0;
  let outAs = 0;
  for (let k = 1; k < table.length; k++) {
    const [t0, a0] = table[k - 1]!;
    const [t1, a1] = table[k]!;
    exactAs += ((a0 + a1) / 2) * (t1 - t0);
    // Discharged part: integrate max(i, 0) on a fine grid (the table crosses zero mid-segment).
    for (let s = 0; s < 1000; s++) {
      const u = (s + 0.5) / 1000;
      outAs += Math.max(0, a0 + (a1 - a0) * u) * ((t1 - t0) / 1000);
    }
  }
  const pack = new Pack({ cells: 3, soc: 0.6, spread: { ...quiet, capacityPct: 2 }, seed: 7 });
  const soc0 = pack.truth().cellSoc;
  const sim = new Simulation({ pack, profile: driveCycle(table, { kind: 'current' }), maxStepS: 0.05 });
  sim.advance(400);
  const truth = pack.truth();
  const netAh = truth.ahDischarged - truth.ahCharged;
  t.true(Math.abs(netAh - exactAs / 3600) < 1e-3 * (outAs / 3600), `net ${netAh} Ah vs table integral ${exactAs / 3600} Ah`);
  t.true(Math.abs(truth.ahDischarged - outAs / 3600) / (outAs / 3600) < 2e-3, `out ${truth.ahDischarged} vs ${outAs / 3600}`);
  for (let i = 0; i < 3; i++) {
    const drawnAh = (soc0[i]! - truth.cellSoc[i]!) * truth.capacityAh[i]!;
    t.true(Math.abs(drawnAh - netAh) < 1e-3, `cell ${i}: SoC moved by ${drawnAh} Ah, pack counted ${netAh} Ah`);
  }
});

test('a current step shows the R0 jump, then relaxes with the RC time constant (63 % at tau)', (t) => {
  const pack = new Pack({ cells: 1, soc: 0.5, spread: quiet, cell: { resistanceActivationK: 0 } });
  const p = pack.params;
  const tau = p.r1Ohm * p.c1F;
  const i = 50;
  const sim = new Simulation({ pack, profile: sequence([constantCurrent(i, { durationS: 15 * tau }), rest()]), maxStepS: 0.01 });
  sim.advance(15 * tau);
  const vLoaded = pack.packVoltageV;
  sim.advance(0.01); // first step at rest
  const vJump = pack.packVoltageV;
  // Jump measured at 10 ms: the RC part has moved by (1 - e^(-0.01/tau)) of i*R1, tiny but known.
  const rcDuringJump = i * p.r1Ohm * (1 - Math.exp(-0.01 / tau));
  const r0Measured = (vJump - vLoaded - rcDuringJump) / i;
  t.true(Math.abs(r0Measured - pack.r0(0)) / pack.r0(0) < 0.01, `R0 from the jump ${r0Measured} vs ${pack.r0(0)}`);
  // Then find when the relaxation reaches 63.2 % of its total.
  const trace: [number, number][] = [[0.01, vJump]];
  for (let k = 0; k < 12 * tau * 10; k++) {
    sim.advance(0.1);
    trace.push([0.01 + (k + 1) * 0.1, pack.packVoltageV]);
  }
  const vFinal = trace[trace.length - 1]![1];
  const v0 = vLoaded + i * pack.r0(0); // RC part starts at the instant of the jump
  const level = v0 + (1 - Math.exp(-1)) * (vFinal - v0);
  const idx = trace.findIndex(([, v]) => v >= level);
  const [ta, va] = trace[idx - 1]!;
  const [tb, vb] = trace[idx]!;
  const tauMeasured = ta + ((level - va) * (tb - ta)) / (vb - va);
  t.true(Math.abs(tauMeasured - tau) / tau < 0.01, `tau measured ${tauMeasured} s, R1*C1 = ${tau} s`);
  t.true(Math.abs(vFinal - v0 - i * p.r1Ohm) < 2e-4, `RC part ${vFinal - v0} V vs i*R1 ${i * p.r1Ohm} V`);
});

test('exact integration: the result does not depend on the step size', (t) => {
  const run = (dt: number) => {
    const pack = new Pack({ cells: 4, chemistry: 'lfp', soc: 0.8, seed: 3 });
    const sim = new Simulation({ pack, profile: sequence([constantCurrent(60, { durationS: 600 }), rest(600)]), maxStepS: dt });
    sim.advance(300);
    const mid = pack.truth();
    sim.advance(900);
    return [mid, pack.truth()];
  };
  const fine = run(0.25);
  const coarse = run(30);
  for (let k = 0; k < 2; k++) {
    for (let i = 0; i < 4; i++) {
      t.true(Math.abs(fine[k]!.cellVoltageV[i]! - coarse[k]!.cellVoltageV[i]!) < 5e-4, `cell ${i} voltage, dt 0.25 s vs 30 s`);
      t.true(Math.abs(fine[k]!.cellTemperatureC[i]! - coarse[k]!.cellTemperatureC[i]!) < 0.02, `cell ${i} temperature`);
      t.true(Math.abs(fine[k]!.cellSoc[i]! - coarse[k]!.cellSoc[i]!) < 1e-6, `cell ${i} SoC (ageing moves capacity between steps: 1e-6 = 50 uAh)`);
    }
  }
});

test('temperature settles where the heat generated equals the heat removed', (t) => {
  // A very large cell so the SoC (and OCV) barely move over 8 thermal time constants.
  const pack = new Pack({ cells: 1, soc: 0.7, ambientC: 20, spread: quiet, cell: { capacityAh: 5000 } });
  const p = pack.params;
  const tauTh = p.heatCapacityJPerK * p.thermalResistanceKPerW;
  const i = 60;
  const sim = new Simulation({ pack, profile: constantCurrent(i), maxStepS: 5 });
  sim.advance(10 * tauTh);
  const truth = pack.truth();
  // Heat generated, measured at the terminals: current times the voltage lost below OCV.
  const generatedW = i * (truth.cellOcvV[0]! - truth.cellVoltageV[0]!);
  const removedW = (truth.cellTemperatureC[0]! - 20) / p.thermalResistanceKPerW;
  t.true(truth.cellTemperatureC[0]! > 25, 'the cell warmed up');
  t.true(Math.abs(generatedW - removedW) / generatedW < 0.005, `generated ${generatedW} W, removed ${removedW} W`);
  // Warm resistance is lower than at the 25 degC reference (Arrhenius): the rise is self-limiting.
  t.true(truth.r0Ohm[0]! < p.r0Ohm);
});

function capacityByDischarge(pack: Pack, currentA: number, cutoffV: number): number {
  const sim = new Simulation({ pack, profile: constantCurrent(currentA, { minCellV: cutoffV }), maxStepS: 5 });
  sim.advanceUntil((s) => s.profileDone, 100 * 3600);
  return pack.ahDischarged;
}

test("an aged pack's capacity measured by a full CC discharge falls by the configured fade", (t) => {
  const fadePerEfc = 0.0002;
  const efc = 1000; // configured fade: 20 %
  const mk = (age: number) =>
    new Pack({ cells: 4, soc: 1, seed: 11, equivalentCycles: age, spread: { selfDischargePct: 0 }, cell: { ageing: { fadePerEfc, resistanceGrowthPerEfc: 0.0004, activationK: 3500, refTempC: 25 } } });
  const fresh = capacityByDischarge(mk(0), 5, 3.0);
  const aged = capacityByDischarge(mk(efc), 5, 3.0);
  const fade = 1 - aged / fresh;
  t.true(fresh > 45 && fresh < 52, `fresh capacity ${fresh} Ah`);
  t.true(Math.abs(fade - fadePerEfc * efc) < 0.01, `measured fade ${(fade * 100).toFixed(2)} %, configured 20 %`);
});

test('cycling ages the cells, faster when hot (Arrhenius)', (t) => {
  const cycle = (ambientC: number) => {
    const pack = new Pack({ cells: 1, soc: 0.9, ambientC, spread: quiet });
    const sim = new Simulation({ pack, profile: sequence([constantCurrent(50, { durationS: 2880 }), constantCurrent(-50, { durationS: 2880 })], 10), maxStepS: 10 });
    sim.advanceUntil((s) => s.profileDone, 1e6);
    const truth = pack.truth();
    return { fade: 1 - truth.capacityAh[0]! / truth.capacityNewAh[0]!, growth: truth.r0Ohm[0]! / truth.r0NewOhm[0]! - 1, efc: truth.equivalentCycles };
  };
  const mild = cycle(25);
  const hot = cycle(45);
  t.true(Math.abs(mild.efc - 8) < 0.01, `10 cycles of 80 % depth = 8 EFC, got ${mild.efc}`);
  t.true(mild.fade > 0 && mild.growth > 0);
  t.true(hot.fade > 1.5 * mild.fade, `45 degC fade ${hot.fade} vs 25 degC ${mild.fade}`);
});

test('calendar ageing: a year on the shelf fades by the daily rate, twice as fast at 45 degC as at 25 degC', (t) => {
  const shelf = (ambientC: number) => {
    const pack = new Pack({ cells: 1, soc: 0.5, ambientC, spread: quiet });
    new Simulation({ pack, profile: rest(), maxStepS: 3600 }).advance(365 * 86_400);
    const truth = pack.truth();
    return 1 - truth.capacityAh[0]! / truth.capacityNewAh[0]!;
  };
  const cool = shelf(25);
  const hot = shelf(45);
  const a = new Pack({ cells: 1 }).params.ageing;
  t.true(Math.abs(cool - a.calendarFadePerDay * 365) < 1e-4, `25 degC: ${cool}`);
  const arrhenius = Math.exp(a.activationK * (1 / 298.15 - 1 / 318.15));
  t.true(Math.abs(hot / cool - arrhenius) < 0.01, `hot/cool ${hot / cool} vs Arrhenius ${arrhenius}`);
});

test('constant power draws p = v * i at every step, CC-CV tapers to its cut-off at the CV voltage', (t) => {
  const pack = new Pack({ cells: 12, soc: 0.8, seed: 5 });
  const sim = new Simulation({ pack, profile: constantPower(2000, { durationS: 600 }), maxStepS: 2 });
  for (let k = 0; k < 100; k++) {
    sim.advance(2);
    const p = pack.currentA * pack.packVoltageV;
    t.true(Math.abs(p - 2000) < 2, `step ${k}: ${p} W`);
  }
  sim.setProfile(ccCv({ currentA: 25, cellVoltageV: 4.15, cutoffA: 2.5 }));
  let sawCv = false;
  sim.advanceUntil((s) => {
    if (s.pack.currentA > -24.9 && s.pack.currentA < -2.5) sawCv = true;
    return s.profileDone;
  }, 10 * 3600, 5);
  t.true(sawCv, 'the current tapered');
  t.true(sim.profileDone);
  t.true(Math.abs(pack.packVoltageV / 12 - 4.15) < 0.005, `ended at ${pack.packVoltageV / 12} V/cell`);
  t.true(pack.meanSoc > 0.93, `charged to ${pack.meanSoc}`);
});

test('LFP rests above OCV after charging and below after discharging (hysteresis)', (t) => {
  const restV = (charge: boolean) => {
    const pack = new Pack({ cells: 1, chemistry: 'lfp', soc: charge ? 0.4 : 0.6, spread: quiet });
    const sim = new Simulation({ pack, profile: sequence([constantCurrent(charge ? -25 : 25, { durationS: 720 }), rest()]), maxStepS: 5 });
    sim.advance(720 + 3600);
    return pack.packVoltageV - pack.ocv(0);
  };
  const up = restV(true);
  const down = restV(false);
  t.true(up > 0.01 && down < -0.01, `after charge +${up} V, after discharge ${down} V`);
});

test('same seed, same traces; another seed, another spread', (t) => {
  const trace = (seed: number) => {
    const pack = new Pack({ cells: 20, soc: 0.9, seed, spread: { socPct: 1 } });
    const sim = new Simulation({ pack, profile: urbanCycle({ repeat: 3, scale: 2 }), maxStepS: 1 });
    const out: number[] = [];
    for (let k = 0; k < 600; k++) {
      sim.advance(1);
      out.push(...pack.vCell);
    }
    return { out, cap: Array.from(pack.capNew) };
  };
  const a = trace(42);
  const b = trace(42);
  const c = trace(43);
  t.deepEqual(a.out, b.out);
  t.notDeepEqual(a.cap, c.cap);
  t.notDeepEqual(a.out, c.out);
});

test('the urban cycle is a power trace with regeneration that a 96s pack follows', (t) => {
  const pack = new Pack({ cells: 96, soc: 0.8, seed: 1 });
  const sim = new Simulation({ pack, profile: urbanCycle(), maxStepS: 1 });
  let minI = 0;
  let maxP = 0;
  sim.advanceUntil((s) => {
    minI = Math.min(minI, s.pack.currentA);
    maxP = Math.max(maxP, s.pack.currentA * s.pack.packVoltageV);
    return s.profileDone;
  }, 1000);
  t.true(sim.timeS >= 195 && sim.timeS <= 196, `ran ${sim.timeS} s`);
  t.true(minI < 0, 'braking charges the pack');
  t.true(maxP > 8000 && maxP < 25000, `peak ${maxP} W`);
  t.true(pack.ahDischarged > pack.ahCharged);
});

test('bad options are refused with the field named', (t) => {
  t.throws(() => new Pack({ cells: 0 }), { instanceOf: RangeError, message: /cells/ });
  t.throws(() => new Pack({ cells: 2.5 }), { instanceOf: TypeError, message: /cells/ });
  t.throws(() => new Pack({ cells: 2, cell: { r0Ohm: -1 } }), { instanceOf: RangeError, message: /r0Ohm/ });
  t.throws(() => new Pack({ cells: 2, soc: 2 }), { instanceOf: RangeError, message: /soc/ });
  t.throws(() => driveCycle([[0, 1], [0, 2]], { kind: 'current' }), { instanceOf: RangeError, message: /increase/ });
  t.throws(() => new Pack({ cells: 1 }).step(-1, 0), { instanceOf: RangeError, message: /dt/ });
});

test('run() ties simulated time to a clock, speed times faster', async (t) => {
  const { ManualClock } = await import('../../hal/clock.ts');
  const clock = new ManualClock();
  const pack = new Pack({ cells: 2 });
  const sim = new Simulation({ pack, profile: constantCurrent(10), maxStepS: 1 });
  const ac = new AbortController();
  let ticks = 0;
  const running = sim.run({ clock, speed: 60, tickMs: 100, signal: ac.signal, onTick: () => ticks++ });
  for (let k = 0; k < 10; k++) {
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
  }
  ac.abort();
  await running;
  t.is(ticks, 10);
  t.true(Math.abs(sim.timeS - 60) < 1e-9, `1 s of clock at speed 60 = 60 s simulated, got ${sim.timeS}`);
  t.true(Math.abs(pack.ahDischarged - 10 / 60) < 1e-9);
});
