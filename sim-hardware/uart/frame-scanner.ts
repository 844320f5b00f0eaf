// Finds request frames in a UART byte stream that may hold garbage, noise, partial frames and
// frames split across reads, the way a BMS's firmware does: look for the start byte, read the
// header to learn the length, check the trailer and checksum; on any mismatch drop that start
// byte and look again (resync). A partial frame waits for more bytes, unless a later complete
// valid frame shows it was a fragment, or it has waited longer than the inter-frame timeout.
// The buffer is bounded.

export interface FrameFormat {
  start: number;
  /** Total frame length from its header at buf[i..], null if more bytes are needed to know, or
   * -1 if the header is impossible (so this start byte is garbage). */
  lengthAt(buf: Uint8Array, i: number): number | null;
  /** Trailer and checksum check of a complete candidate frame. */
  valid(frame: Uint8Array): boolean;
}

export interface ScannerStats {
  frames: number;
  /** Bytes skipped as not part of any valid frame. */
  garbageBytes: number;
  /** Candidate frames rejected (bad header, trailer or checksum). */
  badFrames: number;
}

const MAX_BUFFER = 1024;

export class FrameScanner {
  readonly format: FrameFormat;
  readonly timeoutMs: number;
  readonly stats: ScannerStats = { frames: 0, garbageBytes: 0, badFrames: 0 };
  #buf = new Uint8Array(0);
  #lastByteAt = 0;

  constructor(format: FrameFormat, timeoutMs = 200) {
    this.format = format;
    this.timeoutMs = timeoutMs;
  }

  /** Adds received bytes; returns every complete valid frame now available, in order. */
  push(chunk: Uint8Array, nowMs: number): Uint8Array[] {
    if (this.#buf.length > 0 && nowMs - this.#lastByteAt > this.timeoutMs) {
      // An old fragment: a real device's receive timeout would have thrown it away.
      this.stats.garbageBytes += this.#buf.length;
      this.#buf = new Uint8Array(0);
    }
    this.#lastByteAt = nowMs;
    const merged = new Uint8Array(this.#buf.length + chunk.length);
    merged.set(this.#buf);
    merged.set(chunk, this.#buf.length);
    let buf = merged;
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < buf.length) {
      if (buf[i] !== this.format.start) {
        i++;
        this.stats.garbageBytes++;
        continue;
      }
      const len = this.format.lengthAt(buf, i);
      if (len === -1) {
        this.stats.badFrames++;
        this.stats.garbageBytes++;
        i++;
        continue;
      }
      if (len === null || i + len > buf.length) {
        // Incomplete. If a valid frame starts later in what we hold, this was a fragment.
        const later = this.#nextValid(buf, i + 1);
        if (later < 0) break;
        this.stats.badFrames++;
        this.stats.garbageBytes += later - i;
        i = later;
        continue;
      }
      const frame = buf.slice(i, i + len);
      if (this.format.valid(frame)) {
        out.push(frame);
        this.stats.frames++;
        i += len;
      } else {
        this.stats.badFrames++;
        this.stats.garbageBytes++;
        i++;
      }
    }
    buf = buf.slice(i);
    if (buf.length > MAX_BUFFER) {
      this.stats.garbageBytes += buf.length - MAX_BUFFER;
      buf = buf.slice(buf.length - MAX_BUFFER);
    }
    this.#buf = buf;
    return out;
  }

  #nextValid(buf: Uint8Array, from: number): number {
    for (let j = from; j < buf.length; j++) {
      if (buf[j] !== this.format.start) continue;
      const len = this.format.lengthAt(buf, j);
      if (len !== null && len > 0 && j + len <= buf.length && this.format.valid(buf.subarray(j, j + len))) return j;
    }
    return -1;
  }
}
