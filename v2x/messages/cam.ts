// Cooperative awareness message (CAM-like; ETSI EN 302 637-2 basic container + high-frequency
// container, in fixed-point integers, plus the EV battery state of charge): v2x/cddl/cam.cddl.
import { enumOf, int } from '../codec/schema.ts';
import type { Schema } from '../codec/schema.ts';
import { position, stationId } from './field-types.ts';
import type { Position } from './field-types.ts';

/** ETSI TS 102 894-2 StationType. */
export const STATION_TYPE = {
  0: 'unknown',
  1: 'pedestrian',
  2: 'cyclist',
  3: 'moped',
  4: 'motorcycle',
  5: 'passengerCar',
  6: 'bus',
  7: 'lightTruck',
  8: 'heavyTruck',
  9: 'trailer',
  10: 'specialVehicle',
  11: 'tram',
  15: 'roadSideUnit',
} as const;

export interface Cam {
  stationId: number;
  stationType: number;
  position: Position;
  /** Heading, 0.1 degree clockwise from WGS 84 north, 0..3599. */
  heading: number;
  /** Speed, 0.01 m/s, 0..16382 (163.82 m/s). */
  speed: number;
  /** Longitudinal acceleration, 0.01 m/s^2, -1600..1600 (negative: braking). */
  longitudinalAcceleration: number;
  /** Yaw rate, 0.01 degree/s, -32766..32766 (positive: counter-clockwise, ETSI). */
  yawRate: number;
  /** Vehicle length, cm, 1..10000. */
  length: number;
  /** Vehicle width, cm, 1..1000. */
  width: number;
  /** EV battery state of charge, 0.1 %, 0..1000; absent for vehicles without a traction battery. */
  stateOfCharge?: number;
}

export const camSchema: Schema = {
  name: 'cam',
  fields: [
    { key: 1, name: 'stationId', type: stationId },
    { key: 2, name: 'stationType', type: enumOf(STATION_TYPE) },
    { key: 3, name: 'position', type: position },
    { key: 4, name: 'heading', type: int(0, 3599), unit: '0.1 degree' },
    { key: 5, name: 'speed', type: int(0, 16382), unit: '0.01 m/s' },
    { key: 6, name: 'longitudinalAcceleration', type: int(-1600, 1600), unit: '0.01 m/s^2' },
    { key: 7, name: 'yawRate', type: int(-32766, 32766), unit: '0.01 degree/s' },
    { key: 8, name: 'length', type: int(1, 10000), unit: 'cm' },
    { key: 9, name: 'width', type: int(1, 1000), unit: 'cm' },
    { key: 10, name: 'stateOfCharge', type: int(0, 1000), unit: '0.1 %', optional: true },
  ],
};
