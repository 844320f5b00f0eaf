// Time, injectable so that the simulator can run many times faster than real time and tests
// can step it by hand. Wall time may jump (boards without an RTC); monotonic time never does.

export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic milliseconds since an arbitrary origin. */
  monotonic(): number;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A clock that only moves when told to (`advance`), for deterministic tests and for running the
 * simulator as fast as the CPU allows. Sleepers wake in time order as time passes them.
 */
export class ManualClock implements Clock {
  #wall: number;
  #mono = 0;
  #sleepers: { until: number; resolve: () => void }[] = [];

  constructor(startWallMs = Date.UTC(2026, 0, 1)) {
    this.#wall = startWallMs;
  }
  now(): number {
    return this.#wall;
  }
  monotonic(): number {
    return this.#mono;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== entry);
        reject(signal?.reason);
      };
      const entry = {
        until: this.#mono + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.#sleepers.push(entry);
      this.#sleepers.sort((a, b) => a.until - b.until);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
  /** Moves both clocks forward by `ms`, waking sleepers whose time has come. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    while (this.#sleepers.length > 0 && this.#sleepers[0]!.until <= target) {
      const s = this.#sleepers.shift()!;
      this.#wall += s.until - this.#mono;
      this.#mono = s.until;
      s.resolve();
    }
    this.#wall += target - this.#mono;
    this.#mono = target;
  }
  /** Moves only the wall clock (an RTC-less board correcting its time, or a fault). */
  jumpWall(ms: number): void {
    this.#wall += ms;
  }
}
