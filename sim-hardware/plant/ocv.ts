// Open-circuit voltage as a function of state of charge, for the two chemistries the simulator
// models, and its inverse (what a BMS uses to correct its SoC at rest).
//
// The tables reproduce the published *shape* of 25 degC low-rate OCV curves; they are not a fit
// to one particular cell:
// - NMC/graphite: sloped over the whole range, ~3.0 V empty to ~4.18 V full, with a knee below
//   10 % SoC (cf. the low-current OCV tests of the CALCE Samsung INR18650-20R data set,
//   https://calce.umd.edu/battery-data, and G. Plett, "Battery Management Systems, Vol. I:
//   Battery Modeling", Artech House 2015, ch. 2).
// - LFP/graphite: a flat plateau at ~3.26-3.34 V from ~15 % to ~95 % SoC with the small step
//   between graphite staging plateaus near 60-70 %, steep ends below 5 % and above 97 % (cf. the
//   CALCE A123 APR18650M1A data set, same address). The plateau is why an LFP BMS cannot
//   estimate SoC from voltage mid-range and must rely on coulomb counting.
// Below 0 % and above 100 % the curve continues along a steep line so that over-discharge and
// over-charge show up as the voltage collapse or rise a real cell shows, never as a clamp.

export type Chemistry = 'nmc' | 'lfp';

/** [SoC 0..1, OCV in volts] points, SoC strictly increasing. */
const TABLES: Record<Chemistry, readonly (readonly [number, number])[]> = {
  nmc: [
    [0.0, 3.0], [0.05, 3.42], [0.1, 3.5], [0.15, 3.555], [0.2, 3.59], [0.25, 3.617], [0.3, 3.64],
    [0.35, 3.661], [0.4, 3.681], [0.45, 3.703], [0.5, 3.73], [0.55, 3.765], [0.6, 3.805],
    [0.65, 3.845], [0.7, 3.885], [0.75, 3.925], [0.8, 3.965], [0.85, 4.01], [0.9, 4.055],
    [0.95, 4.105], [1.0, 4.18],
  ],
  lfp: [
    [0.0, 2.5], [0.02, 2.9], [0.05, 3.1], [0.1, 3.2], [0.15, 3.24], [0.2, 3.26], [0.3, 3.28],
    [0.4, 3.292], [0.5, 3.297], [0.6, 3.3], [0.65, 3.31], [0.7, 3.327], [0.8, 3.33], [0.9, 3.335],
    [0.95, 3.345], [0.98, 3.4], [1.0, 3.55],
  ],
};

/** Slope of the continuation outside 0..100 %, volts per unit SoC. */
const OUTSIDE_SLOPE = 8;
const GRID = 2000;

/** A curve sampled on a uniform SoC grid, so a lookup is one multiply and one lerp (200 cells
 * per step, many steps per simulated second). */
export class OcvCurve {
  readonly chemistry: Chemistry;
  readonly #v: Float64Array;
  readonly vEmpty: number;
  readonly vFull: number;

  constructor(chemistry: Chemistry) {
    const table = TABLES[chemistry];
    if (!table) throw new RangeError(`chemistry: expected 'nmc' or 'lfp', got '${String(chemistry)}'`);
    this.chemistry = chemistry;
    this.#v = new Float64Array(GRID + 1);
    let j = 0;
    for (let k = 0; k <= GRID; k++) {
      const s = k / GRID;
      while (j < table.length - 2 && table[j + 1]![0] < s) j++;
      const [s0, v0] = table[j]!;
      const [s1, v1] = table[j + 1]!;
      this.#v[k] = v0 + ((v1 - v0) * (s - s0)) / (s1 - s0);
    }
    this.vEmpty = this.#v[0]!;
    this.vFull = this.#v[GRID]!;
  }

  /** OCV in volts at `soc` (0..1; values outside continue steeply). */
  at(soc: number): number {
    if (soc <= 0) return Math.max(0, this.vEmpty + soc * OUTSIDE_SLOPE);
    if (soc >= 1) return this.vFull + (soc - 1) * OUTSIDE_SLOPE;
    const x = soc * GRID;
    const k = Math.floor(x);
    const v0 = this.#v[k]!;
    return v0 + (this.#v[k + 1]! - v0) * (x - k);
  }

  /** SoC (0..1) whose OCV is `v`, by bisection on the monotonic curve; clamped to 0..1. On the
   * LFP plateau many SoCs share nearly one voltage: the answer is exact but ill-conditioned. */
  socAt(v: number): number {
    if (v <= this.vEmpty) return 0;
    if (v >= this.vFull) return 1;
    let lo = 0;
    let hi = GRID;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.#v[mid]! <= v) lo = mid;
      else hi = mid;
    }
    const v0 = this.#v[lo]!;
    const v1 = this.#v[hi]!;
    return (lo + (v1 > v0 ? (v - v0) / (v1 - v0) : 0)) / GRID;
  }
}

const curves = new Map<Chemistry, OcvCurve>();
/** The shared (immutable) curve for a chemistry. */
export function ocvCurve(chemistry: Chemistry): OcvCurve {
  let c = curves.get(chemistry);
  if (!c) curves.set(chemistry, (c = new OcvCurve(chemistry)));
  return c;
}
