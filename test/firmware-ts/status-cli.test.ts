import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VOLTRAIL, runCli } from '../helpers/cli.ts';

test('voltrail status reads a running instance (run --sim with the native signer made unavailable), then says not running after SIGINT', async (t) => {
  t.timeout(240_000, 'three CLI starts on a loaded machine');
  const dataDir = await mkdtemp(join(tmpdir(), 'vt-status-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { ...process.env, VOLTRAIL_SIGNER: 'noble' };
  const child = spawn(process.execPath, [VOLTRAIL, 'run', '--sim', '--data-dir', dataDir, '--period', '200ms', '--cells', '8', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  const file = join(dataDir, 'status.json');
  for (let i = 0; i < 1800; i++) {
    if (existsSync(file) && (JSON.parse(await readFile(file, 'utf8')) as { records: number }).records > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const live = await runCli(['status', '--data-dir', dataDir, '--json'], { timeoutMs: 90_000 });
  t.is(live.code, 0, live.stderr);
  const s = JSON.parse(live.stdout) as { live: boolean; pid: number; simulated: boolean; records: number; events: number; signer: string; driver: { decoded: number }; rssBytes: number };
  t.true(s.live);
  t.is(s.pid, child.pid!);
  t.true(s.simulated);
  t.true(s.records > 0 && s.events >= 1);
  t.regex(s.signer, /^noble/, 'the pure-JS signer signs when the native one is not there');
  t.true(s.driver.decoded > 0 && s.rssBytes > 0);

  child.kill('SIGINT');
  t.is(await exited, 0, stderr);
  const summary = JSON.parse(stdout) as { records: number; signer: string };
  t.true(summary.records >= s.records);
  const after = await runCli(['status', '--data-dir', dataDir], { timeoutMs: 90_000 });
  t.is(after.code, 1);
  t.regex(after.stdout, /not running .*stopped cleanly/);
});
