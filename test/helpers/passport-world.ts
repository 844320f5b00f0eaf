// A battery's life for passport tests, in process: a fleet authority, a provisioned board, a
// checkpoint-mode ledger with telemetry, lifecycle events and lifecycle summaries over several
// days, a collector witness that countersigns some checkpoints (kept in the board's log), and a
// second, attacker-made fleet for substitution tests. Built once per test file (test.before).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../hal/clock.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import { FleetAuthority, initFleet } from '../../ledger/identity/fleet-authority.ts';
import { batteryDataFrom } from '../../ledger/identity/battery-data.ts';
import { countersignCheckpoint } from '../../ledger/identity/witness.ts';
import { encodeSummary, SUMMARY_TYPE, SUMMARY_VERSION } from '../../ledger/passport/lifecycle-summary.ts';
import { certificateRequest, ensureDeviceKey, installCertificate } from '../../firmware-ts/identity/board-identity.ts';
import { ledgerDir } from '../../firmware-ts/runtime/data-dir.ts';

export const PASS = 'correct horse battery staple';
export const BATTERY = 'urn:voltrail:battery:ACME:PK-0001';
export const DATA = batteryDataFrom({ manufacturer: 'ACME Cells', model: 'PK-75', chemistry: 'NMC', capacityAh: 75, massKg: 412.3, nominalV: 355.2, manufactured: '2025-11-03' });
export const DAY = 86_400_000;
const quiet = () => undefined;

export interface PassportWorld {
  root: string;
  clock: ManualClock;
  fleet: FleetAuthority;
  board: string;
  key: PrivateKey;
  witnessKey: PrivateKey;
  endorsement: Uint8Array;
  /** Countersignatures made, with the checkpoint each is about (what a collector would hold). */
  countersigned: { countersignature: Uint8Array; checkpoint: Uint8Array }[];
}

export async function makeFleet(root: string, name: string): Promise<FleetAuthority> {
  await initFleet(join(root, name), { name, passphrase: PASS });
  return FleetAuthority.open(join(root, name), PASS);
}

/** Provisions a board for BATTERY under `fleet` at the clock's time. */
export async function provisionBoard(clock: ManualClock, fleet: FleetAuthority, dataDir: string, boardId = 'pi-a', batteryId = BATTERY): Promise<PrivateKey> {
  const { key, file } = await ensureDeviceKey(dataDir, PASS, quiet);
  const req = certificateRequest(key, batteryId, boardId, DATA, clock.now());
  const { certificate } = await fleet.sign(req, { now: clock.now() });
  await installCertificate({ dataDir, key, keyFile: file, certificate, fleetKey: fleet.publicKey, clock, progress: quiet });
  return key;
}

/**
 * Runs the board for `days` days: a telemetry record a minute, a lifecycle summary every 6 hours
 * (the counters grow), an event now and then, a checkpoint every 30 records, and the witness
 * countersigning one checkpoint a day.
 */
export async function runBoard(w: Pick<PassportWorld, 'clock' | 'key' | 'witnessKey' | 'endorsement' | 'countersigned' | 'board'>, days: number, state: { events: number; efc: number }): Promise<void> {
  const ledger = await Ledger.open({ dir: ledgerDir(w.board), signer: w.key, clock: w.clock, checkpointEvery: 30, checkpointIntervalMs: 3_600_000 });
  const perDay = 24 * 60;
  for (let d = 0; d < days; d++) {
    for (let m = 0; m < perDay; m += 10) {
      w.clock.advance(600_000);
      await ledger.append('telemetry', new Map([[1, 3_700_000 + m]]));
      if (m === 300) {
        await ledger.append('deep-discharge', new Map<number, unknown>([[1, 2], [2, new Map([['socPermille', 40]])]]) as never, { signed: true });
        state.events++;
      }
      if (m % 360 === 0) {
        state.efc += 0.4;
        const t = w.clock.now();
        const body = encodeSummary({
          version: SUMMARY_VERSION,
          events: state.events,
          quantities: {
            numberOfFullCycles: { value: state.efc, unit: '1', updated: t, provenance: 'derived' },
            capacityThroughput: { value: state.efc * 150, unit: 'A.h', updated: t, provenance: 'measured' },
            stateOfCertifiedEnergy: { value: 100 - state.efc * 0.02, unit: '%', updated: t, provenance: 'derived' },
            numberOfDeepDischargeEvents: { value: state.events - 1, unit: '1', updated: t, provenance: 'measured' },
          },
        });
        await ledger.append(SUMMARY_TYPE, body, { signed: true });
      }
    }
    const c = await ledger.checkpoint();
    if (c) {
      // The collector countersigns the day's last checkpoint; the board keeps it in its log.
      const { SegmentLog } = await import('../../ledger/log/segment-log.ts');
      await ledger.flush();
      const log = await SegmentLog.open(ledgerDir(w.board), { readOnly: true });
      let last: Uint8Array | undefined;
      for await (const e of log.entries()) if (e.kind === 3) last = Uint8Array.from(e.payload);
      await log.close();
      const countersignature = countersignCheckpoint({ checkpoint: last!, witnessKey: w.witnessKey, endorsement: w.endorsement, time: w.clock.now() + 5000 });
      w.countersigned.push({ countersignature, checkpoint: last! });
      await ledger.appendWitness(countersignature);
    }
  }
  await ledger.close();
}

export async function makeWorld(days = 4): Promise<PassportWorld & { state: { events: number; efc: number } }> {
  const root = await mkdtemp(join(tmpdir(), 'voltrail-passport-'));
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  const fleet = await makeFleet(root, 'acme-fleet');
  const board = join(root, 'board-a');
  const key = await provisionBoard(clock, fleet, board);
  const witnessKey = PrivateKey.generate();
  const endorsement = await fleet.endorseWitness({ publicKey: witnessKey.publicKey, curve: 'secp256k1' }, 'depot-1', { now: clock.now() });
  const w = { root, clock, fleet, board, key, witnessKey, endorsement, countersigned: [] as PassportWorld['countersigned'] };
  // The provisioned record is the log's first event.
  const state = { events: 1, efc: 0 };
  await runBoard(w, days, state);
  return { ...w, state };
}
