// The verifier's fast path over a stored record: checks that the bytes are RFC 8949 section
// 4.2.1 core deterministic CBOR within the record limits, and reads the envelope fields
// (record.cddl), by walking the bytes: no Map, no value is built for the body. It covers what
// records are made of (unsigned and negative integers, byte strings, ASCII text, arrays, maps,
// true/false/null) and answers `undefined` for anything else (floats, tags, non-ASCII text,
// integers beyond 2^53, any irregularity): the caller then runs the full decoder
// (decodeRecord), which gives the verdict and the exact reason. So this path only ever
// accepts what decodeRecord accepts, with the same fields (test/ledger/record-scan.test.ts
// checks it against decodeRecord on mutated records); it never rejects on its own.

/** The envelope of a record, as decodeRecord reads it (the body stays in the bytes). */
export interface RecordFields {
  seq: number;
  time: number;
  type: string;
  simulated: boolean;
  mono: number;
}

// decodeRecord's limits (record.ts LIMITS and the decoder's defaults).
const MAX_SIZE = 1 << 20;
const MAX_DEPTH = 16;
const MAX_ITEMS = 100_000;
const MAX_ARRAY = 65_536;
const MAX_MAP = 4096;
const TWO_32 = 0x1_0000_0000;

/** Where the walk is; `pos` < 0 once it gave up. */
class Walk {
  pos = 0;
  items = 0;
  /** The value of the last unsigned integer read by `uint`, when it fits in 2^53. */
  value = 0;
  constructor(
    readonly b: Uint8Array,
    readonly end: number,
  ) {}
}

/**
 * Reads the argument of the head at w.pos (after the initial byte), in its shortest form only;
 * returns it, or -1 when it is not canonical, is reserved or indefinite, runs past the end, or
 * exceeds 2^53 - 1.
 */
function argument(w: Walk, ai: number): number {
  const b = w.b;
  if (ai < 24) return ai;
  let p = w.pos;
  if (ai === 24) {
    if (p + 1 > w.end) return -1;
    const n = b[p]!;
    w.pos = p + 1;
    return n < 24 ? -1 : n;
  }
  if (ai === 25) {
    if (p + 2 > w.end) return -1;
    const n = (b[p]! << 8) | b[p + 1]!;
    w.pos = p + 2;
    return n < 0x100 ? -1 : n;
  }
  if (ai === 26) {
    if (p + 4 > w.end) return -1;
    const n = (b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!));
    w.pos = p + 4;
    return n < 0x10000 ? -1 : n;
  }
  if (ai === 27) {
    if (p + 8 > w.end) return -1;
    const hi = b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    p += 4;
    const lo = b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    w.pos = p + 4;
    // Shortest form: at least 2^32. Beyond 2^53 - 1 the decoder makes a bigint: let it.
    if (hi === 0 || hi >= 0x20_0000) return -1;
    return hi * TWO_32 + lo;
  }
  return -1;
}

/** Walks one data item at w.pos; returns false to give up. */
function item(w: Walk, depth: number): boolean {
  if (w.pos >= w.end || ++w.items > MAX_ITEMS) return false;
  const b = w.b;
  const ib = b[w.pos++]!;
  const major = ib >>> 5;
  const ai = ib & 0x1f;
  switch (major) {
    case 0:
    case 1: {
      const n = argument(w, ai);
      if (n < 0) return false;
      w.value = n;
      return true;
    }
    case 2: {
      const n = argument(w, ai);
      if (n < 0 || n > w.end - w.pos) return false;
      w.pos += n;
      return true;
    }
    case 3: {
      const n = argument(w, ai);
      if (n < 0 || n > w.end - w.pos) return false;
      // ASCII only (always valid UTF-8); other text goes to the full decoder's UTF-8 check.
      const stop = w.pos + n;
      for (let i = w.pos; i < stop; i++) if (b[i]! >= 0x80) return false;
      w.pos = stop;
      return true;
    }
    case 4: {
      if (depth >= MAX_DEPTH) return false;
      const n = argument(w, ai);
      if (n < 0 || n > MAX_ARRAY || n > w.end - w.pos) return false;
      for (let i = 0; i < n; i++) {
        // Integers below 2^16, most of a telemetry body, without the call: the same checks
        // as `argument` (shortest form, inside the input).
        const p = w.pos;
        const c = p < w.end ? b[p]! & 0xdf : 0xff; // major 0 and 1 alike
        if (c < 0x18) {
          if (++w.items > MAX_ITEMS) return false;
          w.pos = p + 1;
          continue;
        }
        if (c === 0x19) {
          if (++w.items > MAX_ITEMS || p + 3 > w.end || b[p + 1] === 0) return false;
          w.pos = p + 3;
          continue;
        }
        if (c === 0x18) {
          if (++w.items > MAX_ITEMS || p + 2 > w.end || b[p + 1]! < 24) return false;
          w.pos = p + 2;
          continue;
        }
        if (!item(w, depth + 1)) return false;
      }
      return true;
    }
    case 5: {
      if (depth >= MAX_DEPTH) return false;
      const n = argument(w, ai);
      if (n < 0 || n > MAX_MAP || 2 * n > w.end - w.pos) return false;
      let prevStart = -1;
      let prevEnd = -1;
      for (let i = 0; i < n; i++) {
        const keyStart = w.pos;
        if (!item(w, depth + 1)) return false;
        const keyEnd = w.pos;
        // Keys strictly increasing in bytewise order of their encodings (no duplicates); two
        // one-byte keys (small integers, the usual case) compare without the call.
        if (prevStart >= 0) {
          if (prevEnd - prevStart === 1 && keyEnd - keyStart === 1) {
            if (b[prevStart]! >= b[keyStart]!) return false;
          } else if (compare(b, prevStart, prevEnd, keyStart, keyEnd) >= 0) return false;
        }
        prevStart = keyStart;
        prevEnd = keyEnd;
        if (!item(w, depth + 1)) return false;
      }
      return true;
    }
    case 7:
      // false, true, null; floats and other simple values go to the full decoder.
      return ai === 20 || ai === 21 || ai === 22;
    default:
      // Tags (6), including bignums.
      return false;
  }
}

function compare(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const d = b[s1 + i]! - b[s2 + i]!;
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

/** The last type read, and its bytes: a log holds few types, so most records reuse it. */
let lastType = '';
let lastTypeBytes = new Uint8Array(0);

function ascii(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === lastTypeBytes.length) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (b[start + i] !== lastTypeBytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastType;
  }
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  lastType = s;
  lastTypeBytes = b.slice(start, end);
  return s;
}

/**
 * The envelope of the record in `bytes` when the fast walk can vouch for all of it; undefined
 * when the full decoder must decide (which it also does for every invalid record).
 */
export function scanRecord(bytes: Uint8Array): RecordFields | undefined {
  if (bytes.length > MAX_SIZE || bytes.length === 0) return undefined;
  const w = new Walk(bytes, bytes.length);
  const ib = bytes[0]!;
  // A map of 6 or 7 entries (fields 1..7, 5 optional), keys 0x01..0x07 in order.
  if (ib !== 0xa6 && ib !== 0xa7) return undefined;
  w.pos = 1;
  w.items = 1;
  const n = ib & 0x1f;
  let seq = -1;
  let time = -1;
  let type: string | undefined;
  let simulated = false;
  let mono = -1;
  let boot = false;
  let body = false;
  let prevKey = 0;
  for (let i = 0; i < n; i++) {
    if (w.pos >= w.end) return undefined;
    const key = bytes[w.pos]!;
    if (key <= prevKey || key > 7) return undefined;
    prevKey = key;
    w.pos++;
    w.items++;
    const at = w.pos;
    if (at >= w.end) return undefined;
    const major = bytes[at]! >>> 5;
    switch (key) {
      case 1:
      case 2:
      case 6:
        if (major !== 0 || !item(w, 1)) return undefined;
        if (key === 1) seq = w.value;
        else if (key === 2) time = w.value;
        else mono = w.value;
        break;
      case 3: {
        if (major !== 3 || !item(w, 1)) return undefined;
        // The text's bytes: after its head, up to where the walk stopped.
        const len = argumentLength(bytes, at);
        type = ascii(bytes, w.pos - len, w.pos);
        break;
      }
      case 4:
        if (!item(w, 1)) return undefined;
        body = true;
        break;
      case 5:
        if (bytes[at] !== 0xf5) return undefined;
        w.pos++;
        w.items++;
        simulated = true;
        break;
      case 7:
        if (major !== 2 || !item(w, 1)) return undefined;
        boot = true;
        break;
    }
  }
  if (w.pos !== w.end || seq < 0 || time < 0 || mono < 0 || type === undefined || !body || !boot) return undefined;
  return { seq, time, type, simulated, mono };
}

/** The length argument of the (already validated) string head at `at`. */
function argumentLength(b: Uint8Array, at: number): number {
  const ai = b[at]! & 0x1f;
  if (ai < 24) return ai;
  if (ai === 24) return b[at + 1]!;
  if (ai === 25) return (b[at + 1]! << 8) | b[at + 2]!;
  return b[at + 1]! * 0x100_0000 + ((b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!);
}
