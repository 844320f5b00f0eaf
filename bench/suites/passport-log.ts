// A provisioned board's ledger covering a long time at one telemetry record every 10 s, for the
// passport-verify benchmark, generated once and cached in the system's temporary folder (keyed
// by a format version and the record count) like checkpoint-log.ts: seq 0 a signed "provisioned"
// record with a device certificate from a generated fleet authority, telemetry as Merkle leaves
// (telemetry-fixture.ts), a signed lifecycle summary every hour, a deep-discharge event every
// day, a signed checkpoint every 1000 records, and a witness countersignature of one checkpoint a
// day (an endorsed collector key). The cache keeps the fleet's public key only.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { EntryKind } from '../../ledger/log/frame.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { MerkleFrontier } from '../../ledger/log/merkle.ts';
import { encodeCheckpoint, encodeRecord } from '../../ledger/log/record.ts';
import { sign1 } from '../../ledger/cose/sign1.ts';
import { TYP } from '../../ledger/typ.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { makeCertificateRequest, verifyCertificateRequest } from '../../ledger/identity/cert-request.ts';
import { issueCertificate } from '../../ledger/identity/device-cert.ts';
import { batteryDataFrom } from '../../ledger/identity/battery-data.ts';
import { provisionedBody } from '../../ledger/identity/identity-events.ts';
import { countersignCheckpoint, endorseWitness } from '../../ledger/identity/witness.ts';
import { encodeSummary, SUMMARY_TYPE, SUMMARY_VERSION } from '../../ledger/passport/lifecycle-summary.ts';
import { BOOT_ID, T0, recordAt } from './telemetry-fixture.ts';

export const PASSPORT_LOG_VERSION = 1;
const CHECKPOINT_EVERY = 1000;
const PER_HOUR = 360;
const PER_DAY = 8640;
const BATCH = 8192;
const BODIES = 64;
const BATTERY = 'urn:voltrail:battery:BENCH:PK-0001';

export interface PassportLog {
  dir: string;
  records: number;
  fleetPublicKey: Uint8Array;
  bytes: number;
  generated: boolean;
  generateSeconds?: number;
}

interface Manifest {
  version: number;
  records: number;
  fleetPublicKey: string;
  bytes: number;
}

export async function passportLog(records: number): Promise<PassportLog> {
  const dir = join(os.tmpdir(), `voltrail-bench-${os.userInfo().username}`, `passport-log-v${PASSPORT_LOG_VERSION}-${records}`);
  const manifestFile = join(dir, 'manifest.json');
  if (existsSync(manifestFile)) {
    const m = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    if (m.version === PASSPORT_LOG_VERSION && m.records === records) {
      return { dir: join(dir, 'ledger'), records, fleetPublicKey: Uint8Array.from(Buffer.from(m.fleetPublicKey, 'hex')), bytes: m.bytes, generated: false };
    }
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const { fleetPublicKey, bytes } = await generate(join(dir, 'ledger'), records);
  await writeFile(manifestFile, JSON.stringify({ version: PASSPORT_LOG_VERSION, records, fleetPublicKey: Buffer.from(fleetPublicKey).toString('hex'), bytes } satisfies Manifest));
  return { dir: join(dir, 'ledger'), records, fleetPublicKey, bytes, generated: true, generateSeconds: (performance.now() - t0) / 1000 };
}

async function generate(dir: string, records: number): Promise<{ fleetPublicKey: Uint8Array; bytes: number }> {
  const backend = (await pickBackend('secp256k1')).backend;
  const fleet = PrivateKey.generate('secp256k1');
  const key = PrivateKey.generate('secp256k1');
  const witness = PrivateKey.generate('secp256k1');
  for (const k of [fleet, key, witness]) k.useBackend(backend);
  const battery = batteryDataFrom({ manufacturer: 'Bench Cells', model: 'PK-225', chemistry: 'NMC', capacityAh: 225, massKg: 480, nominalV: 355 });
  const request = verifyCertificateRequest(makeCertificateRequest({ key, batteryId: BATTERY, boardId: 'bench-board', battery, time: T0 - 1000 }));
  const certificate = issueCertificate({ authority: fleet, issuer: 'bench fleet', request, now: T0 - 1000, validDays: 3650 });
  const endorsement = endorseWitness({ authority: fleet, issuer: 'bench fleet', name: 'bench-collector', witness: { publicKey: witness.publicKey, curve: 'secp256k1' }, now: T0 - 1000 });
  const bodies: CborValue[] = Array.from({ length: BODIES }, (_, i) => recordAt(i).body);
  const log = await SegmentLog.open(dir, { segmentBytes: 64 * 1024 * 1024 });
  const frontier = new MerkleFrontier();
  let last: Promise<number> | undefined;
  const add = (kind: number, payload: Uint8Array): void => {
    last = log.append(kind, payload);
  };
  let events = 0;
  const signed = (type: string, body: CborValue, time: number): void => {
    const seq = frontier.size;
    const rec = encodeRecord({ seq, time, type, body, mono: seq * 10_000, boot: BOOT_ID });
    const cose = sign1({ payload: rec, typ: TYP.event, signer: key });
    frontier.append(cose);
    add(EntryKind.signedRecord, cose);
  };
  let day = -1;
  const checkpoint = (time: number): void => {
    const payload = encodeCheckpoint({ size: frontier.size, root: frontier.root(), time, logId: key.kid, mono: frontier.size * 10_000, boot: BOOT_ID });
    const cp = sign1({ payload, typ: TYP.checkpoint, signer: key });
    add(EntryKind.checkpoint, cp);
    if (Math.floor((time - T0) / 86_400_000) !== day) {
      day = Math.floor((time - T0) / 86_400_000);
      add(EntryKind.witness, countersignCheckpoint({ checkpoint: cp, witnessKey: witness, endorsement, time: time + 30_000 }));
    }
  };
  signed('provisioned', provisionedBody(certificate, BATTERY), T0 - 500);
  events++;
  for (let i = 1; i < records; i++) {
    const time = T0 + i * 10_000;
    if (i % PER_DAY === 0) {
      signed('deep-discharge', new Map<number, CborValue>([[1, 2], [2, new Map<CborValue, CborValue>([['socPermille', 30]])]]), time);
      events++;
    } else if (i % PER_HOUR === 0) {
      const efc = i / PER_DAY;
      const q = (value: number, unit: string) => ({ value, unit, updated: time, provenance: 'derived' as const });
      signed(SUMMARY_TYPE, encodeSummary({ version: SUMMARY_VERSION, events, quantities: { numberOfFullCycles: q(efc, '1'), capacityThroughput: q(efc * 450, 'A.h'), stateOfCertifiedEnergy: q(100 - efc * 0.02, '%') } }), time);
    } else {
      const leaf = encodeRecord({ seq: frontier.size, time, type: 'telemetry', body: bodies[i % BODIES]!, simulated: true, mono: i * 10_000, boot: BOOT_ID });
      frontier.append(leaf);
      add(EntryKind.leaf, leaf);
    }
    if (frontier.size % CHECKPOINT_EVERY === 0) checkpoint(time);
    if (i % BATCH === BATCH - 1) await last;
  }
  if (frontier.size % CHECKPOINT_EVERY !== 0) checkpoint(T0 + records * 10_000);
  await last;
  await log.close();
  let bytes = 0;
  for (const name of await readdir(dir)) bytes += (await stat(join(dir, name))).size;
  return { fleetPublicKey: fleet.publicKey, bytes };
}
