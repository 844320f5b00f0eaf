// The foxBMS 2 CAN face of the simulated BMS: the messages a foxBMS 2 master sends ("fv:tx" in
// foxBMS 2's tools/dbc/foxbms.dbc, which this face is given as a path and reads), encoded with the
// project's DBC codec at each message's GenMsgCycleTime in simulated time. Like the voltrail face
// it reads only what the BMS reports (`measure()`), never the plant, and applies the fault
// injector's wire faults (loss, corruption, bus-off).
//
// Conventions of the DBC that shape the values:
// - Current and power: foxBMS 2's default battery-system configuration counts discharge current
//   as positive (BS_POSITIVE_DISCHARGE_CURRENT), the project's convention too, so no sign flip.
// - Units are those each signal declares: pack values in V / A / kW, cell voltages in mV
//   (13-bit, 1 mV), f_CellTemperatures and the pack min/max temperatures in whole degC, the
//   string min/max temperatures in 0.5 degC, SoC/SoE/SoH in % (0.1, 0.2 or 0.5 steps),
//   energy in kWh or Wh, insulation resistance in kOhm.
// - The cell/module/string index signals of the min/max messages are declared [0|1] in the DBC;
//   the simulated pack has one string and no modules, so they are sent as 0.
// - The multiplexed f_CellVoltages (4 cells per frame, mux 0..53) and f_CellTemperatures
//   (6 sensors per frame, mux 0..29) are sent as one burst of the groups the pack fills, once per
//   the message's cycle time (5.4 s and 4.5 s in the DBC: one complete sweep). A reading of 0 V
//   (an open sense wire) or a thermistor at the end of its range is marked invalid; places past
//   the last cell or sensor are 0 and invalid. The DBC's value table of the `_invalidFlag`
//   signals names raw 0 "Invalid" and raw 1 "Valid" (whatever the signal name suggests); the face
//   writes those names, so the raw bit is as the value table says.
// - f_SystemState: SYS_FSM_STATE_RUNNING while powered. SoE is reported equal to SoC and the
//   energy left as remaining Ah times pack voltage (the simulated BMS estimates no energy).
import type { CanBus } from '../../hal/can/bus.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { encodeMessage, type DbcDatabase, type SignalValue } from '../../devices/dbc/index.ts';
import type { BmsReadings } from '../bms/simulated-bms.ts';
import type { SimDevice } from '../simulation.ts';
import type { CanFaultState } from '../faults.ts';
import { CanWire, CyclicSchedule, type CanFaceCounters } from './can-wire.ts';
import { frameSignals } from './frame-signals.ts';
import type { BmsReadingSource } from './voltrail-bms-can.ts';

/** The messages a foxBMS 2 master transmits cyclically, by their names in foxbms.dbc. */
export const FOXBMS_TX_MESSAGES = [
  'f_BmsState',
  'f_BmsStateDetails',
  'f_CellVoltages',
  'f_CellTemperatures',
  'f_PackLimits',
  'f_PackMinMaxCellTemperature',
  'f_PackMinMaxCellVoltage',
  'f_PackStateEstimation',
  'f_PackValuesP0',
  'f_PackValuesP1',
  'f_StringMinMaxCellTemperature',
  'f_StringMinMaxCellVoltage',
  'f_StringState',
  'f_StringStateEstimation',
  'f_StringValuesP0',
  'f_StringValuesP1',
  'f_SystemState',
] as const;

/** Electrical limits the BMS is configured with (f_PackLimits). */
export interface FoxbmsLimits {
  maxChargeCurrentA: number;
  maxDischargeCurrentA: number;
  maxPackVoltageV: number;
  minPackVoltageV: number;
}

/** What the BMS last heard from its insulation monitor, if it has one. */
export interface InsulationReport {
  resistanceKohm: number;
  /** Below the IMD's error threshold. */
  failure: boolean;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const pad3 = (i: number) => String(i).padStart(3, '0');
const bit = (b: boolean | undefined) => (b ? 1 : 0);
/** A cell channel reading 0 V is an open sense wire (see SimulatedBms), not a cell voltage. */
const cellInvalid = (v: number) => !(v > 0);
/** A thermistor at the end of its range is a broken sensor (as the BMS's sensorFailure rule). */
const tempInvalid = (t: number) => t <= -39.5 || t >= 125;

export class FoxbmsCanFace implements SimDevice {
  readonly counters: CanFaceCounters;
  readonly faults: CanFaultState;
  /** The readings each message was last encoded from: what a receiver should have decoded. */
  readonly lastSent = new Map<string, BmsReadings>();
  /** Energy the BMS counted from its own voltage and current readings, Wh (discharge positive). */
  energyCounterWh = 0;
  readonly #bms: BmsReadingSource;
  readonly #db: DbcDatabase;
  readonly #wire: CanWire;
  readonly #schedule: CyclicSchedule;
  readonly #limits: FoxbmsLimits;
  readonly #insulation: (() => InsulationReport | null) | null;

  constructor(opts: {
    bms: BmsReadingSource;
    bus: CanBus;
    db: DbcDatabase;
    limits: FoxbmsLimits;
    insulation?: () => InsulationReport | null;
    seed?: number;
    faults?: CanFaultState;
  }) {
    this.#bms = opts.bms;
    this.#db = opts.db;
    this.#limits = opts.limits;
    this.#insulation = opts.insulation ?? null;
    this.#wire = new CanWire(opts.bus, { seed: opts.seed, stream: 310, faults: opts.faults });
    this.faults = this.#wire.faults;
    this.counters = this.#wire.counters;
    const periods: [string, number][] = [];
    for (const name of FOXBMS_TX_MESSAGES) {
      const m = this.#db.messageByName(name);
      if (!m) throw new RangeError(`${this.#where()}: has no message ${name}; give foxBMS 2's foxbms.dbc`);
      if (m.cycleTimeMs) periods.push([name, m.cycleTimeMs]);
    }
    this.#schedule = new CyclicSchedule(periods);
  }

  afterStep(dtS: number): void {
    if (!this.#bms.powered) return;
    const due = this.#schedule.due(dtS);
    const r = this.#bms.measure();
    this.energyCounterWh += (r.packVoltageV * r.currentA * dtS) / 3600;
    for (const name of due) {
      this.lastSent.set(name, r);
      for (const frame of this.frames(name, r)) this.#wire.transmit(frame);
    }
  }

  /** The frames of one message for the given readings (several for the multiplexed cell data). */
  frames(name: string, r: BmsReadings): CanFrame[] {
    const msg = this.#db.messageByName(name);
    if (!msg) throw new RangeError(`${this.#where()}: has no message ${name}`);
    const enc = (values: Record<string, SignalValue>, mux?: number) => encodeMessage(this.#db, name, { ...frameSignals(msg, mux), ...values });
    const f = r.faults;
    const anyFault = Object.values(f).some(Boolean);
    const closed = r.contactorClosed;
    const cells = r.cellVoltageV;
    const validCells = cells.filter((v) => !cellInvalid(v));
    const validTemps = r.temperatureC.filter((t) => !tempInvalid(t));
    const minMv = validCells.length ? Math.min(...validCells) * 1000 : 0;
    const maxMv = validCells.length ? Math.max(...validCells) * 1000 : 0;
    const minT = validTemps.length ? Math.min(...validTemps) : 0;
    const maxT = validTemps.length ? Math.max(...validTemps) : 0;
    const energyKwh = (r.remainingAh * r.packVoltageV) / 1000;
    const powerKw = (r.packVoltageV * r.currentA) / 1000;
    const imd = this.#insulation?.() ?? null;
    switch (name) {
      case 'f_BmsState':
        return [
          enc({
            BmsState: anyFault ? 'ERROR' : closed ? 'NORMAL' : 'STANDBY',
            NumberOfConnectedStrings: closed ? 1 : 0,
            NumberOfDeactivatedStrings: closed ? 0 : 1,
            GeneralError: bit(anyFault),
            InsulationMonitoring: bit(imd !== null),
            InsulationError: bit(imd?.failure),
            InsulationResistance: imd ? clamp(Math.round(imd.resistanceKohm / 200) * 200, 0, 51000) : 0,
            PackOvercurrentChargeError: bit(f.chargeOverCurrent),
            PackOvercurrentDischargeError: bit(f.dischargeOverCurrent || f.shortCircuit),
            ChargingComplete: bit(r.socPct >= 99.5),
            BalancingAlgorithmState: 1,
            BmsChargingFlag: bit(r.currentA < 0),
          }),
        ];
      case 'f_BmsStateDetails':
        return [enc({})];
      case 'f_SystemState':
        return [enc({ State: 'SYS_FSM_STATE_RUNNING' })];
      case 'f_PackValuesP0':
        return [
          enc({
            Current: clamp(r.currentA, -655.36, 655.35),
            BatteryVoltage: clamp(r.packVoltageV, -1638.4, 1638.3),
            BusVoltage: closed ? clamp(r.packVoltageV, -1638.4, 1638.3) : 0,
            Power: clamp(powerKw, -655.36, 655.35),
          }),
        ];
      case 'f_PackValuesP1':
        return [enc({ InsulationResistance: imd ? clamp(Math.round(imd.resistanceKohm / 7) * 7, 0, 57337) : 0 })];
      case 'f_PackLimits': {
        const l = this.#limits;
        const chargeA = r.chargeEnabled ? clamp(l.maxChargeCurrentA, 0, 1023.75) : 0;
        const dischargeA = r.dischargeEnabled ? clamp(l.maxDischargeCurrentA, 0, 1023.75) : 0;
        return [
          enc({
            MaximumChargeCurrent: chargeA,
            MaximumDischargeCurrent: dischargeA,
            MaximumChargePower: clamp((chargeA * r.packVoltageV) / 1000, 0, 409.5),
            MaximumDischargePower: clamp((dischargeA * r.packVoltageV) / 1000, 0, 409.5),
            MaximumBatteryVoltage: clamp(Math.round(l.maxPackVoltageV / 4) * 4, 0, 1020),
            MinimumBatteryVoltage: clamp(Math.round(l.minPackVoltageV / 4) * 4, 0, 1020),
          }),
        ];
      }
      case 'f_PackMinMaxCellVoltage':
        return [enc({ MinimumCellVoltage: clamp(Math.round(minMv), -8192, 8191), MaximumCellVoltage: clamp(Math.round(maxMv), -8192, 8191) })];
      case 'f_PackMinMaxCellTemperature':
        return [enc({ MinimumCellTemperature: clamp(Math.round(minT), -128, 127), MaximumCellTemperature: clamp(Math.round(maxT), -128, 127) })];
      case 'f_PackStateEstimation':
        return [
          enc({
            MinimumSoc: clamp(r.socPct, 0, 102.3),
            MaximumSoc: clamp(r.socPct, 0, 102.3),
            MinimumSoe: clamp(r.socPct, 0, 102.3),
            MaximumSoe: clamp(r.socPct, 0, 102.3),
            Energy: clamp(energyKwh, 0, 6553.5),
            Soh: clamp(r.sohPct, 0, 127.5),
          }),
        ];
      case 'f_StringState':
        return [
          enc(
            {
              f_StringState_Mux: 0,
              IsStringConnected: bit(closed),
              IsBalancingActive: bit(r.balancing.some(Boolean)),
              OvertemperatureChargeMslError: bit(f.chargeOverTemperature),
              UndertemperatureChargeMslError: bit(f.chargeUnderTemperature),
              OvertemperatureDischargeMslError: bit(f.overTemperature),
              UndertemperatureDischargeMslErro: bit(f.underTemperature),
              CellOvercurrentChargeMslError: bit(f.chargeOverCurrent),
              CellOvercurrentDischargeMslError: bit(f.dischargeOverCurrent),
              OvervoltageMslError: bit(f.cellOverVoltage || f.packOverVoltage),
              UndervoltageMslError: bit(f.cellUnderVoltage || f.packUnderVoltage),
              StringOvercurrentError: bit(f.shortCircuit),
              OpenWireError: bit(cells.some(cellInvalid)),
              CellTemperaturePlausibilityError: bit(f.sensorFailure),
            },
            0,
          ),
        ];
      case 'f_StringMinMaxCellVoltage':
        return [enc({ f_StringMinMaxCellVoltage_Mux: 0, MinimumCellVoltage: clamp(Math.round(minMv), -8192, 8191), MaximumCellVoltage: clamp(Math.round(maxMv), -8192, 8191) }, 0)];
      case 'f_StringMinMaxCellTemperature':
        return [
          enc({ f_StringMinMaxCellTemperature_Mux: 0, MinimumCellTemperature: clamp(Math.round(minT * 2) / 2, -64, 63.5), MaximumCellTemperature: clamp(Math.round(maxT * 2) / 2, -64, 63.5) }, 0),
        ];
      case 'f_StringStateEstimation':
        return [
          enc(
            {
              f_StringStateEstimation_Mux: 0,
              MinimumSoc: clamp(r.socPct, 0, 102.2),
              MaximumSoc: clamp(r.socPct, 0, 102.2),
              MinimumSoe: clamp(r.socPct, 0, 102.2),
              MaximumSoe: clamp(r.socPct, 0, 102.2),
              Energy: clamp(energyKwh, 0, 327.67),
              Soh: clamp(r.sohPct, 0, 102.2),
            },
            0,
          ),
        ];
      case 'f_StringValuesP0':
        return [
          enc(
            {
              f_StringValuesP0_Mux: 0,
              Current: clamp(r.currentA, -1310.72, 1310.71),
              Voltage: clamp(r.packVoltageV, -1310.72, 1310.71),
              Power: clamp(powerKw, -1310.72, 1310.71),
            },
            0,
          ),
        ];
      case 'f_StringValuesP1':
        return [enc({ f_StringValuesP1_Mux: 0, EnergyCounter: clamp(Math.round(this.energyCounterWh), -2147483648, 2147483647) }, 0)];
      case 'f_CellVoltages': {
        const out: CanFrame[] = [];
        for (let g = 0; g * 4 < Math.min(cells.length, 216); g++) {
          const v: Record<string, SignalValue> = { f_CellVoltages_Mux: g };
          for (let k = 0; k < 4; k++) {
            const i = g * 4 + k;
            const mv = i < cells.length ? cells[i]! * 1000 : 0;
            v[`CellVoltage_${pad3(i)}`] = i < cells.length ? clamp(Math.round(mv), 0, 8191) : 0;
            v[`CellVoltage_${pad3(i)}_invalidFlag`] = i >= cells.length || cellInvalid(cells[i]!) ? 'Invalid' : 'Valid';
          }
          out.push(enc(v, g));
        }
        return out;
      }
      case 'f_CellTemperatures': {
        const out: CanFrame[] = [];
        const temps = r.temperatureC;
        for (let g = 0; g * 6 < Math.min(temps.length, 180); g++) {
          const v: Record<string, SignalValue> = { f_CellTemperatures_Mux: g };
          for (let k = 0; k < 6; k++) {
            const i = g * 6 + k;
            v[`CellTemperature_${pad3(i)}`] = i < temps.length ? clamp(Math.round(temps[i]!), -128, 127) : 0;
            v[`CellTemperature_${pad3(i)}_invalidFlag`] = i >= temps.length || tempInvalid(temps[i]!) ? 'Invalid' : 'Valid';
          }
          out.push(enc(v, g));
        }
        return out;
      }
      default:
        return [];
    }
  }

  #where(): string {
    return `foxBMS face: DBC ${this.#db.file ?? '(text)'}`;
  }
}
