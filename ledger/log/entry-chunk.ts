// A chunk of ledger entries encoded in place, laid out exactly as they go to disk (frame.ts):
// the ledger's batch path (Ledger.appendMany) writes each record's canonical CBOR (record.ts)
// straight behind a frame header kept for it, so that a record's bytes are written once and
// then framed, hashed (RFC 9162 leaf) and written to the segment file from that same place.
// Signed records (per-record mode, ledger/cddl/cose.cddl) are laid out as the COSE_Sign1 that
// sign1 makes, with room for the signature; `seal` signs them all at once (Sig_structure
// digests natively, one batch call into the signer), then frames and hashes the chunk in one
// native call (MerkleFrontier.appendFrames).
import { CborWriter } from '../cbor/cbor-writer.ts';
import type { CborValue } from '../cbor/value.ts';
import { sign1Digest, sign1Parts, type CoseSigner } from '../cose/sign1.ts';
import { EntryKind, FRAME_HEADER_BYTES } from './frame.ts';
import type { MerkleFrontier } from './merkle.ts';
import { loadNativeMerkle } from './native-merkle.ts';
import { decodeRecord, encodeRecord, writeRecordWithBody, type LedgerRecord } from './record.ts';
import { scanRecord } from './record-scan.ts';

/** A chunk is sealed once it holds this many bytes: well under a group commit's 4 MiB. */
export const CHUNK_BYTES = 1024 * 1024;

const EMPTY = new Uint8Array(0);
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

export class EntryChunk {
  readonly #w: CborWriter;
  #offsets: Uint32Array;
  #count = 0;
  #toSign: ToSign[] = [];

  /** `bytes`: a first guess of the size (the buffer grows as needed); `entries`: how many at most before it grows. */
  constructor(bytes: number, entries: number) {
    this.#w = new CborWriter(Math.max(64, bytes));
    this.#offsets = new Uint32Array(entries + 1);
  }

  /** Entries in the chunk. */
  get count(): number {
    return this.#count;
  }

  /** Bytes in the chunk. */
  get bytes(): number {
    return this.#w.length;
  }

  #begin(kind: number): number {
    const start = this.#w.length;
    this.#w.zeros(FRAME_HEADER_BYTES).patch(start + 8, kind);
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
   * Adds an unsigned record (checkpoint mode). With `bodyBytes` the written record is checked
   * as the verifier checks stored records (scanRecord, else decodeRecord, which throws naming
   * the problem), and nothing is added when it fails.
   */
  leaf(head: Omit<LedgerRecord, 'body'>, body: CborValue | undefined, bodyBytes: Uint8Array | undefined): void {
    const start = this.#begin(EntryKind.leaf);
    try {
      writeRecord(this.#w, head, body, bodyBytes);
    } catch (err) {
      this.#w.rewind(start);
      throw err;
    }
    this.#end();
  }

  /** Adds a record as its own COSE_Sign1 of `typ` (signed at `seal`); checked as `leaf` checks it. */
  signed(head: Omit<LedgerRecord, 'body'>, body: CborValue | undefined, bodyBytes: Uint8Array | undefined, typ: string, signer: CoseSigner): void {
    const record = writeRecord(scratch.reset(), head, body, bodyBytes).view();
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
   * Signs the signed entries, frames every entry and appends the leaves to `frontier`, in
   * order; returns the chunk's bytes, ready for SegmentLog.enqueueFrames. The chunk is done.
   */
  seal(frontier: MerkleFrontier, signer: CoseSigner): Uint8Array {
    const buf = this.#w.view();
    for (const g of this.#toSign) signGroup(buf, g, signer);
    this.#toSign = [];
    frontier.appendFrames(buf, this.#offsets, this.#count);
    return buf;
  }
}

/** The record's canonical CBOR into `w`, from a body value or checked body bytes. */
function writeRecord(w: CborWriter, head: Omit<LedgerRecord, 'body'>, body: CborValue | undefined, bodyBytes: Uint8Array | undefined): CborWriter {
  if (bodyBytes !== undefined) {
    const start = w.length;
    writeRecordWithBody(w, head, bodyBytes);
    const bytes = w.span(start, w.length);
    if (scanRecord(bytes) === undefined) decodeRecord(bytes, `record ${head.seq} (body given as CBOR bytes)`);
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
  const native = loadNativeMerkle();
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
