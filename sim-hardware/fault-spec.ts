// Faults from a short text, for the command line and scenario files:
//   <kind>[:<name>=<number>,...][@<seconds>][+<duration seconds>]
// e.g. "internalShort:cell=3,ohms=10@600", "powerLoss@60+30", "serialNoise:byteErrorRate=0.01@0".
// Cells and sensors are numbered from 1 here, as BMS protocols and pack labels number them;
// the injector counts from 0. Without @ the fault starts at once.
import type { Fault, ScheduledFault } from './faults.ts';

const PARAMS: Record<Fault['kind'], readonly string[]> = {
  cellSensorDrift: ['cell', 'vPerHour'],
  cellSensorOffset: ['cell', 'offsetV'],
  cellSensorStuck: ['cell'],
  openWire: ['cell'],
  tempSensorOffset: ['sensor', 'offsetC'],
  tempSensorStuck: ['sensor'],
  tempSensorOpen: ['sensor'],
  currentSensorOffset: ['offsetA'],
  cellCharge: ['cell', 'deltaSoc'],
  cellHeat: ['cell', 'watts'],
  ambient: ['celsius'],
  internalShort: ['cell', 'ohms'],
  serialNoise: ['byteErrorRate'],
  serialDisconnect: [],
  clockJump: ['ms'],
  contactorWeld: [],
  powerLoss: [],
  insulationFault: ['ohms'],
  canFrameLoss: ['probability'],
  canCorruption: ['probability'],
  canBusOff: [],
};

export const FAULT_KINDS = Object.keys(PARAMS) as Fault['kind'][];

const SPEC = /^([A-Za-z]+)(?::([^@+]*))?(?:@(\d+(?:\.\d+)?))?(?:\+(\d+(?:\.\d+)?))?$/;

export function parseFaultSpec(text: string): ScheduledFault {
  const m = SPEC.exec(text.trim());
  if (!m) throw new RangeError(`fault '${text}': write <kind>[:<name>=<number>,...][@<seconds>][+<duration>], e.g. internalShort:cell=3,ohms=10@600`);
  const [, kind, args, at, dur] = m;
  const names = PARAMS[kind as Fault['kind']];
  if (!names) throw new RangeError(`fault '${text}': unknown kind '${kind}'; known: ${FAULT_KINDS.join(', ')}`);
  const values: Record<string, number> = {};
  for (const part of (args ?? '').split(',').filter((p) => p.trim() !== '')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (!k || v === undefined || !names.includes(k)) throw new RangeError(`fault '${text}': '${part}' is not one of ${kind}'s parameters (${names.join(', ') || 'none'})`);
    const n = Number(v);
    if (!Number.isFinite(n)) throw new RangeError(`fault '${text}': ${k}=${v} is not a number`);
    values[k] = k === 'cell' || k === 'sensor' ? n - 1 : n;
  }
  for (const k of names) if (!(k in values)) throw new RangeError(`fault '${text}': ${kind} needs ${names.map((n) => `${n}=`).join(', ')}`);
  return {
    fault: { kind, ...values } as Fault,
    at: at === undefined ? 0 : Number(at),
    durationS: dur === undefined ? undefined : Number(dur),
  };
}
