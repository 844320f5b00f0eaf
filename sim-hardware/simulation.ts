// The simulation driver: steps the plant under a profile, lets attached devices (the simulated
// BMS, faults) act after each step, and gates the current through the contactor. Time is
// simulated seconds; `run` ties it to a hal Clock, in real time or `speed` times faster, while
// `advance` steps as fast as the CPU allows (tests, benches).
import type { Clock } from '../hal/clock.ts';
import type { Pack } from './plant/pack.ts';
import { solveCurrent, type Profile } from './plant/profiles.ts';

/** Something that acts on the plant after every step: the BMS, the fault injector. */
export interface SimDevice {
  afterStep(dtS: number, sim: Simulation): void;
  /** False while this device holds the current path open (a BMS contactor, a board without
   * power). Asked before every step, so an opening takes effect on the very next step. */
  conducts?(): boolean;
}

export interface SimulationOptions {
  pack: Pack;
  profile?: Profile;
  /** Longest single plant step, seconds (default 1). Steps are exact, so this only sets how often
   * devices look at the plant and how finely stop conditions and current changes are placed. */
  maxStepS?: number;
}

export interface RunOptions {
  clock: Clock;
  /** Simulated seconds per clock second (default 1 = real time). */
  speed?: number;
  /** Clock milliseconds between driver ticks (default 100). */
  tickMs?: number;
  signal?: AbortSignal;
  /** Called after each tick (a status line, a test probe). */
  onTick?: (sim: Simulation) => void;
}

export class Simulation {
  readonly pack: Pack;
  profile: Profile | null;
  readonly maxStepS: number;
  readonly devices: SimDevice[] = [];
  /** Simulated seconds since start. */
  timeS = 0;
  /** False when a device (the BMS, an unpowered board) held the current path open in the last step. */
  contactorClosed = true;
  /** Current the profile asked for in the last step (what flows if the contactor is closed). */
  demandedA = 0;
  #profileStart = 0;
  #profileDone = false;

  constructor(opts: SimulationOptions) {
    this.pack = opts.pack;
    this.profile = opts.profile ?? null;
    this.maxStepS = opts.maxStepS ?? 1;
    if (!(this.maxStepS > 0)) throw new RangeError(`maxStepS: must be positive, got ${this.maxStepS}`);
  }

  attach(device: SimDevice): this {
    this.devices.push(device);
    return this;
  }

  /** Replaces the profile; it starts at the current time. */
  setProfile(profile: Profile | null): void {
    profile?.reset();
    this.profile = profile;
    this.#profileStart = this.timeS;
    this.#profileDone = false;
  }

  /** True once the profile has returned null (finished). */
  get profileDone(): boolean {
    return this.profile === null || this.#profileDone;
  }

  /** Advances by dtS simulated seconds, in steps of at most maxStepS. */
  advance(dtS: number): void {
    if (!(dtS >= 0) || !Number.isFinite(dtS)) throw new RangeError(`dt: must be a finite number of seconds >= 0, got ${dtS}`);
    // Equal steps that add up to dtS exactly, never a stray sliver of a step at the end.
    const n = Math.ceil(dtS / this.maxStepS - 1e-9);
    for (let k = 0; k < n; k++) this.#step(dtS / n);
  }

  /** Steps until `stop` returns true or maxS simulated seconds pass; returns the time taken. */
  advanceUntil(stop: (sim: Simulation) => boolean, maxS: number, dtS = this.maxStepS): number {
    const start = this.timeS;
    while (!stop(this) && this.timeS - start < maxS) this.#step(Math.min(dtS, maxS - (this.timeS - start)));
    return this.timeS - start;
  }

  #step(dt: number): void {
    let demanded = 0;
    if (this.profile && !this.#profileDone) {
      const d = this.profile.demand(this.timeS - this.#profileStart, this.pack);
      if (d === null) this.#profileDone = true;
      else demanded = solveCurrent(d, this.pack, dt);
    }
    this.demandedA = demanded;
    this.contactorClosed = this.devices.every((d) => d.conducts?.() ?? true);
    this.pack.step(dt, this.contactorClosed ? demanded : 0);
    this.timeS += dt;
    for (const d of this.devices) d.afterStep(dt, this);
  }

  /**
   * Runs on a clock until the signal aborts: every tickMs of clock time, advances the simulation
   * by the elapsed monotonic time times `speed`. With a ManualClock, time moves as the test
   * advances it; with systemClock, in real time (or `speed` times faster).
   */
  async run(o: RunOptions): Promise<void> {
    const speed = o.speed ?? 1;
    const tick = o.tickMs ?? 100;
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed: must be a positive number, got ${speed}`);
    if (!(tick > 0)) throw new RangeError(`tickMs: must be positive, got ${tick}`);
    let last = o.clock.monotonic();
    while (!o.signal?.aborted) {
      // Both clocks drop their abort listener when a sleep ends, so a long run keeps none behind.
      try {
        await o.clock.sleep(tick, o.signal);
      } catch {
        break;
      }
      const now = o.clock.monotonic();
      this.advance(((now - last) / 1000) * speed);
      last = now;
      o.onTick?.(this);
    }
  }
}
