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
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { CborWriter, putBits, putHead, putInt, putScaledInts, roundHalfAwayFromZero as round, viewOf } from '../../ledger/cbor/cbor-writer.ts';
import { FAULT_NAMES, emptySnapshot, type BatterySnapshot, type SnapshotField } from '../../devices/snapshot.ts';


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

/** Bit of each fault name in field 10, and of each snapshot field in field 13 (stale bits). */
const FAULT_BIT = new Map<string, number>(FAULT_NAMES.map((name, i) => [name, 1 << i]));
const STALE_BIT = new Map<string, number>(STALE_KEYS.map((k, i) => [STALE_FIELDS[i]!, 1 << (k - 1)]));

// Raised faults and described fields are few: walk what the snapshot holds, not every name
// (a lookup by a computed name, fifteen or thirteen times a record, shows in the profile).

/** Field 10: bit i set = FAULT_NAMES[i] raised. */
function faultBits(s: BatterySnapshot): number {
  let bits = 0;
  const raised = s.faults as Record<string, boolean | undefined>;
  for (const name in raised) if (raised[name]) bits |= FAULT_BIT.get(name) ?? 0;
  return bits;
}

/** Field 13: bit (k - 1) set = the field of key k is stale. */
function staleBits(s: BatterySnapshot): number {
  let bits = 0;
  const meta = s.meta as Record<string, { stale?: boolean } | undefined>;
  for (const field in meta) if (meta[field]?.stale) bits |= STALE_BIT.get(field) ?? 0;
  return bits;
}

/**
 * Entries of the body's arrays (cells, temperatures, balancing flags), at most: far above any
 * pack, and well within what the ledger's decoder reads back (65,536 entries an array, 100,000
 * items a record), so that every body the writer accepts can be verified.
 */
export const MAX_TELEMETRY_ENTRIES = 4096;

function checkSizes(s: BatterySnapshot): void {
  const max = MAX_TELEMETRY_ENTRIES;
  if (s.cellVoltagesMv.length <= max && s.temperaturesC.length <= max && s.balancing.length <= max) return;
  for (const field of ['cellVoltagesMv', 'temperaturesC', 'balancing'] as const) {
    const n = s[field].length;
    if (n > max) throw new RangeError(`telemetry body: ${field} has ${n} entries, more than the ${max} a record may hold`);
  }
}

/** A known value: a finite number (null, NaN and infinities are unknown, and left out). */
const isNumber = (v: number | null): v is number => v !== null && Number.isFinite(v);

function put(m: Map<number, CborValue>, k: number, v: number | null, scale: number): void {
  if (isNumber(v)) m.set(k, round(v * scale));
}

// Plain loops and module-level functions: this runs for every record (hundreds of thousands
// a second in a replay), and a closure or a forEach per call shows in the profile.
export function telemetryBody(s: BatterySnapshot): Map<number, CborValue> {
  checkSizes(s);
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
  if (isNumber(s.cycleCount)) m.set(9, Math.max(0, Math.round(s.cycleCount)));
  m.set(10, faultBits(s));
  if (s.contactorClosed !== null) m.set(11, s.contactorClosed);
  if (isNumber(s.insulationOhm)) m.set(12, Math.max(0, Math.round(s.insulationOhm)));
  m.set(13, staleBits(s));
  const bal = s.balancing;
  if (bal.length) {
    const bits = new Uint8Array(Math.ceil(bal.length / 8));
    for (let i = 0; i < bal.length; i++) if (bal[i]) bits[i >> 3]! |= 1 << (i & 7);
    m.set(14, bits);
  }
  return m;
}

const writer = new CborWriter();

/** Entries written so far into the body being written (its map head is written last). */
let entries = 0;

/** Key k (1..23) and the unsigned integer u (0..2^32 - 1): one or two big-endian stores. */
function putKeyUint(b: Uint8Array, dv: DataView, p: number, k: number, u: number): number {
  if (u < 24) {
    dv.setUint16(p, (k << 8) | u);
    return p + 2;
  }
  if (u < 0x100) {
    dv.setUint16(p, (k << 8) | 24);
    b[p + 2] = u;
    return p + 3;
  }
  if (u < 0x1_0000) {
    dv.setUint32(p, (k << 24) | 0x19_0000 | u);
    return p + 4;
  }
  dv.setUint16(p, (k << 8) | 26);
  dv.setUint32(p + 2, u);
  return p + 6;
}

// Scalars that round to 1..2^32 - 1 (nearly every reading: positive, well within 32 bits) go
// straight to putKeyUint; Math.round takes halves up, which for positive values is away from
// zero. Anything else (zero and -0, negatives, larger values, NaN and infinities) takes the
// general path.

/** Key k (1..23) and the value v * scale rounded half away from zero, when v is a finite number; else nothing. */
function putField(b: Uint8Array, dv: DataView, p: number, k: number, v: number | null, scale: number): number {
  if (v === null) return p;
  const x = v * scale;
  if (x >= 0.5 && x < 4_294_967_295.5) {
    entries++;
    return putKeyUint(b, dv, p, k, Math.round(x));
  }
  if (!isNumber(v)) return p;
  entries++;
  b[p] = k;
  // Values that are int32 already need no rounding (and -0 stays -0).
  const i = x | 0;
  return putInt(b, p + 1, i === x && i !== 0 ? i : round(x));
}

/** Key k (1..23) and the value rounded, at least 0, when v is a finite number; else nothing. */
function putCount(b: Uint8Array, dv: DataView, p: number, k: number, v: number | null): number {
  if (v === null) return p;
  if (v >= 0.5 && v < 4_294_967_295.5) {
    entries++;
    return putKeyUint(b, dv, p, k, Math.round(v));
  }
  if (!isNumber(v)) return p;
  entries++;
  b[p] = k;
  return putHead(b, p + 1, 0, Math.max(0, Math.round(v)));
}

/**
 * Writes the canonical CBOR of telemetryBody(s) into `w`, straight from the snapshot: the same
 * bytes as encodeCanonical(telemetryBody(s)) (test/firmware-ts/telemetry-body.test.ts), without
 * the Map and the generic encoder. The ledger's body writer for telemetry: Ledger.appendWritten
 * writes it straight into the chunk that goes to disk. Marked `canonical`: whatever the
 * snapshot holds, it writes one canonical map within the decoder's limits (keys in order,
 * shortest heads; arrays beyond MAX_TELEMETRY_ENTRIES throw), so the ledger stores it without
 * checking it again. A value that is no safe integer once scaled and rounded (NaN from a
 * failed sensor, an infinity, a huge number) sends the whole body through encodeCanonical,
 * which writes it as the generic path always has.
 */
export function writeTelemetryBody(w: CborWriter, s: BatterySnapshot): void {
  checkSizes(s);
  const at = w.length;
  try {
    writeIntegers(w, s);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    w.rewind(at).raw(encodeCanonical(telemetryBody(s)));
  }
}
writeTelemetryBody.canonical = true;

/** writeTelemetryBody for a snapshot whose values are all safe integers once scaled and rounded; a RangeError otherwise. */
function writeIntegers(w: CborWriter, s: BatterySnapshot): void {
  const cells = s.cellVoltagesMv;
  const temps = s.temperaturesC;
  const bal = s.balancing;
  // Room for everything at its longest: the map's head, twelve scalar fields of a key and 9
  // bytes, the arrays' and bitmap's keys and heads, 9 bytes an array entry, a byte per 8 flags.
  const b = w.reserve(1 + 12 * 10 + 3 * 10 + 9 * (cells.length + temps.length) + ((bal.length + 7) >>> 3));
  // The map's size is known only at the end: its head (one byte: at most 14 entries) is
  // written last, in the place kept for it.
  const dv = viewOf(b);
  const at = w.length;
  let p = at + 1;
  entries = 0;
  p = putField(b, dv, p, 1, s.packVoltageV, 1000);
  p = putField(b, dv, p, 2, s.currentA, 1000);
  p = putField(b, dv, p, 3, s.socPct, 10);
  p = putField(b, dv, p, 4, s.sohPct, 10);
  if (cells.length) {
    b[p] = 5;
    p = putScaledInts(b, p + 1, cells, 1);
    entries++;
  }
  if (temps.length) {
    b[p] = 6;
    p = putScaledInts(b, p + 1, temps, 10);
    entries++;
  }
  p = putField(b, dv, p, 7, s.remainingCapacityAh, 1000);
  p = putField(b, dv, p, 8, s.fullCapacityAh, 1000);
  p = putCount(b, dv, p, 9, s.cycleCount);
  b[p] = 10;
  p = putHead(b, p + 1, 0, faultBits(s));
  entries++;
  if (s.contactorClosed !== null) {
    b[p] = 11;
    b[p + 1] = s.contactorClosed ? 0xf5 : 0xf4;
    p += 2;
    entries++;
  }
  p = putCount(b, dv, p, 12, s.insulationOhm);
  b[p] = 13;
  p = putHead(b, p + 1, 0, staleBits(s));
  entries++;
  if (bal.length) {
    b[p] = 14;
    p = putBits(b, p + 1, bal);
    entries++;
  }
  b[at] = 0xa0 | entries;
  w.advanceTo(p);
}

/** writeTelemetryBody's bytes on their own (a copy that nothing overwrites), for Ledger.appendMany's `bodyBytes`. */
export function encodeTelemetryBody(s: BatterySnapshot): Uint8Array {
  writeTelemetryBody(writer.reset(), s);
  return writer.take();
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
