// The v2x suite's radio receive buffer: a single-producer, single-consumer ring of frames in a
// SharedArrayBuffer, between the load generator's thread (the air) and the receiver's (the
// host). Like a radio's or a socket's receive buffer it is fixed in bytes: a frame that does
// not fit is dropped and counted (what the air does when the host falls behind), so memory
// stays bounded whatever the offered load, and nothing queues unseen in a thread's message
// port. Frames are copied out on reading (the pipeline keeps views into what it receives).
// Layout: Int32 header [head, tail, dropped, wake], then the data bytes; head and tail are byte
// positions that only grow (mod 2^32); each frame is a u16 length and its bytes, never split:
// a frame that would cross the end starts again at offset 0 behind a 0xffff marker.
const HEAD = 0;
const TAIL = 1;
const DROPPED = 2;
/** 1 while a wake-up message to the consumer is on its way (at most one is). */
const WAKE = 3;
const HEADER_BYTES = 16;
const WRAP = 0xffff;

export class RadioRing {
  readonly capacity: number;
  readonly #h: Int32Array;
  readonly #d: Uint8Array;

  /** A new ring of `capacity` bytes (a power of two), or a view of an existing one's buffer. */
  constructor(from: number | SharedArrayBuffer) {
    const sab = typeof from === 'number' ? new SharedArrayBuffer(HEADER_BYTES + from) : from;
    this.capacity = sab.byteLength - HEADER_BYTES;
    if (this.capacity < 4096 || (this.capacity & (this.capacity - 1)) !== 0) throw new RangeError(`ring capacity: ${this.capacity} bytes; expected a power of two >= 4096`);
    this.#h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.#d = new Uint8Array(sab, HEADER_BYTES);
  }

  get buffer(): SharedArrayBuffer {
    return this.#h.buffer as SharedArrayBuffer;
  }

  /** Frames dropped because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.#h, DROPPED);
  }

  /** Bytes waiting. */
  get used(): number {
    return (Atomics.load(this.#h, HEAD) - Atomics.load(this.#h, TAIL)) >>> 0;
  }

  /** Producer: appends a frame; false (and counted) when it does not fit. */
  write(frame: Uint8Array): boolean {
    const c = this.capacity;
    if (frame.length === 0 || frame.length >= WRAP || frame.length + 2 > c / 2) throw new RangeError(`frame: ${frame.length} bytes`);
    let head = Atomics.load(this.#h, HEAD) >>> 0;
    const used = (head - (Atomics.load(this.#h, TAIL) >>> 0)) >>> 0;
    const at = head & (c - 1);
    const skip = c - at < frame.length + 2 ? c - at : 0;
    if (used + skip + frame.length + 2 > c) {
      Atomics.add(this.#h, DROPPED, 1);
      return false;
    }
    if (skip > 0) {
      if (skip >= 2) this.#d[at] = WRAP >>> 8;
      if (skip >= 2) this.#d[at + 1] = WRAP & 0xff;
      head = (head + skip) >>> 0;
    }
    const o = head & (c - 1);
    this.#d[o] = frame.length >>> 8;
    this.#d[o + 1] = frame.length & 0xff;
    this.#d.set(frame, o + 2);
    Atomics.store(this.#h, HEAD, (head + 2 + frame.length) | 0);
    return true;
  }

  /** Producer: true when the consumer should be woken (no wake-up is on its way yet). */
  claimWake(): boolean {
    return Atomics.compareExchange(this.#h, WAKE, 0, 1) === 0;
  }

  /** Consumer: takes up to `max` frames (copies); clears the wake flag first so no frame is missed. */
  read(max: number): Uint8Array[] {
    Atomics.store(this.#h, WAKE, 0);
    const c = this.capacity;
    const head = Atomics.load(this.#h, HEAD) >>> 0;
    let tail = Atomics.load(this.#h, TAIL) >>> 0;
    const out: Uint8Array[] = [];
    while (tail !== head && out.length < max) {
      let at = tail & (c - 1);
      if (c - at < 2 || ((this.#d[at]! << 8) | this.#d[at + 1]!) === WRAP) {
        tail = (tail + (c - at)) >>> 0;
        continue;
      }
      const n = (this.#d[at]! << 8) | this.#d[at + 1]!;
      at += 2;
      out.push(this.#d.slice(at, at + n));
      tail = (tail + 2 + n) >>> 0;
    }
    Atomics.store(this.#h, TAIL, tail | 0);
    return out;
  }
}
