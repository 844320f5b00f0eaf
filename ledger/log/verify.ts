// Verification of a whole ledger folder, entry by entry: framing and checksums, every
// signature (with the typ each entry must carry), record sequence and continuity, and every
// checkpoint's tree size and Merkle root recomputed from the leaves before it. Stops at the
// first failure and names it by entry position, record sequence, segment file and byte offset.
import { TYP } from '../typ.ts';
import { MerkleFrontier } from './merkle.ts';
import { EntryKind, LedgerFormatError, type EntryLocation } from './frame.ts';
import { SegmentLog, type LogEntry, type ReplayRun } from './segment-log.ts';
import { loadNativeMerkle } from './native-merkle.ts';
import type { LogStorage } from './storage.ts';
import { decodeCheckpoint, decodeRecord } from './record.ts';
import { scanRecord, type RecordFields } from './record-scan.ts';
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

// Where an entry is, built only when something fails (millions of entries pass; no closure
// per entry either).
const at = (e: LogEntry) => `entry ${e.index} (${e.segment} byte ${e.offset})`;
const loc = (e: LogEntry) => ({ index: e.index, segment: e.segment, offset: e.offset });

/** Ends the opening scan at the first failure, carrying the report. */
class Stop extends Error {
  constructor(readonly report: LedgerReport) {
    super('verification stopped at the first failure');
  }
}

/** Leaves hashed together, at most (a checkpoint or the end of a segment hashes sooner). */
const HASH_BATCH = 1024;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

export async function verifyLedger(
  dir: string,
  /** Which keys and algorithms to accept (a KeyRing's lookup, usually). */
  trust: Pick<Verify1Options, 'keys' | 'algs' | 'backends'>,
  opts: {
    storage?: LogStorage;
    logId?: Uint8Array;
    /**
     * Whether runs of unsigned leaves go through the native scanner when it is built (the
     * default); false checks every entry in JavaScript. Both give the same report.
     */
    nativeScan?: boolean;
  } = {},
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

  // Leaves are hashed in batches (one native call each when the hasher is built), always before
  // a root is compared or reported.
  let unhashed: Uint8Array[] = [];
  const hashLeaves = () => {
    if (unhashed.length === 0) return;
    frontier.appendMany(unhashed);
    unhashed = [];
  };
  const failAfterHashing = (f: LedgerFailure): LedgerReport => {
    hashLeaves();
    return fail(f);
  };
  // Every entry is checked as the opening scan of the log reads it (one pass over the files:
  // the scan checks each frame's checksum once); the first failure stops the scan.
  const visit = (e: LogEntry): void => {
    report.entries++;
    if (e.kind === EntryKind.signedRecord || e.kind === EntryKind.leaf) {
      const seq = frontier.size + unhashed.length;
      let record: RecordFields | undefined;
      let typ: string | undefined;
      if (e.kind === EntryKind.leaf) {
        // The byte walk vouches for almost every record; the full decoder decides the rest.
        record = scanRecord(e.payload);
      }
      if (record === undefined) {
        let recordBytes = e.payload;
        if (e.kind === EntryKind.signedRecord) {
          try {
            const v = verify1(e.payload, { ...trust, typ: [TYP.record, TYP.event] });
            recordBytes = v.payload;
            typ = v.typ;
            if (opts.logId && !equal(v.kid, opts.logId)) throw new Error(`signed by key ${hex(v.kid)}, not this log's ${hex(opts.logId)}`);
          } catch (err) {
            throw new Stop(failAfterHashing({ ...loc(e), seq, reason: `record ${seq}: signature does not verify: ${(err as Error).message}` }));
          }
        }
        try {
          const r = decodeRecord(recordBytes, `record ${seq} at ${at(e)}`);
          record = { seq: r.seq, time: r.time, type: r.type, simulated: r.simulated ?? false, mono: r.mono };
        } catch (err) {
          throw new Stop(failAfterHashing({ ...loc(e), seq, reason: (err as Error).message }));
        }
      }
      if (record.seq !== seq) {
        throw new Stop(failAfterHashing({ ...loc(e), seq, reason: `record at position ${seq} carries sequence ${record.seq}: a record is missing, repeated or out of order` }));
      }
      if (typ !== undefined && (typ === TYP.record) !== (record.type === 'telemetry')) {
        throw new Stop(failAfterHashing({ ...loc(e), seq, reason: `record ${seq} of type '${record.type}' is signed as ${typ}` }));
      }
      unhashed.push(e.payload);
      if (unhashed.length >= HASH_BATCH) hashLeaves();
      report.records++;
      if (e.kind === EntryKind.signedRecord) report.signedRecords++;
      else report.uncovered++;
      if (record.simulated) report.simulatedRecords++;
      report.firstTime ??= record.time;
      report.lastTime = record.time;
    } else if (e.kind === EntryKind.checkpoint) {
      hashLeaves();
      let c;
      try {
        const v = verify1(e.payload, { ...trust, typ: TYP.checkpoint });
        c = decodeCheckpoint(v.payload, `checkpoint at ${at(e)}`);
        if (!equal(c.logId, v.kid)) throw new Error(`names log ${hex(c.logId)} but is signed by ${hex(v.kid)}`);
        if (opts.logId && !equal(v.kid, opts.logId)) throw new Error(`signed by key ${hex(v.kid)}, not this log's ${hex(opts.logId)}`);
      } catch (err) {
        throw new Stop(fail({ ...loc(e), reason: `checkpoint: ${(err as Error).message}` }));
      }
      if (c.size !== frontier.size) {
        throw new Stop(fail({ ...loc(e), reason: `checkpoint covers ${c.size} records but ${frontier.size} precede it` }));
      }
      if (!equal(c.root, frontier.root())) {
        throw new Stop(fail({
          ...loc(e),
          seq: c.size - 1,
          reason: `checkpoint root ${hex(c.root)} differs from the root of the ${c.size} records before it: a record before it was changed`,
        }));
      }
      report.checkpoints++;
      report.uncovered = 0;
    } else if (e.kind === EntryKind.witness) {
      // Witness countersignatures are checked against the fleet's keys by the passport verifier.
    }
  };
  // Runs of unsigned leaves, the bulk of a checkpoint-mode ledger, go through the native
  // scanner when it is built: it checks each frame and record as scanFrame and scanRecord do,
  // sequence included, and hashes the leaf into the frontier; any other entry (or one it cannot
  // vouch for) comes back to `visit`, which decides as it always does.
  const scanner = opts.nativeScan === false ? undefined : loadNativeMerkle();
  const out = new Float64Array(5);
  const run: ReplayRun = { entries: 0, next: 0 };
  const replayRun = scanner
    ? (bytes: Uint8Array, pos: number): ReplayRun => {
        hashLeaves(); // the scanner expects the sequence number frontier.size
        let n = 0;
        frontier.appendInPlace((slots, size) => {
          n = scanner.scanRun(bytes, pos, slots, size, out);
          return size + n;
        });
        run.entries = n;
        run.next = out[0]!;
        if (n > 0) {
          report.entries += n;
          report.records += n;
          report.uncovered += n;
          report.simulatedRecords += out[3]!;
          report.firstTime ??= out[1]!;
          report.lastTime = out[2]!;
        }
        return run;
      }
    : undefined;
  let log: SegmentLog;
  try {
    log = await SegmentLog.open(dir, { storage: opts.storage, readOnly: true, replay: visit, replayRun });
  } catch (err) {
    if (err instanceof Stop) return err.report;
    if (err instanceof LedgerFormatError) return failAfterHashing({ ...err.location, seq: frontier.size + unhashed.length, reason: err.message });
    throw err;
  }
  hashLeaves();
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
