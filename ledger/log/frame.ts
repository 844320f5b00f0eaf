// Framing of entries in a ledger segment file. A segment starts with a 16-byte header:
//   "VTLG" | version u8 (1) | 3 reserved zero bytes | index of its first entry, u64 big-endian
// then entries, each: payload length u32 BE | CRC-32 (ISO-HDLC, zlib's) of kind||payload u32 BE |
// kind u8 | payload. The checksum finds torn or damaged writes; the Merkle tree and signatures
// above this layer find tampering.
import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC = 0x56544c47; // "VTLG"
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 16;
export const FRAME_HEADER_BYTES = 9;
/** The largest payload accepted: far above any record, small enough to refuse garbage lengths. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** What an entry is. Leaves are Merkle-tree leaves; the others sign or annotate the tree. */
export const EntryKind = {
  /** A record signed on its own: COSE_Sign1 bytes; a Merkle leaf. */
  signedRecord: 1,
  /** A record in checkpoint mode: canonical CBOR bytes, unsigned; a Merkle leaf. */
  leaf: 2,
  /** A signed checkpoint over tree size, root and time: COSE_Sign1 bytes; not a leaf. */
  checkpoint: 3,
  /** A witness countersignature of a checkpoint: COSE_Sign1 bytes; not a leaf. */
  witness: 4,
} as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export function isLeafKind(kind: number): boolean {
  return kind === EntryKind.signedRecord || kind === EntryKind.leaf;
}

export function segmentHeader(firstIndex: number): Uint8Array {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  b.writeUInt32BE(SEGMENT_MAGIC, 0);
  b[4] = SEGMENT_VERSION;
  b.writeBigUInt64BE(BigInt(firstIndex), 8);
  return b;
}

/** The index of the segment's first entry; `location` names the segment in the error when the header is bad. */
export function parseSegmentHeader(b: Uint8Array, where: string, location: EntryLocation = {}): number {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < SEGMENT_HEADER_BYTES || buf.readUInt32BE(0) !== SEGMENT_MAGIC) {
    throw new LedgerFormatError(`${where}: not a voltrail ledger segment (bad magic)`, location);
  }
  if (buf[4] !== SEGMENT_VERSION) {
    throw new LedgerFormatError(`${where}: segment format version ${buf[4]} is not supported (this version reads ${SEGMENT_VERSION})`, location);
  }
  // Written as zeros: anything else is damage (no bit of a segment goes unchecked).
  if (buf[5] !== 0 || buf[6] !== 0 || buf[7] !== 0) {
    throw new LedgerFormatError(`${where}: the reserved bytes 5 to 7 of the segment header are not zero (${buf.subarray(5, 8).toString('hex')}): the header is damaged`, location);
  }
  return Number(buf.readBigUInt64BE(8));
}

/** Refuses a payload too large to frame (a RangeError naming its size). */
export function checkPayloadSize(payload: Uint8Array): void {
  if (payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`ledger entry of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
}

export function encodeFrame(kind: number, payload: Uint8Array): Uint8Array {
  checkPayloadSize(payload);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrame(out, 0, kind, payload);
  return out;
}

/**
 * Writes the frame of `payload` into `out` at `pos` (room for FRAME_HEADER_BYTES + its length
 * must be there); returns the position after it. Group commits frame a whole batch into one
 * buffer this way, without a buffer per entry.
 */
export function writeFrame(out: Uint8Array, pos: number, kind: number, payload: Uint8Array): number {
  out[pos + 8] = kind;
  out.set(payload, pos + FRAME_HEADER_BYTES);
  const end = pos + FRAME_HEADER_BYTES + payload.length;
  finishFrame(out, pos, end);
  return end;
}

/**
 * Completes the frame laid out in out[start .. end) whose kind byte is already at start + 8 and
 * payload after it: writes its length and CRC-32. The JavaScript twin of the native frameChunk
 * (ledger/log/native/frame.c), for chunks of entries encoded in place.
 */
export function sealFrame(out: Uint8Array, start: number, end: number): void {
  const n = end - start - FRAME_HEADER_BYTES;
  if (!(start >= 0 && n >= 0 && end <= out.length)) throw new RangeError(`frame ${start}..${end} lies outside the ${out.length} bytes of its chunk`);
  if (n > MAX_PAYLOAD_BYTES) throw new RangeError(`ledger entry of ${n} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  const kind = out[start + 8]!;
  if (kind < EntryKind.signedRecord || kind > EntryKind.witness) throw new RangeError(`frame at ${start}: kind ${kind} is not 1..4`);
  finishFrame(out, start, end);
}

/** The frame's length and CRC-32 around its kind byte and payload, already in out[start + 8 .. end). */
function finishFrame(out: Uint8Array, start: number, end: number): void {
  putU32(out, start, end - start - FRAME_HEADER_BYTES);
  putU32(out, start + 4, crc32(out.subarray(start + 8, end)));
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

export type FrameScan =
  | { ok: true; kind: number; payload: Uint8Array; next: number }
  | { ok: false; reason: 'truncated' | 'checksum' | 'length' | 'kind'; };

/** Reads the frame at `pos` of `buf`; says why when the bytes there are not a whole valid frame. */
export function scanFrame(buf: Uint8Array, pos: number): FrameScan {
  if (buf.length - pos < FRAME_HEADER_BYTES) return { ok: false, reason: 'truncated' };
  // Big-endian words by hand: a DataView per frame costs more than the arithmetic.
  const len = buf[pos]! * 0x100_0000 + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!);
  if (len > MAX_PAYLOAD_BYTES) return { ok: false, reason: 'length' };
  const end = pos + FRAME_HEADER_BYTES + len;
  if (end > buf.length) return { ok: false, reason: 'truncated' };
  const crc = buf[pos + 4]! * 0x100_0000 + ((buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!);
  if (crc32(buf.subarray(pos + 8, end)) !== crc) return { ok: false, reason: 'checksum' };
  const kind = buf[pos + 8]!;
  if (kind < EntryKind.signedRecord || kind > EntryKind.witness) return { ok: false, reason: 'kind' };
  return { ok: true, kind, payload: buf.subarray(pos + FRAME_HEADER_BYTES, end), next: end };
}

/** Where in the files a problem is: the entry's position, its segment file and byte offset. */
export interface EntryLocation {
  index?: number;
  segment?: string;
  offset?: number;
}

export class LedgerFormatError extends Error {
  readonly location: EntryLocation;
  constructor(message: string, location: EntryLocation = {}) {
    super(message);
    this.name = 'LedgerFormatError';
    this.location = location;
  }
}
