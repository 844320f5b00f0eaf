// A hal Clock whose wall time can be jumped (an RTC-less board correcting its time, an NTP
// step, a fault), over any base clock. Monotonic time and sleeps are the base clock's: a wall
// jump never makes a timer fire early or late, as on a real board.
import type { Clock } from '../hal/clock.ts';

export class OffsetClock implements Clock {
  readonly base: Clock;
  offsetMs = 0;

  constructor(base: Clock) {
    this.base = base;
  }
  now(): number {
    return this.base.now() + this.offsetMs;
  }
  monotonic(): number {
    return this.base.monotonic();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.base.sleep(ms, signal);
  }
  jumpWall(ms: number): void {
    this.offsetMs += ms;
  }
}
