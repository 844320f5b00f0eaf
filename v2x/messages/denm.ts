// Hazard notification (DENM-like; ETSI EN 302 637-3 management and situation containers):
// action id, event type as cause / sub-cause codes (ETSI TS 102 894-2 CauseCodeType), event
// position, detection and reference time, validity (default 600 s), relevance distance,
// repetition interval, and termination (cancellation by the originator, negation by another
// station). v2x/cddl/denm.cddl.
import { enumOf, int, struct } from '../codec/schema.ts';
import type { Schema } from '../codec/schema.ts';
import { notBefore, position, stationId, timeField } from './field-types.ts';
import type { Position } from './field-types.ts';

/** ETSI EN 302 637-3 section 8.1: the default validity duration, seconds. */
export const DEFAULT_VALIDITY_S = 600;

/** A few ETSI TS 102 894-2 cause codes (any 0..255 is accepted on the wire). */
export const CAUSE = {
  trafficCondition: 1,
  accident: 2,
  roadworks: 3,
  adverseWeatherAdhesion: 6,
  hazardousLocationObstacle: 10,
  stationaryVehicle: 94,
  dangerousEndOfQueue: 27,
  emergencyVehicleApproaching: 95,
  collisionRisk: 97,
  dangerousSituation: 99,
} as const;

export const TERMINATION = { 0: 'cancellation', 1: 'negation' } as const;
export const CANCELLATION = 0;
export const NEGATION = 1;

export interface ActionId {
  /** Station id of the originator. */
  originatingStationId: number;
  /** Sequence number of the originator, 0..65535. */
  sequenceNumber: number;
}

export interface Denm {
  actionId: ActionId;
  eventType: { cause: number; subCause: number };
  eventPosition: Position;
  detectionTime: number;
  referenceTime: number;
  /** Seconds after the detection time the event stays valid, 0..86400 (default 600). */
  validity: number;
  /** Radius around the event position, metres, 0..10000. */
  relevanceDistance: number;
  /** Milliseconds between repetitions, 0 (none) or 100..10000. */
  repetitionInterval: number;
  /** 0 cancellation (by the originator), 1 negation (by another station); absent while active. */
  termination?: number;
}

const actionIdSchema: Schema = {
  name: 'actionId',
  fields: [
    { key: 1, name: 'originatingStationId', type: stationId },
    { key: 2, name: 'sequenceNumber', type: int(0, 65535) },
  ],
};

const eventTypeSchema: Schema = {
  name: 'eventType',
  fields: [
    { key: 1, name: 'cause', type: int(0, 255) },
    { key: 2, name: 'subCause', type: int(0, 255) },
  ],
};

export const denmSchema: Schema = {
  name: 'denm',
  fields: [
    { key: 1, name: 'actionId', type: struct(actionIdSchema) },
    { key: 2, name: 'eventType', type: struct(eventTypeSchema) },
    { key: 3, name: 'eventPosition', type: position },
    timeField(4, 'detectionTime'),
    timeField(5, 'referenceTime'),
    { key: 6, name: 'validity', type: int(0, 86_400), unit: 's' },
    { key: 7, name: 'relevanceDistance', type: int(0, 10_000), unit: 'm' },
    { key: 8, name: 'repetitionInterval', type: int(0, 10_000), unit: 'ms' },
    { key: 9, name: 'termination', type: enumOf(TERMINATION), optional: true },
  ],
  check(v, path) {
    notBefore(v, path, 'detectionTime', 'referenceTime');
    const rep = v.repetitionInterval as number;
    if (rep !== 0 && rep < 100) throw new RangeError(`${path}.repetitionInterval: ${rep} ms; use 0 (no repetition) or 100..10000 ms`);
  },
};
