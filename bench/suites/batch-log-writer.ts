// The fast way to write a large benchmark ledger (checkpoint-log.ts, passport-log.ts): entries go
// to SegmentLog.appendMany in large pipelined group commits (one promise per group, the next
// group encoded while the last is written), and Merkle leaves are hashed in batches by
// MerkleFrontier.appendMany (one native call per batch) instead of one hash call per leaf. The
// entries and their order are those the Ledger writes; only the way there is batched.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { MerkleFrontier } from '../../ledger/log/merkle.ts';

/** Entries per group commit while generating. */
const BATCH = 8192;

export class BatchLogWriter {
  readonly dir: string;
  readonly #log: SegmentLog;
  readonly #frontier = new MerkleFrontier();
  /** Leaves appended since the frontier last took them (hashed together on the next root). */
  #leaves: Uint8Array[] = [];
  #kinds: number[] = [];
  #payloads: Uint8Array[] = [];
  #last: Promise<number> | undefined;

  private constructor(dir: string, log: SegmentLog) {
    this.dir = dir;
    this.#log = log;
  }

  static async open(dir: string): Promise<BatchLogWriter> {
    return new BatchLogWriter(dir, await SegmentLog.open(dir, { segmentBytes: 64 * 1024 * 1024 }));
  }

  /** Leaves in the Merkle tree so far (the next leaf's seq). */
  get size(): number {
    return this.#frontier.size + this.#leaves.length;
  }

  /** An entry that is a Merkle leaf (a telemetry leaf or a signed record), hashed as given. */
  leaf(kind: number, payload: Uint8Array): void {
    this.#leaves.push(payload);
    this.entry(kind, payload);
  }

  /** An entry outside the Merkle tree (a checkpoint, a witness countersignature). */
  entry(kind: number, payload: Uint8Array): void {
    this.#kinds.push(kind);
    this.#payloads.push(payload);
  }

  /** The RFC 9162 root over all leaves so far (hashing the pending ones in one batch). */
  root(): Uint8Array {
    this.#frontier.appendMany(this.#leaves);
    this.#leaves = [];
    return this.#frontier.root();
  }

  /** Whether a group is ready: then `await write()` (checked per entry, awaited per group). */
  get full(): boolean {
    return this.#payloads.length >= BATCH;
  }

  /** Hands the entries so far to the log as one group, once the group before it is durable. */
  async write(): Promise<void> {
    const next = this.#log.appendMany(this.#kinds, this.#payloads);
    this.#kinds = [];
    this.#payloads = [];
    await this.#last;
    this.#last = next;
  }

  /** Writes what is left, closes the log; resolves with the total bytes of its segment files. */
  async close(): Promise<number> {
    await this.write();
    await this.#last;
    await this.#log.close();
    let bytes = 0;
    for (const name of await readdir(this.dir)) bytes += (await stat(join(this.dir, name))).size;
    return bytes;
  }
}
