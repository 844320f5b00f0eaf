// The COSE Sig_structure of a received V2X message (RFC 9052 section 4.4: the CBOR array
// ["Signature1", protected, external_aad, payload]), built in one allocation: reception builds
// one for every message it queues, and the general builder (ledger/cose/sign1.ts sigStructure,
// which this must equal byte for byte: test/v2x/reception/signature-check.test.ts) allocates a
// prefix and a copy. V2X messages carry no external AAD, so it is the empty byte string here.
import { bstrHeadLength, writeBstrHead } from '../../ledger/cose/sign1.ts';

const SIGNATURE1 = [0x6a, 0x53, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x31]; // text(10) "Signature1"

/** Sig_structure bytes for a COSE_Sign1 with an empty external AAD. */
export function v2xSigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  if (payload.length >= 2 ** 32 || protectedBytes.length >= 2 ** 32) throw new RangeError('Sig_structure: a part of 4 GiB or more');
  const out = new Uint8Array(1 + SIGNATURE1.length + bstrHeadLength(protectedBytes.length) + protectedBytes.length + 1 + bstrHeadLength(payload.length) + payload.length);
  let at = 0;
  out[at++] = 0x84;
  for (const b of SIGNATURE1) out[at++] = b;
  at = writeBstrHead(out, at, protectedBytes.length);
  out.set(protectedBytes, at);
  at += protectedBytes.length;
  out[at++] = 0x40; // external_aad: empty byte string
  at = writeBstrHead(out, at, payload.length);
  out.set(payload, at);
  return out;
}
