// The runtime's data folder: `ledger/` (the segment files) and `identity.json` (which keys sign
// this ledger and whether it is a simulator's). A simulated run never writes into a provisioned
// board's folder, and a board never signs into a simulator's: the identity says which it is.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../cli/errors.ts';

export const DEFAULT_SIM_DATA_DIR = '.voltrail-sim';

export interface IdentityKey {
  curve: 'secp256k1' | 'P-256';
  /** SEC1 compressed public key, hex. */
  publicKey: string;
  /** RFC 9679 thumbprint, hex. */
  kid: string;
  /** When this key started signing this ledger (ISO 8601). */
  since: string;
}

export interface IdentityFile {
  format: 'voltrail-identity/1';
  /** True for a simulator's data folder: every record in it is marked simulated. */
  simulated: boolean;
  keys: IdentityKey[];
}

export const ledgerDir = (dataDir: string) => join(dataDir, 'ledger');
const identityPath = (dataDir: string) => join(dataDir, 'identity.json');

/** The identity of a data folder, or undefined for a new one. Errors name the file. */
export async function readIdentity(dataDir: string): Promise<IdentityFile | undefined> {
  const path = identityPath(dataDir);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message}); restore it from a backup or remove the data folder`);
  }
  const id = parsed as IdentityFile;
  if (id?.format !== 'voltrail-identity/1' || !Array.isArray(id.keys) || typeof id.simulated !== 'boolean') {
    throw new UserError(`${path}: not a voltrail identity file (expected format 'voltrail-identity/1' with 'simulated' and 'keys')`);
  }
  return id;
}

/** Writes the identity atomically (temporary file, then rename). */
export async function writeIdentity(dataDir: string, id: IdentityFile): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = identityPath(dataDir);
  await writeFile(`${path}.tmp`, JSON.stringify(id, null, 2) + '\n', { mode: 0o644 });
  await rename(`${path}.tmp`, path);
}

/**
 * Opens a data folder for a simulated run: refuses a provisioned board's folder, and records
 * the run's throwaway key beside the ones of earlier runs.
 */
export async function prepareSimDataDir(dataDir: string, key: Omit<IdentityKey, 'since'>): Promise<IdentityFile> {
  const id = await readIdentity(dataDir);
  if (id && !id.simulated) {
    throw new UserError(
      `${resolve(dataDir)} belongs to a provisioned board; simulated data must never be mixed into its ledger. Give --data-dir another folder.`,
    );
  }
  if (!id && existsSync(ledgerDir(dataDir))) {
    throw new UserError(`${resolve(dataDir)} holds a ledger but no identity.json; give --data-dir an empty or simulator folder.`);
  }
  const next: IdentityFile = id ?? { format: 'voltrail-identity/1', simulated: true, keys: [] };
  next.keys.push({ ...key, since: new Date().toISOString() });
  await writeIdentity(dataDir, next);
  return next;
}
