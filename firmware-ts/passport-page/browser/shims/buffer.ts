// The part of Node's Buffer that the ledger's verification path uses (from, alloc, concat,
// toString('hex'|'base64'|'latin1'|'utf8'), equals), for the browser build of the page. Injected
// by the page build as the global `Buffer`, so the ledger code runs unchanged in the browser.
// A Uint8Array subclass: subarray and slice keep the type through Symbol.species.
type Encoding = 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary' | 'utf8' | 'utf-8';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function fromHex(s: string): Uint8Array {
  const n = s.length >> 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = parseInt(s.slice(2 * i, 2 * i + 2), 16);
    // Node stops at the first pair that is not hex; so do we.
    if (Number.isNaN(v)) return out.subarray(0, i);
    out[i] = v;
  }
  return out;
}

function fromBase64(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/').replace(/[^A-Za-z0-9+/]/g, '').padEnd(Math.ceil(s.length / 4) * 4, '='));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

type FromInput = string | ArrayLike<number> | ArrayBufferLike | Iterable<number>;

// Typed as a plain constructor: TypeScript offers only the generic (buffer, offset, length) form
// of Uint8Array's constructor to a subclass of Uint8Array<ArrayBuffer>.
const Bytes = Uint8Array as new (lengthOrBuffer: number | ArrayBuffer, byteOffset?: number, length?: number) => Uint8Array<ArrayBuffer>;

export class Buffer extends Bytes {
  // Uint8Array's own forms (typed arrays' species constructor calls these for subarray and slice).
  constructor(lengthOrBuffer: number | ArrayBuffer, byteOffset?: number, length?: number) {
    super(lengthOrBuffer, byteOffset, length);
  }

  /** Node's Buffer.from (no map function, unlike Uint8Array.from). */
  static from(value: FromInput, encodingOrOffset?: Encoding | number, length?: number): Buffer {
    if (typeof value === 'string') {
      const enc = (encodingOrOffset as Encoding | undefined) ?? 'utf8';
      const bytes =
        enc === 'hex' ? fromHex(value)
        : enc === 'base64' || enc === 'base64url' ? fromBase64(value)
        : enc === 'latin1' || enc === 'binary' ? Uint8Array.from(value, (c) => c.charCodeAt(0) & 0xff)
        : new TextEncoder().encode(value);
      return new Buffer(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
    }
    if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) {
      const off = typeof encodingOrOffset === 'number' ? encodingOrOffset : 0;
      return new Buffer(value as ArrayBuffer, off, length ?? (value as ArrayBuffer).byteLength - off);
    }
    const arr = Uint8Array.from(value as ArrayLike<number>);
    return new Buffer(arr.buffer, 0, arr.length);
  }

  static alloc(size: number, fill = 0): Buffer {
    const b = new Buffer(size);
    if (fill) b.fill(fill);
    return b;
  }

  static allocUnsafe(size: number): Buffer {
    return new Buffer(size);
  }

  static isBuffer(value: unknown): value is Buffer {
    return value instanceof Buffer;
  }

  static byteLength(value: string | Uint8Array): number {
    return typeof value === 'string' ? new TextEncoder().encode(value).length : value.byteLength;
  }

  static concat(list: readonly Uint8Array[], total?: number): Buffer {
    const n = total ?? list.reduce((s, b) => s + b.length, 0);
    const out = new Buffer(n);
    let at = 0;
    for (const b of list) {
      if (at >= n) break;
      out.set(b.subarray(0, n - at), at);
      at += b.length;
    }
    return out;
  }

  equals(other: Uint8Array): boolean {
    if (this.length !== other.length) return false;
    for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false;
    return true;
  }

  override toString(encoding: Encoding = 'utf8'): string {
    if (encoding === 'hex') {
      let s = '';
      for (let i = 0; i < this.length; i++) s += HEX[this[i]!];
      return s;
    }
    if (encoding === 'latin1' || encoding === 'binary') {
      let s = '';
      for (let i = 0; i < this.length; i++) s += String.fromCharCode(this[i]!);
      return s;
    }
    if (encoding === 'base64' || encoding === 'base64url') {
      let s = '';
      for (let i = 0; i < this.length; i++) s += String.fromCharCode(this[i]!);
      const b = btoa(s);
      return encoding === 'base64' ? b : b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    }
    return new TextDecoder().decode(this);
  }
}
