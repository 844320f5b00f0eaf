// A checkpoint-mode ledger of many telemetry records, generated once for the ledger-verify
// benchmark and cached (log-cache.ts, keyed by a format version and the record count) so that a
// re-run skips the generation. Written by BatchLogWriter (batched group commits and leaf
// hashing): the same entries the Ledger writes (records as Merkle leaves, a signed checkpoint
// every 1000 records and one at the end), without a promise or a hash call per record.
// The cache holds the public key only; the secret is dropped once the log is signed.
import { EntryKind } from '../../ledger/log/frame.ts';
import { encodeCheckpoint } from '../../ledger/log/record.ts';
import { sign1 } from '../../ledger/cose/sign1.ts';
import { TYP } from '../../ledger/typ.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import { BatchLogWriter } from './batch-log-writer.ts';
import { cachedLog, cachedLogDir, type CachedLog } from './log-cache.ts';
import { BOOT_ID, T0, fixtureLeaves } from './telemetry-fixture.ts';

/** Bump when the generated ledger's content or the segment format changes. */
export const CHECKPOINT_LOG_VERSION = 1;
const CHECKPOINT_EVERY = 1000;
const BODIES = 64;

/** `publicKey`: the log signer's SEC1 compressed key (secp256k1). */
export type CheckpointLog = CachedLog;

export function checkpointLogDir(records: number): string {
  return cachedLogDir('checkpoint-log', CHECKPOINT_LOG_VERSION, records);
}

/** The cached log of `records` records, generated first when missing or incomplete. */
export function checkpointLog(records: number): Promise<CheckpointLog> {
  return cachedLog('checkpoint-log', CHECKPOINT_LOG_VERSION, records, (dir) => generate(dir, records));
}

async function generate(dir: string, records: number): Promise<{ publicKey: Uint8Array; bytes: number }> {
  const key = PrivateKey.generate('secp256k1');
  key.useBackend((await pickBackend('secp256k1')).backend);
  const leafAt = fixtureLeaves(BODIES);
  const log = await BatchLogWriter.open(dir);
  const checkpoint = (i: number): void => {
    const root = log.root();
    const payload = encodeCheckpoint({ size: log.size, root, time: T0 + i * 10_000, logId: key.kid, mono: i * 10_000, boot: BOOT_ID });
    log.entry(EntryKind.checkpoint, sign1({ payload, typ: TYP.checkpoint, signer: key }));
  };
  for (let i = 0; i < records; i++) {
    log.leaf(EntryKind.leaf, leafAt(i));
    if ((i + 1) % CHECKPOINT_EVERY === 0) checkpoint(i);
    if (log.full) await log.write();
  }
  if (records % CHECKPOINT_EVERY !== 0) checkpoint(records);
  return { publicKey: key.publicKey, bytes: await log.close() };
}
