// A complete simulated battery, assembled: plant, BMS, fault injector, simulation, and the
// device faces a user asked for on pseudo-terminals (JBD or Daly UART, Firmata). This is what
// `voltrail sim` runs and what tests and `--sim` modes can start in one call.
import { fileURLToPath } from 'node:url';
import { systemClock, type Clock } from '../hal/clock.ts';
import { Pack } from './plant/pack.ts';
import type { Chemistry } from './plant/ocv.ts';
import { parseProfile } from './plant/profile-spec.ts';
import { SimulatedBms } from './bms/simulated-bms.ts';
import { FaultInjector, type ScheduledFault } from './faults.ts';
import { OffsetClock } from './offset-clock.ts';
import { Simulation } from './simulation.ts';
import { openPtyPair, type PtyPair } from './pty-pair.ts';
import { JbdResponder } from './uart/jbd-protocol.ts';
import { DalyResponder } from './uart/daly-protocol.ts';
// The pty faces (UART, Firmata, slcan) load serialport: imported only when asked for, so a
// CAN-only rig (`voltrail run --sim`) does not carry it.
import type { FirmataBoard } from './firmata-board.ts';
import type { CanBus } from '../hal/can/bus.ts';
import { VirtualCanHub } from '../hal/can/virtual.ts';
import { loadDbc } from '../devices/dbc/index.ts';
import { VoltrailBmsCanFace } from './can/voltrail-bms-can.ts';
import { FoxbmsCanFace } from './can/foxbms-can.ts';
import { IvtSSensor } from './can/ivt-s-can.ts';
import { Iso165Imd } from './can/iso165-can.ts';

/** The voltrail reference BMS's message set: a data file of devices/ (read, not imported). */
export const VOLTRAIL_DBC_FILE = fileURLToPath(new URL('../devices/bms/voltrail.dbc', import.meta.url));

export type BmsKind = 'jbd' | 'daly' | 'foxbms' | 'voltrail';
/** The BMS kinds that speak UART, and those that speak CAN. */
export const UART_BMS: readonly BmsKind[] = ['jbd', 'daly'];
export const CAN_BMS: readonly BmsKind[] = ['voltrail', 'foxbms'];

export interface SimRigOptions {
  bms?: BmsKind;
  cells?: number;
  chemistry?: Chemistry;
  seed?: number;
  /** Initial SoC, 0..1. */
  soc?: number;
  ambientC?: number;
  /** Initial cell temperature, degC (default: the ambient). */
  temperatureC?: number;
  /** Profile spec (plant/profile-spec.ts); default 'rest'. Repeats forever. */
  profile?: string;
  serialPty?: boolean;
  firmataPty?: boolean;
  /** A CAN BMS's bus in this process (default: a new virtual hub's). */
  canBus?: CanBus;
  /** Serve the CAN bus through an emulated slcan USB adapter on a pty, for other processes. */
  slcanPty?: boolean;
  /** The foxBMS 2 DBC (foxbms.dbc) the foxBMS face encodes with; required for bms 'foxbms'. */
  dbcPath?: string;
  /** Add an Isabellenhuette IVT-S current sensor to the CAN bus, encoding with this DBC (the
   * vendor's IVT-S file). Any CAN BMS. */
  ivtDbcPath?: string;
  /** Add a Bender iso165C insulation monitor to the CAN bus, with this DBC (iso165_IMD.dbc). */
  imdDbcPath?: string;
  /** Faults to schedule (see fault-spec.ts for the text form). */
  faults?: readonly ScheduledFault[];
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
  /** The CAN face of a CAN BMS (what it sent, its counters), or null for a UART BMS. */
  readonly canFace: VoltrailBmsCanFace | FoxbmsCanFace | null;
  /** The CAN sensors, when asked for. */
  readonly ivt: IvtSSensor | null;
  readonly imd: Iso165Imd | null;
  /** Host ends of the ptys, for voltrail or any other tool. */
  readonly serialPty: string | null;
  readonly firmataPty: string | null;
  readonly slcanPty: string | null;
  close(): Promise<void>;
}

export async function startSimRig(o: SimRigOptions = {}): Promise<SimRig> {
  const kind = o.bms ?? 'jbd';
  if (!UART_BMS.includes(kind) && !CAN_BMS.includes(kind)) {
    throw new RangeError(`bms: '${kind}' is not simulated in this version; use ${[...UART_BMS, ...CAN_BMS].join(', ')}`);
  }
  if (o.serialPty && !UART_BMS.includes(kind)) throw new RangeError(`serialPty: the ${kind} BMS speaks CAN, not UART; ask for slcanPty`);
  if (o.slcanPty && !CAN_BMS.includes(kind)) throw new RangeError(`slcanPty: the ${kind} BMS speaks UART, not CAN; ask for serialPty`);
  if (kind === 'foxbms' && !o.dbcPath) throw new TypeError("dbcPath: the foxBMS face needs foxBMS 2's foxbms.dbc; give its path");
  if ((o.ivtDbcPath || o.imdDbcPath) && !CAN_BMS.includes(kind)) {
    throw new RangeError(`${o.ivtDbcPath ? 'ivtDbcPath' : 'imdDbcPath'}: the IVT-S and iso165 sit on a CAN bus; the ${kind} BMS speaks UART (use voltrail or foxbms)`);
  }
  const seed = o.seed ?? 1;
  const pack = new Pack({ cells: o.cells ?? 16, chemistry: o.chemistry ?? 'nmc', seed, soc: o.soc ?? 0.8, ambientC: o.ambientC ?? 25, temperatureC: o.temperatureC });
  const bms = new SimulatedBms(pack, { seed });
  const clock = new OffsetClock(o.clock ?? systemClock);
  const faults = new FaultInjector({ bms, clock, seed });
  for (const f of o.faults ?? []) faults.schedule(f);
  const profile = parseProfile(o.profile ?? 'rest', pack, { repeat: Infinity });
  const sim = new Simulation({ pack, profile, maxStepS: o.maxStepS ?? 1 }).attach(bms).attach(faults);
  // Two BMS samples in, so that faults scheduled at 0 are active and already in the readings
  // when the first host asks.
  sim.advance(bms.sampleIntervalS);
  sim.advance(bms.sampleIntervalS);
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
    let canFace: VoltrailBmsCanFace | FoxbmsCanFace | null = null;
    let ivt: IvtSSensor | null = null;
    let imd: Iso165Imd | null = null;
    let slcanPty: string | null = null;
    if (CAN_BMS.includes(kind)) {
      const hub = o.canBus ? undefined : new VirtualCanHub();
      const bus = o.canBus ?? hub!.open({ name: 'bms' });
      // Each simulated node has its own place on the hub (and so hears the others), or shares
      // the bus it was given. The injector's CAN state is the bus's: it reaches every node.
      const node = (name: string) => {
        if (!hub) return bus;
        const b = hub.open({ name });
        closers.push(() => b.close());
        return b;
      };
      if (o.imdDbcPath) {
        imd = new Iso165Imd({ pack, bus: node('imd'), db: await loadDbc(o.imdDbcPath), seed, faults: faults.can });
        sim.attach(imd);
        void imd.listen();
      }
      const imdRef = imd;
      if (kind === 'foxbms') {
        const trip = (name: string) => bms.protections.find((p) => p.name === name)!.limit.trip;
        canFace = new FoxbmsCanFace({
          bms,
          bus,
          db: await loadDbc(o.dbcPath!),
          seed,
          faults: faults.can,
          limits: {
            maxChargeCurrentA: trip('chargeOverCurrent'),
            maxDischargeCurrentA: trip('dischargeOverCurrent'),
            maxPackVoltageV: trip('packOverVoltage'),
            minPackVoltageV: trip('packUnderVoltage'),
          },
          // The BMS knows the insulation only as its IMD reports it on the bus.
          insulation: () => imdRef?.lastInfo ?? null,
        });
      } else {
        canFace = new VoltrailBmsCanFace({ bms, bus, db: await loadDbc(VOLTRAIL_DBC_FILE), seed, faults: faults.can });
      }
      sim.attach(canFace);
      if (o.ivtDbcPath) {
        ivt = new IvtSSensor({ pack, bus: node('ivt'), db: await loadDbc(o.ivtDbcPath), seed, faults: faults.can });
        sim.attach(ivt);
      }
      if (o.slcanPty) {
        if (!hub) throw new RangeError('slcanPty: serves the simulator\'s own bus; do not pass canBus with it');
        const pty = await openPtyPair();
        closers.push(() => pty.close());
        const hostBus = hub.open({ name: 'slcan' });
        const { SlcanAdapter } = await import('./slcan-adapter.ts');
        const adapter = await SlcanAdapter.open({ path: pty.device, bus: hostBus });
        closers.push(async () => {
          await adapter.close();
          await hostBus.close();
        });
        slcanPty = pty.host;
      }
      if (hub) closers.push(() => bus.close());
    }
    if (responder) {
      const pty: PtyPair = await openPtyPair();
      closers.push(() => pty.close());
      const { openUartFace } = await import('./uart/uart-face.ts');
      const face = await openUartFace(pty.device, responder, bms, { faults });
      closers.push(() => face.close());
      serialPty = pty.host;
    }
    if (o.firmataPty) {
      const pty = await openPtyPair();
      closers.push(() => pty.close());
      const { FirmataBoard, openFirmataBoard } = await import('./firmata-board.ts');
      firmata = new FirmataBoard(pack, { seed, faults, powered: () => bms.powered, thermistors: Math.min(6, bms.sensors.temperatureSensors) });
      sim.attach(firmata);
      const dev = await openFirmataBoard(pty.device, firmata);
      closers.push(() => dev.close());
      firmataPty = pty.host;
    }
    return { pack, bms, faults, sim, clock, firmata, canFace, ivt, imd, serialPty, firmataPty, slcanPty, close };
  } catch (err) {
    await close();
    throw err;
  }
}
