// A BatterySnapshot as the body of a ledger "telemetry" record: fixed-point integers only, so
// that the signed bytes are unambiguous (no float formatting or rounding differences between
// implementations). Specified in ledger/cddl/telemetry.cddl:
//
//   telemetry = {
//     ? 1: int,        ; pack voltage, mV
//     ? 2: int,        ; pack current, mA, positive = discharge
//     ? 3: int,        ; state of charge, 0.1 %
//     ? 4: int,        ; state of health, 0.1 %
//     ? 5: [* int],    ; cell voltages, mV
//     ? 6: [* int],    ; temperatures, 0.1 degC
//     ? 7: int,        ; remaining capacity, mAh
//     ? 8: int,        ; full capacity, mAh
//     ? 9: uint,       ; cycle count (as the BMS reports it)
//     10: uint,        ; fault bits: bit i set = FAULT_NAMES[i] raised (devices/snapshot.ts)
//     ? 11: bool,      ; contactor closed
//     ? 12: uint,      ; insulation resistance, ohm
//     13: uint,        ; stale bits: bit i set = field (i + 1) is older than its source allows
//     ? 14: bstr,      ; balancing bitmap, bit i (LSB first) = cell i balancing
//   }
//
// Absent keys mean "not known". Values are rounded half away from zero.
import type { CborValue } from '../../ledger/cbor/value.ts';
import { FAULT_NAMES, emptySnapshot, type BatterySnapshot, type SnapshotField } from '../../devices/snapshot.ts';

const round = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

/** Field numbers of the telemetry body, and the snapshot field each one carries. */
export const TELEMETRY_KEYS: Record<number, SnapshotField> = {
  1: 'packVoltageV',
  2: 'currentA',
  3: 'socPct',
  4: 'sohPct',
  5: 'cellVoltagesMv',
  6: 'temperaturesC',
  7: 'remainingCapacityAh',
  8: 'fullCapacityAh',
  9: 'cycleCount',
  10: 'faults',
  11: 'contactorClosed',
  12: 'insulationOhm',
  14: 'balancing',
};

export function telemetryBody(s: BatterySnapshot): Map<number, CborValue> {
  const m = new Map<number, CborValue>();
  const put = (k: number, v: number | null, scale: number) => {
    if (v !== null && Number.isFinite(v)) m.set(k, round(v * scale));
  };
  put(1, s.packVoltageV, 1000);
  put(2, s.currentA, 1000);
  put(3, s.socPct, 10);
  put(4, s.sohPct, 10);
  if (s.cellVoltagesMv.length) m.set(5, s.cellVoltagesMv.map(round));
  if (s.temperaturesC.length) m.set(6, s.temperaturesC.map((t) => round(t * 10)));
  put(7, s.remainingCapacityAh, 1000);
  put(8, s.fullCapacityAh, 1000);
  if (s.cycleCount !== null) m.set(9, Math.max(0, Math.round(s.cycleCount)));
  let faults = 0;
  FAULT_NAMES.forEach((name, i) => {
    if (s.faults[name]) faults |= 1 << i;
  });
  m.set(10, faults);
  if (s.contactorClosed !== null) m.set(11, s.contactorClosed);
  if (s.insulationOhm !== null) m.set(12, Math.max(0, Math.round(s.insulationOhm)));
  let stale = 0;
  for (const [k, field] of Object.entries(TELEMETRY_KEYS)) if (s.meta[field]?.stale) stale |= 1 << (Number(k) - 1);
  m.set(13, stale);
  if (s.balancing.length) {
    const bits = new Uint8Array(Math.ceil(s.balancing.length / 8));
    s.balancing.forEach((b, i) => {
      if (b) bits[i >> 3]! |= 1 << (i & 7);
    });
    m.set(14, bits);
  }
  return m;
}

const num = (m: ReadonlyMap<CborValue, CborValue>, k: number, scale: number): number | null => {
  const v = m.get(k);
  return typeof v === 'number' ? v / scale : null;
};

/** The snapshot a telemetry body describes (at the body's resolution), for verifiers and accounting. */
export function snapshotFromBody(body: CborValue, t: number): BatterySnapshot {
  if (!(body instanceof Map)) throw new TypeError('telemetry body: not a CBOR map');
  const m = body as ReadonlyMap<CborValue, CborValue>;
  const s = emptySnapshot(t);
  s.packVoltageV = num(m, 1, 1000);
  s.currentA = num(m, 2, 1000);
  s.socPct = num(m, 3, 10);
  s.sohPct = num(m, 4, 10);
  const cells = m.get(5);
  if (Array.isArray(cells)) s.cellVoltagesMv = cells.map(Number);
  const temps = m.get(6);
  if (Array.isArray(temps)) s.temperaturesC = temps.map((x) => Number(x) / 10);
  s.remainingCapacityAh = num(m, 7, 1000);
  s.fullCapacityAh = num(m, 8, 1000);
  s.cycleCount = num(m, 9, 1);
  const faults = m.get(10);
  if (typeof faults === 'number') FAULT_NAMES.forEach((name, i) => faults & (1 << i) && (s.faults[name] = true));
  const c = m.get(11);
  s.contactorClosed = typeof c === 'boolean' ? c : null;
  s.insulationOhm = num(m, 12, 1);
  const bal = m.get(14);
  if (bal instanceof Uint8Array) s.balancing = Array.from({ length: bal.length * 8 }, (_, i) => ((bal[i >> 3]! >> (i & 7)) & 1) === 1);
  return s;
}
