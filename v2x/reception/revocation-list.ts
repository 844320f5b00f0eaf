// The pseudonym revocation list (v2x/cddl/revocation.cddl): the fleet authority signs the
// digests of pseudonyms it revoked (a stolen key, a vehicle caught misbehaving by
// misbehaviour reports), with when it was issued and when the next list is due, as a
// COSE_Sign1 with typ TYP.v2xRevocationList. Receivers load the newest list (an older one
// never replaces a newer: a rollback would un-revoke) and refuse messages from listed signers
// before spending a signature verification on them (counted as "revoked"). ETSI TS 102 941
// distributes certificate revocation lists the same way (signed by the issuing authority,
// with a next-update time); here the list names signer digests, the kid every message carries.
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { sign1, verify1 } from '../../ledger/cose/sign1.ts';
import type { CoseSigner, VerifyKey } from '../../ledger/cose/sign1.ts';
import { ES256, ES256K } from '../../ledger/cose/algorithms.ts';
import { TYP } from '../../ledger/typ.ts';
import { array, bytes, decodeStruct, encodeStruct, int } from '../codec/schema.ts';
import type { Schema } from '../codec/schema.ts';
import { DIGEST_LENGTH } from '../security/pseudonym-certificate.ts';
import { asV2xError, V2xError } from '../v2x-error.ts';

/** Most entries a list may hold (about 900 kB): bounds what a receiver keeps in memory. */
export const MAX_REVOKED = 100_000;

const revocationSchema: Schema = {
  name: 'revocationList',
  fields: [
    { key: 1, name: 'issued', type: int(946_684_800, 7_258_118_400), unit: 's since the Unix epoch' },
    { key: 2, name: 'nextUpdate', type: int(946_684_800, 7_258_118_400), unit: 's since the Unix epoch' },
    { key: 3, name: 'revoked', type: array(bytes(DIGEST_LENGTH), 0, MAX_REVOKED) },
  ],
  check(v, path) {
    if ((v.nextUpdate as number) <= (v.issued as number)) throw new RangeError(`${path}.nextUpdate: ${String(v.nextUpdate)} is not after issued (${String(v.issued)})`);
  },
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export interface RevocationInput {
  /** ms since the Unix epoch (stored in whole seconds, rounded down). */
  issued: number;
  /** ms since the Unix epoch (stored in whole seconds, rounded up). */
  nextUpdate: number;
  revoked: readonly Uint8Array[];
}

/** The authority signs a revocation list (digests sorted and deduplicated: one encoding per set). */
export function issueRevocationList(authority: CoseSigner, input: RevocationInput): Uint8Array {
  const unique = new Map<string, Uint8Array>();
  for (const [i, d] of input.revoked.entries()) {
    if (!(d instanceof Uint8Array) || d.length !== DIGEST_LENGTH) throw new RangeError(`revoked[${i}]: expected an ${DIGEST_LENGTH}-byte signer digest`);
    unique.set(hex(d), d);
  }
  const revoked = [...unique.keys()].sort().map((k) => unique.get(k)!);
  const claims = encodeStruct(revocationSchema, { issued: Math.floor(input.issued / 1000), nextUpdate: Math.ceil(input.nextUpdate / 1000), revoked });
  return sign1({ payload: encodeCanonical(claims), typ: TYP.v2xRevocationList, signer: authority });
}

export interface RevocationList {
  /** ms since the Unix epoch. */
  readonly issued: number;
  readonly nextUpdate: number;
  readonly size: number;
  has(digest: Uint8Array | string): boolean;
}

/** Checks the authority's signature and the claims; throws V2xError('bad-certificate'). */
export function readRevocationList(listBytes: Uint8Array, authorities: (kid: Uint8Array) => VerifyKey | undefined): RevocationList {
  let payload: Uint8Array;
  try {
    payload = verify1(listBytes, { keys: authorities, typ: TYP.v2xRevocationList, algs: [ES256, ES256K], maxSize: 64 + MAX_REVOKED * 9 + 256 }).payload;
  } catch (err) {
    const e = asV2xError(err, 'revocation list');
    throw new V2xError('bad-certificate', e.message, { cause: err });
  }
  let claims: Record<string, unknown>;
  try {
    claims = decodeStruct(revocationSchema, decodeCbor(payload, { canonical: true, maxDepth: 3, maxSize: 64 + MAX_REVOKED * 9 + 64 }));
  } catch (err) {
    throw new V2xError('bad-certificate', `revocation list: ${(err as Error).message}`, { cause: err });
  }
  const set = new Set((claims.revoked as Uint8Array[]).map(hex));
  return {
    issued: (claims.issued as number) * 1000,
    nextUpdate: (claims.nextUpdate as number) * 1000,
    size: set.size,
    has: (d) => set.has(typeof d === 'string' ? d : hex(d)),
  };
}

/** The receiver's current list: only a newer list replaces it (no rollback). */
export class RevocationStore {
  #list: RevocationList | undefined;
  readonly #authorities: (kid: Uint8Array) => VerifyKey | undefined;

  constructor(authorities: (kid: Uint8Array) => VerifyKey | undefined) {
    this.#authorities = authorities;
  }

  get current(): RevocationList | undefined {
    return this.#list;
  }

  /** Loads a signed list; returns false (and keeps the current one) when it is not newer. */
  load(listBytes: Uint8Array): boolean {
    const next = readRevocationList(listBytes, this.#authorities);
    if (this.#list !== undefined && next.issued <= this.#list.issued) return false;
    this.#list = next;
    return true;
  }

  isRevoked(signerId: string): boolean {
    return this.#list?.has(signerId) ?? false;
  }
}
