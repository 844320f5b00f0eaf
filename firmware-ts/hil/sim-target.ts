// Runs a scenario against voltrail's own runtime (runtime.ts) on the built-in simulator, the way
// `voltrail run --sim` does (sim-run.ts), with the scenario's pack, BMS tuning, runtime config,
// timeline and simulated SCPI instruments. Time is a ManualClock that this driver moves in 20 ms
// steps, so a run is deterministic (seeded) and as fast as the CPU allows, or paced to `speed`
// simulated seconds per real second. Stimuli are applied with the clock stopped: an SCPI command
// goes over a real TCP socket to the simulated instrument and is answered before time moves on.
// The simulator is loaded lazily (ARCHITECTURE.md: firmware-ts imports sim-hardware only so).
import { ManualClock } from '../../hal/clock.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { ScpiClient, openScpiTcp } from '../../hal/scpi/scpi-client.ts';
import { loadDbc } from '../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../devices/bms/can-bms-driver.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../devices/bms/profiles/voltrail.ts';
import { FOXBMS_RULES } from '../../devices/bms/profiles/foxbms.ts';
import { join } from 'node:path';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import type { ScheduledFault } from '../../sim-hardware/faults.ts';
import type { SimRig } from '../../sim-hardware/sim-rig.ts';
import type { InstrumentLoad } from '../../sim-hardware/scpi/instrument-load.ts';
import type { SimulatedScpiInstrument } from '../../sim-hardware/scpi/scpi-instrument.ts';
import { UserError } from '../cli/errors.ts';
import { prepareSimDataDir } from '../runtime/data-dir.ts';
import { simConfig } from '../runtime/config.ts';
import { runRuntime } from '../runtime/runtime.ts';
import { silentLogger } from '../runtime/logger.ts';
import type { Scenario, Stimulus } from './scenario.ts';
import { readRecording, verifyRecording, type Recording } from './recording.ts';
import { parseSwitchOff, switchOffConfig, switchOffDriver } from './switch-off.ts';
import { runOnUartSim } from './uart-sim-target.ts';

export interface TargetOptions {
  /** A fresh folder for this run's ledger (simulator data folder: throwaway key). */
  dataDir: string;
  /** Behaviours to switch off (switch-off.ts). */
  switchOff?: readonly string[];
  /** Simulated seconds per real second; Infinity (default) = as fast as possible. */
  speed?: number;
  signal?: AbortSignal;
  /** Scenario seconds reached, now and then. */
  onProgress?: (timeS: number) => void;
  /** Where foxbms.dbc and iso165_IMD.dbc are (foxBMS scenarios); the simulator reads DBCs only from paths it is given. */
  dbcDir?: string;
}

/** The DBC files a scenario's simulated BMS needs, by name, or nothing for the voltrail set. */
export function dbcFilesFor(s: Scenario): string[] {
  if (s.setup.bms.profile !== 'foxbms') return [];
  return s.setup.bms.imd ? [FOXBMS_DBC, IMD_DBC] : [FOXBMS_DBC];
}

const FOXBMS_DBC = 'foxbms.dbc';
const IMD_DBC = 'iso165_IMD.dbc';

/** Clock step of the driver: the simulator's tick (sim-run.ts uses the same). */
const STEP_MS = 100;
/** Steps between turns of the event loop. */
const IO_EVERY = 10;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The fault-spec text of a fault written as an object (cells and sensors from 1, as in text). */
function faultText(f: string | { kind: string; [k: string]: unknown }): string {
  if (typeof f === 'string') return f;
  const args = Object.entries(f)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k}=${String(v)}`);
  return args.length ? `${f.kind}:${args.join(',')}` : f.kind;
}

export async function runOnSim(s: Scenario, o: TargetOptions): Promise<Recording> {
  if (s.setup.bms.profile === 'jbd' || s.setup.bms.profile === 'daly') return runOnUartSim(s, o);
  const off = parseSwitchOff([...(o.switchOff ?? [])]);
  const [{ startSimRig }, { parseFaultSpec }, { parseProfile }, { SimulatedScpiInstrument }, { serveScpiTcp }, { InstrumentLoad }] = await Promise.all([
    import('../../sim-hardware/sim-rig.ts'),
    import('../../sim-hardware/fault-spec.ts'),
    import('../../sim-hardware/plant/profile-spec.ts'),
    import('../../sim-hardware/scpi/scpi-instrument.ts'),
    import('../../sim-hardware/scpi/scpi-server.ts'),
    import('../../sim-hardware/scpi/instrument-load.ts'),
  ]);

  // Faults are checked and scheduled before anything opens: a mistake names its line.
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

  const fox = s.setup.bms.profile === 'foxbms';
  if (fox && !o.dbcDir) throw new UserError(`${s.file}: the foxBMS BMS needs its DBC files (${dbcFilesFor(s).join(', ')}): give their folder with --dbc-dir DIR`);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const hub = new VirtualCanHub();
  const simBus = hub.open({ name: 'bms' });
  const boardBus = hub.open({ name: 'board' });
  const p = s.setup.pack;
  let rig: SimRig;
  try {
    rig = await startSimRig({
      bms: fox ? 'foxbms' : 'voltrail',
      ...(fox ? { dbcPath: join(o.dbcDir!, FOXBMS_DBC), ...(s.setup.bms.imd ? { imdDbcPath: join(o.dbcDir!, IMD_DBC) } : {}) } : {}),
      canBus: simBus,
      cells: p.cells,
      chemistry: p.chemistry,
      seed: s.setup.seed,
      soc: p.soc,
      ambientC: p.ambientC,
      temperatureC: p.temperatureC,
      profile: 'rest',
      clock,
      maxStepS: 0.05,
      faults,
    });
  } catch (err) {
    await simBus.close();
    await boardBus.close();
    throw new UserError(`${s.file}: the simulator refused the setup: ${(err as Error).message}`);
  }
  const closers: (() => Promise<unknown>)[] = [() => rig.close(), () => simBus.close(), () => boardBus.close()];
  const log: Recording['log'] = [];
  try {
    // BMS tuning: the protections' limits are the simulated BMS's own settings.
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

    // Simulated bench instruments, each on its own TCP socket, reached through the real client.
    const instruments = new Map<string, { sim: SimulatedScpiInstrument; client: ScpiClient }>();
    for (const [name, spec] of Object.entries(s.setup.instruments)) {
      const sim = new SimulatedScpiInstrument({ kind: spec.kind, pack: rig.pack, maxCurrentA: 1000, maxVoltageV: 1000, maxPowerW: 200_000, serial: name });
      const server = await serveScpiTcp(sim);
      closers.push(() => server.close());
      const client = new ScpiClient(await openScpiTcp(server.host, server.port));
      closers.push(() => client.close());
      instruments.set(name, { sim, client });
    }
    const load: InstrumentLoad = new InstrumentLoad(
      [...instruments.values()].map((x) => x.sim),
      rig.sim.maxStepS,
    );
    rig.sim.setProfile(load);

    const apply = async (st: Stimulus, i: number) => {
      const t = rig.sim.timeS;
      if (st.profile !== undefined) {
        if (off.stimuli.has('profile')) return;
        try {
          load.setBase(parseProfile(st.profile, rig.pack));
        } catch (err) {
          throw new UserError(`${s.timelineAt[i]}.profile: ${(err as Error).message}`);
        }
        log.push({ t, text: `profile ${st.profile}` });
      } else if (st.scpi) {
        if (off.stimuli.has('scpi')) return;
        const { client } = instruments.get(st.scpi.instrument)!;
        for (const cmd of st.scpi.send) {
          try {
            const answer = await client.checked(cmd);
            log.push({ t, text: `${st.scpi.instrument} <- ${cmd}${answer === null ? '' : ` -> ${answer}`}` });
          } catch (err) {
            throw new UserError(`${s.timelineAt[i]}.scpi: ${(err as Error).message}`);
          }
        }
      }
    };
    const pending = s.timeline.map((st, i) => ({ st, i })).filter(({ st }) => st.fault === undefined);

    const db = await loadDbc(fox ? join(o.dbcDir!, FOXBMS_DBC) : VOLTRAIL_DBC_PATH);
    const driver = new CanBmsDriver({ source: fox ? 'foxbms' : 'voltrail', bus: boardBus, db, rules: fox ? FOXBMS_RULES : VOLTRAIL_RULES, clock: rig.clock, staleMargin: config.health.staleMarginFactor });
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
        started = { mono0: clock.monotonic(), t0S: rig.sim.timeS };
        return rig.sim.run({ clock, speed: 1, signal, tickMs: STEP_MS });
      },
    });
    // Opening the ledger takes real time: wait for it without moving the clock.
    let failed: unknown;
    void run.catch((err: unknown) => (failed = err));
    for (let i = 0; i < 3000 && !started && !failed; i++) await new Promise((r) => setTimeout(r, 5));
    if (!started) throw failed ?? new Error('the runtime did not start within 15 s');

    const realStart = performance.now();
    const speed = o.speed ?? Infinity;
    let lastProgress = -Infinity;
    let steps = 0;
    while (rig.sim.timeS < s.setup.durationS && !ac.signal.aborted) {
      while (pending.length && pending[0]!.st.at <= rig.sim.timeS + 1e-9) {
        const { st, i } = pending.shift()!;
        await apply(st, i);
      }
      // Microtasks carry the simulator -> CAN -> driver -> runtime chain; a turn of the event
      // loop now and then lets the ledger's file I/O progress.
      if (++steps % IO_EVERY === 0) await new Promise((r) => setImmediate(r));
      else for (let k = 0; k < 8; k++) await Promise.resolve();
      clock.advance(STEP_MS);
      if (Number.isFinite(speed)) {
        const ahead = ((rig.sim.timeS - started.t0S) / speed) * 1000 - (performance.now() - realStart);
        if (ahead > 5) await new Promise((r) => setTimeout(r, ahead));
      }
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
      counters: { records: st.records, events: st.events, framesDecoded: driver.counters.decoded, framesRejected: driver.counters.rejected, shed: st.shed.backpressure + st.shed.storage },
      ledger: await verifyRecording(o.dataDir, key.publicKey, backend),
      durationS: endS,
      log,
    };
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  }
}
