// foxBMS 2 (Fraunhofer IISB, open-source BMS) on CAN: the rules that map the message set of its
// DBC (`foxbms.dbc`, shipped with foxBMS 2 in tools/dbc/; the user gives it with --dbc) onto a
// BatterySnapshot. Messages used (ids from that DBC; cycle times from its GenMsgCycleTime):
//   0x233 f_PackValuesP0        pack voltage, current (100 ms)
//   0x234 f_PackValuesP1        insulation resistance, 7 kOhm steps (100 ms)
//   0x235 f_PackStateEstimation minimum/maximum SoC, SoH (1000 ms)
//   0x220 f_BmsState            BMS state (contactors closed in NORMAL/CHARGE/DISCHARGE), pack
//                               over-current and insulation errors (100 ms)
//   0x240 f_StringState         (multiplexed per string; string 0) MSL errors -> named faults
//   0x250 f_CellVoltages        multiplexed, 4 cells per mux value, mV, with invalid flags
//   0x260 f_CellTemperatures    multiplexed, 6 sensors per mux value, degC, with invalid flags
// foxBMS sends no cycle count, remaining or full capacity: those stay null.
// Current sign: foxBMS's BS_POSITIVE_DISCHARGE_CURRENT (battery_system_cfg.h) is true by
// default, which is voltrail's convention; a build with it false needs `positiveDischarge: false`.
import type { FaultName } from '../../snapshot.ts';
import type { SignalRule } from '../can-signal-map.ts';

/** f_StringState (string 0) and f_BmsState error signals -> named faults. */
const FAULTS: Readonly<Record<string, FaultName>> = {
  OvervoltageMslError: 'cellOverVoltage',
  UndervoltageMslError: 'cellUnderVoltage',
  DeepDischargeError: 'cellUnderVoltage',
  OvertemperatureChargeMslError: 'chargeOverTemperature',
  UndertemperatureChargeMslError: 'chargeUnderTemperature',
  OvertemperatureDischargeMslError: 'overTemperature',
  UndertemperatureDischargeMslErro: 'underTemperature', // the DBC truncates names to 32 characters
  CellOvercurrentChargeMslError: 'chargeOverCurrent',
  CellOvercurrentDischargeMslError: 'dischargeOverCurrent',
  PackOvercurrentChargeError: 'chargeOverCurrent',
  PackOvercurrentDischargeError: 'dischargeOverCurrent',
  InsulationError: 'insulationFault',
  PositiveContactorError: 'contactorFault',
  NegativeContactorError: 'contactorFault',
  OpenWireError: 'sensorFailure',
  CellVoltagePlausibilityError: 'sensorFailure',
  CellTemperaturePlausibilityError: 'sensorFailure',
  StringVoltagePlausibilityError: 'sensorFailure',
  StringCurrentMeasurementError: 'sensorFailure',
  StringVoltageMeasurementError: 'sensorFailure',
  PackVoltageMeasurementError: 'sensorFailure',
  SlaveHardwareError: 'sensorFailure',
  DaisyChainBaseCommunicationError: 'sensorFailure',
  DaisyChainBaseCrcError: 'sensorFailure',
  DaisyChainBaseVoltMeasOorError: 'sensorFailure',
  DaisyChainBaseTempMeasOorError: 'sensorFailure',
};

export interface FoxbmsProfileOptions {
  /** False for a foxBMS build with BS_POSITIVE_DISCHARGE_CURRENT false (charge positive). */
  positiveDischarge?: boolean;
}

export function foxbmsRules(o: FoxbmsProfileOptions = {}): readonly SignalRule[] {
  return [
    { message: 'f_PackValuesP0', signal: 'BatteryVoltage', target: { field: 'packVoltageV' } },
    { message: 'f_PackValuesP0', signal: 'Current', target: { field: 'currentA', scale: o.positiveDischarge === false ? -1 : 1 } },
    { message: 'f_PackValuesP1', signal: 'InsulationResistance', target: { field: 'insulationOhm', scale: 1000 } },
    // The pack's lowest string SoC: what a user can rely on.
    { message: 'f_PackStateEstimation', signal: 'MinimumSoc', target: { field: 'socPct' } },
    { message: 'f_PackStateEstimation', signal: 'Soh', target: { field: 'sohPct' } },
    { message: 'f_BmsState', signal: 'BmsState', target: { field: 'contactorClosed', closedWhen: ['NORMAL', 'CHARGE', 'DISCHARGE'] } },
    // foxbms.dbc's value table: 0 = "Invalid", 1 = "Valid" (despite the signal's name).
    {
      message: 'f_CellVoltages',
      signal: /CellVoltage_(\d{3})_invalidFlag/,
      target: (m) => ({ field: 'fault', name: 'sensorFailure', activeWhen: ['Invalid'], of: 'cellVoltagesMv', index: Number(m[1]) }),
    },
    { message: 'f_CellVoltages', signal: /CellVoltage_(\d{3})/, target: (m) => ({ field: 'cellVoltagesMv', index: Number(m[1]) }) },
    {
      message: 'f_CellTemperatures',
      signal: /CellTemperature_(\d{3})_invalidFlag/,
      target: (m) => ({ field: 'fault', name: 'sensorFailure', activeWhen: ['Invalid'], of: 'temperaturesC', index: Number(m[1]) }),
    },
    { message: 'f_CellTemperatures', signal: /CellTemperature_(\d{3})/, target: (m) => ({ field: 'temperaturesC', index: Number(m[1]) }) },
    ...Object.entries(FAULTS).map(([signal, name]): SignalRule => ({ signal, target: { field: 'fault', name } })),
  ];
}

export const FOXBMS_RULES = foxbmsRules();
