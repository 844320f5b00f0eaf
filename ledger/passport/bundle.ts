// The passport bundle (ledger/cddl/passport.cddl `passport-bundle`): one canonical CBOR file
// holding everything an offline verifier needs about one battery, and nothing it must trust:
// the device certificates, the fleet's revocation lists, status statements, and per board log
// the included records exactly as stored (Merkle leaves) with inclusion proofs to the log's
// final signed checkpoint, a thinned chain of signed checkpoints with consistency proofs
// between consecutive ones, and the witnesses' countersignatures of checkpoints in the chain.
// Every item is signed or proven; trust comes from the fleet key the verifier already holds.
// Decoding is bounded (the file may be hostile).
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import { decodeCbor } from '../cbor/decode.ts';
import type { CborValue } from '../cbor/value.ts';

export const BUNDLE_VERSION = 1;
export type Tier = 'public' | 'full';
export const TIERS: readonly Tier[] = ['public', 'full'];

export interface BundleRecord {
  /** Position of the leaf in the log (its record sequence number). */
  index: number;
  /** The leaf as stored: a record's COSE_Sign1 bytes. */
  leaf: Uint8Array;
  /** RFC 9162 inclusion proof to the log's final checkpoint, bottom up. */
  path: Uint8Array[];
}

export interface BundleLog {
  records: BundleRecord[];
  /** Signed checkpoints (COSE_Sign1 as stored), oldest first; the last is the final one. */
  checkpoints: Uint8Array[];
  /** consistency[i]: RFC 9162 consistency proof from checkpoints[i] to checkpoints[i + 1]. */
  consistency: Uint8Array[][];
  /** Witness countersignatures (COSE_Sign1, typ witness) of checkpoints in the chain. */
  witnesses: Uint8Array[];
}

export interface PassportBundle {
  version: number;
  tier: Tier;
  batteryId: string;
  /** Wall-clock ms of the export (informative: nothing signed depends on it). */
  created: number;
  /** Device certificates (COSE_Sign1 CWTs), oldest first. */
  certificates: Uint8Array[];
  revocationLists: Uint8Array[];
  statuses: Uint8Array[];
  /** One per board, first board first; empty in the public tier. */
  logs: BundleLog[];
}

/** Generous for a decade of summaries and events, small enough to refuse a hostile file early. */
export const BUNDLE_LIMITS = {
  maxSize: 256 * 1024 * 1024,
  maxDepth: 8,
  maxItems: 16_000_000,
  maxArrayLength: 4_000_000,
  maxMapSize: 16,
  maxStringLength: 1024 * 1024,
} as const;

export function encodeBundle(b: PassportBundle): Uint8Array {
  const logs = b.logs.map(
    (l) =>
      new Map<number, CborValue>([
        [1, l.records.map((r) => [r.index, r.leaf, r.path])],
        [2, l.checkpoints],
        [3, l.consistency],
        [4, l.witnesses],
      ]),
  );
  return encodeCanonical(
    new Map<number, CborValue>([
      [1, b.version],
      [2, b.tier],
      [3, b.batteryId],
      [4, b.created],
      [5, b.certificates],
      [6, b.revocationLists],
      [7, b.statuses],
      [8, logs],
    ]),
  );
}

/** Where in the bundle a structural problem is, and what. */
export class BundleFormatError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'BundleFormatError';
  }
}

function map(v: CborValue | undefined, where: string, keys: readonly number[]): ReadonlyMap<CborValue, CborValue> {
  if (!(v instanceof Map)) throw new BundleFormatError(where, 'expected a map');
  for (const k of v.keys()) if (!keys.includes(k as number)) throw new BundleFormatError(where, `unexpected field ${String(k)}`);
  for (const k of keys) if (!v.has(k)) throw new BundleFormatError(where, `field ${k} is missing`);
  return v;
}
function bstrs(v: CborValue | undefined, where: string, size?: number): Uint8Array[] {
  if (!Array.isArray(v)) throw new BundleFormatError(where, 'expected an array of byte strings');
  return v.map((x, i) => {
    if (!(x instanceof Uint8Array) || (size !== undefined && x.length !== size)) throw new BundleFormatError(`${where}[${i}]`, size ? `expected ${size} bytes` : 'expected a byte string');
    return x;
  });
}
const uint = (v: CborValue | undefined, where: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BundleFormatError(where, 'expected an unsigned integer');
  return v;
};

/** Decodes a bundle; throws CborError (bytes) or BundleFormatError (structure), naming the place. */
export function decodeBundle(bytes: Uint8Array): PassportBundle {
  const top = map(decodeCbor(bytes, { ...BUNDLE_LIMITS, canonical: true }), 'bundle', [1, 2, 3, 4, 5, 6, 7, 8]);
  const version = uint(top.get(1), 'bundle version (1)');
  if (version !== BUNDLE_VERSION) throw new BundleFormatError('bundle version (1)', `${version} is not supported (this verifier reads ${BUNDLE_VERSION})`);
  const tier = top.get(2);
  if (tier !== 'public' && tier !== 'full') throw new BundleFormatError('bundle tier (2)', `'${String(tier)}' is not 'public' or 'full'`);
  const batteryId = top.get(3);
  if (typeof batteryId !== 'string') throw new BundleFormatError('bundle battery id (3)', 'expected text');
  const logsV = top.get(8);
  if (!Array.isArray(logsV)) throw new BundleFormatError('bundle logs (8)', 'expected an array');
  const logs = logsV.map((lv, li): BundleLog => {
    const w = `log ${li}`;
    const l = map(lv, w, [1, 2, 3, 4]);
    const recs = l.get(1);
    if (!Array.isArray(recs)) throw new BundleFormatError(`${w} records`, 'expected an array');
    const records = recs.map((rv, ri): BundleRecord => {
      const rw = `${w} record ${ri}`;
      if (!Array.isArray(rv) || rv.length !== 3) throw new BundleFormatError(rw, 'expected [index, leaf, path]');
      const leaf = rv[1];
      if (!(leaf instanceof Uint8Array)) throw new BundleFormatError(`${rw} leaf`, 'expected a byte string');
      return { index: uint(rv[0], `${rw} index`), leaf, path: bstrs(rv[2], `${rw} path`, 32) };
    });
    const cons = l.get(3);
    if (!Array.isArray(cons)) throw new BundleFormatError(`${w} consistency proofs`, 'expected an array');
    return {
      records,
      checkpoints: bstrs(l.get(2), `${w} checkpoints`),
      consistency: cons.map((p, i) => bstrs(p, `${w} consistency proof ${i}`, 32)),
      witnesses: bstrs(l.get(4), `${w} witnesses`),
    };
  });
  return {
    version,
    tier,
    batteryId,
    created: uint(top.get(4), 'bundle created (4)'),
    certificates: bstrs(top.get(5), 'certificates (5)'),
    revocationLists: bstrs(top.get(6), 'revocation lists (6)'),
    statuses: bstrs(top.get(7), 'status statements (7)'),
    logs,
  };
}
