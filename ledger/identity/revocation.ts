// The fleet authority's revocation list (ledger/cddl/revocation-list.cddl): a COSE_Sign1 with
// typ TYP.revocationList over {number, issued, issuer, revoked: [{kid, revoked-at, reason}]}.
// Lists are cumulative: list n+1 holds every entry of list n. A verifier given several keeps the
// highest number and refuses any older list that names a kid the newer one lacks (an entry may
// never disappear), or a newer one that moves a revocation later: see `mergeRevocationLists`.
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import type { CborValue } from '../cbor/value.ts';
import { KeyRing } from '../cose/key-ring.ts';
import { sign1, verify1 } from '../cose/sign1.ts';
import { CoseError } from '../cose/cose-error.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import { TYP } from '../typ.ts';
import { asMap, bytes, decodeClaims, hex, text, uint } from './claims.ts';
import type { PublicKeyRef } from './device-cert.ts';
import { IdentityError } from './identity-error.ts';

export type RevocationReason = 'lost' | 'stolen' | 'compromised' | 'retired' | 'superseded';
export const REVOCATION_REASONS: readonly RevocationReason[] = ['lost', 'stolen', 'compromised', 'retired', 'superseded'];

export interface Revocation {
  kid: Uint8Array;
  /** Wall-clock ms from which the key's signatures are refused. */
  revokedAt: number;
  reason: RevocationReason;
}

export interface RevocationList {
  number: number;
  /** Wall-clock ms. */
  issued: number;
  issuer: string;
  revoked: Revocation[];
}

export function signRevocationList(list: RevocationList, authority: PrivateKey): Uint8Array {
  const entries = list.revoked.map(
    (r) =>
      new Map<number, CborValue>([
        [1, r.kid],
        [2, r.revokedAt],
        [3, r.reason],
      ]),
  );
  const m = new Map<number, CborValue>([
    [1, list.number],
    [2, list.issued],
    [3, list.issuer],
    [4, entries],
  ]);
  return sign1({ payload: encodeCanonical(m), typ: TYP.revocationList, signer: authority });
}

export function verifyRevocationList(bytesIn: Uint8Array, authority: PublicKeyRef): RevocationList {
  const what = 'revocation list';
  let v;
  try {
    v = verify1(bytesIn, { keys: new KeyRing([authority]).lookup, typ: TYP.revocationList });
  } catch (err) {
    if (err instanceof CoseError) throw new IdentityError(err.reason === 'unknown-kid' ? 'wrong-authority' : 'bad-signature', `${what}: ${err.message}`, { cause: err });
    throw err;
  }
  const m = decodeClaims(v.payload, what, [1, 2, 3, 4]);
  const arr = m.get(4);
  if (!Array.isArray(arr)) throw new IdentityError('malformed', `${what}: field 4 must be an array`);
  const issued = uint(m, 2, what);
  const revoked = arr.map((e, i) => {
    const w = `${what} entry ${i}`;
    const em = asMap(e, w, [1, 2, 3]);
    const reason = text(em, 3, w, 16);
    if (!REVOCATION_REASONS.includes(reason as RevocationReason)) throw new IdentityError('malformed', `${w}: reason '${reason}' is not one of ${REVOCATION_REASONS.join(', ')}`);
    const revokedAt = uint(em, 2, w);
    if (revokedAt > issued) throw new IdentityError('malformed', `${w}: revoked at ${new Date(revokedAt).toISOString()}, after the list was issued`);
    return { kid: bytes(em, 1, w, 32), revokedAt, reason: reason as RevocationReason };
  });
  return { number: uint(m, 1, what), issued, issuer: text(m, 3, what), revoked };
}

/**
 * Verifies several lists and keeps the newest (highest number). Refuses two different lists with
 * one number, and an older list naming a kid the newer lacks or revoking it earlier (a rollback or
 * a forged history). Returns the revocation time per kid (hex) from the newest list.
 */
export function mergeRevocationLists(lists: readonly Uint8Array[], authority: PublicKeyRef): { newest?: RevocationList; revokedAt: Map<string, Revocation> } {
  const parsed = lists.map((b) => verifyRevocationList(b, authority)).sort((a, b) => b.number - a.number);
  const newest = parsed[0];
  const revokedAt = new Map<string, Revocation>();
  if (newest === undefined) return { revokedAt };
  for (const r of newest.revoked) revokedAt.set(hex(r.kid), r);
  for (const older of parsed.slice(1)) {
    if (older.number === newest.number && older.issued !== newest.issued) {
      throw new IdentityError('crl-rollback', `two different revocation lists carry number ${older.number}`);
    }
    for (const r of older.revoked) {
      const now = revokedAt.get(hex(r.kid));
      if (now === undefined) throw new IdentityError('crl-rollback', `revocation list ${newest.number} drops kid ${hex(r.kid)}, revoked in list ${older.number}: lists are cumulative, refusing the newer one`);
      if (now.revokedAt > r.revokedAt) throw new IdentityError('crl-rollback', `revocation list ${newest.number} moves the revocation of kid ${hex(r.kid)} later than list ${older.number} did`);
    }
  }
  return { newest, revokedAt };
}
