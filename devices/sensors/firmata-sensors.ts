// Sensors and indicators on a Firmata co-processor (an Arduino Nano/Uno running StandardFirmata,
// giving a Pi the ADC it lacks), through johnny-five: NTC thermistors on analog pins
// (ntc-thermistor.ts), a relay and a status LED on digital pins.
// The relay and the LED are INDICATION ONLY: they show what the BMS reports (the relay can
// light a dashboard lamp or feed a PLC input, never switch the pack). The BMS owns safety: its
// own contactor and protections act without voltrail, and voltrail never commands them.
// The caller makes the johnny-five Board (with `port: new SerialPort(...)`, `repl: false`) and
// passes it in; `close()` disables the sensors so that the process can exit.
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { Clock } from '../../hal/clock.ts';
import { SampleStore } from '../bms/sample-store.ts';
import type { BatterySnapshot } from '../snapshot.ts';
import { DEFAULT_NTC, ntcCountsToCelsius, type NtcConfig } from './ntc-thermistor.ts';

/** The johnny-five members used here (johnny-five ships no types). */
export interface J5Board extends EventEmitter {
  readonly isReady: boolean;
}
interface J5Sensor extends EventEmitter {
  readonly value: number;
  disable(): void;
}
interface J5 {
  Sensor: new (o: object) => J5Sensor;
  Led: new (o: object) => { on(): void; off(): void; blink(ms: number): void; stop(): void };
  Relay: new (o: object) => { close(): void; open(): void };
}
const five = createRequire(import.meta.url)('johnny-five') as J5;

export interface FirmataSensorsOptions {
  board: J5Board;
  clock: Clock;
  /** Analog pins with a thermistor, e.g. ['A0', 'A1']. */
  thermistorPins: readonly string[];
  ntc?: NtcConfig;
  /** Sampling period of the analog pins, ms (default 250). */
  periodMs?: number;
  /** Digital pin of the indicator relay (default none) and of the status LED (default none). */
  relayPin?: number;
  ledPin?: number;
  staleMargin?: number;
}

export class FirmataSensors {
  readonly source = 'firmata';
  /** Readings at a rail (open or shorted thermistor), per pin. */
  readonly counters = { samples: 0, railReadings: 0 };
  readonly #sensors: J5Sensor[];
  readonly #store: SampleStore;
  readonly #clock: Clock;
  readonly #ntc: NtcConfig;
  readonly #period: number;
  readonly #temps: (number | null)[];
  readonly #times: number[];
  readonly #relay;
  readonly #led;
  #ledState: 'on' | 'blink' | 'off' | undefined;

  constructor(o: FirmataSensorsOptions) {
    this.#clock = o.clock;
    this.#ntc = o.ntc ?? DEFAULT_NTC;
    this.#period = o.periodMs ?? 250;
    this.#store = new SampleStore(this.source, o.staleMargin ?? 3);
    this.#temps = o.thermistorPins.map(() => null);
    this.#times = o.thermistorPins.map(() => 0);
    this.#sensors = o.thermistorPins.map((pin, i) => {
      const s = new five.Sensor({ pin, board: o.board, freq: this.#period });
      s.on('data', () => this.#sample(i, s.value));
      return s;
    });
    this.#relay = o.relayPin === undefined ? undefined : new five.Relay({ pin: o.relayPin, board: o.board });
    this.#led = o.ledPin === undefined ? undefined : new five.Led({ pin: o.ledPin, board: o.board });
  }

  #sample(i: number, counts: number): void {
    this.counters.samples++;
    const now = this.#clock.now();
    try {
      this.#temps[i] = Math.round(ntcCountsToCelsius(counts, this.#ntc) * 10) / 10;
    } catch {
      // An open or shorted thermistor gives no temperature; the snapshot raises sensorFailure.
      this.counters.railReadings++;
      this.#temps[i] = null;
    }
    this.#times[i] = now;
    if (this.#times.every((t) => t > 0)) {
      const oldest = Math.min(...this.#times);
      const bad = this.#temps.some((t) => t === null);
      this.#store.set('temperaturesC', this.#temps.map((t) => t ?? Number.NaN), oldest, this.#period);
      this.#store.set('faults', bad ? { sensorFailure: true } : {}, now, this.#period);
    }
  }

  /** Thermistor temperatures (NaN for an open or shorted one, with sensorFailure raised). */
  snapshot(): BatterySnapshot {
    return this.#store.snapshot(this.#clock.now());
  }

  /**
   * Shows the BMS's state: the relay follows its contactor (indication only), the LED is on when
   * all is well, blinks on a fault, and is off when the BMS state is unknown.
   */
  indicate(s: BatterySnapshot): void {
    if (this.#relay && s.contactorClosed !== null) {
      if (s.contactorClosed) this.#relay.close();
      else this.#relay.open();
    }
    if (this.#led) {
      const faulted = Object.values(s.faults).some(Boolean);
      const state = s.packVoltageV === null ? 'off' : faulted ? 'blink' : 'on';
      if (state === this.#ledState) return;
      this.#ledState = state;
      this.#led.stop();
      if (state === 'on') this.#led.on();
      else if (state === 'blink') this.#led.blink(250);
      else this.#led.off();
    }
  }

  close(): void {
    for (const s of this.#sensors) s.disable();
    this.#led?.stop();
  }
}
