// Isabellenhuette IVT-S shunt current sensor on CAN: the rules that map its DBC
// (`IVT-S_12082020.dbc`, Isabellenhuette's CAN database for the IVT-S; the user gives it with
// --ivt-dbc) onto snapshot fields, for CanBmsDriver.
//   0x521 IVT_Msg_Result_I  IVT_Result_I, signed 32-bit mA, and its error bits (system,
//                           measurement, channel) -> sensorFailure
// The DBC gives no cycle time: the sensor's cyclic period is set in the sensor (IVT-S datasheet:
// 1-1000 ms; the CLI assumes 100 ms unless told). The current's sign depends on how the shunt
// is mounted: with its arrow pointing away from the battery's positive terminal (the discharge
// direction), positive is discharge, voltrail's convention; otherwise set positiveDischarge: false.
import type { SignalRule } from '../bms/can-signal-map.ts';

export const IVT_S_DEFAULT_PERIOD_MS = 100;

export function ivtSRules(o: { positiveDischarge?: boolean } = {}): readonly SignalRule[] {
  return [
    { message: 'IVT_Msg_Result_I', signal: 'IVT_Result_I', target: { field: 'currentA', scale: (o.positiveDischarge === false ? -1 : 1) / 1000 } },
    { message: 'IVT_Msg_Result_I', signal: /IVT_Result_I_(System|Measurement|Channel)_Error/, target: { field: 'fault', name: 'sensorFailure' } },
  ];
}
