// Battery status statements (EU Battery Regulation 2023/1542 Annex XIII 4: "original",
// "repurposed", "reused", "remanufactured", "waste"): a COSE_Sign1 (typ TYP.batteryStatus,
// ledger/cddl/passport.cddl `status-statement`) signed by an authorised party: the fleet
// authority itself, or a key the fleet authority certified with role 'workshop' (its device
// certificate travels in the unprotected header, label -65537). A repurposed or remanufactured
// battery's new passport names its predecessor: the old battery's id and the hash of the last
// checkpoint of the old passport, so the old history is fixed when the new one starts.
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import { decodeCbor } from '../cbor/decode.ts';
import { Tagged, type CborValue } from '../cbor/value.ts';
import { KeyRing } from '../cose/key-ring.ts';
import { sign1, verify1, type CoseSigner } from '../cose/sign1.ts';
import { CoseError } from '../cose/cose-error.ts';
import { TYP } from '../typ.ts';
import { isBatteryUrn } from '../identity/battery-id.ts';
import { decodeClaims, asMap, bytes, optText, text, uint } from '../identity/claims.ts';
import { verifyCertificate, type PublicKeyRef } from '../identity/device-cert.ts';
import { IdentityError } from '../identity/identity-error.ts';

export const BATTERY_STATUSES = ['original', 'repurposed', 'reused', 'remanufactured', 'waste'] as const;
export type BatteryStatus = (typeof BATTERY_STATUSES)[number];

/** COSE unprotected header label carrying the signer's certificate (private-use range). */
export const HDR_CERTIFICATE = -65537;

export interface StatusStatement {
  batteryId: string;
  status: BatteryStatus;
  /** Wall-clock ms the status took effect. */
  time: number;
  /** For a new passport of a repurposed / remanufactured battery: the old one. */
  predecessor?: { batteryId: string; checkpointHash: Uint8Array };
  /** For the old passport: the battery id of the new one. */
  successor?: string;
  note?: string;
}

export interface VerifiedStatus extends StatusStatement {
  /** Who signed: 'fleet authority' or "workshop <board id>". */
  signer: string;
  bytes: Uint8Array;
}

/** Which status may follow which: waste is final; original only first. */
export function allowedTransition(from: BatteryStatus | undefined, to: BatteryStatus): boolean {
  if (from === undefined) return true;
  if (from === 'waste') return false;
  return to !== 'original';
}

function encode(s: StatusStatement): Uint8Array {
  if (!isBatteryUrn(s.batteryId)) throw new RangeError(`battery id: '${s.batteryId}' is not a battery URN (urn:voltrail:battery:<manufacturer-id>:<serial>)`);
  if (!BATTERY_STATUSES.includes(s.status)) throw new RangeError(`status: '${String(s.status)}' is not one of ${BATTERY_STATUSES.join(', ')}`);
  const m = new Map<number, CborValue>([
    [1, s.batteryId],
    [2, s.status],
    [3, Math.round(s.time)],
  ]);
  if (s.predecessor) {
    if (!isBatteryUrn(s.predecessor.batteryId)) throw new RangeError(`predecessor: '${s.predecessor.batteryId}' is not a battery URN`);
    if (s.predecessor.checkpointHash.length !== 32) throw new RangeError('predecessor checkpoint hash: expected 32 bytes (SHA-256)');
    m.set(4, new Map<number, CborValue>([[1, s.predecessor.batteryId], [2, s.predecessor.checkpointHash]]));
  }
  if (s.successor !== undefined) {
    if (!isBatteryUrn(s.successor)) throw new RangeError(`successor: '${s.successor}' is not a battery URN`);
    m.set(5, s.successor);
  }
  if (s.note !== undefined) m.set(6, s.note);
  return encodeCanonical(m);
}

/** Signs a status statement; a workshop passes its certificate, the fleet authority none. */
export function signStatus(s: StatusStatement, signer: CoseSigner, certificate?: Uint8Array): Uint8Array {
  const unprotected = certificate ? new Map<number, CborValue>([[HDR_CERTIFICATE, certificate]]) : undefined;
  return sign1({ payload: encode(s), typ: TYP.batteryStatus, signer, unprotected });
}

/** Verifies a statement against the fleet authority key only; throws IdentityError. */
export function verifyStatus(input: Uint8Array, authority: PublicKeyRef): VerifiedStatus {
  const what = 'status statement';
  let v;
  try {
    // First try the authority itself; otherwise the certificate in the header must be the
    // authority's, for role 'workshop', and its key must have signed.
    try {
      v = verify1(input, { keys: new KeyRing([authority]).lookup, typ: TYP.batteryStatus });
    } catch (err) {
      if (!(err instanceof CoseError) || err.reason !== 'unknown-kid') throw err;
      v = undefined;
    }
  } catch (err) {
    if (err instanceof CoseError) throw new IdentityError('bad-signature', `${what}: ${err.message}`, { cause: err });
    throw err;
  }
  let signer = 'fleet authority';
  if (!v) {
    let unprot: CborValue;
    try {
      // Read the certificate from the unverified header, then check it and the signature.
      const peek = verify1PeekUnprotected(input);
      unprot = peek.get(HDR_CERTIFICATE) ?? null;
    } catch (err) {
      throw new IdentityError('malformed', `${what}: ${(err as Error).message}`);
    }
    if (!(unprot instanceof Uint8Array)) throw new IdentityError('wrong-authority', `${what}: signed by a key that is neither the fleet authority nor certified by it (no certificate attached)`);
    const cert = verifyCertificate(unprot, { authority });
    if (cert.role !== 'workshop') throw new IdentityError('wrong-key', `${what}: signed by a key certified for role '${cert.role}'; only the fleet authority or a 'workshop' may change a battery's status`);
    try {
      v = verify1(input, { keys: new KeyRing([cert.device]).lookup, typ: TYP.batteryStatus, algs: [-47, -7] });
    } catch (err) {
      if (err instanceof CoseError) throw new IdentityError(err.reason === 'unknown-kid' ? 'wrong-key' : 'bad-signature', `${what}: ${err.message}`, { cause: err });
      throw err;
    }
    signer = `workshop ${cert.boardId}`;
  }
  const m = decodeClaims(v.payload, what, [1, 2, 3, 4, 5, 6]);
  const batteryId = text(m, 1, what, 128);
  const status = text(m, 2, what, 32) as BatteryStatus;
  if (!BATTERY_STATUSES.includes(status)) throw new IdentityError('malformed', `${what}: status '${status}' is not one of ${BATTERY_STATUSES.join(', ')}`);
  const out: VerifiedStatus = { batteryId, status, time: uint(m, 3, what), signer, bytes: input };
  if (m.has(4)) {
    const p = asMap(m.get(4), `${what} predecessor`, [1, 2]);
    out.predecessor = { batteryId: text(p, 1, `${what} predecessor`, 128), checkpointHash: bytes(p, 2, `${what} predecessor`, 32) };
  }
  const succ = optText(m, 5, what, 128);
  if (succ !== undefined) out.successor = succ;
  const note = optText(m, 6, what, 1024);
  if (note !== undefined) out.note = note;
  return out;
}

function verify1PeekUnprotected(input: Uint8Array): ReadonlyMap<CborValue, CborValue> {
  const top = decodeCbor(input, { maxDepth: 16 });
  if (!(top instanceof Tagged) || !Array.isArray(top.value) || !(top.value[1] instanceof Map)) throw new TypeError('not a COSE_Sign1 message');
  return top.value[1];
}
