// A low-level writer of RFC 8949 core deterministic CBOR (section 4.2.1) for hot paths that
// know their structure: the caller writes heads and values in canonical order itself (map keys
// sorted, definite lengths) and the writer gives every head and integer its shortest form,
// -0 as the float16 0xf98000 (as encodeCanonical does). For a whole value of unknown shape use
// encodeCanonical (canonical-encode.ts); callers of this writer check their bytes against it
// in tests (test/ledger/cbor/cbor-writer.test.ts, test/firmware-ts/telemetry-body.test.ts).
const TWO_32 = 0x1_0000_0000;

export class CborWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(initialBytes = 1024) {
    this.#buf = new Uint8Array(initialBytes);
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.#buf.length, this.#pos + n));
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** Starts over (keeps the buffer). */
  reset(): this {
    this.#pos = 0;
    return this;
  }

  /** Head of major type `major` (0..7) with argument n, a safe non-negative integer. */
  head(major: number, n: number): this {
    this.#room(9);
    const b = this.#buf;
    const mt = major << 5;
    let p = this.#pos;
    if (n < 24) b[p++] = mt | n;
    else if (n < 0x100) {
      b[p++] = mt | 24;
      b[p++] = n;
    } else if (n < 0x10000) {
      b[p++] = mt | 25;
      b[p++] = n >>> 8;
      b[p++] = n & 0xff;
    } else if (n < TWO_32) {
      b[p++] = mt | 26;
      b[p++] = n >>> 24;
      b[p++] = (n >>> 16) & 0xff;
      b[p++] = (n >>> 8) & 0xff;
      b[p++] = n & 0xff;
    } else {
      if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`CBOR argument ${n} is not a safe non-negative integer`);
      const hi = Math.floor(n / TWO_32);
      const lo = n >>> 0;
      b[p++] = mt | 27;
      b[p++] = hi >>> 24;
      b[p++] = (hi >>> 16) & 0xff;
      b[p++] = (hi >>> 8) & 0xff;
      b[p++] = hi & 0xff;
      b[p++] = lo >>> 24;
      b[p++] = (lo >>> 16) & 0xff;
      b[p++] = (lo >>> 8) & 0xff;
      b[p++] = lo & 0xff;
    }
    this.#pos = p;
    return this;
  }

  /** A safe integer (major type 0 or 1); -0 is the float16 -0.0, as the canonical encoder writes it. */
  int(v: number): this {
    if (v >= 0) {
      if (v === 0 && 1 / v < 0) return this.raw3(0xf9, 0x80, 0x00);
      return this.head(0, v);
    }
    if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not a safe integer`);
    return this.head(1, -1 - v);
  }

  /** An array of the first `count` safe integers of `values`, each as int() writes it. */
  ints(values: ArrayLike<number>, count = values.length): this {
    this.head(4, count);
    this.#room(3 * count);
    // Buffer and position in locals: this loop writes most of a telemetry body.
    const b = this.#buf;
    let p = this.#pos;
    for (let i = 0; i < count; i++) {
      const v = values[i]!;
      // Unsigned below 2^16 (cell voltages, temperatures) in place; the rest through int().
      if (v >>> 0 === v && v < 0x10000 && (v !== 0 || 1 / v > 0)) {
        if (v < 24) b[p++] = v;
        else if (v < 0x100) {
          b[p++] = 24;
          b[p++] = v;
        } else {
          b[p++] = 25;
          b[p++] = v >>> 8;
          b[p++] = v & 0xff;
        }
      } else {
        this.#pos = p;
        this.int(v);
        this.#room(3 * (count - i));
        return this.ints2(values, i + 1, count);
      }
    }
    this.#pos = p;
    return this;
  }

  /** The rest of ints() from `from`, after a value that went through int() (the buffer may have moved). */
  private ints2(values: ArrayLike<number>, from: number, count: number): this {
    for (let i = from; i < count; i++) {
      this.int(values[i]!);
    }
    return this;
  }

  raw3(a: number, b: number, c: number): this {
    this.#room(3);
    this.#buf[this.#pos++] = a;
    this.#buf[this.#pos++] = b;
    this.#buf[this.#pos++] = c;
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
