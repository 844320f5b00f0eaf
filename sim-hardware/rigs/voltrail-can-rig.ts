// A ready simulated battery on CAN: a pack of N series cells, the simulated BMS measuring it,
// and the BMS's voltrail CAN face sending the reference message set on a bus, all driven by one
// Simulation. What `voltrail run --sim` and the end-to-end tests stand on. Seeded: the same
// options give the same pack, the same noise and the same frames.
import type { CanBus } from '../../hal/can/bus.ts';
import type { DbcDatabase } from '../../devices/dbc/index.ts';
import { Pack } from '../plant/pack.ts';
import type { Chemistry } from '../plant/ocv.ts';
import { rest, sequence, type Profile } from '../plant/profiles.ts';
import { urbanCycle } from '../plant/drive-cycles.ts';
import { SimulatedBms } from '../bms/simulated-bms.ts';
import { Simulation } from '../simulation.ts';
import { VoltrailBmsCanFace } from '../can/voltrail-bms-can.ts';

export interface VoltrailCanRigOptions {
  bus: CanBus;
  /** The voltrail reference DBC (devices/bms/voltrail.dbc), parsed. */
  db: DbcDatabase;
  cells?: number;
  chemistry?: Chemistry;
  /** Cell capacity, Ah (default: the chemistry's). */
  capacityAh?: number;
  seed?: number;
  soc?: number;
  profile?: Profile;
  /** Longest plant step, simulated seconds (default 0.05: fine enough for 100 ms messages). */
  maxStepS?: number;
}

export interface VoltrailCanRig {
  pack: Pack;
  bms: SimulatedBms;
  face: VoltrailBmsCanFace;
  sim: Simulation;
}

/** Urban driving cycles with short rests: the default load of a simulated run. */
export function defaultDriveProfile(): Profile {
  return sequence([urbanCycle(), rest(20)], 1_000_000);
}

export function voltrailCanRig(o: VoltrailCanRigOptions): VoltrailCanRig {
  const seed = o.seed ?? 1;
  const pack = new Pack({
    cells: o.cells ?? 96,
    chemistry: o.chemistry ?? 'nmc',
    seed,
    soc: o.soc ?? 0.8,
    ...(o.capacityAh ? { cell: { capacityAh: o.capacityAh } } : {}),
  });
  const bms = new SimulatedBms(pack, { seed });
  const face = new VoltrailBmsCanFace({ bms, bus: o.bus, db: o.db, seed });
  const sim = new Simulation({ pack, profile: o.profile ?? defaultDriveProfile(), maxStepS: o.maxStepS ?? 0.05 });
  sim.attach(bms).attach(face);
  return { pack, bms, face, sim };
}
