// The voltrail reference BMS on CAN: its DBC (../voltrail.dbc, the message set the simulator's
// BMS speaks) and the rules that map its signals onto a BatterySnapshot. Units in the DBC are
// already canonical (V, A positive = discharge, %, mV, degC, Ah), so most scales are 1.
import { fileURLToPath } from 'node:url';
import type { SignalRule } from '../can-signal-map.ts';

export const VOLTRAIL_DBC_PATH = fileURLToPath(new URL('../voltrail.dbc', import.meta.url));

const FAULTS = {
  CellOverVoltage: 'cellOverVoltage',
  CellUnderVoltage: 'cellUnderVoltage',
  PackOverVoltage: 'packOverVoltage',
  PackUnderVoltage: 'packUnderVoltage',
  ChargeOverCurrent: 'chargeOverCurrent',
  DischargeOverCurrent: 'dischargeOverCurrent',
  ShortCircuit: 'shortCircuit',
  OverTemperature: 'overTemperature',
  UnderTemperature: 'underTemperature',
  SensorFailure: 'sensorFailure',
  ContactorFault: 'contactorFault',
} as const;

export const VOLTRAIL_RULES: readonly SignalRule[] = [
  { signal: 'PackVoltage', target: { field: 'packVoltageV' } },
  { signal: 'PackCurrent', target: { field: 'currentA' } },
  { signal: 'StateOfCharge', target: { field: 'socPct' } },
  { signal: 'StateOfHealth', target: { field: 'sohPct' } },
  { signal: 'RemainingCapacity', target: { field: 'remainingCapacityAh' } },
  { signal: 'FullCapacity', target: { field: 'fullCapacityAh' } },
  { signal: 'CycleCount', target: { field: 'cycleCount' } },
  { signal: 'CellCount', target: { field: 'count', of: 'cellVoltagesMv' } },
  { signal: 'TempCount', target: { field: 'count', of: 'temperaturesC' } },
  { signal: 'ContactorState', target: { field: 'contactorClosed', closedWhen: ['closed'] } },
  { signal: /Cell(\d{3})_Voltage/, target: (m) => ({ field: 'cellVoltagesMv', index: Number(m[1]) - 1 }) },
  { signal: /Temp(\d{2})/, target: (m) => ({ field: 'temperaturesC', index: Number(m[1]) - 1 }) },
  { signal: /BalanceBits_(\d)/, target: (m) => ({ field: 'balancing', firstCell: Number(m[1]) * 48, bits: 48 }) },
  ...Object.entries(FAULTS).map(([signal, name]): SignalRule => ({ signal, target: { field: 'fault', name } })),
];
