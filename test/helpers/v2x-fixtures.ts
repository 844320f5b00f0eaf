// Shared V2X test material: a fleet authority, pseudonym pools, and one valid example body of
// every message type (times near 2026-01-01, the ManualClock's default start).
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import type { Curve } from '../../ledger/signers/backend.ts';
import { issuePseudonymCertificate, verifyPseudonymCertificate } from '../../v2x/security/pseudonym-certificate.ts';
import type { PseudonymCredential } from '../../v2x/security/pseudonym-manager.ts';
import { MESSAGE_NAMES } from '../../v2x/messages/message-types.ts';
import type { MessageBodies, MessageName } from '../../v2x/messages/message-types.ts';

export const T0 = Date.UTC(2026, 0, 1);

export interface Authority {
  key: PrivateKey;
  ring: KeyRing;
}

export function makeAuthority(curve: Curve = 'P-256'): Authority {
  const key = PrivateKey.generate(curve);
  return { key, ring: new KeyRing([{ publicKey: key.publicKey, curve }]) };
}

export function makePool(
  authority: Authority,
  n: number,
  opts: { curve?: Curve; notBefore?: number; notAfter?: number; permissions?: readonly MessageName[] } = {},
): PseudonymCredential[] {
  const out: PseudonymCredential[] = [];
  for (let i = 0; i < n; i++) {
    const key = PrivateKey.generate(opts.curve ?? 'P-256');
    const certificate = issuePseudonymCertificate(authority.key, {
      publicKey: key.publicKey,
      curve: key.curve,
      notBefore: opts.notBefore ?? T0 - 3_600_000,
      notAfter: opts.notAfter ?? T0 + 7 * 86_400_000,
      permissions: opts.permissions ?? MESSAGE_NAMES,
    });
    out.push({ key, certificate, info: verifyPseudonymCertificate(certificate, { authorities: authority.ring.lookup }) });
  }
  return out;
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

export const EXAMPLES: { [N in MessageName]: MessageBodies[N] } = {
  cam: {
    stationId: 3_141_592_653,
    stationType: 5,
    position: { latitude: 481_372_160, longitude: 115_754_870 },
    heading: 905,
    speed: 1389,
    longitudinalAcceleration: -120,
    yawRate: 250,
    length: 469,
    width: 185,
    stateOfCharge: 734,
  },
  denm: {
    actionId: { originatingStationId: 3_141_592_653, sequenceNumber: 7 },
    eventType: { cause: 94, subCause: 2 },
    eventPosition: { latitude: 481_380_000, longitude: 115_760_000 },
    detectionTime: T0 - 2000,
    referenceTime: T0,
    validity: 600,
    relevanceDistance: 500,
    repetitionInterval: 1000,
  },
  spat: {
    intersectionId: 1201,
    revision: 3,
    signalGroups: [
      {
        signalGroupId: 1,
        approachId: 1,
        laneIds: [1, 2],
        current: { phase: 6, minEndTime: T0 + 4000, maxEndTime: T0 + 9000, likelyTime: T0 + 6000 },
        next: [{ phase: 8, minEndTime: T0 + 12_000 }, { phase: 3, minEndTime: T0 + 40_000, maxEndTime: T0 + 60_000 }],
      },
      { signalGroupId: 2, approachId: 2, laneIds: [5], current: { phase: 3, minEndTime: T0 + 12_000 }, next: [] },
    ],
  },
  chargingOffer: {
    stationId: 70_001,
    position: { latitude: 481_400_000, longitude: 115_800_000 },
    currency: 'EUR',
    connectors: [
      { connectorId: 1, connectorType: 1, maxPower: 150_000, status: 0, pricePerKwh: 5900, availableFrom: T0, availableUntil: T0 + 3_600_000 },
      { connectorId: 2, connectorType: 0, maxPower: 22_000, status: 1, pricePerKwh: 3900, availableFrom: T0 + 1_800_000, availableUntil: T0 + 7_200_000 },
    ],
  },
  reservation: {
    stationId: 70_001,
    connectorId: 1,
    reservationId: bytes(12, 0xa5),
    from: T0 + 600_000,
    until: T0 + 2_400_000,
    energyRequested: 40_000,
    maxPricePerKwh: 6000,
    currency: 'EUR',
  },
  receipt: {
    stationId: 70_001,
    connectorId: 1,
    sessionId: bytes(12, 0xa5),
    vehicle: bytes(8, 0x3c),
    start: T0 + 600_000,
    end: T0 + 2_280_000,
    energyDelivered: 38_512,
    pricePerKwh: 5900,
    totalPrice: 227_221,
    currency: 'EUR',
  },
  attestationChallenge: { challengerId: 900_001, nonce: bytes(16, 0x11), target: bytes(8, 0x3c) },
  attestation: { statement: bytes(120, 0x22) },
};
