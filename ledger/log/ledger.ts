// The battery's ledger: records appended to the durable segment log as RFC 9162 Merkle leaves,
// in one of two signing modes (ledger/README.md):
// - per-record: every record is its own COSE_Sign1 (lifecycle events always are);
// - checkpoint: records are unsigned leaves, and a signed checkpoint over the tree size, root
//   and time is added every N records or T ms, and when the ledger closes.
// An append resolves once the record is durable. The Merkle frontier is rebuilt on open by
// replaying the log, so memory stays O(log n) however long the history grows.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../hal/clock.ts';
import { TYP } from '../typ.ts';
import type { CborValue } from '../cbor/value.ts';
import { MerkleFrontier, hashLeaf } from './merkle.ts';
import { EntryKind, isLeafKind } from './frame.ts';
import { SegmentLog, type RecoveryReport } from './segment-log.ts';
import type { LogStorage } from './storage.ts';
import { encodeCheckpoint, encodeRecord, type Checkpoint } from './record.ts';
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
  /** Leaves not yet covered by a checkpoint, and when the first of them was added. */
  #unsigned = 0;
  #unsignedSince = 0;
  #lastCheckpoint: Checkpoint | undefined;
  /** Tree size covered by the newest checkpoint in the log. */
  #checkpointedSize: number;
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
    const log = await SegmentLog.open(opts.dir, {
      storage: opts.storage,
      segmentBytes: opts.segmentBytes,
      replay: (e) => {
        if (isLeafKind(e.kind)) {
          frontier.append(e.payload);
          if (e.kind === EntryKind.leaf) unsigned++;
        } else if (e.kind === EntryKind.checkpoint) {
          unsigned = 0;
          checkpointedSize = frontier.size;
        }
      },
    });
    return new Ledger(opts, log, frontier, unsigned, checkpointedSize);
  }

  /** Records so far (Merkle leaves), durable or pending. */
  get size(): number {
    return this.#frontier.size;
  }

  get root(): Uint8Array {
    return this.#frontier.root();
  }

  get lastCheckpoint(): Checkpoint | undefined {
    return this.#lastCheckpoint;
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
    // Not an async function: one promise per record instead of two, which counts at hundreds
    // of thousands of records a second. Errors still arrive as a rejected promise.
    try {
      return this.#append(type, body, Boolean(opts.signed));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #append(type: string, body: CborValue, forceSigned: boolean): Promise<AppendResult> {
    const seq = this.#frontier.size;
    const bytes = encodeRecord({ seq, time: Math.round(this.#clock.now()), type, body, simulated: this.#simulated, mono: this.#clock.monotonic(), boot: this.bootId });
    const signed = forceSigned || this.#mode === 'per-record';
    const payload = signed ? sign1({ payload: bytes, typ: type === 'telemetry' ? TYP.record : TYP.event, signer: this.#signer }) : bytes;
    this.#frontier.appendLeafHash(hashLeaf(payload));
    const done = this.#log.append(signed ? EntryKind.signedRecord : EntryKind.leaf, payload);
    if (!signed) {
      if (this.#unsigned === 0) this.#unsignedSince = this.#clock.monotonic();
      this.#unsigned++;
      if (this.#unsigned >= this.#every || this.#clock.monotonic() - this.#unsignedSince >= this.#intervalMs) {
        void this.checkpoint().catch(() => undefined);
      }
    }
    return done.then((index) => ({ seq, index }));
  }

  /** Adds a signed checkpoint over the whole tree now (if any leaf is not yet covered). */
  async checkpoint(): Promise<Checkpoint | undefined> {
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
