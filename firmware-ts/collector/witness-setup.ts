// A collector's witness identity in its data folder: `witness.key` (a secp256k1 key, sealed like
// every voltrail key: keys/keyfile.ts, mode 0600) and `witness-endorsement.cbor`, the fleet
// authority's endorsement of it (ledger/identity/witness.ts). Instances sharing one data folder
// share one witness identity. Without them a collector still verifies and stores, but
// countersigns nothing.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { loadKeyFile, writeKeyFile } from '../../ledger/keys/keyfile.ts';
import type { FleetAuthority } from '../../ledger/identity/fleet-authority.ts';
import type { PublicKeyRef } from '../../ledger/identity/device-cert.ts';
import { verifyWitnessEndorsement, type WitnessEndorsement } from '../../ledger/identity/witness.ts';
import { hex } from '../../ledger/identity/claims.ts';

export const WITNESS_KEY_FILE = 'witness.key';
export const ENDORSEMENT_FILE = 'witness-endorsement.cbor';

export interface WitnessIdentity {
  key: PrivateKey;
  endorsement: Uint8Array;
  endorsed: WitnessEndorsement;
}

/** Makes (or keeps) the witness key and has the fleet endorse it; returns what was done. */
export async function initWitness(o: { dataDir: string; name: string; passphrase: string; fleet: FleetAuthority; validDays?: number }): Promise<{ kid: string; keyCreated: boolean; endorsement: string }> {
  const keyFile = join(o.dataDir, WITNESS_KEY_FILE);
  const keyCreated = !existsSync(keyFile);
  const key = keyCreated ? PrivateKey.generate('secp256k1') : await loadKeyFile(keyFile, o.passphrase);
  if (keyCreated) await writeKeyFile(keyFile, key, o.passphrase);
  const endorsement = await o.fleet.endorseWitness({ publicKey: key.publicKey, curve: key.curve }, o.name, { validDays: o.validDays });
  const file = join(o.dataDir, ENDORSEMENT_FILE);
  await writeFile(file, endorsement, { mode: 0o644 });
  return { kid: hex(key.kid), keyCreated, endorsement: resolve(file) };
}

/** Opens the witness key and checks its endorsement against the fleet key; undefined when none is set up. */
export async function loadWitness(dataDir: string, passphrase: () => Promise<string>, authority: PublicKeyRef): Promise<WitnessIdentity | undefined> {
  const keyFile = join(dataDir, WITNESS_KEY_FILE);
  const endorsementFile = join(dataDir, ENDORSEMENT_FILE);
  if (!existsSync(keyFile) || !existsSync(endorsementFile)) return undefined;
  const key = await loadKeyFile(keyFile, await passphrase());
  const endorsement = new Uint8Array(await readFile(endorsementFile));
  const endorsed = verifyWitnessEndorsement(endorsement, authority, Date.now());
  if (hex(endorsed.witnessKid) !== hex(key.kid)) {
    throw new RangeError(`${resolve(endorsementFile)} endorses witness key ${hex(endorsed.witnessKid).slice(0, 16)}…, not the key in ${resolve(keyFile)}; run voltrail collect init again`);
  }
  return { key, endorsement, endorsed };
}
