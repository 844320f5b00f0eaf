// JBD (Jiabaida; sold as Xiaoxiang, Overkill Solar) BMS over UART/RS485, 9600 8N1.
//
// Spec: "Jiabaida Software Board General Protocol" V4 (RS485/RS232/UART), sections "Frame
// structure" and "Command details" 0x03, 0x04, 0x05; byte-checked against its examples in
// test/vectors/jbd-uart-driver.json.
//   request:  DD A5 cmd 00 chk_hi chk_lo 77
//   response: DD cmd status len data[len] chk_hi chk_lo 77       (status 00 = OK, 80 = error)
//   checksum: 0x10000 - sum(status, len, data) (the document: "sum of command code, length,
//             data bytes, inverted + 1"; in a request that is cmd + len).
// Fields are big-endian. Frames are found by their length byte: data may hold DD and 77.
import type { FaultName, Faults } from '../snapshot.ts';
import { reject } from './driver-counters.ts';
import type { UartFrameFormat } from './frame-reader.ts';
import { BmsProtocolError } from './bms-errors.ts';
import { UartBmsDriver, type UartBmsDriverOptions } from './uart-bms-driver.ts';

export const JBD_START = 0xdd;
export const JBD_END = 0x77;
export const JBD_READ = 0xa5;
export const JBD_BASIC_INFO = 0x03;
export const JBD_CELL_VOLTAGES = 0x04;
export const JBD_HARDWARE_VERSION = 0x05;
const JBD_COMMANDS: readonly number[] = [JBD_BASIC_INFO, JBD_CELL_VOLTAGES, JBD_HARDWARE_VERSION];

/** 0x03 "protection status" bits (V4, bit 0 first); bit 12 (software MOS lock) is not a fault. */
const PROTECTION_BITS: readonly [bit: number, fault: FaultName][] = [
  [0, 'cellOverVoltage'],
  [1, 'cellUnderVoltage'],
  [2, 'packOverVoltage'],
  [3, 'packUnderVoltage'],
  [4, 'chargeOverTemperature'],
  [5, 'chargeUnderTemperature'],
  [6, 'overTemperature'], // discharge over-temperature
  [7, 'underTemperature'], // discharge under-temperature
  [8, 'chargeOverCurrent'],
  [9, 'dischargeOverCurrent'],
  [10, 'shortCircuit'],
  [11, 'sensorFailure'], // front-end detection IC error
];

/** 0x03 data layout: byte offsets of the fixed part (23 bytes), then 2 bytes per NTC. */
const BASIC = {
  packVoltage: 0, // u16, 10 mV
  current: 2, // s16, 10 mA, positive = charging
  remaining: 4, // u16, 10 mAh
  nominal: 6, // u16, 10 mAh
  cycles: 8, // u16
  productionDate: 10, // u16: (year - 2000) << 9 | month << 5 | day
  balanceLow: 12, // u16, cells 1-16
  balanceHigh: 14, // u16, cells 17-32
  protection: 16, // u16, PROTECTION_BITS
  softwareVersion: 18, // u8, 0x10 = 1.0
  soc: 19, // u8, %
  fet: 20, // u8, bit 0 charge MOSFET on, bit 1 discharge MOSFET on
  cellCount: 21, // u8
  ntcCount: 22, // u8
  ntcFirst: 23, // u16 each, 0.1 K, 0 degC = 2731
} as const;

export function jbdChecksum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s += b;
  return (0x10000 - s) & 0xffff;
}

/** A read request, e.g. jbdRequest(0x03) = DD A5 03 00 FF FD 77. */
export function jbdRequest(cmd: number): Uint8Array {
  const chk = jbdChecksum(Uint8Array.of(cmd, 0));
  return Uint8Array.of(JBD_START, JBD_READ, cmd, 0, chk >> 8, chk & 0xff, JBD_END);
}

/** Response frames: DD cmd status len ... (status 00 or 80). */
export const JBD_FORMAT: UartFrameFormat = {
  name: 'JBD',
  start: JBD_START,
  measure(buf) {
    if (buf.length < 2) return 0;
    if (!JBD_COMMANDS.includes(buf[1]!)) return { reason: 'header', detail: `command byte 0x${buf[1]!.toString(16)} is not one this driver sends` };
    if (buf.length < 4) return 0;
    if (buf[2] !== 0x00 && buf[2] !== 0x80) return { reason: 'header', detail: `status byte 0x${buf[2]!.toString(16)} is neither 00 nor 80` };
    return buf[3]! + 7;
  },
  check(f) {
    const n = f.length;
    if (f[n - 1] !== JBD_END) return { reason: 'end', detail: `command 0x${f[1]!.toString(16)}: end byte 0x${f[n - 1]!.toString(16)} instead of 77` };
    const got = (f[n - 3]! << 8) | f[n - 2]!;
    const want = jbdChecksum(f.subarray(2, n - 3));
    if (got !== want) return { reason: 'checksum', detail: `command 0x${f[1]!.toString(16)}: checksum ${got.toString(16)} instead of ${want.toString(16)}` };
    return undefined;
  },
};

export interface JbdBasicInfo {
  packVoltageV: number;
  /** Positive = discharge (JBD sends charge-positive; converted here). */
  currentA: number;
  remainingCapacityAh: number;
  nominalCapacityAh: number;
  cycleCount: number;
  productionDate: { year: number; month: number; day: number };
  balancing: boolean[];
  faults: Faults;
  /** Protection word as sent, for diagnostics. */
  protectionBits: number;
  softwareVersion: number;
  socPct: number;
  chargeFetOn: boolean;
  dischargeFetOn: boolean;
  cellCount: number;
  temperaturesC: number[];
}

/** Decodes 0x03 data; RangeError when its length does not fit its NTC count. */
export function decodeJbdBasicInfo(data: Uint8Array): JbdBasicInfo {
  if (data.length < BASIC.ntcFirst) throw new RangeError(`JBD 0x03: ${data.length} data bytes, at least ${BASIC.ntcFirst} expected`);
  const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ntc = d.getUint8(BASIC.ntcCount);
  if (data.length < BASIC.ntcFirst + 2 * ntc) throw new RangeError(`JBD 0x03: ${data.length} data bytes cannot hold ${ntc} temperatures`);
  const cellCount = d.getUint8(BASIC.cellCount);
  const bal = d.getUint16(BASIC.balanceLow) + d.getUint16(BASIC.balanceHigh) * 0x10000;
  const prot = d.getUint16(BASIC.protection);
  const faults: Faults = {};
  for (const [bit, name] of PROTECTION_BITS) if (prot & (1 << bit)) faults[name] = true;
  const date = d.getUint16(BASIC.productionDate);
  const fet = d.getUint8(BASIC.fet);
  return {
    packVoltageV: d.getUint16(BASIC.packVoltage) / 100,
    currentA: -d.getInt16(BASIC.current) / 100 || 0,
    remainingCapacityAh: d.getUint16(BASIC.remaining) / 100,
    nominalCapacityAh: d.getUint16(BASIC.nominal) / 100,
    cycleCount: d.getUint16(BASIC.cycles),
    productionDate: { year: 2000 + (date >> 9), month: (date >> 5) & 0x0f, day: date & 0x1f },
    balancing: Array.from({ length: Math.min(32, cellCount) }, (_, k) => Math.floor(bal / 2 ** k) % 2 === 1),
    faults,
    protectionBits: prot,
    softwareVersion: d.getUint8(BASIC.softwareVersion),
    socPct: d.getUint8(BASIC.soc),
    chargeFetOn: (fet & 1) !== 0,
    dischargeFetOn: (fet & 2) !== 0,
    cellCount,
    temperaturesC: Array.from({ length: ntc }, (_, j) => (d.getUint16(BASIC.ntcFirst + 2 * j) - 2731) / 10),
  };
}

/** Decodes 0x04 data: one u16 mV per cell. */
export function decodeJbdCellVoltages(data: Uint8Array): number[] {
  if (data.length % 2 !== 0) throw new RangeError(`JBD 0x04: ${data.length} data bytes, an even number expected`);
  const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: data.length / 2 }, (_, k) => d.getUint16(2 * k));
}

export class JbdUartDriver extends UartBmsDriver {
  readonly source = 'jbd';
  /** From 0x05, read once (on the first poll). */
  hardwareVersion: string | undefined;
  /** The last 0x03 as decoded, with the fields the snapshot has no place for. */
  basicInfo: JbdBasicInfo | undefined;

  constructor(o: UartBmsDriverOptions) {
    super('jbd', JBD_FORMAT, o);
  }

  async #read(cmd: number, what: string): Promise<Uint8Array> {
    const [frame] = await this.transport.exchange(jbdRequest(cmd), (f) => (f[1] === cmd ? 'done' : 'other'), what);
    if (frame![2] !== 0x00) {
      reject(this.counters, 'status', `JBD: command 0x${cmd.toString(16)} refused (status 0x${frame![2]!.toString(16)})`);
      throw new BmsProtocolError(this.transport.link.path, `the JBD BMS on ${this.transport.link.path} refused ${what} (status 0x${frame![2]!.toString(16)}); is it a JBD board?`);
    }
    return frame!.subarray(4, frame!.length - 3);
  }

  #decode<T>(cmd: number, decode: () => T): T {
    try {
      return decode();
    } catch (err) {
      reject(this.counters, 'length', `JBD 0x${cmd.toString(16)}: ${(err as Error).message}`);
      throw new BmsProtocolError(this.transport.link.path, `${(err as Error).message} (from ${this.transport.link.path})`);
    }
  }

  protected async pollOnce(): Promise<void> {
    if (this.hardwareVersion === undefined) {
      const hw = await this.#read(JBD_HARDWARE_VERSION, 'hardware version (0x05)');
      this.hardwareVersion = new TextDecoder('latin1').decode(hw);
    }
    const basicData = await this.#read(JBD_BASIC_INFO, 'basic information (0x03)');
    const b = this.#decode(JBD_BASIC_INFO, () => decodeJbdBasicInfo(basicData));
    let t = this.clock.now();
    const p = this.periodMs;
    this.basicInfo = b;
    this.store.set('packVoltageV', b.packVoltageV, t, p);
    this.store.set('currentA', b.currentA, t, p);
    this.store.set('socPct', b.socPct, t, p);
    this.store.set('remainingCapacityAh', b.remainingCapacityAh, t, p);
    // JBD's "nominal capacity" is a configured setting, not a measured full-charge capacity.
    this.store.set('fullCapacityAh', b.nominalCapacityAh, t, p, false);
    this.store.set('cycleCount', b.cycleCount, t, p);
    this.store.set('temperaturesC', b.temperaturesC, t, p);
    this.store.set('balancing', b.balancing, t, p);
    this.store.set('faults', b.faults, t, p);
    // MOSFET switches stand in for a contactor: the pack is connected when both are on.
    this.store.set('contactorClosed', b.chargeFetOn && b.dischargeFetOn, t, p);
    const cellData = await this.#read(JBD_CELL_VOLTAGES, 'cell voltages (0x04)');
    const cells = this.#decode(JBD_CELL_VOLTAGES, () => decodeJbdCellVoltages(cellData));
    t = this.clock.now();
    this.store.set('cellVoltagesMv', cells, t, p);
  }
}
