// A Firmata co-processor board (the Arduino Nano/Uno running StandardFirmata that gives a Pi the
// ADC it lacks), on a serial port: NTC thermistor dividers on its analog pins follow the plant's
// temperatures, and the host's digital writes (contactor relay, status LED) are recorded and, if
// asked, drive the plant's contactor. johnny-five and firmata.js drive it as they would the real
// board.
//
// Spec: Firmata protocol 2.x (firmata/protocol on GitHub: protocol.md, capability query,
// analog mapping query, pin state query, sampling interval). Like StandardFirmata after a reset,
// the board announces REPORT_VERSION and its firmware name until the host speaks, so a host
// that opened the port after the board started (and flushed what was waiting) still gets them.
import { SerialPort } from 'serialport';
import { Rng } from './rng.ts';
import type { Pack } from './plant/pack.ts';
import type { SimDevice } from './simulation.ts';
import type { SerialFaultState } from './faults.ts';

export const FIRMATA = {
  DIGITAL_MESSAGE: 0x90,
  ANALOG_MESSAGE: 0xe0,
  REPORT_ANALOG: 0xc0,
  REPORT_DIGITAL: 0xd0,
  SET_PIN_MODE: 0xf4,
  SET_DIGITAL_PIN_VALUE: 0xf5,
  REPORT_VERSION: 0xf9,
  SYSTEM_RESET: 0xff,
  START_SYSEX: 0xf0,
  END_SYSEX: 0xf7,
  // SysEx commands
  ANALOG_MAPPING_QUERY: 0x69,
  ANALOG_MAPPING_RESPONSE: 0x6a,
  CAPABILITY_QUERY: 0x6b,
  CAPABILITY_RESPONSE: 0x6c,
  PIN_STATE_QUERY: 0x6d,
  PIN_STATE_RESPONSE: 0x6e,
  EXTENDED_ANALOG: 0x6f,
  REPORT_FIRMWARE: 0x79,
  SAMPLING_INTERVAL: 0x7a,
} as const;

export const MODE = { INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, PULLUP: 0x0b } as const;

/** Arduino Uno/Nano pin map: D0-D13, A0-A5 = pins 14-19 (analog channels 0-5). */
const PIN_COUNT = 20;
const FIRST_ANALOG_PIN = 14;
const PWM_PINS = new Set([3, 5, 6, 9, 10, 11]);

export interface ThermistorConfig {
  /** Resistance at 25 degC, ohms, and the beta constant, K (a common 10 k, B 3950 part). */
  r25Ohm: number;
  beta: number;
  /** Fixed resistor from Vcc; the NTC goes to ground, so a hotter NTC reads lower. */
  seriesOhm: number;
}

export interface FirmataBoardOptions {
  /** Number of thermistors on A0.. (1-6); each reads the mean temperature of its share of the cells. */
  thermistors?: number;
  thermistor?: Partial<ThermistorConfig>;
  /** Digital pin of the contactor relay (default 7) and of the status LED (default 13). */
  contactorPin?: number;
  ledPin?: number;
  /** When true, the contactor pin (once the host made it an output) gates the plant's current. */
  drivesContactor?: boolean;
  firmwareName?: string;
  seed?: number;
  faults?: { serial: SerialFaultState };
  /** False while the board is unpowered: no announcements, no answers, no reports. */
  powered?: () => boolean;
  /** Announcement period until the host speaks, ms (default 250). */
  announceMs?: number;
}

export const DEFAULT_THERMISTOR: ThermistorConfig = { r25Ohm: 10_000, beta: 3950, seriesOhm: 10_000 };

/** ADC counts (10 bit, ratiometric) of the divider at a temperature. */
export function thermistorCounts(tempC: number, t: ThermistorConfig = DEFAULT_THERMISTOR): number {
  const r = t.r25Ohm * Math.exp(t.beta * (1 / (tempC + 273.15) - 1 / 298.15));
  return Math.max(0, Math.min(1023, Math.round((1023 * r) / (r + t.seriesOhm))));
}

/** The inverse, for hosts and tests: temperature from ADC counts. */
export function thermistorTemperature(counts: number, t: ThermistorConfig = DEFAULT_THERMISTOR): number {
  const r = (t.seriesOhm * counts) / (1023 - counts);
  return 1 / (1 / 298.15 + Math.log(r / t.r25Ohm) / t.beta) - 273.15;
}

interface Pin {
  mode: number;
  value: number;
}

export class FirmataBoard implements SimDevice {
  readonly pack: Pack;
  readonly thermistors: number;
  readonly thermistor: ThermistorConfig;
  readonly contactorPin: number;
  readonly ledPin: number;
  readonly pins: Pin[] = [];
  /** Every digital output change the host made, in order (pin, value, wall ms). */
  readonly writes: { pin: number; value: number; t: number }[] = [];
  /** Host messages not understood (counted and skipped). */
  unknown = 0;
  samplingIntervalMs = 19;
  readonly #o: FirmataBoardOptions;
  readonly #rng: Rng;
  readonly #reportAnalog = new Set<number>();
  /** Pins the host has set the mode of or written to (until then the contactor pin drives
   * nothing: StandardFirmata leaves digital pins as outputs at LOW, and a relay's driver only
   * counts once the host uses it). */
  readonly #configured = new Set<number>();
  #rx: number[] = [];
  #heard = false;
  #send: (bytes: number[]) => void = () => {};
  #sampler: NodeJS.Timeout | null = null;
  #announcer: NodeJS.Timeout | null = null;

  constructor(pack: Pack, o: FirmataBoardOptions = {}) {
    this.pack = pack;
    this.#o = o;
    this.thermistors = o.thermistors ?? Math.min(6, pack.n);
    if (!Number.isInteger(this.thermistors) || this.thermistors < 1 || this.thermistors > 6) throw new RangeError(`thermistors: 1..6 (analog pins A0-A5), got ${this.thermistors}`);
    this.thermistor = { ...DEFAULT_THERMISTOR, ...o.thermistor };
    this.contactorPin = o.contactorPin ?? 7;
    this.ledPin = o.ledPin ?? 13;
    for (const [name, p] of [['contactorPin', this.contactorPin], ['ledPin', this.ledPin]] as const) {
      if (!Number.isInteger(p) || p < 2 || p >= FIRST_ANALOG_PIN) throw new RangeError(`${name}: a digital pin 2..13, got ${p}`);
    }
    this.#rng = new Rng(o.seed ?? 1).fork(300);
    for (let p = 0; p < PIN_COUNT; p++) this.pins.push({ mode: p >= FIRST_ANALOG_PIN ? MODE.ANALOG : MODE.OUTPUT, value: 0 });
  }

  /** Mean temperature of the cells thermistor `ch` sits on. */
  temperatureOf(ch: number): number {
    const n = this.pack.n;
    const lo = Math.floor((ch * n) / this.thermistors);
    const hi = Math.max(lo + 1, Math.floor(((ch + 1) * n) / this.thermistors));
    let s = 0;
    for (let k = lo; k < hi; k++) s += this.pack.tempC[k]!;
    return s / (hi - lo);
  }

  /** What analog channel `ch` reads now: the divider plus one count of ADC noise. */
  analogCounts(ch: number): number {
    if (ch >= this.thermistors) return 0; // nothing connected: pulled down
    const c = thermistorCounts(this.temperatureOf(ch), this.thermistor) + Math.round(this.#rng.normal(0, 0.5));
    return Math.max(0, Math.min(1023, c));
  }

  /** The relay output, or null while the host has not taken the pin over. */
  get contactorOutput(): boolean | null {
    const p = this.pins[this.contactorPin]!;
    return p.mode === MODE.OUTPUT && this.#configured.has(this.contactorPin) ? p.value === 1 : null;
  }
  get ledOutput(): boolean {
    return this.pins[this.ledPin]!.value === 1;
  }
  conducts(): boolean {
    if (!this.#o.drivesContactor) return true;
    return this.contactorOutput !== false;
  }
  afterStep(): void {}

  #alive(): boolean {
    return (this.#o.powered?.() ?? true) && !this.#o.faults?.serial.disconnected;
  }

  /** Connects the board to a byte sink; starts announcing and sampling. */
  start(send: (bytes: Uint8Array) => void): void {
    this.#send = (bytes) => {
      if (this.#alive()) send(Uint8Array.from(bytes));
    };
    this.#announcer = setInterval(() => {
      if (this.#heard) return this.#stopAnnouncing();
      this.#announce();
    }, this.#o.announceMs ?? 250);
    this.#announce();
    this.#restartSampler();
  }

  stop(): void {
    this.#stopAnnouncing();
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = null;
  }

  #stopAnnouncing(): void {
    if (this.#announcer) clearInterval(this.#announcer);
    this.#announcer = null;
  }

  #announce(): void {
    this.#send([FIRMATA.REPORT_VERSION, 2, 5]);
    this.#sendFirmware();
  }

  #sendFirmware(): void {
    const name = new TextEncoder().encode(this.#o.firmwareName ?? 'voltrail-sim-firmata.ino');
    const body: number[] = [FIRMATA.START_SYSEX, FIRMATA.REPORT_FIRMWARE, 2, 5];
    for (const b of name) body.push(b & 0x7f, b >> 7);
    body.push(FIRMATA.END_SYSEX);
    this.#send(body);
  }

  #restartSampler(): void {
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = setInterval(() => {
      for (const ch of this.#reportAnalog) {
        const v = this.analogCounts(ch);
        this.#send([FIRMATA.ANALOG_MESSAGE | ch, v & 0x7f, (v >> 7) & 0x7f]);
      }
    }, Math.max(10, this.samplingIntervalMs));
    this.#sampler.unref?.();
  }

  /** Bytes from the host. */
  receive(chunk: Uint8Array): void {
    if (!this.#alive()) return;
    for (const b of chunk) {
      if (b & 0x80) {
        // A command byte ends whatever incomplete message came before (except inside SysEx).
        if (this.#rx[0] === FIRMATA.START_SYSEX && b !== FIRMATA.END_SYSEX) {
          this.unknown++;
          this.#rx = [];
        } else if (this.#rx.length > 0 && this.#rx[0] !== FIRMATA.START_SYSEX) {
          this.unknown++;
          this.#rx = [];
        }
      } else if (this.#rx.length === 0) {
        this.unknown++;
        continue; // a data byte without a command: noise
      }
      this.#rx.push(b);
      if (this.#rx.length > 512) {
        this.unknown++;
        this.#rx = [];
        continue;
      }
      this.#heard = true;
      if (this.#complete()) {
        const msg = this.#rx;
        this.#rx = [];
        this.#handle(msg);
      }
    }
  }

  #complete(): boolean {
    const m = this.#rx;
    const c = m[0]!;
    if (c === FIRMATA.START_SYSEX) return m[m.length - 1] === FIRMATA.END_SYSEX;
    if (c === FIRMATA.REPORT_VERSION || c === FIRMATA.SYSTEM_RESET) return true;
    const hi = c & 0xf0;
    if (hi === FIRMATA.REPORT_ANALOG || hi === FIRMATA.REPORT_DIGITAL) return m.length === 2;
    return m.length === 3;
  }

  #handle(m: number[]): void {
    const c = m[0]!;
    const hi = c & 0xf0;
    if (c === FIRMATA.START_SYSEX) return this.#sysex(m.slice(1, -1));
    if (c === FIRMATA.REPORT_VERSION) return this.#send([FIRMATA.REPORT_VERSION, 2, 5]);
    if (c === FIRMATA.SYSTEM_RESET) {
      this.#reportAnalog.clear();
      return;
    }
    if (hi === FIRMATA.REPORT_ANALOG) {
      const ch = c & 0x0f;
      if (m[1]) this.#reportAnalog.add(ch);
      else this.#reportAnalog.delete(ch);
      return;
    }
    if (hi === FIRMATA.REPORT_DIGITAL) {
      const port = c & 0x0f;
      if (m[1]) this.#send([FIRMATA.DIGITAL_MESSAGE | port, 0, 0]); // no digital inputs wired: all low
      return;
    }
    if (c === FIRMATA.SET_PIN_MODE) {
      const pin = m[1]!;
      if (pin < PIN_COUNT) {
        this.pins[pin]!.mode = m[2]!;
        this.#configured.add(pin);
        if (m[2] === MODE.ANALOG && pin >= FIRST_ANALOG_PIN) this.#reportAnalog.add(pin - FIRST_ANALOG_PIN);
      } else this.unknown++;
      return;
    }
    if (c === FIRMATA.SET_DIGITAL_PIN_VALUE) return this.#setOutput(m[1]!, m[2]! ? 1 : 0);
    if (hi === FIRMATA.DIGITAL_MESSAGE) {
      const port = c & 0x0f;
      const value = m[1]! | (m[2]! << 7);
      for (let k = 0; k < 8; k++) {
        const pin = port * 8 + k;
        if (pin < PIN_COUNT && this.pins[pin]!.mode === MODE.OUTPUT) this.#setOutput(pin, (value >> k) & 1);
      }
      return;
    }
    if (hi === FIRMATA.ANALOG_MESSAGE) {
      // Analog write (PWM) on pin c & 0x0f.
      const pin = c & 0x0f;
      if (pin < PIN_COUNT) this.pins[pin]!.value = m[1]! | (m[2]! << 7);
      return;
    }
    this.unknown++;
  }

  #setOutput(pin: number, value: number): void {
    if (pin >= PIN_COUNT) return void this.unknown++;
    const p = this.pins[pin]!;
    this.#configured.add(pin);
    if (p.value !== value) this.writes.push({ pin, value, t: Date.now() });
    p.value = value;
  }

  #sysex(d: number[]): void {
    const cmd = d[0];
    if (cmd === FIRMATA.REPORT_FIRMWARE) return this.#sendFirmware();
    if (cmd === FIRMATA.CAPABILITY_QUERY) {
      const out: number[] = [FIRMATA.START_SYSEX, FIRMATA.CAPABILITY_RESPONSE];
      for (let p = 0; p < PIN_COUNT; p++) {
        out.push(MODE.INPUT, 1, MODE.OUTPUT, 1);
        if (PWM_PINS.has(p)) out.push(MODE.PWM, 8);
        if (p >= FIRST_ANALOG_PIN) out.push(MODE.ANALOG, 10);
        if (p >= 2) out.push(MODE.PULLUP, 1);
        out.push(0x7f);
      }
      out.push(FIRMATA.END_SYSEX);
      return this.#send(out);
    }
    if (cmd === FIRMATA.ANALOG_MAPPING_QUERY) {
      const out: number[] = [FIRMATA.START_SYSEX, FIRMATA.ANALOG_MAPPING_RESPONSE];
      for (let p = 0; p < PIN_COUNT; p++) out.push(p >= FIRST_ANALOG_PIN ? p - FIRST_ANALOG_PIN : 0x7f);
      out.push(FIRMATA.END_SYSEX);
      return this.#send(out);
    }
    if (cmd === FIRMATA.PIN_STATE_QUERY && d[1] !== undefined && d[1] < PIN_COUNT) {
      const p = this.pins[d[1]]!;
      return this.#send([FIRMATA.START_SYSEX, FIRMATA.PIN_STATE_RESPONSE, d[1], p.mode, p.value & 0x7f, ...(p.value > 0x7f ? [(p.value >> 7) & 0x7f] : []), FIRMATA.END_SYSEX]);
    }
    if (cmd === FIRMATA.SAMPLING_INTERVAL && d.length >= 3) {
      this.samplingIntervalMs = d[1]! | (d[2]! << 7);
      return this.#restartSampler();
    }
    if (cmd === FIRMATA.EXTENDED_ANALOG && d[1] !== undefined && d[1] < PIN_COUNT) {
      let v = 0;
      for (let k = 2; k < d.length; k++) v |= d[k]! << (7 * (k - 2));
      this.pins[d[1]]!.value = v;
      return;
    }
    this.unknown++;
  }
}

/** Opens a serial port (a pty's device end) at 57600 baud and runs the board on it. */
export async function openFirmataBoard(path: string, board: FirmataBoard, baudRate = 57600): Promise<{ port: SerialPort; close(): Promise<void> }> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new Error(`could not open ${path} for the Firmata board: ${err.message}`, { cause: err })) : resolve())));
  port.on('data', (b: Buffer) => board.receive(b));
  board.start((bytes) => port.write(Buffer.from(bytes)));
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        board.stop();
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
