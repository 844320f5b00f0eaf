// Simulated bench instruments acting on the plant: an electronic load draws its set current from
// the pack, a supply charges it in CV/CC, and with nothing on the base profile runs.
import test from 'ava';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';
import { parseProfile } from '../../sim-hardware/plant/profile-spec.ts';
import { SimulatedScpiInstrument } from '../../sim-hardware/scpi/scpi-instrument.ts';
import { InstrumentLoad } from '../../sim-hardware/scpi/instrument-load.ts';

function bench() {
  const pack = new Pack({ cells: 16, chemistry: 'nmc', seed: 1, soc: 0.5 });
  const load = new SimulatedScpiInstrument({ kind: 'eload', pack, maxCurrentA: 500 });
  const psu = new SimulatedScpiInstrument({ kind: 'psu', pack, maxCurrentA: 100, maxVoltageV: 100 });
  const instruments = new InstrumentLoad([load, psu], 0.1);
  const sim = new Simulation({ pack, profile: instruments, maxStepS: 0.1 });
  return { pack, load, psu, instruments, sim };
}

test('an electronic load in CC mode draws its set current out of the pack; off, the pack rests', (t) => {
  const { pack, load, sim } = bench();
  for (const c of ['FUNC CURR', 'CURR 100', 'INP ON']) load.handle(c);
  sim.advance(10);
  t.true(Math.abs(pack.currentA - 100) < 1e-9, `current ${pack.currentA}`);
  t.is(load.handle('MEAS:CURR?'), '100.0000');
  load.handle('INP OFF');
  sim.advance(1);
  t.is(pack.currentA, 0);
  t.is(load.handle('MEAS:CURR?'), '0.0000');
});

test('CP and CR modes: power and resistance set the current from the pack voltage', (t) => {
  const { pack, load, sim } = bench();
  load.handle('FUNC POW;POW 5000;INP ON');
  sim.advance(5);
  t.true(Math.abs(pack.currentA * pack.packVoltageV - 5000) < 60, `P = ${pack.currentA * pack.packVoltageV}`);
  load.handle('FUNC RES;RES 1');
  sim.advance(5);
  t.true(Math.abs(pack.currentA - pack.packVoltageV) < 1, `I = ${pack.currentA}, V = ${pack.packVoltageV}`);
});

test('a supply charges at its current limit, then holds its voltage as the current tapers', (t) => {
  const { pack, psu, sim } = bench();
  psu.handle('VOLT 62;CURR 25;OUTP ON');
  sim.advance(5);
  t.true(Math.abs(pack.currentA + 25) < 1e-6, `CC phase: ${pack.currentA}`);
  sim.advance(3000);
  t.true(pack.currentA > -20 && pack.currentA < 0, `CV phase tapers: ${pack.currentA}`);
  t.true(Math.abs(pack.packVoltageV - 62) < 0.05, `held at ${pack.packVoltageV}`);
  // A supply only sources: set below the pack, it gives nothing (and takes nothing).
  psu.handle('VOLT 50');
  sim.advance(1);
  t.is(pack.currentA, 0);
});

test('with both on, the current is the load less what the supply gives; with none on, the base profile runs', (t) => {
  const { pack, load, psu, instruments, sim } = bench();
  instruments.setBase(parseProfile('cc:30', pack));
  sim.advance(2);
  t.true(Math.abs(pack.currentA - 30) < 1e-9);
  load.handle('CURR 100;INP ON');
  psu.handle('VOLT 80;CURR 40;OUTP ON');
  sim.advance(2);
  t.true(Math.abs(pack.currentA - 60) < 1e-6, `net ${pack.currentA}`);
});
