// Daly smart BMS over UART/RS485, 9600 8N1.
//
// Spec: Daly "UART/485 communication protocol" (data ids 0x90-0x98; the same content as the
// Daly CAN protocol V1.0) and its frame rule; byte-checked against a capture of a real unit in
// test/vectors/daly-uart-driver.json.
//   frame:    A5 address data-id 08 data[8] checksum   (13 bytes, checksum = low byte of the
//             sum of the 12 bytes before it); the host sends from 0x40, the BMS answers from 0x01.
//   0x90 cumulative voltage 0.1 V, gather voltage 0.1 V, current 0.1 A + 30000 (above 30000 =
//        charging), SoC 0.1 %          0x91 max cell mV, its number, min cell mV, its number
//   0x92 max temp degC + 40, its number, min temp, its number
//   0x93 state, charge MOS, discharge MOS, BMS life, remaining capacity mAh (u32)
//   0x94 cell count, temperature sensor count, charger, load, DI/DO, cycles (u16)
//   0x95 per 3 cells: frame number (from 1), 3 x mV        0x96 per 7 sensors: frame, 7 x (degC + 40)
//   0x97 balancing, cell 1 = bit 0 of byte 0             0x98 failure bits (FAILURE_BITS), byte 7 fault code
// Daly reports no SoH and no full capacity over these ids: both stay null.
import type { FaultName, Faults } from '../snapshot.ts';
import type { UartFrameFormat } from './frame-reader.ts';
import type { FrameVerdict } from './uart-transport.ts';
import { UartBmsDriver, type UartBmsDriverOptions } from './uart-bms-driver.ts';

export const DALY_START = 0xa5;
export const DALY_HOST = 0x40;
export const DALY_BMS = 0x01;
export const DALY_FRAME_LENGTH = 13;
const CURRENT_OFFSET = 30000;
const TEMP_OFFSET = 40;

/**
 * 0x98 failure bits: [byte, bit, fault]. Level 1 (alarm) and level 2 (protection) of the same
 * condition raise the same flag: either means the BMS saw the condition.
 */
const FAILURE_BITS: readonly [byte: number, bit: number, fault: FaultName][] = [
  [0, 0, 'cellOverVoltage'], [0, 1, 'cellOverVoltage'],
  [0, 2, 'cellUnderVoltage'], [0, 3, 'cellUnderVoltage'],
  [0, 4, 'packOverVoltage'], [0, 5, 'packOverVoltage'],
  [0, 6, 'packUnderVoltage'], [0, 7, 'packUnderVoltage'],
  [1, 0, 'chargeOverTemperature'], [1, 1, 'chargeOverTemperature'],
  [1, 2, 'chargeUnderTemperature'], [1, 3, 'chargeUnderTemperature'],
  [1, 4, 'overTemperature'], [1, 5, 'overTemperature'], // discharge temperature high
  [1, 6, 'underTemperature'], [1, 7, 'underTemperature'], // discharge temperature low
  [2, 0, 'chargeOverCurrent'], [2, 1, 'chargeOverCurrent'],
  [2, 2, 'dischargeOverCurrent'], [2, 3, 'dischargeOverCurrent'],
  [4, 2, 'sensorFailure'], [4, 3, 'sensorFailure'], // MOS temperature sensor errors
  [4, 4, 'contactorFault'], [4, 5, 'contactorFault'], // MOS adhesion (welded)
  [4, 6, 'contactorFault'], [4, 7, 'contactorFault'], // MOS open circuit
  [5, 0, 'sensorFailure'], // AFE acquisition chip
  [5, 1, 'sensorFailure'], // cell voltage acquisition dropped
  [5, 2, 'sensorFailure'], // cell temperature sensor
  [6, 0, 'sensorFailure'], // current module
  [6, 1, 'sensorFailure'], // sum voltage detection
  [6, 2, 'shortCircuit'],
];

export function dalyChecksum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s += b;
  return s & 0xff;
}

/** A read request, e.g. dalyRequest(0x90) = A5 40 90 08 00 00 00 00 00 00 00 00 7D. */
export function dalyRequest(id: number, address = DALY_HOST): Uint8Array {
  const f = new Uint8Array(DALY_FRAME_LENGTH);
  f.set([DALY_START, address, id, 0x08]);
  f[12] = dalyChecksum(f.subarray(0, 12));
  return f;
}

export const DALY_FORMAT: UartFrameFormat = {
  name: 'Daly',
  start: DALY_START,
  measure(buf) {
    if (buf.length < 4) return 0;
    if (buf[3] !== 0x08) return { reason: 'header', detail: `length byte 0x${buf[3]!.toString(16)} instead of 08` };
    if (buf[2]! < 0x90 || buf[2]! > 0x98) return { reason: 'header', detail: `data id 0x${buf[2]!.toString(16)} outside 0x90-0x98` };
    return DALY_FRAME_LENGTH;
  },
  check(f) {
    const want = dalyChecksum(f.subarray(0, 12));
    if (f[12] !== want) return { reason: 'checksum', detail: `id 0x${f[2]!.toString(16)}: checksum ${f[12]!.toString(16)} instead of ${want.toString(16)}` };
    return undefined;
  },
};

const view = (d: Uint8Array) => new DataView(d.buffer, d.byteOffset, d.byteLength);

export function decodeDalyPack(d: Uint8Array): { packVoltageV: number; gatherVoltageV: number; currentA: number; socPct: number } {
  const v = view(d);
  return {
    packVoltageV: v.getUint16(0) / 10,
    gatherVoltageV: v.getUint16(2) / 10,
    // Daly: above the offset = charging; voltrail: positive = discharge.
    currentA: (CURRENT_OFFSET - v.getUint16(4)) / 10,
    socPct: v.getUint16(6) / 10,
  };
}

export function decodeDalyCellExtremes(d: Uint8Array): { maxMv: number; maxCell: number; minMv: number; minCell: number } {
  const v = view(d);
  return { maxMv: v.getUint16(0), maxCell: d[2]!, minMv: v.getUint16(3), minCell: d[5]! };
}

export function decodeDalyTempExtremes(d: Uint8Array): { maxC: number; maxSensor: number; minC: number; minSensor: number } {
  return { maxC: d[0]! - TEMP_OFFSET, maxSensor: d[1]!, minC: d[2]! - TEMP_OFFSET, minSensor: d[3]! };
}

export function decodeDalyMos(d: Uint8Array): { state: 'idle' | 'charge' | 'discharge'; chargeMosOn: boolean; dischargeMosOn: boolean; bmsLife: number; remainingCapacityAh: number } {
  return {
    state: d[0] === 1 ? 'charge' : d[0] === 2 ? 'discharge' : 'idle',
    chargeMosOn: d[1] === 1,
    dischargeMosOn: d[2] === 1,
    bmsLife: d[3]!,
    remainingCapacityAh: view(d).getUint32(4) / 1000,
  };
}

export function decodeDalyStatus(d: Uint8Array): { cellCount: number; tempCount: number; chargerOn: boolean; loadOn: boolean; dio: number; cycleCount: number } {
  return { cellCount: d[0]!, tempCount: d[1]!, chargerOn: d[2] === 1, loadOn: d[3] === 1, dio: d[4]!, cycleCount: view(d).getUint16(5) };
}

/** Cells from the 0x95 frames (data parts, any order), trimmed to `count`. */
export function decodeDalyCells(frames: readonly Uint8Array[], count: number): number[] {
  const out: number[] = new Array<number>(count);
  for (const d of frames) {
    const base = (d[0]! - 1) * 3;
    for (let k = 0; k < 3 && base + k < count; k++) out[base + k] = view(d).getUint16(1 + 2 * k);
  }
  return out;
}

/** Temperatures from the 0x96 frames (data parts), trimmed to `count`. */
export function decodeDalyTemps(frames: readonly Uint8Array[], count: number): number[] {
  const out: number[] = new Array<number>(count);
  for (const d of frames) {
    const base = (d[0]! - 1) * 7;
    for (let k = 0; k < 7 && base + k < count; k++) out[base + k] = d[1 + k]! - TEMP_OFFSET;
  }
  return out;
}

export function decodeDalyBalancing(d: Uint8Array, count: number): boolean[] {
  return Array.from({ length: Math.min(count, 48) }, (_, k) => ((d[k >> 3]! >> (k & 7)) & 1) === 1);
}

export function decodeDalyFailures(d: Uint8Array): { faults: Faults; faultCode: number } {
  const faults: Faults = {};
  for (const [byte, bit, name] of FAILURE_BITS) if ((d[byte]! >> bit) & 1) faults[name] = true;
  return { faults, faultCode: d[7]! };
}

export interface DalyOptions extends UartBmsDriverOptions {
  /** Host address to send from (default 0x40, as Daly's PC software; 0x80 is the Bluetooth module's). */
  address?: number;
}

export class DalyUartDriver extends UartBmsDriver {
  readonly source = 'daly';
  readonly address: number;
  status: ReturnType<typeof decodeDalyStatus> | undefined;
  cellExtremes: ReturnType<typeof decodeDalyCellExtremes> | undefined;
  tempExtremes: ReturnType<typeof decodeDalyTempExtremes> | undefined;
  faultCode: number | undefined;

  constructor(o: DalyOptions) {
    super('daly', DALY_FORMAT, o);
    this.address = o.address ?? DALY_HOST;
  }

  /** Asks for `id` and returns the data parts of the `frames` answers (numbered from 1 when more than one is expected). */
  async #read(id: number, what: string, frames = 1, numbered = false): Promise<Uint8Array[]> {
    const accept = (f: Uint8Array, got: readonly Uint8Array[]): FrameVerdict => {
      if (f[2] !== id || f[1] !== DALY_BMS) return 'other';
      if (!numbered) return 'done';
      const n = f[4]!;
      const seen = new Set(got.map((g) => g[4]!));
      // A frame number out of range or seen twice answers nothing (counted as unexpected).
      if (n < 1 || n > frames || seen.has(n)) return 'other';
      return seen.size + 1 === frames ? 'done' : 'more';
    };
    const got = await this.transport.exchange(dalyRequest(id, this.address), accept, what);
    return got.filter((f) => f[2] === id).map((f) => f.subarray(4, 12));
  }

  protected async pollOnce(): Promise<void> {
    const p = this.periodMs;
    const [status] = await this.#read(0x94, 'status information (0x94)');
    const s = decodeDalyStatus(status!);
    this.status = s;
    let t = this.clock.now();
    this.store.set('cycleCount', s.cycleCount, t, p);

    const pack = decodeDalyPack((await this.#read(0x90, 'pack voltage, current and SoC (0x90)'))[0]!);
    t = this.clock.now();
    this.store.set('packVoltageV', pack.packVoltageV, t, p);
    this.store.set('currentA', pack.currentA, t, p);
    this.store.set('socPct', pack.socPct, t, p);

    this.cellExtremes = decodeDalyCellExtremes((await this.#read(0x91, 'cell voltage extremes (0x91)'))[0]!);
    this.tempExtremes = decodeDalyTempExtremes((await this.#read(0x92, 'temperature extremes (0x92)'))[0]!);

    const mos = decodeDalyMos((await this.#read(0x93, 'MOS state and remaining capacity (0x93)'))[0]!);
    t = this.clock.now();
    this.store.set('remainingCapacityAh', mos.remainingCapacityAh, t, p);
    // MOSFET switches stand in for a contactor: the pack is connected when both are on.
    this.store.set('contactorClosed', mos.chargeMosOn && mos.dischargeMosOn, t, p);

    if (s.cellCount > 0) {
      const cells = decodeDalyCells(await this.#read(0x95, 'cell voltages (0x95)', Math.ceil(s.cellCount / 3), true), s.cellCount);
      this.store.set('cellVoltagesMv', cells, this.clock.now(), p);
    }
    if (s.tempCount > 0) {
      const temps = decodeDalyTemps(await this.#read(0x96, 'temperatures (0x96)', Math.ceil(s.tempCount / 7), true), s.tempCount);
      this.store.set('temperaturesC', temps, this.clock.now(), p);
    }
    const bal = decodeDalyBalancing((await this.#read(0x97, 'balancing state (0x97)'))[0]!, s.cellCount);
    this.store.set('balancing', bal, this.clock.now(), p);
    const fail = decodeDalyFailures((await this.#read(0x98, 'failure state (0x98)'))[0]!);
    this.faultCode = fail.faultCode;
    this.store.set('faults', fail.faults, this.clock.now(), p);
  }
}
