// The ledger's own structures, as canonical CBOR (ledger/cddl/ledger.cddl):
//
// (the normative text is ledger/cddl/record.cddl and checkpoint.cddl)
//   ledger-record = { 1: seq, 2: wall-ms, 3: type, 4: body, ? 5: true (simulated), 6: mono-ms, 7: boot-id }
//   checkpoint    = { 1: tree size, 2: root, 3: wall-ms, 4: log id (kid), 5: mono-ms, 6: boot-id }
//
// Leaves are the exact stored bytes: a record's canonical CBOR (checkpoint mode) or its
// COSE_Sign1 (per-record mode), so a proof needs nothing but the stored item.
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import { CborError, decodeCbor } from '../cbor/decode.ts';
import type { CborValue } from '../cbor/value.ts';
import { CborWriter, putHead } from '../cbor/cbor-writer.ts';
import { scanRecord } from './record-scan.ts';

export interface LedgerRecord {
  seq: number;
  /** Wall-clock ms since the Unix epoch (may jump). */
  time: number;
  type: string;
  body: CborValue;
  simulated?: boolean;
  /** Monotonic ms since this boot of the runtime. */
  mono: number;
  /** 16 random bytes drawn at each start of the runtime: mono counts from it. */
  boot: Uint8Array;
}

export interface Checkpoint {
  size: number;
  root: Uint8Array;
  time: number;
  logId: Uint8Array;
  mono: number;
  boot: Uint8Array;
}

/** Limits for decoding stored items: generous for real records, small enough to stop garbage. */
const LIMITS = { maxDepth: 16, maxSize: 1 << 20, maxItems: 100_000, canonical: true } as const;

export function encodeRecord(r: LedgerRecord): Uint8Array {
  // Keys inserted in their canonical order, so that the encoder writes the map straight
  // through instead of copying and sorting its keys.
  const m = new Map<number, CborValue>();
  m.set(1, r.seq).set(2, r.time).set(3, r.type).set(4, r.body);
  if (r.simulated) m.set(5, true);
  m.set(6, Math.floor(r.mono)).set(7, r.boot);
  return encodeCanonical(m);
}

const envelope = new CborWriter();

/** The last record type written, and its canonical CBOR (a text string): the records of a batch share it. */
let typeText = '';
let typeBytes = encodeCanonical('');

/**
 * The record's canonical CBOR around a body that is already canonical CBOR (one data item):
 * the bytes encodeRecord gives for the decoded body. The result is checked as the verifier
 * checks stored records (scanRecord, else decodeRecord), so a body that is not one canonical
 * data item is refused here (CborError or TypeError naming the problem), never stored.
 */
export function encodeRecordWithBody(r: Omit<LedgerRecord, 'body'>, bodyBytes: Uint8Array): Uint8Array {
  const w = writeRecordAround(envelope.reset(), r, writeBodyBytes, bodyBytes);
  const bytes = w.take();
  checkRecordBytes(bytes, `record ${r.seq} (body given as encoded CBOR)`);
  return bytes;
}

/**
 * Checks a record written around a given body as the verifier will read it (scanRecord, else
 * decodeRecord); throws what decodeRecord throws, its message starting with `where`.
 */
export function checkRecordBytes(bytes: Uint8Array, where: string): void {
  if (scanRecord(bytes) !== undefined) return;
  try {
    decodeRecord(bytes, where);
  } catch (err) {
    // The decoder's own errors say where in the bytes, not which record: add it.
    if (err instanceof CborError) err.message = `${where}: ${err.message}`;
    throw err;
  }
}

/**
 * Writes a record's body into `w`: exactly one data item of canonical CBOR made from `item`.
 * The ledger checks what a writer wrote before it stores it (Ledger.appendWritten), as the
 * verifier will, unless the writer is marked `canonical: true`: a writer that, by its
 * construction, writes one canonical data item within the decoder's limits for every item, or
 * throws (writeTelemetryBody, whose output its tests compare with encodeCanonical's). Mark no
 * other writer: an unreadable record would make the whole ledger fail verification.
 */
export type BodyWriter<T> = ((w: CborWriter, item: T) => void) & { readonly canonical?: boolean };

/** The body writer of bytes that already are the body's canonical CBOR. */
export const writeBodyBytes: BodyWriter<Uint8Array> = (w, bodyBytes) => {
  if (!(bodyBytes instanceof Uint8Array)) throw new TypeError('bodyBytes: expected a Uint8Array of canonical CBOR');
  w.raw(bodyBytes);
};

/**
 * Writes the record's canonical CBOR into `w` with its body written by `write` from `item`
 * (in its place among the record's fields), unchecked: the caller checks the written bytes as
 * encodeRecordWithBody does.
 */
export function writeRecordAround<T>(w: CborWriter, r: Omit<LedgerRecord, 'body'>, write: BodyWriter<T>, item: T): CborWriter {
  // Written with put* into reserved room (a record is written for every telemetry sample, and
  // hundreds of thousands a second in a replay): map head, 1: seq, 2: time, 3: type, 4: ...
  const type = r.type;
  if (type !== typeText) {
    typeBytes = encodeCanonical(type);
    typeText = type;
  }
  const text = typeBytes;
  let b = w.reserve(24 + text.length);
  let p = w.length;
  b[p++] = r.simulated ? 0xa7 : 0xa6;
  b[p++] = 1;
  p = putHead(b, p, 0, r.seq);
  b[p++] = 2;
  p = putHead(b, p, 0, r.time);
  b[p++] = 3;
  for (let i = 0; i < text.length; i++) b[p++] = text[i]!;
  b[p++] = 4;
  w.advanceTo(p);
  write(w, item);
  // ... 5: true (simulated runs only), 6: mono, 7: boot.
  const boot = r.boot;
  b = w.reserve(2 + 10 + 10 + boot.length);
  p = w.length;
  if (r.simulated) {
    b[p] = 5;
    b[p + 1] = 0xf5;
    p += 2;
  }
  b[p++] = 6;
  p = putHead(b, p, 0, Math.floor(r.mono));
  b[p++] = 7;
  p = putHead(b, p, 2, boot.length);
  for (let i = 0; i < boot.length; i++) b[p++] = boot[i]!;
  w.advanceTo(p);
  return w;
}

function field<T>(m: ReadonlyMap<CborValue, CborValue>, key: number, check: (v: unknown) => v is T, what: string, where: string): T {
  const v = m.get(key);
  if (!check(v)) throw new TypeError(`${where}: field ${key} (${what}) is missing or of the wrong type`);
  return v;
}
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string';
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

function decodeMap(bytes: Uint8Array, where: string, allowed: number[]): ReadonlyMap<CborValue, CborValue> {
  const v = decodeCbor(bytes, LIMITS);
  if (!(v instanceof Map)) throw new TypeError(`${where}: not a CBOR map`);
  for (const k of v.keys()) {
    if (typeof k !== 'number' || !allowed.includes(k)) throw new TypeError(`${where}: unexpected field ${String(k)}`);
  }
  return v;
}

/** Decodes a record, refusing non-canonical bytes and unknown fields; `where` names it in errors. */
export function decodeRecord(bytes: Uint8Array, where: string): LedgerRecord {
  const m = decodeMap(bytes, where, [1, 2, 3, 4, 5, 6, 7]);
  const r: LedgerRecord = {
    seq: field(m, 1, isUint, 'seq', where),
    time: field(m, 2, isUint, 'time', where),
    type: field(m, 3, isText, 'type', where),
    body: m.get(4) as CborValue,
    mono: field(m, 6, isUint, 'mono-ms', where),
    boot: field(m, 7, isBytes, 'boot-id', where),
  };
  if (!m.has(4)) throw new TypeError(`${where}: field 4 (body) is missing`);
  if (m.has(5)) {
    if (m.get(5) !== true) throw new TypeError(`${where}: field 5 (simulated) must be true when present`);
    r.simulated = true;
  }
  return r;
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  return encodeCanonical(
    new Map<number, CborValue>([
      [1, c.size],
      [2, c.root],
      [3, c.time],
      [4, c.logId],
      [5, Math.floor(c.mono)],
      [6, c.boot],
    ]),
  );
}

export function decodeCheckpoint(bytes: Uint8Array, where: string): Checkpoint {
  const m = decodeMap(bytes, where, [1, 2, 3, 4, 5, 6]);
  const root = field(m, 2, isBytes, 'root', where);
  if (root.length !== 32) throw new TypeError(`${where}: checkpoint root must be 32 bytes, not ${root.length}`);
  return {
    size: field(m, 1, isUint, 'tree size', where),
    root,
    time: field(m, 3, isUint, 'time', where),
    logId: field(m, 4, isBytes, 'log id', where),
    mono: field(m, 5, isUint, 'mono-ms', where),
    boot: field(m, 6, isBytes, 'boot-id', where),
  };
}
