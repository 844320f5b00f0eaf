// The body of a `lifecycle-summary` record (ledger/cddl/passport.cddl): the board's running
// lifecycle accounts (EU Battery Regulation 2023/1542 Annex VII part A and Annex XIII 1(c)-(d),
// named as the Battery Pass data model's PerformanceAndDurability attributes), each with its
// unit, when it last changed, and whether it was measured, reported by the BMS, or derived.
// Fixed-point integers only: a quantity is [mantissa, decimal exponent, unit, updated, provenance].
// The record is signed (typ TYP.event) like every lifecycle event; firmware-ts/passport/ writes
// it, ledger/passport/verify.ts reads it.
import type { CborValue } from '../cbor/value.ts';

export const SUMMARY_TYPE = 'lifecycle-summary';
export const SUMMARY_VERSION = 1;

export type Provenance = 'measured' | 'reported' | 'derived';
const PROVENANCE: readonly Provenance[] = ['measured', 'reported', 'derived'];

export interface Quantity {
  /** The value (a float here; stored as mantissa x 10^exponent). */
  value: number;
  /** UCUM-style unit: "1" (count), "A.h", "kW.h", "%", "h", "mOhm", "%/mo". */
  unit: string;
  /** Wall-clock ms of the last change. */
  updated: number;
  provenance: Provenance;
}

/**
 * The accounts, by Battery Pass attribute name. Counters (cycles, throughput, time at extremes,
 * event counts) only grow; a verifier refuses a later summary with a smaller one.
 */
export interface LifecycleSummary {
  version: number;
  quantities: Record<string, Quantity>;
  /** Records of this log before this summary that are neither telemetry nor summaries (its events). */
  events: number;
}

/** Counters that never decrease from one summary to the next in a log. */
export const MONOTONIC = [
  'numberOfFullCycles',
  'capacityThroughput',
  'energyThroughput',
  'capacityThroughputCharge',
  'capacityThroughputDischarge',
  'timeExtremeHighTemp',
  'timeExtremeLowTemp',
  'timeExtremeHighTempCharging',
  'timeExtremeLowTempCharging',
  'numberOfDeepDischargeEvents',
  'numberOfOverchargeEvents',
  'numberOfNegativeEvents',
  'operatingTime',
] as const;

/** Digits kept per unit: enough for 1 % of a cycle, 1 mAh, 1 Wh, 1 s, 0.01 %. */
const EXPONENT: Record<string, number> = { '1': -3, 'A.h': -3, 'kW.h': -3, '%': -2, h: -4, mOhm: -3, '%/mo': -3 };

function toFixed(value: number, unit: string, name: string): [number, number] {
  if (!Number.isFinite(value)) throw new RangeError(`${name}: ${value} is not a finite number`);
  const e = EXPONENT[unit] ?? -3;
  const m = Math.round(value / 10 ** e);
  if (!Number.isSafeInteger(m)) throw new RangeError(`${name}: ${value} ${unit} is out of range`);
  return [m, e];
}

export function encodeSummary(s: LifecycleSummary): Map<number, CborValue> {
  const q = new Map<CborValue, CborValue>();
  for (const [name, x] of Object.entries(s.quantities)) {
    const [m, e] = toFixed(x.value, x.unit, name);
    q.set(name, [m, e, x.unit, Math.round(x.updated), PROVENANCE.indexOf(x.provenance)]);
  }
  return new Map<number, CborValue>([
    [1, s.version],
    [2, q],
    [3, s.events],
  ]);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Decodes a summary body; throws TypeError naming the field. */
export function decodeSummary(body: CborValue, where: string): LifecycleSummary {
  if (!(body instanceof Map)) throw new TypeError(`${where}: the summary body is not a map`);
  for (const k of body.keys()) if (k !== 1 && k !== 2 && k !== 3) throw new TypeError(`${where}: unexpected field ${String(k)}`);
  const version = body.get(1);
  if (version !== SUMMARY_VERSION) throw new TypeError(`${where}: summary version ${String(version)} is not ${SUMMARY_VERSION}`);
  const events = body.get(3);
  if (!isInt(events) || events < 0) throw new TypeError(`${where}: field 3 (events) must be an unsigned integer`);
  const q = body.get(2);
  if (!(q instanceof Map)) throw new TypeError(`${where}: field 2 (quantities) must be a map`);
  const quantities: Record<string, Quantity> = {};
  for (const [name, v] of q) {
    if (typeof name !== 'string' || name.length > 64) throw new TypeError(`${where}: a quantity name is not text of up to 64 characters`);
    if (!Array.isArray(v) || v.length !== 5) throw new TypeError(`${where}: quantity '${name}' must be [mantissa, exponent, unit, updated, provenance]`);
    const [m, e, unit, updated, prov] = v as CborValue[];
    if (!isInt(m) || !isInt(e) || e < -12 || e > 12 || typeof unit !== 'string' || !isInt(updated) || updated < 0 || !isInt(prov) || PROVENANCE[prov] === undefined) {
      throw new TypeError(`${where}: quantity '${name}' has a field of the wrong type or range`);
    }
    quantities[name] = { value: Number((m * 10 ** e).toPrecision(15)), unit, updated, provenance: PROVENANCE[prov]! };
  }
  return { version, quantities, events };
}
