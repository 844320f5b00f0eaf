// Verification of a whole ledger folder, entry by entry: framing and checksums, every
// signature (with the typ each entry must carry), record sequence and continuity, and every
// checkpoint's tree size and Merkle root recomputed from the leaves before it. Stops at the
// first failure and names it by entry position, record sequence, segment file and byte offset.
import { TYP } from '../typ.ts';
import { MerkleFrontier } from './merkle.ts';
import { EntryKind, LedgerFormatError, type EntryLocation } from './frame.ts';
import { SegmentLog } from './segment-log.ts';
import type { LogStorage } from './storage.ts';
import { decodeCheckpoint, decodeRecord } from './record.ts';
import { verify1, type Verify1Options } from '../cose/sign1.ts';

export interface LedgerFailure extends EntryLocation {
  /** Sequence number of the record involved, when the entry is (or should be) a record. */
  seq?: number;
  reason: string;
}

export interface LedgerReport {
  ok: boolean;
  entries: number;
  records: number;
  signedRecords: number;
  checkpoints: number;
  simulatedRecords: number;
  /** Records after the last checkpoint in checkpoint mode: durable, not yet covered by a signature. */
  uncovered: number;
  root: string;
  firstTime?: number;
  lastTime?: number;
  failure?: LedgerFailure;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

export async function verifyLedger(
  dir: string,
  /** Which keys and algorithms to accept (a KeyRing's lookup, usually). */
  trust: Pick<Verify1Options, 'keys' | 'algs' | 'backends'>,
  opts: { storage?: LogStorage; logId?: Uint8Array } = {},
): Promise<LedgerReport> {
  const frontier = new MerkleFrontier();
  const report: LedgerReport = {
    ok: true,
    entries: 0,
    records: 0,
    signedRecords: 0,
    checkpoints: 0,
    simulatedRecords: 0,
    uncovered: 0,
    root: '',
  };
  const fail = (f: LedgerFailure): LedgerReport => {
    report.ok = false;
    report.failure = f;
    report.root = hex(frontier.root());
    return report;
  };

  let log: SegmentLog;
  try {
    log = await SegmentLog.open(dir, { storage: opts.storage, readOnly: true });
  } catch (err) {
    if (err instanceof LedgerFormatError) return fail({ ...err.location, reason: err.message });
    throw err;
  }
  try {
    for await (const batch of log.entryBatches()) {
      for (const e of batch) {
        report.entries++;
        const at = `entry ${e.index} (${e.segment} byte ${e.offset})`;
        const loc = { index: e.index, segment: e.segment, offset: e.offset };
        if (e.kind === EntryKind.signedRecord || e.kind === EntryKind.leaf) {
          const seq = frontier.size;
          let recordBytes = e.payload;
          let typ: string | undefined;
          if (e.kind === EntryKind.signedRecord) {
            try {
              const v = verify1(e.payload, { ...trust, typ: [TYP.record, TYP.event] });
              recordBytes = v.payload;
              typ = v.typ;
              if (opts.logId && !equal(v.kid, opts.logId)) throw new Error(`signed by key ${hex(v.kid)}, not this log's ${hex(opts.logId)}`);
            } catch (err) {
              return fail({ ...loc, seq, reason: `record ${seq}: signature does not verify: ${(err as Error).message}` });
            }
          }
          let record;
          try {
            record = decodeRecord(recordBytes, `record ${seq} at ${at}`);
          } catch (err) {
            return fail({ ...loc, seq, reason: (err as Error).message });
          }
          if (record.seq !== seq) {
            return fail({ ...loc, seq, reason: `record at position ${seq} carries sequence ${record.seq}: a record is missing, repeated or out of order` });
          }
          if (typ !== undefined && (typ === TYP.record) !== (record.type === 'telemetry')) {
            return fail({ ...loc, seq, reason: `record ${seq} of type '${record.type}' is signed as ${typ}` });
          }
          frontier.append(e.payload);
          report.records++;
          if (e.kind === EntryKind.signedRecord) report.signedRecords++;
          else report.uncovered++;
          if (record.simulated) report.simulatedRecords++;
          report.firstTime ??= record.time;
          report.lastTime = record.time;
        } else if (e.kind === EntryKind.checkpoint) {
          let c;
          try {
            const v = verify1(e.payload, { ...trust, typ: TYP.checkpoint });
            c = decodeCheckpoint(v.payload, `checkpoint at ${at}`);
            if (!equal(c.logId, v.kid)) throw new Error(`names log ${hex(c.logId)} but is signed by ${hex(v.kid)}`);
            if (opts.logId && !equal(v.kid, opts.logId)) throw new Error(`signed by key ${hex(v.kid)}, not this log's ${hex(opts.logId)}`);
          } catch (err) {
            return fail({ ...loc, reason: `checkpoint: ${(err as Error).message}` });
          }
          if (c.size !== frontier.size) {
            return fail({ ...loc, reason: `checkpoint covers ${c.size} records but ${frontier.size} precede it` });
          }
          if (!equal(c.root, frontier.root())) {
            return fail({
              ...loc,
              seq: c.size - 1,
              reason: `checkpoint root ${hex(c.root)} differs from the root of the ${c.size} records before it: a record before it was changed`,
            });
          }
          report.checkpoints++;
          report.uncovered = 0;
        } else if (e.kind === EntryKind.witness) {
          // Witness countersignatures are checked against the fleet's keys by the passport verifier.
        }
      }
    }
  } catch (err) {
    if (err instanceof LedgerFormatError) return fail({ ...err.location, seq: frontier.size, reason: err.message });
    throw err;
  }
  if (log.recovery.droppedBytes > 0) {
    return fail({
      index: log.length,
      seq: frontier.size,
      segment: log.recovery.segment,
      offset: log.recovery.offset,
      reason: `entry ${log.length} (${log.recovery.segment} byte ${log.recovery.offset}) is damaged or torn: ${log.recovery.droppedBytes} bytes do not form a valid entry (a power cut leaves only never-acknowledged bytes here; anything else is tampering)`,
    });
  }
  report.root = hex(frontier.root());
  return report;
}
