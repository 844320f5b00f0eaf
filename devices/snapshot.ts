// BatterySnapshot: one normalised picture of a battery, whatever BMS or sensor produced it.
// Canonical units: volts, amperes (positive = discharge, i.e. current flowing out of the pack),
// millivolts per cell, degrees Celsius, percent, ampere-hours, ohms. Every driver produces this
// shape; the runtime, the ledger records and the passport accounting read nothing else.

/** Named fault flags a BMS or sensor can raise. Absent means "not raised or not reported". */
export const FAULT_NAMES = [
  'cellOverVoltage',
  'cellUnderVoltage',
  'packOverVoltage',
  'packUnderVoltage',
  'chargeOverCurrent',
  'dischargeOverCurrent',
  'shortCircuit',
  'overTemperature',
  'underTemperature',
  'chargeOverTemperature',
  'chargeUnderTemperature',
  'sensorFailure',
  'insulationFault',
  'communicationLost',
  'contactorFault',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];
export type Faults = Partial<Record<FaultName, boolean>>;

/** Where a value came from and how fresh it is. */
export interface ValueMeta {
  /** Wall-clock ms when the value was last received from its source. */
  t: number;
  /** True when the value is older than its source's period times the staleness margin. */
  stale: boolean;
  /** The driver or sensor that produced it, e.g. `foxbms`, `ivt-s`. */
  source: string;
  /** False when the BMS reports a placeholder rather than a measurement (e.g. SoH fixed at 100). */
  measured?: boolean;
}

export interface BatterySnapshot {
  /** Wall-clock ms when the snapshot was assembled. */
  t: number;
  packVoltageV: number | null;
  /** Pack current in A; positive = discharge. */
  currentA: number | null;
  socPct: number | null;
  /** State of health; null when the BMS does not report one. */
  sohPct: number | null;
  cellVoltagesMv: number[];
  temperaturesC: number[];
  remainingCapacityAh: number | null;
  fullCapacityAh: number | null;
  cycleCount: number | null;
  /** One flag per cell: true while the cell is being balanced. */
  balancing: boolean[];
  faults: Faults;
  contactorClosed: boolean | null;
  insulationOhm: number | null;
  /** Per-field freshness and provenance, keyed by the field name above. */
  meta: Partial<Record<SnapshotField, ValueMeta>>;
}

export type SnapshotField = Exclude<keyof BatterySnapshot, 't' | 'meta'>;

/** An empty snapshot at time t: every value unknown. */
export function emptySnapshot(t: number): BatterySnapshot {
  return {
    t,
    packVoltageV: null,
    currentA: null,
    socPct: null,
    sohPct: null,
    cellVoltagesMv: [],
    temperaturesC: [],
    remainingCapacityAh: null,
    fullCapacityAh: null,
    cycleCount: null,
    balancing: [],
    faults: {},
    contactorClosed: null,
    insulationOhm: null,
    meta: {},
  };
}
