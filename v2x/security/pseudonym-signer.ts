// A pseudonym key as a COSE signer for V2X messages: the same ECDSA key, but its kid is the
// 8-byte signer digest (first 8 bytes of the RFC 9679 thumbprint) instead of the full
// thumbprint, which keeps every message 24 bytes shorter while the certificate, attached
// about once a second, carries the full key.
import type { CoseSigner } from '../../ledger/cose/sign1.ts';
import type { CoseAlg } from '../../ledger/cose/algorithms.ts';
import type { PrivateKey } from '../../ledger/keys/private-key.ts';
import { DIGEST_LENGTH } from './pseudonym-certificate.ts';

export class PseudonymSigner implements CoseSigner {
  readonly alg: CoseAlg;
  readonly kid: Uint8Array;
  readonly #key: PrivateKey;

  constructor(key: PrivateKey) {
    this.#key = key;
    this.alg = key.alg;
    this.kid = key.kid.slice(0, DIGEST_LENGTH);
  }

  signDigest(digest: Uint8Array): Uint8Array {
    return this.#key.signDigest(digest);
  }

  toString(): string {
    return `PseudonymSigner(${Buffer.from(this.kid).toString('hex')})`;
  }
}
