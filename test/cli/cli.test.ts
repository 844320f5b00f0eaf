import test from 'ava';
import { runCli } from '../helpers/cli.ts';

test('--help lists the subcommands and exits 0', async (t) => {
  const r = await runCli(['--help']);
  t.is(r.code, 0);
  for (const cmd of ['run', 'ledger', 'can', 'passport', 'v2x']) t.regex(r.stdout, new RegExp(`\\n  ${cmd}\\b`));
});

test('--version prints the package version', async (t) => {
  const r = await runCli(['--version']);
  t.is(r.code, 0);
  t.regex(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

test('an unknown subcommand is a usage error with exit code 2', async (t) => {
  const r = await runCli(['frobnicate']);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown command 'frobnicate'/);
});
