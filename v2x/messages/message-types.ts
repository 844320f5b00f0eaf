// The V2X message set: each message's type code (key 1 of the signed payload), its schema and
// its TypeScript shape, plus encode / decode of a message body on its own (canonical CBOR).
// Type codes are part of the wire format (v2x/cddl/payload.cddl): never renumber them.
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import type { Schema } from '../codec/schema.ts';
import { decodeStruct, encodeStruct } from '../codec/schema.ts';
import type { Cam } from './cam.ts';
import { camSchema } from './cam.ts';
import type { Denm } from './denm.ts';
import { denmSchema } from './denm.ts';
import type { Spat } from './spat.ts';
import { spatSchema } from './spat.ts';
import type { ChargingOffer, ReservationRequest, SessionReceipt } from './charging.ts';
import { chargingOfferSchema, receiptSchema, reservationSchema } from './charging.ts';
import type { AttestationAnswer, AttestationChallenge } from './attestation-messages.ts';
import { answerSchema, challengeSchema } from './attestation-messages.ts';
import { V2xError, asV2xError } from '../v2x-error.ts';

export interface MessageBodies {
  cam: Cam;
  denm: Denm;
  spat: Spat;
  chargingOffer: ChargingOffer;
  reservation: ReservationRequest;
  receipt: SessionReceipt;
  attestationChallenge: AttestationChallenge;
  attestation: AttestationAnswer;
}

export type MessageName = keyof MessageBodies;

export const MESSAGE_TYPE: Readonly<Record<MessageName, number>> = {
  cam: 1,
  denm: 2,
  spat: 3,
  chargingOffer: 4,
  reservation: 5,
  receipt: 6,
  attestationChallenge: 7,
  attestation: 8,
};

export const MESSAGE_SCHEMA: Readonly<Record<MessageName, Schema>> = {
  cam: camSchema,
  denm: denmSchema,
  spat: spatSchema,
  chargingOffer: chargingOfferSchema,
  reservation: reservationSchema,
  receipt: receiptSchema,
  attestationChallenge: challengeSchema,
  attestation: answerSchema,
};

export const MESSAGE_NAMES = Object.keys(MESSAGE_TYPE) as MessageName[];

const BY_CODE = new Map<number, MessageName>(MESSAGE_NAMES.map((n) => [MESSAGE_TYPE[n], n]));

export function messageName(code: unknown): MessageName {
  const name = typeof code === 'number' ? BY_CODE.get(code) : undefined;
  if (name === undefined) throw new RangeError(`type: ${String(code)} is not a known message type (${MESSAGE_NAMES.map((n) => `${MESSAGE_TYPE[n]} ${n}`).join(', ')})`);
  return name;
}

export function isMessageName(name: unknown): name is MessageName {
  return typeof name === 'string' && Object.hasOwn(MESSAGE_TYPE, name);
}

/** The CBOR map of a message body, every field checked (TypeError / RangeError name the field). */
export function bodyToCbor<N extends MessageName>(name: N, body: MessageBodies[N]): Map<number, CborValue> {
  return encodeStruct(MESSAGE_SCHEMA[name], body);
}

/** A message body from its decoded CBOR map, every field checked. */
export function bodyFromCbor<N extends MessageName>(name: N, value: unknown): MessageBodies[N] {
  return decodeStruct(MESSAGE_SCHEMA[name], value) as unknown as MessageBodies[N];
}

/** Canonical CBOR of a message body alone. */
export function encodeBody<N extends MessageName>(name: N, body: MessageBodies[N]): Uint8Array {
  return encodeCanonical(bodyToCbor(name, body));
}

/** A message body from canonical CBOR; throws V2xError naming what was wrong. */
export function decodeBody<N extends MessageName>(name: N, bytes: Uint8Array): MessageBodies[N] {
  let value: unknown;
  try {
    value = decodeCbor(bytes, { canonical: true, maxSize: 4096, maxDepth: 8 });
  } catch (err) {
    throw asV2xError(err, name);
  }
  try {
    return bodyFromCbor(name, value);
  } catch (err) {
    throw asV2xError(err, name);
  }
}

export { V2xError };
