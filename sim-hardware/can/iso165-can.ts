// A simulated Bender iso165C insulation monitoring device (IMD) on CAN, per the vendor's DBC
// (iso165_IMD.dbc, read from the path it is given): the cyclic IMD_Info (id 0x37, every 1000 ms
// as the DBC says: insulation resistance in kOhm, IMC and VIFC status bits), and the
// request/response service (IMD_Request 0x22 -> IMD_Response 0x23, byte 0 the command, then
// 16-bit little-endian data words) for the commands a BMS uses to bring the device up and read
// it: lock/unlock, thresholds, mean factor, measurement on/off, self test, R_ISO, status, HV_1,
// alive. Other commands, and parameters outside the ranges the DBC gives, are answered with the
// error frame (command 255, error code 35 UnknownCommand or 34 InvalidParameter, failed command).
//
// It measures the plant's insulation (`pack.insulationOhm`, the `insulationFault` fault) as the
// device does: slowly, averaged over the mean factor (a first-order lag of 0.5 s per unit of it,
// 5 s at the default 10), with 2 % noise, reported up to 50 MOhm (the range as simulated). While
// measurement is off the value is held and marked outdated. Status: IsoFailure below the error
// threshold (default 100 kOhm, the DBC's start value), IsoWarning below the warning threshold
// (default 200 kOhm). The VIFC bits follow the DBC's value tables (IsoMeasurement 0 =
// "Activated"; ST_Overall 1 = "NotExecuted" until a self test is asked for).
import type { CanBus } from '../../hal/can/bus.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { encodeMessage, type DbcDatabase, type SignalValue } from '../../devices/dbc/index.ts';
import type { Pack } from '../plant/pack.ts';
import type { SimDevice, Simulation } from '../simulation.ts';
import type { CanFaultState } from '../faults.ts';
import { Rng } from '../rng.ts';
import { CanWire, CyclicSchedule, type CanFaceCounters } from './can-wire.ts';
import { frameSignals } from './frame-signals.ts';
import type { InsulationReport } from './foxbms-can.ts';

const MAX_KOHM = 50_000;

/** Commands of IMD_Request (VAL_ 34 IMD_Request_Command in the DBC). */
const CMD = {
  SELFTEST: 33,
  SET_ERR_THR: 40,
  SET_WRN_THR: 41,
  SET_MEAN_FACTOR: 43,
  GET_ERR_THR: 50,
  GET_R_ISO: 53,
  GET_HV_1: 54,
  GET_STATUS: 55,
  GET_WRN_THR: 57,
  GET_MEAN_FACTOR: 60,
  VIFC_CTL_LOCK: 202,
  VIFC_CTL_MEASUREMENT: 203,
  VIFC_GET_STATUS: 220,
  VIFC_GET_LOCK: 224,
  VIFC_GET_IMC_ALIVE: 226,
  ERROR_FRAME: 255,
} as const;

export class Iso165Imd implements SimDevice {
  readonly counters: CanFaceCounters;
  readonly faults: CanFaultState;
  /** What IMD_Info last reported: for tests and for the BMS face's view of its IMD. */
  lastInfo: InsulationReport & { warning: boolean; timeS: number } | null = null;
  /** Requests answered, and requests refused (error frame). */
  readonly requests = { answered: 0, refused: 0, malformed: 0 };
  errorThresholdKohm = 100;
  warningThresholdKohm = 200;
  meanFactor = 10;
  measuring = true;
  locked = false;
  selfTestDone = false;
  /** The device's current (averaged) insulation reading, kOhm. */
  resistanceKohm: number;
  #outdated = false;
  #measurements = 0;
  readonly #pack: Pack;
  readonly #bus: CanBus;
  readonly #db: DbcDatabase;
  readonly #wire: CanWire;
  readonly #schedule: CyclicSchedule;
  readonly #rng: Rng;
  #timeS = 0;
  #listening: Promise<void> | null = null;

  constructor(o: { pack: Pack; bus: CanBus; db: DbcDatabase; seed?: number; faults?: CanFaultState }) {
    for (const name of ['IMD_Info', 'IMD_Request', 'IMD_Response']) {
      if (!o.db.messageByName(name)) throw new RangeError(`iso165 IMD: DBC ${o.db.file ?? '(text)'} has no message ${name}; give Bender's iso165_IMD.dbc`);
    }
    this.#pack = o.pack;
    this.#bus = o.bus;
    this.#db = o.db;
    this.#wire = new CanWire(o.bus, { seed: o.seed, stream: 330, faults: o.faults });
    this.faults = this.#wire.faults;
    this.counters = this.#wire.counters;
    this.#rng = new Rng(o.seed ?? 1).fork(331);
    this.#schedule = new CyclicSchedule([['IMD_Info', o.db.messageByName('IMD_Info')!.cycleTimeMs || 1000]]);
    this.resistanceKohm = Math.min(MAX_KOHM, o.pack.insulationOhm / 1000);
  }

  /** Answers IMD_Request frames arriving on the bus until it closes. */
  listen(): Promise<void> {
    this.#listening ??= (async () => {
      try {
        for await (const frame of this.#bus.frames()) this.handle(frame);
      } catch {
        // The bus closed or went down: the device stops answering, as one unplugged would.
      }
    })();
    return this.#listening;
  }

  afterStep(dtS: number, sim: Simulation): void {
    this.#timeS = sim.timeS;
    if (this.measuring) {
      const truth = Math.min(MAX_KOHM, this.#pack.insulationOhm / 1000);
      const measured = truth * (1 + this.#rng.normal(0, 0.02));
      this.resistanceKohm += (measured - this.resistanceKohm) * (1 - Math.exp(-dtS / (0.5 * this.meanFactor)));
      this.#measurements++;
    }
    if (this.#schedule.due(dtS).length) this.#wire.transmit(this.infoFrame());
  }

  get reportedKohm(): number {
    return Math.max(0, Math.min(MAX_KOHM, Math.round(this.resistanceKohm)));
  }

  infoFrame(): CanFrame {
    const r = this.reportedKohm;
    const failure = r < this.errorThresholdKohm;
    const warning = r < this.warningThresholdKohm;
    this.lastInfo = { resistanceKohm: r, failure, warning, timeS: this.#timeS };
    return encodeMessage(this.#db, 'IMD_Info', {
      ...frameSignals(this.#db.messageByName('IMD_Info')!),
      II_IMC_R_ISO: r,
      II_IMC_STATUS_00_IsoFailure: failure ? 1 : 0,
      II_IMC_STATUS_05_IsoWarning: warning ? 1 : 0,
      II_VIFC_STATUS_00_IsoMeasurement: this.measuring ? 0 : 1,
      II_VIFC_STATUS_08_Outdated: this.#outdatedBit(),
      II_VIFC_STATUS_12_ST_Overall: this.selfTestDone ? 0 : 1,
      II_VIFC_STATUS_13_ST_ParamConfig: this.selfTestDone ? 0 : 1,
    });
  }

  /** Handles one frame from the bus: answers IMD_Request, ignores every other id. */
  handle(frame: CanFrame): void {
    const req = this.#db.messageByName('IMD_Request')!;
    if (frame.extended || frame.id !== req.id || frame.remote) return;
    // Every command carries its data words at the same place: 16-bit little-endian at bytes 1-2
    // and 3-4 (the DBC's IMD_Request_DataWord1/2); a frame shorter than the message is refused.
    if (frame.data.length < req.length) {
      this.requests.malformed++;
      return;
    }
    const cmd = frame.data[0]!;
    const w1 = frame.data[1]! | (frame.data[2]! << 8);
    this.#wire.transmit(this.#answer(cmd, w1));
  }

  #answer(cmd: number, w1: number): CanFrame {
    const res = (values: Record<string, SignalValue>) => {
      this.requests.answered++;
      return encodeMessage(this.#db, 'IMD_Response', { ...frameSignals(this.#db.messageByName('IMD_Response')!, cmd), ...values });
    };
    const refuse = (code: number) => {
      this.requests.refused++;
      return encodeMessage(this.#db, 'IMD_Response', { ...frameSignals(this.#db.messageByName('IMD_Response')!, CMD.ERROR_FRAME), IG_IMD_ERROR_CODE: code, IG_IMD_FAILED_CMD: cmd });
    };
    const INVALID = 34;
    const UNKNOWN = 35;
    switch (cmd) {
      case CMD.VIFC_CTL_LOCK:
        if (w1 > 1) return refuse(INVALID);
        this.locked = w1 === 1;
        return res({ IC_VIFC_LOCK_MODE: w1 });
      case CMD.VIFC_GET_LOCK:
        return res({ IG_VIFC_LOCK_MODE: this.locked ? 1 : 0 });
      case CMD.SET_ERR_THR:
        if (w1 < 30 || w1 > 1000) return refuse(INVALID);
        this.errorThresholdKohm = w1;
        return res({ IS_IMC_R_ISO_ERR_THR: w1 });
      case CMD.SET_WRN_THR:
        if (w1 < 40 || w1 > 2000) return refuse(INVALID);
        this.warningThresholdKohm = w1;
        return res({ IS_IMC_R_ISO_WRN_THR: w1 });
      case CMD.SET_MEAN_FACTOR:
        if (w1 < 1 || w1 > 20) return refuse(INVALID);
        this.meanFactor = w1;
        return res({ IS_IMC_MEAN_FACTOR: w1 });
      case CMD.GET_ERR_THR:
        return res({ IG_IMC_R_ISO_ERR_THR: this.errorThresholdKohm });
      case CMD.GET_WRN_THR:
        return res({ IG_IMC_R_ISO_WRN_THR: this.warningThresholdKohm });
      case CMD.GET_MEAN_FACTOR:
        return res({ IG_IMC_MEAN_FACTOR: this.meanFactor });
      case CMD.VIFC_CTL_MEASUREMENT:
        if (w1 > 1) return refuse(INVALID);
        this.measuring = w1 === 1;
        if (!this.measuring) this.#outdated = true;
        return res({ IC_VIFC_MEASURE_MODE: w1 });
      case CMD.SELFTEST:
        if (w1 > 2) return refuse(INVALID);
        if (w1 !== 0) this.selfTestDone = true;
        return res({ IC_IMC_SELFTEST_SCR: w1 });
      case CMD.GET_R_ISO:
        // Bias: which HV pole the fault leans to; the plant has no location, so "Unknown".
        return res({ IG_IMC_R_ISO: this.reportedKohm, IG_IMC_R_ISO_BIAS: 0, IG_IMC_R_ISO_CNT: this.#measurements & 0xff });
      case CMD.GET_HV_1:
        return res({ IG_IMC_HV_1: Math.max(0, Math.min(65535, Math.round(this.#pack.packVoltageV))) });
      case CMD.GET_STATUS: {
        const r = this.reportedKohm;
        return res({ IG_IMC_STATUS_00_IsoFailure: r < this.errorThresholdKohm ? 1 : 0, IG_IMC_STATUS_05_IsoWarning: r < this.warningThresholdKohm ? 1 : 0 });
      }
      case CMD.VIFC_GET_STATUS:
        return res({
          IG_VIFC_STATUS_00_IsoMeasurement: this.measuring ? 0 : 1,
          IG_VIFC_STATUS_08_Outdated: this.#outdatedBit(),
          IG_VIFC_STATUS_12_ST_Overall: this.selfTestDone ? 0 : 1,
          IG_VIFC_STATUS_13_ST_ParamConfig: this.selfTestDone ? 0 : 1,
        });
      case CMD.VIFC_GET_IMC_ALIVE:
        return res({ IG_VIFC_IMC_ALIVE: 0 });
      default:
        return refuse(UNKNOWN);
    }
  }

  #outdatedBit(): number {
    if (this.measuring) this.#outdated = false;
    return this.#outdated ? 1 : 0;
  }
}
