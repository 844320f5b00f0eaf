// Which messages are verified first (the verification queue's order) and which may wait: the
// verify-on-demand policy. A message that would make this station act is worth a verification
// now; one that only refreshes the picture of far-away traffic is verified when capacity is
// left, and is the first shed under overload:
//   class 0 (hazard): DENMs (hazard warnings; a cancellation must also arrive in time);
//   class 1 (action): CAMs of neighbours within `actionRadiusM` (collision warnings use them),
//     SPaT, attestation challenges and answers, reservations and receipts;
//   class 2 (awareness): CAMs beyond the action radius, charging offers.
// Within a class, nearer before farther (distance from this station to the sender's or the
// event's position, in buckets), then first come first served.
import type { Position } from '../messages/field-types.ts';
import type { DecodedPayload } from '../security/envelope.ts';

export const PRIORITY_CLASSES = 3;
export const CLASS_NAMES = ['hazard', 'action', 'awareness'] as const;

/** Upper bounds of the distance buckets, m (the last is open). */
export const DISTANCE_BUCKETS = [50, 100, 200, 400, 800, 1600, Infinity] as const;

export interface Priority {
  cls: number;
  bucket: number;
  /** Metres to the message's position, Infinity when either position is unknown. */
  distanceM: number;
}

const R = 6_371_000;
const rad = (d: number) => (d * Math.PI) / 180;

/** Great-circle distance (haversine), m, between two positions in 1e-7 degree. */
export function distanceM(a: Position, b: Position): number {
  const la1 = rad(a.latitude / 1e7);
  const la2 = rad(b.latitude / 1e7);
  const dLa = la2 - la1;
  const dLo = rad((b.longitude - a.longitude) / 1e7);
  const h = Math.sin(dLa / 2) ** 2 + Math.cos(la1) * Math.cos(la2) * Math.sin(dLo / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The position a message is about, when it has one. */
export function messagePosition(p: DecodedPayload): Position | undefined {
  switch (p.type) {
    case 'cam':
      return (p.body as { position: Position }).position;
    case 'denm':
      return (p.body as { eventPosition: Position }).eventPosition;
    case 'chargingOffer':
      return (p.body as { position: Position }).position;
    default:
      return undefined;
  }
}

export function messagePriority(p: DecodedPayload, own: Position | undefined, actionRadiusM: number): Priority {
  const at = messagePosition(p);
  const d = own !== undefined && at !== undefined ? distanceM(own, at) : Infinity;
  let cls: number;
  if (p.type === 'denm') cls = 0;
  else if (p.type === 'cam') cls = d <= actionRadiusM || own === undefined ? 1 : 2;
  else if (p.type === 'chargingOffer') cls = 2;
  else cls = 1;
  // Unknown distance sorts with the nearest: without a position we cannot tell it is far.
  const bucket = Number.isFinite(d) ? DISTANCE_BUCKETS.findIndex((b) => d <= b) : 0;
  return { cls, bucket, distanceM: d };
}
