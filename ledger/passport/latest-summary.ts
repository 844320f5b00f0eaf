// Reads a board's ledger for what the lifecycle accounts restart from: the newest
// `lifecycle-summary` record and the number of event records in the log (every signed record
// that is neither telemetry nor a summary), which the next summary must count.
import { peekSign1Payload } from '../identity/cose-peek.ts';
import { EntryKind } from '../log/frame.ts';
import { decodeRecord } from '../log/record.ts';
import { SegmentLog } from '../log/segment-log.ts';
import { decodeSummary, SUMMARY_TYPE, type LifecycleSummary } from './lifecycle-summary.ts';

export interface LatestSummary {
  summary?: LifecycleSummary;
  /** Sequence number of that summary. */
  seq?: number;
  /** Event records in the whole log. */
  events: number;
}

export async function latestSummary(dir: string): Promise<LatestSummary> {
  const out: LatestSummary = { events: 0 };
  let log: SegmentLog;
  try {
    log = await SegmentLog.open(dir, { readOnly: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  let seq = 0;
  try {
    for await (const batch of log.entryBatches()) {
      for (const e of batch) {
        if (e.kind === EntryKind.leaf) seq++;
        if (e.kind !== EntryKind.signedRecord) continue;
        const rec = decodeRecord(peekSign1Payload(e.payload), `${dir}: record ${seq}`);
        seq++;
        if (rec.type === 'telemetry') continue;
        if (rec.type === SUMMARY_TYPE) {
          out.summary = decodeSummary(rec.body, `${dir}: record ${rec.seq}`);
          out.seq = rec.seq;
          continue;
        }
        out.events++;
      }
    }
  } finally {
    await log.close().catch(() => undefined);
  }
  return out;
}
