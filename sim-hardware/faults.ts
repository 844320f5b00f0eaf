// Fault injection: faults scheduled at a simulated time or on a trigger (a predicate over the
// simulation), optionally for a duration after which they clear. Each fault acts where it would
// act on real hardware: on the plant (a cell's charge, heat, an internal short, the ambient), on
// the BMS's sensors (drift, offset, stuck, open wire), on the board (power loss, a welded
// contactor, a wall-clock jump), or on a protocol face (serial noise and disconnects; CAN loss,
// corruption and bus-off).
//
// CAN hooks: a CAN face (added with the CAN HAL) reads `injector.can` before each frame it sends:
// drop the frame with probability `frameLossProbability`, flip one random data bit with
// probability `corruptionProbability` (a corrupted frame that passed the CRC, i.e. what reaches
// the application), and send nothing while `busOff` is true (raising a bus-off error on the
// virtual bus). UART faces read `injector.serial` the same way. The rig gives the same state to
// every simulated node on its bus (BMS face, IVT-S, iso165), so bus-off silences them all.
import { Rng } from './rng.ts';
import type { SimulatedBms } from './bms/simulated-bms.ts';
import type { SimDevice, Simulation } from './simulation.ts';

export type Fault =
  /** Cell-voltage sensor drifting at vPerHour (a failing AFE reference). */
  | { kind: 'cellSensorDrift'; cell: number; vPerHour: number }
  | { kind: 'cellSensorOffset'; cell: number; offsetV: number }
  /** Cell-voltage channel stuck at its last reading. */
  | { kind: 'cellSensorStuck'; cell: number }
  /** Open sense wire above a cell. */
  | { kind: 'openWire'; cell: number }
  | { kind: 'tempSensorOffset'; sensor: number; offsetC: number }
  | { kind: 'tempSensorStuck'; sensor: number }
  | { kind: 'tempSensorOpen'; sensor: number }
  | { kind: 'currentSensorOffset'; offsetA: number }
  /** Moves a cell's charge by deltaSoc (the plant's over/under-voltage: a cell that drifted). */
  | { kind: 'cellCharge'; cell: number; deltaSoc: number }
  /** Heat into a cell, W (over-temperature through the plant). */
  | { kind: 'cellHeat'; cell: number; watts: number }
  /** Ambient temperature, degC (cold soak or hot day). */
  | { kind: 'ambient'; celsius: number }
  /** Internal short across a cell, ohms: its self-discharge jumps. */
  | { kind: 'internalShort'; cell: number; ohms: number }
  /** UART faces corrupt each byte they send with this probability. */
  | { kind: 'serialNoise'; byteErrorRate: number }
  /** UART faces stop answering (a cable pulled). */
  | { kind: 'serialDisconnect' }
  /** The board's wall clock jumps by ms (monotonic time does not). */
  | { kind: 'clockJump'; ms: number }
  /** The contactor's contacts weld: current keeps flowing when the BMS opens it, and its
   * auxiliary contact reads closed (the BMS's contactorFault). Clearing it frees the contacts. */
  | { kind: 'contactorWeld' }
  /** The BMS board loses its supply. */
  | { kind: 'powerLoss' }
  /** The pack's insulation to chassis drops to `ohms` (a wet connector, damaged cable sheath):
   * what the insulation monitor (iso165) reports. */
  | { kind: 'insulationFault'; ohms: number }
  | { kind: 'canFrameLoss'; probability: number }
  | { kind: 'canCorruption'; probability: number }
  | { kind: 'canBusOff' };

export interface ScheduledFault {
  fault: Fault;
  /** Simulated seconds at which it starts. */
  at?: number;
  /** Or: starts at the first step after which this returns true. */
  when?: (sim: Simulation) => boolean;
  /** Clears after this many seconds (default: stays). Plant faults that move state (cellCharge,
   * clockJump) happen once and have nothing to clear. */
  durationS?: number;
}

export interface SerialFaultState {
  byteErrorRate: number;
  disconnected: boolean;
}
export interface CanFaultState {
  frameLossProbability: number;
  corruptionProbability: number;
  busOff: boolean;
}

/** Something whose wall clock can jump (ManualClock, OffsetClock). */
export interface JumpableClock {
  jumpWall(ms: number): void;
}

interface Entry extends ScheduledFault {
  state: 'pending' | 'active' | 'cleared';
  since: number;
  undo?: () => void;
}

export class FaultInjector implements SimDevice {
  readonly bms: SimulatedBms | null;
  readonly clock: JumpableClock | null;
  readonly serial: SerialFaultState = { byteErrorRate: 0, disconnected: false };
  readonly can: CanFaultState = { frameLossProbability: 0, corruptionProbability: 0, busOff: false };
  /** For faces: the stream that decides which bytes or frames a fault hits (seeded). */
  readonly rng: Rng;
  /** Every activation and clearing, in order, for reports and tests. */
  readonly log: { timeS: number; fault: Fault; event: 'start' | 'clear' }[] = [];
  readonly #entries: Entry[] = [];

  constructor(o: { bms?: SimulatedBms; clock?: JumpableClock; seed?: number } = {}) {
    this.bms = o.bms ?? null;
    this.clock = o.clock ?? null;
    this.rng = new Rng(o.seed ?? 1).fork(200);
  }

  schedule(f: ScheduledFault): this {
    if (f.at === undefined && f.when === undefined) throw new TypeError(`fault ${f.fault.kind}: give 'at' (seconds) or 'when' (a trigger)`);
    if (f.at !== undefined && !(f.at >= 0)) throw new RangeError(`fault ${f.fault.kind}: 'at' must be >= 0, got ${f.at}`);
    // Check indexes now, so a mistake shows when the scenario is loaded, not hours into a run.
    if (this.bms) {
      const fault = f.fault as { kind: string; cell?: number; sensor?: number };
      if (fault.cell !== undefined) this.#cell(fault.kind, fault.cell, this.bms.pack.n);
      const sensors = this.bms.sensorFaults.tempOpen.length;
      if (fault.sensor !== undefined && !(Number.isInteger(fault.sensor) && fault.sensor >= 0 && fault.sensor < sensors)) {
        throw new RangeError(`fault ${fault.kind}: sensor index must be 0..${sensors - 1} (sensors 1..${sensors}), got ${fault.sensor} (sensor ${fault.sensor + 1})`);
      }
    }
    this.#entries.push({ ...f, state: 'pending', since: 0 });
    return this;
  }

  /** Applies a fault now (and returns a function that clears it). */
  inject(fault: Fault, sim: Simulation): () => void {
    const undo = this.#apply(fault, sim);
    this.log.push({ timeS: sim.timeS, fault, event: 'start' });
    return () => {
      undo();
      this.log.push({ timeS: sim.timeS, fault, event: 'clear' });
    };
  }

  afterStep(_dtS: number, sim: Simulation): void {
    for (const e of this.#entries) {
      if (e.state === 'pending' && ((e.at !== undefined && sim.timeS >= e.at - 1e-9) || (e.when !== undefined && e.when(sim)))) {
        e.state = 'active';
        e.since = sim.timeS;
        e.undo = this.inject(e.fault, sim);
      } else if (e.state === 'active' && e.durationS !== undefined && sim.timeS - e.since >= e.durationS - 1e-9) {
        e.state = 'cleared';
        e.undo?.();
      }
    }
  }

  #needBms(kind: string): SimulatedBms {
    if (!this.bms) throw new TypeError(`fault ${kind}: this injector was made without a BMS; pass {bms} to act on its sensors or power`);
    return this.bms;
  }

  #cell(kind: string, i: number, n: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`fault ${kind}: cell index must be 0..${n - 1} (cells 1..${n}), got ${i} (cell ${i + 1})`);
    return i;
  }

  #apply(f: Fault, sim: Simulation): () => void {
    const pack = sim.pack;
    const n = pack.n;
    const none = () => {};
    switch (f.kind) {
      case 'cellSensorDrift': {
        const sf = this.#needBms(f.kind).sensorFaults;
        const i = this.#cell(f.kind, f.cell, n);
        sf.cellDriftVPerS[i] = f.vPerHour / 3600;
        return () => {
          sf.cellDriftVPerS[i] = 0;
          sf.cellOffsetV[i] = 0;
        };
      }
      case 'cellSensorOffset': {
        const sf = this.#needBms(f.kind).sensorFaults;
        const i = this.#cell(f.kind, f.cell, n);
        sf.cellOffsetV[i] = sf.cellOffsetV[i]! + f.offsetV;
        return () => void (sf.cellOffsetV[i] = sf.cellOffsetV[i]! - f.offsetV);
      }
      case 'cellSensorStuck': {
        const bms = this.#needBms(f.kind);
        const i = this.#cell(f.kind, f.cell, n);
        bms.sensorFaults.cellStuckV[i] = bms.measure().cellVoltageV[i]!;
        return () => void (bms.sensorFaults.cellStuckV[i] = NaN);
      }
      case 'openWire': {
        const sf = this.#needBms(f.kind).sensorFaults;
        const i = this.#cell(f.kind, f.cell, n);
        sf.cellOpenWire[i] = 1;
        return () => void (sf.cellOpenWire[i] = 0);
      }
      case 'tempSensorOffset':
      case 'tempSensorStuck':
      case 'tempSensorOpen': {
        const bms = this.#needBms(f.kind);
        const sf = bms.sensorFaults;
        const j = f.sensor;
        if (!Number.isInteger(j) || j < 0 || j >= sf.tempOpen.length) throw new RangeError(`fault ${f.kind}: sensor index must be 0..${sf.tempOpen.length - 1}, got ${j}`);
        if (f.kind === 'tempSensorOffset') {
          sf.tempOffsetC[j] = sf.tempOffsetC[j]! + f.offsetC;
          return () => void (sf.tempOffsetC[j] = sf.tempOffsetC[j]! - f.offsetC);
        }
        if (f.kind === 'tempSensorStuck') {
          sf.tempStuckC[j] = bms.measure().temperatureC[j]!;
          return () => void (sf.tempStuckC[j] = NaN);
        }
        sf.tempOpen[j] = 1;
        return () => void (sf.tempOpen[j] = 0);
      }
      case 'currentSensorOffset': {
        const sf = this.#needBms(f.kind).sensorFaults;
        sf.currentOffsetA += f.offsetA;
        return () => void (sf.currentOffsetA -= f.offsetA);
      }
      case 'cellCharge': {
        const i = this.#cell(f.kind, f.cell, n);
        pack.soc[i] = pack.soc[i]! + f.deltaSoc;
        return none;
      }
      case 'cellHeat': {
        const i = this.#cell(f.kind, f.cell, n);
        pack.extraHeatW[i] = pack.extraHeatW[i]! + f.watts;
        return () => void (pack.extraHeatW[i] = pack.extraHeatW[i]! - f.watts);
      }
      case 'ambient': {
        const before = pack.ambientC;
        pack.ambientC = f.celsius;
        return () => void (pack.ambientC = before);
      }
      case 'internalShort': {
        const i = this.#cell(f.kind, f.cell, n);
        if (!(f.ohms > 0)) throw new RangeError(`fault internalShort: ohms must be positive, got ${f.ohms}`);
        pack.leakOhm[i] = f.ohms;
        return () => void (pack.leakOhm[i] = Infinity);
      }
      case 'serialNoise': {
        if (!(f.byteErrorRate >= 0 && f.byteErrorRate <= 1)) throw new RangeError(`fault serialNoise: byteErrorRate must be 0..1, got ${f.byteErrorRate}`);
        this.serial.byteErrorRate = f.byteErrorRate;
        return () => void (this.serial.byteErrorRate = 0);
      }
      case 'serialDisconnect':
        this.serial.disconnected = true;
        return () => void (this.serial.disconnected = false);
      case 'clockJump':
        if (!this.clock) throw new TypeError('fault clockJump: this injector was made without a clock; pass {clock} (a ManualClock or OffsetClock)');
        this.clock.jumpWall(f.ms);
        return none;
      case 'contactorWeld': {
        const bms = this.#needBms(f.kind);
        bms.contactorWelded = true;
        return () => void (bms.contactorWelded = false);
      }
      case 'powerLoss': {
        const bms = this.#needBms(f.kind);
        bms.setPowered(false);
        return () => bms.setPowered(true);
      }
      case 'insulationFault': {
        if (!(f.ohms > 0)) throw new RangeError(`fault insulationFault: ohms must be positive, got ${f.ohms}`);
        const before = pack.insulationOhm;
        pack.insulationOhm = f.ohms;
        return () => void (pack.insulationOhm = before);
      }
      case 'canFrameLoss':
        this.can.frameLossProbability = f.probability;
        return () => void (this.can.frameLossProbability = 0);
      case 'canCorruption':
        this.can.corruptionProbability = f.probability;
        return () => void (this.can.corruptionProbability = 0);
      case 'canBusOff':
        this.can.busOff = true;
        return () => void (this.can.busOff = false);
      default: {
        const k: never = f;
        throw new TypeError(`unknown fault kind '${(k as { kind: string }).kind}'`);
      }
    }
  }
}
