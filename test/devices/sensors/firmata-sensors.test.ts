import test from 'ava';
import { createRequire } from 'node:module';
import { SerialPort } from 'serialport';
import { systemClock } from '../../../hal/clock.ts';
import { DEFAULT_NTC, ntcCelsius, ntcCountsToCelsius, ntcResistance, steinhartHartFit, type NtcModel } from '../../../devices/sensors/ntc-thermistor.ts';
import { FirmataSensors, type J5Board } from '../../../devices/sensors/firmata-sensors.ts';
import { emptySnapshot } from '../../../devices/snapshot.ts';
import { startSimRig } from '../../../sim-hardware/sim-rig.ts';
import { thermistorCounts } from '../../../sim-hardware/firmata-board.ts';

const five = createRequire(import.meta.url)('johnny-five') as { Board: new (o: object) => J5Board };
const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;

test('Beta model: 10 kOhm at 25 degC is 25 degC; a 10-bit divider reading inverts the simulator divider within a count', (t) => {
  t.is(ntcCelsius(10_000, DEFAULT_NTC.model), 25);
  t.is(ntcResistance(512, DEFAULT_NTC.divider), (10_000 * 512) / 511);
  for (const c of [-20, 0, 25, 45, 70]) {
    const counts = thermistorCounts(c);
    // One ADC count is worth ~0.1 degC near 25 degC and ~0.5 degC at -20 degC.
    t.true(near(ntcCountsToCelsius(counts), c, 0.6), `${c} degC -> ${counts} counts -> ${ntcCountsToCelsius(counts)}`);
  }
  t.true(ntcCountsToCelsius(300) > ntcCountsToCelsius(700), 'NTC to ground: lower counts are hotter');
  const high = { ...DEFAULT_NTC, divider: { ...DEFAULT_NTC.divider, ntcTo: 'vcc' as const } };
  t.true(ntcCountsToCelsius(700, high) > ntcCountsToCelsius(300, high), 'NTC to Vcc: higher counts are hotter');
});

test('Steinhart-Hart through three datasheet points reproduces them; rails are refused', (t) => {
  // A 10 kOhm B3950 part's table values at 0, 25 and 50 degC.
  const pts = [[0, 32_650], [25, 10_000], [50, 3_603]] as const;
  const sh: NtcModel = steinhartHartFit(pts);
  for (const [c, r] of pts) t.true(near(ntcCelsius(r, sh), c, 1e-9), `${c} degC`);
  t.true(near(ntcCelsius(5_000, sh), ntcCelsius(5_000, DEFAULT_NTC.model), 0.5));
  t.throws(() => ntcCountsToCelsius(0), { instanceOf: RangeError, message: /open or shorted/ });
  t.throws(() => ntcCountsToCelsius(1023), { instanceOf: RangeError });
});

test('johnny-five on the simulated Firmata board over a pty: thermistor temperatures, relay and LED as indicators', async (t) => {
  const rig = await startSimRig({ bms: 'jbd', cells: 8, firmataPty: true });
  const port = new SerialPort({ path: rig.firmataPty!, baudRate: 57600 });
  port.on('error', () => {});
  const board = new five.Board({ port, repl: false, debug: false, timeout: 10_000 });
  let sensors: FirmataSensors | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      board.once('ready', () => resolve());
      board.once('error', reject);
    });
    sensors = new FirmataSensors({ board, clock: systemClock, thermistorPins: ['A0', 'A1'], periodMs: 50, relayPin: 7, ledPin: 13 });
    const end = Date.now() + 5000;
    while (sensors.snapshot().temperaturesC.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const s = sensors.snapshot();
    t.is(s.temperaturesC.length, 2);
    for (let i = 0; i < 2; i++) t.true(near(s.temperaturesC[i]!, rig.firmata!.temperatureOf(i), 0.6), `A${i}: ${s.temperaturesC[i]} vs ${rig.firmata!.temperatureOf(i)}`);
    t.is(s.meta.temperaturesC?.source, 'firmata');
    t.false(s.meta.temperaturesC!.stale);
    t.deepEqual(s.faults, {});

    const bmsSays = { ...emptySnapshot(Date.now()), packVoltageV: 30, contactorClosed: true };
    sensors.indicate(bmsSays);
    const until = async (cond: () => boolean) => {
      const stop = Date.now() + 3000;
      while (!cond() && Date.now() < stop) await new Promise((r) => setTimeout(r, 10));
      return cond();
    };
    t.true(await until(() => rig.firmata!.contactorOutput === true && rig.firmata!.ledOutput), 'relay follows the closed contactor, LED on');
    sensors.indicate({ ...bmsSays, contactorClosed: false });
    t.true(await until(() => rig.firmata!.contactorOutput === false), 'relay follows the open contactor');
  } finally {
    sensors?.close();
    await new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r()));
    await rig.close();
  }
});
