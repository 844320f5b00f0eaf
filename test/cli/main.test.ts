// The program's assembly (firmware-ts/cli/main.ts): a command loads only its own group's module,
// so `voltrail run` on a board does not carry V2X, fleet or the bench; --help and unknown
// commands still see every command.
import test from 'ava';
import { buildProgram } from '../../firmware-ts/cli/main.ts';
import { runCli } from '../helpers/cli.ts';

const names = (argv?: string[]) => buildProgram(argv).then((p) => p.commands.map((c) => c.name()));

test('a command word registers only its own group; no word, --help or an unknown word registers them all', async (t) => {
  t.deepEqual(await names(['node', 'voltrail', 'run', '--sim', '--speed', '50']), ['run']);
  t.deepEqual(await names(['node', 'voltrail', 'ledger', 'verify', 'dir']), ['ledger']);
  t.deepEqual(await names(['node', 'voltrail', '--version']), []);
  const all = await names();
  for (const n of ['run', 'ledger', 'can', 'keys', 'bench', 'sim', 'v2x', 'bms', 'fleet', 'provision', 'status', 'doctor']) t.true(all.includes(n), n);
  t.deepEqual(await names(['node', 'voltrail', '--help']), all);
  t.deepEqual(await names(['node', 'voltrail', 'help', 'run']), all);
  t.deepEqual(await names(['node', 'voltrail', 'bogus']), all);
});

test('the real CLI: help lists every command, a command\'s help is its own, an unknown command is named', async (t) => {
  const help = await runCli(['--help']);
  t.is(help.code, 0);
  for (const n of ['run', 'ledger', 'can', 'v2x', 'doctor', 'status']) t.regex(help.stdout, new RegExp(`^  ${n}\\b`, 'm'));
  const run = await runCli(['run', '--help']);
  t.is(run.code, 0);
  t.regex(run.stdout, /Usage: voltrail run \[options\]/);
  t.regex(run.stdout, /--speed <x>/);
  const bogus = await runCli(['bogus']);
  t.is(bogus.code, 2);
  t.regex(bogus.stderr, /unknown command 'bogus'/);
});
