// `voltrail passport`: the battery passport (ledger/passport/, firmware-ts/passport/):
// `export` a bundle (public or full tier) from a board's data folder(s), `verify` it offline
// against the pinned fleet authority key (exit 0 only when everything verifies), `show` a
// readable summary with a state-of-health chart, `qr` the URL a battery's label carries, and
// `status` to record a status change signed by the fleet authority or a certified workshop.
// `serve` (the recycler's web page) is added by its own module.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { openAuthority, userFacing } from './fleet.ts';
import { ledgerDir } from '../../runtime/data-dir.ts';
import { readProvisioned } from '../../identity/board-identity.ts';
import { readFleetFile, fleetPublicKey } from '../../../ledger/identity/fleet-authority.ts';
import type { PublicKeyRef } from '../../../ledger/identity/device-cert.ts';
import { exportPassport } from '../../../ledger/passport/export.ts';
import { decodeBundle, encodeBundle, TIERS, type Tier } from '../../../ledger/passport/bundle.ts';
import { verifyPassport, type PassportReport } from '../../../ledger/passport/verify.ts';
import { passportJson } from '../../../ledger/passport/json-view.ts';
import { DEFAULT_PASSPORT_BASE_URL, passportUrl } from '../../../ledger/passport/passport-url.ts';
import { BATTERY_STATUSES, type BatteryStatus, type StatusStatement } from '../../../ledger/passport/status-statement.ts';
import { sohChart } from '../../passport/soh-chart.ts';

/** Pinned trust anchors, when --trust is not given: comma-separated compressed public keys (hex). */
export const TRUST_ENV = 'VOLTRAIL_TRUST';

/** Status statements of a data folder live here, one file each, named so they sort by time. */
export const statusDir = (dataDir: string) => join(dataDir, 'passport', 'status');

function parseTier(text: string): Tier {
  if (!TIERS.includes(text as Tier)) throw new InvalidArgumentError(`'${text}' is not a tier; use public or full`);
  return text as Tier;
}
function parseStatus(text: string): BatteryStatus {
  if (!BATTERY_STATUSES.includes(text as BatteryStatus)) throw new InvalidArgumentError(`'${text}' is not a battery status; use one of ${BATTERY_STATUSES.join(', ')}`);
  return text as BatteryStatus;
}

const HEX_KEY = /^(02|03)[0-9a-fA-F]{64}$/;

/** A trust anchor: a compressed public key in hex, a fleet authority folder, or a file holding the hex. */
function trustAnchor(text: string): PublicKeyRef {
  const t = text.trim();
  if (HEX_KEY.test(t)) return { publicKey: new Uint8Array(Buffer.from(t, 'hex')), curve: 'secp256k1' };
  if (existsSync(t) && statSync(t).isDirectory()) {
    try {
      return fleetPublicKey(readFleetFile(t));
    } catch (err) {
      throw new UserError(`--trust ${t}: ${(err as Error).message}`);
    }
  }
  if (existsSync(t)) {
    const k = readFileSync(t, 'utf8').slice(0, 4096).trim().split(/\s+/)[0] ?? '';
    if (HEX_KEY.test(k)) return { publicKey: new Uint8Array(Buffer.from(k, 'hex')), curve: 'secp256k1' };
  }
  throw new UserError(`--trust '${text}': not a compressed secp256k1 public key (66 hex digits starting 02 or 03), a fleet authority folder, or a file holding the key`);
}

function anchors(trust: string[] | undefined): PublicKeyRef[] {
  const given = trust?.length ? trust : (process.env[TRUST_ENV] ?? '').split(',').filter((s) => s.trim() !== '');
  if (!given.length) throw new UserError(`give the fleet authority's public key to trust with --trust KEY (or pin it in ${TRUST_ENV}); a passport is never verified against keys it carries itself`, 2);
  return given.map(trustAnchor);
}

async function readBytes(file: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (err) {
    throw new UserError(`${resolve(file)}: cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

async function statuses(dataDirs: readonly string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const d of dataDirs) {
    const dir = statusDir(d);
    if (!existsSync(dir)) continue;
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.cbor')).sort()) out.push(await readBytes(join(dir, name), 'status statement'));
  }
  return out;
}

const day = (t?: number) => (t === undefined ? '-' : new Date(t).toISOString().replace('T', ' ').slice(0, 16));

function describe(r: PassportReport, file: string): string {
  const lines: string[] = [];
  lines.push(r.ok ? `VALID    ${file}` : `INVALID  ${file}\n  ${r.failure!.code} at ${r.failure!.where}: ${r.failure!.message}`);
  if (r.batteryId) lines.push(`battery  ${r.batteryId}  (${r.tier} tier${r.created ? `, exported ${day(r.created)}` : ''})`);
  const b = r.battery;
  if (b) lines.push(`model    ${b.manufacturer} ${b.model}, ${b.chemistry}, ${(b.capacityMah / 1000).toFixed(1)} Ah${b.nominalMv ? `, ${(b.nominalMv / 1000).toFixed(1)} V` : ''}, ${(b.massG / 1000).toFixed(1)} kg${b.manufactured ? `, made ${b.manufactured}` : ''}`);
  const st = r.statuses[r.statuses.length - 1];
  lines.push(`status   ${st ? `${st.status} since ${day(st.time)} (signed by ${st.signer})${st.predecessor ? `, successor of ${st.predecessor.batteryId}` : ''}` : 'original'}`);
  for (const [i, x] of r.boards.entries()) {
    lines.push(`board ${i}  ${x.boardId}: ${x.size} records up to ${day(x.time)}, ${x.checkpoints} checkpoints in the bundle, ${x.witnessed} witnessed${x.lastWitnessTime ? ` (last ${day(x.lastWitnessTime)})` : ''}`);
    lines.push(`         final checkpoint sha256 ${x.finalCheckpointHash}`);
  }
  const last = r.summaries[r.summaries.length - 1];
  if (last) {
    lines.push('', `lifecycle (as of ${day(last.time)})`);
    for (const [name, q] of Object.entries(last.summary.quantities)) {
      lines.push(`  ${name.padEnd(32)} ${q.value.toFixed(q.unit === '1' ? 2 : 3).padStart(12)} ${q.unit.padEnd(5)} ${q.provenance.padEnd(9)} ${day(q.updated)}`);
    }
    lines.push('', 'state of health (state of certified energy)', sohChart(r.summaries).trimEnd());
  }
  const negative = r.events.filter((e) => e.severity >= 2);
  if (r.tier === 'full') {
    lines.push('', `events   ${r.events.length} recorded, ${negative.length} faults or abuse`);
    for (const e of negative.slice(-10)) lines.push(`  ${day(e.time)}  ${e.type}  ${Object.entries(e.details).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

export function registerPassport(program: Command): void {
  const passport = program.command('passport').description('battery passport: export, verify, show, qr, status');

  passport
    .command('export')
    .description("export the battery's passport bundle (one CBOR file) from its board data folder(s)")
    .requiredOption('--data-dir <dir...>', "the board's data folder; several for a battery whose board was replaced (first board first)")
    .requiredOption('--out <file>', 'write the bundle here')
    .option('--tier <tier>', 'public (identity, model, chemistry, status: no usage data) or full (legitimate interest: history, events)', parseTier, 'full')
    .option('--crl <file...>', 'fleet revocation lists to include (voltrail fleet crl)')
    .option('--recent-days <n>', 'days kept at one summary and checkpoint a day (older: one per 30 days)', (v) => Number.parseInt(v, 10), 90)
    .option('--json', 'print what was exported as JSON')
    .action(async (o: { dataDir: string[]; out: string; tier: Tier; crl?: string[]; recentDays: number; json?: boolean }) => {
      for (const d of o.dataDir) {
        if (!existsSync(ledgerDir(d))) throw new UserError(`${resolve(d)}: no ledger/ folder; give the data folder of a provisioned board`);
      }
      const crls = await Promise.all((o.crl ?? []).map((f) => readBytes(f, 'revocation list')));
      let res;
      try {
        res = await exportPassport({ ledgers: o.dataDir.map(ledgerDir), tier: o.tier, statuses: await statuses(o.dataDir), revocationLists: crls, recentDays: o.recentDays });
      } catch (err) {
        if (err instanceof RangeError || err instanceof TypeError) throw new UserError(err.message);
        throw err;
      }
      const bytes = encodeBundle(res.bundle);
      await writeFile(o.out, bytes);
      const info = { file: resolve(o.out), bytes: bytes.length, tier: o.tier, batteryId: res.bundle.batteryId, logs: res.logs };
      process.stdout.write(
        o.json
          ? JSON.stringify(info, null, 2) + '\n'
          : `Wrote the ${o.tier} passport of ${res.bundle.batteryId} to ${info.file} (${bytes.length} bytes)\n` +
              res.logs.map((l) => `  ${l.dir}: ${l.leaves} records, ${o.tier === 'full' ? `${l.kept} in the bundle, ` : ''}${l.uncovered} not yet under a checkpoint\n`).join(''),
      );
    });

  passport
    .command('verify <file>')
    .description('verify a passport offline against the pinned fleet authority key; exit 0 only when everything verifies')
    .option('--trust <key...>', `fleet authority public key (hex), fleet folder, or key file (default: ${TRUST_ENV})`)
    .option('--crl <file...>', 'revocation lists you hold (the newest of these and the bundle\'s counts)')
    .option('--predecessor <file>', "a repurposed battery: the old battery's full passport, which its status statement must link to")
    .option('--json', 'print the report as JSON (Battery Pass attribute names)')
    .action(async (file: string, o: { trust?: string[]; crl?: string[]; predecessor?: string; json?: boolean }) => {
      const trust = anchors(o.trust);
      const crls = await Promise.all((o.crl ?? []).map((f) => readBytes(f, 'revocation list')));
      const predecessor = o.predecessor ? await readBytes(o.predecessor, 'predecessor passport') : undefined;
      const r = verifyPassport(await readBytes(file, 'passport'), { trust, revocationLists: crls, ...(predecessor ? { predecessor } : {}) });
      process.stdout.write(o.json ? JSON.stringify(passportJson(r), null, 2) + '\n' : r.ok ? `VALID    ${resolve(file)}\nbattery  ${r.batteryId} (${r.tier} tier)\n` : `INVALID  ${resolve(file)}\n  ${r.failure!.code} at ${r.failure!.where}: ${r.failure!.message}\n`);
      process.exitCode = r.ok ? 0 : 1;
    });

  passport
    .command('show <file>')
    .description('a readable summary of a passport, with a state-of-health chart (verified first)')
    .option('--trust <key...>', `fleet authority public key (hex), fleet folder, or key file (default: ${TRUST_ENV})`)
    .action(async (file: string, o: { trust?: string[] }) => {
      const r = verifyPassport(await readBytes(file, 'passport'), { trust: anchors(o.trust) });
      process.stdout.write(describe(r, resolve(file)));
      process.exitCode = r.ok ? 0 : 1;
    });

  passport
    .command('qr <file>')
    .description("the QR code for the battery's label: the passport URL (IEC 61406 style), in the terminal or as PNG")
    .option('--png <out>', 'write a PNG image here')
    .option('--base-url <url>', "the passport resolver's base URL", DEFAULT_PASSPORT_BASE_URL)
    .action(async (file: string, o: { png?: string; baseUrl: string }) => {
      let url: string;
      try {
        url = passportUrl(decodeBundle(await readBytes(file, 'passport')).batteryId, o.baseUrl);
      } catch (err) {
        throw new UserError(`${resolve(file)}: ${(err as Error).message}`);
      }
      const QRCode = (await import('qrcode')).default;
      if (o.png) {
        await QRCode.toFile(o.png, url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 512 });
        process.stdout.write(`${url}\nWrote ${resolve(o.png)}\n`);
      } else {
        process.stdout.write(`${url}\n${await QRCode.toString(url, { type: 'utf8', errorCorrectionLevel: 'M' })}`);
      }
    });

  passport
    .command('status')
    .description('record a status change (original, repurposed, reused, remanufactured, waste), signed by the fleet authority or a workshop')
    .requiredOption('--data-dir <dir>', "the board's data folder (the statement is kept there and exported with the passport)")
    .requiredOption('--set <status>', BATTERY_STATUSES.join(' | '), parseStatus)
    .option('--fleet-dir <dir>', 'sign as the fleet authority (its folder)')
    .option('--passphrase-file <file>', "the fleet key's passphrase")
    .option('--predecessor <urn>', 'for a repurposed or remanufactured battery: the old battery id')
    .option('--predecessor-checkpoint <sha256>', "SHA-256 (hex) of the old passport's final checkpoint")
    .option('--successor <urn>', "for the old battery: the new passport's battery id")
    .option('--note <text>', 'a note (where it went, who took it)')
    .option('--json', 'print the statement as JSON')
    .action(async (o: { dataDir: string; set: BatteryStatus; fleetDir?: string; passphraseFile?: string; predecessor?: string; predecessorCheckpoint?: string; successor?: string; note?: string; json?: boolean }) => {
      const id = await readProvisioned(o.dataDir);
      if (!id) throw new UserError(`${resolve(o.dataDir)}: not a provisioned board's data folder (identity.json names no battery)`);
      if (!o.fleetDir) throw new UserError('give --fleet-dir: the fleet authority signs status changes (a workshop key certified by it may too, through the API)', 2);
      if ((o.predecessor === undefined) !== (o.predecessorCheckpoint === undefined)) throw new UserError('--predecessor and --predecessor-checkpoint go together', 2);
      if (o.predecessorCheckpoint !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.predecessorCheckpoint)) throw new UserError('--predecessor-checkpoint: expected 64 hex digits (SHA-256)', 2);
      const st: StatusStatement = {
        batteryId: id.batteryId,
        status: o.set,
        time: Date.now(),
        ...(o.predecessor ? { predecessor: { batteryId: o.predecessor, checkpointHash: new Uint8Array(Buffer.from(o.predecessorCheckpoint!, 'hex')) } } : {}),
        ...(o.successor ? { successor: o.successor } : {}),
        ...(o.note ? { note: o.note } : {}),
      };
      let bytes: Uint8Array;
      try {
        const auth = await openAuthority(o.fleetDir, o.passphraseFile);
        bytes = await auth.signStatement(st);
      } catch (err) {
        userFacing(err);
      }
      const dir = statusDir(o.dataDir);
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${new Date(st.time).toISOString().replace(/[:.]/g, '-')}-${st.status}.cbor`);
      await writeFile(file, bytes!);
      process.stdout.write(o.json ? JSON.stringify({ file, batteryId: st.batteryId, status: st.status, time: new Date(st.time).toISOString() }) + '\n' : `${st.batteryId} is now '${st.status}'; statement kept in ${file} (exported with the passport)\n`);
    });
}
