// A battery's life for the passport page's tests, in process and on a manual clock: a fleet
// authority, a provisioned board, a checkpoint-mode ledger with telemetry every 10 minutes,
// lifecycle summaries every 6 hours whose state of health and capacity fade, time at extreme
// temperatures and cycles grow, some abuse events (deep discharge, over-temperature, a fault),
// a witness that countersigns the day's last checkpoint, and a status statement. Then the real
// exporter writes the public and the full bundle. Everything is signed with the real keys.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../hal/clock.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { EntryKind } from '../../ledger/log/frame.ts';
import type { FleetAuthority } from '../../ledger/identity/fleet-authority.ts';
import { countersignCheckpoint } from '../../ledger/identity/witness.ts';
import { encodeSummary, SUMMARY_TYPE, SUMMARY_VERSION } from '../../ledger/passport/lifecycle-summary.ts';
import { exportPassport } from '../../ledger/passport/export.ts';
import { encodeBundle } from '../../ledger/passport/bundle.ts';
import { ledgerDir } from '../../firmware-ts/runtime/data-dir.ts';
import { BATTERY, makeFleet, provisionBoard } from './passport-world.ts';

export { BATTERY };

export interface PageWorld {
  root: string;
  fleet: FleetAuthority;
  board: string;
  /** The board key's kid, hex (what the fleet would revoke). */
  boardKid: string;
  full: Uint8Array;
  public: Uint8Array;
  /** Events written (the provisioned record included). */
  events: number;
}

const RATED_AH = 75;

/** `days` days of a pack that cycles about 1.2 times a day, fading about 0.05 % a day. */
export async function makePageWorld(days = 5): Promise<PageWorld> {
  const root = await mkdtemp(join(tmpdir(), 'voltrail-page-'));
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  const fleet = await makeFleet(root, 'acme-fleet');
  const board = join(root, 'board-a');
  const key = await provisionBoard(clock, fleet, board);
  const witnessKey = PrivateKey.generate();
  const endorsement = await fleet.endorseWitness({ publicKey: witnessKey.publicKey, curve: 'secp256k1' }, 'depot-1', { now: clock.now() });
  const ledger = await Ledger.open({ dir: ledgerDir(board), signer: key, clock, checkpointEvery: 30, checkpointIntervalMs: 3_600_000 });
  let events = 1;
  let efc = 0;
  let hot = 0;
  let cold = 0;
  const event = async (type: string, severity: number, details: [string, number | string][]) => {
    await ledger.append(type, new Map<number, unknown>([[1, severity], [2, new Map(details)]]) as never, { signed: true });
    events++;
  };
  for (let d = 0; d < days; d++) {
    for (let m = 0; m < 24 * 60; m += 10) {
      clock.advance(600_000);
      await ledger.append('telemetry', new Map([[1, 3_700_000 + m]]));
      if (d % 2 === 1 && m === 300) await event('deep-discharge', 2, [['socPermille', 35]]);
      if (d === 2 && m === 800) await event('over-temperature', 1, [['tempDeciC', 583]]);
      if (d === 3 && m === 900) await event('fault-raised', 2, [['fault', 'cell-imbalance']]);
      if (m % 360 === 0) {
        efc += 0.3;
        hot += d === 2 ? 0.75 : 0.05;
        cold += d === 0 ? 0.5 : 0;
        const t = clock.now();
        const soh = 100 - 0.05 * (d + m / 1440) - 0.15 * efc;
        const q = (value: number, unit: string, provenance: 'measured' | 'reported' | 'derived') => ({ value, unit, updated: t, provenance });
        await ledger.append(
          SUMMARY_TYPE,
          encodeSummary({
            version: SUMMARY_VERSION,
            events,
            quantities: {
              numberOfFullCycles: q(efc, '1', 'derived'),
              capacityThroughput: q(efc * 2 * RATED_AH, 'A.h', 'measured'),
              energyThroughput: q(efc * 2 * RATED_AH * 0.355, 'kW.h', 'measured'),
              remainingCapacity: q((RATED_AH * soh) / 100, 'A.h', 'derived'),
              stateOfCertifiedEnergy: q(soh, '%', 'derived'),
              timeExtremeHighTemp: q(hot, 'h', 'measured'),
              timeExtremeLowTemp: q(cold, 'h', 'measured'),
              numberOfDeepDischargeEvents: q(Math.floor(d / 2) + (d % 2 === 1 && m > 300 ? 1 : 0), '1', 'measured'),
            },
          }),
          { signed: true },
        );
      }
    }
    await ledger.checkpoint();
    await ledger.flush();
    // The collector countersigns the day's last checkpoint; the board keeps it in its log.
    const log = await SegmentLog.open(ledgerDir(board), { readOnly: true });
    let last: Uint8Array | undefined;
    for await (const e of log.entries()) if (e.kind === EntryKind.checkpoint) last = Uint8Array.from(e.payload);
    await log.close();
    await ledger.appendWitness(countersignCheckpoint({ checkpoint: last!, witnessKey, endorsement, time: clock.now() + 5000 }));
  }
  await ledger.close();
  const status = await fleet.signStatement({ batteryId: BATTERY, status: 'original', time: Date.UTC(2026, 2, 1) });
  const statuses = [status];
  const now = clock.now();
  const full = encodeBundle((await exportPassport({ ledgers: [ledgerDir(board)], tier: 'full', statuses, now })).bundle);
  const pub = encodeBundle((await exportPassport({ ledgers: [ledgerDir(board)], tier: 'public', statuses, now })).bundle);
  return { root, fleet, board, boardKid: Buffer.from(key.kid).toString('hex'), full, public: pub, events };
}

