// A complete simulated battery, assembled: plant, BMS, fault injector, simulation, and the
// device faces a user asked for on pseudo-terminals (JBD or Daly UART, Firmata). This is what
// `voltrail sim` runs and what tests and `--sim` modes can start in one call.
import { systemClock, type Clock } from '../hal/clock.ts';
import { Pack } from './plant/pack.ts';
import type { Chemistry } from './plant/ocv.ts';
import { parseProfile } from './plant/profile-spec.ts';
import { SimulatedBms } from './bms/simulated-bms.ts';
import { FaultInjector } from './faults.ts';
import { OffsetClock } from './offset-clock.ts';
import { Simulation } from './simulation.ts';
import { openPtyPair, type PtyPair } from './pty-pair.ts';
import { JbdResponder } from './uart/jbd-protocol.ts';
import { DalyResponder } from './uart/daly-protocol.ts';
import { openUartFace } from './uart/uart-face.ts';
import { FirmataBoard, openFirmataBoard } from './firmata-board.ts';

export type BmsKind = 'jbd' | 'daly' | 'foxbms' | 'voltrail';
/** The BMS kinds that speak UART (available now); the CAN ones need the CAN HAL. */
export const UART_BMS: readonly BmsKind[] = ['jbd', 'daly'];

export interface SimRigOptions {
  bms?: BmsKind;
  cells?: number;
  chemistry?: Chemistry;
  seed?: number;
  /** Initial SoC, 0..1. */
  soc?: number;
  ambientC?: number;
  /** Profile spec (plant/profile-spec.ts); default 'rest'. Repeats forever. */
  profile?: string;
  serialPty?: boolean;
  firmataPty?: boolean;
  /** Base clock (default systemClock); wrapped so clock-jump faults can move its wall time. */
  clock?: Clock;
  maxStepS?: number;
}

export interface SimRig {
  readonly pack: Pack;
  readonly bms: SimulatedBms;
  readonly faults: FaultInjector;
  readonly sim: Simulation;
  readonly clock: OffsetClock;
  readonly firmata: FirmataBoard | null;
  /** Host ends of the ptys, for voltrail or any other tool. */
  readonly serialPty: string | null;
  readonly firmataPty: string | null;
  close(): Promise<void>;
}

export async function startSimRig(o: SimRigOptions = {}): Promise<SimRig> {
  const kind = o.bms ?? 'jbd';
  if (!UART_BMS.includes(kind)) throw new RangeError(`bms: '${kind}' speaks CAN, which this simulator version cannot serve yet; use jbd or daly`);
  const seed = o.seed ?? 1;
  const pack = new Pack({ cells: o.cells ?? 16, chemistry: o.chemistry ?? 'nmc', seed, soc: o.soc ?? 0.8, ambientC: o.ambientC ?? 25 });
  const bms = new SimulatedBms(pack, { seed });
  const clock = new OffsetClock(o.clock ?? systemClock);
  const faults = new FaultInjector({ bms, clock, seed });
  const profile = parseProfile(o.profile ?? 'rest', pack, { repeat: Infinity });
  const sim = new Simulation({ pack, profile, maxStepS: o.maxStepS ?? 1 }).attach(bms).attach(faults);
  // Validate the face against the pack before opening anything.
  const responder = o.serialPty ? (kind === 'jbd' ? new JbdResponder(bms) : new DalyResponder(bms)) : null;
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    closers.length = 0;
  };
  try {
    let serialPty: string | null = null;
    let firmataPty: string | null = null;
    let firmata: FirmataBoard | null = null;
    if (responder) {
      const pty: PtyPair = await openPtyPair();
      closers.push(() => pty.close());
      const face = await openUartFace(pty.device, responder, bms, { faults });
      closers.push(() => face.close());
      serialPty = pty.host;
    }
    if (o.firmataPty) {
      const pty = await openPtyPair();
      closers.push(() => pty.close());
      firmata = new FirmataBoard(pack, { seed, faults, powered: () => bms.powered, thermistors: Math.min(6, bms.sensors.temperatureSensors) });
      sim.attach(firmata);
      const dev = await openFirmataBoard(pty.device, firmata);
      closers.push(() => dev.close());
      firmataPty = pty.host;
    }
    return { pack, bms, faults, sim, clock, firmata, serialPty, firmataPty, close };
  } catch (err) {
    await close();
    throw err;
  }
}
