// Stage 5 of reception: who signed it. The signer digest (kid) is looked up in the revocation
// list (a revoked pseudonym is refused before any cryptography), then in the certificate cache.
// A certificate attached to the message that the cache does not hold yet is read now
// (structure, claims, digest = kid) and its authority signature joins the message's in the
// verification queue; it enters the cache only once that signature verified. A signer with no
// certificate cached and none attached is unknown: the message is dropped and the signer's
// certificate is asked for (the payload's certificate requests, v2x/README.md "Certificates").
// A certificate still waiting in the queue serves the same signer's next messages too (their
// jobs carry its check): a sender attaches it about once a second, and the messages right
// after it must not be refused as unknown while it waits. The certificate's permission for the type and its validity at the generation time are
// checked here, before the queue, since they cost nothing.
import { hash } from 'node:crypto';
import type { VerifyKey } from '../../ledger/cose/sign1.ts';
import type { CertificateCache } from '../security/certificate-cache.ts';
import { verifyPseudonymCertificate } from '../security/pseudonym-certificate.ts';
import type { PseudonymCertificate } from '../security/pseudonym-certificate.ts';
import { V2xError } from '../v2x-error.ts';
import type { DecodedMessage } from './bounded-decode.ts';
import type { DropReason } from './drop-reason.ts';
import type { RevocationStore } from './revocation-list.ts';
import { deferredBackend } from './signature-check.ts';
import type { SignatureCheck } from './signature-check.ts';

export type LookupResult =
  | { ok: true; certificate: PseudonymCertificate; certificateCheck?: SignatureCheck; certificateId?: string }
  | { ok: false; reason: DropReason; detail: string };

export interface CertificateLookupOptions {
  authorities: (kid: Uint8Array) => VerifyKey | undefined;
  cache: CertificateCache;
  revocations?: RevocationStore;
  /** Called once per unknown signer digest, to ask for its certificate. */
  onUnknownSigner?: (digest: Uint8Array) => void;
  /** Certificates found bad, remembered so that a flood of one bad certificate costs one check (default 1024). */
  badCapacity?: number;
  /**
   * Certificates read but not verified yet, most held (default 2048, the verify queue's default
   * capacity). A pending certificate is needed as long as a job carrying its check can be
   * queued, so this must be at least the number of signers heard while the queue is full: with
   * fewer, a roadside unit hearing 500 vehicles under overload forgets certificates whose check
   * still waits and refuses their signers' next messages as unknown.
   */
  pendingCapacity?: number;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface PendingCertificate {
  certificate: PseudonymCertificate;
  check: SignatureCheck;
  certificateId: string;
}

export class CertificateLookup {
  readonly #o: CertificateLookupOptions;
  readonly #bad = new Set<string>();
  /** Certificates read but not verified yet, by signer (bounded: `pendingCapacity`). */
  readonly #pending = new Map<string, PendingCertificate>();
  readonly #badCapacity: number;
  readonly #pendingCapacity: number;

  constructor(opts: CertificateLookupOptions) {
    this.#o = opts;
    this.#badCapacity = opts.badCapacity ?? 1024;
    this.#pendingCapacity = opts.pendingCapacity ?? 2048;
    if (!Number.isSafeInteger(this.#pendingCapacity) || this.#pendingCapacity < 1) throw new RangeError(`pendingCapacity: ${this.#pendingCapacity}; expected a whole number >= 1`);
  }

  lookup(m: DecodedMessage): LookupResult {
    const env = m.envelope;
    if (this.#o.revocations?.isRevoked(m.signerId)) return { ok: false, reason: 'revoked', detail: `signer ${m.signerId} is on the revocation list` };
    let cert = this.#o.cache.getById(m.signerId);
    let certificateCheck: SignatureCheck | undefined;
    let certificateId: string | undefined;
    const waiting = cert === undefined ? this.#pending.get(m.signerId) : undefined;
    if (waiting !== undefined && (env.certificate === undefined || equal(waiting.certificate.bytes, env.certificate))) {
      // The same certificate again while its check still waits in the queue (a sender attaches
      // it once a second, a hazard always): it was read already; reading it again costs a
      // point decoding in JavaScript, which under a flood of new signers adds up.
      cert = waiting.certificate;
      certificateCheck = waiting.check;
      certificateId = waiting.certificateId;
    } else if (env.certificate !== undefined && (cert === undefined || !equal(cert.bytes, env.certificate))) {
      certificateId = hash('sha256', env.certificate, 'base64');
      if (this.#bad.has(certificateId)) return { ok: false, reason: 'bad-certificate', detail: `signer ${m.signerId}: its attached certificate failed before` };
      const p256 = deferredBackend('P-256');
      const k1 = deferredBackend('secp256k1');
      let attached: PseudonymCertificate;
      try {
        attached = verifyPseudonymCertificate(env.certificate, { authorities: this.#o.authorities, backends: { 'P-256': p256.backend, secp256k1: k1.backend } });
      } catch (err) {
        this.markBad(certificateId);
        return { ok: false, reason: 'bad-certificate', detail: err instanceof V2xError ? err.message : String(err) };
      }
      if (!equal(attached.digest, env.signer)) {
        return { ok: false, reason: 'bad-certificate', detail: `the attached certificate is for signer ${Buffer.from(attached.digest).toString('hex')}, the message is signed by ${m.signerId}` };
      }
      certificateCheck = p256.taken() ?? k1.taken();
      cert = attached;
      this.#pending.delete(m.signerId);
      if (this.#pending.size >= this.#pendingCapacity) this.#pending.delete(this.#pending.keys().next().value!);
      this.#pending.set(m.signerId, { certificate: attached, check: certificateCheck!, certificateId });
    }
    if (cert === undefined) {
      this.#o.onUnknownSigner?.(env.signer);
      return { ok: false, reason: 'unknown-signer', detail: `no certificate known for signer ${m.signerId}; asked for it` };
    }
    if (cert.alg !== env.alg) return { ok: false, reason: 'bad-certificate', detail: `signer ${m.signerId}: the certificate's key is for alg ${cert.alg}, the message says ${env.alg}` };
    if (!cert.permissions.has(m.payload.type)) return { ok: false, reason: 'not-permitted', detail: `signer ${m.signerId}: its certificate does not permit ${m.payload.type} messages` };
    const t = m.payload.generationTime;
    if (t < cert.notBefore || t > cert.notAfter) return { ok: false, reason: 'not-permitted', detail: `signer ${m.signerId}: generation time ${new Date(t).toISOString()} is outside its certificate's validity` };
    return { ok: true, certificate: cert, certificateCheck, certificateId };
  }

  /** The certificate verified and entered the cache: it is no longer pending. */
  settled(signerId: string): void {
    this.#pending.delete(signerId);
  }

  /** A certificate whose authority signature failed: refuse it at once next time. */
  markBad(certificateId: string, signerId?: string): void {
    if (signerId !== undefined && this.#pending.get(signerId)?.certificateId === certificateId) this.#pending.delete(signerId);
    if (this.#bad.size >= this.#badCapacity) this.#bad.delete(this.#bad.values().next().value!);
    this.#bad.add(certificateId);
  }
}
