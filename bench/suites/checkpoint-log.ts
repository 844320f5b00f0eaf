// A checkpoint-mode ledger of many telemetry records, generated once for the ledger-verify
// benchmark and cached in the system's temporary folder (keyed by a format version and the
// record count) so that a re-run skips the generation. Written with SegmentLog.appendMany
// directly, in large pipelined group commits: the same entries the Ledger writes (records as
// Merkle leaves, a signed checkpoint every 1000 records and one at the end), without a promise
// or a hash call per record.
// The cache holds the public key only; the secret is dropped once the log is signed.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { EntryKind } from '../../ledger/log/frame.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { MerkleFrontier } from '../../ledger/log/merkle.ts';
import { encodeCheckpoint, encodeRecord } from '../../ledger/log/record.ts';
import { sign1 } from '../../ledger/cose/sign1.ts';
import { TYP } from '../../ledger/typ.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { BOOT_ID, T0, recordAt } from './telemetry-fixture.ts';

/** Bump when the generated ledger's content or the segment format changes. */
export const CHECKPOINT_LOG_VERSION = 1;
const CHECKPOINT_EVERY = 1000;
/** Records per group commit while generating. */
const BATCH = 8192;
const BODIES = 64;

export interface CheckpointLog {
  dir: string;
  records: number;
  /** SEC1 compressed public key of the log's signer (secp256k1). */
  publicKey: Uint8Array;
  /** Total bytes of the segment files. */
  bytes: number;
  /** Whether this run generated it (false: reused from the cache). */
  generated: boolean;
  /** Wall seconds the generation took, when generated. */
  generateSeconds?: number;
}

interface Manifest {
  version: number;
  records: number;
  publicKey: string;
  bytes: number;
}

export function checkpointLogDir(records: number): string {
  return join(os.tmpdir(), `voltrail-bench-${os.userInfo().username}`, `checkpoint-log-v${CHECKPOINT_LOG_VERSION}-${records}`);
}

/** The cached log of `records` records, generated first when missing or incomplete. */
export async function checkpointLog(records: number): Promise<CheckpointLog> {
  const dir = checkpointLogDir(records);
  const manifestFile = join(dir, 'manifest.json');
  if (existsSync(manifestFile)) {
    const m = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    if (m.version === CHECKPOINT_LOG_VERSION && m.records === records) {
      return { dir: join(dir, 'ledger'), records, publicKey: Uint8Array.from(Buffer.from(m.publicKey, 'hex')), bytes: m.bytes, generated: false };
    }
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const { publicKey, bytes } = await generate(join(dir, 'ledger'), records);
  const manifest: Manifest = { version: CHECKPOINT_LOG_VERSION, records, publicKey: Buffer.from(publicKey).toString('hex'), bytes };
  // Written last: a generation cut short leaves no manifest and is redone next time.
  await writeFile(manifestFile, JSON.stringify(manifest));
  return { dir: join(dir, 'ledger'), records, publicKey, bytes, generated: true, generateSeconds: (performance.now() - t0) / 1000 };
}

async function generate(dir: string, records: number): Promise<{ publicKey: Uint8Array; bytes: number }> {
  const key = PrivateKey.generate('secp256k1');
  key.useBackend((await pickBackend('secp256k1')).backend);
  const bodies: CborValue[] = Array.from({ length: BODIES }, (_, i) => recordAt(i).body);
  const log = await SegmentLog.open(dir, { segmentBytes: 64 * 1024 * 1024 });
  const frontier = new MerkleFrontier();
  // One group of BATCH records (and the checkpoints among them) per appendMany: the leaves are
  // hashed in one native call per checkpoint interval, the group written with one promise,
  // while the next group is encoded.
  let last: Promise<number> | undefined;
  let kinds: number[] = [];
  let payloads: Uint8Array[] = [];
  let leaves: Uint8Array[] = [];
  const checkpoint = (i: number): void => {
    frontier.appendMany(leaves);
    leaves = [];
    const payload = encodeCheckpoint({ size: frontier.size, root: frontier.root(), time: T0 + i * 10_000, logId: key.kid, mono: i * 10_000, boot: BOOT_ID });
    kinds.push(EntryKind.checkpoint);
    payloads.push(sign1({ payload, typ: TYP.checkpoint, signer: key }));
  };
  const write = async (): Promise<void> => {
    const next = log.appendMany(kinds, payloads);
    await last;
    last = next;
    kinds = [];
    payloads = [];
  };
  for (let i = 0; i < records; i++) {
    const leaf = encodeRecord({ seq: i, time: T0 + i * 10_000, type: 'telemetry', body: bodies[i % BODIES]!, simulated: true, mono: i * 10_000, boot: BOOT_ID });
    leaves.push(leaf);
    kinds.push(EntryKind.leaf);
    payloads.push(leaf);
    if ((i + 1) % CHECKPOINT_EVERY === 0) checkpoint(i);
    if (payloads.length >= BATCH) await write();
  }
  if (records % CHECKPOINT_EVERY !== 0) checkpoint(records);
  await write();
  await last;
  await log.close();
  let bytes = 0;
  for (const name of await readdir(dir)) bytes += (await stat(join(dir, name))).size;
  return { publicKey: key.publicKey, bytes };
}
