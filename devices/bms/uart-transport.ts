// Request/response over a serial link for polled UART BMSes (JBD, Daly): sends a request, reads
// frames (frame-reader.ts) until the request is answered, with a timeout per try, retries with
// exponential backoff, and a port that went away opened again on the next try (a USB adapter
// unplugged and plugged back in at the same path). Every failure is counted (driver-counters.ts).
import type { Clock } from '../../hal/clock.ts';
import type { SerialLink } from '../../hal/serial/serial-link.ts';
import { reject, type UartCounters } from './driver-counters.ts';
import { FrameReader, type UartFrameFormat } from './frame-reader.ts';
import { BmsLinkError, BmsTimeoutError } from './bms-errors.ts';

export interface UartTransportOptions {
  link: SerialLink;
  format: UartFrameFormat;
  clock: Clock;
  counters: UartCounters;
  /** How long to wait for a complete answer, ms (default 500; 9600 baud moves ~1 byte/ms). */
  timeoutMs?: number;
  /** Tries after the first (default 2). */
  retries?: number;
  /** Wait before the first retry, doubled for each further one, ms (default 50). */
  backoffMs?: number;
}

/** What a received frame means to the request in flight. */
export type FrameVerdict = 'done' | 'more' | 'other';

/** Judges a frame, given the frames this try has accepted so far. */
export type FrameJudge = (frame: Uint8Array, got: readonly Uint8Array[]) => FrameVerdict;

interface Pending {
  accept: FrameJudge;
  frames: Uint8Array[];
  finish: (err?: Error) => void;
}

export class UartTransport {
  readonly link: SerialLink;
  readonly counters: UartCounters;
  readonly #format: UartFrameFormat;
  readonly #clock: Clock;
  readonly #reader: FrameReader;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;
  #pending: Pending | undefined;
  #everOpened = false;
  #closedByUs = false;
  #removers: (() => void)[];

  constructor(o: UartTransportOptions) {
    this.link = o.link;
    this.counters = o.counters;
    this.#format = o.format;
    this.#clock = o.clock;
    this.#reader = new FrameReader(o.format, o.counters);
    this.#timeoutMs = o.timeoutMs ?? 500;
    this.#retries = o.retries ?? 2;
    this.#backoffMs = o.backoffMs ?? 50;
    this.#removers = [
      o.link.onData((chunk) => this.#receive(chunk)),
      o.link.onClose((err) => {
        if (this.#closedByUs) return;
        this.counters.lastError = `${this.#format.name}: serial port ${this.link.path} closed${err ? `: ${err.message}` : ''}`;
        this.#pending?.finish(new BmsLinkError(this.link.path, `serial port ${this.link.path} went away`));
      }),
    ];
  }

  #receive(chunk: Uint8Array): void {
    this.#dispatch(this.#reader.push(chunk));
  }

  #dispatch(frames: Uint8Array[]): void {
    for (const frame of frames) {
      const p = this.#pending;
      const verdict = p ? p.accept(frame, p.frames) : 'other';
      if (verdict === 'other' || !p) {
        reject(this.counters, 'unexpected', `${this.#format.name}: a frame that answers no request (${frame.length} bytes, 0x${frame[1]?.toString(16)} 0x${frame[2]?.toString(16)})`);
        continue;
      }
      p.frames.push(frame);
      if (verdict === 'done') p.finish();
    }
  }

  async #ensureOpen(): Promise<void> {
    if (this.link.isOpen) return;
    await this.link.open(); // SerialLinkError names the path and what to check
    if (this.#everOpened) this.counters.reopens++;
    this.#everOpened = true;
  }

  /** Opens the port now (otherwise the first exchange does). */
  open(): Promise<void> {
    this.#closedByUs = false;
    return this.#ensureOpen();
  }

  /**
   * Sends `request` and collects frames until `accept` says 'done'. Throws BmsTimeoutError after
   * the last try, BmsLinkError when the port cannot be opened.
   */
  async exchange(request: Uint8Array, accept: FrameJudge, what: string): Promise<Uint8Array[]> {
    let lastErr: Error | undefined;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) {
        this.counters.retries++;
        await this.#clock.sleep(this.#backoffMs * 2 ** (attempt - 1));
      }
      try {
        await this.#ensureOpen();
      } catch (err) {
        lastErr = err as Error;
        continue;
      }
      // Whatever is left from an earlier exchange answers nothing now.
      for (const _late of this.#reader.flush()) reject(this.counters, 'unexpected', `${this.#format.name}: a late frame`);
      this.counters.requests++;
      const result = await this.#once(request, accept);
      if (Array.isArray(result)) {
        this.counters.responses++;
        return result;
      }
      lastErr = result;
    }
    if (lastErr instanceof BmsTimeoutError || lastErr === undefined) {
      throw new BmsTimeoutError(
        this.link.path,
        `no answer from the ${this.#format.name} BMS on ${this.link.path} to ${what} after ${this.#retries + 1} tries (${this.#timeoutMs} ms each); check that the BMS is awake, the wiring (TX to RX), the baud rate and the --driver`,
      );
    }
    throw lastErr;
  }

  #once(request: Uint8Array, accept: FrameJudge): Promise<Uint8Array[] | Error> {
    return new Promise((resolve) => {
      const ac = new AbortController();
      const p: Pending = {
        accept,
        frames: [],
        finish: (err) => {
          if (this.#pending !== p) return;
          this.#pending = undefined;
          ac.abort();
          resolve(err ?? p.frames);
        },
      };
      this.#pending = p;
      this.#clock.sleep(this.#timeoutMs, ac.signal).then(
        () => {
          if (this.#pending !== p) return;
          // A frame may hide behind bytes that looked like a header: look again before giving up.
          this.#dispatch(this.#reader.flush());
          if (this.#pending !== p) return;
          this.counters.timeouts++;
          p.finish(new BmsTimeoutError(this.link.path, 'timeout'));
        },
        () => {},
      );
      this.link.write(request).catch((err: Error) => p.finish(new BmsLinkError(this.link.path, err.message, { cause: err })));
    });
  }

  async close(): Promise<void> {
    this.#closedByUs = true;
    this.#pending?.finish(new BmsLinkError(this.link.path, 'closed'));
    for (const r of this.#removers) r();
    await this.link.close();
  }
}
