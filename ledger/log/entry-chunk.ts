// A chunk of ledger entries encoded in place, laid out exactly as they go to disk (frame.ts):
// the ledger's batch path (Ledger.appendMany) writes each record's canonical CBOR (record.ts)
// straight behind a frame header kept for it, so that a record's bytes are written once and
// then framed, hashed (RFC 9162 leaf) and written to the segment file from that same place.
// Signed records (per-record mode, ledger/cddl/cose.cddl) are laid out as the COSE_Sign1 that
// sign1 makes, with room for the signature; `seal` signs them all at once (Sig_structure
// digests natively, one batch call into the signer); then `appendFrames` frames the chunk and
// hashes its leaves in one native call (the ledger's queue does it on libuv's thread pool for
// large chunks, MerkleFrontier.appendFramesAsync).
import { CborWriter } from '../cbor/cbor-writer.ts';
import type { CborValue } from '../cbor/value.ts';
import { sign1Digest, sign1Parts, type CoseSigner } from '../cose/sign1.ts';
import { EntryKind, FRAME_HEADER_BYTES, isLeafKind, sealFrame } from './frame.ts';
import type { MerkleFrontier } from './merkle.ts';
import { loadNativeMerkle } from './native-merkle.ts';
import { chunkBuffers } from './buffer-pool.ts';
import { checkRecordBytes, encodeRecord, writeRecordAround, type BodyWriter, type LedgerRecord } from './record.ts';

/** A chunk is sealed once it holds this many bytes: well under a group commit's 4 MiB. */
export const CHUNK_BYTES = 1024 * 1024;

const EMPTY = new Uint8Array(0);
const native = loadNativeMerkle();
/** Records of signed entries are written here first: their COSE head needs their length. */
const scratch = new CborWriter();

/** The signed entries of one typ waiting for their signatures. */
interface ToSign {
  typ: string;
  /** Record spans: start, end, for each entry. */
  spans: number[];
  /** Where each entry's 64 signature bytes go. */
  at: number[];
}

/** A record whose body was given as bytes failed its check: what `checkBodies` reports. */
export interface BodyCheckFailure {
  error: Error;
  /** Unsigned records (checkpoint-mode leaves) dropped with it and the entries after it. */
  droppedLeaves: number;
}

export class EntryChunk {
  readonly #w: CborWriter;
  #offsets: Uint32Array;
  #count = 0;
  #toSign: ToSign[] = [];
  /**
   * Records written around given body bytes, checked in one native call per chunk
   * (checkBodies): their spans (start, end), entry indexes and sequence numbers.
   */
  #checkSpans: number[] = [];
  #checkEntries: number[] = [];
  #checkSeqs: number[] = [];
  #sealed = false;
  #released = false;

  /**
   * `bytes`: a first guess of the size (the buffer, from the chunk buffer pool, grows as
   * needed); `entries`: how many at most before it grows. Call `release` once the chunk's bytes
   * are written.
   */
  constructor(bytes: number, entries: number) {
    this.#w = new CborWriter(chunkBuffers.take(Math.max(64, bytes)));
    this.#offsets = new Uint32Array(entries + 1);
  }

  /**
   * Hands the chunk's buffer back to the pool: once the bytes `seal` returned are on disk (or
   * will never be written). The chunk and those bytes must not be used after.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#sealed = true;
    chunkBuffers.give(this.#w.buffer);
  }

  /** Entries in the chunk. */
  get count(): number {
    return this.#count;
  }

  /** Bytes in the chunk. */
  get bytes(): number {
    return this.#w.length;
  }

  /** Whether `seal` has run: the chunk is done. */
  get sealed(): boolean {
    return this.#sealed;
  }

  #begin(kind: number): number {
    // The frame's length and CRC (its first 8 bytes) are written when the chunk is framed
    // (appendFrames): only the kind byte now, with no fill call per entry.
    const start = this.#w.length;
    const b = this.#w.reserve(FRAME_HEADER_BYTES);
    b[start + 8] = kind;
    this.#w.advanceTo(start + FRAME_HEADER_BYTES);
    return start;
  }

  #end(): void {
    if (this.#count + 2 > this.#offsets.length) {
      const next = new Uint32Array(2 * this.#offsets.length);
      next.set(this.#offsets);
      this.#offsets = next;
    }
    this.#offsets[++this.#count] = this.#w.length;
  }

  /**
   * Adds an unsigned record (checkpoint mode): its body is the value `body`, or what `write`
   * writes from `item` (given bytes, or a body writer such as writeTelemetryBody), straight
   * into the chunk. A written body is checked as the verifier checks stored records
   * (scanRecord, else decodeRecord, which throws naming the problem): here, and nothing is
   * added when it fails; or, where the native walk is built, for the whole chunk at once by
   * `checkBodies`, which the owner calls before `seal`.
   */
  leaf<T>(head: Omit<LedgerRecord, 'body'>, body: CborValue | undefined, write: BodyWriter<T> | undefined, item: T): void {
    const start = this.#begin(EntryKind.leaf);
    try {
      this.#writeRecord(head, body, write, item);
    } catch (err) {
      this.#w.rewind(start);
      throw err;
    }
    this.#end();
  }

  #writeRecord<T>(head: Omit<LedgerRecord, 'body'>, body: CborValue | undefined, write: BodyWriter<T> | undefined, item: T): void {
    // Values, bodies from writers marked canonical, and anything without the native walk: at once.
    if (write === undefined || write.canonical === true || native === undefined) {
      writeRecord(this.#w, head, body, write, item);
      return;
    }
    const start = this.#w.length;
    writeRecordAround(this.#w, head, write, item);
    this.#checkSpans.push(start, this.#w.length);
    this.#checkEntries.push(this.#count);
    this.#checkSeqs.push(head.seq);
  }

  /** Adds a record as its own COSE_Sign1 of `typ` (signed at `seal`); its body as `leaf` takes it, checked as `leaf` checks it. */
  signed<T>(head: Omit<LedgerRecord, 'body'>, body: CborValue | undefined, write: BodyWriter<T> | undefined, item: T, typ: string, signer: CoseSigner): void {
    // Checked here, before anything is added (signed records are few outside per-record mode).
    const record = writeRecord(scratch.reset(), head, body, write, item).view();
    const { protectedBytes } = sign1Parts(signer, typ);
    const w = this.#w;
    this.#begin(EntryKind.signedRecord);
    w.byte(0xd2).byte(0x84); // tag 18, array of 4
    w.bytes(protectedBytes);
    w.byte(0xa0); // unprotected: empty map
    w.bytes(record);
    const end = w.length;
    w.byte(0x58).byte(64);
    const at = w.length;
    w.zeros(64);
    let group = this.#toSign.find((g) => g.typ === typ);
    if (group === undefined) this.#toSign.push((group = { typ, spans: [], at: [] }));
    group.spans.push(end - record.length, end);
    group.at.push(at);
    this.#end();
  }

  /**
   * Checks the records written around given body bytes (one native call for the chunk; what
   * the walk cannot vouch for goes to scanRecord, else decodeRecord, which decides). On the
   * first failure the chunk keeps only the entries before that record, and the error is
   * returned with the number of unsigned records dropped.
   */
  checkBodies(): BodyCheckFailure | undefined {
    const n = this.#checkEntries.length;
    // Records are queued here only where the native walk is built (#writeRecord).
    if (n === 0 || native === undefined) return undefined;
    const buf = this.#w.view();
    const spans = Uint32Array.from(this.#checkSpans);
    try {
      for (let i = native.checkRecords(buf, spans, 0, n); i < n; i = native.checkRecords(buf, spans, i + 1, n)) {
        const bytes = buf.subarray(spans[2 * i]!, spans[2 * i + 1]!);
        try {
          checkRecordBytes(bytes, `record ${this.#checkSeqs[i]} (body given as encoded CBOR)`);
        } catch (err) {
          return { error: err as Error, droppedLeaves: this.#truncate(this.#checkEntries[i]!) };
        }
      }
    } finally {
      this.#checkSpans = [];
      this.#checkEntries = [];
      this.#checkSeqs = [];
    }
    return undefined;
  }

  /** Keeps the first `keep` entries; returns how many unsigned leaves were dropped. */
  #truncate(keep: number): number {
    const buf = this.#w.view();
    let dropped = 0;
    for (let e = keep; e < this.#count; e++) if (buf[this.#offsets[e]! + 8] === EntryKind.leaf) dropped++;
    const cut = this.#offsets[keep]!;
    this.#w.rewind(cut);
    this.#count = keep;
    for (const g of this.#toSign) {
      let k = g.at.length;
      while (k > 0 && g.at[k - 1]! >= cut) k--;
      g.at.length = k;
      g.spans.length = 2 * k;
    }
    this.#toSign = this.#toSign.filter((g) => g.at.length > 0);
    return dropped;
  }

  /**
   * Signs the signed entries and returns the chunk's bytes, whose frames (at `offsets`) still
   * need their length and CRC, and whose leaves still go into the frontier: appendFrames, or
   * MerkleFrontier.appendFramesAsync off the event loop; then they are ready for
   * SegmentLog.enqueueFrames. The chunk is done.
   */
  seal(signer: CoseSigner): Uint8Array {
    if (this.#sealed) throw new Error('EntryChunk: sealed twice');
    if (this.#checkEntries.length > 0) throw new Error('EntryChunk: checkBodies must run before seal');
    this.#sealed = true;
    const buf = this.#w.view();
    for (const g of this.#toSign) signGroup(buf, g, signer);
    this.#toSign = [];
    return buf;
  }

  /** Where each entry starts (count + 1 offsets, the last one the end): the frames of `seal`'s bytes. */
  get offsets(): Uint32Array {
    return this.#offsets;
  }
}

/**
 * Seals the frames buf[offsets[i] .. offsets[i+1]) for i < count (length and CRC-32 around the
 * kind byte and payload in place) and appends the payloads of leaf kinds to `frontier`, their
 * leaf hashes to `leafHashes` when given: one native call where the hasher is built
 * (MerkleFrontier.appendFrames), one CRC and one hash call per entry otherwise.
 */
export function appendFrames(frontier: MerkleFrontier, buf: Uint8Array, offsets: Uint32Array, count: number, leafHashes?: Uint8Array): void {
  if (frontier.appendFrames(buf, offsets, count, leafHashes)) return;
  let leaf = 0;
  for (let i = 0; i < count; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    sealFrame(buf, start, end);
    if (!isLeafKind(buf[start + 8]!)) continue;
    const lh = frontier.append(buf.subarray(start + FRAME_HEADER_BYTES, end));
    leafHashes?.set(lh, 32 * leaf++);
  }
}

/** The record's canonical CBOR into `w`, from a body value, or a written body that is checked here. */
function writeRecord<T>(w: CborWriter, head: Omit<LedgerRecord, 'body'>, body: CborValue | undefined, write: BodyWriter<T> | undefined, item: T): CborWriter {
  if (write !== undefined) {
    const start = w.length;
    writeRecordAround(w, head, write, item);
    // A writer marked canonical needs no check (record.ts BodyWriter).
    if (write.canonical === true) return w;
    const bytes = w.span(start, w.length);
    checkRecordBytes(bytes, `record ${head.seq} (body given as encoded CBOR)`);
    return w;
  }
  if (body === undefined) throw new TypeError(`record ${head.seq}: give its body (a CBOR value) or bodyBytes (its canonical CBOR)`);
  // The canonical encoder's output needs no check.
  return w.raw(encodeRecord({ ...head, body }));
}

function signGroup(buf: Uint8Array, g: ToSign, signer: CoseSigner): void {
  const n = g.at.length;
  const { protectedBytes, sigPrefix } = sign1Parts(signer, g.typ);
  const digests = new Uint8Array(32 * n);
  if (native) native.sigDigests(buf, Uint32Array.from(g.spans), n, sigPrefix, digests);
  else for (let i = 0; i < n; i++) digests.set(sign1Digest(protectedBytes, EMPTY, buf.subarray(g.spans[2 * i]!, g.spans[2 * i + 1]!)), 32 * i);
  let sigs: Uint8Array;
  if (signer.signDigests) sigs = signer.signDigests(digests);
  else {
    sigs = new Uint8Array(64 * n);
    for (let i = 0; i < n; i++) sigs.set(signer.signDigest(digests.subarray(32 * i, 32 * i + 32)), 64 * i);
  }
  if (sigs.length !== 64 * n) throw new RangeError(`signer returned ${sigs.length} bytes for ${n} digests, not ${64 * n} (64-byte r||s each)`);
  for (let i = 0; i < n; i++) buf.set(sigs.subarray(64 * i, 64 * i + 64), g.at[i]!);
}
