// The CAN face of the simulated BMS: the voltrail reference message set
// (devices/bms/voltrail.dbc), encoded with the project's DBC codec and sent on a CanBus at each
// message's cycle time in simulated time, so it keeps its rates at any simulation speed. It
// reads only what the BMS reports (`measure()`), never the plant. Faults on the wire: frame
// loss, corruption (a flipped bit, so a receiver sees a wrong but well-formed frame, or a
// wrong length), and bus-off (silence until cleared), as the fault injector's `can` state says.
import type { CanBus } from '../../hal/can/bus.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { encodeMessage, type DbcDatabase, type SignalValue } from '../../devices/dbc/index.ts';
import type { BmsReadings } from '../bms/simulated-bms.ts';
import type { SimDevice } from '../simulation.ts';
import { CanWire, type CanFaceCounters } from './can-wire.ts';
import type { CanFaultState } from '../faults.ts';

export interface BmsReadingSource {
  measure(): BmsReadings;
  readonly powered: boolean;
}

export type { CanFaceCounters } from './can-wire.ts';

const FAULT_SIGNALS: Record<string, string> = {
  cellOverVoltage: 'CellOverVoltage',
  cellUnderVoltage: 'CellUnderVoltage',
  packOverVoltage: 'PackOverVoltage',
  packUnderVoltage: 'PackUnderVoltage',
  chargeOverCurrent: 'ChargeOverCurrent',
  dischargeOverCurrent: 'DischargeOverCurrent',
  shortCircuit: 'ShortCircuit',
  overTemperature: 'OverTemperature',
  chargeOverTemperature: 'OverTemperature',
  underTemperature: 'UnderTemperature',
  chargeUnderTemperature: 'UnderTemperature',
  sensorFailure: 'SensorFailure',
  contactorFault: 'ContactorFault',
};

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export class VoltrailBmsCanFace implements SimDevice {
  readonly counters: CanFaceCounters;
  /** Wire faults, usually the fault injector's `can` state: loss, corruption (a flipped bit or a
   * truncated frame) and bus-off. */
  readonly faults: CanFaultState;
  /** The readings each message was last encoded from: what a receiver should have decoded. */
  readonly lastSent = new Map<string, BmsReadings>();
  #bms: BmsReadingSource;
  #wire: CanWire;
  #db: DbcDatabase;
  /** Simulated seconds until each message is due. */
  #due = new Map<string, number>();
  #statusCounter = 0;
  #faultCounter = 0;

  constructor(opts: { bms: BmsReadingSource; bus: CanBus; db: DbcDatabase; seed?: number; faults?: CanFaultState }) {
    this.#wire = new CanWire(opts.bus, { seed: opts.seed, stream: 300, faults: opts.faults });
    this.faults = this.#wire.faults;
    this.counters = this.#wire.counters;
    this.#bms = opts.bms;
    this.#db = opts.db;
    for (const m of this.#db.messages) if (m.cycleTimeMs) this.#due.set(m.name, 0);
  }

  afterStep(dtS: number): void {
    if (!this.#bms.powered) return;
    let readings: BmsReadings | undefined;
    for (const [name, left] of this.#due) {
      const next = left - dtS;
      if (next > 1e-9) {
        this.#due.set(name, next);
        continue;
      }
      const period = this.#db.messageByName(name)!.cycleTimeMs! / 1000;
      // Catch up without a burst: a long step sends each message once, then resumes its rate.
      this.#due.set(name, next + period > 0 ? next + period : period);
      readings ??= this.#bms.measure();
      this.lastSent.set(name, readings);
      for (const frame of this.frames(name, readings)) this.#transmit(frame);
    }
  }

  /** The frames of one message for the given readings (several for multiplexed groups). */
  frames(name: string, r: BmsReadings): CanFrame[] {
    const enc = (values: Record<string, SignalValue>) => encodeMessage(this.#db, name, values);
    const cells = r.cellVoltageV.length;
    switch (name) {
      case 'VT_PackStatus':
        this.#statusCounter = (this.#statusCounter + 1) & 0xf;
        return [
          enc({
            PackVoltage: clamp(r.packVoltageV, 0, 655.35),
            PackCurrent: clamp(r.currentA, -3276.8, 3276.7),
            StateOfCharge: clamp(r.socPct, 0, 100),
            ContactorState: r.contactorClosed ? 'closed' : 'open',
            StatusCounter: this.#statusCounter,
            MinCellVoltage: clamp(Math.min(...r.cellVoltageV), 0, 65.535),
          }),
        ];
      case 'VT_PackCapacity':
        return [
          enc({
            RemainingCapacity: clamp(r.remainingAh, 0, 655.35),
            FullCapacity: clamp(r.fullCapacityAh, 0, 655.35),
            CycleCount: clamp(Math.round(r.cycles), 0, 65535),
            StateOfHealth: clamp(r.sohPct, 0, 127.5),
            CellCount: cells,
          }),
        ];
      case 'VT_Faults': {
        const values: Record<string, SignalValue> = {};
        for (const s of this.#db.messageByName(name)!.signals) values[s.name] = 0;
        let any = false;
        for (const [fault, on] of Object.entries(r.faults)) {
          const sig = FAULT_SIGNALS[fault];
          if (on && sig) {
            values[sig] = 1;
            any = true;
          }
        }
        if (any) this.#faultCounter = (this.#faultCounter + 1) & 0xff;
        values.FaultCounter = this.#faultCounter;
        return [enc(values)];
      }
      case 'VT_CellVoltages': {
        const out: CanFrame[] = [];
        for (let g = 0; g * 3 < Math.min(cells, 192); g++) {
          const v: Record<string, SignalValue> = { CellGroup: g };
          for (let k = 0; k < 3; k++) {
            const i = g * 3 + k;
            v[`Cell${String(i + 1).padStart(3, '0')}_Voltage`] = i < cells ? clamp(Math.round(r.cellVoltageV[i]! * 1000), 0, 65535) : 0;
          }
          out.push(enc(v));
        }
        return out;
      }
      case 'VT_Temperatures': {
        const out: CanFrame[] = [];
        const n = Math.min(r.temperatureC.length, 48);
        for (let g = 0; g * 4 < n; g++) {
          const v: Record<string, SignalValue> = { TempGroup: g, TempCount: n };
          for (let k = 0; k < 4; k++) {
            const i = g * 4 + k;
            v[`Temp${String(i + 1).padStart(2, '0')}`] = i < n ? clamp(Math.round(r.temperatureC[i]! * 10) / 10, -204.8, 204.7) : 0;
          }
          out.push(enc(v));
        }
        return out;
      }
      case 'VT_Balancing': {
        const out: CanFrame[] = [];
        for (let g = 0; g * 48 < Math.min(cells, 192); g++) {
          let bits = 0;
          for (let k = 0; k < 48; k++) if (r.balancing[g * 48 + k]) bits += 2 ** k;
          out.push(enc({ BalanceGroup: g, [`BalanceBits_${g}`]: bits }));
        }
        return out;
      }
      default:
        return [];
    }
  }

  #transmit(frame: CanFrame): void {
    this.#wire.transmit(frame);
  }
}
