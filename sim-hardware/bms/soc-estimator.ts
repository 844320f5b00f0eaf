// State-of-charge and capacity estimation as a simple BMS does it: coulomb counting on the
// measured current, corrected from the OCV curve after a long enough rest (only where the curve
// is steep enough for the voltage to mean something: not on the LFP plateau), synchronised to
// 100 % at the end of a CV charge. Two OCV corrections far enough apart, with the charge counted
// between them, give a full-capacity estimate (and so SoH): Q = Ah counted / SoC difference.
import type { OcvCurve } from '../plant/ocv.ts';

export interface SocEstimatorOptions {
  curve: OcvCurve;
  nominalAh: number;
  /** Starting estimate, 0..1. */
  soc: number;
  /** Starting full-capacity estimate, Ah (default: nominal). */
  fullCapacityAh?: number;
  /** Below this current (A) the pack counts as resting. */
  restCurrentA?: number;
  /** Rest needed before an OCV correction, s (RC pairs settle in a few time constants). */
  restTimeS?: number;
  /** Minimum OCV slope, V per unit SoC, for a correction to be trusted (0.1 V = 1 mV per %). */
  minSlopeVPerSoc?: number;
  /** Minimum SoC span between two corrections for a capacity estimate. */
  minSpanSoc?: number;
  /** Full-charge sync: charging current below this (A) while the highest cell is at or above fullCellV. */
  fullChargeTaperA?: number;
  fullCellV?: number;
}

export class SocEstimator {
  soc: number;
  fullCapacityAh: number;
  readonly nominalAh: number;
  /** Number of OCV corrections and capacity updates made (for tests and the status line). */
  corrections = 0;
  capacityUpdates = 0;
  /** The last raw capacity estimate (before filtering), Ah; NaN until one was made. */
  lastCapacityEstimateAh = NaN;
  readonly #o: Required<Omit<SocEstimatorOptions, 'fullCapacityAh' | 'soc'>>;
  #restS = 0;
  #correctedThisRest = false;
  #anchor: { soc: number; ah: number } | null = null;

  constructor(o: SocEstimatorOptions) {
    this.soc = o.soc;
    this.nominalAh = o.nominalAh;
    this.fullCapacityAh = o.fullCapacityAh ?? o.nominalAh;
    this.#o = {
      curve: o.curve,
      nominalAh: o.nominalAh,
      restCurrentA: o.restCurrentA ?? 0.02 * o.nominalAh,
      restTimeS: o.restTimeS ?? 1200,
      minSlopeVPerSoc: o.minSlopeVPerSoc ?? 0.3,
      minSpanSoc: o.minSpanSoc ?? 0.4,
      fullChargeTaperA: o.fullChargeTaperA ?? 0.05 * o.nominalAh,
      fullCellV: o.fullCellV ?? o.curve.at(0.97),
    };
  }

  /** One BMS sample: measured current (A, + = discharge) over dtS, mean and max measured cell voltage. */
  update(currentA: number, dtS: number, meanCellV: number, maxCellV: number): void {
    const o = this.#o;
    const ah = (currentA * dtS) / 3600;
    this.soc = Math.min(1, Math.max(0, this.soc - ah / this.fullCapacityAh));
    if (this.#anchor) this.#anchor.ah += ah;

    if (currentA < 0 && -currentA < o.fullChargeTaperA && maxCellV >= o.fullCellV) {
      this.#calibrate(1);
      return;
    }
    if (Math.abs(currentA) < o.restCurrentA) {
      this.#restS += dtS;
    } else {
      this.#restS = 0;
      this.#correctedThisRest = false;
    }
    if (this.#restS >= o.restTimeS && !this.#correctedThisRest) {
      this.#correctedThisRest = true;
      const s = o.curve.socAt(meanCellV);
      const slope = (o.curve.at(Math.min(1, s + 0.02)) - o.curve.at(Math.max(0, s - 0.02))) / 0.04;
      if (slope >= o.minSlopeVPerSoc) this.#calibrate(s);
    }
  }

  #calibrate(s: number): void {
    const a = this.#anchor;
    if (a && Math.abs(a.soc - s) >= this.#o.minSpanSoc) {
      const q = a.ah / (a.soc - s);
      // Reject estimates no real cell produces (a wrong anchor, a sensor fault).
      if (q > 0.3 * this.nominalAh && q < 1.3 * this.nominalAh) {
        this.lastCapacityEstimateAh = q;
        this.fullCapacityAh = 0.5 * this.fullCapacityAh + 0.5 * q;
        this.capacityUpdates++;
      }
    }
    if (!a || Math.abs(a.soc - s) > 1e-6 || Math.abs(a.ah) > 1e-6) this.corrections++;
    this.soc = s;
    this.#anchor = { soc: s, ah: 0 };
  }
}
