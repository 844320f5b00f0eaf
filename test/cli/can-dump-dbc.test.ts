import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { VOLTRAIL_DBC_PATH } from '../../devices/bms/profiles/voltrail.ts';

test('can dump --dbc names messages and decodes signals; unknown ids stay raw', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vt-dump-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'pack.log');
  // PackVoltage 349.08 V (0x885C), PackCurrent -0.1 A (0xFFFF), SoC 100.3 % -> raw 1003, ContactorState closed (bit 42).
  await writeFile(log, '(1700000000.000000) can0 610#5C88FFFFEB07000F\n(1700000000.100000) can0 7FF#01\n');
  const r = await runCli(['can', 'dump', '--bus', `replay:${log}`, '--dbc', VOLTRAIL_DBC_PATH, '--json']);
  t.is(r.code, 0, r.stderr);
  const [a, b] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.is(a.name, 'VT_PackStatus');
  t.is(a.signals.PackVoltage, 349.08);
  t.is(a.signals.PackCurrent, -0.1);
  t.is(a.signals.ContactorState, 'closed');
  t.is(b.id, 0x7ff);
  t.is(b.name, undefined);
});

test('can dump --dbc with a broken DBC names the file and line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vt-dump-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.dbc');
  await writeFile(bad, 'VERSION ""\n\nBO_ 100 Msg: eight Node\n');
  const r = await runCli(['can', 'dump', '--bus', 'virtual:x', '--dbc', bad, '--count', '0']);
  t.is(r.code, 1);
  t.true(r.stderr.includes(`--dbc ${bad}: ${bad}:3:`), r.stderr);
});
