// Reads the payload of a COSE_Sign1 (RFC 9052 section 4.2) BEFORE its signature is checked,
// for the one case where the payload names the key that signed it: a device's certificate
// request and a ledger's "provisioned" record carry the key they are signed with. The caller
// must check the signature with that key (and the key with the fleet authority) before trusting
// anything it read here.
import { decodeCbor } from '../cbor/decode.ts';
import { Tagged } from '../cbor/value.ts';
import { COSE_SIGN1_TAG } from '../cose/sign1.ts';
import { CoseError } from '../cose/cose-error.ts';

/** The unverified payload bytes of a COSE_Sign1; throws CoseError when it is not one. */
export function peekSign1Payload(bytes: Uint8Array): Uint8Array {
  let top;
  try {
    top = decodeCbor(bytes, { maxDepth: 16 });
  } catch (err) {
    throw new CoseError('malformed', `not a COSE_Sign1 message: ${(err as Error).message}`, { cause: err });
  }
  if (!(top instanceof Tagged) || top.tag !== COSE_SIGN1_TAG || !Array.isArray(top.value) || top.value.length !== 4 || !(top.value[2] instanceof Uint8Array)) {
    throw new CoseError('malformed', 'not a COSE_Sign1 message (tag 18, array of 4, byte-string payload)');
  }
  return top.value[2];
}
