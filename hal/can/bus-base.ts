// The base class of every CAN backend, after python-can's BusABC: a backend implements a send
// primitive (`transmit`) and a shutdown, and pushes what it receives with `deliver`; the base
// gives all of them the CanBus contract (bus.ts): bounded receive queues, receive timeouts,
// software filtering, periodic sending, listen-only refusal, close and failure semantics, stats.
import type { CanBus, CanBusStats, CanFilter } from './bus.ts';
import { matchesFilters } from './bus.ts';
import { CanNotPermittedError, CanOperationError, CanTimeoutError } from './errors.ts';
import type { CanError } from './errors.ts';
import { FrameQueue } from './frame-queue.ts';
import type { CanFrame } from './frame.ts';
import { formatCanId } from './frame.ts';
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';

/** Frames each receive queue holds before the oldest is dropped (and counted as an overrun). */
export const DEFAULT_QUEUE_CAPACITY = 4096;

export interface BusBaseOptions {
  /** The spec the bus was opened from. */
  channel: string;
  canTransmit: boolean;
  clock?: Clock;
  queueCapacity?: number;
  /**
   * Keep a queue for `receive()` from the moment the bus opens (default), so that a frame that
   * arrives between two calls is not lost. A source that waits for its readers (replay) turns
   * it off: the queue is then made by the first `receive()`.
   */
  receiveQueueFromOpen?: boolean;
  /** What to tell a caller whose send was refused on a listen-only bus. */
  transmitHint?: string;
}

/** A running periodic transmission (python-can's CyclicSendTask). */
export interface PeriodicSend {
  /** Stops sending; idempotent. */
  stop(): void;
  /** Sends this frame from the next period on. */
  modify(frame: CanFrame): void;
  /** Resolves when the task ends (stopped, bus closed, or a send failed: see `error`). */
  readonly done: Promise<void>;
  /** The send error that ended the task, if one did. */
  readonly error: unknown;
}

export interface PeriodicOptions {
  /** Stop after this many milliseconds (clock time). */
  durationMs?: number;
  /** Stop after this many frames. */
  count?: number;
}

type State = 'open' | 'failed' | 'ended' | 'closed';

export abstract class BusBase implements CanBus {
  readonly channel: string;
  readonly canTransmit: boolean;
  protected readonly clock: Clock;
  readonly #capacity: number;
  readonly #transmitHint: string;
  #filters: readonly CanFilter[] | undefined;
  #iterQueues = new Set<FrameQueue>();
  #receiveQueue: FrameQueue | undefined;
  #state: State = 'open';
  #failure: CanError | undefined;
  #closing: Promise<void> | undefined;
  #periodic = new Set<PeriodicSend>();
  #readerArrived: (() => void)[] = [];
  #stats: CanBusStats = { received: 0, sent: 0, malformed: 0, overruns: 0, errors: 0 };

  constructor(options: BusBaseOptions) {
    this.channel = options.channel;
    this.canTransmit = options.canTransmit;
    this.clock = options.clock ?? systemClock;
    this.#capacity = options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    this.#transmitHint = options.transmitHint ?? 'open it with { transmit: true } (CLI: --transmit)';
    if (options.receiveQueueFromOpen ?? true) this.#receiveQueue = this.#newQueue();
  }

  /** Hands one frame to the bus or adapter. Called only on an open bus that may transmit. */
  protected abstract transmit(frame: CanFrame): Promise<void>;
  /** Releases the backend (port, socket, hub slot). Called once, by close(). */
  protected abstract shutdown(): Promise<void>;

  /** Throws if this backend cannot carry the frame (e.g. CAN FD on a classic-only adapter). */
  protected checkFrame(_frame: CanFrame): void {}

  /** Called when the filters change, for backends that can also filter in hardware. */
  protected filtersChanged(_filters: readonly CanFilter[] | undefined): void {}

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** The error that stopped the bus (e.g. a disconnected adapter), until it is resumed. */
  get failure(): CanError | undefined {
    return this.#failure;
  }

  async send(frame: CanFrame): Promise<void> {
    if (typeof frame !== 'object' || frame === null || typeof frame.id !== 'number' || !(frame.data instanceof Uint8Array)) {
      throw new TypeError('send(frame): frame must be a CanFrame (make one with canFrame())');
    }
    this.#checkCanSend();
    this.checkFrame(frame);
    try {
      await this.transmit(frame);
    } catch (err) {
      this.#stats.errors++;
      throw err;
    }
    this.#stats.sent++;
  }

  frames(): AsyncIterableIterator<CanFrame> {
    const queue = this.#newQueue();
    if (this.#state === 'closed' || this.#state === 'ended') queue.end({ drain: false });
    else if (this.#state === 'failed') queue.end({ drain: false, failure: this.#failure });
    else this.#iterQueues.add(queue);
    const finish = (): IteratorReturnResult<undefined> => {
      this.#iterQueues.delete(queue);
      queue.end({ drain: false });
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<CanFrame> = {
      next: async () => {
        try {
          const frame = await queue.next();
          if (frame === undefined) return finish();
          return { done: false, value: frame };
        } catch (err) {
          finish();
          // Closing ends iteration cleanly; any other failure (disconnected, bus-off) is thrown.
          if (err instanceof CanOperationError && err.kind === 'closed') return { done: true, value: undefined };
          throw err;
        }
      },
      return: async () => finish(),
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  async receive(timeoutMs?: number): Promise<CanFrame> {
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) throw new RangeError(`receive(timeoutMs): ${timeoutMs} must be 0 or more`);
    if (this.#state === 'closed') throw this.#closedError();
    this.#receiveQueue ??= this.#newQueue();
    // A frame already waiting needs no timer.
    const queued = this.#receiveQueue.shift();
    if (queued) return queued;
    const { promise, cancel } = this.#receiveQueue.nextCancellable();
    let frame: CanFrame | undefined;
    if (timeoutMs === undefined) {
      frame = await promise;
    } else {
      const abort = new AbortController();
      const timeout = Symbol('timeout');
      const timer = this.clock.sleep(timeoutMs, abort.signal).then(
        () => timeout,
        () => undefined,
      );
      const winner = await Promise.race([promise, timer]).finally(() => abort.abort());
      if (winner === timeout) {
        cancel();
        throw new CanTimeoutError(`${this.channel}: no frame within ${timeoutMs} ms`);
      }
      frame = winner as CanFrame | undefined;
    }
    if (frame === undefined) throw this.#failure ?? this.#closedError();
    return frame;
  }

  setFilters(filters: readonly CanFilter[] | undefined): void {
    for (const [i, f] of (filters ?? []).entries()) {
      if (typeof f !== 'object' || f === null || !Number.isInteger(f.id)) throw new TypeError(`setFilters: filters[${i}].id must be a whole number`);
      if (f.mask !== undefined && !Number.isInteger(f.mask)) throw new TypeError(`setFilters: filters[${i}].mask must be a whole number`);
    }
    this.#filters = filters && filters.length > 0 ? [...filters] : undefined;
    this.filtersChanged(this.#filters);
  }

  stats(): CanBusStats {
    return { ...this.#stats };
  }

  /**
   * Sends `frame` every `periodMs` (clock time, on a fixed schedule so that it does not drift)
   * until stopped, the bus closes, or a send fails. Refused at once on a listen-only bus.
   */
  sendPeriodic(frame: CanFrame, periodMs: number, options: PeriodicOptions = {}): PeriodicSend {
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) throw new RangeError(`sendPeriodic: periodMs ${periodMs} must be a positive number`);
    this.#checkCanSend();
    this.checkFrame(frame);
    const abort = new AbortController();
    let current = frame;
    let error: unknown;
    const start = this.clock.monotonic();
    const run = async () => {
      for (let n = 0; !abort.signal.aborted; n++) {
        if (options.count !== undefined && n >= options.count) break;
        const due = start + n * periodMs;
        if (options.durationMs !== undefined && due - start >= options.durationMs) break;
        const wait = due - this.clock.monotonic();
        if (wait > 0) await this.clock.sleep(wait, abort.signal);
        if (abort.signal.aborted) break;
        await this.send(current);
      }
    };
    const handle: PeriodicSend = {
      stop: () => abort.abort(),
      modify: (next) => {
        this.checkFrame(next);
        current = next;
      },
      done: run().then(
        () => undefined,
        (err: unknown) => {
          if (!abort.signal.aborted) error = err;
        },
      ),
      get error() {
        return error;
      },
    };
    this.#periodic.add(handle);
    void handle.done.then(() => this.#periodic.delete(handle));
    return handle;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = this.#closedError();
      this.#state = 'closed';
      for (const p of this.#periodic) p.stop();
      for (const q of this.#iterQueues) q.end({ drain: false, failure: closed });
      this.#iterQueues.clear();
      this.#receiveQueue?.end({ drain: false, failure: closed });
      for (const r of this.#readerArrived.splice(0)) r();
      await this.shutdown();
    })();
    return this.#closing;
  }

  /** For backends: a received frame. Filtered in software, stamped if the backend did not. */
  protected deliver(frame: CanFrame): void {
    if (this.#state !== 'open') return;
    if (!matchesFilters(frame, this.#filters)) return;
    const stamped = frame.timestamp === undefined ? { ...frame, timestamp: this.clock.now() / 1000 } : frame;
    this.#stats.received++;
    this.#receiveQueue?.push(stamped);
    for (const q of this.#iterQueues) q.push(stamped);
  }

  /** For backends: bytes or a frame that could not be parsed and were skipped. */
  protected countMalformed(n = 1): void {
    this.#stats.malformed += n;
  }

  /** For backends: an error reported by the adapter or controller that the bus survives. */
  protected countError(n = 1): void {
    this.#stats.errors += n;
  }

  /** For backends: frames lost before they reached this bus (adapter buffer full). */
  protected countOverrun(n = 1): void {
    this.#stats.overruns += n;
  }

  /**
   * For backends: the bus stopped working (adapter unplugged, bus-off). Frames already queued
   * are still read; then readers get `error`, and sends are refused with it, until `resume()`.
   */
  protected fail(error: CanError): void {
    if (this.#state !== 'open') return;
    this.#state = 'failed';
    this.#failure = error;
    this.#stats.errors++;
    for (const q of this.#iterQueues) q.end({ drain: true, failure: error });
    this.#iterQueues.clear();
    this.#receiveQueue?.end({ drain: true, failure: error });
  }

  /** For backends: the failed bus works again (the adapter was reopened). */
  protected resume(): void {
    if (this.#state !== 'failed') return;
    this.#state = 'open';
    this.#failure = undefined;
    if (this.#receiveQueue) this.#receiveQueue = this.#newQueue();
  }

  /** For backends whose source runs dry (a replay): readers get what is queued, then the end. */
  protected endOfStream(): void {
    if (this.#state !== 'open') return;
    this.#state = 'ended';
    const ended = new CanOperationError('closed', `${this.channel}: the source has no more frames`);
    for (const q of this.#iterQueues) q.end({ drain: true, failure: ended });
    this.#iterQueues.clear();
    this.#receiveQueue?.end({ drain: true, failure: ended });
  }

  /** For sources that can wait (a replay): resolves once there is a reader and every reader has room. */
  protected async readersReady(): Promise<void> {
    for (;;) {
      if (this.#state !== 'open') return;
      const queues = [...this.#iterQueues, ...(this.#receiveQueue ? [this.#receiveQueue] : [])];
      if (queues.length === 0) {
        await new Promise<void>((resolve) => this.#readerArrived.push(resolve));
        continue;
      }
      const full = queues.find((q) => q.length >= q.capacity);
      if (!full) return;
      await full.room();
    }
  }

  #newQueue(): FrameQueue {
    const queue = new FrameQueue(this.#capacity, () => this.#stats.overruns++);
    const arrived = this.#readerArrived;
    this.#readerArrived = [];
    for (const r of arrived) queueMicrotask(r);
    return queue;
  }

  #checkCanSend(): void {
    if (this.#state === 'closed') throw this.#closedError();
    if (!this.canTransmit) {
      throw new CanNotPermittedError(`${this.channel} is open listen-only, so it will not transmit; to send, ${this.#transmitHint}`);
    }
    if (this.#state === 'failed' && this.#failure) throw this.#failure;
  }

  #closedError(): CanOperationError {
    return new CanOperationError('closed', `${this.channel} is closed`);
  }

  /** `123#DEADBEEF` for messages. */
  protected describe(frame: CanFrame): string {
    return `${formatCanId(frame)}#${Buffer.from(frame.data).toString('hex').toUpperCase()}`;
  }
}
