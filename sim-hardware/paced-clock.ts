// Simulated time for an accelerated simulator run (`voltrail run --sim --speed N`): a hal Clock
// that runs `speed` times faster than a base clock, as a discrete-event clock. Its sleepers
// wake one at a time in time order, and the event loop runs between two wakes, so that what one
// simulated instant starts (the simulator's CAN frames, the driver decoding them, the runtime's
// sampler) is done before simulated time moves on. Everything that runs on it then happens at
// the same simulated times whatever the machine's load: a slow or busy machine makes simulated
// time run slower than `speed` (the speed is a ceiling), never fewer samples per simulated minute.
import type { Clock } from '../hal/clock.ts';

export interface PacedClockOptions {
  /** Simulated milliseconds per base-clock millisecond (> 0). */
  speed: number;
  /** Base-clock milliseconds between two catch-ups (default 10). */
  tickMs?: number;
  /** How far (simulated ms) the clock may fall behind `speed` before it gives the time up
   * rather than racing to catch up later (default: one base second's worth, speed * 1000). */
  maxLagMs?: number;
}

interface Sleeper {
  until: number;
  order: number;
  resolve: () => void;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class PacedClock implements Clock {
  readonly base: Clock;
  readonly speed: number;
  readonly tickMs: number;
  readonly maxLagMs: number;
  readonly #wallStart: number;
  readonly #monoStart: number;
  /** Simulated ms since the clock was made. */
  #elapsed = 0;
  /** Where `speed` says simulated time should be (simulated ms since start). */
  #target = 0;
  #slowedMs = 0;
  #order = 0;
  #sleepers: Sleeper[] = [];
  #running = false;

  constructor(base: Clock, o: PacedClockOptions) {
    if (!(o.speed > 0) || !Number.isFinite(o.speed)) throw new RangeError(`speed: must be a positive number, got ${o.speed}`);
    const tickMs = o.tickMs ?? 10;
    if (!(tickMs > 0)) throw new RangeError(`tickMs: must be positive, got ${tickMs}`);
    const maxLagMs = o.maxLagMs ?? o.speed * 1000;
    if (!(maxLagMs > 0)) throw new RangeError(`maxLagMs: must be positive, got ${maxLagMs}`);
    this.base = base;
    this.speed = o.speed;
    this.tickMs = tickMs;
    this.maxLagMs = maxLagMs;
    this.#wallStart = base.now();
    this.#monoStart = base.monotonic();
  }

  now(): number {
    return this.#wallStart + this.#elapsed;
  }
  monotonic(): number {
    return this.#monoStart + this.#elapsed;
  }

  /** Simulated ms the clock is behind where `speed` would have it (0 when it keeps up). */
  get lagMs(): number {
    return this.#target - this.#elapsed;
  }
  /** Simulated ms given up because the machine could not keep up with `speed`. */
  get slowedMs(): number {
    return this.#slowedMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        const i = this.#sleepers.indexOf(entry);
        if (i >= 0) this.#sleepers.splice(i, 1);
        reject(signal?.reason);
      };
      const entry: Sleeper = {
        until: this.#elapsed + Math.max(0, ms),
        order: this.#order++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      // Sorted by time, then by arrival: two sleepers due at one instant wake in the order they slept.
      let at = this.#sleepers.length;
      while (at > 0 && this.#sleepers[at - 1]!.until > entry.until) at--;
      this.#sleepers.splice(at, 0, entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Moves simulated time along with the base clock until `signal` aborts: every `tickMs` of
   * base time, up to where `speed` says it should be, waking each sleeper due on the way and
   * letting the event loop run (I/O, timers, what the sleeper started) before the next.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error('PacedClock.run: already running');
    this.#running = true;
    try {
      let baseLast = this.base.monotonic();
      while (!signal.aborted) {
        try {
          await this.base.sleep(this.tickMs, signal);
        } catch {
          break;
        }
        const b = this.base.monotonic();
        this.#target += (b - baseLast) * this.speed;
        baseLast = b;
        if (this.#target - this.#elapsed > this.maxLagMs) {
          this.#slowedMs += this.#target - this.#elapsed - this.maxLagMs;
          this.#target = this.#elapsed + this.maxLagMs;
        }
        while (!signal.aborted && this.#sleepers.length > 0 && this.#sleepers[0]!.until <= this.#target) {
          const s = this.#sleepers.shift()!;
          this.#elapsed = Math.max(this.#elapsed, s.until);
          s.resolve();
          await nextTurn();
        }
        if (!signal.aborted) this.#elapsed = Math.max(this.#elapsed, this.#target);
      }
    } finally {
      this.#running = false;
    }
  }
}
