// A low-level writer of RFC 8949 core deterministic CBOR (section 4.2.1) for hot paths that
// know their structure: the caller writes heads and values in canonical order itself (map keys
// sorted, definite lengths) and the writer gives every head and integer its shortest form,
// -0 as the float16 0xf98000 (as encodeCanonical does). For a whole value of unknown shape use
// encodeCanonical (canonical-encode.ts); callers of this writer check their bytes against it
// in tests (test/ledger/cbor/cbor-writer.test.ts, test/firmware-ts/telemetry-body.test.ts).
const TWO_32 = 0x1_0000_0000;

// The writer's encodings as functions of a buffer and a position, for hot paths that write a
// known structure into CborWriter.reserve's buffer themselves: each writes at `p` (the caller
// made room: 9 bytes for a head or an integer) and returns the position after what it wrote.

/** Head of major type `major` (0..7) with argument n, a safe non-negative integer, in its shortest form. */
export function putHead(b: Uint8Array, p: number, major: number, n: number): number {
  const mt = major << 5;
  if (n < 24) b[p++] = mt | n;
  else if (n < 0x100) {
    b[p] = mt | 24;
    b[p + 1] = n;
    p += 2;
  } else if (n < 0x10000) {
    b[p] = mt | 25;
    b[p + 1] = n >>> 8;
    b[p + 2] = n & 0xff;
    p += 3;
  } else if (n < TWO_32) {
    b[p] = mt | 26;
    b[p + 1] = n >>> 24;
    b[p + 2] = (n >>> 16) & 0xff;
    b[p + 3] = (n >>> 8) & 0xff;
    b[p + 4] = n & 0xff;
    p += 5;
  } else {
    if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`CBOR argument ${n} is not a safe non-negative integer`);
    const hi = Math.floor(n / TWO_32);
    const lo = n >>> 0;
    b[p] = mt | 27;
    b[p + 1] = hi >>> 24;
    b[p + 2] = (hi >>> 16) & 0xff;
    b[p + 3] = (hi >>> 8) & 0xff;
    b[p + 4] = hi & 0xff;
    b[p + 5] = lo >>> 24;
    b[p + 6] = (lo >>> 16) & 0xff;
    b[p + 7] = (lo >>> 8) & 0xff;
    b[p + 8] = lo & 0xff;
    p += 9;
  }
  return p;
}

/** A safe integer (major type 0 or 1); -0 is the float16 -0.0, as the canonical encoder writes it. */
export function putInt(b: Uint8Array, p: number, v: number): number {
  if (v > 0) return putHead(b, p, 0, v);
  if (v < 0) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not a safe integer`);
    return putHead(b, p, 1, -1 - v);
  }
  if (v !== 0) throw new RangeError(`${v} is not a safe integer`);
  if (1 / v < 0) {
    b[p] = 0xf9;
    b[p + 1] = 0x80;
    b[p + 2] = 0x00;
    return p + 3;
  }
  b[p] = 0;
  return p + 1;
}

/** Rounds half away from zero (2.5 to 3, -2.5 to -3; -0.4 to -0): the fixed-point rule of telemetry bodies. */
export const roundHalfAwayFromZero = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

/** Big-endian views of buffers, for writing a head and its argument in one store: the last one's is kept. */
let viewed: Uint8Array | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));

/** A DataView of exactly the bytes of `b` (kept while b is the buffer asked for last). */
export function viewOf(b: Uint8Array): DataView {
  if (b !== viewed) {
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    viewed = b;
  }
  return view;
}

/**
 * An array of the first `count` values, each multiplied by `scale` and rounded half away from
 * zero (roundHalfAwayFromZero), each then written as putInt writes it. Room: 9 bytes for the
 * head and 9 a value.
 */
export function putScaledInts(b: Uint8Array, p: number, values: ArrayLike<number>, scale: number, count = values.length): number {
  p = putHead(b, p, 4, count);
  const dv = viewOf(b);
  let i = 0;
  // The common values in a loop without calls (so the buffer's bounds stay hoisted): values
  // that are 1..65535 already (cell voltages in mV: no rounding), or positive values that
  // round to it (Math.round takes halves up: away from zero, for positive values). A value
  // of two or three bytes is written by one big-endian store of its head and argument (the
  // fourth byte of a three-byte value is written over by what follows: the room is there).
  // At the first other value (zero, which may be -0; negatives; the rest) the second loop
  // goes on.
  for (; i < count; i++) {
    const x = values[i]! * scale;
    let u = x | 0;
    if (u !== x) u = x > 0 && x < 0xffff ? Math.round(x) | 0 : 0;
    if (u >= 0x100 && u < 0x10000) {
      dv.setUint32(p, 0x1900_0000 | (u << 8));
      p += 3;
    } else if (u >= 24 && u < 0x100) {
      dv.setUint16(p, 0x1800 | u);
      p += 2;
    } else if (u > 0 && u < 24) b[p++] = u;
    else break;
  }
  for (; i < count; i++) p = putInt(b, p, roundHalfAwayFromZero(values[i]! * scale));
  return p;
}

/**
 * A byte string of one bit per flag, least significant bit first: bit (i & 7) of byte i >> 3
 * is set when flags[i] is truthy; the unused high bits of the last byte are zero. Room: 9
 * bytes for the head and a byte per eight flags.
 */
export function putBits(b: Uint8Array, p: number, flags: ArrayLike<unknown>): number {
  const n = flags.length;
  p = putHead(b, p, 2, (n + 7) >>> 3);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    b[p++] =
      (flags[i] ? 1 : 0) |
      (flags[i + 1] ? 2 : 0) |
      (flags[i + 2] ? 4 : 0) |
      (flags[i + 3] ? 8 : 0) |
      (flags[i + 4] ? 16 : 0) |
      (flags[i + 5] ? 32 : 0) |
      (flags[i + 6] ? 64 : 0) |
      (flags[i + 7] ? 128 : 0);
  }
  if (i < n) {
    let last = 0;
    for (let j = 0; i + j < n; j++) if (flags[i + j]) last |= 1 << j;
    b[p++] = last;
  }
  return p;
}

export class CborWriter {
  #buf: Uint8Array;
  #pos = 0;

  /** `initial`: a first size in bytes, or a buffer to write into (it grows into a new one when full). */
  constructor(initial: number | Uint8Array = 1024) {
    this.#buf = typeof initial === 'number' ? new Uint8Array(initial) : initial;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.#buf.length, this.#pos + n));
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** The buffer written into now (the one given, or a bigger one once that was full). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Starts over (keeps the buffer). */
  reset(): this {
    this.#pos = 0;
    return this;
  }

  /** Head of major type `major` (0..7) with argument n, a safe non-negative integer. */
  head(major: number, n: number): this {
    this.#room(9);
    this.#pos = putHead(this.#buf, this.#pos, major, n);
    return this;
  }

  /** A safe integer (major type 0 or 1); -0 is the float16 -0.0, as the canonical encoder writes it. */
  int(v: number): this {
    this.#room(9);
    this.#pos = putInt(this.#buf, this.#pos, v);
    return this;
  }

  /**
   * Room for `n` more bytes: returns the buffer to write them into from `length` on, for hot
   * paths that write with putHead and putInt themselves; `advanceTo` then says where they
   * stopped. The buffer is valid until the next call that writes.
   */
  reserve(n: number): Uint8Array {
    this.#room(n);
    return this.#buf;
  }

  /** After `reserve`: the bytes up to `end` are written. */
  advanceTo(end: number): this {
    if (!(end >= this.#pos && end <= this.#buf.length)) throw new RangeError(`advanceTo ${end}: outside ${this.#pos}..${this.#buf.length}`);
    this.#pos = end;
    return this;
  }

  /** One byte as it is (a tag or head the caller knows to be canonical). */
  byte(b: number): this {
    this.#room(1);
    this.#buf[this.#pos++] = b;
    return this;
  }

  bool(v: boolean): this {
    this.#room(1);
    this.#buf[this.#pos++] = v ? 0xf5 : 0xf4;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.head(2, v.length);
    return this.raw(v);
  }

  /** Text of ASCII characters only (a RangeError otherwise: use encodeCanonical for other text). */
  ascii(s: string): this {
    this.head(3, s.length);
    this.#room(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) throw new RangeError(`text ${JSON.stringify(s)} is not ASCII`);
      this.#buf[this.#pos++] = c;
    }
    return this;
  }

  /** Bytes that already are one or more complete CBOR data items. */
  raw(v: Uint8Array): this {
    this.#room(v.length);
    this.#buf.set(v, this.#pos);
    this.#pos += v.length;
    return this;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** Overwrites one byte already written (a head whose argument is known only at the end). */
  patch(at: number, byte: number): this {
    if (!(at >= 0 && at < this.#pos)) throw new RangeError(`patch at ${at}: only ${this.#pos} bytes are written`);
    this.#buf[at] = byte;
    return this;
  }

  /** Drops what was written after `pos` (an entry that turned out invalid). */
  rewind(pos: number): this {
    if (!(pos >= 0 && pos <= this.#pos)) throw new RangeError(`rewind to ${pos}: only ${this.#pos} bytes are written`);
    this.#pos = pos;
    return this;
  }

  /** `n` zero bytes: room kept for bytes written later in place (a frame header, a signature). */
  zeros(n: number): this {
    this.#room(n);
    this.#buf.fill(0, this.#pos, this.#pos + n);
    this.#pos += n;
    return this;
  }

  /** Bytes start..end written so far, as a view of the writer's buffer: valid until the next write or reset. */
  span(start: number, end: number): Uint8Array {
    if (!(start >= 0 && start <= end && end <= this.#pos)) throw new RangeError(`span ${start}..${end}: only ${this.#pos} bytes are written`);
    return this.#buf.subarray(start, end);
  }

  /** What was written, as a view of the writer's buffer: valid until the next write or reset. */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  /**
   * A copy of what was written that nothing overwrites. Copies go into shared chunks (a fresh
   * ArrayBuffer per result costs more than the copy at hundreds of thousands a second), so
   * never transfer a result's `.buffer` to a worker: `.slice()` it first.
   */
  take(): Uint8Array {
    const n = this.#pos;
    if (n > CHUNK_BYTES >>> 2) return this.#buf.slice(0, n);
    if (chunkUsed + n > chunk.length) {
      chunk = new Uint8Array(CHUNK_BYTES);
      chunkUsed = 0;
    }
    const out = chunk.subarray(chunkUsed, chunkUsed + n);
    out.set(this.#buf.subarray(0, n));
    chunkUsed += n;
    return out;
  }
}

const CHUNK_BYTES = 256 * 1024;
let chunk = new Uint8Array(CHUNK_BYTES);
let chunkUsed = 0;
