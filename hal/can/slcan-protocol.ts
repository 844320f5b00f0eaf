// The Lawicel serial-line CAN (slcan) ASCII protocol, as CANUSB, CANable and USBtin speak it:
// the encoding of frames and the command table, shared by the slcan backend (host side) and
// the emulated adapter (device side). Spec: Lawicel CANUSB manual, "ASCII command set".
//   tiiildd..[ssss]\r     standard data frame: 3 hex id, DLC digit, data, optional timestamp
//   Tiiiiiiiildd..[ssss]\r extended data frame: 8 hex id
//   riiil[ssss]\r / Riiiiiiiil[ssss]\r   remote frames
//   Sn\r bitrate, O\r open, L\r listen-only, C\r close, Zn\r timestamps, V\r N\r F\r queries
// Replies: \r (ok, after the value for V/N/F), \a (BEL: error), z\r / Z\r after t/T on Lawicel
// and USBtin firmware (CANable answers a bare \r). Timestamps are milliseconds, 0-59999.
import type { CanFrame } from './frame.ts';
import { canFrame } from './frame.ts';

export const OK = '\r';
export const BELL = '\x07';

/** `Sn` codes. S7 is 800 kbit/s in the Lawicel manual and on USBtin, 750 kbit/s on CANable. */
export const BITRATE_CODES: ReadonlyMap<number, string> = new Map([
  [10_000, 'S0'],
  [20_000, 'S1'],
  [50_000, 'S2'],
  [100_000, 'S3'],
  [125_000, 'S4'],
  [250_000, 'S5'],
  [500_000, 'S6'],
  [750_000, 'S7'],
  [800_000, 'S7'],
  [1_000_000, 'S8'],
]);

/** Bitrate (bit/s) for an `Sn` digit, as the Lawicel manual has it. */
export const BITRATE_OF_CODE: readonly number[] = [10_000, 20_000, 50_000, 100_000, 125_000, 250_000, 500_000, 800_000, 1_000_000];

export const TIMESTAMP_WRAP_MS = 60_000;

/** The slcan line (without \r) for a frame. Throws RangeError for what slcan cannot carry. */
export function encodeSlcanFrame(frame: CanFrame, timestampMs?: number): string {
  if (frame.fd) throw new RangeError(`frame 0x${frame.id.toString(16)}: slcan carries classic CAN only, not CAN FD`);
  if (frame.error) throw new RangeError(`frame 0x${frame.id.toString(16)}: error frames cannot be sent over slcan`);
  const id = frame.id.toString(16).toUpperCase().padStart(frame.extended ? 8 : 3, '0');
  const kind = frame.remote ? (frame.extended ? 'R' : 'r') : frame.extended ? 'T' : 't';
  const data = frame.remote ? '' : Buffer.from(frame.data).toString('hex').toUpperCase();
  const ts = timestampMs === undefined ? '' : (timestampMs % TIMESTAMP_WRAP_MS).toString(16).toUpperCase().padStart(4, '0');
  return `${kind}${id}${frame.dlc}${data}${ts}`;
}

export interface SlcanFrameLine {
  frame: CanFrame;
  /** The adapter's timestamp (ms, wrapping at 60000) when it sent one. */
  timestampMs?: number;
}

const HEX = /^[0-9A-Fa-f]*$/;

/** Parses a t/T/r/R line (without \r); undefined when it is not a well-formed frame. */
export function parseSlcanFrame(line: string): SlcanFrameLine | undefined {
  const kind = line[0];
  if (kind !== 't' && kind !== 'T' && kind !== 'r' && kind !== 'R') return undefined;
  const extended = kind === 'T' || kind === 'R';
  const remote = kind === 'r' || kind === 'R';
  const idLen = extended ? 8 : 3;
  if (line.length < 2 + idLen || !HEX.test(line.slice(1))) return undefined;
  const id = parseInt(line.slice(1, 1 + idLen), 16);
  const dlcChar = line[1 + idLen]!;
  if (!/^[0-8]$/.test(dlcChar)) return undefined;
  const dlc = Number(dlcChar);
  const dataLen = remote ? 0 : dlc * 2;
  const rest = line.length - (2 + idLen) - dataLen;
  if (rest !== 0 && rest !== 4) return undefined;
  const dataStart = 2 + idLen;
  try {
    const frame = remote
      ? canFrame({ id, extended, remote: true, dlc })
      : canFrame({ id, extended, data: Buffer.from(line.slice(dataStart, dataStart + dataLen), 'hex') });
    if (rest === 4) {
      const timestampMs = parseInt(line.slice(dataStart + dataLen), 16);
      if (timestampMs >= TIMESTAMP_WRAP_MS) return undefined;
      return { frame, timestampMs };
    }
    return { frame };
  } catch {
    return undefined; // an id out of range for its width
  }
}

/**
 * Splits a byte stream into slcan tokens: lines ended by \r, and BEL replies. \n is ignored
 * (some adapters end lines with \r\n). A line longer than any valid one is garbage: it is
 * dropped, counted, and the splitter resynchronises at the next \r.
 */
export class SlcanLineSplitter {
  /** Longest valid line: T + 8 id + dlc + 16 data + 4 timestamp, with room for V/N replies. */
  static readonly MAX_LINE = 40;
  #buf = '';
  #skipping = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onBell: () => void,
    private readonly onGarbage: () => void,
  ) {}

  push(chunk: Buffer): void {
    for (const byte of chunk) {
      if (byte === 0x0d) {
        if (this.#skipping) this.#skipping = false;
        else {
          const line = this.#buf;
          this.#buf = '';
          this.onLine(line);
        }
        this.#buf = '';
      } else if (byte === 0x07) {
        if (this.#buf !== '' || this.#skipping) this.onGarbage();
        this.#buf = '';
        this.#skipping = false;
        this.onBell();
      } else if (byte === 0x0a) {
        continue;
      } else if (!this.#skipping) {
        this.#buf += String.fromCharCode(byte);
        if (this.#buf.length > SlcanLineSplitter.MAX_LINE) {
          this.onGarbage();
          this.#buf = '';
          this.#skipping = true;
        }
      }
    }
  }

  /** Forgets a partial line (after a reopen). */
  reset(): void {
    this.#buf = '';
    this.#skipping = false;
  }
}
