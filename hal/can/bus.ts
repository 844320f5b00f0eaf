// The CAN bus interface. Contract (every backend, tested by test/hal/can-contract.test.ts):
// - `send` resolves once the frame is handed to the bus (or adapter); it rejects with
//   CanNotPermittedError on a listen-only bus and CanOperationError('closed') after close.
// - `frames()` yields every received frame that passes the filters, in arrival order; several
//   iterators may run at once and each sees every frame. Iteration ends when the bus closes.
// - `receive(timeoutMs)` resolves with the next frame or rejects with CanTimeoutError.
// - `close()` is idempotent; pending receives reject with CanOperationError('closed').
// - Each reader (an iterator, or receive()) has a bounded queue: when it is full the oldest frame
//   is dropped and counted in stats().overruns. Input that cannot be parsed is skipped and
//   counted in stats().malformed; it never ends the bus.
// - A bus that stops working (adapter unplugged, bus-off) hands out the frames it had queued,
//   then rejects receives and ends iterators with that CanOperationError (kind 'disconnected',
//   'bus-off', ...); sends reject with it too. Backends that can recover say how (slcan: reopen()).
import type { CanFrame } from './frame.ts';

export interface CanFilter {
  /** Id to match after masking. */
  id: number;
  /** Mask applied to both ids; defaults to all bits of the id's width. */
  mask?: number;
  /** Match only extended (true) or only standard (false) ids; both when absent. */
  extended?: boolean;
}

export interface CanBusStats {
  received: number;
  sent: number;
  /** Frames or bytes that could not be parsed and were skipped. */
  malformed: number;
  /** Frames dropped because a receive queue was full. */
  overruns: number;
  errors: number;
}

export interface CanBus {
  /** The spec the bus was opened from, e.g. `virtual:pack` or `slcan:/dev/ttyACM0@500000`. */
  readonly channel: string;
  /** True when the bus may transmit (real buses open listen-only unless asked). */
  readonly canTransmit: boolean;
  send(frame: CanFrame): Promise<void>;
  frames(): AsyncIterableIterator<CanFrame>;
  receive(timeoutMs?: number): Promise<CanFrame>;
  setFilters(filters: readonly CanFilter[] | undefined): void;
  stats(): CanBusStats;
  close(): Promise<void>;
}

/** True when a frame passes a filter list (an empty or absent list passes everything). */
export function matchesFilters(frame: CanFrame, filters: readonly CanFilter[] | undefined): boolean {
  if (!filters || filters.length === 0) return true;
  return filters.some((f) => {
    if (f.extended !== undefined && f.extended !== frame.extended) return false;
    const mask = f.mask ?? (frame.extended ? 0x1fffffff : 0x7ff);
    return (frame.id & mask) === (f.id & mask);
  });
}
