// The static battery data given at provisioning (EU Battery Regulation 2023/1542 Annex VI/XIII:
// manufacturer, model, chemistry, rated capacity, mass, manufacture date), as carried in a
// certificate request and a device certificate (ledger/cddl/device-cert.cddl `battery-data`).
// Fixed-point integers only (no floats in signed structures): capacity in mAh, voltage in mV,
// mass in grams.
import type { CborValue } from '../cbor/value.ts';
import { asMap, optText, optUint, text, uint } from './claims.ts';
import { toFixedPoint } from '../fixed-point.ts';

export interface BatteryData {
  manufacturer: string;
  model: string;
  /** e.g. "NMC", "LFP", "NCA", "LTO", "Na-ion". */
  chemistry: string;
  /** Rated capacity, mAh. */
  capacityMah: number;
  /** Mass, grams. */
  massG: number;
  /** Nominal voltage, mV. */
  nominalMv?: number;
  /** Manufacture date, YYYY-MM-DD. */
  manufactured?: string;
}

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** Builds battery data from the units people type (Ah, kg, V); RangeError names the field. */
export function batteryDataFrom(input: { manufacturer: string; model: string; chemistry: string; capacityAh: number; massKg: number; nominalV?: number; manufactured?: string }): BatteryData {
  for (const f of ['manufacturer', 'model', 'chemistry'] as const) {
    const v = input[f];
    if (typeof v !== 'string' || v.trim() === '' || v.length > 64) throw new RangeError(`${f}: expected 1..64 characters of text`);
  }
  const d: BatteryData = {
    manufacturer: input.manufacturer.trim(),
    model: input.model.trim(),
    chemistry: input.chemistry.trim(),
    capacityMah: toFixedPoint(input.capacityAh, 1000, 'capacity (Ah)', { min: 1, max: 10_000_000_000 }),
    massG: toFixedPoint(input.massKg, 1000, 'mass (kg)', { min: 1, max: 100_000_000 }),
  };
  if (input.nominalV !== undefined) d.nominalMv = toFixedPoint(input.nominalV, 1000, 'nominal voltage (V)', { min: 1, max: 2_000_000 });
  if (input.manufactured !== undefined) {
    if (!DATE.test(input.manufactured)) throw new RangeError(`manufacture date: '${input.manufactured}' is not YYYY-MM-DD`);
    d.manufactured = input.manufactured;
  }
  return d;
}

export function encodeBatteryData(d: BatteryData): Map<number, CborValue> {
  const m = new Map<number, CborValue>([
    [1, d.manufacturer],
    [2, d.model],
    [3, d.chemistry],
    [4, d.capacityMah],
    [5, d.massG],
  ]);
  if (d.nominalMv !== undefined) m.set(6, d.nominalMv);
  if (d.manufactured !== undefined) m.set(7, d.manufactured);
  return m;
}

export function decodeBatteryData(v: CborValue | undefined, what: string): BatteryData {
  const m = asMap(v, what, [1, 2, 3, 4, 5, 6, 7]);
  const d: BatteryData = {
    manufacturer: text(m, 1, what, 64),
    model: text(m, 2, what, 64),
    chemistry: text(m, 3, what, 64),
    capacityMah: uint(m, 4, what),
    massG: uint(m, 5, what),
  };
  const nominal = optUint(m, 6, what);
  if (nominal !== undefined) d.nominalMv = nominal;
  const date = optText(m, 7, what, 10);
  if (date !== undefined) {
    if (!DATE.test(date)) throw new RangeError(`${what}: field 7 (manufacture date) is not YYYY-MM-DD`);
    d.manufactured = date;
  }
  return d;
}
