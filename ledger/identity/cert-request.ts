// A device's certificate request (ledger/cddl/cert-request.cddl): the device's public key, the
// battery it is fitted to, the static battery data and a nonce, signed with the very key to be
// certified (proof of possession), typ TYP.certificateRequest. The fleet authority checks the
// self-signature, refuses a nonce it has seen (a replayed request), and issues a certificate.
import { randomBytes } from 'node:crypto';
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import type { CborValue } from '../cbor/value.ts';
import { coseKey } from '../cose/key-thumbprint.ts';
import { KeyRing } from '../cose/key-ring.ts';
import { sign1, verify1 } from '../cose/sign1.ts';
import { CoseError } from '../cose/cose-error.ts';
import { ES256, ES256K } from '../cose/algorithms.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import type { Curve } from '../signers/backend.ts';
import { TYP } from '../typ.ts';
import { parseBatteryId } from './battery-id.ts';
import { decodeBatteryData, encodeBatteryData, type BatteryData } from './battery-data.ts';
import { bytes, decodeClaims, fromCoseKey, hex, optText, text, uint } from './claims.ts';
import { peekSign1Payload } from './cose-peek.ts';
import { IdentityError } from './identity-error.ts';

export type Role = 'device' | 'collector' | 'workshop';
const ROLES: readonly string[] = ['device', 'collector', 'workshop'];

export interface CertificateRequest {
  publicKey: Uint8Array;
  curve: Curve;
  kid: Uint8Array;
  batteryId: string;
  boardId: string;
  time: number;
  nonce: Uint8Array;
  role: Role;
  battery: BatteryData;
}

export interface RequestInput {
  key: PrivateKey;
  batteryId: string;
  boardId: string;
  battery: BatteryData;
  role?: Role;
  /** Wall-clock ms (default now). */
  time?: number;
  /** 16 bytes (default: fresh random). */
  nonce?: Uint8Array;
}

/** Makes and signs a certificate request with the key it asks to certify. */
export function makeCertificateRequest(input: RequestInput): Uint8Array {
  const batteryId = parseBatteryId(input.batteryId).urn;
  if (typeof input.boardId !== 'string' || input.boardId.length < 1 || input.boardId.length > 64) throw new RangeError('board id: expected 1..64 characters');
  const nonce = input.nonce ?? new Uint8Array(randomBytes(16));
  if (nonce.length !== 16) throw new RangeError('nonce: expected 16 bytes');
  const m = new Map<number, CborValue>([
    [1, coseKey(input.key.publicKey, input.key.curve)],
    [2, batteryId],
    [3, input.boardId],
    [4, Math.round(input.time ?? Date.now())],
    [5, nonce],
    [6, input.role ?? 'device'],
    [7, encodeBatteryData(input.battery)],
  ]);
  return sign1({ payload: encodeCanonical(m), typ: TYP.certificateRequest, signer: input.key });
}

function decodeRequest(payload: Uint8Array): CertificateRequest {
  const what = 'certificate request';
  const m = decodeClaims(payload, what, [1, 2, 3, 4, 5, 6, 7]);
  const key = fromCoseKey(m.get(1), `${what} field 1 (public key)`);
  const batteryId = text(m, 2, what, 64);
  try {
    parseBatteryId(batteryId);
  } catch (err) {
    throw new IdentityError('malformed', `${what}: field 2: ${(err as Error).message}`);
  }
  const role = optText(m, 6, what, 16) ?? 'device';
  if (!ROLES.includes(role)) throw new IdentityError('malformed', `${what}: field 6 (role) '${role}' is not device, collector or workshop`);
  let battery: BatteryData;
  try {
    battery = decodeBatteryData(m.get(7), `${what} field 7 (battery data)`);
  } catch (err) {
    throw new IdentityError('malformed', (err as Error).message);
  }
  const ring = new KeyRing([key]);
  return {
    ...key,
    kid: ring.add(key.publicKey, key.curve),
    batteryId,
    boardId: text(m, 3, what, 64),
    time: uint(m, 4, what),
    nonce: bytes(m, 5, what, 16),
    role: role as Role,
    battery,
  };
}

/** Checks a request's self-signature (proof of possession) and returns what it asks for. */
export function verifyCertificateRequest(bytes: Uint8Array): CertificateRequest {
  const req = decodeRequest(peekSign1Payload(bytes));
  try {
    const v = verify1(bytes, { keys: new KeyRing([req]).lookup, typ: TYP.certificateRequest, algs: [ES256K, ES256] });
    // The payload verified must be the one read: a second decode of the verified bytes.
    return decodeRequest(v.payload);
  } catch (err) {
    if (err instanceof CoseError) {
      throw new IdentityError('bad-signature', `certificate request: not signed by the key it asks to certify (kid ${hex(req.kid)}): ${err.message}`, { cause: err });
    }
    throw err;
  }
}
