// `voltrail status`: the running instance's health, read from DATA_DIR/status.json (written by
// the runtime every second). Says "not running" when the pid is gone or the file is stale.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { isLive, readStatus, statusPath, type RuntimeStatus } from '../../runtime/status-file.ts';

export function describeStatus(s: RuntimeStatus, live: boolean): string {
  const snap = s.snapshot;
  const lines = [
    live ? `running (pid ${s.pid}${s.simulated ? ', simulated' : ''}), up ${s.uptimeS.toFixed(0)} s, updated ${s.updatedAt}` : `not running (last seen ${s.updatedAt}, pid ${s.pid}, ${s.running ? 'did not stop cleanly' : s.clean ? 'stopped cleanly' : 'stopped with an error'})`,
    snap
      ? `  battery: ${snap.packVoltageV ?? '--'} V, ${snap.currentA ?? '--'} A, SoC ${snap.socPct ?? '--'} %, max ${snap.temperatureMaxC ?? '--'} degC, contactor ${snap.contactorClosed === null ? 'unknown' : snap.contactorClosed ? 'closed' : 'open'}${snap.faults.length ? `, FAULTS ${snap.faults.join(', ')}` : ''}`
      : '  battery: no snapshot yet (the BMS has not been heard)',
    `  ledger: ${s.records} records, ${s.events} events, ${s.ledgerPendingBytes} bytes pending, signer ${s.signer}`,
    `  shed: ${s.shed.backpressure} under backpressure, ${s.shed.storage} while storage failed`,
    `  driver ${s.driver.source}: ${s.driver.frames} frames, ${s.driver.decoded} decoded, ${s.driver.rejected} rejected${s.driver.lastError ? ` (last: ${s.driver.lastError})` : ''}`,
    s.staleSources.length ? `  STALE sources: ${s.staleSources.join(', ')}` : '  sources: all fresh',
    s.uplink
      ? `  uplink: ${s.uplink.connected ? 'connected' : 'NOT CONNECTED'}, the fleet holds ${s.uplink.stored} of ${s.uplink.durable} entries, ${s.uplink.resends} resends, ${s.uplink.witnesses} countersignatures kept${s.uplink.lastRefusal ? `, REFUSED (${s.uplink.lastRefusal.reason}): ${s.uplink.lastRefusal.detail}` : ''}`
      : '',
    s.lastError ? `  last error: ${s.lastError}` : '',
  ];
  return lines.filter(Boolean).join('\n');
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show the running instance's health (from DATA_DIR/status.json)")
    .option('--data-dir <dir>', 'the data folder of the instance', '.voltrail-sim')
    .option('--json', 'print the status as JSON, with "live": true/false')
    .action(async (flags: { dataDir: string; json?: boolean }) => {
      const s = await readStatus(flags.dataDir).catch((err: Error) => {
        throw new UserError(`${statusPath(resolve(flags.dataDir))}: ${err.message}`);
      });
      if (!s) {
        if (flags.json) process.stdout.write(JSON.stringify({ live: false, reason: 'no status file' }) + '\n');
        else process.stdout.write(`not running: ${statusPath(resolve(flags.dataDir))} does not exist (start it with voltrail run, or give --data-dir)\n`);
        process.exitCode = 1;
        return;
      }
      const live = isLive(s);
      if (flags.json) process.stdout.write(JSON.stringify({ live, ...s }) + '\n');
      else process.stdout.write(describeStatus(s, live) + '\n');
      if (!live) process.exitCode = 1;
    });
}
