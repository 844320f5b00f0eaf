// The JBD and Daly drivers against the simulator's BMS faces on real ptys: what the driver
// reports equals what the simulated BMS measured, to the protocol's resolution; serial noise
// and a pulled cable are survived and counted.
import test from 'ava';
import { SerialPort } from 'serialport';
import { systemClock } from '../../../hal/clock.ts';
import { SerialPortLink } from '../../../hal/serial/serialport-link.ts';
import { JbdUartDriver } from '../../../devices/bms/jbd-uart.ts';
import { DalyUartDriver } from '../../../devices/bms/daly-uart.ts';
import { startSimRig } from '../../../sim-hardware/sim-rig.ts';

const round = (v: number, step: number) => Math.round(v / step) * step;
const close = (a: number | null, b: number, tol: number) => a !== null && Math.abs(a - b) <= tol + 1e-9;

for (const kind of ['jbd', 'daly'] as const) {
  test(`${kind}: the driver reads the simulated BMS over a pty, values equal to its measurement within the protocol resolution`, async (t) => {
    const rig = await startSimRig({ bms: kind, cells: 16, serialPty: true, profile: 'cc:20@3600', soc: 0.7 });
    const link = new SerialPortLink(new SerialPort({ path: rig.serialPty!, baudRate: 9600, autoOpen: false }));
    const driver = kind === 'jbd' ? new JbdUartDriver({ link, clock: systemClock, timeoutMs: 1000 }) : new DalyUartDriver({ link, clock: systemClock, timeoutMs: 1000 });
    try {
      rig.sim.advance(30);
      const m = rig.bms.measure();
      await driver.poll();
      const s = driver.snapshot();
      const vStep = kind === 'jbd' ? 0.01 : 0.1;
      const iStep = kind === 'jbd' ? 0.01 : 0.1;
      t.true(close(s.packVoltageV, round(m.packVoltageV, vStep), 1e-9), `pack ${s.packVoltageV} vs ${m.packVoltageV}`);
      t.true(close(s.currentA, round(m.currentA, iStep), 1e-9), `current ${s.currentA} vs ${m.currentA} (discharge positive)`);
      t.true(m.currentA > 19, 'the profile discharges');
      t.deepEqual(s.cellVoltagesMv, m.cellVoltageV.map((v) => Math.round(v * 1000)));
      t.deepEqual(s.temperaturesC, m.temperatureC.map((c) => (kind === 'jbd' ? Math.round(c * 10 + 2731) - 2731 : Math.round(c + 40) - 40) / (kind === 'jbd' ? 10 : 1)));
      t.is(s.cycleCount, Math.round(m.cycles));
      t.true(close(s.socPct, kind === 'jbd' ? Math.round(m.socPct) : round(m.socPct, 0.1), 1e-9));
      t.true(close(s.remainingCapacityAh, kind === 'jbd' ? round(m.remainingAh, 0.01) : round(m.remainingAh, 0.001), 1e-9));
      t.is(s.sohPct, null, `${kind} reports no SoH`);
      t.deepEqual(s.balancing, m.balancing.slice(0, 16));
      t.is(s.contactorClosed, m.chargeEnabled && m.dischargeEnabled);
      t.is(driver.counters.rejected, 0);
    } finally {
      await driver.close();
      await rig.close();
    }
  });

  test(`${kind}: serial noise and a pulled cable on the simulated face are survived, counted, and reported`, async (t) => {
    const rig = await startSimRig({ bms: kind, cells: 8, serialPty: true });
    const link = new SerialPortLink(new SerialPort({ path: rig.serialPty!, baudRate: 9600, autoOpen: false }));
    const driver = kind === 'jbd' ? new JbdUartDriver({ link, clock: systemClock, timeoutMs: 400, retries: 4, backoffMs: 5 }) : new DalyUartDriver({ link, clock: systemClock, timeoutMs: 400, retries: 4, backoffMs: 5 });
    try {
      rig.sim.advance(5);
      const undoNoise = rig.faults.inject({ kind: 'serialNoise', byteErrorRate: 0.02 }, rig.sim);
      let ok = 0;
      for (let i = 0; i < 6; i++) await driver.poll().then(() => ok++, () => {});
      undoNoise();
      t.true(ok >= 1, 'some polls get through the noise');
      t.true(driver.counters.rejected > 0, 'corrupted frames were rejected');
      const undoCable = rig.faults.inject({ kind: 'serialDisconnect' }, rig.sim);
      await t.throwsAsync(driver.poll());
      t.true(driver.snapshot().faults.communicationLost);
      undoCable();
      await driver.poll();
      t.falsy(driver.snapshot().faults.communicationLost);
      t.deepEqual(driver.snapshot().cellVoltagesMv, rig.bms.measure().cellVoltageV.map((v) => Math.round(v * 1000)));
    } finally {
      await driver.close();
      await rig.close();
    }
  });
}
