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
import type { SimRig } from '../../sim-hardware/sim-rig.ts';
import type { InstrumentLoad } from '../../sim-hardware/scpi/instrument-load.ts';
import type { SimulatedScpiInstrument } from '../../sim-hardware/scpi/scpi-instrument.ts';
import { UserError } from '../cli/errors.ts';
import type { Scenario, Stimulus } from './scenario.ts';
import type { Recording } from './recording.ts';
import { parseSwitchOff } from './switch-off.ts';
import { finishSimRun, prepareSimSetup, scheduleFaults, startSimRuntime, tuneProtections } from './sim-session.ts';
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

export async function runOnSim(s: Scenario, o: TargetOptions): Promise<Recording> {
  if (s.setup.bms.profile === 'jbd' || s.setup.bms.profile === 'daly') return runOnUartSim(s, o);
  const off = parseSwitchOff([...(o.switchOff ?? [])]);
  const [{ startSimRig }, { parseProfile }, { SimulatedScpiInstrument }, { serveScpiTcp }, { InstrumentLoad }] = await Promise.all([
    import('../../sim-hardware/sim-rig.ts'),
    import('../../sim-hardware/plant/profile-spec.ts'),
    import('../../sim-hardware/scpi/scpi-instrument.ts'),
    import('../../sim-hardware/scpi/scpi-server.ts'),
    import('../../sim-hardware/scpi/instrument-load.ts'),
  ]);

  // Faults are checked and scheduled before anything opens: a mistake names its line.
  const faults = await scheduleFaults(s, off);
  const setup = await prepareSimSetup(s, o.dataDir, off);

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
    tuneProtections(s, rig, off);

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
    const driver = new CanBmsDriver({ source: fox ? 'foxbms' : 'voltrail', bus: boardBus, db, rules: fox ? FOXBMS_RULES : VOLTRAIL_RULES, clock: rig.clock, staleMargin: setup.config.health.staleMarginFactor });
    const runtime = await startSimRuntime({ setup, rig, clock, driver, off, tickMs: STEP_MS, signal: o.signal, closers });
    const { started } = runtime;

    const realStart = performance.now();
    const speed = o.speed ?? Infinity;
    let lastProgress = -Infinity;
    let steps = 0;
    while (rig.sim.timeS < s.setup.durationS && !runtime.abort.signal.aborted) {
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
    return await finishSimRun({ rig, runtime, setup, dataDir: o.dataDir, log }, () => ({ decoded: driver.counters.decoded, rejected: driver.counters.rejected }));
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  }
}
