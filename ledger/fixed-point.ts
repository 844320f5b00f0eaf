// Fixed-point conversion for signed structures (ledger/cddl/common.cddl): a measured value
// becomes an integer count of a unit (mV, mA, 0.1 degC, 0.01 %), rounded to the nearest unit
// with ties away from zero. The product is first cut to 15 significant digits, the precision
// a double holds for decimal input, so 3.6505 V is 3651 mV (not 3650 from 3650.4999999999995).
// Out of range is a RangeError naming the field: a signed value is never clamped.

const I32 = { min: -2147483648, max: 2147483647 };

export function toFixedPoint(value: number, factor: number, field: string, range: { min: number; max: number } = I32): number {
  if (typeof value !== 'number') throw new TypeError(`${field}: expected a number, got ${typeof value}`);
  if (!Number.isFinite(value)) throw new RangeError(`${field}: ${value} is not a finite number`);
  const x = Number((value * factor).toPrecision(15));
  const n = Math.sign(x) * Math.round(Math.abs(x)) + 0; // + 0 turns -0 into 0
  if (n < range.min || n > range.max) throw new RangeError(`${field}: ${value} is out of range (${range.min / factor} to ${range.max / factor})`);
  return n;
}

/** Volts to millivolts (int32). */
export const millivolts = (volts: number, field: string): number => toFixedPoint(volts, 1000, field);
/** Amperes to milliamperes (int32; > 0 discharging, the project-wide sign). */
export const milliamperes = (amps: number, field: string): number => toFixedPoint(amps, 1000, field);
/** Degrees Celsius to tenths of a degree (int16). */
export const deciCelsius = (celsius: number, field: string): number => toFixedPoint(celsius, 10, field, { min: -32768, max: 32767 });
/** Percent to hundredths of a percent (0 to 10000). */
export const centiPercent = (percent: number, field: string): number => toFixedPoint(percent, 100, field, { min: 0, max: 10000 });

/** The value a fixed-point integer stands for, for display (never signed again). */
export const fromFixedPoint = (n: number, factor: number): number => n / factor;
