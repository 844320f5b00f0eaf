// `voltrail hil` as a user runs it: a passing run with a JUnit report that validates against the
// JUnit schema CI systems read (xmllint), a failing run (a behaviour switched off) with exit 1,
// the failure in the report and a CSV and SVG of the signals, the self-test, and clean refusals.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli } from '../helpers/cli.ts';

const XSD = fileURLToPath(new URL('../vectors/junit-10.xsd', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../../sim-hardware/scenarios/', import.meta.url));

/** A short scenario: a clock jump at 8 s that voltrail must record within a second. */
const SHORT = `name: short clock jump
description: a one-hour wall-clock step at 8 s
setup:
  durationS: 15
  pack: { cells: 8 }
timeline:
  - { at: 8, fault: "clockJump:ms=3600000" }
expect:
  - { kind: event, type: clock-jump, after: 8, within: 1 }
  - { kind: noGap, maxS: 2 }
  - { kind: ledgerVerifies }
selfTest:
  switchOff: [detection:clock-jump]
`;

async function xmllint(file: string): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await promisify(execFile)('xmllint', ['--noout', '--schema', XSD, file]);
    return { ok: true, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function workspace(t: { teardown: (f: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'vt-hil-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const scenario = join(dir, 'short.yaml');
  await writeFile(scenario, SHORT);
  return { dir, scenario };
}

test('hil run: a passing scenario, a summary table, exit 0, JUnit XML that validates against the schema', async (t) => {
  const { dir, scenario } = await workspace(t);
  const junit = join(dir, 'reports', 'junit.xml');
  const r = await runCli(['hil', 'run', scenario, '--junit', junit], { timeoutMs: 120_000 });
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /short clock jump\s+PASSED\s+3\/3/);
  t.regex(r.stdout, /1 scenarios: 1 passed, 0 failed, 0 errors, 0 skipped/);
  t.regex(r.stderr, /\[1\/1\] short clock jump/);
  const xml = await readFile(junit, 'utf8');
  t.regex(xml, /<testsuite name="short clock jump" tests="3" failures="0" errors="0" skipped="0"/);
  t.regex(xml, /<testcase name="clock-jump within 1 s after 8 s" classname="voltrail\.hil\.sim\.short-clock-jump"/);
  t.regex(xml, /<system-out>[^<]*fault clockJump start[^<]*event clock-jump/);
  const v = await xmllint(junit);
  t.true(v.ok, v.out);
});

test('hil run: with the detection switched off the scenario fails: exit 1, the failure names the expectation, CSV and SVG beside the report', async (t) => {
  const { dir, scenario } = await workspace(t);
  const junit = join(dir, 'junit.xml');
  const r = await runCli(['hil', 'run', scenario, '--junit', junit, '--switch-off', 'detection:clock-jump'], { timeoutMs: 120_000 });
  t.is(r.code, 1, r.stderr + r.stdout);
  t.regex(r.stdout, /short clock jump\s+FAILED\s+2\/3 .*expected clock-jump within 1 s after 8 s; none recorded/);
  const xml = await readFile(junit, 'utf8');
  t.regex(xml, /<failure message="expected clock-jump within 1 s after 8 s; none recorded" type="expectation">/);
  t.regex(xml, /<property name="switchOff" value="detection:clock-jump"\/>/);
  t.true((await xmllint(junit)).ok);
  const csv = (await readFile(join(dir, 'short-clock-jump.csv'), 'utf8')).split('\r\n');
  t.is(csv[0], 'time_s,seq,pack_V,current_A,soc_pct,min_cell_V,max_cell_V,min_temp_C,max_temp_C,contactor_closed,faults,events');
  t.true(csv.length > 10, `${csv.length} lines`);
  t.regex(csv[1]!, /^\d+\.\d{3},\d+,\d+(\.\d+)?,/);
  const svg = await readFile(join(dir, 'short-clock-jump.svg'), 'utf8');
  t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.regex(svg, /<polyline /);
  t.regex(r.stdout, /written: .*junit\.xml, .*short-clock-jump\.csv, .*short-clock-jump\.svg/);
});

test('hil run --self-test: passes when the scenario fails with its behaviour switched off; --json for harnesses', async (t) => {
  const { scenario } = await workspace(t);
  const r = await runCli(['hil', 'run', scenario, '--self-test', '--json'], { timeoutMs: 120_000 });
  t.is(r.code, 0, r.stderr + r.stdout);
  const out = JSON.parse(r.stdout) as { selfTest: boolean; results: { status: string; message: string; switchOff: string[] }[] };
  t.true(out.selfTest);
  t.is(out.results[0]!.status, 'passed');
  t.deepEqual(out.results[0]!.switchOff, ['detection:clock-jump']);
  t.regex(out.results[0]!.message, /fails, as it must: clock-jump within 1 s after 8 s/);
});

test('hil run --target bench refuses cleanly when no hardware is given or present, before running anything', async (t) => {
  const none = await runCli(['hil', 'run', LIBRARY + 'clock-jump.yaml', '--target', 'bench']);
  t.is(none.code, 2);
  t.regex(none.stderr, /bench: say where the BMS is: --can SPEC .* or run on the simulator with --target sim/);
  const absent = await runCli(['hil', 'run', LIBRARY + 'clock-jump.yaml', '--target', 'bench', '--can', 'slcan:/dev/ttyACM-absent@500000']);
  t.is(absent.code, 1);
  t.regex(absent.stderr, /the BMS adapter \/dev\/ttyACM-absent is not there: plug it in/);
  const noInstrument = await runCli(['hil', 'run', LIBRARY + 'eload-discharge-psu-charge.yaml', '--target', 'bench', '--can', 'virtual:bench']);
  t.is(noInstrument.code, 2);
  t.regex(noInstrument.stderr, /instrument 'load': give its address with --scpi load=tcp:HOST/);
  const simFlags = await runCli(['hil', 'run', LIBRARY + 'clock-jump.yaml', '--scpi', 'load=tcp:127.0.0.1']);
  t.is(simFlags.code, 2);
  t.regex(simFlags.stderr, /are for --target bench/);
});

test('hil check: validates the whole library; a bad file is refused with its line and field', async (t) => {
  const ok = await runCli(['hil', 'check', LIBRARY]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /ok {2}open sense wire during a 2C discharge/);
  const { dir } = await workspace(t);
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'setup:\n  durationS: 10\nexpect:\n  - kind: event\n    type: fault-raised\n');
  const r = await runCli(['hil', 'check', bad]);
  t.is(r.code, 2);
  t.regex(r.stderr, /bad\.yaml:4: expect\.0\.within: missing; required/);
});
