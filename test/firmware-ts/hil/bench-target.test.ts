// The bench target with real I/O: the simulator stands in for the bench hardware behind the same
// interfaces a real one has, an slcan USB-CAN adapter on a pty for the BMS and an electronic load
// answering SCPI on a TCP socket, both in real time. The runner cannot tell it from a bench.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../hal/clock.ts';
import { startSimRig } from '../../../sim-hardware/sim-rig.ts';
import { SimulatedScpiInstrument } from '../../../sim-hardware/scpi/scpi-instrument.ts';
import { serveScpiTcp } from '../../../sim-hardware/scpi/scpi-server.ts';
import { InstrumentLoad } from '../../../sim-hardware/scpi/instrument-load.ts';
import { parseScenario } from '../../../firmware-ts/hil/scenario.ts';
import { prepareBench } from '../../../firmware-ts/hil/bench-target.ts';
import { runScenarios } from '../../../firmware-ts/hil/hil-runner.ts';

const BENCH_SCENARIO = `name: load step on the bench
description: an electronic load draws 40 A from 1 s
setup:
  durationS: 6
  pack: { cells: 8 }
  config:
    sampler: { periodMs: 250 }
  instruments:
    load: { kind: eload }
timeline:
  - at: 1
    scpi: { instrument: load, send: ["FUNC CURR", "CURR 40", "INP ON", "MEAS:CURR?"] }
expect:
  - { kind: range, signal: currentA, min: 38, max: 42, from: 3 }
  - { kind: range, signal: currentA, min: -1, max: 1, to: 0.9 }
  - { kind: noEvent, type: fault-raised }
  - { kind: noGap, maxS: 2, from: 1 }
  - { kind: ledgerVerifies }
`;

const SIM_ONLY = `name: needs the simulator
description: a fault cannot be injected into real hardware
setup:
  durationS: 5
timeline:
  - { at: 1, fault: "powerLoss" }
expect:
  - { kind: ledgerVerifies }
`;

test('a scenario runs on a bench (slcan adapter + SCPI load over TCP) in real time; simulator-only scenarios are skipped with the reason', async (t) => {
  const rig = await startSimRig({ bms: 'voltrail', cells: 8, slcanPty: true, clock: systemClock, maxStepS: 0.05, seed: 5 });
  const load = new SimulatedScpiInstrument({ kind: 'eload', pack: rig.pack, maxCurrentA: 200 });
  rig.sim.setProfile(new InstrumentLoad([load], 0.05));
  const server = await serveScpiTcp(load);
  const ac = new AbortController();
  const running = rig.sim.run({ clock: systemClock, speed: 1, tickMs: 20, signal: ac.signal });
  const workDir = await mkdtemp(join(tmpdir(), 'vt-hil-bench-'));
  t.teardown(async () => {
    ac.abort();
    await running;
    await server.close();
    await rig.close();
    await rm(workDir, { recursive: true, force: true });
  });
  const scenarios = [parseScenario(BENCH_SCENARIO, 'bench.yaml'), parseScenario(SIM_ONLY, 'sim-only.yaml')];
  const bench = await prepareBench({ can: `slcan:${rig.slcanPty}@500000`, scpi: [`load=tcp:${server.host}:${server.port}`] }, scenarios);
  t.teardown(() => bench.close());
  t.is(bench.bms.driver, 'voltrail-can');
  const [onBench, skipped] = await runScenarios(scenarios, { target: bench.run, targetName: 'bench', workDir, skip: bench.skip });
  const why = onBench!.message ?? onBench!.expectations.filter((e) => !e.ok).map((e) => e.message).join('; ');
  t.is(onBench!.status, 'passed', why);
  t.true(onBench!.recording!.log.some((l) => /load <- MEAS:CURR\? -> \d+\.\d+/.test(l.text)), 'the instrument answered the query');
  t.is(skipped!.status, 'skipped');
  t.regex(skipped!.message!, /sim-only\.yaml:\d+: timeline\.0: injected faults need the simulator/);
  // The bench is left safe: the load's input is off after the run.
  t.false(load.state.output);
});
