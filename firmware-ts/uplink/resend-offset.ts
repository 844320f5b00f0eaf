// The board's resend offset: how many entries of its ledger, from index 0, a collector has
// acknowledged as verified and stored. Kept in DATA/uplink-offset.json, written atomically
// (write a temporary file, fsync it, rename it over the old one, fsync the folder), so that a
// power cut leaves either the old offset or the new one: an old offset only means a resend,
// which the collector recognises as entries it already holds.
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export const OFFSET_FILE = 'uplink-offset.json';

export interface ResendOffset {
  /** Entries the fleet acknowledged. */
  stored: number;
  /** The log id (hex kid) the offset belongs to: another log starts from 0. */
  logId: string;
}

export async function readOffset(dataDir: string, logId: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(join(dataDir, OFFSET_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    const o = JSON.parse(text) as ResendOffset;
    if (o.logId !== logId || !Number.isSafeInteger(o.stored) || o.stored < 0) return 0;
    return o.stored;
  } catch {
    // A damaged offset costs a full resend, never a lost record.
    return 0;
  }
}

export async function writeOffset(dataDir: string, o: ResendOffset): Promise<void> {
  const path = join(dataDir, OFFSET_FILE);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(JSON.stringify(o) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dataDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
