// `voltrail keys new` and `voltrail keys show`: create the device key on this board (sealed in
// an encrypted key file, mode 0600) and show its public identity (compressed public key, kid).
// The private key is never printed; passphrases come from --passphrase-file, the
// VOLTRAIL_KEY_PASSPHRASE environment variable, or a prompt without echo.
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { KeyFileError, loadKeyFile, readKeyFileHeader, writeKeyFile } from '../../../ledger/keys/keyfile.ts';
import { PassphraseError, readPassphrase } from '../../../ledger/keys/passphrase.ts';
import { ALG_NAME, algForCurve } from '../../../ledger/cose/algorithms.ts';
import type { Curve } from '../../../ledger/signers/backend.ts';
import { UserError } from '../errors.ts';
import { hiddenPromptAvailable, promptHidden } from '../hidden-prompt.ts';

export const DEFAULT_KEY_FILE = 'device.key';

function parseCurve(text: string): Curve {
  const t = text.trim().toLowerCase();
  if (t === 'secp256k1' || t === 'es256k') return 'secp256k1';
  if (t === 'p256' || t === 'p-256' || t === 'es256' || t === 'secp256r1') return 'P-256';
  throw new InvalidArgumentError(`'${text}' is not a curve voltrail signs with; use secp256k1 (ES256K, the default) or p256 (ES256, for secure elements and TPMs).`);
}

function userError(err: unknown): never {
  if (err instanceof KeyFileError || err instanceof PassphraseError) throw new UserError(err.message);
  throw err;
}

async function passphrase(file: string | undefined, confirm: boolean): Promise<string> {
  return readPassphrase({ file, prompt: hiddenPromptAvailable() ? (q) => promptHidden(q) : undefined }, { confirm });
}

interface Identity {
  file: string;
  curve: Curve;
  alg: string;
  publicKey: string;
  kid: string;
}

function print(id: Identity, json: boolean, heading: string): void {
  if (json) {
    process.stdout.write(JSON.stringify(id, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${heading}\n  file:       ${id.file}\n  curve:      ${id.curve} (${id.alg})\n  public key: ${id.publicKey}\n  kid:        ${id.kid}\n`);
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('create and show the device key (keys new, keys show)');

  keys
    .command('new')
    .description('generate a device key on this board and store it encrypted (scrypt + AES-256-GCM, mode 0600)')
    .option('--out <file>', 'where to write the key file (never overwritten)', DEFAULT_KEY_FILE)
    .option('--curve <curve>', 'secp256k1 (ES256K) or p256 (ES256)', parseCurve, 'secp256k1' as Curve)
    .option('--passphrase-file <file>', 'read the passphrase from this file (else VOLTRAIL_KEY_PASSPHRASE, else a prompt)')
    .option('--json', 'print the new key identity as JSON')
    .exitOverride()
    .action(async (opts: { out: string; curve: Curve; passphraseFile?: string; json?: boolean }) => {
      try {
        const file = resolve(opts.out);
        const pass = await passphrase(opts.passphraseFile, true);
        const key = PrivateKey.generate(opts.curve);
        await writeKeyFile(file, key, pass);
        const id = key.toJSON();
        print({ file, curve: key.curve, alg: ALG_NAME[key.alg], publicKey: id.publicKey, kid: id.kid }, opts.json === true, `Created a ${key.curve} device key.`);
      } catch (err) {
        userError(err);
      }
    });

  keys
    .command('show')
    .description("show a key file's public key (compressed hex) and kid (RFC 9679 thumbprint)")
    .option('--key <file>', 'the key file', DEFAULT_KEY_FILE)
    .option('--verify', 'also open the key with its passphrase, to check the passphrase and the file')
    .option('--passphrase-file <file>', 'with --verify: read the passphrase from this file')
    .option('--json', 'print as JSON')
    .exitOverride()
    .action(async (opts: { key: string; verify?: boolean; passphraseFile?: string; json?: boolean }) => {
      try {
        const file = resolve(opts.key);
        const h = readKeyFileHeader(file);
        let heading = 'Device key (public part; the passphrase was not checked):';
        if (opts.verify) {
          const key = await loadKeyFile(file, await passphrase(opts.passphraseFile, false));
          heading = `Device key (opened with its passphrase: ${key.toString()}):`;
        }
        print({ file, curve: h.curve, alg: ALG_NAME[algForCurve(h.curve)], publicKey: h.publicKey, kid: h.kid }, opts.json === true, heading);
      } catch (err) {
        userError(err);
      }
    });
}
