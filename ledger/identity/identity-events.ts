// The bodies of the three identity events of a ledger (ledger/cddl/event.cddl, the
// `identity-event-details`): each is a lifecycle-event-body {1: severity 0, 2: details} whose
// details carry the signed objects a verifier needs, so the ledger alone (plus the fleet
// authority's public key and revocation list) proves who signed what:
// - "provisioned": the board's device certificate (the ledger's first record, seq 0);
// - "key-rotated": the rotation statement signed by the old and new keys, and the new key's
//   certificate (signed by the old key; records after it are the new key's);
// - "board-replaced": the new board's link to the old board's last signed checkpoint.
import type { CborValue } from '../cbor/value.ts';
import { hex, type CborMap } from './claims.ts';
import { IdentityError } from './identity-error.ts';
import type { SignedRotation } from './rotation.ts';

export const EVENT_PROVISIONED = 'provisioned';
export const EVENT_KEY_ROTATED = 'key-rotated';
export const EVENT_BOARD_REPLACED = 'board-replaced';

const body = (details: [string, CborValue][]): Map<number, CborValue> =>
  new Map<number, CborValue>([
    [1, 0],
    [2, new Map<CborValue, CborValue>(details)],
  ]);

export function provisionedBody(certificate: Uint8Array, batteryId: string): Map<number, CborValue> {
  return body([
    ['battery-id', batteryId],
    ['certificate', certificate],
  ]);
}

export function keyRotatedBody(rotation: SignedRotation, certificate: Uint8Array): Map<number, CborValue> {
  return body([
    ['certificate', certificate],
    ['rotation-new', rotation.byNew],
    ['rotation-old', rotation.byOld],
  ]);
}

export interface BoardLink {
  /** The old board's checkpoint message (COSE_Sign1 bytes, as stored in its ledger). */
  checkpoint: Uint8Array;
  oldLogKid: Uint8Array;
  oldRoot: Uint8Array;
  oldSize: number;
}

export function boardReplacedBody(link: BoardLink): Map<number, CborValue> {
  return body([
    ['old-checkpoint', link.checkpoint],
    ['old-log-kid', link.oldLogKid],
    ['old-root', link.oldRoot],
    ['old-size', link.oldSize],
  ]);
}

/** The details map of an identity event record body; throws IdentityError naming the record. */
export function eventDetails(recordBody: CborValue, where: string): CborMap {
  if (!(recordBody instanceof Map)) throw new IdentityError('malformed', `${where}: the event body is not a map`);
  const d = recordBody.get(2);
  if (!(d instanceof Map)) throw new IdentityError('malformed', `${where}: the event has no details (field 2)`);
  return d;
}

export function detailBytes(d: CborMap, name: string, where: string): Uint8Array {
  const v = d.get(name);
  if (!(v instanceof Uint8Array)) throw new IdentityError('malformed', `${where}: detail '${name}' must be a byte string`);
  return v;
}

export function parseBoardLink(d: CborMap, where: string): BoardLink {
  const size = d.get('old-size');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new IdentityError('malformed', `${where}: detail 'old-size' must be an unsigned integer`);
  return {
    checkpoint: detailBytes(d, 'old-checkpoint', where),
    oldLogKid: detailBytes(d, 'old-log-kid', where),
    oldRoot: detailBytes(d, 'old-root', where),
    oldSize: size,
  };
}

export const describeLink = (l: BoardLink): string => `old log ${hex(l.oldLogKid).slice(0, 16)}… at tree size ${l.oldSize}, root ${hex(l.oldRoot).slice(0, 16)}…`;
