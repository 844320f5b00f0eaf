// An in-process radio channel for tests and the traffic simulator: every station attached
// hears every other one's frames after a delay (plus jitter), loses each frame with a given
// probability, and learns the channel busy ratio with each frame, either fixed (to put a
// receiver under a chosen congestion) or measured: the airtime of all frames sent in the last
// 100 ms (reception/channel-busy-ratio.ts) over 100 ms. Time comes from the injected clock, so
// on a ManualClock deliveries happen exactly when the test advances it; randomness from a
// seeded generator, so a run can be repeated.
import type { Clock } from '../../hal/clock.ts';
import { seededRandom } from '../../hal/seeded-random.ts';
import { airtimeMs, WINDOW_MS } from '../reception/channel-busy-ratio.ts';
import type { Frame, V2xTransport } from './transport.ts';

export interface SimulatedChannelOptions {
  clock: Clock;
  /** Probability that a receiver misses a frame, 0..1 (default 0). */
  loss?: number;
  /** ms from send to reception (default 2). */
  delayMs?: number;
  /** Uniform extra delay 0..jitterMs (default 0). */
  jitterMs?: number;
  /** Fixed busy ratio reported with each frame; default: measured from the traffic. */
  busyRatio?: number;
  /** Seed of the loss and jitter generator (default 1). */
  seed?: number;
}


class Endpoint implements V2xTransport {
  readonly name: string;
  readonly listeners = new Set<(f: Frame) => void>();
  readonly #channel: SimulatedChannel;
  closed = false;
  constructor(channel: SimulatedChannel, name: string) {
    this.#channel = channel;
    this.name = name;
  }
  async send(bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new Error(`${this.name}: the simulated transport is closed`);
    this.#channel.transmit(this, bytes);
  }
  onFrame(fn: (f: Frame) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.#channel.detach(this);
  }
}

export class SimulatedChannel {
  readonly #o: SimulatedChannelOptions;
  readonly #random: () => number;
  readonly #endpoints = new Set<Endpoint>();
  /** Airtime sent in the current window and the last complete one. */
  #windowStart = 0;
  #busyMs = 0;
  #lastRatio = 0;
  /** Frames sent, delivered (per receiver), lost (per receiver). */
  sent = 0;
  delivered = 0;
  lost = 0;

  constructor(opts: SimulatedChannelOptions) {
    if (opts.loss !== undefined && !(opts.loss >= 0 && opts.loss <= 1)) throw new RangeError(`loss: ${opts.loss}; expected 0..1`);
    if (opts.busyRatio !== undefined && !(opts.busyRatio >= 0 && opts.busyRatio <= 1)) throw new RangeError(`busyRatio: ${opts.busyRatio}; expected 0..1`);
    this.#o = opts;
    this.#random = seededRandom(opts.seed ?? 1);
    this.#windowStart = opts.clock.monotonic();
  }

  /** A new station on the channel. */
  attach(name = `station-${this.#endpoints.size + 1}`): V2xTransport {
    const e = new Endpoint(this, name);
    this.#endpoints.add(e);
    return e;
  }

  detach(e: V2xTransport): void {
    this.#endpoints.delete(e as Endpoint);
  }

  /** The busy ratio receivers are told now. */
  get busyRatio(): number {
    return this.#o.busyRatio ?? this.#lastRatio;
  }

  transmit(from: Endpoint, bytes: Uint8Array): void {
    const now = this.#o.clock.monotonic();
    while (now - this.#windowStart >= WINDOW_MS) {
      this.#lastRatio = Math.min(1, this.#busyMs / WINDOW_MS);
      this.#busyMs = 0;
      this.#windowStart += WINDOW_MS;
    }
    this.#busyMs += airtimeMs(bytes.length);
    this.sent++;
    const copy = bytes.slice();
    for (const to of this.#endpoints) {
      if (to === from || to.listeners.size === 0) continue; // send-only stations cost nothing
      if (this.#random() < (this.#o.loss ?? 0)) {
        this.lost++;
        continue;
      }
      const delay = (this.#o.delayMs ?? 2) + this.#random() * (this.#o.jitterMs ?? 0);
      void this.#o.clock.sleep(delay).then(() => {
        if (to.closed) return;
        this.delivered++;
        const frame: Frame = { bytes: copy, busyRatio: this.busyRatio, from: from.name };
        for (const fn of to.listeners) fn(frame);
      });
    }
  }
}
