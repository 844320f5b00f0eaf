// The key-rotation statement (ledger/cddl/key-rotation.cddl): the board moves its log from an
// old key to a new one. The same canonical payload is signed twice, as two COSE_Sign1 with typ
// TYP.rotation: once by the old key (it hands over) and once by the new key (proof of possession,
// and it accepts the history). Both travel in the "key-rotated" ledger record, itself signed by
// the old key; the new key's certificate travels beside them. One signature alone is a forgery.
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import type { CborValue } from '../cbor/value.ts';
import { coseKey, keyThumbprint } from '../cose/key-thumbprint.ts';
import { KeyRing } from '../cose/key-ring.ts';
import { sign1, verify1 } from '../cose/sign1.ts';
import { CoseError } from '../cose/cose-error.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import { TYP } from '../typ.ts';
import { bytes, decodeClaims, fromCoseKey, hex, sameBytes, text, uint } from './claims.ts';
import type { PublicKeyRef } from './device-cert.ts';
import { IdentityError } from './identity-error.ts';

export type RotationReason = 'scheduled' | 'compromise-suspected' | 'algorithm-change';
export const ROTATION_REASONS: readonly RotationReason[] = ['scheduled', 'compromise-suspected', 'algorithm-change'];

export interface RotationStatement {
  oldKid: Uint8Array;
  newKey: PublicKeyRef;
  newKid: Uint8Array;
  time: number;
  reason: RotationReason;
  /** The sequence number the "key-rotated" record takes: later records are the new key's. */
  seq: number;
  batteryId: string;
}

export interface SignedRotation {
  byOld: Uint8Array;
  byNew: Uint8Array;
}

export function signRotation(input: { oldKey: PrivateKey; newKey: PrivateKey; time: number; reason: RotationReason; seq: number; batteryId: string }): SignedRotation {
  const payload = encodeCanonical(
    new Map<number, CborValue>([
      [1, input.oldKey.kid],
      [2, coseKey(input.newKey.publicKey, input.newKey.curve)],
      [3, Math.round(input.time)],
      [4, input.reason],
      [5, input.seq],
      [6, input.batteryId],
    ]),
  );
  return {
    byOld: sign1({ payload, typ: TYP.rotation, signer: input.oldKey }),
    byNew: sign1({ payload, typ: TYP.rotation, signer: input.newKey }),
  };
}

function decodeStatement(payload: Uint8Array): RotationStatement {
  const what = 'rotation statement';
  const m = decodeClaims(payload, what, [1, 2, 3, 4, 5, 6]);
  const newKey = fromCoseKey(m.get(2), `${what} field 2 (new key)`);
  const reason = text(m, 4, what, 32);
  if (!ROTATION_REASONS.includes(reason as RotationReason)) throw new IdentityError('malformed', `${what}: reason '${reason}' is not one of ${ROTATION_REASONS.join(', ')}`);
  return {
    oldKid: bytes(m, 1, what, 32),
    newKey,
    newKid: keyThumbprint(newKey.publicKey, newKey.curve),
    time: uint(m, 3, what),
    reason: reason as RotationReason,
    seq: uint(m, 5, what),
    batteryId: text(m, 6, what, 64),
  };
}

/** Checks both signatures: by `oldKey` and by the new key the statement names; same payload. */
export function verifyRotation(signed: SignedRotation, oldKey: PublicKeyRef): RotationStatement {
  let old;
  try {
    old = verify1(signed.byOld, { keys: new KeyRing([oldKey]).lookup, typ: TYP.rotation });
  } catch (err) {
    if (err instanceof CoseError) throw new IdentityError('bad-rotation', `rotation statement: the old key's signature does not verify: ${err.message}`, { cause: err });
    throw err;
  }
  const st = decodeStatement(old.payload);
  if (!sameBytes(st.oldKid, old.kid)) throw new IdentityError('bad-rotation', `rotation statement names old key ${hex(st.oldKid)} but is signed by ${hex(old.kid)}`);
  let neu;
  try {
    neu = verify1(signed.byNew, { keys: new KeyRing([st.newKey]).lookup, typ: TYP.rotation });
  } catch (err) {
    if (err instanceof CoseError) throw new IdentityError('bad-rotation', `rotation statement: not signed by the new key ${hex(st.newKid)} it names (a rotation needs both keys): ${err.message}`, { cause: err });
    throw err;
  }
  if (!sameBytes(neu.payload, old.payload)) throw new IdentityError('bad-rotation', 'rotation statement: the old and new keys signed different statements');
  return st;
}
