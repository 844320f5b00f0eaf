// JBD (Jiabaida, sold as Xiaoxiang / Overkill Solar) BMS UART protocol, device side: answers
// read requests for 0x03 basic information, 0x04 cell voltages and 0x05 hardware version.
//
// Spec: "Jiabaida Software Board Universal Protocol" (V4 .. V13; RS485/RS232/UART, 9600 8N1),
// with the 0x03 field layout of the bms-tools JBD register map (JBD_REGISTER_MAP.md).
//   request:  DD A5 cmd len data.. chk_hi chk_lo 77      (A5 = read, 5A = write)
//   response: DD cmd status len data.. chk_hi chk_lo 77  (status 00 = OK, 80 = error)
//   checksum: 0x10000 - sum(bytes from the byte after A5/cmd up to the end of data), i.e. of
//   cmd+len+data in a request and of status+len+data in a response (checked against every
//   example in the V13 document: DD A5 03 00 FF FD 77 -> 0x10000 - (03 + 00) = FFFD).
// All 16-bit fields are big-endian. Data may contain DD and 77: frames are found by length.
// Current is in 10 mA, positive = CHARGING (the opposite of voltrail's convention).
import type { BmsReadings } from '../bms/simulated-bms.ts';
import type { BmsSource } from './bms-source.ts';
import { FrameScanner, type FrameFormat } from './frame-scanner.ts';

export const JBD_START = 0xdd;
export const JBD_END = 0x77;
export const JBD_READ = 0xa5;
export const JBD_WRITE = 0x5a;
export const JBD_BASIC_INFO = 0x03;
export const JBD_CELL_VOLTAGES = 0x04;
export const JBD_HARDWARE_VERSION = 0x05;
/** The JBD boards handle up to 32 cells (two 16-bit balance words). */
export const JBD_MAX_CELLS = 32;

/** Protection status bits of 0x03 (V4 document, "protection status"). */
const PROTECTION_BITS: readonly [keyof BmsReadings['faults'], number][] = [
  ['cellOverVoltage', 0],
  ['cellUnderVoltage', 1],
  ['packOverVoltage', 2],
  ['packUnderVoltage', 3],
  ['chargeOverTemperature', 4],
  ['chargeUnderTemperature', 5],
  ['overTemperature', 6], // discharge over-temperature
  ['underTemperature', 7], // discharge under-temperature
  ['chargeOverCurrent', 8],
  ['dischargeOverCurrent', 9],
  ['shortCircuit', 10],
  ['sensorFailure', 11], // front-end IC error
];

export function jbdChecksum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s += b;
  return (0x10000 - s) & 0xffff;
}

/** A complete frame: DD, the two header bytes, length, data, checksum, 77. */
export function jbdFrame(first: number, second: number, data: Uint8Array): Uint8Array {
  if (data.length > 255) throw new RangeError(`JBD frame data: at most 255 bytes, got ${data.length}`);
  const f = new Uint8Array(data.length + 7);
  f[0] = JBD_START;
  f[1] = first;
  f[2] = second;
  f[3] = data.length;
  f.set(data, 4);
  const chk = jbdChecksum(f.subarray(2, 4 + data.length));
  f[4 + data.length] = chk >> 8;
  f[5 + data.length] = chk & 0xff;
  f[6 + data.length] = JBD_END;
  return f;
}

/** A host's read request, e.g. jbdRequest(0x03) = DD A5 03 00 FF FD 77. */
export function jbdRequest(cmd: number): Uint8Array {
  return jbdFrame(JBD_READ, cmd, new Uint8Array(0));
}

const u16 = (v: number) => Math.max(0, Math.min(0xffff, Math.round(v)));
const s16 = (v: number) => Math.max(-0x8000, Math.min(0x7fff, Math.round(v)));

export function encodeBasicInfo(r: BmsReadings, src: Pick<BmsSource, 'productionDate'>, softwareVersion: number): Uint8Array {
  const ntc = r.temperatureC.length;
  const d = new DataView(new ArrayBuffer(23 + 2 * ntc));
  d.setUint16(0, u16(r.packVoltageV * 100));
  d.setInt16(2, s16(-r.currentA * 100));
  d.setUint16(4, u16(r.remainingAh * 100));
  d.setUint16(6, u16(r.nominalCapacityAh * 100));
  d.setUint16(8, u16(r.cycles));
  const pd = src.productionDate;
  d.setUint16(10, (((pd.year - 2000) & 0x7f) << 9) | ((pd.month & 0x0f) << 5) | (pd.day & 0x1f));
  let bal = 0;
  for (let k = 0; k < Math.min(32, r.balancing.length); k++) if (r.balancing[k]) bal |= 1 << k;
  d.setUint16(12, bal & 0xffff);
  d.setUint16(14, (bal >>> 16) & 0xffff);
  let prot = 0;
  for (const [name, bit] of PROTECTION_BITS) if (r.faults[name]) prot |= 1 << bit;
  d.setUint16(16, prot);
  d.setUint8(18, softwareVersion);
  d.setUint8(19, Math.max(0, Math.min(100, Math.round(r.socPct))));
  d.setUint8(20, (r.chargeEnabled ? 1 : 0) | (r.dischargeEnabled ? 2 : 0));
  d.setUint8(21, r.cellVoltageV.length);
  d.setUint8(22, ntc);
  // Temperatures in 0.1 K with 0 degC = 2731.
  for (let j = 0; j < ntc; j++) d.setUint16(23 + 2 * j, u16(r.temperatureC[j]! * 10 + 2731));
  return new Uint8Array(d.buffer);
}

export function encodeCellVoltages(r: BmsReadings): Uint8Array {
  const d = new DataView(new ArrayBuffer(2 * r.cellVoltageV.length));
  r.cellVoltageV.forEach((v, k) => d.setUint16(2 * k, u16(v * 1000)));
  return new Uint8Array(d.buffer);
}

const FORMAT: FrameFormat = {
  start: JBD_START,
  lengthAt(buf, i) {
    if (i + 1 < buf.length && buf[i + 1] !== JBD_READ && buf[i + 1] !== JBD_WRITE) return -1;
    return i + 3 < buf.length ? buf[i + 3]! + 7 : null;
  },
  valid(f) {
    const n = f.length;
    return f[n - 1] === JBD_END && ((f[n - 3]! << 8) | f[n - 2]!) === jbdChecksum(f.subarray(2, n - 3));
  },
};

export interface JbdResponderOptions {
  /** Software version byte of 0x03 (0x10 = 1.0). */
  softwareVersion?: number;
  /** Inter-frame timeout after which a partial request is dropped, ms. */
  timeoutMs?: number;
}

/** The device side: feed it received bytes, get the response frames to send. */
export class JbdResponder {
  readonly source: BmsSource;
  readonly scanner: FrameScanner;
  readonly softwareVersion: number;
  /** Requests answered with status 0x80 (unknown command or a write). */
  refused = 0;

  constructor(source: BmsSource, o: JbdResponderOptions = {}) {
    const cells = source.measure().cellVoltageV.length;
    if (cells > JBD_MAX_CELLS) throw new RangeError(`JBD face: a JBD board reports at most ${JBD_MAX_CELLS} cells, this pack has ${cells}; use --cells ${JBD_MAX_CELLS} or fewer, or another --bms`);
    this.source = source;
    this.softwareVersion = o.softwareVersion ?? 0x10;
    this.scanner = new FrameScanner(FORMAT, o.timeoutMs);
  }

  feed(chunk: Uint8Array, nowMs: number): Uint8Array[] {
    return this.scanner.push(chunk, nowMs).map((req) => this.respond(req));
  }

  respond(req: Uint8Array): Uint8Array {
    const cmd = req[2]!;
    if (req[1] === JBD_READ) {
      const r = this.source.measure();
      if (cmd === JBD_BASIC_INFO) return jbdFrame(cmd, 0x00, encodeBasicInfo(r, this.source, this.softwareVersion));
      if (cmd === JBD_CELL_VOLTAGES) return jbdFrame(cmd, 0x00, encodeCellVoltages(r));
      if (cmd === JBD_HARDWARE_VERSION) return jbdFrame(cmd, 0x00, new TextEncoder().encode(this.source.hardwareVersion.slice(0, 255)));
    }
    // Writes (parameters, MOSFET control) are not accepted by the simulator: the runtime never
    // sends them, and a refusal is what a password-protected board answers.
    this.refused++;
    return jbdFrame(cmd, 0x80, new Uint8Array(0));
  }
}
