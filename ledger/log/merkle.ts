// Merkle tree hashing and proofs of RFC 9162 (Certificate Transparency 2.0), section 2.1:
// leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right); the tree over
// n leaves splits at the largest power of two below n. Inclusion proofs (2.1.3) and
// consistency proofs (2.1.4), with their verification algorithms as the RFC writes them.
// https://www.rfc-editor.org/rfc/rfc9162#section-2.1
import { hash } from 'node:crypto';

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

/**
 * The right edge of a growing tree: one hash per set bit of the size. Enough to append and to
 * compute the root in O(log n) memory, which is what a board keeping a decade of records needs.
 */
export class MerkleFrontier {
  #size = 0;
  /** frontier[k] is the root of a perfect subtree of 2^k leaves, present when bit k of size is set. */
  #frontier: (Uint8Array | undefined)[] = [];

  get size(): number {
    return this.#size;
  }

  appendLeafHash(leafHash: Uint8Array): void {
    let h = leafHash;
    let k = 0;
    while ((this.#size >> k) & 1) {
      h = hashNode(this.#frontier[k]!, h);
      this.#frontier[k] = undefined;
      k++;
    }
    this.#frontier[k] = h;
    this.#size++;
  }

  append(leaf: Uint8Array): Uint8Array {
    const lh = hashLeaf(leaf);
    this.appendLeafHash(lh);
    return lh;
  }

  root(): Uint8Array {
    if (this.#size === 0) return EMPTY_ROOT;
    let h: Uint8Array | undefined;
    for (let k = 0; k < this.#frontier.length; k++) {
      const f = this.#frontier[k];
      if (!f) continue;
      h = h === undefined ? f : hashNode(f, h);
    }
    return h!;
  }

  clone(): MerkleFrontier {
    const c = new MerkleFrontier();
    c.#size = this.#size;
    c.#frontier = this.#frontier.slice();
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
