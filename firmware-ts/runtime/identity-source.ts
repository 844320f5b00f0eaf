// Where a non-simulated run gets its identity: the data folder's identity.json (written by
// `voltrail provision`) and the sealed device key beside it. Provisioning may plug in another
// source (a secure element, a TPM) through the same interface.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CoseSigner } from '../../ledger/cose/sign1.ts';
import { KeyFileError, loadKeyFile } from '../../ledger/keys/keyfile.ts';
import { PassphraseError, readPassphrase } from '../../ledger/keys/passphrase.ts';
import type { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import { UserError } from '../cli/errors.ts';
import { readIdentity, type IdentityFile } from './data-dir.ts';

export interface LoadedIdentity {
  identity: IdentityFile;
  signer: CoseSigner & { readonly backendName: string };
  /** The fleet certificate file, when provisioning put one. */
  certificateFile?: string;
}

export interface IdentitySource {
  load(dataDir: string): Promise<LoadedIdentity>;
}

/** identity.json fields that provisioning adds beside the base format. */
interface ProvisionedFields {
  keyFile?: string;
  certificate?: string;
  certificateFile?: string;
}

export const DEFAULT_DEVICE_KEY_FILE = 'device.key';

export const notProvisionedHelp = (dataDir: string) =>
  `${resolve(dataDir)} holds no provisioned identity. Provision this board first: voltrail provision --data-dir ${dataDir} (see deploy/RASPBERRY-PI.md), ` +
  `or run the simulator with voltrail run --sim`;

/** The key file a provisioned identity names (default DIR/device.key). */
export function keyFileOf(dataDir: string, id: IdentityFile): string {
  const f = (id as IdentityFile & ProvisionedFields).keyFile ?? DEFAULT_DEVICE_KEY_FILE;
  return resolve(dataDir, f);
}

export function certificateFileOf(dataDir: string, id: IdentityFile): string | undefined {
  const p = id as IdentityFile & ProvisionedFields;
  const f = p.certificateFile ?? (typeof p.certificate === 'string' && !p.certificate.includes('\n') && p.certificate.length < 256 ? p.certificate : undefined);
  if (f) return resolve(dataDir, f);
  const beside = join(dataDir, 'certificate.cbor');
  return existsSync(beside) ? resolve(beside) : undefined;
}

/** The default source: identity.json + a sealed key file; the passphrase from a file or the environment. */
export function fileIdentitySource(opts: { passphraseFile?: string; env?: NodeJS.ProcessEnv } = {}): IdentitySource {
  return {
    async load(dataDir) {
      const identity = await readIdentity(dataDir);
      if (!identity) throw new UserError(notProvisionedHelp(dataDir), 2);
      if (identity.simulated) throw new UserError(`${resolve(dataDir)} is a simulator's data folder; a board never signs into it. ${notProvisionedHelp(dataDir)}`, 2);
      const file = keyFileOf(dataDir, identity);
      let signer: PrivateKey;
      try {
        const pass = await readPassphrase({ file: opts.passphraseFile, env: opts.env });
        signer = await loadKeyFile(file, pass);
        signer.useBackend((await pickBackend(signer.curve)).backend);
      } catch (err) {
        if (err instanceof KeyFileError || err instanceof PassphraseError) throw new UserError(`device key: ${err.message}`, 1, { cause: err });
        throw err;
      }
      const known = identity.keys.some((k) => k.kid === Buffer.from(signer.kid).toString('hex'));
      if (!known) throw new UserError(`${file}: this key is not one of the keys identity.json lists for ${resolve(dataDir)}; restore the right key file or provision again`);
      return { identity, signer, certificateFile: certificateFileOf(dataDir, identity) };
    },
  };
}
