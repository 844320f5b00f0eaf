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

/** A data folder (holding `ledger/` and `identity.json`) or a ledger folder inside one. */
async function locate(dir: string): Promise<{ dataDir: string; ledger: string }> {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new UserError(`${abs}: no such folder; give the data folder of a run (e.g. .voltrail-sim)`);
  if (existsSync(join(abs, 'ledger'))) return { dataDir: abs, ledger: join(abs, 'ledger') };
  if (existsSync(join(abs, '..', 'identity.json'))) return { dataDir: resolve(abs, '..'), ledger: abs };
  throw new UserError(`${abs}: not a voltrail data folder (no ledger/ inside); give the folder that --data-dir named`);
}

export function registerLedger(program: Command): void {
  const ledger = program.command('ledger').description('verify and inspect a ledger');
  ledger
    .command('verify')
    .description('check every signature, the record order and every checkpoint; exit 0 only when all hold')
    .argument('<dir>', 'the data folder (or its ledger/ folder)')
    .option('--key <hex...>', "trust only these public keys (compressed hex) instead of the folder's identity.json")
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, flags: { key?: string[]; json?: boolean }) => {
      const where = await locate(dir);
      const identity = await readIdentity(where.dataDir);
      const ring = new KeyRing();
      let trustFrom: string;
      if (flags.key?.length) {
        for (const k of flags.key) {
          if (!/^0[23][0-9a-fA-F]{64}$/.test(k)) throw new UserError(`--key ${k}: expected a compressed secp256k1 public key, 66 hex digits starting 02 or 03`, 2);
          ring.add(Buffer.from(k, 'hex'), 'secp256k1');
        }
        trustFrom = '--key';
      } else {
        if (!identity) throw new UserError(`${where.dataDir}: no identity.json to say which keys sign this ledger; give --key`);
        for (const k of identity.keys) ring.add(Buffer.from(k.publicKey, 'hex'), k.curve);
        trustFrom = `${join(where.dataDir, 'identity.json')}${identity.simulated ? ' (simulator keys)' : ''}`;
      }
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
}
