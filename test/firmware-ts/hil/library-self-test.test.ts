// The test of the test: every shipped scenario fails when the behaviour it expects is switched
// off (its selfTest.switchOff), with a failure that names the expectation. A file of its own so
// that it runs beside library.test.ts in a second process.
import test from 'ava';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenario } from '../../../firmware-ts/hil/scenario.ts';
import { runScenarios } from '../../../firmware-ts/hil/hil-runner.ts';
import { runOnSim } from '../../../firmware-ts/hil/sim-target.ts';
import { DBC_DIR } from '../../helpers/dbc-files.ts';

const LIBRARY = fileURLToPath(new URL('../../../sim-hardware/scenarios/', import.meta.url));

const FILES = readdirSync(LIBRARY).filter((f) => f.endsWith('.yaml')).sort();

// One serial test per scenario: each is reported by name, and one finishes every few seconds.
for (const file of FILES) {
  test.serial(`${file} fails when its expected behaviour is switched off, naming the expectation`, async (t) => {
    const workDir = await mkdtemp(join(tmpdir(), 'vt-hil-self-'));
    t.teardown(() => rm(workDir, { recursive: true, force: true }));
    const [r] = await runScenarios([await loadScenario(LIBRARY + file)], { target: runOnSim, targetName: 'sim', workDir, selfTest: true, dbcDir: DBC_DIR });
    t.is(r!.status, 'passed', `${r!.scenario.name}: ${r!.message}`);
    const failed = r!.expectations.filter((e) => !e.ok);
    t.true(failed.length > 0, `${r!.scenario.name}: some expectation fails`);
    for (const e of failed) {
      t.true(r!.message!.includes(e.name), `${r!.scenario.name}: the report names '${e.name}'`);
      t.true(e.message.startsWith(`expected ${e.name}`) || e.message.includes(e.name), `${r!.scenario.name}: '${e.message}' names its expectation`);
    }
  });
}
