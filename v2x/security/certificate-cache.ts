// The receiver's cache of pseudonym certificates, by signer digest, bounded (least recently
// used goes first). A certificate enters only after its authority signature and claims have
// been checked, so a cached digest always names a key the fleet authority certified. Senders
// attach their certificate about once a second, so a receiver that missed it asks for it
// (the payload's certificate requests) rather than dropping the sender for long.
import type { PseudonymCertificate } from './pseudonym-certificate.ts';
import { signerIdOf as hex } from './signer-id.ts';

export class CertificateCache {
  readonly #byDigest = new Map<string, PseudonymCertificate>();
  readonly capacity: number;

  constructor(capacity = 4096) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity: ${capacity}; expected a whole number >= 1`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#byDigest.size;
  }

  get(digest: Uint8Array): PseudonymCertificate | undefined {
    return this.getById(hex(digest));
  }

  /** `get` by the digest's hex (signerIdOf), which reception already holds. */
  getById(id: string): PseudonymCertificate | undefined {
    const cert = this.#byDigest.get(id);
    if (cert !== undefined) {
      this.#byDigest.delete(id); // refresh its place in the LRU order
      this.#byDigest.set(id, cert);
    }
    return cert;
  }

  /** Adds a checked certificate (see verifyPseudonymCertificate). */
  add(cert: PseudonymCertificate): void {
    const id = hex(cert.digest);
    this.#byDigest.delete(id);
    if (this.#byDigest.size >= this.capacity) this.#byDigest.delete(this.#byDigest.keys().next().value!);
    this.#byDigest.set(id, cert);
  }

  /** Drops certificates that expired before `now` (ms). */
  prune(now: number): number {
    let n = 0;
    for (const [id, cert] of this.#byDigest) {
      if (cert.notAfter < now) {
        this.#byDigest.delete(id);
        n++;
      }
    }
    return n;
  }
}
