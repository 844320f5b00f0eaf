// johnny-five, through firmata.js, drives the simulated Firmata board over a real pty as it would
// an Arduino: handshake, capability and analog-mapping queries, analog reporting of thermistor
// dividers that follow the plant, digital writes to the contactor relay and the status LED.
import test from 'ava';
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { openPtyPair } from '../../sim-hardware/pty-pair.ts';
import { Pack } from '../../sim-hardware/plant/pack.ts';
import { Simulation } from '../../sim-hardware/simulation.ts';
import { constantCurrent } from '../../sim-hardware/plant/profiles.ts';
import { FIRMATA, FirmataBoard, openFirmataBoard, thermistorCounts, thermistorTemperature } from '../../sim-hardware/firmata-board.ts';

// johnny-five ships no types: the few members used here.
interface J5Board extends EventEmitter {
  io: { firmware: { name: string }; version: { major: number }; analogPins: number[]; pins: { supportedModes: number[] }[]; RESOLUTION: { ADC: number } };
}
interface J5Sensor extends EventEmitter {
  value: number;
  disable(): void;
}
interface J5 {
  Board: new (o: object) => J5Board;
  Sensor: new (o: object) => J5Sensor;
  Led: new (o: object) => { on(): void; off(): void };
  Relay: new (o: object) => { close(): void; open(): void };
}
const five = createRequire(import.meta.url)('johnny-five') as J5;

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
};

test('the divider model: hotter reads lower, and the inverse recovers the temperature', (t) => {
  t.is(thermistorCounts(25), 512);
  t.true(thermistorCounts(60) < thermistorCounts(25));
  for (const c of [-10, 0, 25, 45, 80]) t.true(Math.abs(thermistorTemperature(thermistorCounts(c)) - c) < 0.4);
});

test('firmata messages without johnny-five: garbage is skipped, queries answered, sampling interval set', (t) => {
  const board = new FirmataBoard(new Pack({ cells: 4 }), { thermistors: 2 });
  const out: number[][] = [];
  board.start((b) => out.push(Array.from(b)));
  board.stop();
  t.deepEqual(out[0], [0xf9, 2, 5], 'announces its version');
  out.length = 0;
  board.receive(Uint8Array.from([0x12, 0x34, FIRMATA.START_SYSEX, FIRMATA.PIN_STATE_QUERY, 13, FIRMATA.END_SYSEX]));
  t.deepEqual(out[0], [0xf0, 0x6e, 13, 1, 0, 0xf7]);
  board.receive(Uint8Array.from([FIRMATA.START_SYSEX, FIRMATA.SAMPLING_INTERVAL, 100 & 0x7f, 0, FIRMATA.END_SYSEX]));
  t.is(board.samplingIntervalMs, 100);
  board.receive(Uint8Array.from([FIRMATA.SET_PIN_MODE, 7, 1, FIRMATA.SET_DIGITAL_PIN_VALUE, 7, 1]));
  t.true(board.contactorOutput);
  t.is(board.unknown, 2);
  board.stop();
});

test('johnny-five reads the thermistor pins over a pty and drives the relay and LED', async (t) => {
  const pack = new Pack({ cells: 4, soc: 0.6, seed: 3, spread: { resistancePct: 0 } });
  const board = new FirmataBoard(pack, { thermistors: 2, drivesContactor: true, seed: 3 });
  const sim = new Simulation({ pack, profile: constantCurrent(0), maxStepS: 10 }).attach(board);
  // Heat the cells of thermistor 1 only.
  pack.extraHeatW[2] = 8;
  pack.extraHeatW[3] = 8;
  sim.advance(3 * 3600);
  const pty = await openPtyPair();
  const dev = await openFirmataBoard(pty.device, board);
  const port = new SerialPort({ path: pty.host, baudRate: 57600 });
  const j5 = new five.Board({ port, repl: false, debug: false, timeout: 8000 });
  try {
    await new Promise<void>((resolve, reject) => {
      j5.once('ready', () => resolve());
      j5.once('error', reject);
    });
    t.is(j5.io.firmware.name, 'voltrail-sim-firmata.ino');
    t.is(j5.io.version.major, 2);
    t.deepEqual(j5.io.analogPins, [14, 15, 16, 17, 18, 19]);
    t.is(j5.io.RESOLUTION.ADC, 1023);

    const a0 = new five.Sensor({ pin: 'A0', board: j5, freq: 25 });
    const a1 = new five.Sensor({ pin: 'A1', board: j5, freq: 25 });
    const seen = { a0: 0, a1: 0 };
    a0.on('data', () => seen.a0++);
    a1.on('data', () => seen.a1++);
    t.true(await until(() => seen.a0 > 3 && seen.a1 > 3), 'analog reports arrive');
    const cool = thermistorTemperature(a0.value);
    const hot = thermistorTemperature(a1.value);
    t.true(Math.abs(cool - board.temperatureOf(0)) < 0.5, `A0 ${cool} degC vs plant ${board.temperatureOf(0)}`);
    t.true(Math.abs(hot - board.temperatureOf(1)) < 0.5, `A1 ${hot} degC vs plant ${board.temperatureOf(1)}`);
    t.true(hot > cool + 20, 'the heated cells read hotter');
    a0.disable();
    a1.disable();

    const led = new five.Led({ pin: 13, board: j5 });
    const relay = new five.Relay({ pin: 7, board: j5 });
    led.on();
    relay.close();
    t.true(await until(() => board.ledOutput && board.contactorOutput === true), 'LED on, relay closed');
    sim.setProfile(constantCurrent(10));
    sim.advance(1);
    t.is(pack.currentA, 10);
    relay.open();
    t.true(await until(() => board.contactorOutput === false));
    sim.advance(1);
    t.is(pack.currentA, 0, 'the opened relay stops the current');
    t.deepEqual(
      board.writes.filter((w) => w.pin === 7).map((w) => w.value),
      [1, 0],
    );
  } finally {
    await new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r()));
    await dev.close();
    await pty.close();
  }
});
