// Fault specs from the command line schedule the faults they name.
import test from 'ava';
import { parseFaultSpec } from '../../sim-hardware/fault-spec.ts';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { SimulatedBms } from '../../sim-hardware/bms/simulated-bms.ts';
import { FaultInjector } from '../../sim-hardware/faults.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';

test('specs parse to scheduled faults, cells numbered from 1', (t) => {
  t.deepEqual(parseFaultSpec('internalShort:cell=3,ohms=10@600'), { fault: { kind: 'internalShort', cell: 2, ohms: 10 }, at: 600, durationS: undefined });
  t.deepEqual(parseFaultSpec('powerLoss@60+30'), { fault: { kind: 'powerLoss' }, at: 60, durationS: 30 });
  t.deepEqual(parseFaultSpec('serialNoise:byteErrorRate=0.01'), { fault: { kind: 'serialNoise', byteErrorRate: 0.01 }, at: 0, durationS: undefined });
});

test('a parsed fault acts on the simulation', (t) => {
  const pack = new Pack({ cells: 4 });
  const bms = new SimulatedBms(pack);
  const faults = new FaultInjector({ bms });
  const sim = new Simulation({ pack }).attach(bms).attach(faults);
  faults.schedule(parseFaultSpec('cellHeat:cell=4,watts=5@10+20'));
  sim.advance(15);
  t.is(pack.extraHeatW[3], 5);
  sim.advance(20);
  t.is(pack.extraHeatW[3], 0);
});

test('bad specs say what is wrong', (t) => {
  t.throws(() => parseFaultSpec('meltdown'), { message: /unknown kind 'meltdown'; known: cellSensorDrift/ });
  t.throws(() => parseFaultSpec('internalShort:cell=3'), { message: /needs cell=, ohms=/ });
  t.throws(() => parseFaultSpec('openWire:cell=2,volts=3'), { message: /'volts=3' is not one of openWire's parameters \(cell\)/ });
  t.throws(() => parseFaultSpec('ambient:celsius=hot'), { message: /not a number/ });
  t.throws(() => parseFaultSpec('powerLoss@soon'), { message: /write <kind>/ });
});

test('insulationFault lowers the plant insulation for its duration, then restores it', (t) => {
  const f = parseFaultSpec('insulationFault:ohms=50000@1+2');
  t.deepEqual(f, { fault: { kind: 'insulationFault', ohms: 50000 }, at: 1, durationS: 2 });
  const pack = new Pack({ cells: 4, chemistry: 'nmc', seed: 1 });
  const sim = new Simulation({ pack, maxStepS: 0.5 });
  sim.attach(new FaultInjector().schedule(f));
  t.is(pack.insulationOhm, 5e6, 'healthy by default: 5 MOhm');
  sim.advance(1.5);
  t.is(pack.insulationOhm, 50000);
  sim.advance(2);
  t.is(pack.insulationOhm, 5e6);
  t.throws(() => parseFaultSpec('insulationFault'), { message: /insulationFault needs ohms=/ });
});
