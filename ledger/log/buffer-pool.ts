// Buffers for the ledger's entry chunks, handed back once their bytes are on disk, so that a
// steady stream of appends writes into a few buffers again and again. A chunk of a busy ledger
// is tens of kilobytes to a megabyte, sealed every turn of the event loop: allocating each one
// fresh costs little itself, but the memory outside the JavaScript heap that they add up to
// makes the garbage collector run full collections several times a second.
//
// Sizes come in powers of two from MIN_BYTES to MAX_BYTES; each size keeps at most KEEP free
// buffers, so the pool holds at most a few megabytes however long the ledger runs. A buffer
// larger than MAX_BYTES, or one that is not a whole pool buffer, is simply not kept.

const MIN_BYTES = 64 * 1024;
const MAX_BYTES = 2 * 1024 * 1024;
const KEEP = 4;

export class BufferPool {
  /** Free buffers by size (a power of two). */
  readonly #free = new Map<number, Uint8Array[]>();

  /** A buffer of at least `bytes` (its contents are whatever was last written in it). */
  take(bytes: number): Uint8Array {
    if (bytes > MAX_BYTES) return new Uint8Array(bytes);
    const size = Math.max(MIN_BYTES, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
    return this.#free.get(size)?.pop() ?? new Uint8Array(size);
  }

  /** Hands a buffer back: call only once nothing reads or writes it any more. */
  give(buf: Uint8Array): void {
    const size = buf.byteLength;
    if (buf.byteOffset !== 0 || size !== buf.buffer.byteLength || size < MIN_BYTES || size > MAX_BYTES || (size & (size - 1)) !== 0) return;
    let list = this.#free.get(size);
    if (list === undefined) this.#free.set(size, (list = []));
    if (list.length < KEEP && !list.includes(buf)) list.push(buf);
  }

  /** Free buffers held, in bytes. */
  get heldBytes(): number {
    let n = 0;
    for (const list of this.#free.values()) for (const b of list) n += b.byteLength;
    return n;
  }
}

/** The pool of every ledger in this process. */
export const chunkBuffers = new BufferPool();
