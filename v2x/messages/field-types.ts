// Field types shared by the V2X messages (v2x/cddl/common.cddl): WGS 84 position in 1e-7
// degree (the resolution of ETSI TS 102 894-2 Latitude/Longitude), times in milliseconds since
// the Unix epoch (UTC, POSIX: leap seconds not counted; ETSI ITS counts TAI milliseconds since
// 2004-01-01, i.e. ETSI time = unix ms - 1072915200000 + 5000 today (TAI-UTC 37 s minus the
// 32 s at 2004): convert at a gateway, never here), station ids as 32-bit unsigned integers
// (ETSI StationID).
import { int, struct } from '../codec/schema.ts';
import type { Field, Schema } from '../codec/schema.ts';

/** 2000-01-01 to 2200-01-01 in ms since the Unix epoch: rejects seconds or microseconds by mistake. */
export const TIME_MIN = 946_684_800_000;
export const TIME_MAX = 7_258_118_400_000;
export const timeMs = int(TIME_MIN, TIME_MAX);
export const stationId = int(0, 0xffff_ffff);

export interface Position {
  /** WGS 84 latitude, 1e-7 degree, -900000000..900000000. */
  latitude: number;
  /** WGS 84 longitude, 1e-7 degree, -1800000000..1800000000. */
  longitude: number;
}

export const positionSchema: Schema = {
  name: 'position',
  fields: [
    { key: 1, name: 'latitude', type: int(-900_000_000, 900_000_000), unit: '1e-7 degree' },
    { key: 2, name: 'longitude', type: int(-1_800_000_000, 1_800_000_000), unit: '1e-7 degree' },
  ],
};

export const position = struct(positionSchema);

/** A time field in ms since the Unix epoch. */
export function timeField(key: number, name: string, optional = false): Field {
  return { key, name, type: timeMs, unit: 'ms since the Unix epoch (UTC)', optional };
}

/** Cross-field rule: `later` must not be before `earlier` (both present). */
export function notBefore(value: Readonly<Record<string, unknown>>, path: string, earlier: string, later: string): void {
  const a = value[earlier];
  const b = value[later];
  if (typeof a === 'number' && typeof b === 'number' && b < a) {
    throw new RangeError(`${path}.${later}: ${b} is before ${path}.${earlier} (${a})`);
  }
}
