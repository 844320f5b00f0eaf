// The bounded priority queue in front of signature verification (stage 6 of reception). Items
// sit in FIFO rings by (priority class, distance bucket) (message-priority.ts): `take` gives the
// best (lowest class, nearest bucket, oldest), skipping any that waited past their class's
// deadline (`shed-late`); when the queue is full, the worst item (highest class, farthest
// bucket, oldest there) is shed (`shed-overload`), and a newcomer that is itself the worst is
// refused. Memory is bounded by `capacity` whatever the offered load. O(1) per operation
// (classes x buckets is a small constant).
import { DISTANCE_BUCKETS, PRIORITY_CLASSES } from './message-priority.ts';

class Ring<T> {
  #buf: (T | undefined)[];
  #head = 0;
  #size = 0;
  constructor(initial = 16) {
    this.#buf = new Array(initial);
  }
  get size(): number {
    return this.#size;
  }
  push(v: T): void {
    if (this.#size === this.#buf.length) {
      const next = new Array<T | undefined>(this.#buf.length * 2);
      for (let i = 0; i < this.#size; i++) next[i] = this.#buf[(this.#head + i) % this.#buf.length];
      this.#buf = next;
      this.#head = 0;
    }
    this.#buf[(this.#head + this.#size) % this.#buf.length] = v;
    this.#size++;
  }
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[this.#head];
  }
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const v = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#buf.length;
    this.#size--;
    return v;
  }
}

export interface Queued {
  cls: number;
  bucket: number;
  /** When it entered the queue (monotonic ms). */
  enqueuedAt: number;
}

export interface VerifyQueueOptions {
  /** Most items held (default 2048). */
  capacity?: number;
  /** Per class: the longest an item may wait, ms (default: hazard none, action 500, awareness 300). */
  maxWaitMs?: readonly number[];
}

export type Shed<T> = (item: T, reason: 'shed-overload' | 'shed-late') => void;

export class VerifyQueue<T extends Queued> {
  readonly capacity: number;
  readonly maxWaitMs: readonly number[];
  readonly #rings: Ring<T>[][];
  readonly #shed: Shed<T>;
  #size = 0;
  /** Highest number of items ever held at once. */
  highWater = 0;

  constructor(shed: Shed<T>, opts: VerifyQueueOptions = {}) {
    this.capacity = opts.capacity ?? 2048;
    if (!Number.isSafeInteger(this.capacity) || this.capacity < 1) throw new RangeError(`queue.capacity: ${this.capacity}; expected a whole number >= 1`);
    this.maxWaitMs = opts.maxWaitMs ?? [Infinity, 500, 300];
    if (this.maxWaitMs.length !== PRIORITY_CLASSES) throw new RangeError(`queue.maxWaitMs: expected ${PRIORITY_CLASSES} values (hazard, action, awareness)`);
    this.#rings = Array.from({ length: PRIORITY_CLASSES }, () => Array.from({ length: DISTANCE_BUCKETS.length }, () => new Ring<T>()));
    this.#shed = shed;
  }

  get size(): number {
    return this.#size;
  }

  /** Queued items per class. */
  sizes(): number[] {
    return this.#rings.map((byBucket) => byBucket.reduce((n, r) => n + r.size, 0));
  }

  /** Adds an item; when full, the worst of the queue and the newcomer is shed. */
  push(item: T): void {
    if (this.#size >= this.capacity) {
      const worst = this.#worstRing();
      if (worst === undefined || this.#rank(item) >= this.#rank(worst.peek()!)) {
        this.#shed(item, 'shed-overload');
        return;
      }
      this.#size--;
      this.#shed(worst.shift()!, 'shed-overload');
    }
    this.#rings[item.cls]![item.bucket]!.push(item);
    this.#size++;
    if (this.#size > this.highWater) this.highWater = this.#size;
  }

  /** The best item of class `maxClass` or better that has not waited too long at `now` (monotonic ms); late ones are shed. */
  take(now: number, maxClass = PRIORITY_CLASSES - 1): T | undefined {
    for (let c = 0; c <= maxClass; c++) {
      const wait = this.maxWaitMs[c]!;
      for (const ring of this.#rings[c]!) {
        while (ring.size > 0) {
          const item = ring.shift()!;
          this.#size--;
          if (now - item.enqueuedAt > wait) {
            this.#shed(item, 'shed-late');
            continue;
          }
          return item;
        }
      }
    }
    return undefined;
  }

  #rank(item: T): number {
    return item.cls * DISTANCE_BUCKETS.length + item.bucket;
  }

  #worstRing(): Ring<T> | undefined {
    for (let c = PRIORITY_CLASSES - 1; c >= 0; c--) {
      const byBucket = this.#rings[c]!;
      for (let b = byBucket.length - 1; b >= 0; b--) if (byBucket[b]!.size > 0) return byBucket[b];
    }
    return undefined;
  }
}
