// The sim target for a UART BMS (`bms.profile: jbd | daly`): the simulated BMS answers on a real
// pseudo-terminal, read by voltrail's own UART driver through serialport, in real time. A UART
// driver's poll, timeout and retry run on timers over a real port, which a manual clock that
// jumps ahead cannot drive, so these scenarios run at 1 simulated second per second: keep them
// to a few seconds. The driver polls every 200 ms here (stale after 3 polls) so that serial
// faults show within a second. The rest is as on the CAN sim target (sim-target.ts).
import { systemClock } from '../../hal/clock.ts';
import { SerialPort } from 'serialport';
import { SerialPortLink } from '../../hal/serial/serialport-link.ts';
import { JbdUartDriver } from '../../devices/bms/jbd-uart.ts';
import { DalyUartDriver } from '../../devices/bms/daly-uart.ts';
import type { UartBmsDriver } from '../../devices/bms/uart-bms-driver.ts';
import type { SimRig } from '../../sim-hardware/sim-rig.ts';
import { UserError } from '../cli/errors.ts';
import type { BmsSource } from '../runtime/runtime.ts';
import type { Scenario } from './scenario.ts';
import type { Recording } from './recording.ts';
import { parseSwitchOff } from './switch-off.ts';
import type { TargetOptions } from './sim-target.ts';
import { finishSimRun, prepareSimSetup, scheduleFaults, startSimRuntime, tuneProtections } from './sim-session.ts';

/** The UART driver's poll period on this target, ms. */
export const UART_POLL_MS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runOnUartSim(s: Scenario, o: TargetOptions): Promise<Recording> {
  const kind = s.setup.bms.profile;
  if (kind !== 'jbd' && kind !== 'daly') throw new TypeError(`runOnUartSim: bms.profile must be jbd or daly, got ${kind}`);
  if (Object.keys(s.setup.instruments).length) throw new UserError(`${s.file}: setup.instruments: a ${kind} (UART) scenario runs in real time without bench instruments; remove them or use the voltrail BMS`);
  const off = parseSwitchOff([...(o.switchOff ?? [])]);
  const [{ startSimRig }, { parseProfile }] = await Promise.all([import('../../sim-hardware/sim-rig.ts'), import('../../sim-hardware/plant/profile-spec.ts')]);
  const faults = await scheduleFaults(s, off);
  const setup = await prepareSimSetup(s, o.dataDir, off);

  const p = s.setup.pack;
  let rig: SimRig;
  try {
    rig = await startSimRig({ bms: kind, serialPty: true, cells: p.cells, chemistry: p.chemistry, seed: s.setup.seed, soc: p.soc, ambientC: p.ambientC, temperatureC: p.temperatureC, profile: 'rest', clock: systemClock, maxStepS: 0.05, faults });
  } catch (err) {
    throw new UserError(`${s.file}: the simulator refused the setup: ${(err as Error).message}`);
  }
  const closers: (() => Promise<unknown>)[] = [() => rig.close()];
  const log: Recording['log'] = [];
  try {
    tuneProtections(s, rig, off);
    const link = new SerialPortLink(new SerialPort({ path: rig.serialPty!, baudRate: 9600, autoOpen: false }));
    const opts = { link, clock: rig.clock, periodMs: UART_POLL_MS, staleMargin: setup.config.health.staleMarginFactor, timeoutMs: 150, retries: 0 };
    const uart: UartBmsDriver = kind === 'jbd' ? new JbdUartDriver(opts) : new DalyUartDriver(opts);
    closers.push(() => uart.close());
    const driver: BmsSource = {
      source: kind,
      start: (signal) => uart.start(signal),
      snapshot: () => uart.snapshot(),
      get counters() {
        const c = uart.counters;
        return { frames: c.responses + c.rejected, decoded: c.responses, unknown: 0, rejected: c.rejected };
      },
    };
    const pending = s.timeline.map((st, i) => ({ st, i })).filter(({ st }) => st.fault === undefined);
    const runtime = await startSimRuntime({ setup, rig, clock: rig.clock, driver, off, tickMs: 50, signal: o.signal, closers });
    let lastProgress = -Infinity;
    while (rig.sim.timeS < s.setup.durationS && !runtime.abort.signal.aborted && !runtime.failed()) {
      while (pending.length && pending[0]!.st.at <= rig.sim.timeS + 1e-9) {
        const { st, i } = pending.shift()!;
        if (st.profile !== undefined && !off.stimuli.has('profile')) {
          try {
            rig.sim.setProfile(parseProfile(st.profile, rig.pack, { repeat: Infinity }));
          } catch (err) {
            throw new UserError(`${s.timelineAt[i]}.profile: ${(err as Error).message}`);
          }
          log.push({ t: rig.sim.timeS, text: `profile ${st.profile}` });
        }
      }
      await sleep(20);
      if (rig.sim.timeS - lastProgress >= 1) {
        lastProgress = rig.sim.timeS;
        o.onProgress?.(rig.sim.timeS);
      }
    }
    return await finishSimRun({ rig, runtime, setup, dataDir: o.dataDir, log }, () => ({ decoded: uart.counters.responses, rejected: uart.counters.rejected }));
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  }
}
