// NTC thermistor on an ADC pin: ADC counts -> divider resistance -> temperature. A table of
// models (after johnny-five's Thermometer controllers), each with its datasheet note:
// - `beta`: 1/T = 1/T0 + ln(R/R0)/B. The datasheet gives R0 at T0 (usually 10 kOhm at 25 degC)
//   and B for a range (e.g. B25/85 = 3950 K for a common epoxy NTC); good to about +-0.5 degC
//   within 0-85 degC, worse far outside the B range.
// - `steinhart-hart`: 1/T = A + B ln R + C (ln R)^3 (Steinhart & Hart, Deep-Sea Research 15,
//   1968), with A, B, C fitted to three points of the datasheet's R-T table; about +-0.1 degC
//   over -40..125 degC.
// Divider: a fixed resistor and the NTC across the ADC's reference (ratiometric, so the supply
// voltage cancels out). `ntcTo: 'ground'` (NTC low side, the usual: hotter reads lower) or
// `'vcc'` (NTC high side).

export type NtcModel =
  | { kind: 'beta'; r0Ohm: number; t0C?: number; beta: number }
  | { kind: 'steinhart-hart'; a: number; b: number; c: number };

export interface Divider {
  seriesOhm: number;
  ntcTo: 'ground' | 'vcc';
  /** Full-scale ADC count (1023 for a 10-bit AVR ADC). */
  adcMax: number;
}

export interface NtcConfig {
  model: NtcModel;
  divider: Divider;
}

/** A 10 kOhm, B 3950 K NTC to ground under a 10 kOhm resistor, on a 10-bit ADC. */
export const DEFAULT_NTC: NtcConfig = {
  model: { kind: 'beta', r0Ohm: 10_000, t0C: 25, beta: 3950 },
  divider: { seriesOhm: 10_000, ntcTo: 'ground', adcMax: 1023 },
};

const K = 273.15;

/** The NTC's resistance from ADC counts; RangeError at the rails (open or shorted sensor). */
export function ntcResistance(counts: number, d: Divider): number {
  if (!(counts > 0 && counts < d.adcMax)) throw new RangeError(`NTC counts ${counts}: at a rail (0 or ${d.adcMax}): the thermistor is open or shorted`);
  const ratio = counts / d.adcMax;
  return d.ntcTo === 'ground' ? (d.seriesOhm * ratio) / (1 - ratio) : (d.seriesOhm * (1 - ratio)) / ratio;
}

export function ntcCelsius(rOhm: number, m: NtcModel): number {
  if (!(rOhm > 0)) throw new RangeError(`NTC resistance ${rOhm} ohm: must be positive`);
  if (m.kind === 'beta') return 1 / (1 / ((m.t0C ?? 25) + K) + Math.log(rOhm / m.r0Ohm) / m.beta) - K;
  const l = Math.log(rOhm);
  return 1 / (m.a + m.b * l + m.c * l ** 3) - K;
}

export function ntcCountsToCelsius(counts: number, cfg: NtcConfig = DEFAULT_NTC): number {
  return ntcCelsius(ntcResistance(counts, cfg.divider), cfg.model);
}

/** Steinhart-Hart coefficients through three (degC, ohm) points of a datasheet table. */
export function steinhartHartFit(p: readonly [readonly [number, number], readonly [number, number], readonly [number, number]]): NtcModel {
  const [l1, l2, l3] = p.map(([, r]) => Math.log(r)) as [number, number, number];
  const [y1, y2, y3] = p.map(([c]) => 1 / (c + K)) as [number, number, number];
  const g2 = (y2 - y1) / (l2 - l1);
  const g3 = (y3 - y1) / (l3 - l1);
  const c = (g3 - g2) / (l3 - l2) / (l1 + l2 + l3);
  const b = g2 - c * (l1 * l1 + l1 * l2 + l2 * l2);
  const a = y1 - (b + l1 * l1 * c) * l1;
  return { kind: 'steinhart-hart', a, b, c };
}
