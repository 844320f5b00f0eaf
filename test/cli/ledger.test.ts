// `voltrail ledger` as a user meets it: a mistyped trust key is a user error naming the key.
import test from 'ava';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';

test('ledger verify --key: malformed hex and 66 hex digits off the curve are both user errors that name the key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'voltrail-cli-key-'));
  await mkdir(join(dir, 'ledger'));
  const short = await runCli(['ledger', 'verify', dir, '--key', '02abcd']);
  t.is(short.code, 2);
  t.regex(short.stderr, /--key 02abcd: expected a compressed secp256k1 public key/);
  const offCurve = `02${'11'.repeat(32)}`;
  const bad = await runCli(['ledger', 'verify', dir, '--key', offCurve]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, new RegExp(`--key ${offCurve}: not a point of the secp256k1 curve`));
  t.notRegex(bad.stderr, /internal error|\n\s+at /);
});
