// The battery's ledger: records appended to the durable segment log as RFC 9162 Merkle leaves,
// in one of two signing modes (ledger/README.md):
// - per-record: every record is its own COSE_Sign1 (lifecycle events always are);
// - checkpoint: records are unsigned leaves, and a signed checkpoint over the tree size, root
//   and time is added every N records or T ms, and when the ledger closes.
// An append resolves once the record is durable. The Merkle frontier is rebuilt on open by
// replaying the log, so memory stays O(log n) however long the history grows. Records of one
// turn of the event loop (single appends and appendMany alike) are encoded into one chunk laid
// out as it goes to disk (entry-chunk.ts), sealed at the end of the turn, at a checkpoint or
// when full: signed in one batch (per-record mode), framed and leaf-hashed in one native call,
// and handed to the group commit as one piece; appendMany settles a whole batch with one promise.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../hal/clock.ts';
import { TYP } from '../typ.ts';
import type { CborValue } from '../cbor/value.ts';
import { MerkleFrontier } from './merkle.ts';
import { loadNativeMerkle } from './native-merkle.ts';
import { EntryKind, isLeafKind } from './frame.ts';
import { SegmentLog, type AppendSettle, type RecoveryReport } from './segment-log.ts';
import type { LogStorage } from './storage.ts';
import { encodeCheckpoint, writeBodyBytes, type BodyWriter, type Checkpoint, type LedgerRecord } from './record.ts';
import { CHUNK_BYTES, EntryChunk, appendFrames } from './entry-chunk.ts';
import { COSE_SIGN1_TAG, sign1, type CoseSigner } from '../cose/sign1.ts';
import { decodeCbor } from '../cbor/decode.ts';
import { Tagged } from '../cbor/value.ts';

export type SigningMode = 'per-record' | 'checkpoint';

export interface LedgerOptions {
  /** Folder of the segment files. */
  dir: string;
  signer: CoseSigner;
  /** How telemetry is signed; events are always signed per record. Default 'checkpoint'. */
  mode?: SigningMode;
  /** Checkpoint after this many unsigned leaves (default 1000). */
  checkpointEvery?: number;
  /** ... or once the oldest unsigned leaf is this old, in ms (default 60 000). */
  checkpointIntervalMs?: number;
  /** Marks every record as made by a simulator run. */
  simulated?: boolean;
  clock: Clock;
  storage?: LogStorage;
  segmentBytes?: number;
  /** Opens the files read-only: size, root and checkpoints can be read, appends are refused (by the log). */
  readOnly?: boolean;
}

export interface AppendResult {
  seq: number;
  /** Position of the entry in the log (records and checkpoints). */
  index: number;
}

/**
 * One record for appendMany: its body as a value, or as its canonical CBOR already written
 * (`bodyBytes`, e.g. encodeTelemetryBody), which skips building and encoding a value; the
 * bytes are checked before they are stored.
 */
export type RecordInput =
  | { type: string; body: CborValue; bodyBytes?: undefined; signed?: boolean }
  | { type: string; bodyBytes: Uint8Array; body?: undefined; signed?: boolean };

export interface AppendManyResult {
  /** Sequence number of the first record; the others follow it without gaps. */
  seq: number;
  count: number;
}

/** Told once a record of the open chunk is durable: `at` is its position in the chunk. */
interface OpenSettle {
  at: number;
  resolve(firstIndexOfChunk: number): void;
  reject(err: Error): void;
}

// A promise per append call, settled without a closure per call: `new Promise(hold)` leaves its
// resolve and reject functions in `held`, and a settle object (a class instance, whose
// methods are shared) calls them. At hundreds of thousands of appends a second the closures
// (and, under the development loader, their name bookkeeping) showed in the profile.
let heldResolve: (value: never) => void = () => undefined;
let heldReject: (err: Error) => void = () => undefined;
function hold(resolve: (value: never) => void, reject: (err: Error) => void): void {
  heldResolve = resolve;
  heldReject = reject;
}

/** A new promise and the functions that settle it. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: Error) => void } {
  const promise = new Promise<T>(hold);
  return { promise, resolve: heldResolve as (value: T) => void, reject: heldReject };
}

/** Settles an append() call: its record's index is the chunk's first plus its place in it. */
class RecordSettle implements OpenSettle {
  constructor(
    public at: number,
    readonly seq: number,
    readonly done: (r: AppendResult) => void,
    readonly reject: (err: Error) => void,
  ) {}

  resolve(firstIndexOfChunk: number): void {
    this.done({ seq: this.seq, index: firstIndexOfChunk + this.at });
  }
}

/** Settles an appendMany or appendWritten call once its last record is durable. */
class BatchSettle implements OpenSettle {
  at = 0;
  constructor(
    readonly seq: number,
    readonly count: number,
    readonly done: (r: AppendManyResult) => void,
    readonly reject: (err: Error) => void,
  ) {}

  resolve(): void {
    this.done({ seq: this.seq, count: this.count });
  }
}

/** An appendWritten batch: every record of one type, its body written from its item. */
interface WrittenBatch<T> {
  type: string;
  write: BodyWriter<T>;
  signed: boolean;
}

/** Leaves hashed together on open, at most: enough to amortise a call, little memory held. */
const HASH_BATCH = 256;

/**
 * Sealed chunks of at least this many entries are framed and hashed on a thread of libuv's
 * pool (MerkleFrontier.appendFramesAsync) where the native hasher is built: their hashing (a
 * few hundred ns a record) then overlaps the next records' encoding. Smaller ones (a runtime
 * appending a record a second) are hashed at once, which costs less than the trip.
 */
export const ASYNC_HASH_ENTRIES = 64;

/**
 * A step of the frontier's queue, run in order (Ledger.#runSteps): a sealed chunk, framed and
 * hashed, then handed to the log (`then`); or only `then`: a checkpoint's root and entry, a
 * witness entry, a flush, anything that must come after the chunks sealed before it.
 */
interface FrontierStep {
  chunk?: EntryChunk;
  bytes?: Uint8Array;
  /** Must not throw: it hands errors to whoever waits on it. */
  then(): void;
}

export class Ledger {
  readonly dir: string;
  readonly recovery: RecoveryReport;
  #log: SegmentLog;
  #signer: CoseSigner;
  #mode: SigningMode;
  #every: number;
  #intervalMs: number;
  #simulated: boolean;
  #clock: Clock;
  #frontier: MerkleFrontier;
  /** The chunk records are written into until it is sealed (entry-chunk.ts), and who waits on them. */
  #open: EntryChunk | undefined;
  #openSettles: OpenSettle[] = [];
  /** Leaves not yet covered by a checkpoint, and when the first of them was added. */
  #unsigned = 0;
  #unsignedSince = 0;
  #lastCheckpoint: Checkpoint | undefined;
  /** Tree size covered by the newest checkpoint in the log. */
  #checkpointedSize: number;
  /** Bytes of an entry in the last chunk: the size guess of the next chunk's buffer. */
  #entryBytes = 512;
  /** Sealed chunks on their way into the frontier and the log, and what follows them (FrontierStep). */
  #steps: FrontierStep[] = [];
  #stepping = false;
  /** Bytes of the sealed chunks in #steps. */
  #stepBytes = 0;
  /** Leaves sealed so far: the frontier's size once every chunk in #steps is hashed. */
  #leaves: number;
  /** The newest checkpoint asked for, until it is durable. */
  #checkpointing: Promise<Checkpoint | undefined> | undefined;
  /** Drawn at each open: monotonic times in records count from this boot. */
  readonly bootId: Uint8Array = new Uint8Array(randomBytes(16));

  private constructor(opts: LedgerOptions, log: SegmentLog, frontier: MerkleFrontier, unsigned: number, checkpointedSize: number) {
    this.dir = opts.dir;
    this.#log = log;
    this.recovery = log.recovery;
    this.#signer = opts.signer;
    this.#mode = opts.mode ?? 'checkpoint';
    this.#every = opts.checkpointEvery ?? 1000;
    this.#intervalMs = opts.checkpointIntervalMs ?? 60_000;
    this.#simulated = opts.simulated ?? false;
    this.#clock = opts.clock;
    this.#frontier = frontier;
    this.#leaves = frontier.size;
    this.#unsigned = unsigned;
    this.#checkpointedSize = checkpointedSize;
    this.#unsignedSince = opts.clock.monotonic();
  }

  static async open(opts: LedgerOptions): Promise<Ledger> {
    const frontier = new MerkleFrontier();
    let unsigned = 0;
    let checkpointedSize = 0;
    // Replayed leaves are hashed in batches too; the payloads are views of each segment's bytes.
    let leaves: Uint8Array[] = [];
    const hashLeaves = () => {
      frontier.appendMany(leaves);
      leaves = [];
    };
    // Runs of leaves (the bulk of any ledger) are framed-checked and hashed by the native
    // hasher in one call each where it is built; anything else comes to `replay`.
    const native = loadNativeMerkle();
    const out = new Float64Array(2);
    const run = { entries: 0, next: 0 };
    const replayRun = native
      ? (bytes: Uint8Array, pos: number) => {
          hashLeaves(); // the leaves before the run go first
          frontier.appendInPlace((slots, size) => {
            run.entries = native.hashRun(bytes, pos, slots, size, out);
            return size + run.entries;
          });
          run.next = out[0]!;
          unsigned += out[1]!;
          return run;
        }
      : undefined;
    const log = await SegmentLog.open(opts.dir, {
      storage: opts.storage,
      segmentBytes: opts.segmentBytes,
      readOnly: opts.readOnly,
      replayRun,
      replay: (e) => {
        if (isLeafKind(e.kind)) {
          leaves.push(e.payload);
          if (leaves.length >= HASH_BATCH) hashLeaves();
          if (e.kind === EntryKind.leaf) unsigned++;
        } else if (e.kind === EntryKind.checkpoint) {
          unsigned = 0;
          checkpointedSize = frontier.size + leaves.length;
        }
      },
    });
    hashLeaves();
    return new Ledger(opts, log, frontier, unsigned, checkpointedSize);
  }

  /** Records so far (Merkle leaves), durable or pending. */
  get size(): number {
    return this.#leaves + (this.#open?.count ?? 0);
  }

  /** The Merkle root over every record appended so far, once they are all hashed. */
  root(): Promise<Uint8Array> {
    this.#sealOpen();
    return this.#afterSealed(async () => this.#frontier.root());
  }

  get lastCheckpoint(): Checkpoint | undefined {
    return this.#lastCheckpoint;
  }

  /** Entries of the log (records, checkpoints, witnesses) made durable so far: what the uplink may send. */
  get durableEntries(): number {
    return this.#log.length;
  }

  /** Bytes waiting for the disk: what a caller's backpressure watches. */
  get pendingBytes(): number {
    return this.#log.pendingBytes + this.#stepBytes + (this.#open?.bytes ?? 0);
  }

  /**
   * Appends a record; resolves once it is durable. `signed` forces a per-record signature
   * (lifecycle events); otherwise the ledger's mode decides. Appends made in the same turn of
   * the event loop share a chunk (and, in per-record mode, one batch call to the signer).
   */
  append(type: string, body: CborValue, opts: { signed?: boolean } = {}): Promise<AppendResult> {
    // Not an async function, and the log settles this promise directly: one promise per
    // record, which counts at hundreds of thousands of records a second. Errors still arrive
    // as a rejected promise.
    const { promise, resolve, reject } = deferred<AppendResult>();
    try {
      const chunk = this.#openChunk(1);
      const seq = this.size;
      const head = { seq, time: Math.round(this.#clock.now()), type, simulated: this.#simulated, mono: Math.floor(this.#clock.monotonic()), boot: this.bootId };
      this.#appendRecord(chunk, head, body, undefined, undefined, Boolean(opts.signed), this.#clock.monotonic(), new RecordSettle(chunk.count, seq, resolve, reject));
    } catch (err) {
      reject(err as Error);
    }
    return promise;
  }

  /**
   * Appends records in order; resolves once all are durable, with the first one's sequence
   * number (the others follow it without gaps). One promise for the batch: what a producer
   * with several records ready (a burst of samples, a replay) should call. Checkpoints fall
   * between the records where the mode asks for them, exactly as with single appends. When a
   * record cannot be encoded, the records before it stay appended and the promise rejects.
   */
  appendMany(records: readonly RecordInput[]): Promise<AppendManyResult> {
    return this.#batch(records, undefined);
  }

  /**
   * Appends one record of `type` per item, in order, each body written by `write` from its
   * item straight into the chunk that goes to disk (e.g. writeTelemetryBody for snapshots): no
   * body value, no bytes made and copied per record. What a writer writes is checked as
   * appendMany checks `bodyBytes` (one canonical data item, else the call rejects naming the
   * record, and the records before it stay appended). Settles as appendMany does.
   */
  appendWritten<T>(type: string, items: readonly T[], write: BodyWriter<T>, opts: { signed?: boolean } = {}): Promise<AppendManyResult> {
    if (typeof write !== 'function') return Promise.reject(new TypeError('appendWritten: `write` must be a body writer (w, item) => void'));
    return this.#batch(items, { type, write, signed: Boolean(opts.signed) });
  }

  /** One promise for the records of `items`, appended by #appendBatch, settled once the last is durable. */
  #batch<T>(items: readonly (RecordInput | T)[], written: WrittenBatch<T> | undefined): Promise<AppendManyResult> {
    const seq = this.size;
    const count = items.length;
    if (count === 0) return Promise.resolve({ seq, count: 0 });
    const { promise, resolve, reject } = deferred<AppendManyResult>();
    try {
      this.#appendBatch(items, written, new BatchSettle(seq, count, resolve, reject));
    } catch (err) {
      reject(err as Error);
    }
    return promise;
  }

  /**
   * appendMany's work: the records are encoded straight into the open chunk, laid out as they
   * go to disk (entry-chunk.ts). The call is one moment: its records share one reading of the
   * clocks. Records around given body bytes are checked before the call returns (one native
   * walk), so that a bad one fails this call only.
   */
  #appendBatch<T>(items: readonly (RecordInput | T)[], written: WrittenBatch<T> | undefined, settle: OpenSettle): void {
    const time = Math.round(this.#clock.now());
    const mono = this.#clock.monotonic();
    const head = { seq: this.size, time, type: written?.type ?? '', simulated: this.#simulated, mono: Math.floor(mono), boot: this.bootId };
    const last = items.length - 1;
    let chunk = this.#openChunk(items.length);
    try {
      for (let i = 0; i <= last; i++) {
        if (i === last) settle.at = chunk.count;
        const s = i === last ? settle : undefined;
        if (written) this.#appendRecord(chunk, head, undefined, written.write, items[i] as T, written.signed, mono, s);
        else {
          const r = items[i] as RecordInput;
          head.type = r.type;
          if (r.bodyBytes !== undefined) this.#appendRecord(chunk, head, undefined, writeBodyBytes, r.bodyBytes, Boolean(r.signed), mono, s);
          else this.#appendRecord(chunk, head, r.body, undefined, undefined, Boolean(r.signed), mono, s);
        }
        head.seq++;
        if (this.#open !== chunk && i < last) chunk = this.#openChunk(last - i);
      }
      this.#checkOpen();
    } catch (err) {
      // The records before the one that failed stay appended (the caller hears the error).
      this.#checkOpen();
      throw err;
    }
  }

  /**
   * Encodes one record into `chunk` (the open one), counts it toward the next checkpoint, and
   * seals the chunk where a checkpoint falls (so that it covers exactly the records before it)
   * or when it is full. `settle` hears once the record is durable.
   */
  #appendRecord<T>(chunk: EntryChunk, head: Omit<LedgerRecord, 'body'>, body: CborValue | undefined, write: BodyWriter<T> | undefined, item: T, forceSigned: boolean, mono: number, settle: OpenSettle | undefined): void {
    const signed = forceSigned || this.#mode === 'per-record';
    if (signed) chunk.signed(head, body, write, item, head.type === 'telemetry' ? TYP.record : TYP.event, this.#signer);
    else chunk.leaf(head, body, write, item);
    if (settle) this.#openSettles.push(settle);
    let checkpoint = false;
    if (!signed) {
      if (this.#unsigned === 0) this.#unsignedSince = mono;
      this.#unsigned++;
      checkpoint = this.#unsigned >= this.#every || mono - this.#unsignedSince >= this.#intervalMs;
    }
    // Sealed here, not inside checkpoint(), so that a record failing its check throws to the caller.
    if (checkpoint || chunk.bytes >= CHUNK_BYTES) this.#sealOpen();
    if (checkpoint) void this.checkpoint().catch(() => undefined);
  }

  /** The chunk records go into now; a new one is sealed at the end of this turn of the event loop at the latest. */
  #openChunk(records: number): EntryChunk {
    if (this.#open) return this.#open;
    const chunk = new EntryChunk(Math.min(CHUNK_BYTES, records * this.#entryBytes + 1024), Math.max(16, records));
    this.#open = chunk;
    queueMicrotask(() => {
      if (this.#open === chunk) this.#sealOpen();
    });
    return chunk;
  }

  /**
   * Checks the records of the open chunk written around given body bytes; on a failure, the
   * records before the bad one stay (sealed and queued now), and the error is thrown.
   */
  #checkOpen(): void {
    const bad = this.#checkBodies();
    if (!bad) return;
    this.#sealOpen();
    throw bad;
  }

  /** The open chunk's body check; on a failure the chunk keeps the records before the bad one. */
  #checkBodies(): Error | undefined {
    const chunk = this.#open;
    const bad = chunk?.checkBodies();
    if (!chunk || !bad) return undefined;
    // No checkpoint fell between the dropped records (it would have sealed the chunk).
    this.#unsigned -= bad.droppedLeaves;
    const count = chunk.count;
    this.#openSettles = this.#openSettles.filter((s) => s.at < count);
    return bad.error;
  }

  /**
   * Checks, signs, frames and hashes the open chunk and queues it for the group commit. Throws
   * (after queueing the records before it) when a record's body bytes fail their check.
   */
  #sealOpen(): void {
    const bad = this.#checkBodies();
    const chunk = this.#open;
    if (!chunk) return;
    this.#open = undefined;
    const settles = this.#openSettles;
    this.#openSettles = [];
    if (chunk.count === 0) {
      chunk.release();
      if (bad) throw bad;
      return;
    }
    // The log has written the chunk's bytes (or never will) when it settles: its buffer goes
    // back to the pool for a later chunk.
    const settle: AppendSettle = {
      resolve: (first) => {
        chunk.release();
        for (const s of settles) s.resolve(first);
      },
      reject: (err) => {
        chunk.release();
        for (const s of settles) s.reject(err);
      },
    };
    try {
      const bytes = chunk.seal(this.#signer);
      this.#entryBytes = Math.ceil(bytes.length / chunk.count);
      // Every entry of a chunk is a leaf (unsigned records and signed ones alike).
      this.#leaves += chunk.count;
      this.#stepBytes += bytes.length;
      this.#queueStep({
        chunk,
        bytes,
        then: () => {
          this.#stepBytes -= bytes.length;
          try {
            this.#log.enqueueFrames(bytes, chunk.count, settle);
          } catch (err) {
            // The log cannot take them (closed, failed): every caller hears it.
            settle.reject(err as Error);
          }
        },
      });
    } catch (err) {
      // The signer failed: every caller hears it.
      settle.reject(err as Error);
    }
    if (bad) throw bad;
  }

  #queueStep(step: FrontierStep): void {
    this.#steps.push(step);
    this.#runSteps();
  }

  /**
   * Runs the queued steps in order, until one waits for its chunk's hashing off the event loop
   * (then its callback, #stepHashed, goes on). Entries reach the log in the order they were
   * sealed, and a checkpoint's root is taken when exactly the leaves before it are hashed.
   */
  #runSteps(): void {
    if (this.#stepping || this.#frontier.busy) return;
    this.#stepping = true;
    try {
      while (this.#steps.length > 0) {
        const step = this.#steps[0]!;
        const { chunk, bytes } = step;
        if (chunk !== undefined && bytes !== undefined) {
          if (chunk.count >= ASYNC_HASH_ENTRIES && this.#frontier.appendFramesAsync(bytes, chunk.offsets, chunk.count, () => this.#stepHashed())) return;
          appendFrames(this.#frontier, bytes, chunk.offsets, chunk.count);
        }
        this.#steps.shift();
        step.then();
      }
    } finally {
      this.#stepping = false;
    }
  }

  /** The first step's chunk is hashed (off the event loop): hand it on and go on with the rest. */
  #stepHashed(): void {
    this.#steps.shift()!.then();
    this.#runSteps();
  }

  /** Runs `fn` once every chunk sealed so far is hashed and handed to the log; its result. */
  #afterSealed<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.#queueStep({
        then: () => {
          try {
            fn().then(resolve, reject);
          } catch (err) {
            reject(err as Error);
          }
        },
      }),
    );
  }

  /** Adds a signed checkpoint over the whole tree now (if any leaf is not yet covered). */
  checkpoint(): Promise<Checkpoint | undefined> {
    try {
      this.#sealOpen();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const size = this.#leaves;
    if (this.#checkpointedSize === size) return this.#checkpointing ?? Promise.resolve(this.#lastCheckpoint);
    // Read now: the checkpoint is made when it is asked for; its root once the leaves before it are hashed.
    const time = Math.round(this.#clock.now());
    const mono = this.#clock.monotonic();
    this.#unsigned = 0;
    this.#checkpointedSize = size;
    const done = this.#afterSealed(async () => {
      if (this.#frontier.size !== size) throw new Error(`ledger: a checkpoint over ${size} leaves found ${this.#frontier.size} hashed`);
      const c: Checkpoint = { size, root: this.#frontier.root(), time, logId: this.#signer.kid, mono, boot: this.bootId };
      this.#lastCheckpoint = c;
      await this.#log.append(EntryKind.checkpoint, sign1({ payload: encodeCheckpoint(c), typ: TYP.checkpoint, signer: this.#signer }));
      return c;
    });
    this.#checkpointing = done;
    const clear = () => {
      if (this.#checkpointing === done) this.#checkpointing = undefined;
    };
    done.then(clear, clear);
    return done;
  }

  /**
   * Keeps a witness's countersignature of one of this log's checkpoints (identity/witness.ts) as
   * a non-leaf entry: it changes no Merkle root, and a passport carries it beside the checkpoint
   * it names. The caller checks it first (verifyCountersignature against the fleet key); here it
   * must only be a COSE_Sign1 of the witness typ, so no other object can be filed as one.
   */
  async appendWitness(countersignature: Uint8Array): Promise<{ index: number }> {
    if (!(countersignature instanceof Uint8Array)) throw new TypeError('countersignature: expected the COSE_Sign1 bytes (Uint8Array)');
    if (countersignature.length > 8192) throw new RangeError(`countersignature: ${countersignature.length} bytes is over the 8192-byte limit of a witness entry`);
    const typ = protectedTyp(countersignature);
    if (typ !== TYP.witness) throw new TypeError(`countersignature: its typ is ${typ === undefined ? 'missing' : `'${typ}'`}, not '${TYP.witness}'`);
    this.#sealOpen();
    const index = await this.#afterSealed(() => this.#log.append(EntryKind.witness, countersignature));
    return { index };
  }

  /** Checkpoints when the interval has passed; the runtime calls this from its timer. */
  async tick(): Promise<void> {
    if (this.#unsigned > 0 && this.#clock.monotonic() - this.#unsignedSince >= this.#intervalMs) await this.checkpoint();
  }

  async flush(): Promise<void> {
    this.#sealOpen();
    await this.#afterSealed(() => this.#log.flush());
  }

  /** Covers every record with a final checkpoint, then closes the files. */
  async close(): Promise<void> {
    await this.checkpoint();
    await this.#afterSealed(() => this.#log.close());
  }
}

/** The typ (label 16) in a COSE_Sign1's protected header, or undefined when it is not one. */
function protectedTyp(bytes: Uint8Array): unknown {
  try {
    const top = decodeCbor(bytes, { maxDepth: 16, maxSize: 8192 });
    if (!(top instanceof Tagged) || top.tag !== COSE_SIGN1_TAG || !Array.isArray(top.value) || !(top.value[0] instanceof Uint8Array)) return undefined;
    const header = decodeCbor(top.value[0], { maxDepth: 4 });
    return header instanceof Map ? header.get(16) : undefined;
  } catch {
    return undefined;
  }
}
