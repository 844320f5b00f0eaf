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
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import type { ScheduledFault } from '../../sim-hardware/faults.ts';
import type { SimRig } from '../../sim-hardware/sim-rig.ts';
import { UserError } from '../cli/errors.ts';
import { prepareSimDataDir } from '../runtime/data-dir.ts';
import { simConfig } from '../runtime/config.ts';
import { runRuntime, type BmsSource } from '../runtime/runtime.ts';
import { silentLogger } from '../runtime/logger.ts';
import type { Scenario } from './scenario.ts';
import { readRecording, verifyRecording, type Recording } from './recording.ts';
import { parseSwitchOff, switchOffConfig, switchOffDriver } from './switch-off.ts';
import type { TargetOptions } from './sim-target.ts';

/** The UART driver's poll period on this target, ms. */
export const UART_POLL_MS = 200;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function faultText(f: string | { kind: string; [k: string]: unknown }): string {
  if (typeof f === 'string') return f;
  const args = Object.entries(f)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k}=${String(v)}`);
  return args.length ? `${f.kind}:${args.join(',')}` : f.kind;
}

export async function runOnUartSim(s: Scenario, o: TargetOptions): Promise<Recording> {
  const kind = s.setup.bms.profile;
  if (kind !== 'jbd' && kind !== 'daly') throw new TypeError(`runOnUartSim: bms.profile must be jbd or daly, got ${kind}`);
  if (Object.keys(s.setup.instruments).length) throw new UserError(`${s.file}: setup.instruments: a ${kind} (UART) scenario runs in real time without bench instruments; remove them or use the voltrail BMS`);
  const off = parseSwitchOff([...(o.switchOff ?? [])]);
  const [{ startSimRig }, { parseFaultSpec }, { parseProfile }] = await Promise.all([
    import('../../sim-hardware/sim-rig.ts'),
    import('../../sim-hardware/fault-spec.ts'),
    import('../../sim-hardware/plant/profile-spec.ts'),
  ]);
  const faults: ScheduledFault[] = [];
  s.timeline.forEach((st, i) => {
    if (st.fault === undefined) return;
    let f: ScheduledFault;
    try {
      f = parseFaultSpec(faultText(st.fault));
    } catch (err) {
      throw new UserError(`${s.timelineAt[i]}.fault: ${(err as Error).message}`);
    }
    if (off.stimuli.has(f.fault.kind)) return;
    faults.push({ fault: f.fault, at: st.at, durationS: st.durationS ?? f.durationS });
  });

  const { backend } = await pickBackend('secp256k1');
  const key = PrivateKey.generate('secp256k1', backend);
  await prepareSimDataDir(o.dataDir, { curve: 'secp256k1', publicKey: hex(key.publicKey), kid: hex(key.kid) });
  const config = simConfig(o.dataDir);
  config.sampler = s.runtime.sampler;
  config.health = s.runtime.health;
  config.ledger = s.runtime.ledger;
  switchOffConfig(config, off);

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
    for (const [name, tune] of Object.entries(s.setup.bms.protections)) {
      const prot = rig.bms.protections.find((x) => x.name === name)!;
      if (tune.trip !== undefined) prot.limit.trip = tune.trip;
      if (tune.release !== undefined) prot.limit.release = tune.release;
      if (tune.tripDelayS !== undefined) prot.limit.tripDelayS = tune.tripDelayS;
      if (tune.releaseDelayS !== undefined) prot.limit.releaseDelayS = tune.releaseDelayS;
      if (!tune.enabled) off.protections.add(name);
    }
    for (const name of off.protections) {
      const prot = rig.bms.protections.find((x) => x.name === name);
      if (!prot) throw new UserError(`switch-off protection:${name}: the simulated BMS has no such protection (${rig.bms.protections.map((x) => x.name).join(', ')})`);
      prot.limit.trip = prot.high ? Infinity : -Infinity;
    }
    const link = new SerialPortLink(new SerialPort({ path: rig.serialPty!, baudRate: 9600, autoOpen: false }));
    const opts = { link, clock: rig.clock, periodMs: UART_POLL_MS, staleMargin: config.health.staleMarginFactor, timeoutMs: 150, retries: 0 };
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
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    closers.push(async () => o.signal?.removeEventListener('abort', onAbort));
    let started: { mono0: number; t0S: number } | undefined;
    const run = runRuntime({
      config,
      clock: rig.clock,
      signal: ac.signal,
      signer: key,
      simulated: true,
      driver: switchOffDriver(driver, off),
      logger: silentLogger(),
      companion: (signal) => {
        started = { mono0: rig.clock.monotonic(), t0S: rig.sim.timeS };
        return rig.sim.run({ clock: rig.clock, speed: 1, signal, tickMs: 50 });
      },
    });
    let failed: unknown;
    void run.catch((err: unknown) => (failed = err));
    for (let i = 0; i < 3000 && !started && !failed; i++) await sleep(5);
    if (!started) throw failed ?? new Error('the runtime did not start within 15 s');
    let lastProgress = -Infinity;
    while (rig.sim.timeS < s.setup.durationS && !ac.signal.aborted && !failed) {
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
    const endS = rig.sim.timeS;
    ac.abort();
    const summary = await run;
    for (const f of rig.faults.log) log.push({ t: f.timeS, text: `fault ${f.fault.kind} ${f.event}` });
    log.sort((a, b) => a.t - b.t);
    const { rows, events } = await readRecording(o.dataDir, started);
    const st = summary.status;
    return {
      rows,
      events,
      counters: { records: st.records, events: st.events, framesDecoded: uart.counters.responses, framesRejected: uart.counters.rejected, shed: st.shed.backpressure + st.shed.storage },
      ledger: await verifyRecording(o.dataDir, key.publicKey, backend),
      durationS: endS,
      log,
    };
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  }
}
