// The optional native Merkle hasher (ledger/log/native/merkle_addon.c, built by
// scripts/build-native.mjs where a C compiler exists): RFC 9162 leaf hashes and frontier updates
// for a whole batch of leaves in one call into C, with its own SHA-256 (the x86 SHA extensions
// where the CPU has them). Optional by design: `loadNativeMerkle()` answers undefined when the
// addon is not built or does not load, and MerkleFrontier hashes with node:crypto instead.
// `VOLTRAIL_NATIVE_MERKLE=0` turns it off (to compare, or to rule it out).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The raw functions of the addon; the frontier layout is MerkleFrontier's (64 slots of 32 bytes). */
export interface NativeMerkle {
  /** Which SHA-256 block function the addon picked: "sha-ni" or "portable". */
  readonly sha256: string;
  /** How scanRun computes frame checksums: "pclmul" or "portable" (VOLTRAIL_MERKLE_CRC32=portable forces it). */
  readonly crc32: string;
  /** Appends the leaves data[spans[2i] .. spans[2i+1]) for i < count; returns the new size. */
  appendSpans(frontier: Uint8Array, size: number, data: Uint8Array, spans: Uint32Array, count: number, leafHashesOut?: Uint8Array): number;
  /** Appends each leaf of `leaves`; returns the new size. */
  appendLeaves(frontier: Uint8Array, size: number, leaves: readonly Uint8Array[], leafHashesOut?: Uint8Array): number;
  /** The root of the tree of `size` (>= 1) leaves whose frontier this is, into out[0..32). */
  root(frontier: Uint8Array, size: number, out: Uint8Array): void;
  /**
   * The verifier's run scanner (native/scan.c): from `pos` of a segment's bytes, consumes each
   * unsigned leaf whose frame, canonical record (record-scan.ts's check) and sequence (= the
   * tree size) check out, hashing it into the frontier; stops at any other entry. Returns the
   * entries consumed; out[0] the position after them, out[1]/out[2] the first/last record time,
   * out[3] the simulated records, out[4] why it stopped (0 end, 1 frame, 2 kind, 3 record, 4 sequence).
   */
  scanRun(data: Uint8Array, pos: number, frontier: Uint8Array, size: number, out: Float64Array): number;
  /**
   * Ledger.open's replay (native/scan.c): from `pos`, consumes each Merkle leaf frame (kind 1
   * or 2) whose length and CRC-32 check out, hashing its payload into the frontier; stops at
   * any other entry. Returns the entries consumed; out[0] the position after them, out[1] how
   * many were unsigned leaves (kind 2).
   */
  hashRun(data: Uint8Array, pos: number, frontier: Uint8Array, size: number, out: Float64Array): number;
  /**
   * Frames buf[offsets[i] .. offsets[i+1]) for i < count (length and CRC-32 written around the
   * kind byte already at +8, ledger/log/frame.ts) and appends the payloads of leaf kinds to the
   * frontier; returns the new size (native/frame.c).
   */
  frameChunk(buf: Uint8Array, offsets: Uint32Array, count: number, frontier: Uint8Array, size: number, leafHashesOut?: Uint8Array): number;
  /**
   * frameChunk's work on a thread of libuv's pool, off the event loop: the arguments are
   * checked at once (a TypeError, nothing queued), then `done(newSize)` is called on the event
   * loop once the chunk is framed and its leaves are in the frontier. Until then the caller
   * must not read or write buf, offsets or frontier.
   */
  frameChunkAsync(buf: Uint8Array, offsets: Uint32Array, count: number, frontier: Uint8Array, size: number, done: (size: number | undefined) => void): void;
  /** SHA-256 of prefix || bstr head || buf[spans[2i] .. spans[2i+1]) into out (32 bytes each): COSE_Sign1 Sig_structure digests. */
  sigDigests(buf: Uint8Array, spans: Uint32Array, count: number, prefix: Uint8Array, out: Uint8Array): void;
  /**
   * The index of the first record from `from` on (record i = buf[spans[2i] .. spans[2i+1]))
   * that a byte walk with scanRecord's rules does not vouch for; `count` when it vouches for all.
   */
  checkRecords(buf: Uint8Array, spans: Uint32Array, from: number, count: number): number;
}

/** Where the built addon lands (gitignored; rebuilt by `npm run build:native`). */
export const NATIVE_MERKLE_PATH = fileURLToPath(new URL('./native/build/Release/voltrail_merkle.node', import.meta.url));

let cached: { addon?: NativeMerkle; reason?: string } | undefined;

function load(): { addon?: NativeMerkle; reason?: string } {
  if (cached) return cached;
  if (process.env.VOLTRAIL_NATIVE_MERKLE === '0') {
    cached = { reason: 'turned off by VOLTRAIL_NATIVE_MERKLE=0' };
  } else if (!existsSync(NATIVE_MERKLE_PATH)) {
    cached = { reason: 'not built (run `npm run build:native`; needs a C compiler)' };
  } else {
    try {
      const addon = createRequire(import.meta.url)(NATIVE_MERKLE_PATH) as NativeMerkle;
      // A build from older sources lacks some of these: rebuild rather than half-use it.
      const current = ['frameChunk', 'frameChunkAsync', 'checkRecords', 'scanRun', 'hashRun', 'root'].every((f) => typeof (addon as unknown as Record<string, unknown>)[f] === 'function');
      cached = current ? { addon } : { reason: 'built from older sources (run `npm run build:native`)' };
    } catch (err) {
      cached = { reason: `does not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
    }
  }
  return cached;
}

export function loadNativeMerkle(): NativeMerkle | undefined {
  return load().addon;
}

/** Whether the native hasher is in use and which SHA-256 it runs, or why not: for `voltrail doctor` and the bench. */
export function nativeMerkleStatus(): { available: boolean; path: string; sha256?: string; crc32?: string; reason?: string } {
  const { addon, reason } = load();
  return addon ? { available: true, path: NATIVE_MERKLE_PATH, sha256: addon.sha256, crc32: addon.crc32 } : { available: false, path: NATIVE_MERKLE_PATH, reason };
}
