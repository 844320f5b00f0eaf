// `voltrail ledger`: checks on a ledger folder. `verify` checks every entry's framing and
// signature, the record sequence and every checkpoint's Merkle root, and names the first
// failure by record and file position.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verifyLedger } from '../../../ledger/log/verify.ts';
import { KeyRing } from '../../../ledger/cose/key-ring.ts';
import { ES256, ES256K } from '../../../ledger/cose/algorithms.ts';
import { pickBackend } from '../../../ledger/signers/pick.ts';
import { UserError } from '../errors.ts';
import { readIdentity } from '../../runtime/data-dir.ts';
import { exportLedger, inspectLedger } from '../../../ledger/log/inspect.ts';
import { proveInclusion } from '../../../ledger/log/proofs.ts';
import { parseNonNegativeInt } from '../parse.ts';
import { verifyBatteryHistory } from '../../identity/history-report.ts';

/** A data folder (holding `ledger/` and `identity.json`) or a ledger folder inside one. */
async function locate(dir: string): Promise<{ dataDir: string; ledger: string }> {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new UserError(`${abs}: no such folder; give the data folder of a run (e.g. .voltrail-sim)`);
  if (existsSync(join(abs, 'ledger'))) return { dataDir: abs, ledger: join(abs, 'ledger') };
  if (existsSync(join(abs, '..', 'identity.json'))) return { dataDir: resolve(abs, '..'), ledger: abs };
  throw new UserError(`${abs}: not a voltrail data folder (no ledger/ inside); give the folder that --data-dir named`);
}

/** The keys a ledger is checked against: --key when given, else the folder's identity.json. */
async function trustedKeys(dataDir: string, keys: string[] | undefined): Promise<{ ring: KeyRing; trustFrom: string }> {
  const ring = new KeyRing();
  if (keys?.length) {
    for (const k of keys) {
      if (!/^0[23][0-9a-fA-F]{64}$/.test(k)) throw new UserError(`--key ${k}: expected a compressed secp256k1 public key, 66 hex digits starting 02 or 03`, 2);
      try {
        ring.add(Buffer.from(k, 'hex'), 'secp256k1');
      } catch (err) {
        // 66 hex digits that are not a point of the curve: a mistyped or wrong key.
        if (err instanceof RangeError) throw new UserError(`--key ${k}: not a point of the secp256k1 curve; copy it again from the board's identity.json (keys[].publicKey)`, 2);
        throw err;
      }
    }
    return { ring, trustFrom: '--key' };
  }
  const identity = await readIdentity(dataDir);
  if (!identity) throw new UserError(`${dataDir}: no identity.json to say which keys sign this ledger; give --key`);
  for (const k of identity.keys) ring.add(Buffer.from(k.publicKey, 'hex'), k.curve);
  return { ring, trustFrom: `${join(dataDir, 'identity.json')}${identity.simulated ? ' (simulator keys)' : ''}` };
}

export function registerLedger(program: Command): void {
  const ledger = program.command('ledger').description('verify and inspect a ledger');
  ledger
    .command('verify')
    .description('check every signature, the record order and every checkpoint; exit 0 only when all hold')
    .argument('<dir>', 'the data folder (or its ledger/ folder)')
    .option('--key <hex...>', "trust only these public keys (compressed hex) instead of the folder's identity.json")
    .option('--fleet-key <hex>', "trust only the fleet authority: every key must be certified in the ledger itself (provisioned, key-rotated) for one battery")
    .option('--crl <file...>', 'with --fleet-key: signed revocation lists (voltrail fleet crl); the newest counts')
    .option('--boards <dir...>', "with --fleet-key: the battery's other boards' data folders (replaced boards), in any order")
    .option('--battery-id <urn>', 'with --fleet-key: the battery the history must be for')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, flags: { key?: string[]; fleetKey?: string; crl?: string[]; boards?: string[]; batteryId?: string; json?: boolean }) => {
      if (flags.fleetKey !== undefined) {
        const dirs = await Promise.all([dir, ...(flags.boards ?? [])].map(async (d) => (await locate(d)).ledger));
        process.exitCode = await verifyBatteryHistory(dirs, { fleetKey: flags.fleetKey, crl: flags.crl, batteryId: flags.batteryId, json: flags.json === true });
        return;
      }
      const where = await locate(dir);
      const { ring, trustFrom } = await trustedKeys(where.dataDir, flags.key);
      const { backend } = await pickBackend('secp256k1');
      const report = await verifyLedger(where.ledger, { keys: ring.lookup, algs: [ES256K, ES256], backends: { secp256k1: backend } });
      if (flags.json) {
        process.stdout.write(JSON.stringify({ ledger: where.ledger, trust: trustFrom, ...report }, null, 2) + '\n');
      } else if (report.ok) {
        process.stdout.write(
          `OK  ${where.ledger}\n  ${report.records} records (${report.signedRecords} signed, ${report.simulatedRecords} simulated), ${report.checkpoints} checkpoints` +
            `${report.uncovered ? `, ${report.uncovered} records after the last checkpoint` : ''}\n  root ${report.root}\n  keys from ${trustFrom}\n`,
        );
      } else {
        const f = report.failure!;
        process.stdout.write(
          `FAILED  ${where.ledger}\n  ${f.seq !== undefined ? `record ${f.seq}, ` : ''}entry ${f.index ?? '?'}${f.segment ? ` (${f.segment} byte ${f.offset})` : ''}\n  ${f.reason}\n  ${report.records} records verified before it\n`,
        );
      }
      process.exitCode = report.ok ? 0 : 1;
    });

  ledger
    .command('inspect')
    .description('summarise a ledger: segments, records by type, checkpoints, time span, bytes per record (no signature checks)')
    .argument('<dir>', 'the data folder (or its ledger/ folder)')
    .option('--json', 'print as JSON')
    .action(async (dir: string, flags: { json?: boolean }) => {
      const where = await locate(dir);
      const r = await inspectLedger(where.ledger);
      if (flags.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      const time = (t?: number) => (t === undefined ? '-' : new Date(t).toISOString());
      process.stdout.write(
        [
          `ledger   ${where.ledger}`,
          `records  ${r.records} (${r.signedRecords} signed, ${r.simulatedRecords} simulated): ${Object.entries(r.types).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
          `span     ${time(r.firstTime)} .. ${time(r.lastTime)}`,
          `checkpts ${r.checkpoints}${r.lastCheckpoint ? ` (last covers ${r.lastCheckpoint.size} records at ${time(r.lastCheckpoint.time)})` : ''}; witness signatures ${r.witnesses}`,
          `storage  ${r.segments.length} segment(s), ${r.bytes} bytes, ${r.bytesPerRecord} bytes per record`,
          `root     ${r.root}`,
          r.tornTail ? `TORN     ${r.tornTail.bytes} bytes at ${r.tornTail.segment} byte ${r.tornTail.offset} (cut on the next start; run ledger verify)` : '',
        ]
          .filter(Boolean)
          .join('\n') + '\n',
      );
    });

  ledger
    .command('prove')
    .description('print the inclusion proof of one record (RFC 9162), anchored to a signed checkpoint, as JSON')
    .argument('<dir>', 'the data folder (or its ledger/ folder)')
    .requiredOption('--index <n>', 'the record (sequence number, from 0)', parseNonNegativeInt)
    .option('--key <hex...>', "trust only these public keys instead of the folder's identity.json")
    .action(async (dir: string, flags: { index: number; key?: string[] }) => {
      const where = await locate(dir);
      const { ring } = await trustedKeys(where.dataDir, flags.key);
      try {
        const proof = await proveInclusion(where.ledger, flags.index, { keys: ring.lookup, algs: [ES256K, ES256] });
        process.stdout.write(JSON.stringify(proof, null, 2) + '\n');
      } catch (err) {
        if (err instanceof RangeError) throw new UserError(`--index ${flags.index}: ${err.message}`);
        throw err;
      }
    });

  ledger
    .command('export')
    .description('write every stored item in order as a CBOR sequence (RFC 8742): signed items as their COSE_Sign1 bytes')
    .argument('<dir>', 'the data folder (or its ledger/ folder)')
    .requiredOption('--out <file>', 'the file to write')
    .action(async (dir: string, flags: { out: string }) => {
      const where = await locate(dir);
      const n = await exportLedger(where.ledger, flags.out);
      process.stderr.write(`voltrail: wrote ${n} items to ${flags.out}\n`);
    });
}
