// The sim target's real-time UART mode: a Daly BMS on a pty read by voltrail's Daly driver
// (the library's serial scenarios use JBD), and what that mode refuses. A few seconds of wall time.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '../../../firmware-ts/hil/scenario.ts';
import { runScenarios } from '../../../firmware-ts/hil/hil-runner.ts';
import { runOnSim } from '../../../firmware-ts/hil/sim-target.ts';
import { UserError } from '../../../firmware-ts/cli/errors.ts';

const daly = `name: daly cable pulled
setup:
  seed: 7
  durationS: 4
  bms: { profile: daly }
  config:
    sampler: { periodMs: 200 }
    health: { staleMarginFactor: 5 }
timeline:
  - { at: 1, fault: serialDisconnect, durationS: 1.5 }
expect:
  - { kind: event, type: stale-source, source: daly, after: 1, within: 2 }
  - { kind: event, type: source-recovered, source: daly, after: 2.5, within: 1.5 }
  - { kind: range, signal: packVoltageV, min: 55, max: 75 }
  - { kind: counter, name: framesDecoded, min: 5 }
selfTest:
  switchOff: [detection:stale]
`;

test.serial('a Daly BMS on a pty, in real time: a pulled cable goes stale and recovers; with stale detection off it fails', async (t) => {
  const workDir = await mkdtemp(join(tmpdir(), 'vt-hil-uart-'));
  t.teardown(() => rm(workDir, { recursive: true, force: true }));
  const s = parseScenario(daly, 'daly.yaml');
  const [r] = await runScenarios([s], { target: runOnSim, targetName: 'sim', workDir });
  t.is(r!.status, 'passed', r!.message ?? r!.expectations.filter((e) => !e.ok).map((e) => e.message).join('; '));
  t.true(r!.expectations.length === 4);
  const [off] = await runScenarios([s], { target: runOnSim, targetName: 'sim', workDir, selfTest: true });
  t.is(off!.status, 'passed', 'the self-test passes only when the scenario then fails');
});

test('a UART scenario refuses bench instruments, naming the file', async (t) => {
  const s = parseScenario(`setup:
  durationS: 2
  bms: { profile: jbd }
  instruments:
    load: { kind: eload }
expect:
  - kind: ledgerVerifies
`, 'jbd-load.yaml');
  const dataDir = await mkdtemp(join(tmpdir(), 'vt-hil-uart-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  await t.throwsAsync(runOnSim(s, { dataDir }), { instanceOf: UserError, message: /jbd-load\.yaml.*instruments/ });
});
