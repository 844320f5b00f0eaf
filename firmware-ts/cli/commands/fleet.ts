// `voltrail fleet`: the fleet authority, run on the fleet operator's machine (never on a board):
// `init` makes its secp256k1 key (sealed key file) and folder, `sign` verifies a board's
// certificate request and issues its device certificate (a CWT), `revoke` records a lost or
// compromised board key, `crl` signs the cumulative revocation list. Formats: ledger/identity/.
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FleetAuthority, fleetKeyPath, initFleet, readFleetFile } from '../../../ledger/identity/fleet-authority.ts';
import { IdentityError } from '../../../ledger/identity/identity-error.ts';
import { REVOCATION_REASONS, type RevocationReason } from '../../../ledger/identity/revocation.ts';
import { KeyFileError } from '../../../ledger/keys/keyfile.ts';
import { PassphraseError, readPassphrase } from '../../../ledger/keys/passphrase.ts';
import { UserError } from '../errors.ts';
import { hiddenPromptAvailable, promptHidden } from '../hidden-prompt.ts';
import { parseNonNegativeInt } from '../parse.ts';

export const DEFAULT_FLEET_DIR = 'fleet-authority';

export function userFacing(err: unknown): never {
  if (err instanceof KeyFileError || err instanceof PassphraseError || err instanceof IdentityError || err instanceof RangeError) throw new UserError(err.message);
  throw err;
}

export async function askPassphrase(file: string | undefined, confirm: boolean): Promise<string> {
  return readPassphrase({ file, prompt: hiddenPromptAvailable() ? (q) => promptHidden(q) : undefined }, { confirm });
}

/** Opens the fleet authority's key (for sign, revoke, crl and a bench `provision --fleet-dir`). */
export async function openAuthority(dir: string, passphraseFile: string | undefined): Promise<FleetAuthority> {
  readFleetFile(dir); // a clear error for a wrong folder before asking for a passphrase
  return FleetAuthority.open(dir, await askPassphrase(passphraseFile, false));
}

function parseReason(text: string): RevocationReason {
  if (!REVOCATION_REASONS.includes(text as RevocationReason)) throw new InvalidArgumentError(`'${text}' is not a revocation reason; use one of ${REVOCATION_REASONS.join(', ')}`);
  return text as RevocationReason;
}

function parseDays(text: string): number {
  const n = parseNonNegativeInt(text);
  if (n < 1 || n > 36500) throw new InvalidArgumentError(`'${text}' days: give 1 to 36500`);
  return n;
}

const out = (json: boolean, data: unknown, text: string) => process.stdout.write(json ? JSON.stringify(data, null, 2) + '\n' : text);

export function registerFleet(program: Command): void {
  const fleet = program.command('fleet').description('fleet authority: init, sign certificate requests, revoke board keys, sign the revocation list');
  const dirOpt = ['--dir <dir>', 'the fleet authority folder (keep it off the boards)', DEFAULT_FLEET_DIR] as const;
  const passOpt = ['--passphrase-file <file>', "the fleet key's passphrase (else VOLTRAIL_KEY_PASSPHRASE, else a prompt)"] as const;

  fleet
    .command('init')
    .description("create the fleet authority: its secp256k1 key (sealed, mode 0600) and fleet.json; an existing one is kept")
    .option(...dirOpt)
    .option('--name <name>', 'the authority name certificates carry as issuer', 'voltrail fleet')
    .option(...passOpt)
    .option('--json', 'print as JSON')
    .action(async (o: { dir: string; name: string; passphraseFile?: string; json?: boolean }) => {
      try {
        const dir = resolve(o.dir);
        const existing = (() => {
          try {
            return readFleetFile(dir);
          } catch {
            return undefined;
          }
        })();
        const passphrase = existing ? '' : await askPassphrase(o.passphraseFile, true);
        const { fleet: f, created } = existing ? { fleet: existing, created: false } : await initFleet(dir, { name: o.name, passphrase });
        out(
          o.json === true,
          { dir, created, name: f.name, curve: f.curve, publicKey: f.publicKey, kid: f.kid, keyFile: fleetKeyPath(dir) },
          `${created ? 'Created the fleet authority' : 'Kept the existing fleet authority'} ${f.name} in ${dir}\n  key file:   ${fleetKeyPath(dir)} (keep it and its passphrase off the boards)\n  public key: ${f.publicKey}\n  kid:        ${f.kid}\nGive the public key to boards (voltrail provision --fleet-key) and verifiers (voltrail ledger verify --fleet-key).\n`,
        );
      } catch (err) {
        userFacing(err);
      }
    });

  fleet
    .command('sign')
    .description("verify a board's certificate request (its self-signature) and issue its device certificate")
    .argument('<request>', 'the certificate request file (from voltrail provision --request-out)')
    .option(...dirOpt)
    .option('--valid-days <n>', 'validity in days', parseDays, 3650)
    .option('--out <file>', 'where to write the certificate', 'device-cert.cbor')
    .option(...passOpt)
    .option('--json', 'print as JSON')
    .action(async (request: string, o: { dir: string; validDays: number; out: string; passphraseFile?: string; json?: boolean }) => {
      try {
        const bytes = new Uint8Array(await readFile(resolve(request)).catch(() => {
          throw new UserError(`${resolve(request)}: cannot read the certificate request`);
        }));
        const auth = await openAuthority(resolve(o.dir), o.passphraseFile);
        const { certificate, request: req, entry } = await auth.sign(bytes, { validDays: o.validDays });
        await writeFile(resolve(o.out), certificate, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
          throw new UserError(e.code === 'EEXIST' ? `${resolve(o.out)} exists; give --out another file (certificates are never overwritten)` : `${resolve(o.out)}: ${e.message}`);
        });
        out(
          o.json === true,
          { certificate: resolve(o.out), ...entry, battery: req.battery },
          `Issued a device certificate: ${resolve(o.out)}\n  battery:  ${entry.batteryId}\n  board:    ${entry.boardId}\n  key kid:  ${entry.kid}\n  serial:   ${entry.serial}\n  valid to: ${entry.expires}\nInstall it on the board: voltrail provision --install-cert ${o.out} --fleet-key ${auth.file.publicKey}\n`,
        );
      } catch (err) {
        userFacing(err);
      }
    });

  fleet
    .command('revoke')
    .description("revoke a board key: its signatures from now (or --at) on are refused; then publish: voltrail fleet crl")
    .requiredOption('--kid <kid>', 'the key id to revoke (64 hex digits; fleet.json lists the issued ones)')
    .option('--reason <reason>', REVOCATION_REASONS.join(' | '), parseReason, 'compromised' as RevocationReason)
    .option('--at <iso-time>', 'revoke from this time (ISO 8601; default now)')
    .option(...dirOpt)
    .option(...passOpt)
    .option('--json', 'print as JSON')
    .action(async (o: { kid: string; reason: RevocationReason; at?: string; dir: string; passphraseFile?: string; json?: boolean }) => {
      try {
        const at = o.at === undefined ? Date.now() : Date.parse(o.at);
        if (Number.isNaN(at)) throw new UserError(`--at ${o.at}: not an ISO 8601 time (e.g. 2026-05-01T12:00:00Z)`, 2);
        const auth = await openAuthority(resolve(o.dir), o.passphraseFile);
        const { entry, already } = await auth.revoke(o.kid, o.reason, at);
        out(o.json === true, { ...entry, already }, `${already ? 'Already revoked' : 'Revoked'} key ${entry.kid} (${entry.reason}) from ${new Date(entry.revokedAt).toISOString()}\nPublish it: voltrail fleet crl --out FILE\n`);
      } catch (err) {
        userFacing(err);
      }
    });

  fleet
    .command('crl')
    .description('sign the next revocation list (cumulative, numbered) and write it')
    .requiredOption('--out <file>', 'where to write the signed list')
    .option(...dirOpt)
    .option(...passOpt)
    .option('--json', 'print as JSON')
    .action(async (o: { out: string; dir: string; passphraseFile?: string; json?: boolean }) => {
      try {
        const auth = await openAuthority(resolve(o.dir), o.passphraseFile);
        const { bytes, number } = await auth.revocationList();
        await writeFile(resolve(o.out), bytes);
        out(o.json === true, { file: resolve(o.out), number, revoked: auth.file.revoked.length }, `Wrote revocation list ${number} (${auth.file.revoked.length} revoked keys) to ${resolve(o.out)}\n`);
      } catch (err) {
        userFacing(err);
      }
    });
}
