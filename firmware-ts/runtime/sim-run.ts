// `voltrail run --sim`: the runtime's walking path against the built-in simulator. A simulated
// pack and BMS send the voltrail reference CAN messages on a virtual bus; the DBC-driven driver
// turns them into snapshots; a sampler makes one telemetry record per period, signed with a
// throwaway key made for this run (never a provisioned key), appended durably to the ledger.
import type { Clock } from '../../hal/clock.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { loadDbc } from '../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../devices/bms/can-bms-driver.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../devices/bms/profiles/voltrail.ts';
import type { BatterySnapshot } from '../../devices/snapshot.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import { Ledger, type SigningMode } from '../../ledger/log/ledger.ts';
import { telemetryBody } from '../telemetry/telemetry-body.ts';
import { ledgerDir, prepareSimDataDir } from './data-dir.ts';
import type { SimRig } from '../../sim-hardware/sim-rig.ts';

export interface SimRunOptions {
  dataDir: string;
  clock: Clock;
  seed: number;
  cells: number;
  /** Telemetry sampling period, ms of the clock. */
  periodMs: number;
  /** Simulated seconds per clock second. */
  speed: number;
  mode: SigningMode;
  signal: AbortSignal;
  /** Stop after this long on the clock, counted from when the run is set up (default: never). */
  durationMs?: number;
  /** Called after every record, and at least every status interval. */
  onStatus?: (s: SimRunStatus) => void;
  /** Test probe: called with each recorded snapshot, its sequence number and the simulator. */
  onRecord?: (seq: number, snapshot: BatterySnapshot, rig: SimRig) => void;
}

export interface SimRunStatus {
  simTimeS: number;
  snapshot: BatterySnapshot;
  records: number;
  signer: string;
  framesDecoded: number;
  framesRejected: number;
}

export interface SimRunSummary extends SimRunStatus {
  ledgerDir: string;
  kid: string;
  recovery: { droppedBytes: number };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export async function runSim(o: SimRunOptions): Promise<SimRunSummary> {
  const { backend } = await pickBackend('secp256k1');
  const key = PrivateKey.generate('secp256k1', backend);
  await prepareSimDataDir(o.dataDir, { curve: 'secp256k1', publicKey: hex(key.publicKey), kid: hex(key.kid) });
  const ledger = await Ledger.open({ dir: ledgerDir(o.dataDir), signer: key, mode: o.mode, simulated: true, clock: o.clock, checkpointEvery: 60 });

  // The simulator is loaded only for --sim runs (ARCHITECTURE.md: never a static import here).
  const { startSimRig } = await import('../../sim-hardware/sim-rig.ts');
  const db = await loadDbc(VOLTRAIL_DBC_PATH);
  const hub = new VirtualCanHub();
  const simBus = hub.open({ name: 'bms' });
  const boardBus = hub.open({ name: 'board' });
  // Urban driving with short rests; 50 ms plant steps keep the 100 ms CAN messages on time.
  const rig = await startSimRig({ bms: 'voltrail', canBus: simBus, cells: o.cells, seed: o.seed, profile: 'urban,rest@20', clock: o.clock, maxStepS: 0.05 });
  const driver = new CanBmsDriver({ source: 'voltrail', bus: boardBus, db, rules: VOLTRAIL_RULES, clock: o.clock });

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  if (o.signal.aborted) stop.abort();
  if (o.durationMs !== undefined) void o.clock.sleep(o.durationMs, stop.signal).then(() => stop.abort(), () => undefined);
  const reading = driver.start(stop.signal);
  const simulating = rig.sim.run({ clock: o.clock, speed: o.speed, signal: stop.signal, tickMs: 20 });

  let records = 0;
  const status = (): SimRunStatus => ({
    simTimeS: rig.sim.timeS,
    snapshot: driver.snapshot(),
    records,
    signer: key.backendName,
    framesDecoded: driver.counters.decoded,
    framesRejected: driver.counters.rejected,
  });
  try {
    while (!stop.signal.aborted) {
      try {
        await o.clock.sleep(o.periodMs, stop.signal);
      } catch {
        break;
      }
      const snap = driver.snapshot();
      // No record until the BMS has been heard: an empty snapshot says nothing.
      if (snap.packVoltageV === null) continue;
      o.onRecord?.(ledger.size, snap, rig);
      await ledger.append('telemetry', telemetryBody(snap));
      records++;
      o.onStatus?.(status());
    }
  } finally {
    stop.abort();
    o.signal.removeEventListener('abort', onAbort);
    await Promise.allSettled([reading, simulating]);
    await rig.close();
    await simBus.close();
    await boardBus.close();
    await ledger.close();
  }
  return { ...status(), ledgerDir: ledgerDir(o.dataDir), kid: hex(key.kid), recovery: ledger.recovery };
}
