// The steps both simulator targets (sim-target.ts over CAN, uart-sim-target.ts over a real
// pseudo-terminal) take alike: the scenario's faults checked and scheduled before anything
// opens, a throwaway key and simulator data folder, the simulated BMS's protections tuned or
// switched off, the runtime started and waited for, and the run read back from its ledger.
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import type { SignerBackend } from '../../ledger/signers/backend.ts';
import type { ScheduledFault } from '../../sim-hardware/faults.ts';
import type { SimRig } from '../../sim-hardware/sim-rig.ts';
import type { Clock } from '../../hal/clock.ts';
import { UserError } from '../cli/errors.ts';
import { prepareSimDataDir } from '../runtime/data-dir.ts';
import { simConfig, type RuntimeConfig } from '../runtime/config.ts';
import { runRuntime, type BmsSource, type RuntimeSummary } from '../runtime/runtime.ts';
import { silentLogger } from '../runtime/logger.ts';
import type { Scenario } from './scenario.ts';
import { readRecording, verifyRecording, type Recording } from './recording.ts';
import { switchOffConfig, switchOffDriver, type SwitchOff } from './switch-off.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The fault-spec text of a fault written as an object (cells and sensors from 1, as in text). */
function faultText(f: string | { kind: string; [k: string]: unknown }): string {
  if (typeof f === 'string') return f;
  const args = Object.entries(f)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k}=${String(v)}`);
  return args.length ? `${f.kind}:${args.join(',')}` : f.kind;
}

/** The timeline's faults, checked (a mistake names its line) and scheduled; switched-off kinds left out. */
export async function scheduleFaults(s: Scenario, off: SwitchOff): Promise<ScheduledFault[]> {
  const { parseFaultSpec } = await import('../../sim-hardware/fault-spec.ts');
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
  return faults;
}

/** A run's signer and runtime config: a throwaway key in a fresh simulator data folder (never a provisioned one). */
export interface SimSetup {
  key: PrivateKey;
  backend: SignerBackend;
  config: RuntimeConfig;
}

export async function prepareSimSetup(s: Scenario, dataDir: string, off: SwitchOff): Promise<SimSetup> {
  const { backend } = await pickBackend('secp256k1');
  const key = PrivateKey.generate('secp256k1', backend);
  await prepareSimDataDir(dataDir, { curve: 'secp256k1', publicKey: hex(key.publicKey), kid: hex(key.kid) });
  const config = simConfig(dataDir);
  config.sampler = s.runtime.sampler;
  config.health = s.runtime.health;
  config.ledger = s.runtime.ledger;
  switchOffConfig(config, off);
  return { key, backend, config };
}

/** BMS tuning: the protections' limits are the simulated BMS's own settings; a switched-off one never trips. */
export function tuneProtections(s: Scenario, rig: SimRig, off: SwitchOff): void {
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
}

/** A runtime started by `startSimRuntime`, once it has opened its ledger and started the simulator. */
export interface SimRuntime {
  run: Promise<RuntimeSummary>;
  abort: AbortController;
  /** Monotonic ms and scenario seconds when the simulator started: the recording's time origin. */
  started: { mono0: number; t0S: number };
  /** The runtime's failure, once it failed (read it while the run goes on). */
  failed(): unknown;
}

/**
 * Starts the runtime on `driver` with the simulator as its companion, stopping with `signal`
 * too; resolves once the runtime runs (opening the ledger takes real time: waited for without
 * moving the clock), or throws what stopped it.
 */
export async function startSimRuntime(o: {
  setup: SimSetup;
  rig: SimRig;
  clock: Clock;
  driver: BmsSource;
  off: SwitchOff;
  tickMs: number;
  signal: AbortSignal | undefined;
  closers: (() => Promise<unknown>)[];
}): Promise<SimRuntime> {
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  o.closers.push(async () => o.signal?.removeEventListener('abort', onAbort));
  let started: SimRuntime['started'] | undefined;
  const run = runRuntime({
    config: o.setup.config,
    clock: o.rig.clock,
    signal: abort.signal,
    signer: o.setup.key,
    simulated: true,
    driver: switchOffDriver(o.driver, o.off),
    logger: silentLogger(),
    companion: (signal) => {
      started = { mono0: o.clock.monotonic(), t0S: o.rig.sim.timeS };
      return o.rig.sim.run({ clock: o.clock, speed: 1, signal, tickMs: o.tickMs });
    },
  });
  let failed: unknown;
  void run.catch((err: unknown) => (failed = err));
  for (let i = 0; i < 3000 && !started && !failed; i++) await new Promise((r) => setTimeout(r, 5));
  if (!started) throw failed ?? new Error('the runtime did not start within 15 s');
  return { run, abort, started, failed: () => failed };
}

/** Stops the runtime and reads the run back from the ledger it wrote, with its counters and the ledger's verification. */
export async function finishSimRun(
  o: { rig: SimRig; runtime: SimRuntime; setup: SimSetup; dataDir: string; log: Recording['log'] },
  /** The driver's frame counters, read once the runtime has stopped. */
  frames: () => { decoded: number; rejected: number },
): Promise<Recording> {
  const { rig, runtime, log } = o;
  const endS = rig.sim.timeS;
  runtime.abort.abort();
  const summary = await runtime.run;
  for (const f of rig.faults.log) log.push({ t: f.timeS, text: `fault ${f.fault.kind} ${f.event}` });
  log.sort((a, b) => a.t - b.t);
  const { rows, events } = await readRecording(o.dataDir, runtime.started);
  const st = summary.status;
  const { decoded, rejected } = frames();
  return {
    rows,
    events,
    counters: { records: st.records, events: st.events, framesDecoded: decoded, framesRejected: rejected, shed: st.shed.backpressure + st.shed.storage },
    ledger: await verifyRecording(o.dataDir, o.setup.key.publicKey, o.setup.backend),
    durationS: endS,
    log,
  };
}
