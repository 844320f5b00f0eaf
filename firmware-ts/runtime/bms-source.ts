// Opens the BMS a configuration names (config.ts `bms`), as a driver the runtime reads
// snapshots from. CAN kinds open their bus through hal/can/spec.ts (listen-only on real
// buses); the generic kind reads the user's DBC and a mapping file (YAML or JSON: a list of
// devices/bms/can-signal-map.ts rules). Kinds whose driver is not in this build say so.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { Clock } from '../../hal/clock.ts';
import type { CanBus } from '../../hal/can/bus.ts';
import { openBus } from '../../hal/can/spec.ts';
import { CanError } from '../../hal/can/errors.ts';
import { loadDbc } from '../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../devices/bms/can-bms-driver.ts';
import type { SignalRule } from '../../devices/bms/can-signal-map.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../devices/bms/profiles/voltrail.ts';
import { UserError } from '../cli/errors.ts';
import type { BmsConfig } from './config.ts';
import type { BmsSource } from './runtime.ts';

export interface OpenedBms {
  driver: BmsSource;
  close(): Promise<void>;
}

async function readMap(path: string): Promise<SignalRule[]> {
  let rules: unknown;
  try {
    rules = parseYaml(await readFile(path, 'utf8'));
  } catch (err) {
    throw new UserError(`bms.map ${path}: ${(err as Error).message}`);
  }
  if (!Array.isArray(rules)) throw new UserError(`bms.map ${path}: expected a list of rules ({ signal, target }); see firmware-ts/CONFIG.md`);
  return rules as SignalRule[];
}

async function openCan(spec: string): Promise<CanBus> {
  try {
    return await openBus(spec, {});
  } catch (err) {
    if (err instanceof CanError) throw new UserError(`bms.bus ${spec}: ${err.message}`, 1, { cause: err });
    throw err;
  }
}

export async function openBms(cfg: BmsConfig, clock: Clock, staleMargin: number): Promise<OpenedBms> {
  switch (cfg.driver) {
    case 'voltrail-can':
    case 'dbc': {
      const db = await loadDbc(cfg.driver === 'dbc' ? cfg.dbc : VOLTRAIL_DBC_PATH);
      const rules = cfg.driver === 'dbc' ? await readMap(cfg.map) : VOLTRAIL_RULES;
      const bus = await openCan(cfg.bus);
      const driver = new CanBmsDriver({ source: cfg.driver === 'dbc' ? 'dbc' : 'voltrail', bus, db, rules, clock, staleMargin });
      return { driver, close: () => bus.close() };
    }
    default:
      throw new UserError(`bms.driver '${cfg.driver}': this build has no ${cfg.driver} driver yet; use voltrail-can or dbc (with your DBC and a map), see firmware-ts/CONFIG.md`, 2);
  }
}
