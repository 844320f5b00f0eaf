// Witnessed checkpoints (ledger/cddl/witness.cddl, ledger/cddl/checkpoint.cddl):
// - a fleet authority endorses a collector's witness key (typ TYP.witnessEndorsement): the
//   verifier then needs to pin only the fleet key;
// - the collector, having checked a device checkpoint against the records it holds, countersigns
//   it (typ TYP.witness) with a witness statement naming the checkpoint's hash, log, size and
//   root; its endorsement travels in the unprotected header, label WITNESS_ENDORSEMENT_LABEL;
// - the board keeps the countersignature in its own log (EntryKind.witness).
// A board that later shows a different history for a period a witness has seen is caught: the
// countersigned root no longer matches. The witness's clock (statement time) also bounds how far
// back a stolen board can date records (ledger/THREAT-MODEL.md).
import { createHash } from 'node:crypto';
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import { decodeCbor } from '../cbor/decode.ts';
import { Tagged, type CborValue } from '../cbor/value.ts';
import { coseKey, keyThumbprint } from '../cose/key-thumbprint.ts';
import { KeyRing } from '../cose/key-ring.ts';
import { COSE_SIGN1_TAG, sign1, verify1, type CoseSigner } from '../cose/sign1.ts';
import { CoseError } from '../cose/cose-error.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import { decodeCheckpoint } from '../log/record.ts';
import { TYP } from '../typ.ts';
import { bytes, decodeClaims, fromCoseKey, hex, sameBytes, text, uint } from './claims.ts';
import { peekSign1Payload } from './cose-peek.ts';
import type { PublicKeyRef } from './device-cert.ts';
import { IdentityError } from './identity-error.ts';

/** Unprotected header label of the witness endorsement in a countersignature (private use, < -65536). */
export const WITNESS_ENDORSEMENT_LABEL = -65601;

export interface WitnessEndorsement {
  /** The fleet authority's name. */
  issuer: string;
  /** kid of the fleet key that endorsed the witness. */
  issuerKid: Uint8Array;
  /** The collector's name, e.g. "depot-3". */
  name: string;
  witness: PublicKeyRef;
  witnessKid: Uint8Array;
  /** Wall-clock ms. */
  notBefore: number;
  expires: number;
  bytes: Uint8Array;
}

export interface WitnessStatement {
  /** SHA-256 of the checkpoint's COSE_Sign1 bytes. */
  checkpointHash: Uint8Array;
  logId: Uint8Array;
  size: number;
  root: Uint8Array;
  /** The witness's wall clock when it verified the checkpoint, ms. */
  time: number;
}

export interface EndorseInput {
  authority: PrivateKey;
  issuer: string;
  name: string;
  witness: PublicKeyRef;
  validDays?: number;
  /** Wall-clock ms (default now). */
  now?: number;
}

const ENDORSEMENT_FIELDS = [1, 2, 3, 4, 5] as const;
const STATEMENT_FIELDS = [1, 2, 3, 4, 5] as const;

/** The fleet authority's endorsement of a witness key. */
export function endorseWitness(input: EndorseInput): Uint8Array {
  const days = input.validDays ?? 3650;
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw new RangeError(`valid days: ${days} is not a whole number of days from 1 to 36500`);
  if (typeof input.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(input.name)) {
    throw new RangeError(`witness name: '${String(input.name)}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  const now = Math.round(input.now ?? Date.now());
  const m = new Map<number, CborValue>([
    [1, input.issuer],
    [2, input.name],
    [3, coseKey(input.witness.publicKey, input.witness.curve)],
    [4, now],
    [5, now + days * 86_400_000],
  ]);
  return sign1({ payload: encodeCanonical(m), typ: TYP.witnessEndorsement, signer: input.authority });
}

function coseFailure(err: unknown, what: string): never {
  if (err instanceof CoseError) {
    throw new IdentityError(err.reason === 'unknown-kid' ? 'wrong-authority' : err.reason === 'bad-signature' ? 'bad-signature' : 'malformed', `${what}: ${err.message}`, { cause: err });
  }
  throw err;
}

/** Checks an endorsement against the pinned fleet key (and its validity at `at`, when given). */
export function verifyWitnessEndorsement(bytesIn: Uint8Array, authority: PublicKeyRef, at?: number): WitnessEndorsement {
  const what = 'witness endorsement';
  let v;
  try {
    v = verify1(bytesIn, { keys: new KeyRing([authority]).lookup, typ: TYP.witnessEndorsement, maxSize: 4096 });
  } catch (err) {
    coseFailure(err, `${what} (is it from this fleet? check the fleet key given with --trust)`);
  }
  const m = decodeClaims(v.payload, what, ENDORSEMENT_FIELDS);
  const witness = fromCoseKey(m.get(3), `${what} field 3 (witness key)`);
  const e: WitnessEndorsement = {
    issuer: text(m, 1, what),
    issuerKid: v.kid,
    name: text(m, 2, what, 64),
    witness,
    witnessKid: keyThumbprint(witness.publicKey, witness.curve),
    notBefore: uint(m, 4, what),
    expires: uint(m, 5, what),
    bytes: bytesIn,
  };
  if (e.expires <= e.notBefore) throw new IdentityError('malformed', `${what} of witness '${e.name}': expires before it starts`);
  if (at !== undefined) checkEndorsementAt(e, at);
  return e;
}

/** Whether a wall-clock time (ms) falls within an endorsement's validity; throws IdentityError if not. */
export function checkEndorsementAt(e: WitnessEndorsement, atMs: number): void {
  if (atMs < e.notBefore) {
    throw new IdentityError('not-yet-valid', `witness '${e.name}' is endorsed from ${new Date(e.notBefore).toISOString()}, after the time checked (${new Date(atMs).toISOString()})`);
  }
  if (atMs >= e.expires) {
    throw new IdentityError('expired', `witness '${e.name}''s endorsement expired at ${new Date(e.expires).toISOString()} (time checked: ${new Date(atMs).toISOString()}); the fleet must endorse its key again`);
  }
}

export interface CountersignInput {
  /** The checkpoint's COSE_Sign1 bytes, exactly as stored in the device log. */
  checkpoint: Uint8Array;
  witnessKey: CoseSigner;
  /** The fleet's endorsement of `witnessKey`. */
  endorsement: Uint8Array;
  /** The witness's wall clock, ms. */
  time: number;
}

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/**
 * Countersigns a device checkpoint. The caller (the collector) must have verified the checkpoint's
 * signature and root against the records it holds first: this only reads its fields.
 */
export function countersignCheckpoint(input: CountersignInput): Uint8Array {
  if (!Number.isSafeInteger(Math.round(input.time)) || input.time < 0) throw new RangeError(`time: ${input.time} is not a wall-clock time in ms`);
  const c = decodeCheckpoint(peekSign1Payload(input.checkpoint), 'checkpoint to countersign');
  const statement = new Map<number, CborValue>([
    [1, sha256(input.checkpoint)],
    [2, c.logId],
    [3, c.size],
    [4, c.root],
    [5, Math.round(input.time)],
  ]);
  return sign1({
    payload: encodeCanonical(statement),
    typ: TYP.witness,
    signer: input.witnessKey,
    unprotected: new Map<number, CborValue>([[WITNESS_ENDORSEMENT_LABEL, input.endorsement]]),
  });
}

export interface VerifyCountersignatureOptions {
  /** The pinned fleet authority key: the only trust anchor. */
  authority: PublicKeyRef;
  /** The checkpoint's COSE_Sign1 bytes this countersignature must be about. */
  checkpoint: Uint8Array;
  /** Whether a key (by kid) was revoked at a wall-clock time (from the fleet's revocation lists). */
  revoked?: (kid: Uint8Array, atMs: number) => boolean;
}

/** Checks a countersignature: the witness's endorsement, its signature, and that it names exactly this checkpoint. */
export function verifyCountersignature(bytesIn: Uint8Array, opts: VerifyCountersignatureOptions): { statement: WitnessStatement; witness: WitnessEndorsement } {
  const what = 'witness countersignature';
  // The endorsement travels unprotected: read it, check it against the fleet key, then check the
  // countersignature with the key it endorses (an endorsement swapped in is then useless).
  const endorsementBytes = unprotectedHeader(bytesIn, what).get(WITNESS_ENDORSEMENT_LABEL);
  if (!(endorsementBytes instanceof Uint8Array)) throw new IdentityError('uncertified', `${what}: it carries no witness endorsement (header ${WITNESS_ENDORSEMENT_LABEL})`);
  let witness: WitnessEndorsement;
  try {
    witness = verifyWitnessEndorsement(endorsementBytes, opts.authority);
  } catch (err) {
    if (err instanceof IdentityError) throw new IdentityError(err.reason, `${what}: ${err.message}`, { cause: err });
    throw err;
  }
  let v;
  try {
    v = verify1(bytesIn, { keys: new KeyRing([witness.witness]).lookup, typ: TYP.witness, maxSize: 8192 });
  } catch (err) {
    if (err instanceof CoseError && err.reason === 'unknown-kid') {
      throw new IdentityError('uncertified', `${what}: signed by a key other than the one its endorsement names (witness '${witness.name}')`, { cause: err });
    }
    coseFailure(err, what);
  }
  const m = decodeClaims(v.payload, what, STATEMENT_FIELDS);
  const statement: WitnessStatement = {
    checkpointHash: bytes(m, 1, what, 32),
    logId: bytes(m, 2, what, 32),
    size: uint(m, 3, what),
    root: bytes(m, 4, what, 32),
    time: uint(m, 5, what),
  };
  checkEndorsementAt(witness, statement.time);
  if (opts.revoked?.(witness.witnessKid, statement.time)) {
    throw new IdentityError('revoked', `${what}: witness '${witness.name}' (key ${hex(witness.witnessKid)}) was revoked before it signed (at ${new Date(statement.time).toISOString()})`);
  }
  if (!sameBytes(statement.checkpointHash, sha256(opts.checkpoint))) {
    let detail = 'another checkpoint';
    try {
      const c = decodeCheckpoint(peekSign1Payload(opts.checkpoint), 'checkpoint');
      if (c.size === statement.size && !sameBytes(c.root, statement.root)) detail = `a different history: at size ${c.size} the witness saw root ${hex(statement.root)}, the checkpoint says ${hex(c.root)}`;
      else if (c.size !== statement.size) detail = `the checkpoint at size ${statement.size}, not this one at size ${c.size}`;
    } catch {
      // The checkpoint itself is unreadable; the caller's own checks name that.
    }
    throw new IdentityError('bad-link', `${what} by '${witness.name}' is about ${detail}`);
  }
  return { statement, witness };
}

/** The unprotected header map of a COSE_Sign1, read before its signature is checked. */
function unprotectedHeader(bytesIn: Uint8Array, what: string): ReadonlyMap<CborValue, CborValue> {
  let top;
  try {
    top = decodeCbor(bytesIn, { maxDepth: 16, maxSize: 8192 });
  } catch (err) {
    throw new IdentityError('malformed', `${what}: not a COSE_Sign1 message (${(err as Error).message})`, { cause: err });
  }
  if (!(top instanceof Tagged) || top.tag !== COSE_SIGN1_TAG || !Array.isArray(top.value) || top.value.length !== 4 || !(top.value[1] instanceof Map)) {
    throw new IdentityError('malformed', `${what}: not a COSE_Sign1 message (tag 18, array of 4, header map)`);
  }
  return top.value[1];
}
