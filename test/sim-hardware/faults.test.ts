// Fault injection: each fault shows up where it would on real hardware.
import test from 'ava';
import { ManualClock } from '../../hal/clock.ts';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { constantCurrent, rest } from '../../sim-hardware/plant/profiles.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';
import { SimulatedBms } from '../../sim-hardware/bms/simulated-bms.ts';
import { FaultInjector } from '../../sim-hardware/faults.ts';

function rig(cells = 6, soc = 0.6) {
  const pack = new Pack({ cells, soc, seed: 3, spread: { selfDischargePct: 0 } });
  const bms = new SimulatedBms(pack, { seed: 3, balancing: false });
  const clock = new ManualClock();
  const faults = new FaultInjector({ bms, clock, seed: 3 });
  const sim = new Simulation({ pack, maxStepS: 1 }).attach(bms).attach(faults);
  return { pack, bms, clock, faults, sim };
}

test('an internal short makes one cell self-discharge far faster than its neighbours', (t) => {
  const { pack, faults, sim } = rig();
  sim.setProfile(rest());
  faults.schedule({ at: 60, fault: { kind: 'internalShort', cell: 2, ohms: 10 } });
  const before = pack.truth().cellSoc;
  sim.advance(10 * 3600 + 60);
  const after = pack.truth().cellSoc;
  const lost = (i: number) => (before[i]! - after[i]!) * pack.cap[i]!;
  // ~3.7 V / 10 ohm for 10 h = ~3.7 Ah (less as the cell's voltage falls).
  t.true(lost(2) > 3.3 && lost(2) < 3.8, `shorted cell lost ${lost(2)} Ah`);
  t.true(lost(1) < 0.2, `neighbour lost ${lost(1)} Ah`);
  t.true(pack.heatW[2]! > 1, 'the short heats the cell');
});

test('a timed fault starts and clears on schedule and logs both', (t) => {
  const { pack, faults, sim } = rig();
  faults.schedule({ at: 100, durationS: 600, fault: { kind: 'cellHeat', cell: 0, watts: 10 } });
  sim.advance(99);
  t.is(pack.extraHeatW[0], 0);
  sim.advance(2);
  t.is(pack.extraHeatW[0], 10);
  sim.advance(600);
  t.is(pack.extraHeatW[0], 0);
  t.deepEqual(faults.log.map((e) => [e.event, Math.round(e.timeS)]), [['start', 100], ['clear', 700]]);
  t.true(pack.tempC[0]! > pack.tempC[1]! + 2, 'cell 0 warmed while heated');
});

test('a triggered power loss opens the contactor; power back, the BMS boots and closes it', (t) => {
  const { pack, bms, faults, sim } = rig(4, 0.6);
  sim.setProfile(constantCurrent(50));
  faults.schedule({ when: (s) => s.pack.meanSoc < 0.5, durationS: 30, fault: { kind: 'powerLoss' } });
  sim.advanceUntil(() => !bms.powered, 3600);
  t.true(pack.meanSoc < 0.5 && pack.meanSoc > 0.49);
  sim.advance(1);
  t.is(pack.currentA, 0);
  sim.advance(31);
  t.true(bms.powered);
  t.is(pack.currentA, 50);
});

test('a welded contactor keeps conducting when the BMS opens it and raises a latched contactorFault', (t) => {
  const { pack, bms, faults, sim } = rig(4, 0.6);
  sim.setProfile(constantCurrent(50));
  faults.schedule({ at: 5, fault: { kind: 'contactorWeld' } });
  sim.advance(10);
  // Welded but commanded closed: nothing to see yet.
  t.true(bms.contactorClosed);
  t.falsy(bms.measure().faults.contactorFault);
  // The BMS opens it (a protection trips); the current keeps flowing, the aux contact disagrees.
  faults.inject({ kind: 'tempSensorOffset', sensor: 0, offsetC: 40 }, sim);
  sim.advance(5);
  t.false(bms.contactorClosed);
  t.true(bms.measure().faults.overTemperature);
  t.true(bms.measure().faults.contactorFault);
  t.is(pack.currentA, 50);
  t.false(bms.measure().chargeEnabled || bms.measure().dischargeEnabled);
  // Latched: it stays after the trigger is gone, until reset.
  sim.advance(60);
  t.true(bms.measure().faults.contactorFault);
});

test('without a weld, an opened contactor stops the current and raises no contactorFault', (t) => {
  const { pack, bms, faults, sim } = rig(4, 0.6);
  sim.setProfile(constantCurrent(50));
  faults.schedule({ at: 5, fault: { kind: 'tempSensorOffset', sensor: 0, offsetC: 40 } });
  sim.advance(15);
  t.false(bms.contactorClosed);
  t.is(pack.currentA, 0);
  t.falsy(bms.measure().faults.contactorFault);
});

test('an open sense wire reads zero on one cell and double on the next, and trips under-voltage', (t) => {
  const { bms, faults, sim } = rig();
  faults.schedule({ at: 5, fault: { kind: 'openWire', cell: 2 } });
  sim.advance(10);
  const r = bms.measure();
  t.true(r.cellVoltageV[2]! < 0.01);
  t.true(r.cellVoltageV[3]! > 7, `cell 3 reads ${r.cellVoltageV[3]} V`);
  t.true(r.faults.cellUnderVoltage);
  t.false(bms.contactorClosed);
});

test('sensor drift grows with time; an open thermistor reads -40 and flags a sensor failure; a stuck one freezes', (t) => {
  const { pack, bms, faults, sim } = rig();
  faults.schedule({ at: 0, fault: { kind: 'cellSensorDrift', cell: 1, vPerHour: 0.05 } });
  faults.schedule({ at: 3000, fault: { kind: 'tempSensorOpen', sensor: 0 } });
  faults.schedule({ at: 0, fault: { kind: 'tempSensorStuck', sensor: 1 } });
  sim.setProfile(constantCurrent(40, { durationS: 1800 }));
  sim.advance(1800);
  t.true(pack.tempC[5]! > 27, `the cells warmed to ${pack.tempC[5]} degC`);
  t.true(bms.measure().temperatureC[1]! < 25.6, `stuck sensor still reads ${bms.measure().temperatureC[1]}`);
  sim.advance(1800);
  const r = bms.measure();
  const err = r.cellVoltageV[1]! - pack.vCell[1]!;
  t.true(Math.abs(err - 0.05) < 0.004, `drift after 1 h: ${err} V`);
  t.is(r.temperatureC[0], -40);
  t.true(r.faults.sensorFailure);
  t.true(r.faults.underTemperature, 'and, as on a real board, it reads as a cold pack');
});

test('a clock jump moves wall time only; serial and CAN faults set the state the faces read', (t) => {
  const { clock, faults, sim } = rig();
  const wall = clock.now();
  const mono = clock.monotonic();
  faults.schedule({ at: 1, fault: { kind: 'clockJump', ms: -3_600_000 } });
  faults.schedule({ at: 1, durationS: 5, fault: { kind: 'serialDisconnect' } });
  faults.schedule({ at: 1, fault: { kind: 'serialNoise', byteErrorRate: 0.1 } });
  faults.schedule({ at: 1, durationS: 2, fault: { kind: 'canBusOff' } });
  faults.schedule({ at: 1, fault: { kind: 'canFrameLoss', probability: 0.5 } });
  sim.advance(2);
  t.is(clock.now(), wall - 3_600_000);
  t.is(clock.monotonic(), mono);
  t.true(faults.serial.disconnected);
  t.is(faults.serial.byteErrorRate, 0.1);
  t.is(faults.can.frameLossProbability, 0.5);
  t.true(faults.can.busOff);
  sim.advance(5);
  t.false(faults.serial.disconnected);
  t.false(faults.can.busOff);
});

test('a cell pushed up in charge trips over-voltage while charging', (t) => {
  const { bms, faults, sim } = rig(6, 0.9);
  faults.schedule({ at: 1, fault: { kind: 'cellCharge', cell: 4, deltaSoc: 0.12 } });
  sim.setProfile(constantCurrent(-25));
  sim.advanceUntil(() => bms.faults.cellOverVoltage === true, 3600);
  t.true(bms.faults.cellOverVoltage);
  const r = bms.measure();
  t.is(r.cellVoltageV.indexOf(Math.max(...r.cellVoltageV)), 4);
  t.true(r.cellVoltageV[0]! < 4.2);
});

test('bad faults are refused with the field named', (t) => {
  const { faults, sim } = rig();
  t.throws(() => faults.inject({ kind: 'openWire', cell: 6 }, sim), { instanceOf: RangeError, message: /cell index must be 0..5 \(cells 1..6\)/ });
  t.throws(() => faults.schedule({ fault: { kind: 'powerLoss' } }), { instanceOf: TypeError, message: /at/ });
  t.throws(() => new FaultInjector().inject({ kind: 'powerLoss' }, sim), { instanceOf: TypeError, message: /without a BMS/ });
});
