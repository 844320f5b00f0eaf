// A provisioned board's ledger covering a long time at one telemetry record every 10 s, for the
// passport-verify benchmark, generated once and cached in the system's temporary folder (keyed
// by a format version and the record count, log-cache.ts) and written by BatchLogWriter like
// checkpoint-log.ts (batched group commits and leaf hashing): seq 0 a signed "provisioned"
// record with a device certificate from a generated fleet authority, telemetry as Merkle leaves
// (telemetry-fixture.ts), a signed lifecycle summary every hour, a deep-discharge event every
// day, a signed checkpoint every 1000 records, and a witness countersignature of one checkpoint a
// day (an endorsed collector key). The cache keeps the fleet's public key only.
import { EntryKind } from '../../ledger/log/frame.ts';
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
import { BatchLogWriter } from './batch-log-writer.ts';
import { cachedLog, type CachedLog } from './log-cache.ts';
import { BOOT_ID, T0, fixtureLeaves } from './telemetry-fixture.ts';

/** Bump when the generated ledger's content or the segment format changes (2: the shared cache manifest). */
export const PASSPORT_LOG_VERSION = 2;
const CHECKPOINT_EVERY = 1000;
const PER_HOUR = 360;
const PER_DAY = 8640;
const BODIES = 64;
const BATTERY = 'urn:voltrail:battery:BENCH:PK-0001';

/** `publicKey`: the fleet authority's SEC1 compressed key (secp256k1), the passport's trust anchor. */
export type PassportLog = CachedLog;

export function passportLog(records: number): Promise<PassportLog> {
  return cachedLog('passport-log', PASSPORT_LOG_VERSION, records, (dir) => generate(dir, records));
}

async function generate(dir: string, records: number): Promise<{ publicKey: Uint8Array; bytes: number }> {
  const backend = (await pickBackend('secp256k1')).backend;
  const fleet = PrivateKey.generate('secp256k1');
  const key = PrivateKey.generate('secp256k1');
  const witness = PrivateKey.generate('secp256k1');
  for (const k of [fleet, key, witness]) k.useBackend(backend);
  const battery = batteryDataFrom({ manufacturer: 'Bench Cells', model: 'PK-225', chemistry: 'NMC', capacityAh: 225, massKg: 480, nominalV: 355 });
  const request = verifyCertificateRequest(makeCertificateRequest({ key, batteryId: BATTERY, boardId: 'bench-board', battery, time: T0 - 1000 }));
  const certificate = issueCertificate({ authority: fleet, issuer: 'bench fleet', request, now: T0 - 1000, validDays: 3650 });
  const endorsement = endorseWitness({ authority: fleet, issuer: 'bench fleet', name: 'bench-collector', witness: { publicKey: witness.publicKey, curve: 'secp256k1' }, now: T0 - 1000 });
  const leafAt = fixtureLeaves(BODIES);
  const log = await BatchLogWriter.open(dir);
  let events = 0;
  const signed = (type: string, body: CborValue, time: number): void => {
    const seq = log.size;
    const rec = encodeRecord({ seq, time, type, body, mono: seq * 10_000, boot: BOOT_ID });
    log.leaf(EntryKind.signedRecord, sign1({ payload: rec, typ: TYP.event, signer: key }));
  };
  let day = -1;
  const checkpoint = (time: number): void => {
    const root = log.root();
    const payload = encodeCheckpoint({ size: log.size, root, time, logId: key.kid, mono: log.size * 10_000, boot: BOOT_ID });
    const cp = sign1({ payload, typ: TYP.checkpoint, signer: key });
    log.entry(EntryKind.checkpoint, cp);
    if (Math.floor((time - T0) / 86_400_000) !== day) {
      day = Math.floor((time - T0) / 86_400_000);
      log.entry(EntryKind.witness, countersignCheckpoint({ checkpoint: cp, witnessKey: witness, endorsement, time: time + 30_000 }));
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
      log.leaf(EntryKind.leaf, leafAt(i, log.size));
    }
    if (log.size % CHECKPOINT_EVERY === 0) checkpoint(time);
    if (log.full) await log.write();
  }
  if (log.size % CHECKPOINT_EVERY !== 0) checkpoint(T0 + records * 10_000);
  return { publicKey: fleet.publicKey, bytes: await log.close() };
}
