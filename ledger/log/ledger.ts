// The battery's ledger: records appended to the durable segment log as RFC 9162 Merkle leaves,
// in one of two signing modes (ledger/README.md):
// - per-record: every record is its own COSE_Sign1 (lifecycle events always are);
// - checkpoint: records are unsigned leaves, and a signed checkpoint over the tree size, root
//   and time is added every N records or T ms, and when the ledger closes.
// An append resolves once the record is durable. The Merkle frontier is rebuilt on open by
// replaying the log, so memory stays O(log n) however long the history grows. Leaf hashes are
// taken in batches (up to HASH_BATCH records, and always before a root is read), which the
// native hasher does in one call; appendMany settles a whole batch of records with one promise.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../hal/clock.ts';
import { TYP } from '../typ.ts';
import type { CborValue } from '../cbor/value.ts';
import { MerkleFrontier } from './merkle.ts';
import { EntryKind, isLeafKind } from './frame.ts';
import { SegmentLog, type AppendSettle, type RecoveryReport } from './segment-log.ts';
import type { LogStorage } from './storage.ts';
import { encodeCheckpoint, encodeRecord, encodeRecordWithBody, type Checkpoint } from './record.ts';
import { CHUNK_BYTES, EntryChunk } from './entry-chunk.ts';
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

/** Leaves hashed together, at most: enough to amortise a call, little memory held. */
const HASH_BATCH = 256;

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
  /** Leaves appended but not yet hashed into the frontier (at most HASH_BATCH). */
  #unhashed: Uint8Array[] = [];
  /** Leaves not yet covered by a checkpoint, and when the first of them was added. */
  #unsigned = 0;
  #unsignedSince = 0;
  #lastCheckpoint: Checkpoint | undefined;
  /** Tree size covered by the newest checkpoint in the log. */
  #checkpointedSize: number;
  /** Bytes of an entry in the last chunk: the size guess of the next chunk's buffer. */
  #entryBytes = 512;
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
    const log = await SegmentLog.open(opts.dir, {
      storage: opts.storage,
      segmentBytes: opts.segmentBytes,
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
    return this.#frontier.size + this.#unhashed.length;
  }

  get root(): Uint8Array {
    this.#hashLeaves();
    return this.#frontier.root();
  }

  #hashLeaves(): void {
    if (this.#unhashed.length === 0) return;
    this.#frontier.appendMany(this.#unhashed);
    this.#unhashed = [];
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
    return this.#log.pendingBytes;
  }

  /**
   * Appends a record; resolves once it is durable. `signed` forces a per-record signature
   * (lifecycle events); otherwise the ledger's mode decides.
   */
  append(type: string, body: CborValue, opts: { signed?: boolean } = {}): Promise<AppendResult> {
    // Not an async function, and the log settles this promise directly: one promise per
    // record, which counts at hundreds of thousands of records a second. Errors still arrive
    // as a rejected promise.
    return new Promise<AppendResult>((resolve, reject) => {
      const seq = this.#appendOne(type, body, undefined, Boolean(opts.signed), { resolve: (index) => resolve({ seq, index }), reject });
    });
  }

  /**
   * Appends records in order; resolves once all are durable, with the first one's sequence
   * number (the others follow it without gaps). One promise for the batch: what a producer
   * with several records ready (a burst of samples, a replay) should call. Checkpoints fall
   * between the records where the mode asks for them, exactly as with single appends. When a
   * record cannot be encoded, the records before it stay appended and the promise rejects.
   */
  appendMany(records: readonly RecordInput[]): Promise<AppendManyResult> {
    const seq = this.size;
    if (records.length === 0) return Promise.resolve({ seq, count: 0 });
    return new Promise<AppendManyResult>((resolve, reject) => {
      try {
        this.#appendBatch(records, { resolve: () => resolve({ seq, count: records.length }), reject });
      } catch (err) {
        reject(err as Error);
      }
    });
  }

  /**
   * appendMany's work: the records are encoded straight into chunks laid out as they go to
   * disk (entry-chunk.ts), each chunk signed (per-record mode: one batch call), framed and
   * leaf-hashed in one native call, and queued for the group commit as one piece. The call is
   * one moment: its records share one reading of the clocks. A chunk is sealed where a
   * checkpoint falls, so the checkpoint covers exactly the records before it.
   */
  #appendBatch(records: readonly RecordInput[], settle: AppendSettle): void {
    this.#hashLeaves();
    const time = Math.round(this.#clock.now());
    const mono = this.#clock.monotonic();
    const head = { seq: this.#frontier.size, time, type: '', simulated: this.#simulated, mono: Math.floor(mono), boot: this.bootId };
    const last = records.length - 1;
    let chunk = this.#newChunk(records.length);
    try {
      for (let i = 0; i <= last; i++) {
        const r = records[i]!;
        head.type = r.type;
        const signed = Boolean(r.signed) || this.#mode === 'per-record';
        if (signed) chunk.signed(head, r.body, r.bodyBytes, r.type === 'telemetry' ? TYP.record : TYP.event, this.#signer);
        else chunk.leaf(head, r.body, r.bodyBytes);
        head.seq++;
        let cut = chunk.bytes >= CHUNK_BYTES;
        let checkpoint = false;
        if (!signed) {
          if (this.#unsigned === 0) this.#unsignedSince = mono;
          this.#unsigned++;
          checkpoint = this.#unsigned >= this.#every || mono - this.#unsignedSince >= this.#intervalMs;
          cut ||= checkpoint;
        }
        if (cut) {
          this.#sealChunk(chunk, i === last ? settle : undefined);
          chunk = this.#newChunk(last - i);
        }
        if (checkpoint) void this.checkpoint().catch(() => undefined);
      }
    } catch (err) {
      // The records before the one that failed stay appended (the caller hears the error).
      if (chunk.count > 0 && !chunk.sealed) this.#sealChunk(chunk, undefined);
      throw err;
    }
    if (chunk.count > 0) this.#sealChunk(chunk, settle);
  }

  #newChunk(records: number): EntryChunk {
    return new EntryChunk(Math.min(CHUNK_BYTES, records * this.#entryBytes + 1024), Math.max(1, records));
  }

  /**
   * Checks, signs, frames and hashes the chunk and queues it. When a record's body bytes fail
   * their check, the records before it are queued and the error is thrown: nothing of that
   * record or the ones after it is kept (no checkpoint was due between them: it would have
   * sealed the chunk).
   */
  #sealChunk(chunk: EntryChunk, settle: AppendSettle | undefined): void {
    const bad = chunk.checkBodies();
    if (bad) {
      this.#unsigned -= bad.droppedLeaves;
      if (chunk.count > 0) this.#sealChunk(chunk, undefined);
      throw bad.error;
    }
    const bytes = chunk.seal(this.#frontier, this.#signer);
    this.#entryBytes = Math.ceil(bytes.length / chunk.count);
    this.#log.enqueueFrames(bytes, chunk.count, settle);
  }

  /**
   * Encodes, signs or queues for hashing, and hands the entry to the log; `settle` hears when
   * it is durable. Returns the record's sequence number. Throws before anything changes when
   * the record cannot be encoded or the log cannot take it.
   */
  #appendOne(type: string, body: CborValue | undefined, bodyBytes: Uint8Array | undefined, forceSigned: boolean, settle: AppendSettle | undefined): number {
    const seq = this.size;
    const head = { seq, time: Math.round(this.#clock.now()), type, simulated: this.#simulated, mono: this.#clock.monotonic(), boot: this.bootId };
    let bytes: Uint8Array;
    if (bodyBytes !== undefined) bytes = encodeRecordWithBody(head, bodyBytes);
    else if (body !== undefined) bytes = encodeRecord({ ...head, body });
    else throw new TypeError(`record ${seq}: give its body (a CBOR value) or bodyBytes (its canonical CBOR)`);
    const signed = forceSigned || this.#mode === 'per-record';
    const payload = signed ? sign1({ payload: bytes, typ: type === 'telemetry' ? TYP.record : TYP.event, signer: this.#signer }) : bytes;
    this.#log.enqueue(signed ? EntryKind.signedRecord : EntryKind.leaf, payload, settle);
    this.#unhashed.push(payload);
    if (this.#unhashed.length >= HASH_BATCH) this.#hashLeaves();
    if (!signed) {
      if (this.#unsigned === 0) this.#unsignedSince = this.#clock.monotonic();
      this.#unsigned++;
      if (this.#unsigned >= this.#every || this.#clock.monotonic() - this.#unsignedSince >= this.#intervalMs) {
        void this.checkpoint().catch(() => undefined);
      }
    }
    return seq;
  }

  /** Adds a signed checkpoint over the whole tree now (if any leaf is not yet covered). */
  async checkpoint(): Promise<Checkpoint | undefined> {
    this.#hashLeaves();
    if (this.#checkpointedSize === this.#frontier.size) return this.#lastCheckpoint;
    const c: Checkpoint = {
      size: this.#frontier.size,
      root: this.#frontier.root(),
      time: Math.round(this.#clock.now()),
      logId: this.#signer.kid,
      mono: this.#clock.monotonic(),
      boot: this.bootId,
    };
    this.#unsigned = 0;
    this.#checkpointedSize = c.size;
    this.#lastCheckpoint = c;
    await this.#log.append(EntryKind.checkpoint, sign1({ payload: encodeCheckpoint(c), typ: TYP.checkpoint, signer: this.#signer }));
    return c;
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
    const index = await this.#log.append(EntryKind.witness, countersignature);
    return { index };
  }

  /** Checkpoints when the interval has passed; the runtime calls this from its timer. */
  async tick(): Promise<void> {
    if (this.#unsigned > 0 && this.#clock.monotonic() - this.#unsignedSince >= this.#intervalMs) await this.checkpoint();
  }

  async flush(): Promise<void> {
    await this.#log.flush();
  }

  /** Covers every record with a final checkpoint, then closes the files. */
  async close(): Promise<void> {
    await this.checkpoint();
    await this.#log.close();
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
