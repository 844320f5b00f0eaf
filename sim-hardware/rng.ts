// Seeded pseudo-random numbers for the simulator: mulberry32 (Tommy Ettinger's 32-bit generator,
// public domain), with Box-Muller for normal deviates. Chosen because it is tiny, fast, passes
// the usual statistical batteries for this use (noise and spread, not cryptography) and gives the
// same sequence on every platform for a given seed, which is what makes runs reproducible.
// Never use it for keys or nonces. The generator itself is hal/seeded-random.ts.
import { mulberry32 } from '../hal/seeded-random.ts';

export class Rng {
  #state: number;
  #spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new TypeError(`seed: expected a finite number, got ${String(seed)}`);
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    const r = mulberry32(this.#state);
    this.#state = r.state;
    return r.value;
  }

  /** Normal deviate with the given mean and standard deviation (Box-Muller, polar pair cached). */
  normal(mean = 0, sd = 1): number {
    if (sd === 0) return mean;
    if (this.#spare !== null) {
      const z = this.#spare;
      this.#spare = null;
      return mean + sd * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** A child generator with its own stream, so that adding draws in one part of the simulator
   * does not shift the numbers every other part sees. */
  fork(label: number): Rng {
    return new Rng((Math.imul(this.#state ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(label + 1, 0xc2b2ae35)) >>> 0);
  }
}
