// Merkle tree hashing and proofs of RFC 9162 (Certificate Transparency 2.0), section 2.1:
// leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right); the tree over
// n leaves splits at the largest power of two below n. Inclusion proofs (2.1.3) and
// consistency proofs (2.1.4), with their verification algorithms as the RFC writes them.
// https://www.rfc-editor.org/rfc/rfc9162#section-2.1
import { hash } from 'node:crypto';
import { loadNativeMerkle, type NativeMerkle } from './native-merkle.ts';

// Scratch buffers holding the domain-separation prefix: a leaf or node is copied in behind it
// and hashed in one call, instead of concatenating a fresh buffer (or building a hash object)
// per hash. Hashing is synchronous, so one scratch buffer per module is never shared.
let leafBuf = Buffer.alloc(2048);
const nodeBuf = Buffer.alloc(65);
nodeBuf[0] = 0x01;

export function sha256(data: Uint8Array): Uint8Array {
  return hash('sha256', data, 'buffer') as unknown as Uint8Array;
}

export function hashLeaf(leaf: Uint8Array): Uint8Array {
  const n = leaf.length + 1;
  if (n > leafBuf.length) leafBuf = Buffer.alloc(Math.max(n, 2 * leafBuf.length));
  leafBuf.set(leaf, 1);
  return hash('sha256', leafBuf.subarray(0, n), 'buffer') as unknown as Uint8Array;
}

export function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeBuf.set(left, 1);
  nodeBuf.set(right, 33);
  return hash('sha256', nodeBuf, 'buffer') as unknown as Uint8Array;
}

/** The root of an empty tree: SHA-256 of the empty string (RFC 9162 2.1.1). */
export const EMPTY_ROOT: Uint8Array = hash('sha256', Buffer.alloc(0), 'buffer') as unknown as Uint8Array;

const SLOTS = 64;

/**
 * The right edge of a growing tree: one hash per set bit of the size. Enough to append and to
 * compute the root in O(log n) memory, which is what a board keeping a decade of records needs.
 * Batches of leaves (`appendMany`, `appendSpans`) are hashed in one call into the native
 * hasher when it is built (native-merkle.ts), one node:crypto call per hash otherwise; both
 * give the same hashes (test/ledger/native-merkle.test.ts).
 */
export class MerkleFrontier {
  #size = 0;
  /** Slot k (32 bytes at 32k) is the root of a perfect subtree of 2^k leaves when bit k of size is set. */
  #slots = new Uint8Array(SLOTS * 32);
  #native: NativeMerkle | undefined;
  /** appendFramesAsync work is in flight: the slots belong to it until its callback. */
  #busy = false;

  /** `native: false` hashes with node:crypto even where the native hasher is built. */
  constructor(opts: { native?: boolean } = {}) {
    this.#native = opts.native === false ? undefined : loadNativeMerkle();
  }

  get size(): number {
    return this.#size;
  }

  /** Whether batches are hashed natively. */
  get native(): boolean {
    return this.#native !== undefined;
  }

  appendLeafHash(leafHash: Uint8Array): void {
    this.#idle();
    let h = leafHash;
    let k = 0;
    // Bit k of a size below 2^53: division, as 32-bit shifts would wrap.
    while (Math.floor(this.#size / 2 ** k) % 2 === 1) {
      h = hashNode(this.#slots.subarray(32 * k, 32 * k + 32), h);
      k++;
    }
    this.#slots.set(h, 32 * k);
    this.#size++;
  }

  append(leaf: Uint8Array): Uint8Array {
    const lh = hashLeaf(leaf);
    this.appendLeafHash(lh);
    return lh;
  }

  /** Appends every leaf of `leaves`, in order; their leaf hashes go to `leafHashes` (n*32 bytes) when given. */
  appendMany(leaves: readonly Uint8Array[], leafHashes?: Uint8Array): void {
    if (leafHashes && leafHashes.length < leaves.length * 32) throw new RangeError(`leafHashes must hold ${leaves.length * 32} bytes, has ${leafHashes.length}`);
    this.#idle();
    if (this.#native) {
      this.#size = this.#native.appendLeaves(this.#slots, this.#size, leaves, leafHashes);
      return;
    }
    for (let i = 0; i < leaves.length; i++) {
      const lh = this.append(leaves[i]!);
      leafHashes?.set(lh, 32 * i);
    }
  }

  /**
   * Appends the leaves data[spans[2i] .. spans[2i+1]) for i < count, in order: the leaves of a
   * segment file read into one buffer, without a view per leaf.
   */
  appendSpans(data: Uint8Array, spans: Uint32Array, count: number, leafHashes?: Uint8Array): void {
    if (!(count >= 0 && count * 2 <= spans.length)) throw new RangeError(`count ${count} exceeds the ${spans.length / 2} spans given`);
    if (leafHashes && leafHashes.length < count * 32) throw new RangeError(`leafHashes must hold ${count * 32} bytes, has ${leafHashes.length}`);
    this.#idle();
    if (this.#native) {
      this.#size = this.#native.appendSpans(this.#slots, this.#size, data, spans, count, leafHashes);
      return;
    }
    for (let i = 0; i < count; i++) {
      const start = spans[2 * i]!;
      const end = spans[2 * i + 1]!;
      if (start > end || end > data.length) throw new RangeError(`span ${i} (${start}..${end}) lies outside the ${data.length} bytes of data`);
      const lh = this.append(data.subarray(start, end));
      leafHashes?.set(lh, 32 * i);
    }
  }

  /**
   * Lets a routine append leaves in place (the verifier's native run scanner, which hashes as
   * it checks): `fn` gets the slots (64 of 32 bytes, slot k the root of a perfect subtree of
   * 2^k leaves when bit k of size is set) and the size, and returns the new size.
   */
  appendInPlace(fn: (slots: Uint8Array, size: number) => number): void {
    this.#idle();
    const size = fn(this.#slots, this.#size);
    if (!(Number.isSafeInteger(size) && size >= this.#size)) throw new RangeError(`appendInPlace: new size ${size} is not a count of at least ${this.#size}`);
    this.#size = size;
  }

  /**
   * With the native hasher: seals the frames buf[offsets[i] .. offsets[i+1]) for i < count of
   * a group-commit chunk (ledger/log/frame.ts: each frame's kind byte and payload are in place;
   * its length and CRC-32 are written here) and appends the payloads of leaf kinds, in order,
   * their leaf hashes to `leafHashes` when given, in one call (native/frame.c); returns true.
   * Without it, returns false and changes nothing: the caller frames and appends one by one
   * (entry-chunk.ts), so that this module stays free of node:zlib for the browser's verifier.
   */
  appendFrames(buf: Uint8Array, offsets: Uint32Array, count: number, leafHashes?: Uint8Array): boolean {
    if (!this.#native) return false;
    this.#idle();
    if (!(count >= 0 && count + 1 <= offsets.length)) throw new RangeError(`count ${count} needs ${count + 1} offsets, ${offsets.length} given`);
    this.#size = this.#native.frameChunk(buf, offsets, count, this.#slots, this.#size, leafHashes);
    return true;
  }

  /**
   * appendFrames on a thread of libuv's pool, so that the event loop goes on while a large
   * chunk is hashed: returns false (and does nothing) without the native hasher. Otherwise the
   * frontier is busy until `done` is called, on the event loop, with the chunk framed and its
   * leaves appended: meanwhile every other call that reads or appends throws, and the caller
   * must not touch buf or offsets. One chunk at a time: the caller queues the next in `done`.
   */
  appendFramesAsync(buf: Uint8Array, offsets: Uint32Array, count: number, done: () => void): boolean {
    if (!this.#native) return false;
    this.#idle();
    if (!(count >= 0 && count + 1 <= offsets.length)) throw new RangeError(`count ${count} needs ${count + 1} offsets, ${offsets.length} given`);
    this.#native.frameChunkAsync(buf, offsets, count, this.#slots, this.#size, (size) => {
      this.#busy = false;
      // The addon reports no size only when its work did not run (the pool was torn down).
      if (size === undefined) throw new Error('MerkleFrontier: the native hasher did not run a queued chunk');
      this.#size = size;
      done();
    });
    this.#busy = true;
    return true;
  }

  /** Whether appendFramesAsync work is in flight (the frontier is then neither read nor appended to). */
  get busy(): boolean {
    return this.#busy;
  }

  #idle(): void {
    if (this.#busy) throw new Error('MerkleFrontier: a chunk is being hashed off the event loop; wait for its callback');
  }

  root(): Uint8Array {
    this.#idle();
    if (this.#size === 0) return EMPTY_ROOT;
    if (this.#native) {
      const out = new Uint8Array(32);
      this.#native.root(this.#slots, this.#size, out);
      return out;
    }
    let h: Uint8Array | undefined;
    let rest = this.#size;
    for (let k = 0; rest > 0; k++, rest = Math.floor(rest / 2)) {
      if (rest % 2 === 0) continue;
      const f = this.#slots.subarray(32 * k, 32 * k + 32);
      h = h === undefined ? f.slice() : hashNode(f, h);
    }
    return h!;
  }

  clone(): MerkleFrontier {
    this.#idle();
    const c = new MerkleFrontier({ native: this.#native !== undefined });
    c.#size = this.#size;
    c.#slots = this.#slots.slice();
    return c;
  }
}

/** Largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Reads leaf hashes by index: an array, or a function reading them from storage. */
export type LeafHashes = readonly Uint8Array[] | ((index: number) => Uint8Array);

function leafAt(leaves: LeafHashes, i: number): Uint8Array {
  return typeof leaves === 'function' ? leaves(i) : leaves[i]!;
}

/** MTH(D[start:end]) over leaf hashes (RFC 9162 2.1.1). */
export function subtreeRoot(leaves: LeafHashes, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leafAt(leaves, start);
  const k = splitPoint(n);
  return hashNode(subtreeRoot(leaves, start, start + k), subtreeRoot(leaves, start + k, end));
}

/** PATH(m, D[0:n]): the inclusion proof of leaf m in the tree of size n (RFC 9162 2.1.3.1). */
export function inclusionProof(leaves: LeafHashes, index: number, size: number): Uint8Array[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf index ${index} is outside the tree of size ${size}`);
  const path = (m: number, start: number, end: number): Uint8Array[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    if (m < k) return [...path(m, start, start + k), subtreeRoot(leaves, start + k, end)];
    return [...path(m - k, start + k, end), subtreeRoot(leaves, start, start + k)];
  };
  return path(index, 0, size);
}

/** PROOF(m, D[0:n]): the consistency proof between sizes m and n (RFC 9162 2.1.4.1). */
export function consistencyProof(leaves: LeafHashes, m: number, n: number): Uint8Array[] {
  if (!(m > 0 && m <= n)) throw new RangeError(`consistency proof needs 0 < first size (${m}) <= second size (${n})`);
  const subproof = (mm: number, start: number, end: number, b: boolean): Uint8Array[] => {
    const nn = end - start;
    if (mm === nn) return b ? [] : [subtreeRoot(leaves, start, end)];
    const k = splitPoint(nn);
    if (mm <= k) return [...subproof(mm, start, start + k, b), subtreeRoot(leaves, start + k, end)];
    return [...subproof(mm - k, start + k, end, false), subtreeRoot(leaves, start, start + k)];
  };
  return subproof(m, 0, n, true);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Verifies an inclusion proof (RFC 9162 2.1.3.2). */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      r = hashNode(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = hashNode(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && equal(r, root);
}

/** Verifies a consistency proof between (size1, root1) and (size2, root2) (RFC 9162 2.1.4.2). */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (size1 > size2 || size1 <= 0) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  let path = proof.slice();
  if (path.length === 0) return false;
  // If first is an exact power of two, prepend first_hash to the path.
  if ((size1 & (size1 - 1)) === 0) path = [root1, ...path];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      fr = hashNode(c, fr);
      sr = hashNode(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = hashNode(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return equal(fr, root1) && equal(sr, root2) && sn === 0;
}
