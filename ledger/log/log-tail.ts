// Reads a ledger's segment files from a position onwards, incrementally, while the log that
// owns them keeps appending (segment-log.ts writes, this only reads). The uplink tails its own
// board's log with it: after the first seek it reads only the bytes it has not read yet, instead
// of reading a whole segment per call. It never reads past `end`, the durable entry count the
// writer reports, so nothing leaves the board before it is fsynced: an entry that a power cut
// could still lose is never sent, and the board never re-creates a different entry at an index
// the fleet already holds. Framing: frame.ts.
import { join } from 'node:path';
import { nodeStorage, type LogStorage } from './storage.ts';
import { FRAME_HEADER_BYTES, LedgerFormatError, parseSegmentHeader, scanFrame, SEGMENT_HEADER_BYTES } from './frame.ts';
import type { LogEntry } from './segment-log.ts';

const SEGMENT_RE = /^seg-(\d{16})\.vtl$/;
const segmentName = (first: number) => `seg-${String(first).padStart(16, '0')}.vtl`;
/** Bytes read per file read at least: small reads cost a syscall each. */
const MIN_READ = 256 * 1024;

export interface TailLimits {
  /** Read no entry at or after this index (the writer's durable count). */
  end: number;
  maxEntries: number;
  /** Stop once the payloads read reach this many bytes (at least one entry is returned). */
  maxBytes: number;
}

export class LogTail {
  readonly dir: string;
  #storage: LogStorage;
  /** Where the next entry starts: its index, segment file and byte offset. */
  #cursor: { index: number; segment: string; offset: number } | undefined;

  constructor(dir: string, storage: LogStorage = nodeStorage) {
    this.dir = dir;
    this.#storage = storage;
  }

  /** Entries from `from` on (in order, each with its index), within the limits. */
  async read(from: number, limits: TailLimits): Promise<LogEntry[]> {
    if (from >= limits.end) return [];
    if (this.#cursor?.index !== from) this.#cursor = await this.#seek(from);
    const out: LogEntry[] = [];
    let bytes = 0;
    while (out.length < limits.maxEntries && bytes < limits.maxBytes && this.#cursor.index < limits.end) {
      const c = this.#cursor;
      const file = await this.#storage.open(join(this.dir, c.segment), 'read');
      let chunk: Uint8Array;
      let size: number;
      try {
        size = file.size;
        chunk = await file.read(c.offset, Math.min(size - c.offset, Math.max(MIN_READ, limits.maxBytes - bytes + FRAME_HEADER_BYTES)));
      } finally {
        await file.close();
      }
      let pos = 0;
      let advanced = false;
      while (out.length < limits.maxEntries && bytes < limits.maxBytes && c.index < limits.end) {
        const f = scanFrame(chunk, pos);
        if (!f.ok) {
          if (f.reason === 'truncated' && c.offset + chunk.length < size) break; // the rest of it is in the next read
          if (f.reason === 'truncated' && pos === chunk.length) break; // end of this segment
          throw new LedgerFormatError(`${join(this.dir, c.segment)}: entry ${c.index} at byte ${c.offset + pos} is damaged (${f.reason})`, { index: c.index, segment: c.segment, offset: c.offset + pos });
        }
        out.push({ index: c.index, kind: f.kind, payload: new Uint8Array(f.payload), segment: c.segment, offset: c.offset + pos });
        bytes += f.payload.length;
        pos = f.next;
        c.index++;
        advanced = true;
      }
      c.offset += pos;
      if (c.offset >= size && c.index < limits.end) {
        // This segment is read to its end: the next one starts at the next index.
        c.segment = segmentName(c.index);
        c.offset = SEGMENT_HEADER_BYTES;
        continue;
      }
      if (!advanced) break;
    }
    return out;
  }

  /** Finds the segment holding entry `from` and the byte offset of that entry. */
  async #seek(from: number): Promise<{ index: number; segment: string; offset: number }> {
    const names = (await this.#storage.list(this.dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    let seg: { name: string; first: number } | undefined;
    for (const name of names) {
      const first = Number(SEGMENT_RE.exec(name)![1]);
      if (first <= from) seg = { name, first };
    }
    if (!seg) throw new LedgerFormatError(`${this.dir}: no segment holds entry ${from}`, { index: from });
    const file = await this.#storage.open(join(this.dir, seg.name), 'read');
    let bytes: Uint8Array;
    try {
      bytes = await file.read(0, file.size);
    } finally {
      await file.close();
    }
    parseSegmentHeader(bytes, join(this.dir, seg.name));
    let pos = SEGMENT_HEADER_BYTES;
    for (let index = seg.first; index < from; index++) {
      const f = scanFrame(bytes, pos);
      if (!f.ok) throw new LedgerFormatError(`${join(this.dir, seg.name)}: entry ${index} at byte ${pos} is damaged or not yet written (${f.reason})`, { index, segment: seg.name, offset: pos });
      pos = f.next;
    }
    return { index: from, segment: seg.name, offset: pos };
  }
}
