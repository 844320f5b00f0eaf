// What `voltrail collect --status` shows: every instance's counters (DIR/status/*.json, written
// each second by a running collector) summed, and each device the fleet ledger holds
// (DIR/devices/<log-id>/state.json): battery, entries, records, checkpoints, witnesses.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REFUSAL_REASONS, type RefusalReason } from '../uplink/wire.ts';
import { statusDir, type CollectorStatus } from './collector.ts';
import type { DeviceState } from './device-verifier.ts';

/** A status not rewritten for this long belongs to an instance that is not running. */
const STALE_MS = 10_000;

export interface FleetSummary {
  instances: { clientId: string; live: boolean; connected: boolean; updatedAt: string; batches: number; entriesStored: number }[];
  totals: { batches: number; entriesStored: number; duplicates: number; droppedEntries: number; busy: number; countersignatures: number; refused: Record<RefusalReason, number>; refusedEntries: number };
  lastRefusal?: CollectorStatus['counters']['lastRefusal'];
  devices: { logId: string; batteryId?: string; entries: number; records: number; checkpoints: number; witnesses: number; lastRecordTime?: string }[];
}

async function jsonFiles<T>(dir: string): Promise<T[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const n of names) {
    try {
      out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as T);
    } catch {
      // being replaced right now, or damaged: the next look sees it
    }
  }
  return out;
}

export async function fleetSummary(dataDir: string, now = Date.now()): Promise<FleetSummary> {
  const statuses = await jsonFiles<CollectorStatus>(statusDir(dataDir));
  const totals: FleetSummary['totals'] = {
    batches: 0,
    entriesStored: 0,
    duplicates: 0,
    droppedEntries: 0,
    busy: 0,
    countersignatures: 0,
    refused: Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>,
    refusedEntries: 0,
  };
  let lastRefusal: FleetSummary['lastRefusal'];
  for (const s of statuses) {
    const c = s.counters;
    totals.batches += c.batches;
    totals.entriesStored += c.entriesStored;
    totals.duplicates += c.duplicates;
    totals.droppedEntries += c.droppedEntries;
    totals.busy += c.busy;
    totals.countersignatures += c.countersignatures;
    totals.refusedEntries += c.refusedEntries;
    for (const r of REFUSAL_REASONS) totals.refused[r] += c.refused[r] ?? 0;
    if (c.lastRefusal && (!lastRefusal || c.lastRefusal.at > lastRefusal.at)) lastRefusal = c.lastRefusal;
  }
  const devices: FleetSummary['devices'] = [];
  let ids: string[] = [];
  try {
    ids = await readdir(join(dataDir, 'devices'));
  } catch {
    // no device yet
  }
  for (const id of ids.sort()) {
    try {
      const st = JSON.parse(await readFile(join(dataDir, 'devices', id, 'state.json'), 'utf8')) as DeviceState;
      devices.push({
        logId: id,
        ...(st.batteryId ? { batteryId: st.batteryId } : {}),
        entries: st.count,
        records: st.records,
        checkpoints: st.checkpoints,
        witnesses: st.witnesses,
        ...(st.lastRecordTime ? { lastRecordTime: new Date(st.lastRecordTime).toISOString() } : {}),
      });
    } catch {
      devices.push({ logId: id, entries: 0, records: 0, checkpoints: 0, witnesses: 0 });
    }
  }
  return {
    instances: statuses.map((s) => ({ clientId: s.clientId, live: s.running && now - s.updatedMs < STALE_MS, connected: s.connected, updatedAt: s.updatedAt, batches: s.counters.batches, entriesStored: s.counters.entriesStored })),
    totals,
    ...(lastRefusal ? { lastRefusal } : {}),
    devices,
  };
}
