// The uplink end to end against a real mosquitto: a provisioned board's runtime sends its ledger
// to two collector instances sharing one data folder through an MQTT 5 shared subscription; the
// broker stops for a while and the runtime restarts during the outage; afterwards the fleet
// ledger holds every entry of the board's log exactly once, in order, byte for byte, and the
// whole history verifies against the fleet key alone; the board keeps the collectors' witness
// countersignatures, which verify too.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { SegmentLog, type LogEntry } from '../../ledger/log/segment-log.ts';
import { EntryKind } from '../../ledger/log/frame.ts';
import { verifyHistory } from '../../ledger/identity/verify-history.ts';
import { verifyCountersignature } from '../../ledger/identity/witness.ts';
import { Collector } from '../../firmware-ts/collector/collector.ts';
import { Uplink } from '../../firmware-ts/uplink/uplink.ts';
import { readOffset } from '../../firmware-ts/uplink/resend-offset.ts';
import { createLogger, silentLogger } from '../../firmware-ts/runtime/logger.ts';
import type { RuntimeStatus } from '../../firmware-ts/runtime/status-file.ts';
import { describeStatus } from '../../firmware-ts/cli/commands/status.ts';
import { startBroker } from '../helpers/mosquitto.ts';
import { boardConfig, ledgerOf, makeFleet, provisionBoard, runBoard } from '../helpers/sim-board.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, maxMs: number, what: string, state?: () => unknown): Promise<void> {
  const end = Date.now() + maxMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${state ? `: ${JSON.stringify(state())}` : ''}`);
    await sleep(50);
  }
}

async function entriesOf(dir: string): Promise<LogEntry[]> {
  const log = await SegmentLog.open(dir, { readOnly: true });
  const out: LogEntry[] = [];
  for await (const e of log.entries()) out.push(e);
  return out;
}

test('broker outage and a runtime restart during it: two collectors hold every entry exactly once, verified, in order', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'vt-uplink-'));
  const broker = await startBroker();
  t.teardown(async () => {
    await broker.close();
    if (process.env.VT_DEBUG) console.error('kept', root);
    else await rm(root, { recursive: true, force: true });
  });
  const fleet = await makeFleet(join(root, 'fleet'));
  const boardDir = join(root, 'board');
  const key = await provisionBoard(fleet, boardDir, { battery: 'urn:voltrail:battery:ACME:PK-0001', boardId: 'pi-1' });
  const logId = hex(key.kid);
  const witnessKey = PrivateKey.generate('secp256k1');
  const endorsement = await fleet.endorseWitness({ publicKey: witnessKey.publicKey, curve: 'secp256k1' }, 'depot-1');

  const fleetDir = join(root, 'collected');
  const collectors = await Promise.all(
    ['c1', 'c2'].map((id) =>
      Collector.start({ url: broker.url, topicPrefix: 'test', dataDir: fleetDir, clientId: id, authority: fleet.publicKey, witness: { key: witnessKey, endorsement }, logger: process.env.VT_DEBUG ? createLogger({ level: 'warn' }) : silentLogger() }),
    ),
  );
  t.teardown(() => Promise.all(collectors.map((c) => c.close())).then(() => undefined));
  await until(() => collectors.every((c) => c.connected), 5000, 'collectors to connect');

  const uplinkCfg = { url: broker.url, topicPrefix: 'test', windowEntries: 512, batchEntries: 64, ackTimeoutMs: 10_000 };
  const config = boardConfig(boardDir, uplinkCfg, { periodMs: 200 });
  let last: RuntimeStatus | undefined;

  // Run 1: the fleet keeps up; then the broker goes away and records pile up in the ledger.
  const ac1 = new AbortController();
  const run1 = runBoard({ config, signer: key, signal: ac1.signal, onStatus: (s) => (last = s) });
  await until(() => (last?.uplink?.stored ?? 0) > 40, 60_000, 'the fleet to acknowledge 40 entries');
  await broker.stop();
  const storedAtOutage = last!.uplink!.stored;
  await sleep(1000);
  ac1.abort();
  await run1;

  // Run 2 starts during the outage, from the offset file; the broker comes back a second later.
  t.true((await readOffset(boardDir, logId)) >= storedAtOutage, 'the acknowledged offset survived the restart');
  const ac2 = new AbortController();
  last = undefined;
  const run2 = runBoard({ config, signer: key, signal: ac2.signal, onStatus: (s) => (last = s) });
  await sleep(1000);
  t.is((last as RuntimeStatus | undefined)?.uplink?.connected, false, 'no broker yet');
  await broker.start();
  try {
    await until(() => last?.uplink?.connected === true && last.uplink.stored >= last.uplink.durable - 12, 120_000, 'the backlog to drain', () => [last?.uplink, collectors.map((c) => c.counters)]);
  } finally {
    ac2.abort();
    await run2;
  }
  t.true((last as RuntimeStatus | undefined)!.uplink!.liveBatches > 0, 'the newest records went out beside the backlog');
  t.regex(describeStatus(last!, true), /uplink: connected, the fleet holds \d+ of \d+ entries/);

  // The last records (after the final checkpoint of run 2) go out with a plain uplink on the closed ledger.
  const board = await entriesOf(ledgerOf(boardDir));
  const drain = await Uplink.start({ url: broker.url, topicPrefix: 'test', logId, dataDir: boardDir, ledgerDir: ledgerOf(boardDir), durable: () => board.length, logger: silentLogger(), batchEntries: 64, ackTimeoutMs: 10_000 });
  await until(() => drain.status.stored === board.length, 120_000, 'the last entries');
  await drain.close();
  await Promise.all(collectors.map((c) => c.drain()));

  // Every entry exactly once, in order, byte for byte.
  const fleetLog = join(fleetDir, 'devices', logId, 'log');
  const stored = await entriesOf(fleetLog);
  t.is(stored.length, board.length);
  t.true(
    stored.every((e, i) => e.index === i && e.kind === board[i]!.kind && Buffer.from(e.payload).equals(Buffer.from(board[i]!.payload))),
    'the fleet ledger is the board ledger, entry for entry',
  );
  const counters = collectors.map((c) => c.counters);
  t.log(`board log ${board.length} entries; per collector: ${counters.map((c) => `${c.batches} batches, ${c.entriesStored} stored, ${c.duplicates} resent duplicates, ${(c.storeMs / Math.max(1, c.batches)).toFixed(1)} ms per batch`).join('; ')}`);
  t.is(counters[0]!.entriesStored + counters[1]!.entriesStored, board.length, 'each entry stored once across both instances');
  t.true(counters.every((c) => c.entriesStored > 0), `both instances stored entries (${counters.map((c) => c.entriesStored).join(' + ')})`);
  t.deepEqual(
    counters.map((c) => Object.values(c.refused).reduce((a, b) => a + b, 0)),
    [0, 0],
    'nothing of a genuine board is refused',
  );

  // The fleet's copy verifies against the fleet key alone.
  const report = await verifyHistory({ authority: fleet.publicKey, ledgers: [fleetLog] });
  t.true(report.ok, JSON.stringify(report.failure));
  t.true(board.filter((e) => e.kind === EntryKind.signedRecord).length >= 2, 'two restarts: at least the provisioned and restart records');

  // The board kept witness countersignatures of its checkpoints, and they verify.
  const checkpoints = new Map(board.filter((e) => e.kind === EntryKind.checkpoint).map((e) => [e.index, e.payload]));
  const witnesses = board.filter((e) => e.kind === EntryKind.witness);
  t.true(witnesses.length > 0, 'witness entries in the board log');
  for (const w of witnesses) {
    const ok = [...checkpoints.values()].some((c) => {
      try {
        verifyCountersignature(w.payload, { authority: fleet.publicKey, checkpoint: c });
        return true;
      } catch {
        return false;
      }
    });
    t.true(ok, `witness entry ${w.index} countersigns a checkpoint of this log`);
  }
  const kept = await entriesOf(join(fleetDir, 'devices', logId, 'witness'));
  t.true(kept.length >= checkpoints.size, `the fleet kept a countersignature per checkpoint (${kept.length} for ${checkpoints.size})`);
});
