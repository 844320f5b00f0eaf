// The plant's load when bench instruments are wired to it: a Profile that lets the instruments
// decide the current while any of them has its output on, and otherwise follows a base profile
// (a scenario's load profile, replaceable at any time). A load sinks current (discharge), a
// supply sources it (charge); with both on, the load's current less what the supply gives.
import type { Demand, Profile } from '../plant/profiles.ts';
import type { Pack } from '../plant/pack.ts';
import { solveCurrent } from '../plant/profiles.ts';
import type { SimulatedScpiInstrument } from './scpi-instrument.ts';

export class InstrumentLoad implements Profile {
  readonly name = 'instruments';
  readonly instruments: SimulatedScpiInstrument[];
  #base: Profile | null = null;
  #baseStart = 0;
  #restart = false;
  /** The step length the combined demand is solved for (the simulation's step). */
  readonly stepS: number;

  constructor(instruments: SimulatedScpiInstrument[], stepS: number) {
    this.instruments = instruments;
    this.stepS = stepS;
  }

  /** Replaces the base profile; it starts at the next step. */
  setBase(p: Profile | null): void {
    p?.reset();
    this.#base = p;
    this.#restart = true;
  }

  demand(t: number, pack: Pack): Demand | null {
    if (this.#restart) {
      this.#baseStart = t;
      this.#restart = false;
    }
    const active = this.instruments.map((i) => i.demand()).filter((d): d is Demand => d !== null);
    if (active.length === 1) return active[0]!;
    if (active.length > 1) return { kind: 'current', a: active.reduce((sum, d) => sum + solveCurrent(d, pack, this.stepS), 0) };
    // The base profile finishing leaves the pack at rest, not the run over.
    return this.#base?.demand(t - this.#baseStart, pack) ?? { kind: 'current', a: 0 };
  }

  reset(): void {
    this.#baseStart = 0;
  }
}
