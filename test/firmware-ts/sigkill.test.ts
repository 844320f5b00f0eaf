import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { VOLTRAIL, runCli } from '../helpers/cli.ts';
import { seededRandom } from '../../hal/seeded-random.ts';

/** Starts a simulated run, kills it with SIGKILL after `afterRecords` durable records, returns the last count it printed. */
function runAndKill(dataDir: string, afterRecords: number, mode: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VOLTRAIL, 'run', '--sim', '--data-dir', dataDir, '--period', '20ms', '--speed', '10', '--signing', mode, '--status-json', '--cells', '16'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acked = 0;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      acked = Math.max(acked, (JSON.parse(line) as { records: number }).records);
      if (acked >= afterRecords) child.kill('SIGKILL');
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`run ended by itself (${signal})`));
      else resolve(acked);
    });
  });
}

for (const mode of ['per-record', 'checkpoint']) {
  test(`${mode}: kill -9 at random moments never loses an acknowledged record, and the ledger verifies`, async (t) => {
    t.timeout(180_000, 'three runs and verifications of the real CLI');
    const dataDir = await mkdtemp(join(tmpdir(), 'vt-kill-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const rand = seededRandom(mode.length);
    let total = 0;
    for (let round = 0; round < 3; round++) {
      const acked = await runAndKill(dataDir, 3 + Math.floor(rand() * 25), mode);
      total += acked;
      const r = await runCli(['ledger', 'verify', dataDir, '--json']);
      const report = JSON.parse(r.stdout) as { ok: boolean; records: number; failure?: { reason: string } };
      // A kill can cut a write in half: the next start cuts that never-acknowledged tail.
      if (!report.ok) t.regex(report.failure!.reason, /damaged or torn/, 'only a torn tail is acceptable');
      t.true(report.records >= total, `round ${round}: ${report.records} records on disk, ${total} acknowledged`);
      total = Math.max(total, report.records);
    }
  });
}
