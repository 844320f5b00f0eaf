import test from 'ava';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadScenario, parseScenario, describeExpectation } from '../../../firmware-ts/hil/scenario.ts';
import { UserError } from '../../../firmware-ts/cli/errors.ts';

const LIBRARY = fileURLToPath(new URL('../../../sim-hardware/scenarios/', import.meta.url));

const minimal = `setup:
  durationS: 30
expect:
  - kind: ledgerVerifies
`;

test('a minimal scenario gets its defaults: 16-cell NMC pack at 80 %, voltrail BMS, the runtime defaults', (t) => {
  const s = parseScenario(minimal, 'min.yaml');
  t.is(s.name, 'min');
  t.is(s.setup.pack.cells, 16);
  t.is(s.setup.pack.chemistry, 'nmc');
  t.is(s.setup.pack.soc, 0.8);
  t.is(s.setup.bms.profile, 'voltrail');
  t.is(s.runtime.sampler.periodMs, 1000);
  t.is(s.runtime.health.staleMarginFactor, 3);
  t.deepEqual(s.timeline, []);
});

test('errors name the file, the line and the field path, and what is allowed', (t) => {
  const text = `setup:
  durationS: 30
  pack:
    cells: 500
    chemistry: lco
timeline:
  - at: 5
    fault: openWire:cell=3
    profile: cc:10
expect:
  - kind: event
    type: fault-raised
    fault: cellOverHeat
    within: 2
  - kind: nothing
`;
  const err = t.throws(() => parseScenario(text, 'bad.yaml'), { instanceOf: UserError })!;
  t.regex(err.message, /bad\.yaml:4: setup\.pack\.cells: .*192/);
  t.regex(err.message, /bad\.yaml:5: setup\.pack\.chemistry: allowed: "nmc", "lfp"/);
  t.regex(err.message, /bad\.yaml:7: timeline\.0: give exactly one of profile, fault or scpi/);
  t.regex(err.message, /bad\.yaml:13: expect\.0\.fault: allowed: .*"cellOverVoltage"/);
  t.regex(err.message, /bad\.yaml:15: expect\.1\.kind: /);
});

test('an unknown field is reported at its own line, pointing to the format documentation', (t) => {
  const err = t.throws(() => parseScenario(`setup:\n  durationS: 30\n  pakc: {}\nexpect:\n  - kind: ledgerVerifies\n`, 'x.yaml'))!;
  t.regex(err.message, /x\.yaml:3: setup\.pakc: unknown field 'pakc'; see sim-hardware\/scenarios\/SCENARIOS\.md/);
});

test('runtime config sections are validated by the runtime schema, and only sampler/ledger/health are allowed', (t) => {
  const text = `setup:
  durationS: 30
  config:
    sampler:
      periodMs: 10
    dataDir: /tmp/x
expect:
  - kind: ledgerVerifies
`;
  const err = t.throws(() => parseScenario(text, 'c.yaml'))!;
  t.regex(err.message, /c\.yaml:5: setup\.config\.sampler\.periodMs: .*50/);
  t.regex(err.message, /c\.yaml:6: setup\.config\.dataDir: a scenario sets only sampler, ledger, health/);
});

test('cross-field checks: stimuli after the end, undeclared instruments, a cell the pack does not have, min above max', (t) => {
  const text = `setup:
  durationS: 30
  pack: { cells: 8 }
timeline:
  - at: 40
    profile: rest
  - at: 1
    scpi: { instrument: load, send: ["INP ON"] }
expect:
  - { kind: range, signal: "cell:9", min: 1 }
  - { kind: counter, name: records, min: 5, max: 2 }
`;
  const err = t.throws(() => parseScenario(text, 'k.yaml'))!;
  t.regex(err.message, /k\.yaml:5: timeline\.0\.at: 40 s is after the end of the run/);
  t.regex(err.message, /k\.yaml:8: timeline\.1\.scpi\.instrument: 'load' is not in setup\.instruments \(none declared\)/);
  t.regex(err.message, /k\.yaml:10: expect\.0\.signal: the pack has 8 cells/);
  t.regex(err.message, /k\.yaml:11: expect\.1\.min: min 5 is above max 2/);
});

test('YAML syntax errors name the line', (t) => {
  const err = t.throws(() => parseScenario('setup:\n  durationS: [30\nexpect: []\n', 'y.yaml'))!;
  t.regex(err.message, /^y\.yaml:\d+: not valid YAML/);
});

test('a missing file says where the library is', async (t) => {
  const err = await t.throwsAsync(loadScenario('/nonexistent/s.yaml'));
  t.regex(err!.message, /cannot read the scenario \(ENOENT\)/);
});

test('every shipped scenario parses, has a self-test, and names its expectations', async (t) => {
  const files = (await readdir(LIBRARY)).filter((f) => f.endsWith('.yaml'));
  t.true(files.length >= 20, `${files.length} scenarios`);
  for (const f of files) {
    const s = await loadScenario(LIBRARY + f);
    t.truthy(s.selfTest, `${f}: selfTest`);
    t.truthy(s.description, `${f}: description`);
    for (const e of s.expect) t.true(describeExpectation(e).length > 5);
  }
});
