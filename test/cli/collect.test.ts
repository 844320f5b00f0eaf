// `voltrail collect` as a user runs it: `collect init` makes the witness key and the fleet's
// endorsement; a real collector process joins the shared subscription of a real mosquitto,
// verifies and stores a board's ledger sent by the uplink, countersigns its checkpoints, stops
// cleanly on SIGINT; `collect --status` shows it; usage errors say what to give.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../hal/clock.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { verifyWitnessEndorsement } from '../../ledger/identity/witness.ts';
import { Uplink } from '../../firmware-ts/uplink/uplink.ts';
import { silentLogger } from '../../firmware-ts/runtime/logger.ts';
import { runCli, VOLTRAIL } from '../helpers/cli.ts';
import { startBroker } from '../helpers/mosquitto.ts';
import { ledgerOf, makeFleet, PASS, provisionBoard } from '../helpers/sim-board.ts';

test('collect init, a collector process storing a board ledger, collect --status', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'vt-collect-cli-'));
  const broker = await startBroker();
  t.teardown(async () => {
    await broker.close();
    await rm(root, { recursive: true, force: true });
  });
  const fleet = await makeFleet(join(root, 'fleet'));
  const pass = join(root, 'pass');
  await writeFile(pass, PASS + '\n', { mode: 0o600 });
  const dataDir = join(root, 'fleet-data');

  const init = await runCli(['collect', 'init', '--name', 'depot-1', '--data-dir', dataDir, '--fleet-dir', join(root, 'fleet'), '--passphrase-file', pass, '--fleet-passphrase-file', pass, '--json']);
  t.is(init.code, 0, init.stderr);
  const made = JSON.parse(init.stdout) as { kid: string; keyCreated: boolean };
  t.true(made.keyCreated);
  const endorsed = verifyWitnessEndorsement(new Uint8Array(await readFile(join(dataDir, 'witness-endorsement.cbor'))), fleet.publicKey, Date.now());
  t.is(endorsed.name, 'depot-1');
  t.is(Buffer.from(endorsed.witnessKid).toString('hex'), made.kid);

  // A board with a few records, checkpointed.
  const board = join(root, 'board');
  const key = await provisionBoard(fleet, board, { battery: 'urn:voltrail:battery:ACME:PK-0100', boardId: 'pi-100' });
  const ledger = await Ledger.open({ dir: ledgerOf(board), signer: key, clock: systemClock, checkpointEvery: 4 });
  for (let i = 0; i < 10; i++) await ledger.append('telemetry', new Map([[1, i]]));
  await ledger.close();
  const entries = (await SegmentLog.open(ledgerOf(board), { readOnly: true })).length;

  const child = spawn(process.execPath, [VOLTRAIL, 'collect', '--broker', broker.url, '--data-dir', dataDir, '--trust', join(root, 'fleet', 'fleet.json'), '--passphrase-file', pass, '--topic-prefix', 'depot', '--client-id', 'cli-1', '--log-level', 'warn', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
  const statusFile = join(dataDir, 'status', 'cli-1.json');
  for (let i = 0; i < 300; i++) {
    if (existsSync(statusFile) && (JSON.parse(await readFile(statusFile, 'utf8')) as { connected: boolean }).connected) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const uplink = await Uplink.start({ url: broker.url, topicPrefix: 'depot', logId: Buffer.from(key.kid).toString('hex'), dataDir: board, ledgerDir: ledgerOf(board), durable: () => entries, fleetKey: fleet.publicKey, logger: silentLogger() });
  for (let i = 0; i < 300 && uplink.status.stored < entries; i++) await new Promise((r) => setTimeout(r, 100));
  await uplink.close();
  t.is(uplink.status.stored, entries, err);

  process.kill(child.pid!, 'SIGINT');
  t.is(await exited, 0, err);
  const final = JSON.parse(out.trim().split('\n').pop()!) as { running: boolean; counters: { entriesStored: number; countersignatures: number } };
  t.false(final.running);
  t.is(final.counters.entriesStored, entries);
  t.true(final.counters.countersignatures >= 3, 'a countersignature per checkpoint');
  t.regex(err, /collecting from mqtt:\/\/127\.0\.0\.1:\d+ into .* as cli-1, witness 'depot-1'/);

  const st = await runCli(['collect', '--status', '--data-dir', dataDir]);
  t.is(st.code, 0, st.stderr);
  t.regex(st.stdout, /cli-1 \(stopped; \d+ entries stored\)/);
  t.regex(st.stdout, /refused: none/);
  t.regex(st.stdout, /urn:voltrail:battery:ACME:PK-0100 {2}\d+ entries, 11 records, \d+ checkpoints/);
});

test('collect without a broker or trust anchor says what to give', async (t) => {
  const noBroker = await runCli(['collect', '--trust', '02' + '11'.repeat(32)]);
  t.is(noBroker.code, 2);
  t.regex(noBroker.stderr, /give --broker URL/);
  const noTrust = await runCli(['collect', '--broker', 'mqtt://127.0.0.1:1']);
  t.is(noTrust.code, 2);
  t.regex(noTrust.stderr, /give --trust KEY: the fleet authority public key/);
  const badPrefix = await runCli(['collect', '--broker', 'mqtt://127.0.0.1:1', '--trust', '02' + '11'.repeat(32), '--topic-prefix', 'a/#']);
  t.is(badPrefix.code, 2);
  t.regex(badPrefix.stderr, /--topic-prefix: 'a\/#' is not a topic prefix/);
});
