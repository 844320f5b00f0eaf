// Bounded, strict CBOR decoder for untrusted input (RFC 8949 sections 3 and 5.3; the
// `canonical` check is section 4.2.1 core deterministic encoding, as `canonical-encode.ts`
// writes it). Limits on size, depth, item count and lengths are checked against the bytes that
// remain before anything is allocated, so memory stays bounded by the input and the limits; it
// recurses at most `maxDepth` deep, and every loop advances through the input, so it cannot
// hang. Every refusal is a `CborError` with the byte offset and a reason code.
//
// Maps decode to `Map` (no prototype to pollute, integer keys stay integers); bignums (tags 2
// and 3) decode to bigint; other tags to `Tagged`; integers beyond 2^53 to bigint.
// Indefinite lengths are refused: nothing voltrail accepts is streamed.
import { ReasonError } from '../../hal/reason-error.ts';
import { Tagged } from './value.ts';
import type { CborValue } from './value.ts';
import { float16Bits } from './canonical-encode.ts';

export type CborErrorReason =
  | 'truncated'
  | 'trailing-bytes'
  | 'too-large'
  | 'too-deep'
  | 'too-many-items'
  | 'too-long'
  | 'indefinite-length'
  | 'reserved'
  | 'invalid-utf8'
  | 'invalid-simple'
  | 'invalid-bignum'
  | 'duplicate-key'
  | 'not-canonical'
  | 'wrong-type';

export class CborError extends ReasonError<CborErrorReason> {
  override readonly name = 'CborError';
  readonly offset: number;
  constructor(reason: CborErrorReason, offset: number, detail: string) {
    super(reason, `CBOR at byte ${offset}: ${detail}`);
    this.offset = offset;
  }
}

export interface DecodeLimits {
  /** Largest input accepted, in bytes (default 1 MiB). */
  maxSize?: number;
  /** Deepest nesting of arrays, maps and tags (default 32). */
  maxDepth?: number;
  /** Most data items in total (default 65536). */
  maxItems?: number;
  /** Longest array, in items (default 65536). */
  maxArrayLength?: number;
  /** Largest map, in entries (default 4096). */
  maxMapSize?: number;
  /** Longest byte or text string, in bytes (default: maxSize). */
  maxStringLength?: number;
}

export interface DecodeOptions extends DecodeLimits {
  /** Refuse anything that is not RFC 8949 section 4.2.1 core deterministic encoding. */
  canonical?: boolean;
}

const DEFAULTS = {
  maxSize: 1 << 20,
  maxDepth: 32,
  maxItems: 65536,
  maxArrayLength: 65536,
  maxMapSize: 4096,
};

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

class Reader {
  pos: number;
  items = 0;
  readonly view: DataView;
  readonly maxDepth: number;
  readonly maxItems: number;
  readonly maxArrayLength: number;
  readonly maxMapSize: number;
  readonly maxStringLength: number;
  readonly canonical: boolean;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
    opts: DecodeOptions,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.maxDepth = opts.maxDepth ?? DEFAULTS.maxDepth;
    this.maxItems = opts.maxItems ?? DEFAULTS.maxItems;
    this.maxArrayLength = opts.maxArrayLength ?? DEFAULTS.maxArrayLength;
    this.maxMapSize = opts.maxMapSize ?? DEFAULTS.maxMapSize;
    this.maxStringLength = opts.maxStringLength ?? opts.maxSize ?? DEFAULTS.maxSize;
    this.canonical = opts.canonical ?? false;
  }

  fail(reason: CborErrorReason, offset: number, detail: string): never {
    throw new CborError(reason, offset, detail);
  }

  need(n: number, at: number, what: string): void {
    if (n > this.end - this.pos) this.fail('truncated', at, `${what} needs ${n} byte(s), only ${this.end - this.pos} remain`);
  }

  /** Reads the argument of an initial byte: a number, or a bigint above 2^53. */
  argument(ai: number, at: number): number | bigint {
    if (ai < 24) return ai;
    const v = this.view;
    let n: number | bigint;
    switch (ai) {
      case 24:
        this.need(1, at, 'a 1-byte argument');
        n = this.bytes[this.pos++]!;
        if (this.canonical && n < 24) this.fail('not-canonical', at, `argument ${n} should be in the initial byte`);
        return n;
      case 25:
        this.need(2, at, 'a 2-byte argument');
        n = v.getUint16(this.pos);
        this.pos += 2;
        if (this.canonical && n < 0x100) this.fail('not-canonical', at, `argument ${n} is not in its shortest form`);
        return n;
      case 26:
        this.need(4, at, 'a 4-byte argument');
        n = v.getUint32(this.pos);
        this.pos += 4;
        if (this.canonical && n < 0x10000) this.fail('not-canonical', at, `argument ${n} is not in its shortest form`);
        return n;
      case 27: {
        this.need(8, at, 'an 8-byte argument');
        const big = v.getBigUint64(this.pos);
        this.pos += 8;
        if (this.canonical && big < 0x1_0000_0000n) this.fail('not-canonical', at, `argument ${big} is not in its shortest form`);
        return big <= MAX_SAFE_BIG ? Number(big) : big;
      }
      case 31:
        return this.fail('indefinite-length', at, 'indefinite lengths are not accepted');
      default:
        return this.fail('reserved', at, `additional information ${ai} is reserved`);
    }
  }

  /** A length or count: refused when larger than `limit` or than the bytes left allow. */
  length(ai: number, at: number, limit: number, perItem: number, what: string): number {
    const n = this.argument(ai, at);
    if (typeof n === 'bigint' || n > limit) this.fail('too-long', at, `${what} of ${n} exceeds the limit of ${limit}`);
    const remain = this.end - this.pos;
    if (n * perItem > remain) this.fail('truncated', at, `${what} of ${n} cannot fit in the ${remain} byte(s) left`);
    return n;
  }

  item(depth: number): CborValue {
    const at = this.pos;
    if (at >= this.end) this.fail('truncated', at, 'a data item was expected, the input ended');
    if (++this.items > this.maxItems) this.fail('too-many-items', at, `more than ${this.maxItems} data items`);
    const ib = this.bytes[this.pos++]!;
    const major = ib >>> 5;
    const ai = ib & 0x1f;
    switch (major) {
      case 0:
        return this.argument(ai, at);
      case 1: {
        const n = this.argument(ai, at);
        return typeof n === 'number' ? (n < Number.MAX_SAFE_INTEGER ? -1 - n : -1n - BigInt(n)) : -1n - n;
      }
      case 2: {
        const n = this.length(ai, at, this.maxStringLength, 1, 'a byte string');
        // A copy, also when the input is a Buffer (whose slice would be a view).
        const out = Uint8Array.prototype.slice.call(this.bytes, this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3: {
        const n = this.length(ai, at, this.maxStringLength, 1, 'a text string');
        const raw = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        try {
          return utf8.decode(raw);
        } catch {
          return this.fail('invalid-utf8', at, 'a text string is not valid UTF-8');
        }
      }
      case 4: {
        if (depth >= this.maxDepth) this.fail('too-deep', at, `nesting deeper than ${this.maxDepth}`);
        const n = this.length(ai, at, this.maxArrayLength, 1, 'an array');
        const out: CborValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.item(depth + 1);
        return out;
      }
      case 5:
        if (depth >= this.maxDepth) this.fail('too-deep', at, `nesting deeper than ${this.maxDepth}`);
        return this.map(ai, at, depth);
      case 6: {
        if (depth >= this.maxDepth) this.fail('too-deep', at, `nesting deeper than ${this.maxDepth}`);
        const tag = this.argument(ai, at);
        if (tag === 2 || tag === 3) return this.bignum(tag, at, depth);
        return new Tagged(tag, this.item(depth + 1));
      }
      default:
        return this.simple(ai, at);
    }
  }

  map(ai: number, at: number, depth: number): Map<CborValue, CborValue> {
    const n = this.length(ai, at, this.maxMapSize, 2, 'a map');
    const out = new Map<CborValue, CborValue>();
    let prevStart = -1;
    let prevEnd = -1;
    for (let i = 0; i < n; i++) {
      const keyAt = this.pos;
      const key = this.item(depth + 1);
      const keyEnd = this.pos;
      if (prevStart >= 0) {
        const c = compareRanges(this.bytes, prevStart, prevEnd, keyAt, keyEnd);
        if (c === 0) this.fail('duplicate-key', keyAt, 'a map key appears twice');
        if (this.canonical && c > 0) this.fail('not-canonical', keyAt, 'map keys are not in bytewise order of their encoding');
      }
      prevStart = keyAt;
      prevEnd = keyEnd;
      const value = this.item(depth + 1);
      // Keys that differ in bytes but not in value (possible only without `canonical`).
      if (typeof key !== 'object' && out.has(key)) this.fail('duplicate-key', keyAt, `map key ${String(key)} appears twice`);
      out.set(key, value);
    }
    return out;
  }

  bignum(tag: number, at: number, depth: number): bigint {
    const content = this.item(depth + 1);
    if (!(content instanceof Uint8Array)) this.fail('invalid-bignum', at, `tag ${tag} (bignum) must hold a byte string`);
    if (content.length > 1024) this.fail('too-long', at, 'a bignum longer than 1024 bytes');
    if (this.canonical && (content.length <= 8 || content[0] === 0)) {
      this.fail('not-canonical', at, 'a bignum that fits in 64 bits or has a leading zero byte');
    }
    let n = 0n;
    for (const b of content) n = (n << 8n) | BigInt(b);
    return tag === 2 ? n : -1n - n;
  }

  simple(ai: number, at: number): CborValue {
    const v = this.view;
    switch (ai) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 25: {
        this.need(2, at, 'a float16');
        const bits = v.getUint16(this.pos);
        this.pos += 2;
        const x = decodeFloat16(bits);
        if (this.canonical) this.checkFloat(x, 2, at);
        return x;
      }
      case 26: {
        this.need(4, at, 'a float32');
        const x = v.getFloat32(this.pos);
        this.pos += 4;
        if (this.canonical) this.checkFloat(x, 4, at);
        return x;
      }
      case 27: {
        this.need(8, at, 'a float64');
        const x = v.getFloat64(this.pos);
        this.pos += 8;
        if (this.canonical) this.checkFloat(x, 8, at);
        return x;
      }
      case 31:
        return this.fail('indefinite-length', at, 'a "break" outside an indefinite-length item');
      case 28:
      case 29:
      case 30:
        return this.fail('reserved', at, `additional information ${ai} is reserved`);
      default:
        return this.fail('invalid-simple', at, `simple value ${ai === 24 ? this.bytes[this.pos] : ai} is not accepted (only false, true, null)`);
    }
  }

  /** Shortest form that keeps the value, and integral values as integers (as the encoder does). */
  checkFloat(x: number, size: number, at: number): void {
    if (x !== x) {
      if (size !== 2 || this.view.getUint16(this.pos - 2) !== 0x7e00) this.fail('not-canonical', at, 'NaN must be encoded as 0xf97e00');
      return;
    }
    if (Number.isInteger(x) && !Object.is(x, -0) && Math.abs(x) <= 2 ** 64) {
      this.fail('not-canonical', at, `the integral value ${x} must be encoded as an integer`);
    }
    const shortest = Math.fround(x) !== x ? 8 : float16Bits(x) >= 0 ? 2 : 4;
    if (shortest !== size) this.fail('not-canonical', at, `a float${size * 8} that fits in float${shortest * 8}`);
  }
}

function compareRanges(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const d = b[s1 + i]! - b[s2 + i]!;
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

export function decodeFloat16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

function checkInput(bytes: Uint8Array, opts: DecodeOptions): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytes: expected a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  const maxSize = opts.maxSize ?? DEFAULTS.maxSize;
  if (bytes.length > maxSize) throw new CborError('too-large', 0, `input of ${bytes.length} bytes exceeds the limit of ${maxSize}`);
}

/** Decodes exactly one data item that fills `bytes`; anything after it is an error. */
export function decodeCbor(bytes: Uint8Array, opts: DecodeOptions = {}): CborValue {
  checkInput(bytes, opts);
  const r = new Reader(bytes, 0, bytes.length, opts);
  const value = r.item(0);
  if (r.pos !== bytes.length) r.fail('trailing-bytes', r.pos, `${bytes.length - r.pos} byte(s) after the data item`);
  return value;
}

/** Decodes one data item starting at `offset` (a CBOR sequence, RFC 8742); returns where it ends. */
export function decodeCborAt(bytes: Uint8Array, offset: number, opts: DecodeOptions = {}): { value: CborValue; end: number } {
  checkInput(bytes, opts);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > bytes.length) throw new RangeError(`offset: ${offset} is outside the input (0 to ${bytes.length})`);
  const r = new Reader(bytes, offset, bytes.length, opts);
  const value = r.item(0);
  return { value, end: r.pos };
}
