// `voltrail ledger verify --fleet-key`: the battery's history checked against the fleet
// authority alone (ledger/identity/verify-history.ts), printed for a person or as JSON.
// Returns the exit code: 0 when the whole history holds, 1 otherwise.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseBatteryId } from '../../ledger/identity/battery-id.ts';
import { verifyHistory } from '../../ledger/identity/verify-history.ts';
import { UserError } from '../cli/errors.ts';

export async function verifyBatteryHistory(ledgers: string[], o: { fleetKey: string; crl?: string[]; batteryId?: string; json: boolean }): Promise<number> {
  if (!/^0[23][0-9a-fA-F]{64}$/.test(o.fleetKey)) throw new UserError(`--fleet-key ${o.fleetKey}: expected the fleet authority's compressed public key (66 hex digits)`, 2);
  const lists = await Promise.all(
    (o.crl ?? []).map((f) =>
      readFile(resolve(f)).then(
        (b) => new Uint8Array(b),
        () => {
          throw new UserError(`--crl ${resolve(f)}: cannot read the revocation list`);
        },
      ),
    ),
  );
  let batteryId: string | undefined;
  try {
    batteryId = o.batteryId === undefined ? undefined : parseBatteryId(o.batteryId).urn;
  } catch (err) {
    throw new UserError(`--battery-id: ${(err as Error).message}`, 2);
  }
  const report = await verifyHistory({ authority: { publicKey: new Uint8Array(Buffer.from(o.fleetKey, 'hex')), curve: 'secp256k1' }, ledgers, revocationLists: lists, batteryId });
  if (o.json) {
    process.stdout.write(JSON.stringify({ fleetKey: o.fleetKey, ...report }, null, 2) + '\n');
  } else if (report.ok) {
    const lines = [`OK  battery ${report.batteryId}: ${report.boards.length} board(s), trusting only fleet key ${o.fleetKey.slice(0, 18)}…${report.revocationListNumber ? ` and revocation list ${report.revocationListNumber}` : ''}`];
    for (const b of report.boards) {
      lines.push(`  board ${b.boardId}: ${b.records} records, ${b.checkpoints} checkpoints (${b.dir})${b.replaces ? `\n    continues log ${b.replaces.logKid.slice(0, 16)}… at tree size ${b.replaces.size}` : ''}`);
      for (const k of b.keys) lines.push(`    key ${k.kid.slice(0, 16)}… from record ${k.fromSeq}, certificate ${k.serial.slice(0, 12)}… to ${k.notAfter}${k.revoked ? `, revoked ${k.revoked.at} (${k.revoked.reason})` : ''}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  } else {
    const f = report.failure!;
    process.stdout.write(`FAILED  ${f.dir}\n  ${f.seq !== undefined ? `record ${f.seq}, ` : ''}${f.index !== undefined ? `entry ${f.index}, ` : ''}${f.code}\n  ${f.reason}\n`);
  }
  return report.ok ? 0 : 1;
}
