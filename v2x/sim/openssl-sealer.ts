// Seals V2X messages with OpenSSL's ECDSA through node:crypto, for the traffic simulator and
// load generators: about 40 times faster than the RFC 6979 signing of the security envelope
// (noble), which a simulator of hundreds of vehicles at 10 Hz cannot afford. The bytes have
// exactly the envelope's form (v2x/cddl/envelope.cddl) and verify like any other message;
// only the nonces are random (ECDSA allows both; determinism matters for the ledger's
// reproducible signatures, not for V2X). S is normalised to low-S, as receivers require.
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { Tagged } from '../../ledger/cbor/value.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { sigStructure } from '../../ledger/cose/sign1.ts';
import { TYP } from '../../ledger/typ.ts';
import type { MessageBodies, MessageName } from '../messages/message-types.ts';
import { encodePayload, HDR_CERTIFICATE } from '../security/envelope.ts';
import type { PseudonymCredential } from '../security/pseudonym-manager.ts';

const ORDER = {
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
} as const;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function lowS(sig: Uint8Array, n: bigint): Uint8Array {
  let s = BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`);
  if (s <= n >> 1n) return sig;
  s = n - s;
  const out = new Uint8Array(sig);
  out.set(Buffer.from(s.toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

export class OpensslSealer {
  readonly credential: PseudonymCredential;
  readonly digest: Uint8Array;
  readonly #key: KeyObject;
  readonly #protected: Uint8Array;
  readonly #n: bigint;

  constructor(credential: PseudonymCredential) {
    this.credential = credential;
    const info = credential.info;
    this.digest = info.digest;
    const pub = info.publicKey; // uncompressed, from the certificate
    this.#key = createPrivateKey({
      key: { kty: 'EC', crv: info.curve, d: b64(credential.key.exportSecret()), x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33, 65)) },
      format: 'jwk',
    });
    this.#protected = encodeCanonical(
      new Map<number, CborValue>([
        [1, info.alg],
        [4, info.digest],
        [16, TYP.v2xMessage],
      ]),
    );
    this.#n = ORDER[info.curve];
  }

  /** Signs a message; the certificate rides along when `attachCertificate`. */
  seal<N extends MessageName>(type: N, body: MessageBodies[N], generationTime: number, attachCertificate: boolean, certRequests?: readonly Uint8Array[]): Uint8Array {
    const payload = encodePayload(type, generationTime, body, certRequests);
    const sig = cryptoSign('sha256', sigStructure(this.#protected, new Uint8Array(0), payload), { key: this.#key, dsaEncoding: 'ieee-p1363' });
    const unprotected = new Map<number, CborValue>(attachCertificate ? [[HDR_CERTIFICATE, this.credential.certificate]] : []);
    return encodeCanonical(new Tagged(18, [this.#protected, unprotected, payload, lowS(new Uint8Array(sig), this.#n)]));
  }
}
