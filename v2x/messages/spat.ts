// Traffic-light phase and timing for one intersection (SPAT/MAP-like, after SAE J2735 and
// ETSI TS 103 301): per signal group, the approach and lanes it controls, the current phase
// with its minimum / maximum / likely end time, and the phases that follow. Times are absolute
// (ms since the Unix epoch), not J2735's tenths of a second in the hour. v2x/cddl/spat.cddl.
import { array, enumOf, int, struct } from '../codec/schema.ts';
import type { Schema } from '../codec/schema.ts';
import { timeField } from './field-types.ts';

/** SAE J2735 MovementPhaseState. */
export const PHASE = {
  0: 'unavailable',
  1: 'dark',
  2: 'stopThenProceed',
  3: 'stopAndRemain',
  4: 'preMovement',
  5: 'permissiveMovementAllowed',
  6: 'protectedMovementAllowed',
  7: 'permissiveClearance',
  8: 'protectedClearance',
  9: 'cautionConflictingTraffic',
} as const;

export interface PhaseTiming {
  phase: number;
  /** Earliest time this phase can end. */
  minEndTime: number;
  /** Latest time this phase can end (absent: unknown). */
  maxEndTime?: number;
  /** Best estimate of the end (absent: unknown). */
  likelyTime?: number;
}

export interface SignalGroup {
  /** J2735 SignalGroupID, 1..254. */
  signalGroupId: number;
  /** Approach id (J2735 ApproachID), 0..15. */
  approachId: number;
  /** Ingress lane ids (J2735 LaneID, 0..255) this group controls. */
  laneIds: number[];
  current: PhaseTiming;
  /** The phases that follow, in order, at most 8. */
  next: PhaseTiming[];
}

export interface Spat {
  /** J2735 IntersectionID, 0..65535. */
  intersectionId: number;
  /** MsgCount of the intersection's state: changes when the timing plan changes, 0..127. */
  revision: number;
  signalGroups: SignalGroup[];
}

const phaseTimingSchema: Schema = {
  name: 'phaseTiming',
  fields: [
    { key: 1, name: 'phase', type: enumOf(PHASE) },
    timeField(2, 'minEndTime'),
    timeField(3, 'maxEndTime', true),
    timeField(4, 'likelyTime', true),
  ],
  check(v, path) {
    const min = v.minEndTime as number;
    const max = v.maxEndTime as number | undefined;
    const likely = v.likelyTime as number | undefined;
    if (max !== undefined && max < min) throw new RangeError(`${path}.maxEndTime: ${max} is before ${path}.minEndTime (${min})`);
    if (likely !== undefined && (likely < min || (max !== undefined && likely > max))) {
      throw new RangeError(`${path}.likelyTime: ${likely} is outside [minEndTime, maxEndTime]`);
    }
  },
};

const signalGroupSchema: Schema = {
  name: 'signalGroup',
  fields: [
    { key: 1, name: 'signalGroupId', type: int(1, 254) },
    { key: 2, name: 'approachId', type: int(0, 15) },
    { key: 3, name: 'laneIds', type: array(int(0, 255), 0, 32) },
    { key: 4, name: 'current', type: struct(phaseTimingSchema) },
    { key: 5, name: 'next', type: array(struct(phaseTimingSchema), 0, 8) },
  ],
};

export const spatSchema: Schema = {
  name: 'spat',
  fields: [
    { key: 1, name: 'intersectionId', type: int(0, 65535) },
    { key: 2, name: 'revision', type: int(0, 127) },
    { key: 3, name: 'signalGroups', type: array(struct(signalGroupSchema), 1, 64) },
  ],
  check(v, path) {
    const seen = new Set<number>();
    for (const [i, g] of (v.signalGroups as SignalGroup[]).entries()) {
      if (seen.has(g.signalGroupId)) throw new RangeError(`${path}.signalGroups[${i}].signalGroupId: ${g.signalGroupId} appears twice`);
      seen.add(g.signalGroupId);
    }
  },
};
