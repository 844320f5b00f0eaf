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
import { CborWriter } from '../../ledger/cbor/cbor-writer.ts';
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

/** Keys and fields of TELEMETRY_KEYS as arrays, for the stale bits without Object.entries per record. */
const STALE_KEYS = Object.keys(TELEMETRY_KEYS).map(Number);
const STALE_FIELDS = STALE_KEYS.map((k) => TELEMETRY_KEYS[k]!);

function put(m: Map<number, CborValue>, k: number, v: number | null, scale: number): void {
  if (v !== null && Number.isFinite(v)) m.set(k, round(v * scale));
}

// Plain loops and module-level functions: this runs for every record (hundreds of thousands
// a second in a replay), and a closure or a forEach per call shows in the profile.
export function telemetryBody(s: BatterySnapshot): Map<number, CborValue> {
  const m = new Map<number, CborValue>();
  put(m, 1, s.packVoltageV, 1000);
  put(m, 2, s.currentA, 1000);
  put(m, 3, s.socPct, 10);
  put(m, 4, s.sohPct, 10);
  const cells = s.cellVoltagesMv;
  if (cells.length) {
    const out = new Array<number>(cells.length);
    for (let i = 0; i < cells.length; i++) out[i] = round(cells[i]!);
    m.set(5, out);
  }
  const temps = s.temperaturesC;
  if (temps.length) {
    const out = new Array<number>(temps.length);
    for (let i = 0; i < temps.length; i++) out[i] = round(temps[i]! * 10);
    m.set(6, out);
  }
  put(m, 7, s.remainingCapacityAh, 1000);
  put(m, 8, s.fullCapacityAh, 1000);
  if (s.cycleCount !== null) m.set(9, Math.max(0, Math.round(s.cycleCount)));
  let faults = 0;
  for (let i = 0; i < FAULT_NAMES.length; i++) if (s.faults[FAULT_NAMES[i]!]) faults |= 1 << i;
  m.set(10, faults);
  if (s.contactorClosed !== null) m.set(11, s.contactorClosed);
  if (s.insulationOhm !== null) m.set(12, Math.max(0, Math.round(s.insulationOhm)));
  let stale = 0;
  for (let i = 0; i < STALE_KEYS.length; i++) if (s.meta[STALE_FIELDS[i]!]?.stale) stale |= 1 << (STALE_KEYS[i]! - 1);
  m.set(13, stale);
  const bal = s.balancing;
  if (bal.length) {
    const bits = new Uint8Array(Math.ceil(bal.length / 8));
    for (let i = 0; i < bal.length; i++) if (bal[i]) bits[i >> 3]! |= 1 << (i & 7);
    m.set(14, bits);
  }
  return m;
}

const writer = new CborWriter();
/** Rounded values of one array of the snapshot, before they are written. */
const scratch: number[] = [];

function putInt(w: CborWriter, k: number, v: number | null, scale: number): number {
  if (v === null || !Number.isFinite(v)) return 0;
  w.head(0, k).int(round(v * scale));
  return 1;
}

/**
 * The canonical CBOR of telemetryBody(s), written straight from the snapshot: the same bytes
 * as encodeCanonical(telemetryBody(s)) (test/firmware-ts/telemetry-body.test.ts), without the
 * Map and the generic encoder. For the ledger's encoded-body appends (Ledger.appendMany with
 * `bodyBytes`), which check the bytes again before they are stored.
 */
export function encodeTelemetryBody(s: BatterySnapshot): Uint8Array {
  // The map's size is known only at the end: its head (one byte: at most 14 entries) is
  // written last, in the place kept for it.
  const w = writer.reset();
  w.head(7, 0);
  let n = 0;
  n += putInt(w, 1, s.packVoltageV, 1000);
  n += putInt(w, 2, s.currentA, 1000);
  n += putInt(w, 3, s.socPct, 10);
  n += putInt(w, 4, s.sohPct, 10);
  const cells = s.cellVoltagesMv;
  if (cells.length) {
    for (let i = 0; i < cells.length; i++) scratch[i] = round(cells[i]!);
    w.head(0, 5).ints(scratch, cells.length);
    n++;
  }
  const temps = s.temperaturesC;
  if (temps.length) {
    for (let i = 0; i < temps.length; i++) scratch[i] = round(temps[i]! * 10);
    w.head(0, 6).ints(scratch, temps.length);
    n++;
  }
  n += putInt(w, 7, s.remainingCapacityAh, 1000);
  n += putInt(w, 8, s.fullCapacityAh, 1000);
  if (s.cycleCount !== null) {
    w.head(0, 9).int(Math.max(0, Math.round(s.cycleCount)));
    n++;
  }
  let faults = 0;
  for (let i = 0; i < FAULT_NAMES.length; i++) if (s.faults[FAULT_NAMES[i]!]) faults |= 1 << i;
  w.head(0, 10).int(faults);
  n++;
  if (s.contactorClosed !== null) {
    w.head(0, 11).bool(s.contactorClosed);
    n++;
  }
  if (s.insulationOhm !== null) {
    w.head(0, 12).int(Math.max(0, Math.round(s.insulationOhm)));
    n++;
  }
  let stale = 0;
  for (let i = 0; i < STALE_KEYS.length; i++) if (s.meta[STALE_FIELDS[i]!]?.stale) stale |= 1 << (STALE_KEYS[i]! - 1);
  w.head(0, 13).int(stale);
  n++;
  const bal = s.balancing;
  if (bal.length) {
    const bits = new Uint8Array(Math.ceil(bal.length / 8));
    for (let i = 0; i < bal.length; i++) if (bal[i]) bits[i >> 3]! |= 1 << (i & 7);
    w.head(0, 14).bytes(bits);
    n++;
  }
  return w.patch(0, 0xa0 | n).take();
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
