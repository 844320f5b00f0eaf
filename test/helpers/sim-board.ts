// A provisioned board in a test: fleet authority, device key, certificate and the "provisioned"
// record made by the real provisioning code, then the real runtime (runRuntime) reading the
// simulator's BMS on a virtual CAN bus and signing with the provisioned key. `voltrail run --sim`
// cannot do this: it refuses provisioned folders and signs with a throwaway key.
import { join } from 'node:path';
import { systemClock, type Clock } from '../../hal/clock.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { loadDbc } from '../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../devices/bms/can-bms-driver.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../devices/bms/profiles/voltrail.ts';
import { FleetAuthority, initFleet } from '../../ledger/identity/fleet-authority.ts';
import { batteryDataFrom } from '../../ledger/identity/battery-data.ts';
import type { PrivateKey } from '../../ledger/keys/private-key.ts';
import { certificateRequest, ensureDeviceKey, installCertificate } from '../../firmware-ts/identity/board-identity.ts';
import { configSchema, type RuntimeConfig } from '../../firmware-ts/runtime/config.ts';
import { runRuntime, type RuntimeSummary } from '../../firmware-ts/runtime/runtime.ts';
import type { RuntimeStatus } from '../../firmware-ts/runtime/status-file.ts';
import { silentLogger } from '../../firmware-ts/runtime/logger.ts';

export const PASS = 'correct horse battery staple';
const DATA = batteryDataFrom({ manufacturer: 'ACME Cells', model: 'PK-75', chemistry: 'NMC', capacityAh: 75.5, massKg: 412.3, nominalV: 355.2, manufactured: '2025-11-03' });

export async function makeFleet(dir: string, name = 'ACME fleet'): Promise<FleetAuthority> {
  await initFleet(dir, { name, passphrase: PASS });
  return FleetAuthority.open(dir, PASS);
}

/** Provisions a board folder with the fleet's certificate; returns its device key. */
export async function provisionBoard(fleet: FleetAuthority, dataDir: string, opts: { battery: string; boardId: string; clock?: Clock }): Promise<PrivateKey> {
  const clock = opts.clock ?? systemClock;
  const quiet = () => undefined;
  const { key, file } = await ensureDeviceKey(dataDir, PASS, quiet);
  const req = certificateRequest(key, opts.battery, opts.boardId, DATA, clock.now());
  const { certificate } = await fleet.sign(req, { now: clock.now() });
  await installCertificate({ dataDir, key, keyFile: file, certificate, fleetKey: fleet.publicKey, clock, progress: quiet });
  return key;
}

/** A board config: the simulator's BMS, checkpoint mode, and the given uplink. */
export function boardConfig(dataDir: string, uplink: Record<string, unknown>, extra: { periodMs?: number; checkpointEvery?: number } = {}): RuntimeConfig {
  return configSchema.parse({
    dataDir,
    bms: { driver: 'voltrail-can', bus: 'virtual:sim' },
    sampler: { periodMs: extra.periodMs ?? 50 },
    ledger: { mode: 'checkpoint', checkpointEvery: extra.checkpointEvery ?? 10, checkpointIntervalMs: 500 },
    health: { watchdog: false },
    log: { level: 'silent' },
    uplink,
  });
}

/** Runs the runtime on the simulator with a provisioned key, in real time, until `signal` aborts. */
export async function runBoard(o: { config: RuntimeConfig; signer: PrivateKey; signal: AbortSignal; onStatus?: (s: RuntimeStatus) => void }): Promise<RuntimeSummary> {
  const { startSimRig } = await import('../../sim-hardware/sim-rig.ts');
  const db = await loadDbc(VOLTRAIL_DBC_PATH);
  const hub = new VirtualCanHub();
  const simBus = hub.open({ name: 'bms' });
  const boardBus = hub.open({ name: 'board' });
  const rig = await startSimRig({ bms: 'voltrail', canBus: simBus, cells: 8, seed: 3, profile: 'urban', clock: systemClock, maxStepS: 0.05 });
  const driver = new CanBmsDriver({ source: 'voltrail', bus: boardBus, db, rules: VOLTRAIL_RULES, clock: rig.clock });
  let simulating: Promise<unknown> = Promise.resolve();
  try {
    return await runRuntime({
      config: o.config,
      clock: systemClock,
      signal: o.signal,
      signer: o.signer,
      simulated: true,
      driver,
      logger: silentLogger(),
      onStatus: o.onStatus,
      companion: (signal) => (simulating = rig.sim.run({ clock: systemClock, speed: 1, signal, tickMs: 20 })),
    });
  } finally {
    await simulating.catch(() => undefined);
    await rig.close();
    await simBus.close();
    await boardBus.close();
  }
}

export const ledgerOf = (dataDir: string) => join(dataDir, 'ledger');
