// Stage 2 of reception: bounded decoding of the envelope and its payload, without any
// cryptography (parseEnvelope and decodePayload: size, depth and map-size limits, canonical
// CBOR, every field range-checked). What comes out is what the later stages need to decide
// cheaply whether a message is worth a signature verification: signer, type, time, body.
import { TYP } from '../../ledger/typ.ts';
import { decodePayload, parseEnvelope } from '../security/envelope.ts';
import type { DecodedPayload, ParsedEnvelope } from '../security/envelope.ts';
import { signerIdOf } from '../security/signer-id.ts';
import { V2xError } from '../v2x-error.ts';

export interface DecodedMessage {
  envelope: ParsedEnvelope;
  payload: DecodedPayload;
  /** The signer digest as hex (the key of every per-signer table). */
  signerId: string;
}

export type DecodeResult = { ok: true; message: DecodedMessage } | { ok: false; error: V2xError };

export function boundedDecode(bytes: Uint8Array): DecodeResult {
  try {
    const envelope = parseEnvelope(bytes);
    if (envelope.typ !== TYP.v2xMessage) throw new V2xError('wrong-typ', `envelope: typ is ${envelope.typ}, expected ${TYP.v2xMessage}`);
    if (envelope.signature.length !== 64) throw new V2xError('malformed', `envelope: the signature is ${envelope.signature.length} bytes, not 64 (r||s)`);
    const payload = decodePayload(envelope.payload);
    return { ok: true, message: { envelope, payload, signerId: signerIdOf(envelope.signer) } };
  } catch (err) {
    if (err instanceof V2xError) return { ok: false, error: err };
    // parseEnvelope and decodePayload wrap what they meet; anything else is still bad input.
    return { ok: false, error: new V2xError('malformed', `message: ${(err as Error).message}`, { cause: err }) };
  }
}
