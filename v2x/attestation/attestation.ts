// Identity attestation for shared vehicles (v2x/cddl/attestation.cddl). A roadside unit or a
// car-share station sends a challenge (its station id, a fresh random nonce); the vehicle
// answers with a statement signed by its ledger identity key (ES256K; typ
// TYP.v2xAttestation) that binds the challenger id, the nonce, the challenge time, its
// current pseudonym digest and its identity key with the fleet statement that certifies it.
// The answer travels inside a V2X message signed by that pseudonym, so one statement proves
// possession of both keys. The challenger accepts an answer only for a nonce it issued, still
// outstanding, within `maxAgeMs` (default 5 s), addressed to itself, signed by a key a fleet
// statement vouches for, and for the pseudonym that signed the carrying message; a nonce is
// used once. Until then the vehicle is anonymous; after answering it should change pseudonym
// (AttestationResponder does), since everyone in range heard the answer.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../hal/clock.ts';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { Tagged } from '../../ledger/cbor/value.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { COSE_SIGN1_TAG, sign1, verify1 } from '../../ledger/cose/sign1.ts';
import { ALG_CURVE, ES256, ES256K, isCoseAlg } from '../../ledger/cose/algorithms.ts';
import { keyThumbprint } from '../../ledger/cose/key-thumbprint.ts';
import type { PrivateKey } from '../../ledger/keys/private-key.ts';
import type { Curve, SignerBackend } from '../../ledger/signers/backend.ts';
import { TYP } from '../../ledger/typ.ts';
import { bytes, decodeStruct, encodeStruct } from '../codec/schema.ts';
import type { Schema } from '../codec/schema.ts';
import { stationId, timeField } from '../messages/field-types.ts';
import type { AttestationChallenge } from '../messages/attestation-messages.ts';
import { asV2xError, V2xError } from '../v2x-error.ts';
import type { IdentityVerifier, VehicleIdentity } from './vehicle-identity.ts';

export const attestationStatementSchema: Schema = {
  name: 'attestationStatement',
  fields: [
    { key: 1, name: 'challengerId', type: stationId },
    { key: 2, name: 'nonce', type: bytes(16, 32) },
    timeField(3, 'challengeTime'),
    timeField(4, 'responseTime'),
    { key: 5, name: 'pseudonym', type: bytes(8) },
    { key: 6, name: 'identityKey', type: bytes(33) },
    { key: 7, name: 'identityStatement', type: bytes(64, 1024) },
  ],
};

export interface AttestationStatement {
  challengerId: number;
  nonce: Uint8Array;
  challengeTime: number;
  responseTime: number;
  /** The 8-byte digest of the vehicle's current pseudonym. */
  pseudonym: Uint8Array;
  /** The ledger identity key, SEC1 compressed. */
  identityKey: Uint8Array;
  /** The fleet statement (or certificate) binding the identity key to the vehicle. */
  identityStatement: Uint8Array;
}

export interface AnswerInput {
  challenge: AttestationChallenge;
  /** Generation time of the challenge message. */
  challengeTime: number;
  pseudonym: Uint8Array;
  identityKey: PrivateKey;
  identityStatement: Uint8Array;
  now: number;
}

/** The vehicle signs its answer to a challenge with its ledger identity key. */
export function signAttestation(input: AnswerInput): Uint8Array {
  const statement = encodeStruct(attestationStatementSchema, {
    challengerId: input.challenge.challengerId,
    nonce: input.challenge.nonce,
    challengeTime: input.challengeTime,
    responseTime: Math.floor(input.now),
    pseudonym: input.pseudonym,
    identityKey: input.identityKey.publicKey,
    identityStatement: input.identityStatement,
  } satisfies AttestationStatement);
  return sign1({ payload: encodeCanonical(statement), typ: TYP.v2xAttestation, signer: input.identityKey });
}

export interface AttestationVerifierOptions {
  /** This challenger's station id. */
  challengerId: number;
  identity: IdentityVerifier;
  clock: Clock;
  /** How long a challenge stays answerable, ms (default 5000). */
  maxAgeMs?: number;
  /** Outstanding challenges kept (oldest dropped first; default 64). */
  maxOutstanding?: number;
  random?: (n: number) => Uint8Array;
  backends?: Partial<Record<Curve, SignerBackend>>;
}

export interface AttestedVehicle {
  vehicle: VehicleIdentity;
  pseudonym: Uint8Array;
  challengeTime: number;
  responseTime: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const USED_LIMIT = 1024;

/** The challenger's side: issues challenges and checks the answers. */
export class AttestationVerifier {
  readonly #o: Required<Omit<AttestationVerifierOptions, 'backends'>> & Pick<AttestationVerifierOptions, 'backends'>;
  readonly #outstanding = new Map<string, { time: number; target?: Uint8Array }>();
  readonly #used = new Set<string>();

  constructor(opts: AttestationVerifierOptions) {
    if (!Number.isSafeInteger(opts.challengerId) || opts.challengerId < 0 || opts.challengerId > 0xffff_ffff) {
      throw new RangeError(`challengerId: ${opts.challengerId} is not a station id (0..4294967295)`);
    }
    this.#o = { maxAgeMs: 5000, maxOutstanding: 64, random: (n) => new Uint8Array(randomBytes(n)), ...opts };
  }

  /** A new challenge (the body of an `attestationChallenge` message sent now). */
  challenge(target?: Uint8Array): { body: AttestationChallenge; time: number } {
    const time = Math.floor(this.#o.clock.now());
    const nonce = this.#o.random(16);
    if (this.#outstanding.size >= this.#o.maxOutstanding) this.#outstanding.delete(this.#outstanding.keys().next().value!);
    this.#outstanding.set(hex(nonce), { time, target });
    const body: AttestationChallenge = { challengerId: this.#o.challengerId, nonce };
    if (target !== undefined) body.target = target;
    return { body, time };
  }

  /**
   * Checks an answer. `signer` is the digest that signed the carrying V2X message (the
   * envelope verifier's `OpenedMessage.signer`); the statement must name that pseudonym.
   */
  verify(statementBytes: Uint8Array, signer?: Uint8Array): AttestedVehicle {
    const now = this.#o.clock.now();
    const { statement, alg } = readStatement(statementBytes);
    if (statement.challengerId !== this.#o.challengerId) {
      throw new V2xError('wrong-challenger', `attestation: addressed to challenger ${statement.challengerId}, this is ${this.#o.challengerId}`);
    }
    const id = hex(statement.nonce);
    const pending = this.#outstanding.get(id);
    if (pending === undefined) {
      if (this.#used.has(id)) throw new V2xError('replayed', `attestation: nonce ${id} was already answered`);
      throw new V2xError('unknown-challenge', `attestation: nonce ${id} was not issued here (or was dropped)`);
    }
    if (pending.time !== statement.challengeTime) throw new V2xError('unknown-challenge', 'attestation: the challenge time does not match the challenge issued');
    if (now - pending.time > this.#o.maxAgeMs) {
      this.#outstanding.delete(id);
      throw new V2xError('stale', `attestation: answered ${now - pending.time} ms after the challenge, more than ${this.#o.maxAgeMs} ms`);
    }
    if (statement.responseTime < pending.time || statement.responseTime > now + 1000) {
      throw new V2xError('stale', 'attestation: the response time is before the challenge or in the future');
    }
    if (pending.target !== undefined && !equal(pending.target, statement.pseudonym)) {
      throw new V2xError('not-bound', `attestation: the challenge asked pseudonym ${hex(pending.target)}, the answer is for ${hex(statement.pseudonym)}`);
    }
    if (signer !== undefined && !equal(signer, statement.pseudonym)) {
      throw new V2xError('not-bound', `attestation: it names pseudonym ${hex(statement.pseudonym)} but came signed by ${hex(signer)}`);
    }
    const curve = ALG_CURVE[alg];
    let kid: Uint8Array;
    try {
      kid = keyThumbprint(statement.identityKey, curve);
    } catch (err) {
      throw new V2xError('bad-field', `attestation.identityKey: not a ${curve} key`, { cause: err });
    }
    try {
      verify1(statementBytes, {
        keys: (k) => (equal(k, kid) ? { publicKey: statement.identityKey, alg } : undefined),
        typ: TYP.v2xAttestation,
        algs: [ES256K, ES256],
        backends: this.#o.backends,
        maxSize: 2048,
      });
    } catch (err) {
      throw asV2xError(err, 'attestation');
    }
    const vehicle = this.#o.identity(statement.identityStatement, { publicKey: statement.identityKey, curve }, now);
    this.#outstanding.delete(id);
    if (this.#used.size >= USED_LIMIT) this.#used.delete(this.#used.values().next().value!);
    this.#used.add(id);
    return { vehicle, pseudonym: statement.pseudonym, challengeTime: statement.challengeTime, responseTime: statement.responseTime };
  }
}

/** Reads an attestation statement without checking it (for display and for the verifier). */
export function readStatement(bytes: Uint8Array): { statement: AttestationStatement; alg: typeof ES256K | typeof ES256 } {
  try {
    const top = decodeCbor(bytes, { maxSize: 2048, maxDepth: 8 });
    if (!(top instanceof Tagged) || top.tag !== COSE_SIGN1_TAG || !Array.isArray(top.value) || top.value.length !== 4) {
      throw new V2xError('malformed', 'attestation: not a COSE_Sign1 message');
    }
    const [prot, , payload] = top.value as CborValue[];
    if (!(prot instanceof Uint8Array) || !(payload instanceof Uint8Array)) throw new V2xError('malformed', 'attestation: COSE_Sign1 parts of the wrong types');
    const header = decodeCbor(prot, { canonical: true, maxDepth: 2 });
    const alg = header instanceof Map ? header.get(1) : undefined;
    if (!isCoseAlg(alg)) throw new V2xError('alg-not-allowed', `attestation: algorithm ${String(alg)} is not ES256K or ES256`);
    const statement = decodeStruct(attestationStatementSchema, decodeCbor(payload, { canonical: true, maxDepth: 4 })) as unknown as AttestationStatement;
    return { statement, alg };
  } catch (err) {
    throw asV2xError(err, 'attestation');
  }
}
