// CAN frames: ISO 11898-1 classic (0-8 data bytes) and CAN FD (0-64 bytes, lengths from the
// DLC table). Ids are checked when a frame is made, as embedded-hal's StandardId/ExtendedId do.

/** The data lengths a CAN FD frame can carry (ISO 11898-1:2015, DLC 0-15). */
export const FD_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64] as const;

export const MAX_STANDARD_ID = 0x7ff;
export const MAX_EXTENDED_ID = 0x1fffffff;

export interface CanFrame {
  /** Arbitration id: 11 bits, or 29 bits when `extended`. */
  readonly id: number;
  readonly extended: boolean;
  /** Payload; empty for a remote frame (see `dlc`). */
  readonly data: Uint8Array;
  /** Remote transmission request (classic CAN only). */
  readonly remote: boolean;
  /** Data length code asked for by a remote frame; equals data.length otherwise. */
  readonly dlc: number;
  /** CAN FD frame. */
  readonly fd: boolean;
  /** CAN FD bit-rate switch. */
  readonly brs: boolean;
  /** CAN FD error state indicator. */
  readonly esi: boolean;
  /** An error frame reported by the controller (data holds the error detail, if any). */
  readonly error: boolean;
  /** Receive time in seconds (wall clock, with sub-millisecond fraction), if known. */
  readonly timestamp?: number;
}

export interface CanFrameInit {
  id: number;
  data?: Uint8Array | ArrayLike<number>;
  extended?: boolean;
  remote?: boolean;
  dlc?: number;
  fd?: boolean;
  brs?: boolean;
  esi?: boolean;
  error?: boolean;
  timestamp?: number;
}

/** Makes a checked frame. Throws RangeError naming the field that is out of range. */
export function canFrame(init: CanFrameInit): CanFrame {
  const extended = init.extended ?? init.id > MAX_STANDARD_ID;
  const max = extended ? MAX_EXTENDED_ID : MAX_STANDARD_ID;
  if (!Number.isInteger(init.id) || init.id < 0 || init.id > max) {
    throw new RangeError(
      `CAN id 0x${Number(init.id).toString(16)} is out of range for a ${extended ? '29' : '11'}-bit id (0..0x${max.toString(16)})`,
    );
  }
  const fd = init.fd ?? false;
  const remote = init.remote ?? false;
  const data = Uint8Array.from(init.data ?? []);
  if (fd) {
    if (remote) throw new RangeError(`CAN id 0x${init.id.toString(16)}: CAN FD has no remote frames`);
    if (!(FD_LENGTHS as readonly number[]).includes(data.length)) {
      throw new RangeError(
        `CAN id 0x${init.id.toString(16)}: ${data.length} data bytes is not a CAN FD length (${FD_LENGTHS.join(', ')})`,
      );
    }
  } else if (data.length > 8) {
    throw new RangeError(`CAN id 0x${init.id.toString(16)}: ${data.length} data bytes; classic CAN carries at most 8`);
  }
  if ((init.brs || init.esi) && !fd) {
    throw new RangeError(`CAN id 0x${init.id.toString(16)}: BRS and ESI flags need a CAN FD frame`);
  }
  if (remote && data.length > 0) {
    throw new RangeError(`CAN id 0x${init.id.toString(16)}: a remote frame carries no data (give dlc instead)`);
  }
  const dlc = remote ? (init.dlc ?? 0) : data.length;
  if (remote && (!Number.isInteger(dlc) || dlc < 0 || dlc > 8)) {
    throw new RangeError(`CAN id 0x${init.id.toString(16)}: remote dlc ${dlc} is out of range (0..8)`);
  }
  const frame: CanFrame = {
    id: init.id,
    extended,
    data,
    remote,
    dlc,
    fd,
    brs: init.brs ?? false,
    esi: init.esi ?? false,
    error: init.error ?? false,
    ...(init.timestamp === undefined ? {} : { timestamp: init.timestamp }),
  };
  return frame;
}

/** `123`, `1ABCDEF0`: the id as candump prints it (3 hex digits standard, 8 extended). */
export function formatCanId(frame: Pick<CanFrame, 'id' | 'extended'>): string {
  return frame.id.toString(16).toUpperCase().padStart(frame.extended ? 8 : 3, '0');
}
