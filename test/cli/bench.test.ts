// `voltrail bench` through the real CLI: a quick run of one cheap benchmark into a temporary
// directory (its reference runs too), the JSON it writes, and the errors a user can meet.
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';

test('bench --quick --only one benchmark writes latest.json, .md and .svg into --out', async (t) => {
  const dir = await mkdtemp(join(os.tmpdir(), 'voltrail-bench-cli-'));
  try {
    const r = await runCli(['bench', '--quick', '--only', 'signers/sign/node-p256', '--out', dir, '--json', join(dir, 'copy.json'), '--no-install'], { timeoutMs: 60_000 });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /\[1\/2\] sign, 1 core: libsecp256k1 C \(reference\)/);
    t.regex(r.stdout, /^# voltrail bench results \(quick run\)/);
    const report = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as {
      format: string;
      machine: { cores: number; node: string };
      results: { id: string; median: number; ratio: number | null; unit: string; better: string }[];
      skipped: { id: string; reason: string }[];
    };
    t.is(report.format, 'voltrail-bench/1');
    t.is(report.machine.node, process.version);
    const ids = [...report.results.map((x) => x.id), ...report.skipped.map((x) => x.id)];
    t.deepEqual(ids.sort(), ['signers/sign/c', 'signers/sign/node-p256']);
    const p256 = report.results.find((x) => x.id === 'signers/sign/node-p256')!;
    t.true(p256.median > 0);
    t.like(p256, { unit: 'ops/s', better: 'higher' });
    if (report.skipped.some((s) => s.id === 'signers/sign/c')) {
      t.log('no compiler or libsecp256k1 here: the C reference was skipped and the ratio is null');
      t.is(p256.ratio, null);
    } else {
      t.true(p256.ratio! > 0);
    }
    t.regex(await readFile(join(dir, 'latest.md'), 'utf8'), /\| sign, 1 core: node:crypto P-256 ES256 \(OpenSSL\) \|/);
    t.regex(await readFile(join(dir, 'latest.svg'), 'utf8'), /<svg /);
    t.deepEqual(JSON.parse(await readFile(join(dir, 'copy.json'), 'utf8')), report);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bench --only with an unknown name is a usage error naming it', async (t) => {
  const r = await runCli(['bench', '--only', 'signers/frobnicate', '--list']);
  t.is(r.code, 2);
  t.regex(r.stderr, /no benchmark named 'signers\/frobnicate'/);
});

test('bench --list names the signer benchmarks and their references', async (t) => {
  const r = await runCli(['bench', '--list', '--only', 'signers/verify/native']);
  t.is(r.code, 0);
  t.deepEqual(
    r.stdout.trim().split('\n').map((l) => l.split('\t')[0]),
    ['signers/verify/c', 'signers/verify/native'],
  );
});
