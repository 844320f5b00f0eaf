// The shipped scenario library against voltrail's own runtime on the simulator: every scenario
// passes, and together the scenarios cover the simulator's faults and the driver's protections.
// The test of the test is library-self-test.test.ts. One process, as fast as the CPU goes.
import test from 'ava';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenario, type Scenario } from '../../../firmware-ts/hil/scenario.ts';
import { runScenarios } from '../../../firmware-ts/hil/hil-runner.ts';
import { runOnSim } from '../../../firmware-ts/hil/sim-target.ts';
import { FAULT_KINDS } from '../../../sim-hardware/fault-spec.ts';
import { FAULT_NAMES } from '../../../devices/snapshot.ts';
import { VOLTRAIL_RULES } from '../../../devices/bms/profiles/voltrail.ts';
import { DBC_DIR } from '../../helpers/dbc-files.ts';

const LIBRARY = fileURLToPath(new URL('../../../sim-hardware/scenarios/', import.meta.url));

const FILES = readdirSync(LIBRARY).filter((f) => f.endsWith('.yaml')).sort();

async function library(): Promise<Scenario[]> {
  return Promise.all(FILES.map((f) => loadScenario(LIBRARY + f)));
}

// One serial test per scenario: each is reported by name, and one finishes every few seconds.
for (const file of FILES) {
  test.serial(`${file} passes against the runtime on the simulator`, async (t) => {
    const workDir = await mkdtemp(join(tmpdir(), 'vt-hil-lib-'));
    t.teardown(() => rm(workDir, { recursive: true, force: true }));
    const [r] = await runScenarios([await loadScenario(LIBRARY + file)], { target: runOnSim, targetName: 'sim', workDir, dbcDir: DBC_DIR });
    const why = r!.message ?? r!.expectations.filter((e) => !e.ok).map((e) => e.message).join('; ');
    t.is(r!.status, 'passed', `${r!.scenario.name}: ${why}`);
    t.true(r!.expectations.length > 0);
  });
}

test('the library covers every fault kind the simulator injects and every fault the voltrail driver reports', async (t) => {
  const list = await library();
  const injected = new Set<string>();
  for (const s of list) for (const st of s.timeline) if (st.fault !== undefined) injected.add(typeof st.fault === 'string' ? st.fault.split(/[:@+]/)[0]! : st.fault.kind);
  // Serial faults included: their scenarios run a JBD BMS on a pty in real time (uart-sim-target.ts).
  for (const k of FAULT_KINDS) t.true(injected.has(k), `fault kind ${k} has a scenario`);
  const raised = new Set<string>();
  for (const s of list) for (const e of s.expect) if (e.kind === 'event' && e.type === 'fault-raised' && e.fault) raised.add(e.fault);
  const reported = VOLTRAIL_RULES.flatMap((r) => (typeof r.target === 'object' && r.target.field === 'fault' ? [r.target.name] : []));
  t.true(reported.length >= 10);
  for (const f of reported) t.true(raised.has(f), `protection ${f} has a scenario expecting it`);
  t.true(reported.every((f) => (FAULT_NAMES as readonly string[]).includes(f)));
  // The foxBMS driver adds the insulation fault (from the iso165 on its bus).
  t.true(raised.has('insulationFault'));
});
