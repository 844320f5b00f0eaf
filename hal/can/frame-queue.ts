// A bounded FIFO of received frames with one reader, used by the bus base class: one queue per
// `frames()` iterator and one for `receive()`. When full, the OLDEST frame is dropped and the
// drop is counted (a reader that falls behind loses history, never the newest state), as a CAN
// controller's receive FIFO does on overrun.
import type { CanFrame } from './frame.ts';

type Waiter = { resolve: (frame: CanFrame | undefined) => void; reject: (err: unknown) => void };

export class FrameQueue {
  readonly capacity: number;
  #ring: (CanFrame | undefined)[];
  #head = 0;
  #length = 0;
  #waiters: Waiter[] = [];
  #ended = false;
  #failure: unknown = undefined;
  #roomWaiters: (() => void)[] = [];

  constructor(capacity: number, private readonly onOverrun: () => void) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity ${capacity} must be a whole number of at least 1`);
    this.capacity = capacity;
    this.#ring = new Array<CanFrame | undefined>(capacity);
  }

  get length(): number {
    return this.#length;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Adds a frame; hands it straight to a waiting reader if there is one. */
  push(frame: CanFrame): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter) return waiter.resolve(frame);
    if (this.#length === this.capacity) {
      this.#ring[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.capacity;
      this.#length--;
      this.onOverrun();
    }
    this.#ring[(this.#head + this.#length) % this.capacity] = frame;
    this.#length++;
  }

  /** Takes the oldest frame if there is one, without waiting. */
  shift(): CanFrame | undefined {
    if (this.#length === 0) return undefined;
    const frame = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#length--;
    if (this.#length < this.capacity) {
      const waiters = this.#roomWaiters;
      this.#roomWaiters = [];
      for (const w of waiters) w();
    }
    return frame;
  }

  /**
   * The next frame; `undefined` once the queue has ended and is drained; rejects with the
   * failure the queue was ended with (after the frames queued before it).
   */
  next(): Promise<CanFrame | undefined> {
    const frame = this.shift();
    if (frame) return Promise.resolve(frame);
    if (this.#ended) return this.#failure === undefined ? Promise.resolve(undefined) : Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Like `next()`, with a `cancel` that withdraws the wait (a timed-out receive) so it swallows no frame. */
  nextCancellable(): { promise: Promise<CanFrame | undefined>; cancel: () => void } {
    const frame = this.shift();
    if (frame) return { promise: Promise.resolve(frame), cancel: () => {} };
    if (this.#ended) {
      return { promise: this.#failure === undefined ? Promise.resolve(undefined) : Promise.reject(this.#failure), cancel: () => {} };
    }
    let entry: Waiter | undefined;
    const promise = new Promise<CanFrame | undefined>((resolve, reject) => {
      entry = { resolve, reject };
      this.#waiters.push(entry);
    });
    return { promise, cancel: () => (this.#waiters = this.#waiters.filter((w) => w !== entry)) };
  }

  /**
   * Ends the queue. With `drain`, readers still get the queued frames first; without, queued
   * frames are dropped. A `failure` is thrown to readers after that instead of a clean end.
   */
  end(options: { drain: boolean; failure?: unknown }): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = options.failure;
    if (!options.drain) {
      this.#ring.fill(undefined);
      this.#length = 0;
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (this.#failure === undefined) w.resolve(undefined);
      else w.reject(this.#failure);
    }
    const roomWaiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of roomWaiters) w();
  }

  /** Resolves when the queue has room (or has ended): lets a producer that can wait, wait. */
  room(): Promise<void> {
    if (this.#ended || this.#length < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }
}
