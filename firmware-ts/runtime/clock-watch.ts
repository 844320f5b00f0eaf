// Clock-jump detection for boards without a real-time clock: wall time minus monotonic time is
// constant while both run; when it moves by more than a tolerance, the wall clock jumped (NTP
// set it at last, someone set it by hand, or a fault). Records keep both times, so a jump is
// recorded as an event and the new offset becomes the reference.
import type { Clock } from '../../hal/clock.ts';

export interface ClockJump {
  /** Wall-clock change not explained by elapsed monotonic time, ms (negative: backwards). */
  deltaMs: number;
  wallBefore: number;
  wallAfter: number;
}

export class ClockWatch {
  #offset: number;
  #lastWall: number;

  constructor(
    private readonly clock: Clock,
    private readonly toleranceMs: number,
  ) {
    this.#lastWall = clock.now();
    this.#offset = this.#lastWall - clock.monotonic();
  }

  check(): ClockJump | undefined {
    const wall = this.clock.now();
    const offset = wall - this.clock.monotonic();
    const delta = offset - this.#offset;
    const before = this.#lastWall;
    this.#lastWall = wall;
    if (Math.abs(delta) <= this.toleranceMs) return undefined;
    this.#offset = offset;
    return { deltaMs: delta, wallBefore: before, wallAfter: wall };
  }
}

/** Wall time before this is surely wrong (a board that booted at 1970 or a dead RTC). */
export const EARLIEST_SANE_WALL_MS = Date.UTC(2025, 0, 1);
