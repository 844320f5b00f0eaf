// Daly smart BMS UART/RS485 protocol, device side (9600 8N1): fixed 13-byte frames
//   A5 address data-id 08 data[8] checksum,  checksum = low byte of the sum of the 12 bytes before it.
// The host sends from address 0x40 (PC software; 0x80 Bluetooth, 0x20 GPRS are accepted too),
// the BMS answers from 0x01. Spec: Daly "UART/485 communication protocol" (data ids 0x90-0x98, the
// same content as the Daly CAN protocol V1.0, 2019-06-11) and Daly's "three communication
// protocols explanation" (checksum rule). Field layout:
//   0x90 cumulative total voltage 0.1 V, gather total voltage 0.1 V, current 0.1 A offset 30000
//        (below 30000 = discharge), SoC 0.1 %
//   0x91 max cell mV, its cell number, min cell mV, its cell number
//   0x92 max temperature (degC + 40), its sensor number, min temperature, its sensor number
//   0x93 state (0 idle, 1 charge, 2 discharge), charge MOS, discharge MOS, BMS life (0-255,
//        a heartbeat: here the BMS's seconds alive modulo 256), remaining capacity mAh (u32)
//   0x94 cells, temperature sensors, charger status, load status, DI/DO bits, cycles (u16)
//   0x95 one frame per 3 cells: frame number (from 1), 3 x cell mV
//   0x96 one frame per 7 sensors: frame number, 7 x (degC + 40)
//   0x97 balancing bit per cell, cell 1 = bit 0 of byte 0
//   0x98 failure bits (byte 0 cell/sum volt high/low levels 1-2, byte 1 charge/discharge temp,
//        byte 2 over-current and SoC, byte 3 diff volt/temp, byte 4 MOS, byte 5 AFE/sensors,
//        byte 6 current module, sum voltage, short circuit, low-volt charge; byte 7 fault code)
// A real unit keeps one 8-byte transmit buffer and writes only the bytes a response defines:
// unused bytes carry whatever the previous response left there. A capture of a real unit talking
// to Daly's PC software (DIY Solar Forum, "Decoding the DALY SmartBMS protocol", 2021) shows it
// (0x91's last two bytes repeat 0x90's SoC); the emulator reproduces it so that hosts written
// against real units see the same bytes.
import type { BmsReadings } from '../bms/simulated-bms.ts';
import type { BmsSource } from './bms-source.ts';
import { FrameScanner, type FrameFormat } from './frame-scanner.ts';

export const DALY_START = 0xa5;
export const DALY_BMS_ADDRESS = 0x01;
export const DALY_HOST_ADDRESSES: readonly number[] = [0x40, 0x80, 0x20];
export const DALY_MAX_CELLS = 48;

export function dalyChecksum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s += b;
  return s & 0xff;
}

export function dalyFrame(address: number, id: number, data: Uint8Array): Uint8Array {
  if (data.length !== 8) throw new RangeError(`Daly frame data: exactly 8 bytes, got ${data.length}`);
  const f = new Uint8Array(13);
  f[0] = DALY_START;
  f[1] = address;
  f[2] = id;
  f[3] = 0x08;
  f.set(data, 4);
  f[12] = dalyChecksum(f.subarray(0, 12));
  return f;
}

/** A host's request, e.g. dalyRequest(0x90) = A5 40 90 08 00.. 7D. */
export function dalyRequest(id: number, address = 0x40): Uint8Array {
  return dalyFrame(address, id, new Uint8Array(8));
}

const FORMAT: FrameFormat = {
  start: DALY_START,
  lengthAt(buf, i) {
    if (i + 1 < buf.length && !DALY_HOST_ADDRESSES.includes(buf[i + 1]!)) return -1;
    if (i + 3 < buf.length && buf[i + 3] !== 0x08) return -1;
    return 13;
  },
  valid: (f) => f[12] === dalyChecksum(f.subarray(0, 12)),
};

export interface DalyResponderOptions {
  /** Fill 0x90's "gather total voltage" (a second measurement): many units send 0, as the
   * captured one does. Default false. */
  reportGatherVoltage?: boolean;
  /** DI/DO state bits of 0x94. */
  dio?: number;
  timeoutMs?: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(v)));
const temp = (c: number) => clamp(c + 40, 0, 255);

export class DalyResponder {
  readonly source: BmsSource;
  readonly scanner: FrameScanner;
  readonly options: DalyResponderOptions;
  refused = 0;
  /** The unit's single transmit buffer (see the header comment). */
  readonly #tx = new Uint8Array(8);

  constructor(source: BmsSource, o: DalyResponderOptions = {}) {
    const cells = source.measure().cellVoltageV.length;
    if (cells > DALY_MAX_CELLS) throw new RangeError(`Daly face: a Daly BMS reports at most ${DALY_MAX_CELLS} cells, this pack has ${cells}; use --cells ${DALY_MAX_CELLS} or fewer, or another --bms`);
    this.source = source;
    this.options = o;
    this.scanner = new FrameScanner(FORMAT, o.timeoutMs);
  }

  feed(chunk: Uint8Array, nowMs: number): Uint8Array[] {
    return this.scanner.push(chunk, nowMs).flatMap((req) => this.respond(req[2]!));
  }

  /** Writes the given bytes into the transmit buffer at `at` and emits a frame of it. */
  #emit(id: number, at: number, bytes: readonly number[]): Uint8Array {
    this.#tx.set(bytes, at);
    return dalyFrame(DALY_BMS_ADDRESS, id, this.#tx);
  }

  respond(id: number): Uint8Array[] {
    const r = this.source.measure();
    const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
    switch (id) {
      case 0x90: {
        const v = clamp(r.packVoltageV * 10, 0, 0xffff);
        return [this.#emit(id, 0, [...be16(v), ...be16(this.options.reportGatherVoltage ? v : 0), ...be16(clamp(30000 - r.currentA * 10, 0, 0xffff)), ...be16(clamp(r.socPct * 10, 0, 1000))])];
      }
      case 0x91: {
        const { max, maxAt, min, minAt } = extremes(r.cellVoltageV);
        return [this.#emit(id, 0, [...be16(clamp(max * 1000, 0, 0xffff)), maxAt + 1, ...be16(clamp(min * 1000, 0, 0xffff)), minAt + 1])];
      }
      case 0x92: {
        const { max, maxAt, min, minAt } = extremes(r.temperatureC);
        return [this.#emit(id, 0, [temp(max), maxAt + 1, temp(min), minAt + 1])];
      }
      case 0x93: {
        const state = r.currentA < -0.05 ? 1 : r.currentA > 0.05 ? 2 : 0;
        const mah = clamp(r.remainingAh * 1000, 0, 0xffffffff);
        return [this.#emit(id, 0, [state, r.chargeEnabled ? 1 : 0, r.dischargeEnabled ? 1 : 0, Math.floor(r.timeS) & 0xff, (mah >>> 24) & 0xff, (mah >>> 16) & 0xff, (mah >>> 8) & 0xff, mah & 0xff])];
      }
      case 0x94: {
        const charging = r.currentA < -0.05;
        return [this.#emit(id, 0, [r.cellVoltageV.length, r.temperatureC.length, charging ? 1 : 0, r.currentA > 0.05 ? 1 : 0, (this.options.dio ?? 0) & 0xff, ...be16(clamp(r.cycles, 0, 0xffff))])];
      }
      case 0x95: {
        const out: Uint8Array[] = [];
        for (let k = 0; k * 3 < r.cellVoltageV.length; k++) {
          const mv = r.cellVoltageV.slice(k * 3, k * 3 + 3).flatMap((v) => be16(clamp(v * 1000, 0, 0xffff)));
          out.push(this.#emit(id, 0, [k + 1, ...mv]));
        }
        return out;
      }
      case 0x96: {
        const out: Uint8Array[] = [];
        for (let k = 0; k * 7 < r.temperatureC.length; k++) {
          const t = r.temperatureC.slice(k * 7, k * 7 + 7).map(temp);
          while (t.length < 7) t.push(0);
          out.push(this.#emit(id, 0, [k + 1, ...t]));
        }
        return out;
      }
      case 0x97: {
        const bits = [0, 0, 0, 0, 0, 0, 0, 0];
        r.balancing.forEach((on, k) => {
          if (on && k < 64) bits[k >> 3]! |= 1 << (k & 7);
        });
        return [this.#emit(id, 0, bits)];
      }
      case 0x98:
        return [this.#emit(id, 0, failureBytes(r))];
      default:
        // Unknown ids get no answer, as on the real unit.
        this.refused++;
        return [];
    }
  }
}

function extremes(values: readonly number[]): { max: number; maxAt: number; min: number; minAt: number } {
  let max = -Infinity;
  let min = Infinity;
  let maxAt = 0;
  let minAt = 0;
  values.forEach((v, k) => {
    // Ties go to the later cell, as the captured unit reports them.
    if (v >= max) [max, maxAt] = [v, k];
    if (v <= min) [min, minAt] = [v, k];
  });
  return values.length ? { max, maxAt, min, minAt } : { max: 0, maxAt: 0, min: 0, minAt: 0 };
}

/** 0x98 failure bits from the BMS's faults; each protection that trips sets level 2 ("protect"). */
function failureBytes(r: BmsReadings): number[] {
  const f = r.faults;
  const b = [0, 0, 0, 0, 0, 0, 0, 0];
  if (f.cellOverVoltage) b[0]! |= 0x02;
  if (f.cellUnderVoltage) b[0]! |= 0x08;
  if (f.packOverVoltage) b[0]! |= 0x20;
  if (f.packUnderVoltage) b[0]! |= 0x80;
  if (f.chargeOverTemperature) b[1]! |= 0x02;
  if (f.chargeUnderTemperature) b[1]! |= 0x08;
  if (f.overTemperature) b[1]! |= 0x20;
  if (f.underTemperature) b[1]! |= 0x80;
  if (f.chargeOverCurrent) b[2]! |= 0x02;
  if (f.dischargeOverCurrent) b[2]! |= 0x08;
  if (f.contactorFault) b[4]! |= 0x20; // MOS adhesion (welded), level 2
  if (f.sensorFailure) b[5]! |= 0x04; // cell temperature sensor error
  if (f.shortCircuit) b[6]! |= 0x04;
  // Byte 7, the fault code, has no published meaning: left 0.
  return b;
}
