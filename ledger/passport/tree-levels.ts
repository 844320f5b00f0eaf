// Every level of an RFC 9162 Merkle tree kept in flat byte arrays (32 bytes a hash), so that
// inclusion and consistency proofs for a long log cost O(log^2 n) hashes each instead of
// rehashing whole subtrees: a perfect, aligned subtree's root is a lookup, and only the
// subtrees along the right edge (ending at the tree size asked) are hashed. Built once per
// export from the leaf hashes; for a year at one record every 10 s (3.2 M leaves) the levels
// take about 200 MB. Proof shapes: RFC 9162 sections 2.1.3.1 and 2.1.4.1.
import { EMPTY_ROOT, hashNode } from '../log/merkle.ts';

export class TreeLevels {
  readonly size: number;
  /** levels[k] holds the roots of the complete subtrees of 2^k leaves, left to right. */
  readonly #levels: Uint8Array[];

  /** `leafHashes`: size x 32 bytes, the leaf hashes in order. */
  constructor(leafHashes: Uint8Array, size: number) {
    if (leafHashes.length < size * 32) throw new RangeError(`leaf hashes: ${leafHashes.length} bytes is too short for ${size} leaves`);
    this.size = size;
    this.#levels = [leafHashes.subarray(0, size * 32)];
    let below = this.#levels[0]!;
    let n = size;
    while (n >= 2) {
      const m = n >> 1;
      const level = new Uint8Array(m * 32);
      for (let j = 0; j < m; j++) level.set(hashNode(below.subarray(64 * j, 64 * j + 32), below.subarray(64 * j + 32, 64 * j + 64)), 32 * j);
      this.#levels.push(level);
      below = level;
      n = m;
    }
  }

  leaf(i: number): Uint8Array {
    return this.#levels[0]!.subarray(32 * i, 32 * i + 32);
  }

  /** MTH(D[start:end]). */
  root(start: number, end: number): Uint8Array {
    const n = end - start;
    if (n === 0) return EMPTY_ROOT;
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const k = Math.log2(n);
      const j = start / n;
      return this.#levels[k]!.subarray(32 * j, 32 * j + 32);
    }
    const k = split(n);
    return hashNode(this.root(start, start + k), this.root(start + k, end));
  }

  /** PATH(m, D[0:size]). */
  inclusion(index: number, size: number): Uint8Array[] {
    if (!(index >= 0 && index < size && size <= this.size)) throw new RangeError(`leaf ${index} is outside the tree of size ${size}`);
    const out: Uint8Array[] = [];
    const path = (m: number, start: number, end: number): void => {
      const n = end - start;
      if (n === 1) return;
      const k = split(n);
      if (m < k) {
        path(m, start, start + k);
        out.push(this.root(start + k, end));
      } else {
        path(m - k, start + k, end);
        out.push(this.root(start, start + k));
      }
    };
    path(index, 0, size);
    return out;
  }

  /** PROOF(m, D[0:n]). */
  consistency(m: number, n: number): Uint8Array[] {
    if (!(m > 0 && m <= n && n <= this.size)) throw new RangeError(`consistency proof needs 0 < ${m} <= ${n} <= ${this.size}`);
    const out: Uint8Array[] = [];
    const sub = (mm: number, start: number, end: number, b: boolean): void => {
      const nn = end - start;
      if (mm === nn) {
        if (!b) out.push(this.root(start, end));
        return;
      }
      const k = split(nn);
      if (mm <= k) {
        sub(mm, start, start + k, b);
        out.push(this.root(start + k, end));
      } else {
        sub(mm - k, start + k, end, false);
        out.push(this.root(start, start + k));
      }
    };
    sub(m, 0, n, true);
    return out;
  }
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
