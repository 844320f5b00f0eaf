// The device certificate (ledger/cddl/device-cert.cddl): a CWT (RFC 8392) whose claims bind a
// board's key (cnf, RFC 8747) to one battery (sub, a URN: battery-id.ts) for a validity window,
// with the static battery data given at provisioning, signed by the fleet authority as a
// COSE_Sign1 (ES256K) with typ TYP.deviceCertificate. The CWT tag (61) is not used: the typ
// header already names the structure, and voltrail's COSE profile is the bare tag 18.
import { randomBytes } from 'node:crypto';
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import type { CborValue } from '../cbor/value.ts';
import { coseKey, keyThumbprint } from '../cose/key-thumbprint.ts';
import { KeyRing } from '../cose/key-ring.ts';
import { sign1, verify1 } from '../cose/sign1.ts';
import { CoseError } from '../cose/cose-error.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import type { Curve } from '../signers/backend.ts';
import { TYP } from '../typ.ts';
import { decodeBatteryData, encodeBatteryData, type BatteryData } from './battery-data.ts';
import { isBatteryUrn } from './battery-id.ts';
import { asMap, bytes, decodeClaims, fromCoseKey, hex, sameBytes, text, uint } from './claims.ts';
import type { CertificateRequest, Role } from './cert-request.ts';
import { IdentityError } from './identity-error.ts';

// CWT claim keys (RFC 8392 section 4, RFC 8747 section 3.1).
const ISS = 1;
const SUB = 2;
const EXP = 4;
const NBF = 5;
const IAT = 6;
const CTI = 7;
const CNF = 8;
const CNF_COSE_KEY = 1;
// voltrail's private claims: below -65536, the CWT registry's private-use range.
const ROLE = -65537;
const BATTERY = -65538;
const BOARD = -65539;
const CLAIMS = [ISS, SUB, EXP, NBF, IAT, CTI, CNF, ROLE, BATTERY, BOARD];

export interface PublicKeyRef {
  publicKey: Uint8Array;
  curve: Curve;
}

export interface DeviceCertificate {
  /** The issuing fleet authority's name. */
  issuer: string;
  /** kid of the fleet key that signed it. */
  issuerKid: Uint8Array;
  batteryId: string;
  /** Seconds since the epoch, as CWT NumericDate. */
  issuedAt: number;
  notBefore: number;
  expires: number;
  serial: Uint8Array;
  device: PublicKeyRef;
  deviceKid: Uint8Array;
  role: Role;
  boardId: string;
  battery: BatteryData;
  /** The certificate's bytes (COSE_Sign1). */
  bytes: Uint8Array;
}

export interface IssueInput {
  authority: PrivateKey;
  issuer: string;
  request: CertificateRequest;
  validDays?: number;
  /** Wall-clock ms (default now). */
  now?: number;
  serial?: Uint8Array;
}

/** Issues a certificate for a request whose self-signature the caller has verified. */
export function issueCertificate(input: IssueInput): Uint8Array {
  const days = input.validDays ?? 3650;
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw new RangeError(`valid days: ${days} is not a whole number of days from 1 to 36500`);
  const now = Math.floor((input.now ?? Date.now()) / 1000);
  const r = input.request;
  const claims = new Map<number, CborValue>([
    [ISS, input.issuer],
    [SUB, r.batteryId],
    [IAT, now],
    [NBF, now],
    [EXP, now + days * 86_400],
    [CTI, input.serial ?? new Uint8Array(randomBytes(16))],
    [CNF, new Map<number, CborValue>([[CNF_COSE_KEY, coseKey(r.publicKey, r.curve)]])],
    [ROLE, r.role],
    [BATTERY, encodeBatteryData(r.battery)],
    [BOARD, r.boardId],
  ]);
  return sign1({ payload: encodeCanonical(claims), typ: TYP.deviceCertificate, signer: input.authority });
}

export interface CertificateChecks {
  /** The fleet authority's public key: the only trust anchor. */
  authority: PublicKeyRef;
  /** Check validity at this wall-clock time (ms); omit to skip (then check `validAt` per record). */
  at?: number;
  batteryId?: string;
  deviceKid?: Uint8Array;
}

function decodeCertificate(payload: Uint8Array, issuerKid: Uint8Array, bytesIn: Uint8Array): DeviceCertificate {
  const what = 'device certificate';
  const m = decodeClaims(payload, what, CLAIMS);
  const cnf = asMap(m.get(CNF), `${what} cnf (8)`, [CNF_COSE_KEY]);
  const device = fromCoseKey(cnf.get(CNF_COSE_KEY), `${what} cnf COSE_Key`);
  const sub = text(m, SUB, what, 64);
  if (!isBatteryUrn(sub)) throw new IdentityError('malformed', `${what}: sub (2) '${sub}' is not a battery URN (urn:voltrail:battery:<manufacturer-id>:<serial>)`);
  const role = text(m, ROLE, what, 16);
  if (role !== 'device' && role !== 'collector' && role !== 'workshop') throw new IdentityError('malformed', `${what}: role '${role}' is unknown`);
  let battery: BatteryData;
  try {
    battery = decodeBatteryData(m.get(BATTERY), `${what} battery data`);
  } catch (err) {
    throw new IdentityError('malformed', (err as Error).message);
  }
  return {
    issuer: text(m, ISS, what),
    issuerKid,
    batteryId: sub,
    issuedAt: uint(m, IAT, what),
    notBefore: uint(m, NBF, what),
    expires: uint(m, EXP, what),
    serial: bytes(m, CTI, what),
    device,
    deviceKid: keyThumbprint(device.publicKey, device.curve),
    role,
    boardId: text(m, BOARD, what, 64),
    battery,
    bytes: bytesIn,
  };
}

/** Whether a wall-clock time (ms) falls in the certificate's validity; throws IdentityError if not. */
export function checkValidAt(cert: DeviceCertificate, atMs: number, what = 'device certificate'): void {
  const s = Math.floor(atMs / 1000);
  if (s < cert.notBefore) throw new IdentityError('not-yet-valid', `${what} ${hex(cert.serial)} is not valid before ${new Date(cert.notBefore * 1000).toISOString()} (time checked: ${new Date(atMs).toISOString()})`);
  if (s >= cert.expires) throw new IdentityError('expired', `${what} ${hex(cert.serial)} expired at ${new Date(cert.expires * 1000).toISOString()} (time checked: ${new Date(atMs).toISOString()})`);
}

/** Checks a certificate against the fleet authority's key (and optionally time, battery, device key). */
export function verifyCertificate(certBytes: Uint8Array, checks: CertificateChecks): DeviceCertificate {
  let v;
  try {
    v = verify1(certBytes, { keys: new KeyRing([checks.authority]).lookup, typ: TYP.deviceCertificate });
  } catch (err) {
    if (err instanceof CoseError) {
      const reason = err.reason === 'unknown-kid' ? 'wrong-authority' : err.reason === 'bad-signature' ? 'bad-signature' : 'malformed';
      const msg = reason === 'wrong-authority' ? 'signed by another authority than the fleet key given' : err.message;
      throw new IdentityError(reason, `device certificate: ${msg}`, { cause: err });
    }
    throw err;
  }
  const cert = decodeCertificate(v.payload, v.kid, certBytes);
  if (checks.batteryId !== undefined && cert.batteryId !== checks.batteryId) {
    throw new IdentityError('wrong-battery', `device certificate is for battery ${cert.batteryId}, not ${checks.batteryId}`);
  }
  if (checks.deviceKid !== undefined && !sameBytes(cert.deviceKid, checks.deviceKid)) {
    throw new IdentityError('wrong-key', `device certificate binds key ${hex(cert.deviceKid)}, not this board's key ${hex(checks.deviceKid)}`);
  }
  if (checks.at !== undefined) checkValidAt(cert, checks.at);
  return cert;
}
