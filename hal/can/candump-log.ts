// candump log files (`candump -L`, can-utils lib.c): one frame a line,
//   (1436509052.249713) can0 123#DEADBEEF        classic data, 3 hex digits: 11-bit id
//   (1436509052.249713) can0 1ABCDEF0#           8 hex digits: 29-bit id (here with no data)
//   (1436509052.249713) can0 123#R   123#R5      remote frame, with a DLC when not zero
//   (1436509052.249713) can0 123##1DEADBEEF      CAN FD: one hex digit of flags (BRS 1, ESI 2,
//                                                FDF 4), then the data
//   (1436509052.249713) can0 20000080#00...      error frame (CAN_ERR_FLAG 0x20000000 in the id)
// optionally followed by ` R` or ` T` (received / transmitted, `candump -x`).
// Writing what was read gives back the same line for every line candump writes. A line that is
// not this format is reported with its line number and skipped; it never stops the reader.
import { createReadStream, createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import type { CanFrame } from './frame.ts';
import { canFrame, formatCanId } from './frame.ts';

/** linux/can.h: the error-frame flag in a SocketCAN id. */
const CAN_ERR_FLAG = 0x20000000;
const CANFD_BRS = 0x01;
const CANFD_ESI = 0x02;

export interface CandumpRecord {
  /** Time as whole microseconds since the epoch: exact, unlike a float of seconds. */
  timeUs: number;
  iface: string;
  frame: CanFrame;
  /** The FD flags digit as read (keeps bits the frame does not model, e.g. FDF, for exact round trips). */
  fdFlags?: number;
  /** `R` received or `T` transmitted, when the log says. */
  direction?: 'R' | 'T';
}

export interface CandumpIssue {
  line: number;
  text: string;
  reason: string;
}

export class CandumpLineError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CandumpLineError';
  }
}

const LINE = /^\((\d+)\.(\d{6})\)\s+(\S+)\s+(\S+)(?:\s+([RT]))?\s*$/;

/** Parses one line; throws CandumpLineError saying what is wrong with it. */
export function parseCandumpLine(line: string): CandumpRecord {
  const m = LINE.exec(line);
  if (!m) {
    if (!/^\(\d+\.\d+\)/.test(line)) throw new CandumpLineError('does not start with a (seconds.microseconds) timestamp');
    if (!/^\(\d+\.\d{6}\)/.test(line)) throw new CandumpLineError('the timestamp needs exactly 6 digits of microseconds');
    throw new CandumpLineError('expected "(sec.usec) iface ID#DATA"');
  }
  const [, sec, usec, iface, body, direction] = m as unknown as [string, string, string, string, string, 'R' | 'T' | undefined];
  const timeUs = Number(sec) * 1_000_000 + Number(usec);
  if (!Number.isSafeInteger(timeUs)) throw new CandumpLineError(`timestamp ${sec}.${usec} is out of range`);
  const { frame, fdFlags } = parseFrameText(body, timeUs / 1e6);
  return { timeUs, iface, frame, ...(fdFlags === undefined ? {} : { fdFlags }), ...(direction ? { direction } : {}) };
}

/**
 * Parses cansend's frame syntax: `123#11223344`, `12345678#`, `123#R`, `123#R3`,
 * `123##1112233` (CAN FD with flags). Dots between data bytes are allowed, as cansend allows.
 */
export function parseFrameText(text: string, timestamp?: number): { frame: CanFrame; fdFlags?: number } {
  const hash = text.indexOf('#');
  if (hash < 0) throw new CandumpLineError(`"${text}" has no '#' between id and data (write e.g. 123#DEADBEEF)`);
  const idText = text.slice(0, hash);
  if (!/^[0-9A-Fa-f]+$/.test(idText) || (idText.length !== 3 && idText.length !== 8)) {
    throw new CandumpLineError(`id "${idText}" must be 3 hex digits (11-bit) or 8 hex digits (29-bit)`);
  }
  let id = parseInt(idText, 16);
  let extended = idText.length === 8;
  let error = false;
  if (extended && id & CAN_ERR_FLAG) {
    error = true;
    id &= ~CAN_ERR_FLAG;
  }
  if (extended && id > 0x1fffffff) throw new CandumpLineError(`id ${idText} has bits above the 29-bit range`);
  if (!extended && id > 0x7ff) throw new CandumpLineError(`id ${idText} is above 0x7FF; an 11-bit id`);
  if (error) extended = true;
  const rest = text.slice(hash + 1);
  const ts = timestamp === undefined ? {} : { timestamp };
  const make = (init: Parameters<typeof canFrame>[0]) => {
    try {
      return canFrame(init);
    } catch (err) {
      throw new CandumpLineError((err as Error).message);
    }
  };
  if (rest.startsWith('#')) {
    if (rest.startsWith('##')) throw new CandumpLineError('CAN XL frames (###) are not supported');
    const flagsText = rest[1];
    if (flagsText === undefined || !/^[0-9A-Fa-f]$/.test(flagsText)) throw new CandumpLineError('a CAN FD frame needs one hex digit of flags after ##');
    const flags = parseInt(flagsText, 16);
    const data = parseHexData(rest.slice(2));
    return {
      frame: make({ id, extended, data, fd: true, brs: (flags & CANFD_BRS) !== 0, esi: (flags & CANFD_ESI) !== 0, error, ...ts }),
      fdFlags: flags,
    };
  }
  if (rest[0] === 'R' || rest[0] === 'r') {
    const dlcText = rest.slice(1);
    if (dlcText !== '' && !/^[0-8]$/.test(dlcText)) throw new CandumpLineError(`remote frame DLC "${dlcText}" must be one digit 0-8`);
    return { frame: make({ id, extended, remote: true, dlc: dlcText === '' ? 0 : Number(dlcText), error, ...ts }) };
  }
  if (/_[0-9A-Fa-f]$/.test(rest)) throw new CandumpLineError('classic frames with a DLC above 8 (_X suffix) are not supported');
  return { frame: make({ id, extended, data: parseHexData(rest), error, ...ts }) };
}

function parseHexData(text: string): Uint8Array {
  const hex = text.replaceAll('.', '');
  if (!/^(?:[0-9A-Fa-f]{2})*$/.test(hex)) throw new CandumpLineError(`data "${text}" must be pairs of hex digits`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The frame as candump and cansend write it (`123#DEADBEEF`, `123#R`, `123##1...`). */
export function formatFrameText(frame: CanFrame, fdFlags?: number): string {
  const id = frame.error
    ? (frame.id | CAN_ERR_FLAG).toString(16).toUpperCase().padStart(8, '0')
    : formatCanId(frame);
  const data = Buffer.from(frame.data).toString('hex').toUpperCase();
  if (frame.fd) {
    const flags = fdFlags ?? ((frame.brs ? CANFD_BRS : 0) | (frame.esi ? CANFD_ESI : 0));
    return `${id}##${flags.toString(16).toUpperCase()}${data}`;
  }
  if (frame.remote) return `${id}#R${frame.dlc > 0 ? frame.dlc : ''}`;
  return `${id}#${data}`;
}

/** One candump -L line, without the newline. */
export function formatCandumpLine(record: CandumpRecord): string {
  const sec = Math.floor(record.timeUs / 1_000_000);
  const usec = record.timeUs - sec * 1_000_000;
  const head = `(${String(sec).padStart(10, '0')}.${String(usec).padStart(6, '0')}) ${record.iface} ${formatFrameText(record.frame, record.fdFlags)}`;
  return record.direction ? `${head} ${record.direction}` : head;
}

/** Microseconds for a frame's timestamp (seconds), or for now. */
export function timeUsOf(frame: CanFrame, nowMs = Date.now()): number {
  return Math.round((frame.timestamp ?? nowMs / 1000) * 1e6);
}

/** Parses a whole log held in memory: the records, and an issue per bad line (which is skipped). */
export function parseCandumpLog(text: string): { records: CandumpRecord[]; issues: CandumpIssue[] } {
  const records: CandumpRecord[] = [];
  const issues: CandumpIssue[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      records.push(parseCandumpLine(line));
    } catch (err) {
      if (!(err instanceof CandumpLineError)) throw err;
      issues.push({ line: i + 1, text: line, reason: err.reason });
    }
  }
  return { records, issues };
}

/**
 * Reads a log file line by line (any size), yielding records in order. Each bad line is passed
 * to `onIssue` (with its line number) and skipped.
 */
export async function* readCandumpFile(path: string, options: { onIssue?: (issue: CandumpIssue) => void } = {}): AsyncGenerator<CandumpRecord> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield parseCandumpLine(line);
    } catch (err) {
      if (!(err instanceof CandumpLineError)) throw err;
      options.onIssue?.({ line: n, text: line, reason: err.reason });
    }
  }
}

/** Writes candump -L lines to a file (or any writable stream), honouring backpressure. */
export class CandumpLogWriter {
  readonly #out: NodeJS.WritableStream;
  readonly #ownsStream: boolean;
  readonly iface: string;

  constructor(target: string | NodeJS.WritableStream, options: { iface?: string; append?: boolean } = {}) {
    this.iface = options.iface ?? 'can0';
    if (typeof target === 'string') {
      this.#out = createWriteStream(target, { flags: options.append ? 'a' : 'w' });
      this.#ownsStream = true;
    } else {
      this.#out = target;
      this.#ownsStream = false;
    }
  }

  /** Writes a frame (time from its timestamp) or a full record. */
  async write(item: CanFrame | CandumpRecord): Promise<void> {
    const record: CandumpRecord = 'frame' in item ? item : { timeUs: timeUsOf(item), iface: this.iface, frame: item };
    if (!this.#out.write(formatCandumpLine(record) + '\n')) await once(this.#out as NodeJS.EventEmitter, 'drain');
  }

  async close(): Promise<void> {
    if (!this.#ownsStream) return;
    const out = this.#out as WriteStream;
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
