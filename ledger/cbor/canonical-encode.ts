// Core deterministic CBOR encoder: RFC 8949 section 4.2.1 (https://www.rfc-editor.org/rfc/rfc8949#section-4.2.1).
// Every byte string voltrail signs comes from here: integers and lengths in their shortest form,
// definite lengths only, map keys sorted bytewise by their encoding, floats in the shortest of
// float16/32/64 that keeps the value (integral numbers are integers; NaN is 0xf97e00), bignums
// (tags 2/3) only beyond 64 bits. This is the hot path of the ledger: it writes into one
// reusable growable buffer, caches the encodings of text keys, and sorts integer keys without
// encoding them first.
import { Tagged } from './value.ts';
import type { CborValue } from './value.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TWO_32 = 0x1_0000_0000;
const TWO_64 = 2 ** 64;
const MAX_DEPTH = 64;
const KEY_CACHE_LIMIT = 4096;

/** Raised when a value has no deterministic CBOR encoding; `path` names where it sits. */
export class CborEncodeError extends TypeError {
  readonly reason: string;
  readonly path: string;
  constructor(reason: string, path: string) {
    super(`canonical CBOR: ${reason} at ${path || '(top)'}`);
    this.name = 'CborEncodeError';
    this.reason = reason;
    this.path = path;
  }
}

/** Adds a path segment as an error unwinds out of a container. */
function within(err: unknown, segment: string): never {
  if (err instanceof CborEncodeError) throw new CborEncodeError(err.reason, segment + err.path);
  if (err instanceof RangeError && /call stack/.test(err.message)) throw new CborEncodeError('nesting too deep', segment);
  throw err;
}

const textEncoder = new TextEncoder();
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float16 bits for a float32-exact value, or -1 when float16 cannot hold it exactly. */
export function float16Bits(v: number): number {
  f32[0] = v;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : 0x7e00;
  if (exp === 0) return mant === 0 ? sign : -1; // float32 subnormals are far below float16's range
  const e = exp - 127;
  if (e >= -14 && e <= 15) return (mant & 0x1fff) === 0 ? sign | ((e + 15) << 10) | (mant >>> 13) : -1;
  if (e >= -24 && e < -14) {
    const sig = mant | 0x800000;
    const shift = -e - 1; // float16 subnormal: m * 2^-24
    return (sig & ((1 << shift) - 1)) === 0 ? sign | (sig >>> shift) : -1;
  }
  return -1;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Bytewise order of the encodings of two safe integers, without encoding them. */
function compareIntKeys(a: number, b: number): number {
  if (a >= 0) return b >= 0 ? a - b : -1;
  return b < 0 ? b - a : 1;
}

function isIntKey(k: unknown): k is number {
  return typeof k === 'number' && Number.isSafeInteger(k) && !Object.is(k, -0);
}

export class CanonicalEncoder {
  private buf: Uint8Array;
  private view: DataView;
  /** Where the current item starts: `encode` hands out [start, pos) and moves on past it. */
  private start = 0;
  private pos = 0;
  private depth = 0;
  private readonly chunkSize: number;
  private readonly keyCache = new Map<string, Uint8Array>();

  constructor(chunkSize = 64 * 1024) {
    this.chunkSize = chunkSize;
    this.buf = new Uint8Array(chunkSize);
    this.view = new DataView(this.buf.buffer);
  }

  /**
   * Encodes `value`. The result is a view of a chunk that later calls never overwrite (they
   * write after it, then into a fresh chunk), so it needs no copy and stays valid. Its
   * `.buffer` is shared with other results: never transfer it to a worker; `.slice()` first.
   */
  encode(value: CborValue): Uint8Array {
    if (this.buf.length - this.start < this.chunkSize >>> 3) this.fresh();
    const out = this.encodeAt(value);
    this.start = this.pos;
    return out;
  }

  /**
   * Encodes `value` into scratch space: the view is valid only until the next call on this
   * encoder. For callers that hash or copy the bytes at once.
   */
  encodeView(value: CborValue): Uint8Array {
    return this.encodeAt(value);
  }

  private encodeAt(value: CborValue): Uint8Array {
    this.pos = this.start;
    this.depth = 0;
    this.write(value);
    return this.buf.subarray(this.start, this.pos);
  }

  private fresh(): void {
    this.buf = new Uint8Array(this.chunkSize);
    this.view = new DataView(this.buf.buffer);
    this.start = 0;
    this.pos = 0;
  }

  /** Makes room for `n` more bytes: a new, larger buffer that holds the current item at 0. */
  private grow(n: number): void {
    const used = this.pos - this.start;
    const next = new Uint8Array(Math.max(this.chunkSize, 2 * (used + n)));
    next.set(this.buf.subarray(this.start, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.start = 0;
    this.pos = used;
  }

  /** Major type `major` with a non-negative safe-integer argument, shortest form. */
  private head(major: number, n: number): void {
    if (this.pos + 9 > this.buf.length) this.grow(9);
    const buf = this.buf;
    const mt = major << 5;
    if (n < 24) buf[this.pos++] = mt | n;
    else if (n < 0x100) {
      buf[this.pos++] = mt | 24;
      buf[this.pos++] = n;
    } else if (n < 0x10000) {
      buf[this.pos++] = mt | 25;
      buf[this.pos++] = n >>> 8;
      buf[this.pos++] = n & 0xff;
    } else if (n < TWO_32) {
      buf[this.pos] = mt | 26;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    } else {
      buf[this.pos] = mt | 27;
      this.view.setUint32(this.pos + 1, Math.floor(n / TWO_32));
      this.view.setUint32(this.pos + 5, n >>> 0);
      this.pos += 9;
    }
  }

  private headBig(major: number, n: bigint): void {
    if (n <= BigInt(MAX_SAFE)) return this.head(major, Number(n));
    if (this.pos + 9 > this.buf.length) this.grow(9);
    this.buf[this.pos] = (major << 5) | 27;
    this.view.setBigUint64(this.pos + 1, n);
    this.pos += 9;
  }

  private write(v: CborValue): void {
    switch (typeof v) {
      case 'number':
        return this.writeNumber(v);
      case 'string':
        return this.writeText(v);
      case 'boolean':
        if (this.pos + 1 > this.buf.length) this.grow(1);
        this.buf[this.pos++] = v ? 0xf5 : 0xf4;
        return;
      case 'bigint':
        return this.writeBigint(v);
      case 'object':
        if (v === null) {
          if (this.pos + 1 > this.buf.length) this.grow(1);
          this.buf[this.pos++] = 0xf6;
          return;
        }
        if (v instanceof Uint8Array) return this.writeBytes(v);
        if (Array.isArray(v)) return this.writeArray(v as readonly CborValue[]);
        if (v instanceof Map) return this.writeMap(v as ReadonlyMap<CborValue, CborValue>);
        if (v instanceof Tagged) return this.writeTagged(v);
        if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) throw new CborEncodeError(`${v.constructor.name} is not a CBOR value (use Uint8Array for bytes)`, '');
        {
          const proto = Object.getPrototypeOf(v) as unknown;
          if (proto !== Object.prototype && proto !== null) {
            throw new CborEncodeError(`${(v as object).constructor?.name ?? 'object'} is not a CBOR value`, '');
          }
        }
        return this.writeObject(v as Readonly<Record<string, CborValue>>);
      default:
        throw new CborEncodeError(`${typeof v} is not a CBOR value`, '');
    }
  }

  private writeNumber(v: number): void {
    // The common case first: an unsigned 32-bit integer (but not -0, which is a float).
    if (v >>> 0 === v && (v !== 0 || 1 / v > 0)) return this.head(0, v);
    if (Number.isInteger(v) && !Object.is(v, -0)) {
      if (v >= 0) {
        if (v <= MAX_SAFE) return this.head(0, v);
        if (v < TWO_64) return this.headBig(0, BigInt(v));
      } else {
        if (v >= -MAX_SAFE) return this.head(1, -1 - v);
        if (v >= -TWO_64) return this.headBig(1, -1n - BigInt(v));
      }
    }
    this.writeFloat(v);
  }

  private writeFloat(v: number): void {
    if (this.pos + 9 > this.buf.length) this.grow(9);
    if (Math.fround(v) === v || v !== v) {
      const h = float16Bits(v);
      if (h >= 0) {
        this.buf[this.pos] = 0xf9;
        this.buf[this.pos + 1] = h >>> 8;
        this.buf[this.pos + 2] = h & 0xff;
        this.pos += 3;
        return;
      }
      this.buf[this.pos] = 0xfa;
      this.view.setFloat32(this.pos + 1, v);
      this.pos += 5;
      return;
    }
    this.buf[this.pos] = 0xfb;
    this.view.setFloat64(this.pos + 1, v);
    this.pos += 9;
  }

  private writeBigint(v: bigint): void {
    if (v >= 0n) {
      if (v < 1n << 64n) return this.headBig(0, v);
      return this.writeBignum(2, v);
    }
    const n = -1n - v;
    if (n < 1n << 64n) return this.headBig(1, n);
    return this.writeBignum(3, n);
  }

  /** Tag 2/3 with the magnitude as a byte string without leading zeros (section 3.4.3). */
  private writeBignum(tag: number, n: bigint): void {
    let hex = n.toString(16);
    if (hex.length & 1) hex = '0' + hex;
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    this.head(6, tag);
    this.writeBytes(bytes);
  }

  private writeBytes(b: Uint8Array): void {
    this.head(2, b.length);
    if (this.pos + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  private writeText(s: string): void {
    const len = s.length;
    if (len < 24) {
      // Short ASCII text, the common case for keys and identifiers: one pass, no encoder call.
      if (this.pos + 1 + len > this.buf.length) this.grow(1 + len);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === len) {
        buf[this.pos] = 0x60 | len;
        this.pos = start + len;
        return;
      }
    }
    if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) {
      throw new CborEncodeError('text has a lone UTF-16 surrogate (not valid Unicode)', '');
    }
    // Encode past the largest possible head, then move the bytes down behind the real one.
    const max = len * 3;
    if (this.pos + 9 + max > this.buf.length) this.grow(9 + max);
    const scratch = this.pos + 9;
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(scratch, scratch + max));
    this.head(3, written);
    this.buf.copyWithin(this.pos, scratch, scratch + written);
    this.pos += written;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new CborEncodeError(`nesting deeper than ${MAX_DEPTH} (a cycle?)`, '');
  }

  private writeArray(a: readonly CborValue[]): void {
    this.enter();
    this.head(4, a.length);
    let i = 0;
    try {
      for (; i < a.length; i++) {
        const v = a[i]!;
        // Unsigned integers below 2^16 (cell voltages, temperatures) written in place: the
        // bulk of a telemetry record, without the calls through write and head. -0 is a float.
        if (typeof v === 'number' && v >>> 0 === v && v < 0x10000 && (v !== 0 || 1 / v > 0)) {
          if (this.pos + 3 > this.buf.length) this.grow(3);
          const buf = this.buf;
          if (v < 24) buf[this.pos++] = v;
          else if (v < 0x100) {
            buf[this.pos++] = 24;
            buf[this.pos++] = v;
          } else {
            buf[this.pos++] = 25;
            buf[this.pos++] = v >>> 8;
            buf[this.pos++] = v & 0xff;
          }
          continue;
        }
        this.write(v);
      }
    } catch (err) {
      within(err, `[${i}]`);
    }
    this.depth--;
  }

  private writeTagged(t: Tagged): void {
    this.enter();
    if (typeof t.tag === 'bigint') this.headBig(6, t.tag);
    else this.head(6, t.tag);
    try {
      this.write(t.value);
    } catch (err) {
      within(err, `<tag ${t.tag}>`);
    }
    this.depth--;
  }

  private textKey(k: string): Uint8Array {
    let enc = this.keyCache.get(k);
    if (enc === undefined) {
      const sub = new CanonicalEncoder(256);
      enc = sub.encode(k);
      if (this.keyCache.size >= KEY_CACHE_LIMIT) this.keyCache.clear();
      this.keyCache.set(k, enc);
    }
    return enc;
  }

  private writeObject(o: Readonly<Record<string, CborValue>>): void {
    this.enter();
    const keys = Object.keys(o);
    const n = keys.length;
    const encoded: Uint8Array[] = new Array(n);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      encoded[i] = this.textKey(keys[i]!);
      if (sorted && i > 0 && compareBytes(encoded[i - 1]!, encoded[i]!) > 0) sorted = false;
    }
    let order: number[] | undefined;
    if (!sorted) {
      order = Array.from({ length: n }, (_, i) => i);
      order.sort((a, b) => compareBytes(encoded[a]!, encoded[b]!));
    }
    this.head(5, n);
    let key = '';
    try {
      for (let j = 0; j < n; j++) {
        const i = order === undefined ? j : order[j]!;
        key = keys[i]!;
        const enc = encoded[i]!;
        const value = o[key];
        if (value === undefined) throw new CborEncodeError('undefined is not a CBOR value', '');
        if (this.pos + enc.length > this.buf.length) this.grow(enc.length);
        this.buf.set(enc, this.pos);
        this.pos += enc.length;
        this.write(value);
      }
    } catch (err) {
      within(err, `.${key}`);
    }
    this.depth--;
  }

  private writeMap(m: ReadonlyMap<CborValue, CborValue>): void {
    this.enter();
    // Signed structures use integer keys inserted in order: check that in one pass over the
    // keys, then write straight from the map; copy and sort only when they are not in order.
    let allInt = true;
    let sorted = true;
    let prev = 0;
    let first = true;
    for (const k of m.keys()) {
      if (!isIntKey(k)) {
        allInt = false;
        break;
      }
      if (!first && sorted && compareIntKeys(prev, k) >= 0) sorted = false;
      prev = k;
      first = false;
    }
    if (!allInt) return this.writeMapGeneric(m, [...m.keys()]);
    this.head(5, m.size);
    let key: CborValue = null;
    try {
      if (sorted) {
        for (const [k, value] of m) {
          key = k;
          if (value === undefined) throw new CborEncodeError('undefined is not a CBOR value', '');
          this.writeNumber(k as number);
          this.write(value);
        }
      } else {
        const keys = ([...m.keys()] as number[]).sort(compareIntKeys);
        for (let i = 0; i < keys.length; i++) {
          key = keys[i]!;
          const value = m.get(key);
          if (value === undefined) throw new CborEncodeError('undefined is not a CBOR value', '');
          this.writeNumber(key);
          this.write(value);
        }
      }
    } catch (err) {
      within(err, `{${String(key)}}`);
    }
    this.depth--;
  }

  /** Any keys: encode each key, sort by those bytes, refuse keys that encode alike. */
  private writeMapGeneric(m: ReadonlyMap<CborValue, CborValue>, keys: CborValue[]): void {
    const entries: { key: CborValue; enc: Uint8Array }[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (typeof key === 'string') {
        entries[i] = { key, enc: this.textKey(key) };
        continue;
      }
      // Relative offset: writing the key may move the item into a larger buffer.
      const at = this.pos - this.start;
      try {
        this.write(key);
      } catch (err) {
        within(err, `{key ${i}}`);
      }
      entries[i] = { key, enc: this.buf.slice(this.start + at, this.pos) };
      this.pos = this.start + at;
    }
    entries.sort((a, b) => compareBytes(a.enc, b.enc));
    for (let i = 1; i < entries.length; i++) {
      if (compareBytes(entries[i - 1]!.enc, entries[i]!.enc) === 0) throw new CborEncodeError(`two map keys encode alike (${String(entries[i]!.key)})`, '');
    }
    this.head(5, entries.length);
    let label = '';
    try {
      for (const { key, enc } of entries) {
        label = typeof key === 'object' ? '…' : String(key);
        const value = m.get(key);
        if (value === undefined) throw new CborEncodeError('undefined is not a CBOR value', '');
        if (this.pos + enc.length > this.buf.length) this.grow(enc.length);
        this.buf.set(enc, this.pos);
        this.pos += enc.length;
        this.write(value);
      }
    } catch (err) {
      within(err, `{${label}}`);
    }
    this.depth--;
  }
}

const shared = new CanonicalEncoder();

/** Deterministic CBOR (RFC 8949 section 4.2.1) of `value`, as a fresh byte array. */
export function encodeCanonical(value: CborValue): Uint8Array {
  return shared.encode(value);
}
