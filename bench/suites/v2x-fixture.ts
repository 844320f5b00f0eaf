// Material of the v2x suite: a fleet authority, pseudonyms, and a time-ordered stream of
// genuine, distinct messages a roadside unit would hear: CAMs from still vehicles 0 to 1.2 km
// away (every 100 ms each, so plausible) and hazards (DENMs at their sender's position, 5 %),
// sealed with the OpenSSL sealer; and a pipeline set up to receive them (its wall clock held at
// the stream's end, freshness windows of 10.5 s so that one signer can send 100 of them).
import type { Clock } from '../../hal/clock.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { MESSAGE_NAMES } from '../../v2x/messages/message-types.ts';
import type { Cam } from '../../v2x/messages/cam.ts';
import type { Denm } from '../../v2x/messages/denm.ts';
import { issuePseudonymCertificate, verifyPseudonymCertificate } from '../../v2x/security/pseudonym-certificate.ts';
import type { PseudonymCredential } from '../../v2x/security/pseudonym-manager.ts';
import { ReceptionPipeline } from '../../v2x/reception/reception-pipeline.ts';
import type { ReceptionOptions } from '../../v2x/reception/reception-pipeline.ts';
import type { SignatureVerifier } from '../../v2x/reception/signature-verifier.ts';
import { OpensslSealer } from '../../v2x/sim/openssl-sealer.ts';

export const T_END = Date.UTC(2026, 2, 1, 8);
export const OWN = { latitude: 481_372_160, longitude: 115_754_870 };
/** Messages per signer: 100 at 100 ms fit in a 10.5 s window. */
export const PER_SIGNER = 100;
export const HAZARD_SHARE = 0.05;

export interface CredentialExport {
  secret: Uint8Array;
  certificate: Uint8Array;
}

export interface V2xFixture {
  authorityPublicKey: Uint8Array;
  ring: KeyRing;
  credentials: PseudonymCredential[];
  messages: Uint8Array[];
  hazards: number;
}

export function issueCredentials(authority: PrivateKey, ring: KeyRing, n: number, notBefore: number): PseudonymCredential[] {
  return Array.from({ length: n }, () => {
    const key = PrivateKey.generate('P-256');
    const certificate = issuePseudonymCertificate(authority, { publicKey: key.publicKey, curve: 'P-256', notBefore, notAfter: notBefore + 30 * 86_400_000, permissions: MESSAGE_NAMES });
    return { key, certificate, info: verifyPseudonymCertificate(certificate, { authorities: ring.lookup }) };
  });
}

/** Vehicle `i` of `n` stands north of the receiver, 0 to 1200 m away. */
export function latitudeOf(i: number, n: number): number {
  return OWN.latitude + Math.round(((i / n) * 1200 * 1e7) / 111_195);
}

export function camBody(stationId: number, latitude: number): Cam {
  return { stationId, stationType: 5, position: { latitude, longitude: OWN.longitude }, heading: 0, speed: 0, longitudinalAcceleration: 0, yawRate: 0, length: 460, width: 185 };
}

export function denmBody(stationId: number, sequenceNumber: number, latitude: number, now: number): Denm {
  return {
    actionId: { originatingStationId: stationId, sequenceNumber: sequenceNumber & 0xffff },
    eventType: { cause: 94, subCause: 2 },
    eventPosition: { latitude, longitude: OWN.longitude },
    detectionTime: now - 100,
    referenceTime: now,
    validity: 600,
    relevanceDistance: 500,
    repetitionInterval: 1000,
  };
}

export function buildFixture(count: number): V2xFixture {
  const authority = PrivateKey.generate('P-256');
  const ring = new KeyRing([{ publicKey: authority.publicKey, curve: 'P-256' }]);
  const signers = Math.ceil(count / PER_SIGNER);
  const credentials = issueCredentials(authority, ring, signers, T_END - 3_600_000);
  const sealers = credentials.map((c) => new OpensslSealer(c));
  const messages: Uint8Array[] = [];
  let hazards = 0;
  // Round r: every signer sends once, at T_END - (PER_SIGNER - 1 - r) * 100 ms.
  for (let r = 0; messages.length < count; r++) {
    const now = T_END - (PER_SIGNER - 1 - r) * 100;
    for (let i = 0; i < signers && messages.length < count; i++) {
      const lat = latitudeOf(i, signers);
      const hazard = (r * signers + i) % Math.round(1 / HAZARD_SHARE) === 0;
      if (hazard) hazards++;
      messages.push(hazard ? sealers[i]!.seal('denm', denmBody(i, r, lat, now), now, true) : sealers[i]!.seal('cam', camBody(i, lat), now, r === 0));
    }
  }
  return { authorityPublicKey: authority.publicKey, ring, credentials, messages, hazards };
}

/** The receiver's clock: wall time held (or given), monotonic time real. */
export function benchClock(wall: () => number = () => T_END): Clock {
  return {
    now: wall,
    monotonic: () => performance.now(),
    sleep: (ms, signal) => new Promise((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
    }),
  };
}

export function benchPipeline(ring: KeyRing, verifier: SignatureVerifier | undefined, extra: Partial<ReceptionOptions> = {}, wall?: () => number): ReceptionPipeline {
  const p = new ReceptionPipeline({
    clock: benchClock(wall),
    authorities: ring.lookup,
    verifier,
    freshness: { cam: { maxAgeMs: 10_500 }, denm: { maxAgeMs: 10_500 } },
    ...extra,
  });
  p.setOwnPosition(OWN);
  return p;
}
