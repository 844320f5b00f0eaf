// A readable account of a ledger folder without verifying signatures (that is verify.ts):
// segments and their sizes, entries by kind, time span, checkpoints, bytes per record, and
// whether the tail is torn. Also the export of every stored item as an RFC 8742 CBOR sequence.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { decodeCbor } from '../cbor/decode.ts';
import { Tagged } from '../cbor/value.ts';
import { EntryKind, isLeafKind } from './frame.ts';
import { MerkleFrontier } from './merkle.ts';
import { decodeCheckpoint, decodeRecord } from './record.ts';
import { SegmentLog } from './segment-log.ts';

export interface LedgerInspection {
  dir: string;
  segments: { name: string; entries: number }[];
  entries: number;
  records: number;
  signedRecords: number;
  checkpoints: number;
  witnesses: number;
  bytes: number;
  bytesPerRecord: number;
  firstTime?: number;
  lastTime?: number;
  types: Record<string, number>;
  simulatedRecords: number;
  lastCheckpoint?: { size: number; time: number; root: string };
  root: string;
  tornTail?: { segment?: string; offset?: number; bytes: number };
}

/** The payload of a COSE_Sign1 without checking its signature (inspection only). */
function unsignedPayload(cose: Uint8Array): Uint8Array {
  const v = decodeCbor(cose);
  if (v instanceof Tagged && Array.isArray(v.value) && v.value[2] instanceof Uint8Array) return v.value[2];
  throw new TypeError('not a COSE_Sign1 message');
}

export async function inspectLedger(dir: string): Promise<LedgerInspection> {
  const log = await SegmentLog.open(dir, { readOnly: true });
  const frontier = new MerkleFrontier();
  const segs = new Map<string, number>();
  const out: LedgerInspection = {
    dir,
    segments: [],
    entries: 0,
    records: 0,
    signedRecords: 0,
    checkpoints: 0,
    witnesses: 0,
    bytes: 0,
    bytesPerRecord: 0,
    types: {},
    simulatedRecords: 0,
    root: '',
  };
  for await (const e of log.entries()) {
    out.entries++;
    out.bytes += e.payload.length + 9;
    segs.set(e.segment, (segs.get(e.segment) ?? 0) + 1);
    if (isLeafKind(e.kind)) {
      frontier.append(e.payload);
      out.records++;
      const signed = e.kind === EntryKind.signedRecord;
      if (signed) out.signedRecords++;
      try {
        const r = decodeRecord(signed ? unsignedPayload(e.payload) : e.payload, `entry ${e.index}`);
        out.types[r.type] = (out.types[r.type] ?? 0) + 1;
        if (r.simulated) out.simulatedRecords++;
        out.firstTime ??= r.time;
        out.lastTime = r.time;
      } catch {
        out.types['(undecodable)'] = (out.types['(undecodable)'] ?? 0) + 1;
      }
    } else if (e.kind === EntryKind.checkpoint) {
      out.checkpoints++;
      try {
        const c = decodeCheckpoint(unsignedPayload(e.payload), `entry ${e.index}`);
        out.lastCheckpoint = { size: c.size, time: c.time, root: Buffer.from(c.root).toString('hex') };
      } catch {
        // verify names it; inspection only counts it
      }
    } else if (e.kind === EntryKind.witness) {
      out.witnesses++;
    }
  }
  out.segments = [...segs].map(([name, entries]) => ({ name, entries }));
  out.bytesPerRecord = out.records ? Math.round((out.bytes / out.records) * 10) / 10 : 0;
  out.root = Buffer.from(frontier.root()).toString('hex');
  if (log.recovery.droppedBytes) out.tornTail = { segment: log.recovery.segment, offset: log.recovery.offset, bytes: log.recovery.droppedBytes };
  return out;
}

/**
 * Writes every stored item, in order, as an RFC 8742 CBOR sequence: signed items as the exact
 * COSE_Sign1 bytes stored (tag 18), unsigned leaves as their canonical CBOR. Returns the count.
 */
export async function exportLedger(dir: string, outPath: string): Promise<number> {
  const log = await SegmentLog.open(dir, { readOnly: true });
  const out = createWriteStream(outPath, { mode: 0o644 });
  let n = 0;
  try {
    for await (const e of log.entries()) {
      if (!out.write(e.payload)) await once(out, 'drain');
      n++;
    }
  } finally {
    out.end();
    await once(out, 'finish');
  }
  return n;
}
