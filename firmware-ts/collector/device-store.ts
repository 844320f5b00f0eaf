// One device's fleet ledger on the collector's (shared) data folder:
//   devices/<log-id>/log/        the device's entries, verified, at the same indexes as on the
//                                board, each exactly once (a SegmentLog: durable, group commit)
//   devices/<log-id>/state.json  what verification needs to go on (keys, counts, recent checkpoints)
//   devices/<log-id>/pending/    batches that arrived ahead of a gap, or unsigned leaves waiting
//                                for their checkpoint (bounded; the board resends what is dropped)
//   devices/<log-id>/witness/    this fleet's countersignatures of the device's checkpoints
//   devices/<log-id>/lock        held while a batch is stored (device-lock.ts)
// Every batch is handled under the device lock and starts by re-reading state.json, so two
// instances can take turns on one device: an instance whose cached view is stale reopens the log.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EntryKind } from '../../ledger/log/frame.ts';
import { MerkleFrontier } from '../../ledger/log/merkle.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { decodeCheckpoint } from '../../ledger/log/record.ts';
import { peekSign1Payload } from '../../ledger/identity/cose-peek.ts';
import { decodeBatch, encodeBatch, type Ack, type RecordBatch, type RefusalReason, type WireEntry } from '../uplink/wire.ts';
import { withDeviceLock } from './device-lock.ts';
import { DeviceVerifier, newDeviceState, type DeviceState, type VerifierTrust } from './device-verifier.ts';

/** Out-of-order entries kept per device at most (beyond, they are dropped: the board resends them). */
export const MAX_PENDING_ENTRIES = 65_536;
export const MAX_PENDING_BYTES = 32 * 1024 * 1024;

export interface StoreOutcome {
  ack: Ack;
  /** Entries newly stored by this batch. */
  stored: number;
  /** Entries that were already stored (a resend). */
  duplicates: number;
  /** Entries kept in pending/ for later. */
  pending: number;
  /** Entries dropped because pending/ was full. */
  dropped: number;
  refused?: { reason: RefusalReason; detail: string; entries: number };
}

export interface Countersigner {
  countersign(checkpoint: Uint8Array): Uint8Array;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
const pendingName = (from: number) => `${String(from).padStart(16, '0')}.cbor`;

/**
 * Replaces a file by rename, without fsync: state.json and pending/ are caches of what the log
 * holds or the board resends. After a power cut, a state.json whose count differs from the
 * log's (or that does not parse) is rebuilt from the log; a lost pending file is resent.
 */
async function replaceFile(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o644 });
  await rename(tmp, path);
}

export class DeviceStore {
  readonly logId: string;
  readonly dir: string;
  #log: SegmentLog | undefined;
  #witness: SegmentLog | undefined;
  #state: DeviceState;
  #frontier = new MerkleFrontier();
  #verifier: DeviceVerifier;
  #countersigner: Countersigner | undefined;

  constructor(dataDir: string, logId: string, trust: VerifierTrust, countersigner?: Countersigner) {
    this.logId = logId;
    this.dir = join(dataDir, 'devices', logId);
    this.#state = newDeviceState(logId);
    this.#verifier = new DeviceVerifier(trust, (size) => this.#findCheckpoint(size));
    this.#countersigner = countersigner;
  }

  get state(): Readonly<DeviceState> {
    return this.#state;
  }

  /** Verifies and stores a batch (under the device lock); says what to acknowledge. */
  async handle(batch: RecordBatch): Promise<StoreOutcome> {
    await mkdir(join(this.dir, 'pending'), { recursive: true });
    return withDeviceLock(this.dir, () => this.#handleLocked(batch));
  }

  async #sync(): Promise<void> {
    let disk: DeviceState | undefined;
    try {
      disk = JSON.parse(await readFile(join(this.dir, 'state.json'), 'utf8')) as DeviceState;
    } catch (err) {
      // Missing, or cut short by a power cut: rebuilt from the log below.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    if (this.#log && disk && disk.count === this.#state.count && this.#log.length === disk.count) {
      this.#state = disk;
      return; // nobody else wrote since we did
    }
    if (this.#log && !disk && this.#state.count === 0) return;
    // Another instance wrote since our last batch (or this is our first): reopen the files. Our
    // Merkle frontier is kept up to the count we knew; only the entries after it are hashed.
    const known = this.#log ? this.#state.count : 0;
    await this.#log?.close();
    await this.#witness?.close();
    let frontier = known > 0 ? this.#frontier : new MerkleFrontier();
    const hashAll = known === 0;
    this.#log = await SegmentLog.open(join(this.dir, 'log'), {
      replay: (e) => {
        if (hashAll && (e.kind === EntryKind.signedRecord || e.kind === EntryKind.leaf)) frontier.append(e.payload);
      },
    });
    if (!hashAll) {
      if (this.#log.length < known) {
        // The log is shorter than it was: never by our hand. Hash it all again, then check it below.
        frontier = new MerkleFrontier();
        for await (const chunk of this.#log.entryBatches(0)) for (const e of chunk) if (e.kind === EntryKind.signedRecord || e.kind === EntryKind.leaf) frontier.append(e.payload);
      } else {
        for await (const chunk of this.#log.entryBatches(known)) for (const e of chunk) if (e.kind === EntryKind.signedRecord || e.kind === EntryKind.leaf) frontier.append(e.payload);
      }
    }
    this.#witness = await SegmentLog.open(join(this.dir, 'witness'));
    this.#frontier = frontier;
    if (disk && disk.count === this.#log.length) {
      this.#state = disk;
      return;
    }
    // state.json lags the log (a crash between the two writes): verify the stored log again.
    let state = newDeviceState(this.logId);
    let f = new MerkleFrontier();
    for await (const chunk of this.#log.entryBatches(0)) {
      const r = await this.#verifier.run(state, f, chunk);
      state = r.state;
      f = r.frontier;
      if (r.refused || r.accepted < chunk.length) break;
    }
    this.#state = { ...state, count: this.#log.length };
    await this.#saveState();
  }

  async #saveState(): Promise<void> {
    await replaceFile(join(this.dir, 'state.json'), JSON.stringify(this.#state));
  }

  async #handleLocked(batch: RecordBatch): Promise<StoreOutcome> {
    await this.#sync();
    const log = this.#log!;
    const start = this.#state.count;
    const out: StoreOutcome = { ack: { stored: start, countersignatures: [] }, stored: 0, duplicates: 0, pending: 0, dropped: 0 };

    // Entries the fleet already holds: a resend must carry the very same bytes.
    const end = batch.from + batch.entries.length;
    if (batch.from < start) {
      const upTo = Math.min(end, start);
      let i = batch.from;
      for await (const chunk of log.entryBatches(batch.from)) {
        for (const e of chunk) {
          if (e.index >= upTo) break;
          const sent = batch.entries[e.index - batch.from]!;
          if (sent.kind !== e.kind || !same(sent.payload, e.payload)) {
            const detail = `entry ${e.index}: differs from the entry the fleet stored at that index: a second history for the same period`;
            out.refused = { reason: 'conflict', detail, entries: batch.entries.length };
            out.ack.refused = { reason: 'conflict', detail };
            return out;
          }
          // The board may have missed the ack that carried this checkpoint's countersignature.
          if (e.kind === EntryKind.checkpoint && this.#countersigner) out.ack.countersignatures.push(this.#countersigner.countersign(e.payload));
          i = e.index + 1;
        }
        if (i >= upTo) break;
      }
      out.duplicates = upTo - batch.from;
    }

    // Gather a contiguous run from `start`: this batch, then what waits in pending/.
    const byIndex = new Map<number, WireEntry>();
    const pendingFiles = (await readdir(join(this.dir, 'pending'))).filter((n) => n.endsWith('.cbor')).sort();
    for (const name of pendingFiles) {
      try {
        const p = decodeBatch(new Uint8Array(await readFile(join(this.dir, 'pending', name))));
        p.entries.forEach((e, k) => {
          if (p.from + k >= start) byIndex.set(p.from + k, e);
        });
      } catch {
        // A damaged pending file only costs a resend.
      }
    }
    batch.entries.forEach((e, k) => {
      if (batch.from + k >= start) byIndex.set(batch.from + k, e);
    });
    const run: WireEntry[] = [];
    while (byIndex.has(start + run.length)) run.push(byIndex.get(start + run.length)!);

    let refusedAt = Infinity;
    if (run.length > 0) {
      const r = await this.#verifier.run(this.#state, this.#frontier, run);
      if (r.accepted > 0) {
        const countersignatures = this.#countersigner ? r.checkpoints.map((c) => this.#countersigner!.countersign(c)) : [];
        // One group commit for the entries, one for the countersignatures, side by side.
        await Promise.all([...run.slice(0, r.accepted).map((e) => log.append(e.kind, e.payload)), ...countersignatures.map((c) => this.#witness!.append(EntryKind.witness, c))]);
        this.#state = r.state;
        this.#frontier = r.frontier;
        await this.#saveState();
        out.stored = r.accepted;
        out.ack.countersignatures.push(...countersignatures);
      }
      if (r.refused) {
        refusedAt = r.refused.index;
        out.refused = { reason: r.refused.reason, detail: r.refused.detail, entries: Math.max(0, end - r.refused.index) };
        out.ack.refused = { reason: r.refused.reason, detail: r.refused.detail };
      }
    }
    out.ack.stored = this.#state.count;

    // What is left beyond the stored count waits in pending/ (never entries at or after a refusal).
    const left = [...byIndex.keys()].filter((i) => i >= this.#state.count && i < refusedAt).sort((a, b) => a - b);
    let bytes = 0;
    const keep: number[] = [];
    for (const i of left) {
      const n = byIndex.get(i)!.payload.length;
      if (keep.length >= MAX_PENDING_ENTRIES || bytes + n > MAX_PENDING_BYTES) break;
      keep.push(i);
      bytes += n;
    }
    out.dropped = left.length - keep.length;
    const files = new Map<string, Uint8Array>();
    for (let k = 0; k < keep.length; ) {
      const from = keep[k]!;
      const entries: WireEntry[] = [];
      while (k < keep.length && keep[k] === from + entries.length) entries.push(byIndex.get(keep[k++]!)!);
      files.set(pendingName(from), encodeBatch({ from, entries }));
    }
    for (const [name, body] of files) {
      const path = join(this.dir, 'pending', name);
      const old = pendingFiles.includes(name) ? await readFile(path).catch(() => undefined) : undefined;
      if (!old || sha(old) !== sha(body)) await replaceFile(path, body);
    }
    for (const name of pendingFiles) if (!files.has(name)) await unlink(join(this.dir, 'pending', name)).catch(() => undefined);
    out.pending = keep.length;
    return out;
  }

  async #findCheckpoint(size: number): Promise<Uint8Array | undefined> {
    if (!this.#log) return undefined;
    for await (const chunk of this.#log.entryBatches(0)) {
      for (const e of chunk) {
        if (e.kind !== EntryKind.checkpoint) continue;
        try {
          if (decodeCheckpoint(peekSign1Payload(e.payload), 'checkpoint').size === size) return e.payload;
        } catch {
          // stored entries were verified; an unreadable one cannot be the one looked for
        }
      }
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.#log?.close();
    await this.#witness?.close();
    this.#log = undefined;
    this.#witness = undefined;
  }
}
