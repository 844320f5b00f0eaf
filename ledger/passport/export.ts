// Builds a passport bundle (bundle.ts) from a battery's board ledgers: one pass over each log
// keeps what the bundle needs and nothing else, so a decade of records exports in bounded
// memory apart from the Merkle levels (32 bytes a leaf, twice):
// - every event record (all records that are neither telemetry nor lifecycle summaries:
//   identity records, faults, abuse, restarts...), always;
// - lifecycle summaries thinned: the first of each day for the last `recentDays` days before the
//   final checkpoint, the first of each 30-day period before that, and the newest;
// - checkpoints thinned the same way (a witnessed one preferred in its period), plus the final
//   one, with the witnesses' countersignatures of those kept;
// - inclusion proofs of every kept record to the final checkpoint, consistency proofs between
//   consecutive kept checkpoints.
// Records after the final checkpoint are not covered by a signature yet and are left out.
// The public tier (Annex XIII 1: identity, model and chemistry data, status) holds no log at all.
import { decodeCbor } from '../cbor/decode.ts';
import { peekSign1Payload } from '../identity/cose-peek.ts';
import { detailBytes, eventDetails, EVENT_KEY_ROTATED, EVENT_PROVISIONED } from '../identity/identity-events.ts';
import { EntryKind } from '../log/frame.ts';
import { hashLeaf, sha256 } from '../log/merkle.ts';
import { decodeCheckpoint, decodeRecord } from '../log/record.ts';
import { SegmentLog } from '../log/segment-log.ts';
import { BUNDLE_VERSION, type BundleLog, type BundleRecord, type PassportBundle, type Tier } from './bundle.ts';
import { SUMMARY_TYPE } from './lifecycle-summary.ts';
import { TreeLevels } from './tree-levels.ts';

export interface ExportInput {
  /** Ledger folders of the battery's boards, first board first. */
  ledgers: readonly string[];
  tier: Tier;
  /** Signed status statements (status-statement.ts). */
  statuses?: readonly Uint8Array[];
  /** The fleet's signed revocation lists. */
  revocationLists?: readonly Uint8Array[];
  /** Days before the final checkpoint kept at one summary / checkpoint a day (default 90). */
  recentDays?: number;
  now?: number;
}

export interface ExportResult {
  bundle: PassportBundle;
  /** Per log: records seen, kept, and not yet covered by a checkpoint. */
  logs: { dir: string; leaves: number; kept: number; uncovered: number; checkpoints: number }[];
}

const DAY = 86_400_000;
const PERIOD_DAYS = 30;
/** Checkpoints a later witness entry can still be matched to (days of them at one a minute). */
const RECENT_CHECKPOINTS = 4096;

interface KeptCheckpoint {
  bytes: Uint8Array;
  hash: Uint8Array;
  /** The hash in hex, to match witness statements. */
  hashHex: string;
  size: number;
  time: number;
  witnesses: Uint8Array[];
}

const key = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Growable flat store of 32-byte leaf hashes. */
class LeafHashStore {
  bytes = new Uint8Array(32 * 1024);
  size = 0;
  push(h: Uint8Array): void {
    if ((this.size + 1) * 32 > this.bytes.length) {
      const next = new Uint8Array(this.bytes.length * 2);
      next.set(this.bytes);
      this.bytes = next;
    }
    this.bytes.set(h, this.size * 32);
    this.size++;
  }
}

async function scanLog(dir: string, certificates: Uint8Array[], recentDays: number, wantRecords: boolean): Promise<{ log: BundleLog; leaves: number; kept: number; uncovered: number; checkpoints: number }> {
  const hashes = new LeafHashStore();
  const events: BundleRecord[] = [];
  /** First summary of each day, and the newest. */
  const summaryByDay = new Map<number, { index: number; leaf: Uint8Array; time: number }>();
  let newestSummary: { index: number; leaf: Uint8Array; time: number } | undefined;
  /** Kept checkpoint of each day (the first witnessed one, else the first). */
  const checkpointByDay = new Map<number, KeptCheckpoint>();
  let final: KeptCheckpoint | undefined;
  const recent: KeptCheckpoint[] = [];
  let checkpoints = 0;

  const log = await SegmentLog.open(dir, { readOnly: true });
  try {
    for await (const batch of log.entryBatches()) {
      for (const e of batch) {
        if (e.kind === EntryKind.leaf) {
          hashes.push(hashLeaf(e.payload));
        } else if (e.kind === EntryKind.signedRecord) {
          const index = hashes.size;
          hashes.push(hashLeaf(e.payload));
          const rec = decodeRecord(peekSign1Payload(e.payload), `${dir}: record ${index}`);
          if (rec.type === 'telemetry') continue;
          const leaf = Uint8Array.from(e.payload);
          if (rec.type === SUMMARY_TYPE) {
            const s = { index, leaf, time: rec.time };
            const day = Math.floor(rec.time / DAY);
            if (!summaryByDay.has(day)) summaryByDay.set(day, s);
            newestSummary = s;
            continue;
          }
          events.push({ index, leaf, path: [] });
          if (rec.type === EVENT_PROVISIONED || rec.type === EVENT_KEY_ROTATED) certificates.push(detailBytes(eventDetails(rec.body, `record ${index}`), 'certificate', `record ${index}`));
        } else if (e.kind === EntryKind.checkpoint) {
          const c = decodeCheckpoint(peekSign1Payload(e.payload), `${dir}: checkpoint at entry ${e.index}`);
          const hash = sha256(e.payload);
          const kept: KeptCheckpoint = { bytes: Uint8Array.from(e.payload), hash, hashHex: key(hash), size: c.size, time: c.time, witnesses: [] };
          checkpoints++;
          final = kept;
          recent.push(kept);
          if (recent.length > RECENT_CHECKPOINTS) recent.shift();
          const day = Math.floor(c.time / DAY);
          if (!checkpointByDay.has(day)) checkpointByDay.set(day, kept);
        } else if (e.kind === EntryKind.witness) {
          const st = decodeCbor(peekSign1Payload(e.payload), { maxDepth: 4 });
          const h = st instanceof Map ? st.get(1) : undefined;
          if (!(h instanceof Uint8Array)) continue;
          const hk = key(h);
          let cp: KeptCheckpoint | undefined;
          for (let i = recent.length - 1; i >= 0 && !cp; i--) if (recent[i]!.hashHex === hk) cp = recent[i];
          if (!cp) continue;
          cp.witnesses.push(Uint8Array.from(e.payload));
          const day = Math.floor(cp.time / DAY);
          const held = checkpointByDay.get(day);
          if (!held || held.witnesses.length === 0) checkpointByDay.set(day, cp);
        }
      }
    }
  } finally {
    await log.close().catch(() => undefined);
  }
  const empty = { log: { records: [], checkpoints: [], consistency: [], witnesses: [] }, leaves: hashes.size, kept: 0, uncovered: hashes.size, checkpoints };
  if (!final || !wantRecords) return empty;

  // Thinning: daily in the recent window, one per period before it.
  const finalDay = Math.floor(final.time / DAY);
  const thin = <T>(byDay: Map<number, T>, better: (held: T, next: T) => boolean): T[] => {
    const out = new Map<number, T>();
    for (const [day, v] of [...byDay].sort((a, b) => a[0] - b[0])) {
      const bucket = day >= finalDay - recentDays ? day : -1 - Math.floor(day / PERIOD_DAYS);
      const held = out.get(bucket);
      if (held === undefined || better(held, v)) out.set(bucket, v);
    }
    return [...out.values()];
  };
  const chain = thin(checkpointByDay, (held, next) => held.witnesses.length === 0 && next.witnesses.length > 0);
  if (!chain.includes(final)) chain.push(final);
  chain.sort((a, b) => a.size - b.size);
  const deduped = chain.filter((c, i) => i === 0 || c.size !== chain[i - 1]!.size || c === final);
  const summaries = thin(summaryByDay, () => false);
  if (newestSummary && !summaries.includes(newestSummary)) summaries.push(newestSummary);

  const covered = final.size;
  const records = [...events, ...summaries.map((s) => ({ index: s.index, leaf: s.leaf, path: [] as Uint8Array[] }))].filter((r) => r.index < covered).sort((a, b) => a.index - b.index);
  const tree = new TreeLevels(hashes.bytes, covered);
  for (const r of records) r.path = tree.inclusion(r.index, covered);
  const consistency: Uint8Array[][] = [];
  for (let i = 1; i < deduped.length; i++) consistency.push(tree.consistency(deduped[i - 1]!.size, deduped[i]!.size));
  return {
    log: { records, checkpoints: deduped.map((c) => c.bytes), consistency, witnesses: deduped.flatMap((c) => c.witnesses) },
    leaves: hashes.size,
    kept: records.length,
    uncovered: hashes.size - covered,
    checkpoints,
  };
}

/** Exports the passport of the battery whose boards kept `ledgers`. */
export async function exportPassport(input: ExportInput): Promise<ExportResult> {
  if (input.ledgers.length === 0) throw new RangeError('ledgers: give at least one board ledger folder');
  const certificates: Uint8Array[] = [];
  const logs: BundleLog[] = [];
  const stats: ExportResult['logs'] = [];
  for (const dir of input.ledgers) {
    const r = await scanLog(dir, certificates, input.recentDays ?? 90, input.tier === 'full');
    if (input.tier === 'full') logs.push(r.log);
    stats.push({ dir, leaves: r.leaves, kept: r.kept, uncovered: r.uncovered, checkpoints: r.checkpoints });
  }
  if (certificates.length === 0) throw new RangeError(`${input.ledgers[0]}: no "provisioned" record: this ledger is not a provisioned board's, so it has no passport`);
  // The battery id is the first certificate's subject; the verifier checks every other against it.
  const claims = decodeCbor(peekSign1Payload(certificates[0]!), { maxDepth: 8 });
  const batteryId = claims instanceof Map && typeof claims.get(2) === 'string' ? (claims.get(2) as string) : undefined;
  if (batteryId === undefined) throw new RangeError(`${input.ledgers[0]}: the certificate in the "provisioned" record names no battery`);
  const bundle: PassportBundle = {
    version: BUNDLE_VERSION,
    tier: input.tier,
    batteryId,
    created: Math.round(input.now ?? Date.now()),
    certificates,
    revocationLists: [...(input.revocationLists ?? [])],
    statuses: [...(input.statuses ?? [])],
    logs,
  };
  return { bundle, logs: stats };
}
