// Profile specs from the command line produce the profiles they name.
import test from 'ava';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { parseProfile } from '../../sim-hardware/plant/profile-spec.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';

test('cc, rest and cccv in sequence: currents and durations as written', (t) => {
  const pack = new Pack({ cells: 4, soc: 0.7, seed: 1 });
  const sim = new Simulation({ pack, profile: parseProfile('cc:25@600,rest@300,cccv:20', pack), maxStepS: 5 });
  sim.advance(300);
  t.is(pack.currentA, 25);
  sim.advance(500);
  t.is(pack.currentA, 0);
  sim.advance(200);
  t.is(pack.currentA, -20);
  sim.advanceUntil((s) => s.profileDone, 20 * 3600);
  t.true(pack.maxCellV > 4.1, 'charged up to the CV voltage');
  t.true(Math.abs(pack.ahDischarged - 25 / 6) < 1e-9);
});

test('urban is sized to the pack and cp solves for current', (t) => {
  const pack = new Pack({ cells: 48, soc: 0.8, seed: 1 });
  const sim = new Simulation({ pack, profile: parseProfile('urban', pack), maxStepS: 1 });
  let peak = 0;
  sim.advanceUntil((s) => {
    peak = Math.max(peak, s.pack.currentA * s.pack.packVoltageV);
    return s.profileDone;
  }, 400);
  t.true(peak > 4000 && peak < 12000, `half a car's cycle on 48 cells: peak ${peak} W`);
  const cp = new Simulation({ pack, profile: parseProfile('cp:1500@10', pack), maxStepS: 1 });
  cp.advance(5);
  t.true(Math.abs(pack.currentA * pack.packVoltageV - 1500) < 2);
});

test('bad specs name the part and what is allowed', (t) => {
  const pack = new Pack({ cells: 2 });
  t.throws(() => parseProfile('cc:10,warp:9', pack), { instanceOf: RangeError, message: /part 2 'warp:9': expected rest, cc/ });
  t.throws(() => parseProfile('cc', pack), { instanceOf: RangeError, message: /cc needs a value/ });
  t.throws(() => parseProfile('cccv:-3', pack), { instanceOf: RangeError, message: /must be positive/ });
  t.throws(() => parseProfile('', pack), { instanceOf: RangeError, message: /empty/ });
});
