// The durable, append-only entry log under the ledger: segment files of framed entries
// (frame.ts), group commit (every append waiting at the same moment shares one write and one
// fsync), acknowledgement only once durable, and recovery on open that truncates a torn tail
// and says exactly what it dropped. Old segments are never rewritten (SD-card friendly).
import { join } from 'node:path';
import { nodeStorage, type LogFile, type LogStorage } from './storage.ts';
import {
  checkPayloadSize,
  FRAME_HEADER_BYTES,
  LedgerFormatError,
  parseSegmentHeader,
  scanFrame,
  segmentHeader,
  SEGMENT_HEADER_BYTES,
  writeFrame,
} from './frame.ts';

export interface LogEntry {
  /** Position of the entry in the whole log, from 0. */
  index: number;
  kind: number;
  payload: Uint8Array;
  /** Segment file name and byte offset of the entry's frame, to name it in errors. */
  segment: string;
  offset: number;
}

export interface RecoveryReport {
  /** Segment whose torn tail was cut, if any. */
  segment?: string;
  /** Byte offset where the cut was made. */
  offset?: number;
  /** Bytes removed: writes that were never acknowledged. */
  droppedBytes: number;
  /**
   * Where the removed bytes were kept (`torn-*.bin` beside the segments), so that nothing is
   * destroyed even if the damage was not a power cut.
   */
  quarantined?: string;
}

export interface SegmentLogOptions {
  storage?: LogStorage;
  /** A new segment is started once the current one holds this many bytes. */
  segmentBytes?: number;
  /** Open for reading only: recovery reports a torn tail but changes nothing. */
  readOnly?: boolean;
  /** Called for every valid entry during the opening scan, in order. */
  replay?: (entry: LogEntry) => void;
  /**
   * Offered the segment's bytes before each entry of the opening scan, ahead of `replay`:
   * consumes a run of entries from `pos` (whole frames whose checksum it checked as scanFrame
   * does) and says how many and the position after them; `entries: 0` leaves the entry at `pos`
   * to scanFrame and `replay` as usual. `bytes` is the piece of the segment read so far (the
   * scan reads in pieces), `pos` and `next` positions in it; a frame cut by its end must be
   * left (the scan reads on and offers the rest). For readers of millions of entries (the verifier's
   * native scanner): no object, view or call per entry. `index` is the position of the entry
   * at `pos`; the answer may be one object reused from call to call.
   */
  replayRun?: (bytes: Uint8Array, pos: number, index: number, segment: string) => ReplayRun;
}

/** What a `replayRun` consumed: `entries` entries, ending before byte `next` of the segment. */
export interface ReplayRun {
  entries: number;
  next: number;
}

/** The ledger's files could not be written: disk full, read-only media, I/O error. */
export class LedgerWriteError extends Error {
  readonly code: string | undefined;
  constructor(message: string, options?: ErrorOptions & { code?: string }) {
    super(message, options);
    this.name = 'LedgerWriteError';
    this.code = options?.code;
  }
}

/** One group commit writes at most this much, which bounds what a power cut can tear. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * The opening scan reads segments in pieces of this size (fresh buffers: replayed payloads
 * are views of them and may be kept). At least the largest frame, so that a piece starting at
 * a frame holds all of it.
 */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

const SEGMENT_RE = /^seg-(\d{16})\.vtl$/;
const segmentName = (first: number) => `seg-${String(first).padStart(16, '0')}.vtl`;

function isSegmentHeader(b: Uint8Array): boolean {
  try {
    parseSegmentHeader(b, '');
    return true;
  } catch {
    return false;
  }
}

/** Told once an entry is durable (with its index), or that it never will be. */
export interface AppendSettle {
  resolve(index: number): void;
  reject(err: Error): void;
}

interface Pending {
  /** The entry's kind; 0 for a chunk of entries already framed (enqueueFrames). */
  kind: number;
  /** Framed at the group commit, straight into the batch's buffer; or the framed chunk itself. */
  payload: Uint8Array;
  /** Bytes of its frame (or of the chunk). */
  size: number;
  /** Index of the entry (or of the chunk's first entry). */
  index: number;
  /** Entries it holds: 1, or the entries of a framed chunk. */
  count: number;
  /**
   * Absent on all but the last entry of an appendMany: entries become durable in order, so the
   * last one's settling speaks for the whole call (and a failure rejects every entry after it).
   */
  settle: AppendSettle | undefined;
}

function describeIoError(err: unknown, dir: string): LedgerWriteError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const what =
    code === 'ENOSPC'
      ? `the disk holding ${dir} is full; free space (or move --data-dir) and restart`
      : code === 'EROFS'
        ? `${dir} is on read-only media; remount it read-write or choose another --data-dir`
        : code === 'EACCES' || code === 'EPERM'
          ? `no permission to write in ${dir}; check its owner and mode`
          : `writing the ledger in ${dir} failed (${code ?? (err as Error)?.message})`;
  return new LedgerWriteError(what, { cause: err, code });
}

export class SegmentLog {
  readonly dir: string;
  readonly recovery: RecoveryReport;
  #storage: LogStorage;
  #segmentBytes: number;
  #readOnly: boolean;
  #segments: { name: string; first: number }[];
  #file: LogFile | undefined;
  #durableCount: number;
  #nextIndex: number;
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #flushing: Promise<void> | undefined;
  #failed: LedgerWriteError | undefined;
  #closed = false;

  private constructor(dir: string, opts: Required<Pick<SegmentLogOptions, 'segmentBytes' | 'readOnly'>> & { storage: LogStorage }, segments: { name: string; first: number }[], count: number, file: LogFile | undefined, recovery: RecoveryReport) {
    this.dir = dir;
    this.#storage = opts.storage;
    this.#segmentBytes = opts.segmentBytes;
    this.#readOnly = opts.readOnly;
    this.#segments = segments;
    this.#durableCount = count;
    this.#nextIndex = count;
    this.#file = file;
    this.recovery = recovery;
  }

  static async open(dir: string, opts: SegmentLogOptions = {}): Promise<SegmentLog> {
    const storage = opts.storage ?? nodeStorage;
    const readOnly = opts.readOnly ?? false;
    if (!readOnly) {
      try {
        await storage.mkdir(dir);
      } catch (err) {
        throw describeIoError(err, dir);
      }
    }
    const names = (await storage.list(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    const segments: { name: string; first: number }[] = [];
    let count = 0;
    const recovery: RecoveryReport = { droppedBytes: 0 };
    let lastFile: LogFile | undefined;
    for (let s = 0; s < names.length; s++) {
      const name = names[s]!;
      const isLast = s === names.length - 1;
      const file = await storage.open(join(dir, name), isLast && !readOnly ? 'append' : 'read');
      try {
        // Read in chunks, not whole: memory stays bounded by READ_CHUNK_BYTES whatever the
        // segment size. `bytes` holds the file from byte `chunkStart` on; positions below
        // are file offsets.
        const size = file.size;
        let chunkStart = 0;
        let bytes = await file.read(0, Math.min(size, READ_CHUNK_BYTES));
        let first: number;
        if (isLast && (size < SEGMENT_HEADER_BYTES || (size === SEGMENT_HEADER_BYTES && !isSegmentHeader(bytes)))) {
          // A segment whose header never became durable (cut short, or torn in place: a new
          // segment's header is synced before any frame is written): nothing in it was
          // acknowledged.
          first = count;
          recovery.segment = name;
          recovery.offset = 0;
          recovery.droppedBytes += size;
          if (!readOnly) {
            await file.truncate(0);
            await file.append(segmentHeader(first));
            await file.sync();
          }
        } else {
          first = parseSegmentHeader(bytes, `${join(dir, name)}`, { index: count, segment: name, offset: 0 });
        }
        if (first !== count) {
          throw new LedgerFormatError(
            `${join(dir, name)}: segment starts at entry ${first} but the entries before it end at ${count}; a segment is missing or was replaced`,
            { index: count, segment: name, offset: 0 },
          );
        }
        let pos = SEGMENT_HEADER_BYTES;
        while (pos < size) {
          if (opts.replayRun) {
            const at = pos - chunkStart;
            const run = opts.replayRun(bytes, at, count, name);
            if (run.entries > 0) {
              if (!(run.next > at && run.next <= bytes.length)) throw new RangeError(`replayRun consumed ${run.entries} entries from byte ${pos} of ${name} but ends at byte ${chunkStart + run.next}`);
              count += run.entries;
              pos = chunkStart + run.next;
              continue;
            }
          }
          const f = scanFrame(bytes, pos - chunkStart);
          if (!f.ok && f.reason === 'truncated' && chunkStart < pos && chunkStart + bytes.length < size) {
            // The chunk ends inside this frame: read on from its start (a chunk holds the
            // largest frame, so the next try decides).
            chunkStart = pos;
            bytes = await file.read(pos, Math.min(size - pos, READ_CHUNK_BYTES));
            continue;
          }
          if (!f.ok) {
            // A power cut can only tear the last group commit, which is at most MAX_BATCH_BYTES.
            // Damage further from the end hit acknowledged entries: refuse rather than cut them.
            if (!isLast || size - pos > MAX_BATCH_BYTES) {
              throw new LedgerFormatError(
                `${join(dir, name)}: entry ${count} at byte ${pos} is damaged (${f.reason}) and acknowledged entries follow it; the ledger needs repair from a copy (run 'voltrail ledger verify' for details)`,
                { index: count, segment: name, offset: pos },
              );
            }
            recovery.segment = name;
            recovery.offset = pos;
            recovery.droppedBytes += size - pos;
            if (!readOnly) {
              recovery.quarantined = join(dir, `torn-${name.replace(/\.vtl$/, '')}-${pos}.bin`);
              const tail = chunkStart + bytes.length === size ? bytes.subarray(pos - chunkStart) : await file.read(pos, size - pos);
              await storage.writeFile(recovery.quarantined, tail);
              await storage.syncDir(dir);
              await file.truncate(pos);
              await file.sync();
            }
            break;
          }
          opts.replay?.({ index: count, kind: f.kind, payload: f.payload, segment: name, offset: pos });
          count++;
          pos = chunkStart + f.next;
        }
        segments.push({ name, first });
      } catch (err) {
        await file.close();
        throw err;
      }
      if (isLast && !readOnly) lastFile = file;
      else await file.close();
    }
    return new SegmentLog(dir, { storage, segmentBytes: opts.segmentBytes ?? 16 * 1024 * 1024, readOnly }, segments, count, lastFile, recovery);
  }

  /** Entries made durable so far. */
  get length(): number {
    return this.#durableCount;
  }

  /** Index the next append will get. */
  get nextIndex(): number {
    return this.#nextIndex;
  }

  /** Bytes waiting for the next group commit. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get failure(): LedgerWriteError | undefined {
    return this.#failed;
  }

  /**
   * Appends one entry; resolves with its index once it is durable (fsynced), never before.
   * The payload is framed at the next group commit, not copied now: it must not change until
   * the append resolves (the ledger's payloads are fresh arrays that nothing writes again).
   */
  append(kind: number, payload: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new LedgerWriteError(`the ledger in ${this.dir} is closed`));
    if (this.#readOnly) return Promise.reject(new LedgerWriteError(`the ledger in ${this.dir} was opened read-only`));
    if (this.#failed) return Promise.reject(this.#failed);
    checkPayloadSize(payload);
    return new Promise<number>((resolve, reject) => this.#enqueue(kind, payload, { resolve, reject }));
  }

  /**
   * Appends entries in order, in as few group commits as their size allows; resolves with the
   * index of the first once all are durable (one promise for the lot, not one per entry).
   * `kinds` is one kind for all or one per payload. The same rule as append: payloads must not
   * change until it resolves.
   */
  appendMany(kinds: number | readonly number[], payloads: readonly Uint8Array[]): Promise<number> {
    if (this.#closed) return Promise.reject(new LedgerWriteError(`the ledger in ${this.dir} is closed`));
    if (this.#readOnly) return Promise.reject(new LedgerWriteError(`the ledger in ${this.dir} was opened read-only`));
    if (this.#failed) return Promise.reject(this.#failed);
    if (typeof kinds !== 'number' && kinds.length !== payloads.length) {
      return Promise.reject(new RangeError(`appendMany: ${kinds.length} kinds for ${payloads.length} payloads`));
    }
    try {
      for (const p of payloads) checkPayloadSize(p);
    } catch (err) {
      return Promise.reject(err);
    }
    if (payloads.length === 0) return Promise.resolve(this.#nextIndex);
    const first = this.#nextIndex;
    return new Promise<number>((resolve, reject) => {
      const last = payloads.length - 1;
      for (let i = 0; i <= last; i++) {
        this.#enqueue(typeof kinds === 'number' ? kinds : kinds[i]!, payloads[i]!, i === last ? { resolve: () => resolve(first), reject } : undefined);
      }
    });
  }

  /**
   * The append without a promise, for layers that settle many entries with one (Ledger): the
   * entry is queued for the next group commit and `settle` is told when it is durable. Throws
   * (instead of rejecting) when the log cannot take it.
   */
  enqueue(kind: number, payload: Uint8Array, settle?: AppendSettle): number {
    if (this.#closed) throw new LedgerWriteError(`the ledger in ${this.dir} is closed`);
    if (this.#readOnly) throw new LedgerWriteError(`the ledger in ${this.dir} was opened read-only`);
    if (this.#failed) throw this.#failed;
    checkPayloadSize(payload);
    return this.#enqueue(kind, payload, settle);
  }

  /**
   * Queues `count` entries already framed (frame.ts) in `frames`, e.g. by MerkleFrontier's
   * appendFrames, for the next group commit, as one piece: the ledger's batch path, which
   * encodes records straight into the bytes that go to disk. They get the next `count`
   * indexes; `settle` hears once all are durable, with the first one's index. The bytes must
   * be whole valid frames (a wrong chunk would be cut as a torn tail at the next open) and must
   * not change until settled; at most MAX_BATCH_BYTES, so a group commit never tears more.
   */
  enqueueFrames(frames: Uint8Array, count: number, settle?: AppendSettle): number {
    if (this.#closed) throw new LedgerWriteError(`the ledger in ${this.dir} is closed`);
    if (this.#readOnly) throw new LedgerWriteError(`the ledger in ${this.dir} was opened read-only`);
    if (this.#failed) throw this.#failed;
    if (!(Number.isSafeInteger(count) && count > 0 && count * FRAME_HEADER_BYTES <= frames.length)) {
      throw new RangeError(`enqueueFrames: count ${count} does not fit ${frames.length} bytes of frames`);
    }
    if (frames.length > MAX_BATCH_BYTES) throw new RangeError(`enqueueFrames: ${frames.length} bytes exceed a group commit's ${MAX_BATCH_BYTES}`);
    const index = this.#nextIndex;
    this.#nextIndex += count;
    this.#pending.push({ kind: 0, payload: frames, size: frames.length, index, count, settle });
    this.#pendingBytes += frames.length;
    this.#flushing ??= this.#flushLoop();
    return index;
  }

  #enqueue(kind: number, payload: Uint8Array, settle: AppendSettle | undefined): number {
    const size = FRAME_HEADER_BYTES + payload.length;
    const index = this.#nextIndex++;
    this.#pending.push({ kind, payload, size, index, count: 1, settle });
    this.#pendingBytes += size;
    this.#flushing ??= this.#flushLoop();
    return index;
  }

  /** Resolves once everything appended so far is durable (or has failed). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flushLoop(): Promise<void> {
    // Let appends made in the same turn of the event loop join this batch.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.#pending.length > 0 && !this.#failed) {
        let take = 0;
        let bytes = 0;
        while (take < this.#pending.length && (take === 0 || bytes + this.#pending[take]!.size <= MAX_BATCH_BYTES)) {
          bytes += this.#pending[take]!.size;
          take++;
        }
        const batch = this.#pending.splice(0, take);
        this.#pendingBytes -= bytes;
        try {
          await this.#writeBatch(batch, bytes);
          const last = batch[batch.length - 1]!;
          this.#durableCount = last.index + last.count;
          for (const p of batch) p.settle?.resolve(p.index);
        } catch (err) {
          this.#failed = err instanceof LedgerWriteError ? err : describeIoError(err, this.dir);
          const rest = this.#pending.splice(0);
          this.#pendingBytes = 0;
          this.#nextIndex = this.#durableCount;
          for (const p of batch) p.settle?.reject(this.#failed);
          for (const p of rest) p.settle?.reject(this.#failed);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #writeBatch(batch: Pending[], bytes: number): Promise<void> {
    if (!this.#file || (this.#file.size + bytes > this.#segmentBytes && this.#file.size > SEGMENT_HEADER_BYTES)) {
      await this.#startSegment(batch[0]!.index);
    }
    const file = this.#file!;
    const before = file.size;
    // Framed chunks (the ledger's batches) are written as they are, no copy; single entries
    // between them are framed into one buffer per run of them; the pieces go in one writev.
    const parts: Uint8Array[] = [];
    for (let i = 0; i < batch.length; ) {
      if (batch[i]!.kind === 0) {
        parts.push(batch[i++]!.payload);
        continue;
      }
      let run = 0;
      let j = i;
      for (; j < batch.length && batch[j]!.kind !== 0; j++) run += batch[j]!.size;
      const b = Buffer.allocUnsafe(run);
      let pos = 0;
      for (; i < j; i++) pos = writeFrame(b, pos, batch[i]!.kind, batch[i]!.payload);
      parts.push(b);
    }
    try {
      await file.append(parts.length === 1 ? parts[0]! : parts);
      await file.sync();
    } catch (err) {
      // Leave no partial batch behind: cut back to the last acknowledged byte.
      try {
        await file.truncate(before);
        await file.sync();
      } catch {
        // Recovery on the next open cuts it instead.
      }
      throw describeIoError(err, this.dir);
    }
  }

  async #startSegment(first: number): Promise<void> {
    const name = segmentName(first);
    const file = await this.#storage.open(join(this.dir, name), 'append');
    if (file.size === 0) {
      await file.append(segmentHeader(first));
      await file.sync();
      await this.#storage.syncDir(this.dir);
    }
    await this.#file?.close();
    this.#file = file;
    this.#segments.push({ name, first });
  }

  /** Every durable entry from `from` on, in order, reading segment by segment. */
  async *entries(from = 0): AsyncGenerator<LogEntry> {
    for await (const batch of this.entryBatches(from)) yield* batch;
  }

  /**
   * The same entries in arrays, one per segment (an await per segment instead of one per
   * entry, for readers of millions of entries). A damaged entry ends its batch early; the
   * LedgerFormatError naming it is thrown on the next step, after the entries before it.
   */
  async *entryBatches(from = 0): AsyncGenerator<LogEntry[]> {
    const segs = this.#segments.slice();
    const end = this.#durableCount;
    for (let s = 0; s < segs.length; s++) {
      const seg = segs[s]!;
      const next = segs[s + 1]?.first ?? end;
      if (next <= from) continue;
      const file = await this.#storage.open(join(this.dir, seg.name), 'read');
      let bytes: Uint8Array;
      try {
        bytes = await file.read(0, file.size);
      } finally {
        await file.close();
      }
      let pos = SEGMENT_HEADER_BYTES;
      const batch: LogEntry[] = [];
      for (let index = seg.first; index < next && index < end; index++) {
        const f = scanFrame(bytes, pos);
        if (!f.ok) {
          if (batch.length > 0) yield batch;
          throw new LedgerFormatError(`${join(this.dir, seg.name)}: entry ${index} at byte ${pos} is damaged (${f.reason})`, {
            index,
            segment: seg.name,
            offset: pos,
          });
        }
        if (index >= from) batch.push({ index, kind: f.kind, payload: f.payload, segment: seg.name, offset: pos });
        pos = f.next;
      }
      if (batch.length > 0) yield batch;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    await this.#file?.close();
    this.#file = undefined;
  }
}
