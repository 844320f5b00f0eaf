// The part of the board's YAML configuration (firmware-ts/CONFIG.md, schema in
// firmware-ts/runtime/config.ts) that provisioning writes: the data folder and the BMS wiring
// (driver with its CAN bus or serial port). Every other setting keeps its default; an existing
// file is never overwritten.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/** The drivers as technicians name them, and the config's driver names. */
export const BMS_CHOICES = { voltrail: 'voltrail-can', foxbms: 'foxbms-can', dbc: 'dbc', jbd: 'jbd', daly: 'daly' } as const;
export type BmsChoice = keyof typeof BMS_CHOICES;

export interface BmsWiring {
  bms: BmsChoice;
  bus?: string;
  port?: string;
  dbc?: string;
  map?: string;
}

/** The `bms` section, or a RangeError that says which flag is missing. */
export function bmsSection(w: BmsWiring): Record<string, string> {
  const driver = BMS_CHOICES[w.bms];
  if (driver === undefined) throw new RangeError(`--bms ${String(w.bms)}: use one of ${Object.keys(BMS_CHOICES).join(', ')}`);
  if (w.bms === 'jbd' || w.bms === 'daly') {
    if (!w.port) throw new RangeError(`--bms ${w.bms} is a serial BMS: give --port (e.g. /dev/ttyUSB0)`);
    return { driver, port: w.port };
  }
  if (!w.bus) throw new RangeError(`--bms ${w.bms} is a CAN BMS: give --bus (e.g. socketcan:can0 or slcan:/dev/ttyACM0@500000)`);
  if (w.bms === 'dbc') {
    if (!w.dbc || !w.map) throw new RangeError('--bms dbc needs --dbc FILE (the BMS DBC) and --map FILE (signal mapping)');
    return { driver, bus: w.bus, dbc: w.dbc, map: w.map };
  }
  return { driver, bus: w.bus };
}

/** Writes the config unless the file exists; returns whether it was written. */
export async function writeBmsConfig(file: string, dataDir: string, wiring: BmsWiring): Promise<boolean> {
  const bms = bmsSection(wiring);
  if (existsSync(file)) return false;
  await mkdir(dirname(file), { recursive: true });
  const header = '# Written by voltrail provision: the data folder and the BMS wiring only; every other\n# setting keeps its default (see firmware-ts/CONFIG.md).\n';
  await writeFile(file, header + stringify({ dataDir, bms }), { flag: 'wx', mode: 0o644 });
  return true;
}
