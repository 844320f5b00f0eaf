// Bender iso165C insulation monitoring device (IMD) on CAN: the rules that map its DBC
// (`iso165_IMD.dbc`, Bender's CAN database for the iso165C; the user gives it with --imd-dbc)
// onto snapshot fields, for CanBmsDriver.
//   0x37 IMD_Info (1000 ms)  II_IMC_R_ISO insulation resistance, kOhm -> insulationOhm;
//                            II_IMC_STATUS_00_IsoFailure (below the error threshold) and
//                            05_IsoWarning (below the warning threshold) -> insulationFault;
//                            01_Ground (earth connection lost) and 02_System (device error)
//                            -> sensorFailure: the reading cannot be trusted.
import type { SignalRule } from '../bms/can-signal-map.ts';

export const ISO165_RULES: readonly SignalRule[] = [
  { message: 'IMD_Info', signal: 'II_IMC_R_ISO', target: { field: 'insulationOhm', scale: 1000 } },
  { message: 'IMD_Info', signal: /II_IMC_STATUS_0[05]_Iso(Failure|Warning)/, target: { field: 'fault', name: 'insulationFault' } },
  { message: 'IMD_Info', signal: /II_IMC_STATUS_0[12]_(Ground|System)/, target: { field: 'fault', name: 'sensorFailure' } },
];
