// Channel busy ratio (CBR) estimation for congestion control (ETSI TS 102 687 / EN 302 571):
// the fraction of time the channel was sensed busy, measured over 100 ms windows and smoothed.
// A radio reports busy time itself; over UDP or the simulated channel there is no radio, so
// the busy time is estimated from the frames heard: each frame occupies the channel for its
// airtime on ITS-G5 at 6 Mbit/s (the default 10 MHz-channel rate, QPSK 1/2) plus the PHY
// preamble and header (40 us). The smoothed value follows CBR = (CBR_prev + CBR_window) / 2,
// the averaging of the reactive approach, so one busy window does not flip the state.
export const WINDOW_MS = 100;
const BITRATE = 6_000_000;
const PREAMBLE_US = 40;

/** Airtime of a frame of `bytes` at 6 Mbit/s, ms. */
export function airtimeMs(bytes: number): number {
  return (PREAMBLE_US + (bytes * 8 * 1e6) / BITRATE) / 1000;
}

export class CbrEstimator {
  #windowStart: number | undefined;
  #busyMs = 0;
  #smoothed = 0;
  #last = 0;
  readonly #onWindow?: (cbr: number) => void;

  constructor(onWindow?: (smoothed: number) => void) {
    this.#onWindow = onWindow;
  }

  /** The smoothed CBR, 0..1. */
  get cbr(): number {
    return this.#smoothed;
  }

  /** The last 100 ms window's CBR, unsmoothed. */
  get lastWindow(): number {
    return this.#last;
  }

  /** A frame of `bytes` heard at `now` (monotonic ms). */
  frame(bytes: number, now: number): void {
    this.advance(now);
    this.#busyMs += airtimeMs(bytes);
  }

  /** A busy ratio measured by the channel itself over the window ending at `now`. */
  measured(ratio: number, now: number): void {
    this.advance(now);
    this.#busyMs = Math.max(this.#busyMs, Math.min(1, Math.max(0, ratio)) * WINDOW_MS);
  }

  /** Closes the windows that ended by `now`. */
  advance(now: number): void {
    if (this.#windowStart === undefined) {
      this.#windowStart = now;
      return;
    }
    while (now - this.#windowStart >= WINDOW_MS) {
      this.#last = Math.min(1, this.#busyMs / WINDOW_MS);
      this.#smoothed = (this.#smoothed + this.#last) / 2;
      this.#busyMs = 0;
      this.#windowStart += WINDOW_MS;
      this.#onWindow?.(this.#smoothed);
      // A long silence: the remaining empty windows only decay the average.
      if (now - this.#windowStart > 20 * WINDOW_MS) {
        this.#smoothed = 0;
        this.#last = 0;
        this.#windowStart = now;
        this.#onWindow?.(0);
      }
    }
  }
}
