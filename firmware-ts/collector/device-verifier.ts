// The collector's check of one device log, entry by entry, as batches arrive (the same rules
// as ledger/identity/verify-history.ts, applied incrementally): the log must open with a signed
// "provisioned" record whose certificate the fleet authority signed for the key this topic names;
// every signed entry must verify with the key certified at that point (rotations hand over with
// both keys' signatures); every record's sequence must equal its position; record and checkpoint
// times must fall within the key's certificate and before any revocation of it; each checkpoint's
// size and root must match the leaves before it; witness entries must be countersignatures by a
// witness the fleet endorsed, of a checkpoint of this log. Unsigned leaves are accepted only once
// a verified checkpoint covers them, so a run is accepted up to its last "safe" point (nothing
// uncovered before it); the uncovered tail waits for the checkpoint that covers it.
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { verify1 } from '../../ledger/cose/sign1.ts';
import { CoseError } from '../../ledger/cose/cose-error.ts';
import { EntryKind } from '../../ledger/log/frame.ts';
import type { MerkleFrontier } from '../../ledger/log/merkle.ts';
import { decodeCheckpoint, decodeRecord } from '../../ledger/log/record.ts';
import { TYP } from '../../ledger/typ.ts';
import { hex, sameBytes } from '../../ledger/identity/claims.ts';
import { peekSign1Payload } from '../../ledger/identity/cose-peek.ts';
import { checkValidAt, verifyCertificate, type DeviceCertificate, type PublicKeyRef } from '../../ledger/identity/device-cert.ts';
import { IdentityError } from '../../ledger/identity/identity-error.ts';
import { detailBytes, EVENT_KEY_ROTATED, EVENT_PROVISIONED, eventDetails } from '../../ledger/identity/identity-events.ts';
import type { Revocation } from '../../ledger/identity/revocation.ts';
import { verifyRotation } from '../../ledger/identity/rotation.ts';
import { verifyCountersignature } from '../../ledger/identity/witness.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { RefusalReason, WireEntry } from '../uplink/wire.ts';

/** What the collector keeps about a device log beside its entries (state.json). */
export interface DeviceState {
  format: 'voltrail-fleet-device/1';
  logId: string;
  /** Entries stored (the next index expected). */
  count: number;
  /** Merkle leaves (records) stored. */
  records: number;
  batteryId?: string;
  /** Certificates (hex) of the log's keys, in order; the last is the current key. */
  certificates: string[];
  /** After a rotation the old key may still sign the checkpoint covering records up to this sequence. */
  previousUntilSeq?: number;
  checkpoints: number;
  witnesses: number;
  /** The last few checkpoints (hex COSE bytes by tree size), to check witness entries against. */
  recentCheckpoints: [size: number, hex: string][];
  lastRecordTime?: number;
}

export const RECENT_CHECKPOINTS = 64;

export function newDeviceState(logId: string): DeviceState {
  return { format: 'voltrail-fleet-device/1', logId, count: 0, records: 0, certificates: [], checkpoints: 0, witnesses: 0, recentCheckpoints: [] };
}

export class Refusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifierTrust {
  authority: PublicKeyRef;
  /** Revocations now in force (the newest revocation list), by hex kid. */
  revoked: () => ReadonlyMap<string, Revocation>;
}

export interface RunResult {
  /** Entries accepted, from the start of the run. */
  accepted: number;
  state: DeviceState;
  frontier: MerkleFrontier;
  /** COSE bytes of the checkpoints accepted, to countersign. */
  checkpoints: Uint8Array[];
  /** Set when an entry was refused: its index and why. The run stops there. */
  refused?: { index: number; reason: RefusalReason; detail: string };
}

const cloneState = (s: DeviceState): DeviceState => ({ ...s, certificates: s.certificates.slice(), recentCheckpoints: s.recentCheckpoints.slice() });

/** Maps an identity check's reason to the collector's refusal counters. */
function refusalOf(err: IdentityError): RefusalReason {
  switch (err.reason) {
    case 'revoked':
      return 'revoked';
    case 'replayed':
    case 'wrong-battery':
      return 'replayed';
    case 'bad-signature':
    case 'bad-rotation':
    case 'bad-link':
      return 'forged';
    case 'malformed':
    case 'crl-rollback':
      return 'malformed';
    default:
      return 'uncertified';
  }
}

export class DeviceVerifier {
  readonly #trust: VerifierTrust;
  /** Finds a checkpoint of this log older than the recent ones (reads the stored log). */
  readonly #findCheckpoint: (size: number) => Promise<Uint8Array | undefined>;

  constructor(trust: VerifierTrust, findCheckpoint: (size: number) => Promise<Uint8Array | undefined>) {
    this.#trust = trust;
    this.#findCheckpoint = findCheckpoint;
  }

  /** Checks `entries` (starting at index state.count) against the log so far. Never throws for bad input. */
  async run(state: DeviceState, frontier: MerkleFrontier, entries: readonly WireEntry[]): Promise<RunResult> {
    const s = cloneState(state);
    const f = frontier.clone();
    let uncovered = 0;
    const checkpoints: Uint8Array[] = [];
    let safe: RunResult = { accepted: 0, state: cloneState(s), frontier: f.clone(), checkpoints: [] };
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const index = state.count + i;
      try {
        const r = await this.#apply(s, f, e);
        if (r.leaf) uncovered++;
        if (r.checkpoint) {
          uncovered = 0;
          checkpoints.push(e.payload);
        }
        s.count = index + 1;
      } catch (err) {
        const refusal =
          err instanceof Refusal
            ? err
            : err instanceof IdentityError
              ? new Refusal(refusalOf(err), err.message)
              : err instanceof CoseError
                ? new Refusal(err.reason === 'bad-signature' ? 'forged' : 'malformed', err.message)
                : err instanceof TypeError || err instanceof RangeError
                  ? new Refusal('malformed', err.message)
                  : undefined;
        if (!refusal) throw err;
        return { ...safe, refused: { index, reason: refusal.reason, detail: `entry ${index}: ${refusal.message}` } };
      }
      if (uncovered === 0) safe = { accepted: i + 1, state: cloneState(s), frontier: f.clone(), checkpoints: checkpoints.slice() };
    }
    return safe;
  }

  /** Certificates checked once (they are in state.json only after a check), by their hex. */
  readonly #certs = new Map<string, DeviceCertificate>();

  #certificate(s: DeviceState, i: number): DeviceCertificate {
    const h = s.certificates[i]!;
    let c = this.#certs.get(h);
    if (!c) {
      c = verifyCertificate(new Uint8Array(Buffer.from(h, 'hex')), { authority: this.#trust.authority, batteryId: s.batteryId });
      if (this.#certs.size > 64) this.#certs.clear();
      this.#certs.set(h, c);
    }
    return c;
  }

  #checkTime(cert: DeviceCertificate, time: number, what: string): void {
    checkValidAt(cert, time, `${what}: the certificate of key ${hex(cert.deviceKid).slice(0, 16)}…`);
    const r = this.#trust.revoked().get(hex(cert.deviceKid));
    if (r && time >= r.revokedAt) {
      throw new Refusal('revoked', `${what} is signed by key ${hex(cert.deviceKid).slice(0, 16)}…, revoked (${r.reason}) at ${new Date(r.revokedAt).toISOString()}, and made at ${new Date(time).toISOString()}`);
    }
  }

  async #apply(s: DeviceState, f: MerkleFrontier, e: WireEntry): Promise<{ leaf?: boolean; checkpoint?: boolean }> {
    const seq = s.records;
    if (e.kind === EntryKind.signedRecord || e.kind === EntryKind.leaf) {
      const what = `record ${seq}`;
      if (s.certificates.length === 0) {
        if (e.kind !== EntryKind.signedRecord) throw new Refusal('uncertified', `${what}: a device log must open with a signed "provisioned" record carrying its fleet certificate`);
        const rec = decodeRecord(peekSign1Payload(e.payload), what);
        if (rec.type !== EVENT_PROVISIONED) throw new Refusal('uncertified', `${what} is '${rec.type}': a device log must open with a "provisioned" record`);
        const cert = verifyCertificate(detailBytes(eventDetails(rec.body, what), 'certificate', what), { authority: this.#trust.authority });
        if (cert.role !== 'device') throw new Refusal('uncertified', `${what}: the certificate's role is '${cert.role}', not 'device'`);
        if (hex(cert.deviceKid) !== s.logId) {
          throw new Refusal('replayed', `${what}: the log certifies key ${hex(cert.deviceKid).slice(0, 16)}… but arrived on the topic of log ${s.logId.slice(0, 16)}…: another device's log replayed`);
        }
        s.batteryId = cert.batteryId;
        s.certificates.push(hex(cert.bytes));
      }
      const current = this.#certificate(s, s.certificates.length - 1);
      let record;
      if (e.kind === EntryKind.signedRecord) {
        let v;
        try {
          v = verify1(e.payload, { keys: new KeyRing([current.device]).lookup, typ: [TYP.record, TYP.event] });
        } catch (err) {
          if (err instanceof CoseError && err.reason === 'unknown-kid') throw new Refusal('uncertified', `${what} is signed by a key no certificate of this log binds (the certified key is ${hex(current.deviceKid).slice(0, 16)}…)`);
          if (err instanceof CoseError) throw new Refusal('forged', `${what}: ${err.message}`);
          throw err;
        }
        record = decodeRecord(v.payload, what);
        if ((v.typ === TYP.record) !== (record.type === 'telemetry')) throw new Refusal('forged', `${what} of type '${record.type}' is signed as ${v.typ}`);
      } else record = decodeRecord(e.payload, what);
      if (record.seq !== seq) throw new Refusal('replayed', `${what} carries sequence ${record.seq}: a record replayed or out of place`);
      this.#checkTime(current, record.time, what);
      if (record.type === EVENT_PROVISIONED && seq !== 0) throw new Refusal('malformed', `${what}: a second "provisioned" record`);
      if (record.type === EVENT_KEY_ROTATED) {
        if (e.kind !== EntryKind.signedRecord) throw new Refusal('forged', `${what}: a rotation must be a signed record`);
        const d = eventDetails(record.body as CborValue, what);
        const st = verifyRotation({ byOld: detailBytes(d, 'rotation-old', what), byNew: detailBytes(d, 'rotation-new', what) }, current.device);
        if (st.seq !== seq) throw new Refusal('replayed', `${what}: the rotation statement is for sequence ${st.seq}, not ${seq}`);
        if (st.batteryId !== s.batteryId) throw new Refusal('replayed', `${what}: the rotation statement is for battery ${st.batteryId}, not ${s.batteryId}`);
        const next = verifyCertificate(detailBytes(d, 'certificate', what), { authority: this.#trust.authority, batteryId: s.batteryId });
        if (!sameBytes(next.deviceKid, st.newKid)) throw new Refusal('forged', `${what}: the new certificate binds another key than the rotation names`);
        s.certificates.push(hex(next.bytes));
        s.previousUntilSeq = seq + 1;
      }
      f.append(e.payload);
      s.records++;
      s.lastRecordTime = record.time;
      return { leaf: e.kind === EntryKind.leaf };
    }
    if (e.kind === EntryKind.checkpoint) {
      const what = `checkpoint after record ${seq - 1}`;
      if (s.certificates.length === 0) throw new Refusal('uncertified', `${what}: a checkpoint before the "provisioned" record`);
      const n = s.certificates.length;
      const keys = [this.#certificate(s, n - 1)];
      if (n > 1 && s.previousUntilSeq !== undefined && seq <= s.previousUntilSeq) keys.push(this.#certificate(s, n - 2));
      let v;
      try {
        v = verify1(e.payload, { keys: new KeyRing(keys.map((k) => k.device)).lookup, typ: TYP.checkpoint });
      } catch (err) {
        if (err instanceof CoseError && err.reason === 'unknown-kid') throw new Refusal('uncertified', `${what} is signed by a key no certificate of this log binds`);
        if (err instanceof CoseError) throw new Refusal('forged', `${what}: ${err.message}`);
        throw err;
      }
      const c = decodeCheckpoint(v.payload, what);
      if (!sameBytes(c.logId, v.kid)) throw new Refusal('forged', `${what} names log ${hex(c.logId).slice(0, 16)}… but is signed by ${hex(v.kid).slice(0, 16)}…`);
      if (c.size !== f.size) throw new Refusal('forged', `${what} covers ${c.size} records but ${f.size} precede it`);
      if (!sameBytes(c.root, f.root())) throw new Refusal('forged', `${what}: its root ${hex(c.root).slice(0, 16)}… is not the root of the ${c.size} records received: a record was changed`);
      this.#checkTime(keys.find((k) => sameBytes(k.deviceKid, v.kid))!, c.time, what);
      s.checkpoints++;
      s.recentCheckpoints.push([c.size, hex(e.payload)]);
      if (s.recentCheckpoints.length > RECENT_CHECKPOINTS) s.recentCheckpoints.shift();
      return { checkpoint: true };
    }
    // A witness countersignature the board keeps: by a witness the fleet endorsed, of a checkpoint of this log.
    const what = `witness entry after record ${seq - 1}`;
    const statementSize = witnessSize(e.payload, what);
    const recent = s.recentCheckpoints.find(([size]) => size === statementSize);
    const checkpoint = recent ? new Uint8Array(Buffer.from(recent[1], 'hex')) : await this.#findCheckpoint(statementSize);
    if (!checkpoint) throw new Refusal('forged', `${what}: it countersigns a checkpoint at tree size ${statementSize}, which this log does not have`);
    const revoked = this.#trust.revoked();
    verifyCountersignature(e.payload, {
      authority: this.#trust.authority,
      checkpoint,
      revoked: (kid, at) => {
        const r = revoked.get(hex(kid));
        return r !== undefined && at >= r.revokedAt;
      },
    });
    s.witnesses++;
    return {};
  }
}

/** The tree size a countersignature's statement names (read before the full check, to find the checkpoint). */
function witnessSize(bytes: Uint8Array, what: string): number {
  const payload = peekSign1Payload(bytes);
  const m = decodeRecordLike(payload);
  const size = m?.get(3);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new Refusal('malformed', `${what}: not a witness statement (no tree size)`);
  return size;
}

function decodeRecordLike(payload: Uint8Array): ReadonlyMap<CborValue, CborValue> | undefined {
  try {
    const v = decodeCbor(payload, { maxDepth: 4, maxSize: 4096 });
    return v instanceof Map ? v : undefined;
  } catch {
    return undefined;
  }
}
