// `voltrail run --sim`: the runtime (runtime.ts) against the built-in simulator. A simulated
// pack and BMS send the voltrail reference CAN messages on a virtual bus; the DBC-driven driver
// turns them into snapshots; records are signed with a throwaway key made for this run (never a
// provisioned key), in the simulator's own data folder, and every record says it is simulated.
import type { Clock } from '../../hal/clock.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { loadDbc } from '../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../devices/bms/can-bms-driver.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../devices/bms/profiles/voltrail.ts';
import type { BatterySnapshot } from '../../devices/snapshot.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend, type PickOptions } from '../../ledger/signers/pick.ts';
import type { SigningMode } from '../../ledger/log/ledger.ts';
import type { LogStorage } from '../../ledger/log/storage.ts';
import { ledgerDir, prepareSimDataDir } from './data-dir.ts';
import type { SimRig } from '../../sim-hardware/sim-rig.ts';
import type { ScheduledFault } from '../../sim-hardware/faults.ts';
import { simConfig, type RuntimeConfig } from './config.ts';
import { runRuntime } from './runtime.ts';
import { accountingLimits } from '../passport/lifecycle-accountant.ts';
import type { RuntimeStatus } from './status-file.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { SystemdNotifier } from './watchdog.ts';

export interface SimRunOptions {
  dataDir: string;
  clock: Clock;
  seed: number;
  cells: number;
  /** Telemetry sampling period, ms of the clock. */
  periodMs: number;
  /** Simulated seconds per clock second. Above or below 1 the runtime, the driver and the
   * simulator all run on simulated time (sim-hardware/paced-clock.ts): the sampling period, the
   * stale margins and the record times are simulated, and a machine too slow for the speed
   * slows simulated time down rather than sampling less. */
  speed: number;
  mode: SigningMode;
  signal: AbortSignal;
  /** Stop after this long on `clock` (not simulated time), counted from when the run is set up (default: never). */
  durationMs?: number;
  /** Called after every durable record, and every status interval. */
  onStatus?: (s: SimRunStatus) => void;
  /** Test probe: called with each recorded snapshot, its sequence number and the simulator. */
  onRecord?: (seq: number, snapshot: BatterySnapshot, rig: SimRig) => void;
  /** Test probe: each acknowledged (durable) record. */
  onAck?: (seq: number, type: string) => void;
  /** Called once the simulator runs (tests inject faults through it). */
  onRig?: (rig: SimRig) => void;
  /** Simulator faults scheduled from the start. */
  faults?: readonly ScheduledFault[];
  /** Overrides of the embedded --sim configuration. */
  configure?: (c: RuntimeConfig) => void;
  logger?: Logger;
  notifier?: SystemdNotifier;
  storage?: LogStorage;
  /** Signer backend choice (tests make the native addon unavailable through this). */
  pick?: PickOptions;
}

export interface SimRunStatus extends RuntimeStatus {
  simTimeS: number;
}

export interface SimRunSummary extends SimRunStatus {
  ledgerDir: string;
  kid: string;
  recovery: { droppedBytes: number };
  framesDecoded: number;
  framesRejected: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export async function runSim(o: SimRunOptions): Promise<SimRunSummary> {
  const { backend } = await pickBackend('secp256k1', o.pick);
  const key = PrivateKey.generate('secp256k1', backend);
  await prepareSimDataDir(o.dataDir, { curve: 'secp256k1', publicKey: hex(key.publicKey), kid: hex(key.kid) });
  const config = simConfig(o.dataDir);
  config.sampler.periodMs = o.periodMs;
  config.ledger.mode = o.mode;
  o.configure?.(config);

  // The simulator is loaded only for --sim runs (ARCHITECTURE.md: never a static import here).
  const { startSimRig } = await import('../../sim-hardware/sim-rig.ts');
  // At a speed other than 1 everything runs on simulated time, paced by the clock given.
  const paced = o.speed === 1 ? undefined : new (await import('../../sim-hardware/paced-clock.ts')).PacedClock(o.clock, { speed: o.speed });
  const db = await loadDbc(VOLTRAIL_DBC_PATH);
  const hub = new VirtualCanHub();
  // Both sides read with frames() (or not at all): no queue for receive() that nobody would read
  // (it would fill with 4096 stale frames).
  const simBus = hub.open({ name: 'bms', receiveQueueFromOpen: false });
  const boardBus = hub.open({ name: 'board', receiveQueueFromOpen: false });
  // Urban driving with short rests; 50 ms plant steps keep the 100 ms CAN messages on time.
  const rig = await startSimRig({ bms: 'voltrail', canBus: simBus, cells: o.cells, seed: o.seed, profile: 'urban,rest@20', clock: paced ?? o.clock, maxStepS: 0.05, faults: o.faults });
  const driver = new CanBmsDriver({ source: 'voltrail', bus: boardBus, db, rules: VOLTRAIL_RULES, clock: rig.clock, staleMargin: config.health.staleMarginFactor });
  o.onRig?.(rig);

  let simulating: Promise<unknown> = Promise.resolve();
  const withSim = (s: RuntimeStatus): SimRunStatus => ({ ...s, simTimeS: rig.sim.timeS });
  // Paced: the duration is the given clock's (a --duration is wall time at any speed), and the
  // pacer runs until the runtime has stopped.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  if (o.signal.aborted) stop.abort();
  const pacerStop = new AbortController();
  const pacing = paced?.run(pacerStop.signal);
  if (paced && o.durationMs !== undefined) void o.clock.sleep(o.durationMs, stop.signal).then(() => stop.abort(), () => undefined);
  let summary;
  try {
    summary = await runRuntime({
      config,
      clock: rig.clock,
      signal: stop.signal,
      signer: key,
      simulated: true,
      driver,
      logger: o.logger ?? silentLogger(),
      notifier: o.notifier,
      storage: o.storage,
      durationMs: paced ? undefined : o.durationMs,
      onStatus: o.onStatus && ((s) => o.onStatus!(withSim(s))),
      onRecord: o.onRecord && ((seq, snap) => o.onRecord!(seq, snap, rig)),
      onAck: o.onAck,
      // The simulated pack's rated data stand in for a certificate's; a summary every simulated minute.
      accounting: {
        limits: accountingLimits({ chemistry: rig.pack.params.chemistry, capacityAh: rig.pack.nominalAh, nominalV: (rig.pack.n * (rig.pack.params.vMin + rig.pack.params.vMax)) / 2 }),
        summaryIntervalMs: 60_000,
      },
      // Paced, one plant step per simulated tick: as many steps per simulated second as before.
      companion: (signal) => (simulating = paced ? rig.sim.run({ clock: paced, speed: 1, signal, tickMs: 50 }) : rig.sim.run({ clock: o.clock, speed: o.speed, signal, tickMs: 20 })),
    });
  } finally {
    stop.abort();
    o.signal.removeEventListener('abort', onAbort);
    await simulating.catch(() => undefined);
    pacerStop.abort();
    await pacing;
    await rig.close();
    await simBus.close();
    await boardBus.close();
  }
  return {
    ...withSim(summary.status),
    ledgerDir: ledgerDir(o.dataDir),
    kid: hex(key.kid),
    recovery: summary.recovery,
    framesDecoded: driver.counters.decoded,
    framesRejected: driver.counters.rejected,
  };
}
