// Finds frames in a byte stream from a UART BMS: frames are found by their start byte and their
// length field (never by scanning for an end or start byte, since data may contain both), then
// checked (end marker, checksum). After garbage or a corrupted frame the reader resynchronises
// by dropping one byte and looking for the next start byte. Everything skipped is counted.
import { reject, type RejectReason, type UartCounters } from './driver-counters.ts';

export interface UartFrameFormat {
  /** Protocol name for messages, e.g. `JBD`. */
  readonly name: string;
  readonly start: number;
  /**
   * With `buf[0] === start`: the whole frame's length, 0 when more bytes are needed to tell,
   * or the reason `buf` cannot begin a frame.
   */
  measure(buf: Uint8Array): number | { reason: RejectReason; detail: string };
  /** Checks a complete frame: undefined when good, else why it is rejected. */
  check(frame: Uint8Array): { reason: RejectReason; detail: string } | undefined;
}

/** More than this many bytes waiting without a frame is garbage, not a frame in progress. */
const MAX_BUFFER = 1024;

export class FrameReader {
  readonly format: UartFrameFormat;
  readonly counters: UartCounters;
  #buf = new Uint8Array(0);

  constructor(format: UartFrameFormat, counters: UartCounters) {
    this.format = format;
    this.counters = counters;
  }

  /** Bytes held that do not (yet) make a frame. */
  get pending(): number {
    return this.#buf.length;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buf.length + chunk.length);
    joined.set(this.#buf);
    joined.set(chunk, this.#buf.length);
    let buf = joined;
    const out: Uint8Array[] = [];
    for (;;) {
      const at = buf.indexOf(this.format.start);
      if (at < 0) {
        this.counters.garbageBytes += buf.length;
        buf = buf.subarray(buf.length);
        break;
      }
      if (at > 0) {
        this.counters.garbageBytes += at;
        buf = buf.subarray(at);
      }
      const n = this.format.measure(buf);
      if (typeof n === 'object') {
        reject(this.counters, n.reason, `${this.format.name}: ${n.detail}`);
        buf = buf.subarray(1);
        continue;
      }
      if (n === 0 || buf.length < n) break;
      const frame = buf.slice(0, n);
      const bad = this.format.check(frame);
      if (bad) {
        reject(this.counters, bad.reason, `${this.format.name}: ${bad.detail}`);
        buf = buf.subarray(1);
        continue;
      }
      out.push(frame);
      buf = buf.subarray(n);
    }
    if (buf.length > MAX_BUFFER) {
      reject(this.counters, 'length', `${this.format.name}: ${buf.length} bytes without a complete frame; dropped`);
      buf = buf.subarray(buf.length);
    }
    this.#buf = buf.slice();
    return out;
  }

  /**
   * Called when no more bytes are coming (timeout, next request): the bytes held are a frame cut
   * short, or garbage whose first bytes looked like a header and hid a good frame behind them.
   * Drops the first byte and scans the rest again, until a frame is found or nothing is left;
   * returns the frames found. A partial frame is counted once as truncated.
   */
  flush(): Uint8Array[] {
    if (this.#buf.length === 0) return [];
    reject(this.counters, 'truncated', `${this.format.name}: a frame stopped after ${this.#buf.length} bytes`);
    while (this.#buf.length > 0) {
      this.#buf = this.#buf.subarray(1);
      const frames = this.push(new Uint8Array(0));
      if (frames.length) return frames;
    }
    return [];
  }
}
