// A simulated Isabellenhuette IVT-S shunt current sensor on CAN: the eight result messages of the
// vendor's DBC (IVT-S_12082020.dbc, read from the path it is given): current (mA), voltages
// U1..U3 (mV), shunt temperature (0.1 degC), power (W), charge (As) and energy (Wh), each a
// 6-byte frame: byte 0 the result's mux id (0 = I .. 7 = Wh, as the DBC's IVT_ID_Result_*
// ranges give), byte 1 a 4-bit message counter and four status bits (OCS, channel,
// measurement and system error), bytes 2..5 the signed 32-bit value, big-endian.
//
// Unlike a BMS face this device reads the plant's truth, because it is a sensor of the plant: a
// shunt in the pack's current path with its own voltage taps, not a report of the BMS. Its own
// errors are those of a shunt: 1 mA and 1 mV resolution and small noise (by default 5 mA and
// 2 mV, one sigma), far finer than a BMS's current sense. Wiring as simulated: U1 across the
// pack (battery side of the contactor), U2 the bus side of the contactor (0 while it is open),
// U3 not connected (0 V). The sign: a shunt reads positive in the direction of the arrow on its
// housing; by default it is mounted so that discharge reads positive (the project's
// convention); `reversed: true` mounts it the other way round. The counters (As, Wh) integrate
// the measured current and power from start-up. OCS (the over-current signal) is set while
// |I| exceeds `ocsThresholdA` (default: never).
//
// The DBC has no cycle times (the IVT-S is configured over its command message); the defaults
// here follow a cyclic configuration common in packs: I every 20 ms, U1..U3 and W every 60 ms,
// T, As and Wh every 100 ms; `cycleTimesMs` overrides them. Wire faults as every simulated node.
import type { CanBus } from '../../hal/can/bus.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { encodeMessage, type DbcDatabase } from '../../devices/dbc/index.ts';
import type { Pack } from '../plant/pack.ts';
import type { SimDevice, Simulation } from '../simulation.ts';
import type { CanFaultState } from '../faults.ts';
import { Rng } from '../rng.ts';
import { CanWire, CyclicSchedule, type CanFaceCounters } from './can-wire.ts';

export type IvtResult = 'I' | 'U1' | 'U2' | 'U3' | 'T' | 'W' | 'As' | 'Wh';
export const IVT_RESULTS: readonly IvtResult[] = ['I', 'U1', 'U2', 'U3', 'T', 'W', 'As', 'Wh'];
export const IVT_DEFAULT_CYCLE_MS: Readonly<Record<IvtResult, number>> = { I: 20, U1: 60, U2: 60, U3: 60, T: 100, W: 60, As: 100, Wh: 100 };

/** What the sensor measured (physical units) when it last sent a result: for tests. */
export interface IvtMeasurement {
  timeS: number;
  /** Plant truth at that moment: current A (positive = discharge) and pack voltage V. */
  truthCurrentA: number;
  truthPackV: number;
  /** The values sent, in the DBC's units (mA, mV, 0.1 degC as degC, W, As, Wh). */
  value: number;
}

export interface IvtOptions {
  pack: Pack;
  bus: CanBus;
  db: DbcDatabase;
  seed?: number;
  faults?: CanFaultState;
  currentNoiseA?: number;
  voltageNoiseV?: number;
  reversed?: boolean;
  ocsThresholdA?: number;
  cycleTimesMs?: Partial<Record<IvtResult, number>>;
}

/** The shunt's thermal model: heating of a ~100 uOhm shunt and busbar, to a few K/W, lagging. */
const SHUNT_OHM = 100e-6;
const SHUNT_K_PER_W = 5;
const SHUNT_TAU_S = 60;

export class IvtSSensor implements SimDevice {
  readonly counters: CanFaceCounters;
  readonly faults: CanFaultState;
  readonly lastSent = new Map<IvtResult, IvtMeasurement>();
  /** Integrated charge and energy, As and Wh, as the sensor counts them (sign as its current). */
  chargeAs = 0;
  energyWh = 0;
  shuntTempC: number;
  readonly #pack: Pack;
  readonly #db: DbcDatabase;
  readonly #wire: CanWire;
  readonly #schedule: CyclicSchedule;
  readonly #rng: Rng;
  readonly #o: Required<Pick<IvtOptions, 'currentNoiseA' | 'voltageNoiseV' | 'reversed' | 'ocsThresholdA'>>;
  readonly #counter = new Map<IvtResult, number>();

  constructor(o: IvtOptions) {
    this.#pack = o.pack;
    this.#db = o.db;
    for (const r of IVT_RESULTS) {
      if (!o.db.messageByName(`IVT_Msg_Result_${r}`)) throw new RangeError(`IVT-S sensor: DBC ${o.db.file ?? '(text)'} has no message IVT_Msg_Result_${r}; give the vendor's IVT-S DBC`);
    }
    this.#o = { currentNoiseA: o.currentNoiseA ?? 0.005, voltageNoiseV: o.voltageNoiseV ?? 0.002, reversed: o.reversed ?? false, ocsThresholdA: o.ocsThresholdA ?? Infinity };
    this.#wire = new CanWire(o.bus, { seed: o.seed, stream: 320, faults: o.faults });
    this.faults = this.#wire.faults;
    this.counters = this.#wire.counters;
    this.#rng = new Rng(o.seed ?? 1).fork(321);
    this.#schedule = new CyclicSchedule(IVT_RESULTS.map((r) => [r, o.cycleTimesMs?.[r] ?? IVT_DEFAULT_CYCLE_MS[r]] as const));
    this.shuntTempC = o.pack.ambientC;
  }

  afterStep(dtS: number, sim: Simulation): void {
    const pack = this.#pack;
    const sign = this.#o.reversed ? -1 : 1;
    const truthI = pack.currentA;
    // The counters integrate what the shunt sees over the whole step, as its ADC does continuously.
    const iMeas = this.#current(truthI);
    const u1 = this.#voltage(pack.packVoltageV);
    this.chargeAs += sign * truthI * dtS;
    this.energyWh += (sign * truthI * pack.packVoltageV * dtS) / 3600;
    const target = pack.ambientC + truthI * truthI * SHUNT_OHM * SHUNT_K_PER_W;
    this.shuntTempC += (target - this.shuntTempC) * (1 - Math.exp(-dtS / SHUNT_TAU_S));
    for (const name of this.#schedule.due(dtS)) {
      const r = name as IvtResult;
      let value = 0;
      switch (r) {
        case 'I':
          value = iMeas;
          break;
        case 'U1':
          value = u1;
          break;
        case 'U2':
          value = sim.contactorClosed ? this.#voltage(pack.packVoltageV) : 0;
          break;
        case 'U3':
          break;
        case 'T':
          value = Math.round(this.shuntTempC * 10) / 10;
          break;
        case 'W':
          value = Math.round((iMeas / 1000) * (u1 / 1000));
          break;
        case 'As':
          value = Math.round(this.chargeAs);
          break;
        case 'Wh':
          value = Math.round(this.energyWh);
          break;
      }
      this.lastSent.set(r, { timeS: sim.timeS, truthCurrentA: truthI, truthPackV: pack.packVoltageV, value });
      this.#wire.transmit(this.frame(r, value, Math.abs(truthI) > this.#o.ocsThresholdA));
    }
  }

  /** One result frame: `value` in the DBC's unit (mA, mV, degC, W, As, Wh). */
  frame(r: IvtResult, value: number, ocs = false): CanFrame {
    const count = this.#counter.get(r) ?? 0;
    this.#counter.set(r, (count + 1) & 0xf);
    const name = `IVT_Msg_Result_${r}`;
    return encodeMessage(this.#db, name, {
      [`IVT_ID_Result_${r}`]: IVT_RESULTS.indexOf(r),
      [`IVT_MsgCount_Result_${r}`]: count,
      [`IVT_Result_${r}_OCS`]: ocs ? 1 : 0,
      [`IVT_Result_${r}_Channel_Error`]: 0,
      [`IVT_Result_${r}_Measurement_Error`]: 0,
      [`IVT_Result_${r}_System_Error`]: 0,
      [`IVT_Result_${r}`]: Math.max(-2147483648, Math.min(2147483647, value)),
    });
  }

  /** Measured current, mA, in the sensor's sign. */
  #current(truthA: number): number {
    const sign = this.#o.reversed ? -1 : 1;
    return Math.round((sign * truthA + this.#rng.normal(0, this.#o.currentNoiseA)) * 1000);
  }

  /** Measured voltage, mV. */
  #voltage(truthV: number): number {
    return Math.round((truthV + this.#rng.normal(0, this.#o.voltageNoiseV)) * 1000);
  }
}
