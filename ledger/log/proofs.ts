// Inclusion proofs for one record of a ledger folder (RFC 9162 2.1.3), anchored to the first
// signed checkpoint that covers it, so a verifier holding only the log's public key can check
// that the record is in the history the board signed.
import { verify1, type Verify1Options } from '../cose/sign1.ts';
import { TYP } from '../typ.ts';
import { EntryKind, isLeafKind } from './frame.ts';
import { hashLeaf, inclusionProof, MerkleFrontier, verifyInclusion } from './merkle.ts';
import { decodeCheckpoint } from './record.ts';
import { SegmentLog } from './segment-log.ts';

export interface InclusionProofJson {
  /** Position of the record among the leaves (its sequence number). */
  index: number;
  /** The leaf as stored (COSE_Sign1 or canonical CBOR), hex. */
  leaf: string;
  leafHash: string;
  treeSize: number;
  root: string;
  /** Audit path, bottom up, hex. */
  path: string[];
  /** The signed checkpoint whose root the path leads to (COSE_Sign1, hex), when one covers the record. */
  checkpoint?: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export async function proveInclusion(dir: string, index: number, trust?: Pick<Verify1Options, 'keys' | 'algs' | 'backends'>): Promise<InclusionProofJson> {
  const log = await SegmentLog.open(dir, { readOnly: true });
  const leafHashes: Uint8Array[] = [];
  let leaf: Uint8Array | undefined;
  let anchor: { size: number; cose: Uint8Array } | undefined;
  const frontier = new MerkleFrontier();
  for await (const e of log.entries()) {
    if (isLeafKind(e.kind)) {
      if (leafHashes.length === index) leaf = Uint8Array.from(e.payload);
      const h = hashLeaf(e.payload);
      leafHashes.push(h);
      frontier.appendLeafHash(h);
    } else if (e.kind === EntryKind.checkpoint && !anchor && leafHashes.length > index) {
      anchor = { size: leafHashes.length, cose: Uint8Array.from(e.payload) };
      if (trust) {
        const c = decodeCheckpoint(verify1(e.payload, { ...trust, typ: TYP.checkpoint }).payload, `checkpoint at entry ${e.index}`);
        if (c.size !== anchor.size) throw new RangeError(`checkpoint at entry ${e.index} claims ${c.size} records; ${anchor.size} precede it`);
      }
      break;
    }
  }
  if (leaf === undefined) throw new RangeError(`record ${index} is not in the ledger (it holds ${leafHashes.length} records)`);
  const size = anchor?.size ?? leafHashes.length;
  const path = inclusionProof(leafHashes, index, size);
  const root = anchor ? rootOf(leafHashes, size) : frontier.root();
  const leafHash = leafHashes[index]!;
  if (!verifyInclusion(leafHash, index, size, path, root)) throw new Error('internal error: the proof does not verify');
  return {
    index,
    leaf: hex(leaf),
    leafHash: hex(leafHash),
    treeSize: size,
    root: hex(root),
    path: path.map(hex),
    ...(anchor ? { checkpoint: hex(anchor.cose) } : {}),
  };
}

function rootOf(leafHashes: readonly Uint8Array[], size: number): Uint8Array {
  const f = new MerkleFrontier();
  for (let i = 0; i < size; i++) f.appendLeafHash(leafHashes[i]!);
  return f.root();
}
