// The DBC signal codec: frame bytes <-> physical signal values (physical = raw * factor +
// offset, Vector "DBC File Format Documentation" 1.0.5 section 8.1), with multiplexing
// (section 8.2; extended multiplexing by SG_MUL_VAL_) and value descriptions (VAL_).
// Decoding allocates only the result object; encoding is strict and names message and signal.
import { canFrame, type CanFrame } from '../../hal/can/frame.ts';
import { inRanges, messagePlan, VALUE_FLOAT32, VALUE_FLOAT64, type SignalPlan } from './message-plan.ts';
import type { DbcDatabase, DbcMessage } from './model.ts';

export type SignalValue = number | string;

export interface DecodeOptions {
  /** Give value-table names as strings (default true); false gives the scaled number. */
  choices?: boolean;
  /** Decode a frame shorter than the message: signals it does not hold are left out (default false: RangeError). */
  allowTruncated?: boolean;
}

export interface DecodedMessage {
  message: DbcMessage;
  name: string;
  signals: Record<string, SignalValue>;
}

export interface EncodeOptions {
  /** When a numeric id is given: look it up among extended (true) or standard (false) ids only. */
  extended?: boolean;
}

const scratch = new DataView(new ArrayBuffer(8));
const TWO_32 = 4294967296;

/** The raw field of a signal as a number: exact for integers up to 53 bits, nearest double above. */
function readRaw(p: SignalPlan, data: Uint8Array): number {
  const l = p.layout;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < l.count; i++) {
    const bits = (data[l.byte[i]!]! >> l.shift[i]!) & l.mask[i]!;
    if (l.high[i] === 0) lo += bits * l.weight[i]!;
    else hi += bits * l.weight[i]!;
  }
  if (p.valueType === VALUE_FLOAT32) {
    scratch.setUint32(0, lo);
    return scratch.getFloat32(0);
  }
  if (p.valueType === VALUE_FLOAT64) {
    scratch.setUint32(0, hi);
    scratch.setUint32(4, lo);
    return scratch.getFloat64(0);
  }
  if (p.length <= 53) {
    const u = hi * TWO_32 + lo;
    return p.signed && u >= p.signBit ? u - p.span : u;
  }
  // 54..64-bit integers: exact in BigInt, then the nearest double.
  let u = (BigInt(hi) << 32n) | BigInt(lo);
  if (p.signed && u >= 1n << BigInt(p.length - 1)) u -= 1n << BigInt(p.length);
  return Number(u);
}

/**
 * Decodes the signals of `message` that are present in `data` (multiplexed signals only when
 * their switch selects them). Throws RangeError when `data` is shorter than the message,
 * unless `allowTruncated`.
 */
export function decodeSignals(message: DbcMessage, data: Uint8Array, opts?: DecodeOptions): Record<string, SignalValue> {
  const plan = messagePlan(message);
  const truncated = data.length < message.length;
  if (truncated && !opts?.allowTruncated) {
    throw new RangeError(`message ${message.name} (id 0x${message.id.toString(16)}) is ${message.length} bytes; the frame holds ${data.length}`);
  }
  const useChoices = opts?.choices !== false;
  const { raw, queue, found, filePos } = plan;
  const signals = plan.signals;
  // Visit the signals without a switch, then what each switch value selects.
  let tail = 0;
  for (let k = 0; k < plan.roots.length; k++) queue[tail++] = plan.roots[k]!;
  let nFound = 0;
  for (let head = 0; head < tail; head++) {
    const i = queue[head]!;
    const p = signals[i]!;
    if (p.layout.bytesNeeded > data.length) continue;
    const r = readRaw(p, data);
    raw[i] = r;
    // Keep `found` in DBC order (insertion; a frame carries few signals).
    let at = nFound++;
    while (at > 0 && filePos[found[at - 1]!]! > filePos[i]!) {
      found[at] = found[at - 1]!;
      at--;
    }
    found[at] = i;
    const byValue = plan.childrenByValue[i];
    const selected = byValue?.get(r);
    if (selected) for (let k = 0; k < selected.length; k++) queue[tail++] = selected[k]!;
    const ranged = plan.rangeChildren[i];
    if (ranged) for (let k = 0; k < ranged.length; k++) if (inRanges(signals[ranged[k]!]!.ranges, r)) queue[tail++] = ranged[k]!;
  }
  const out: Record<string, SignalValue> = {};
  for (let k = 0; k < nFound; k++) {
    const i = found[k]!;
    const p = signals[i]!;
    const r = raw[i]!;
    const name = useChoices && p.choices !== undefined ? p.choices.get(r) : undefined;
    out[p.name] = name ?? r * p.factor + p.offset;
  }
  return out;
}

/** Decodes a frame with the message of its id, or undefined when the DBC has no such message (or it is a remote or error frame). */
export function decodeFrame(db: DbcDatabase, frame: CanFrame, opts?: DecodeOptions): DecodedMessage | undefined {
  if (frame.remote || frame.error) return undefined;
  const message = db.messageById(frame.id, frame.extended);
  if (!message) return undefined;
  return { message, name: message.name, signals: decodeSignals(message, frame.data, opts) };
}

/** Round half to even, as the raw value of a scaled physical value is rounded by common DBC tools. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function where(message: DbcMessage, p: SignalPlan): string {
  return `signal ${p.name} of message ${message.name} (id 0x${message.id.toString(16)})`;
}

/** Writes `value` (physical, or a value-table name) into `data`; returns the raw value. */
function writeSignal(message: DbcMessage, p: SignalPlan, value: unknown, data: Uint8Array): number {
  const s = p.signal;
  let rawNumber: number;
  if (typeof value === 'string') {
    const v = p.choiceValues?.get(value);
    if (v === undefined) {
      const names = p.choiceValues ? [...p.choiceValues.keys()].slice(0, 8).map((n) => `'${n}'`).join(', ') : '';
      throw new RangeError(`${where(message, p)}: '${value}' is not one of its value names${names ? ` (${names}${p.choiceValues!.size > 8 ? ', ...' : ''})` : ' (it has none; give a number)'}`);
    }
    // A named value is taken as the DBC author defined it, even outside [min, max] (e.g. "not available").
    rawNumber = v;
  } else if (typeof value === 'number') {
    const isFloat = p.valueType !== 0;
    const hasRange = !(s.min === 0 && s.max === 0);
    // NaN and infinities exist only in float fields, and only where no range is given.
    if (!Number.isFinite(value) && !(isFloat && !hasRange)) {
      throw new RangeError(`${where(message, p)}: ${value} is not a finite number`);
    }
    const tolerance = Math.abs(p.factor) * 1e-6;
    if (hasRange && (value < s.min - tolerance || value > s.max + tolerance)) {
      throw new RangeError(`${where(message, p)}: ${value} is outside its range [${s.min}, ${s.max}]${s.unit ? ` ${s.unit}` : ''}`);
    }
    rawNumber = (value - p.offset) / p.factor;
    if (!isFloat) rawNumber = roundHalfEven(rawNumber);
  } else {
    throw new TypeError(`${where(message, p)}: expected a number or a value name, got ${value === null ? 'null' : typeof value}`);
  }
  let lo: number;
  let hi = 0;
  if (p.valueType === VALUE_FLOAT32) {
    if (Number.isFinite(rawNumber) && !Number.isFinite(Math.fround(rawNumber))) {
      throw new RangeError(`${where(message, p)}: raw value ${rawNumber} does not fit a float32`);
    }
    scratch.setFloat32(0, rawNumber);
    lo = scratch.getUint32(0);
  } else if (p.valueType === VALUE_FLOAT64) {
    scratch.setFloat64(0, rawNumber);
    hi = scratch.getUint32(0);
    lo = scratch.getUint32(4);
  } else {
    const minRaw = p.signed ? -p.signBit : 0;
    // A double: above 53 bits it is 2^n (or 2^(n-1)), the nearest double to the true bound.
    const maxRaw = p.signed ? p.signBit - 1 : p.span - 1;
    let fits = Number.isInteger(rawNumber) && rawNumber >= minRaw && rawNumber <= maxRaw;
    if (!fits && typeof value === 'number' && Number.isInteger(rawNumber)) {
      // The value of a raw bound, once scaled, can round so that it scales back one step
      // outside the field: it is taken as the bound when it is the bound's value to within
      // double precision (and less than half a step away), so that every decoded value encodes again.
      const edge = rawNumber > maxRaw ? maxRaw : minRaw;
      const diff = Math.abs(value - (edge * p.factor + p.offset));
      if (diff < Math.abs(p.factor) / 2 && diff <= 4 * Number.EPSILON * (Math.abs(value) + Math.abs(p.offset))) {
        rawNumber = edge;
        fits = true;
      }
    }
    let big = 0n;
    if (fits && p.length > 53) {
      const hiBig = p.signed ? 1n << BigInt(p.length - 1) : 1n << BigInt(p.length);
      big = BigInt(rawNumber);
      if (big >= hiBig) big = hiBig - 1n;
    }
    if (!fits) {
      throw new RangeError(`${where(message, p)}: raw value ${rawNumber} is not representable in ${p.length} ${p.signed ? 'signed' : 'unsigned'} bits (${minRaw}..${maxRaw})`);
    }
    if (p.length <= 53) {
      const u = rawNumber < 0 ? rawNumber + p.span : rawNumber;
      hi = Math.floor(u / TWO_32);
      lo = u - hi * TWO_32;
    } else {
      let u = big;
      if (u < 0n) u += 1n << BigInt(p.length);
      lo = Number(u & 0xffffffffn);
      hi = Number(u >> 32n);
    }
  }
  const l = p.layout;
  if (l.bytesNeeded > data.length) {
    throw new RangeError(`${where(message, p)} reaches byte ${l.bytesNeeded} of a ${data.length}-byte message: the DBC places it outside the frame`);
  }
  for (let i = 0; i < l.count; i++) {
    const part = l.high[i] === 0 ? lo : hi;
    const bits = Math.floor(part / l.weight[i]!) & l.mask[i]!;
    const b = l.byte[i]!;
    data[b] = (data[b]! & ~(l.mask[i]! << l.shift[i]!)) | (bits << l.shift[i]!);
  }
  return rawNumber;
}

function findMessage(db: DbcDatabase, nameOrId: string | number, opts?: EncodeOptions): DbcMessage {
  const message = typeof nameOrId === 'string' ? db.messageByName(nameOrId) : db.messageById(nameOrId, opts?.extended);
  if (!message) {
    const what = typeof nameOrId === 'string' ? `named ${nameOrId}` : `with id 0x${Number(nameOrId).toString(16)}`;
    throw new RangeError(`the DBC${db.file ? ` ${db.file}` : ''} has no message ${what}`);
  }
  return message;
}

/** Encodes the signals of `message` into a new payload of message.length bytes (strict, see encodeMessage). */
export function encodeSignals(message: DbcMessage, values: Record<string, SignalValue>): Uint8Array {
  const plan = messagePlan(message);
  const data = new Uint8Array(message.length);
  const { raw, queue, stamp, signals } = plan;
  const generation = ++plan.generation;
  let given = 0;
  for (const name of Object.keys(values)) {
    if (!plan.byName.has(name)) throw new RangeError(`message ${message.name} (id 0x${message.id.toString(16)}) has no signal ${name}`);
    if (values[name] !== undefined) given++;
  }
  // The same walk as decoding: the signals without a switch, then what each switch value selects.
  let tail = 0;
  for (let k = 0; k < plan.roots.length; k++) queue[tail++] = plan.roots[k]!;
  let used = 0;
  for (let head = 0; head < tail; head++) {
    const i = queue[head]!;
    const p = signals[i]!;
    const value = values[p.name];
    if (value === undefined) throw new RangeError(`${where(message, p)} is missing: give a value for every signal present`);
    const r = writeSignal(message, p, value, data);
    raw[i] = r;
    stamp[i] = generation;
    used++;
    const selected = plan.childrenByValue[i]?.get(r);
    if (selected) for (let k = 0; k < selected.length; k++) queue[tail++] = selected[k]!;
    const ranged = plan.rangeChildren[i];
    if (ranged) for (let k = 0; k < ranged.length; k++) if (inRanges(signals[ranged[k]!]!.ranges, r)) queue[tail++] = ranged[k]!;
  }
  if (used < given) {
    for (const name of Object.keys(values)) {
      const i = plan.byName.get(name)!;
      if (stamp[i] === generation || values[name] === undefined) continue;
      const p = signals[i]!;
      const sw = signals[p.parent]!;
      throw new RangeError(`${where(message, p)} is not present when ${sw.name} is ${stamp[p.parent] === generation ? raw[p.parent] : 'itself not present'}; leave it out`);
    }
  }
  return data;
}

/**
 * Encodes a frame of the message named (or with the id) `nameOrId`. Strict: every signal
 * present (given the switch values) must be given; unknown or unselected signals, values
 * outside [min, max] (unless both are 0) and raw values the field cannot hold throw
 * RangeError naming the message and the signal. Value-table names are accepted as values.
 */
export function encodeMessage(db: DbcDatabase, nameOrId: string | number, values: Record<string, SignalValue>, opts?: EncodeOptions): CanFrame {
  const message = findMessage(db, nameOrId, opts);
  const data = encodeSignals(message, values);
  return canFrame({ id: message.id, extended: message.extended, data, fd: message.fd === true });
}
