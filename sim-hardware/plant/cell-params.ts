// Parameters of one cell's equivalent-circuit, thermal and ageing model, with a default set per
// chemistry. The defaults describe a generic ~50 Ah EV prismatic cell; they are typical published
// magnitudes (order of 1 mOhm ohmic resistance, RC time constants of tens of seconds, ~1 kJ/K heat
// capacity), not one manufacturer's datasheet. Anything can be overridden per pack.
import type { Chemistry } from './ocv.ts';

export interface AgeingParams {
  /** Fractional capacity loss per equivalent full cycle at the reference temperature. */
  fadePerEfc: number;
  /** Fractional resistance growth per equivalent full cycle at the reference temperature. */
  resistanceGrowthPerEfc: number;
  /** Calendar ageing: fractional capacity loss and resistance growth per day of storage at the
   * reference temperature (linear in time: a simplification of the usual sqrt-of-time law that
   * keeps the rate easy to configure and check). */
  calendarFadePerDay: number;
  calendarGrowthPerDay: number;
  /** Activation energy over the gas constant (Ea/R, kelvin) of the Arrhenius factor that speeds
   * ageing up when the cell is hot: k(T) = exp(Ea/R * (1/Tref - 1/T)). */
  activationK: number;
  /** Reference temperature of the rates above, degC. */
  refTempC: number;
}

export interface CellParams {
  chemistry: Chemistry;
  /** Capacity of a new cell, Ah. */
  capacityAh: number;
  /** Ohmic series resistance at the reference temperature, ohms. */
  r0Ohm: number;
  /** Polarisation RC pair: resistance (ohms) and capacitance (farads); tau = R1 * C1. */
  r1Ohm: number;
  c1F: number;
  /** Ea/R (kelvin) of the resistance's temperature dependence: R(T) = R(Tref) exp(Ea/R (1/T - 1/Tref)). */
  resistanceActivationK: number;
  /** Maximum hysteresis voltage M of the one-state model (0 disables it). */
  hysteresisV: number;
  /** Rate constant gamma of the one-state hysteresis model (dimensionless, per unit SoC moved). */
  hysteresisGamma: number;
  /** Lumped heat capacity, J/K. */
  heatCapacityJPerK: number;
  /** Thermal resistance cell to ambient (1 / (h*A)), K/W. */
  thermalResistanceKPerW: number;
  /** Self-discharge of a typical cell, percent of capacity per 30 days. */
  selfDischargePctPerMonth: number;
  /** Voltage window the charger and the BMS respect. */
  vMin: number;
  vMax: number;
  ageing: AgeingParams;
}

export const DEFAULT_CELL: Record<Chemistry, CellParams> = {
  nmc: {
    chemistry: 'nmc',
    capacityAh: 50,
    r0Ohm: 0.0012,
    r1Ohm: 0.0008,
    c1F: 25_000, // tau = 20 s
    resistanceActivationK: 2500,
    hysteresisV: 0,
    hysteresisGamma: 50,
    heatCapacityJPerK: 900,
    thermalResistanceKPerW: 3,
    selfDischargePctPerMonth: 2,
    vMin: 3.0,
    vMax: 4.2,
    // ~20 % fade after 1000 EFC at 25 degC, resistance +40 %; ~1.8 % a year on the shelf: typical of NMC EV cells.
    ageing: { fadePerEfc: 0.0002, resistanceGrowthPerEfc: 0.0004, calendarFadePerDay: 0.00005, calendarGrowthPerDay: 0.0001, activationK: 3500, refTempC: 25 },
  },
  lfp: {
    chemistry: 'lfp',
    capacityAh: 50,
    r0Ohm: 0.001,
    r1Ohm: 0.0006,
    c1F: 50_000, // tau = 30 s
    resistanceActivationK: 3000,
    // LFP shows ~10-20 mV of hysteresis between charge and discharge OCV on the plateau.
    hysteresisV: 0.015,
    hysteresisGamma: 50,
    heatCapacityJPerK: 1000,
    thermalResistanceKPerW: 3,
    selfDischargePctPerMonth: 1.5,
    vMin: 2.5,
    vMax: 3.65,
    // ~20 % fade after 3000 EFC: LFP lasts longer.
    ageing: { fadePerEfc: 0.0000667, resistanceGrowthPerEfc: 0.0001, calendarFadePerDay: 0.00003, calendarGrowthPerDay: 0.00005, activationK: 3500, refTempC: 25 },
  },
};

/** Checks a parameter set and returns it; each failure names the field. */
export function checkCellParams(p: CellParams): CellParams {
  const positive: (keyof CellParams)[] = ['capacityAh', 'r0Ohm', 'r1Ohm', 'c1F', 'heatCapacityJPerK', 'thermalResistanceKPerW'];
  for (const k of positive) {
    const v = p[k];
    if (typeof v !== 'number') throw new TypeError(`cell.${k}: expected a number, got ${typeof v}`);
    if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`cell.${k}: must be a positive finite number, got ${v}`);
  }
  const nonNeg: (keyof CellParams)[] = ['resistanceActivationK', 'hysteresisV', 'hysteresisGamma', 'selfDischargePctPerMonth'];
  for (const k of nonNeg) {
    const v = p[k];
    if (typeof v !== 'number') throw new TypeError(`cell.${k}: expected a number, got ${typeof v}`);
    if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`cell.${k}: must be zero or more, got ${v}`);
  }
  if (!(p.vMax > p.vMin)) throw new RangeError(`cell.vMax (${p.vMax}) must be above cell.vMin (${p.vMin})`);
  for (const k of ['fadePerEfc', 'resistanceGrowthPerEfc', 'calendarFadePerDay', 'calendarGrowthPerDay', 'activationK'] as const) {
    if (!(p.ageing[k] >= 0)) throw new RangeError(`cell.ageing.${k}: must be zero or more, got ${p.ageing[k]}`);
  }
  return p;
}
