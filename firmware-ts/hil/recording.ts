// What a scenario run left behind, read back from the ledger voltrail wrote (not from the
// runtime's memory): the telemetry as signal rows, the lifecycle events with their details, the
// run's counters and the ledger's own verification. Times are seconds of the scenario, from the
// records' monotonic time (ledger/cddl/record.cddl key 6), which a wall-clock jump does not move.
import { join } from 'node:path';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { EntryKind } from '../../ledger/log/frame.ts';
import { decodeRecord } from '../../ledger/log/record.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { CborValue, Tagged } from '../../ledger/cbor/value.ts';
import { verifyLedger } from '../../ledger/log/verify.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { ES256K } from '../../ledger/cose/algorithms.ts';
import type { SignerBackend } from '../../ledger/signers/backend.ts';
import { FAULT_NAMES } from '../../devices/snapshot.ts';
import { snapshotFromBody } from '../telemetry/telemetry-body.ts';
import type { COUNTERS } from './scenario.ts';

/** One telemetry record as signals; null where the record had no value. */
export interface SignalRow {
  t: number;
  seq: number;
  packVoltageV: number | null;
  currentA: number | null;
  socPct: number | null;
  minCellV: number | null;
  maxCellV: number | null;
  minTempC: number | null;
  maxTempC: number | null;
  contactorClosed: number | null;
  cellsV: number[];
  tempsC: number[];
  faults: string[];
}

export interface RecordedEvent {
  t: number;
  seq: number;
  type: string;
  details: Record<string, string | number>;
}

export interface Recording {
  rows: SignalRow[];
  events: RecordedEvent[];
  counters: Record<(typeof COUNTERS)[number], number>;
  ledger: { ok: boolean; records: number; reason?: string };
  /** Scenario seconds the run lasted. */
  durationS: number;
  /** What the runner did, in order (stimuli, instrument answers), for reports. */
  log: { t: number; text: string }[];
}

const min = (xs: number[]) => (xs.length ? Math.min(...xs) : null);
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : null);

function details(body: CborValue): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!(body instanceof Map)) return out;
  const d = body.get(2);
  if (d instanceof Map) for (const [k, v] of d) if (typeof k === 'string' && (typeof v === 'string' || typeof v === 'number')) out[k] = v;
  return out;
}

/** Reads the ledger in `dataDir`: rows and events, with times = t0S + (mono - mono0) / 1000. */
export async function readRecording(dataDir: string, o: { mono0: number; t0S: number }): Promise<Pick<Recording, 'rows' | 'events'>> {
  const log = await SegmentLog.open(join(dataDir, 'ledger'), { readOnly: true });
  const rows: SignalRow[] = [];
  const events: RecordedEvent[] = [];
  try {
    for await (const e of log.entries()) {
      if (e.kind === EntryKind.checkpoint) continue;
      const payload = e.kind === EntryKind.signedRecord ? ((decodeCbor(e.payload) as Tagged).value as Uint8Array[])[2]! : e.payload;
      const r = decodeRecord(payload, `entry ${e.index}`);
      const t = o.t0S + (r.mono - o.mono0) / 1000;
      if (r.type !== 'telemetry') {
        events.push({ t, seq: r.seq, type: r.type, details: details(r.body) });
        continue;
      }
      const s = snapshotFromBody(r.body, r.time);
      const cells = s.cellVoltagesMv.map((mv) => mv / 1000);
      rows.push({
        t,
        seq: r.seq,
        packVoltageV: s.packVoltageV,
        currentA: s.currentA,
        socPct: s.socPct,
        minCellV: min(cells),
        maxCellV: max(cells),
        minTempC: min(s.temperaturesC),
        maxTempC: max(s.temperaturesC),
        contactorClosed: s.contactorClosed === null ? null : s.contactorClosed ? 1 : 0,
        cellsV: cells,
        tempsC: s.temperaturesC,
        faults: FAULT_NAMES.filter((n) => s.faults[n]),
      });
    }
  } finally {
    await log.close();
  }
  return { rows, events };
}

/** Verifies the ledger against the run's own key (and only it). */
export async function verifyRecording(dataDir: string, publicKey: Uint8Array, backend: SignerBackend): Promise<Recording['ledger']> {
  const ring = new KeyRing();
  ring.add(publicKey, 'secp256k1');
  const report = await verifyLedger(join(dataDir, 'ledger'), { keys: ring.lookup, algs: [ES256K], backends: { secp256k1: backend } });
  return { ok: report.ok, records: report.records, ...(report.failure ? { reason: `record ${report.failure.seq ?? '?'}: ${report.failure.reason}` } : {}) };
}

/** The value of a signal (scenario.ts SIGNAL) in a row. */
export function signalValue(row: SignalRow, signal: string): number | null {
  const m = /^(cell|temp):(\d+)$/.exec(signal);
  if (m) return (m[1] === 'cell' ? row.cellsV : row.tempsC)[Number(m[2]) - 1] ?? null;
  const v = row[signal as keyof SignalRow];
  return typeof v === 'number' ? v : null;
}
