// What every UART driver counts, for the runtime's status and `voltrail doctor`: requests and
// answers, timeouts, retries, reopened ports, garbage skipped, and every rejected frame by
// reason, so a technician can tell line noise (checksum) from wiring (timeouts) from a BMS that
// speaks another dialect (header, length, status).

/** Why a frame (or the bytes that looked like one) was thrown away. */
export type RejectReason =
  /** The bytes after the start byte cannot begin a frame of this protocol. */
  | 'header'
  /** The checksum does not match. */
  | 'checksum'
  /** The byte where the end marker belongs is something else. */
  | 'end'
  /** A frame whose data length is wrong for its command. */
  | 'length'
  /** A frame cut short: no more bytes came before the timeout or the next request. */
  | 'truncated'
  /** The BMS answered with an error status (a refused or unknown command). */
  | 'status'
  /** A well-formed frame that answers no pending request (a late or extra reply). */
  | 'unexpected';

export interface UartCounters {
  requests: number;
  /** Requests answered in full. */
  responses: number;
  timeouts: number;
  retries: number;
  /** Times the port was found closed and opened again. */
  reopens: number;
  /** Bytes skipped while looking for the start of a frame. */
  garbageBytes: number;
  /** Frames rejected, in total and by reason. */
  rejected: number;
  rejectedBy: Record<RejectReason, number>;
  /** Complete polls (every request of a cycle answered). */
  polls: number;
  failedPolls: number;
  lastError?: string;
}

export function uartCounters(): UartCounters {
  return {
    requests: 0,
    responses: 0,
    timeouts: 0,
    retries: 0,
    reopens: 0,
    garbageBytes: 0,
    rejected: 0,
    rejectedBy: { header: 0, checksum: 0, end: 0, length: 0, truncated: 0, status: 0, unexpected: 0 },
    polls: 0,
    failedPolls: 0,
  };
}

export function reject(counters: UartCounters, reason: RejectReason, detail: string): void {
  counters.rejected++;
  counters.rejectedBy[reason]++;
  counters.lastError = detail;
}
