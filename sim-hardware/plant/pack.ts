// A pack of N series cells, each an equivalent-circuit model (OCV(SoC) + one-state hysteresis,
// series resistance R0, one RC pair), a lumped thermal model and an ageing model, all cells stepped
// together in typed arrays so that 200 cells cost little per step.
//
// Model (per cell, current i positive = discharge, the project's convention):
//   v   = OCV(soc) + M*h - i*R0(T) - v1
//   dv1/dt  = -v1/(R1 C1) + i/C1                       RC pair
//   dsoc/dt = -(i + i_leak) / (3600 Q)                 coulomb balance
//   dh/dt   = -|i| gamma/(3600 Q) * (h + sign(i))      one-state hysteresis (Plett, J. Power
//             Sources 134 (2004) 262-276, "Extended Kalman filtering ... Part 2", section 3.3)
//   C dT/dt = P - (T - Tamb)/Rth,  P = i^2 R0 + v1^2/R1 + leak heat + external heat
//   R(T)    = R(Tref) exp(Ea/R (1/T - 1/Tref))         Arrhenius temperature dependence
//   ageing: each Ah of throughput adds |i| dt / (2 Q_new 3600) equivalent full cycles, and each
//   second adds calendar time, both weighted by exp(Ea/R (1/Tref - 1/T)); capacity and resistance
//   move linearly with those weighted counts.
// Each ODE above is linear with constant coefficients over a step at constant current, so every
// step uses its exact exponential solution (not forward Euler): results do not depend on the step
// size, only on where the current changes.
import { Rng } from '../rng.ts';
import { DEFAULT_CELL, checkCellParams, type AgeingParams, type CellParams } from './cell-params.ts';
import { ocvCurve, type Chemistry, type OcvCurve } from './ocv.ts';

const KELVIN = 273.15;
const SECONDS_PER_MONTH = 30 * 86_400;

export interface SpreadOptions {
  /** One-sigma relative spread of new-cell capacity, percent. */
  capacityPct: number;
  /** One-sigma relative spread of new-cell resistance (R0 and R1 together), percent. */
  resistancePct: number;
  /** One-sigma relative spread of self-discharge rate, percent. */
  selfDischargePct: number;
  /** One-sigma spread of the initial SoC, percentage points. */
  socPct: number;
}

export interface PackOptions {
  /** Number of series cells, 1..200 (more is allowed up to 1000, but 200 is the design size). */
  cells: number;
  chemistry?: Chemistry;
  /** Overrides of the chemistry's default cell parameters. */
  cell?: Partial<Omit<CellParams, 'ageing' | 'chemistry'>> & { ageing?: Partial<AgeingParams> };
  /** Seed of the cell-to-cell spread (the same seed always builds the same pack). */
  seed?: number;
  /** Initial SoC, 0..1 (default 0.5). */
  soc?: number;
  /** Ambient temperature, degC (default 25). */
  ambientC?: number;
  /** Initial cell temperature, degC (default: ambient). */
  temperatureC?: number;
  spread?: Partial<SpreadOptions>;
  /** Age of the pack at start, in equivalent full cycles at the ageing reference temperature. */
  equivalentCycles?: number;
  /** Resistance of each cell's passive-balancing bleed resistor, ohms (default 33). */
  balanceOhm?: number;
}

export const DEFAULT_SPREAD: SpreadOptions = { capacityPct: 1, resistancePct: 3, selfDischargePct: 20, socPct: 0 };

/** Ground truth of the plant at one instant, for tests and the status line. Arrays are copies. */
export interface PackTruth {
  timeS: number;
  packVoltageV: number;
  currentA: number;
  cellVoltageV: Float64Array;
  cellOcvV: Float64Array;
  cellSoc: Float64Array;
  cellTemperatureC: Float64Array;
  cellHeatW: Float64Array;
  capacityAh: Float64Array;
  capacityNewAh: Float64Array;
  r0Ohm: Float64Array;
  r0NewOhm: Float64Array;
  balancing: Uint8Array;
  ahDischarged: number;
  ahCharged: number;
  whDischarged: number;
  whCharged: number;
  /** Throughput-based equivalent full cycles since construction (plus the initial age). */
  equivalentCycles: number;
  ambientC: number;
}

/** The pack's Thevenin equivalent over the next step of length dt: v_pack(i) = e - i * r. */
export interface Thevenin {
  e: number;
  r: number;
}

export class Pack {
  readonly n: number;
  readonly params: CellParams;
  readonly curve: OcvCurve;
  readonly nominalAh: number;
  ambientC: number;
  /** Bleed resistor of passive balancing, ohms. */
  readonly balanceOhm: number;

  // State, one entry per cell.
  readonly soc: Float64Array;
  readonly v1: Float64Array;
  readonly h: Float64Array;
  readonly tempC: Float64Array;
  readonly vCell: Float64Array;
  readonly heatW: Float64Array;
  readonly ageEfc: Float64Array;
  /** Calendar age in days at the reference temperature (Arrhenius-weighted). */
  readonly ageDays: Float64Array;
  // Per-cell parameters (spread), and what ageing makes of them.
  readonly capNew: Float64Array;
  readonly cap: Float64Array;
  readonly r0New: Float64Array;
  readonly r1New: Float64Array;
  readonly selfDischargeA: Float64Array;
  // Inputs from the BMS and from faults.
  readonly balancing: Uint8Array;
  /** Internal short resistance per cell, ohms (Infinity = none). */
  readonly leakOhm: Float64Array;
  /** External heat into each cell, W (a heater, a neighbouring fire: a fault input). */
  readonly extraHeatW: Float64Array;
  /** Insulation resistance between the HV conductors and the chassis, ohms: what an insulation
   * monitor measures. Healthy packs are in the megaohms; the `insulationFault` fault lowers it. */
  insulationOhm = 5e6;

  timeS = 0;
  currentA = 0;
  ahDischarged = 0;
  ahCharged = 0;
  whDischarged = 0;
  whCharged = 0;
  readonly #initialEfc: number;
  #packV = 0;

  constructor(opts: PackOptions) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('pack options: expected an object');
    const n = opts.cells;
    if (!Number.isInteger(n)) throw new TypeError(`cells: expected a whole number, got ${String(n)}`);
    if (n < 1 || n > 1000) throw new RangeError(`cells: must be 1..1000, got ${n}`);
    const chemistry = opts.chemistry ?? 'nmc';
    const base = DEFAULT_CELL[chemistry];
    if (!base) throw new RangeError(`chemistry: expected 'nmc' or 'lfp', got '${String(chemistry)}'`);
    this.params = checkCellParams({ ...base, ...opts.cell, chemistry, ageing: { ...base.ageing, ...opts.cell?.ageing } });
    this.n = n;
    this.curve = ocvCurve(chemistry);
    this.nominalAh = this.params.capacityAh;
    this.ambientC = opts.ambientC ?? 25;
    this.balanceOhm = opts.balanceOhm ?? 33;
    if (!(this.balanceOhm > 0)) throw new RangeError(`balanceOhm: must be positive, got ${this.balanceOhm}`);
    const soc0 = opts.soc ?? 0.5;
    if (!(soc0 >= 0 && soc0 <= 1)) throw new RangeError(`soc: must be 0..1, got ${soc0}`);
    const efc0 = opts.equivalentCycles ?? 0;
    if (!(efc0 >= 0)) throw new RangeError(`equivalentCycles: must be zero or more, got ${efc0}`);
    this.#initialEfc = efc0;
    const spread = { ...DEFAULT_SPREAD, ...opts.spread };

    const f = () => new Float64Array(n);
    this.soc = f();
    this.v1 = f();
    this.h = f();
    this.tempC = f();
    this.vCell = f();
    this.heatW = f();
    this.ageEfc = f();
    this.ageDays = f();
    this.capNew = f();
    this.cap = f();
    this.r0New = f();
    this.r1New = f();
    this.selfDischargeA = f();
    this.balancing = new Uint8Array(n);
    this.leakOhm = f().fill(Infinity);
    this.extraHeatW = f();

    // Separate streams per property: changing one spread never reshuffles another.
    const rng = new Rng(opts.seed ?? 1);
    const rCap = rng.fork(1), rRes = rng.fork(2), rSd = rng.fork(3), rSoc = rng.fork(4);
    const p = this.params;
    const t0 = opts.temperatureC ?? this.ambientC;
    for (let i = 0; i < n; i++) {
      // Truncate at 3 sigma (and keep positive): manufacturing spread has no long tails after binning.
      const g = (r: Rng, pct: number) => Math.max(0.05, 1 + (Math.max(-3, Math.min(3, r.normal())) * pct) / 100);
      this.capNew[i] = p.capacityAh * g(rCap, spread.capacityPct);
      const rs = g(rRes, spread.resistancePct);
      this.r0New[i] = p.r0Ohm * rs;
      this.r1New[i] = p.r1Ohm * rs;
      this.selfDischargeA[i] = ((p.selfDischargePctPerMonth / 100) * this.capNew[i]! * 3600 * g(rSd, spread.selfDischargePct)) / SECONDS_PER_MONTH;
      this.soc[i] = Math.min(1, Math.max(0, soc0 + (rSoc.normal() * spread.socPct) / 100));
      this.tempC[i] = t0;
      this.ageEfc[i] = efc0;
      this.cap[i] = this.capNew[i]! * this.#capacityFactor(i);
      this.vCell[i] = this.curve.at(this.soc[i]!);
    }
    this.#packV = this.#sumV();
  }

  #capacityFactor(i: number): number {
    const a = this.params.ageing;
    return Math.max(0.05, 1 - a.fadePerEfc * this.ageEfc[i]! - a.calendarFadePerDay * this.ageDays[i]!);
  }
  #resistanceFactor(i: number): number {
    const a = this.params.ageing;
    return 1 + a.resistanceGrowthPerEfc * this.ageEfc[i]! + a.calendarGrowthPerDay * this.ageDays[i]!;
  }
  /** Multiplier of resistance at temperature tC relative to the reference temperature. */
  #tempFactor(tC: number): number {
    const p = this.params;
    return Math.exp(p.resistanceActivationK * (1 / (tC + KELVIN) - 1 / (p.ageing.refTempC + KELVIN)));
  }
  #sumV(): number {
    let s = 0;
    for (let i = 0; i < this.n; i++) s += this.vCell[i]!;
    return s;
  }

  /** R0 of cell i now: spread x ageing x temperature. */
  r0(i: number): number {
    return this.r0New[i]! * this.#resistanceFactor(i) * this.#tempFactor(this.tempC[i]!);
  }
  r1(i: number): number {
    return this.r1New[i]! * this.#resistanceFactor(i) * this.#tempFactor(this.tempC[i]!);
  }
  ocv(i: number): number {
    return this.curve.at(this.soc[i]!);
  }

  get packVoltageV(): number {
    return this.#packV;
  }
  get minCellV(): number {
    let m = Infinity;
    for (let i = 0; i < this.n; i++) if (this.vCell[i]! < m) m = this.vCell[i]!;
    return m;
  }
  get maxCellV(): number {
    let m = -Infinity;
    for (let i = 0; i < this.n; i++) if (this.vCell[i]! > m) m = this.vCell[i]!;
    return m;
  }
  get meanSoc(): number {
    let s = 0;
    for (let i = 0; i < this.n; i++) s += this.soc[i]!;
    return s / this.n;
  }
  get maxTempC(): number {
    let m = -Infinity;
    for (let i = 0; i < this.n; i++) if (this.tempC[i]! > m) m = this.tempC[i]!;
    return m;
  }
  /** Throughput-based equivalent full cycles: (Ah out + Ah in) / (2 x nominal) plus the initial age. */
  get equivalentCycles(): number {
    return this.#initialEfc + (this.ahDischarged + this.ahCharged) / (2 * this.nominalAh);
  }

  /**
   * The pack's terminal voltage over the next step as a linear function of the current,
   * v(i) = e - i*r, evaluated at the end of a step of dt seconds (RC pairs relax with the exact
   * exponential, SoC moves along the local OCV slope). Constant-power and constant-voltage
   * profiles solve this for i.
   */
  thevenin(dtS: number): Thevenin {
    let e = 0;
    let r = 0;
    const p = this.params;
    for (let i = 0; i < this.n; i++) {
      const r1 = this.r1(i);
      const x = Math.exp(-dtS / (r1 * p.c1F));
      const s = this.soc[i]!;
      const slope = (this.curve.at(s + 0.001) - this.curve.at(s - 0.001)) / 0.002;
      e += this.curve.at(s) + p.hysteresisV * this.h[i]! - this.v1[i]! * x;
      r += this.r0(i) + r1 * (1 - x) + (slope * dtS) / (3600 * this.cap[i]!);
    }
    return { e, r };
  }

  /** Advances the plant by dtS seconds with `currentA` flowing out of the pack terminals
   * (negative = charging) throughout the step. */
  step(dtS: number, currentA: number): void {
    if (!(dtS > 0) || !Number.isFinite(dtS)) throw new RangeError(`dt: must be a positive number of seconds, got ${dtS}`);
    if (!Number.isFinite(currentA)) throw new RangeError(`current: must be finite, got ${currentA}`);
    const p = this.params;
    const ag = p.ageing;
    const tauTh = p.thermalResistanceKPerW * p.heatCapacityJPerK;
    const eTh = Math.exp(-dtS / tauTh);
    const refK = ag.refTempC + KELVIN;
    const v0 = this.#packV;
    for (let i = 0; i < this.n; i++) {
      const tK = this.tempC[i]! + KELVIN;
      const tf = Math.exp(p.resistanceActivationK * (1 / tK - 1 / refK));
      const rf = this.#resistanceFactor(i);
      const r0 = this.r0New[i]! * rf * tf;
      const r1 = this.r1New[i]! * rf * tf;
      const tau = r1 * p.c1F;
      const cap = this.cap[i]!;
      const soc = this.soc[i]!;
      const ocv0 = this.curve.at(soc);
      const iBleed = this.balancing[i] ? this.vCell[i]! / this.balanceOhm : 0;
      const iShort = Number.isFinite(this.leakOhm[i]!) ? Math.max(0, ocv0) / this.leakOhm[i]! : 0;
      const iCell = currentA + iBleed;

      this.soc[i] = soc - ((iCell + this.selfDischargeA[i]! + iShort) * dtS) / (3600 * cap);

      // RC pair, exact: v1(t) = vInf + (v1(0) - vInf) e^(-t/tau). Its mean square over the step
      // (for the heat it dissipates) is integrated exactly too.
      const x = Math.exp(-dtS / tau);
      const vInf = iCell * r1;
      const b = this.v1[i]! - vInf;
      this.v1[i] = vInf + b * x;
      const meanV1Sq = vInf * vInf + ((2 * vInf * b * tau) / dtS) * (1 - x) + ((b * b * tau) / (2 * dtS)) * (1 - x * x);

      if (iCell !== 0 && p.hysteresisV > 0) {
        const xh = Math.exp((-Math.abs(iCell) * p.hysteresisGamma * dtS) / (3600 * cap));
        this.h[i] = xh * this.h[i]! + (1 - xh) * -Math.sign(iCell);
      }

      // Heat: ohmic + polarisation + internal short + external. The bleed resistor sits outside the cell.
      const heat = iCell * iCell * r0 + meanV1Sq / r1 + iShort * Math.max(0, ocv0) + this.extraHeatW[i]!;
      this.heatW[i] = heat;
      const tInf = this.ambientC + heat * p.thermalResistanceKPerW;
      this.tempC[i] = tInf + (this.tempC[i]! - tInf) * eTh;

      const arr = Math.exp(ag.activationK * (1 / refK - 1 / tK));
      this.ageEfc[i] = this.ageEfc[i]! + ((Math.abs(iCell) * dtS) / (7200 * this.capNew[i]!)) * arr;
      this.ageDays[i] = this.ageDays[i]! + (dtS / 86_400) * arr;
      this.cap[i] = this.capNew[i]! * this.#capacityFactor(i);

      this.vCell[i] = this.curve.at(this.soc[i]!) + p.hysteresisV * this.h[i]! - iCell * r0 - this.v1[i]!;
    }
    this.#packV = this.#sumV();
    const ah = (currentA * dtS) / 3600;
    const wh = (currentA * ((v0 + this.#packV) / 2) * dtS) / 3600;
    if (currentA > 0) {
      this.ahDischarged += ah;
      this.whDischarged += wh;
    } else {
      this.ahCharged -= ah;
      this.whCharged -= wh;
    }
    this.currentA = currentA;
    this.timeS += dtS;
  }

  truth(): PackTruth {
    const n = this.n;
    const ocv = new Float64Array(n);
    const r0 = new Float64Array(n);
    const r0New = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ocv[i] = this.ocv(i);
      r0[i] = this.r0(i);
      r0New[i] = this.r0New[i]! * this.#tempFactor(this.tempC[i]!);
    }
    return {
      timeS: this.timeS,
      packVoltageV: this.#packV,
      currentA: this.currentA,
      cellVoltageV: this.vCell.slice(),
      cellOcvV: ocv,
      cellSoc: this.soc.slice(),
      cellTemperatureC: this.tempC.slice(),
      cellHeatW: this.heatW.slice(),
      capacityAh: this.cap.slice(),
      capacityNewAh: this.capNew.slice(),
      r0Ohm: r0,
      r0NewOhm: r0New,
      balancing: this.balancing.slice(),
      ahDischarged: this.ahDischarged,
      ahCharged: this.ahCharged,
      whDischarged: this.whDischarged,
      whCharged: this.whCharged,
      equivalentCycles: this.equivalentCycles,
      ambientC: this.ambientC,
    };
  }
}
