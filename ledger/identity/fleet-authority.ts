// The fleet authority's folder, kept off the boards (on the fleet operator's machine):
//   fleet.key   its secp256k1 key, sealed (keys/keyfile.ts: scrypt + AES-256-GCM, mode 0600)
//   fleet.json  name, public key, kid, the certificates issued (serial, kid, battery, request
//               nonce: a replayed request is refused), the witness keys endorsed, the
//               revocations, the last list number.
// It issues device certificates (device-cert.ts) for verified certificate requests
// (cert-request.ts), records revocations, and signs cumulative revocation lists (revocation.ts).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PrivateKey } from '../keys/private-key.ts';
import { loadKeyFile, writeKeyFile, type WriteKeyFileOptions } from '../keys/keyfile.ts';
import type { Curve } from '../signers/backend.ts';
import { keyThumbprint } from '../cose/key-thumbprint.ts';
import { hex } from './claims.ts';
import { verifyCertificateRequest, type CertificateRequest } from './cert-request.ts';
import { issueCertificate, type PublicKeyRef } from './device-cert.ts';
import { IdentityError } from './identity-error.ts';
import { signRevocationList, type RevocationReason } from './revocation.ts';
import { endorseWitness } from './witness.ts';
import { signStatus, type StatusStatement } from '../passport/status-statement.ts';

export const FLEET_FORMAT = 'voltrail-fleet/1';

export interface IssuedEntry {
  serial: string;
  kid: string;
  batteryId: string;
  boardId: string;
  nonce: string;
  issued: string;
  expires: string;
}

export interface RevokedEntry {
  kid: string;
  /** Wall-clock ms. */
  revokedAt: number;
  reason: RevocationReason;
}

/** A collector's witness key the fleet endorsed (witness.ts). */
export interface WitnessEntry {
  name: string;
  kid: string;
  publicKey: string;
  curve: Curve;
  endorsed: string;
  expires: string;
}

export interface FleetFile {
  format: typeof FLEET_FORMAT;
  name: string;
  curve: Curve;
  publicKey: string;
  kid: string;
  crlNumber: number;
  issued: IssuedEntry[];
  revoked: RevokedEntry[];
  /** Witness keys endorsed (absent in folders made before witnesses existed). */
  witnesses?: WitnessEntry[];
}

export const fleetKeyPath = (dir: string) => join(dir, 'fleet.key');
const fleetJsonPath = (dir: string) => join(dir, 'fleet.json');

export function readFleetFile(dir: string): FleetFile {
  const path = fleetJsonPath(dir);
  if (!existsSync(path)) throw new IdentityError('malformed', `${resolve(dir)} is not a fleet authority folder (no fleet.json); create one with: voltrail fleet init --dir ${dir}`);
  let f: FleetFile;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as FleetFile;
  } catch (err) {
    throw new IdentityError('malformed', `${path}: not valid JSON (${(err as Error).message}); restore it from the fleet's backup`);
  }
  if (f?.format !== FLEET_FORMAT || typeof f.publicKey !== 'string' || !Array.isArray(f.issued) || !Array.isArray(f.revoked)) {
    throw new IdentityError('malformed', `${path}: not a voltrail fleet file (format '${FLEET_FORMAT}' with publicKey, issued, revoked)`);
  }
  return f;
}

export function fleetPublicKey(f: FleetFile): PublicKeyRef {
  return { publicKey: new Uint8Array(Buffer.from(f.publicKey, 'hex')), curve: f.curve };
}

async function writeFleetFile(dir: string, f: FleetFile): Promise<void> {
  const path = fleetJsonPath(dir);
  // A temporary name of its own per write: two signings at once never share a half-written file.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(f, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

/** Creates the authority's folder and key; an existing folder is kept (returned with created false). */
export async function initFleet(dir: string, opts: { name: string; passphrase: string; scrypt?: WriteKeyFileOptions['scrypt'] }): Promise<{ fleet: FleetFile; created: boolean }> {
  if (existsSync(fleetJsonPath(dir))) return { fleet: readFleetFile(dir), created: false };
  if (!/^[\x21-\x7e][\x20-\x7e]{0,62}$/.test(opts.name)) throw new RangeError(`fleet name: '${opts.name}' must be 1..63 printable ASCII characters`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = PrivateKey.generate('secp256k1');
  await writeKeyFile(fleetKeyPath(dir), key, opts.passphrase, opts.scrypt ? { scrypt: opts.scrypt } : {});
  const fleet: FleetFile = {
    format: FLEET_FORMAT,
    name: opts.name,
    curve: key.curve,
    publicKey: hex(key.publicKey),
    kid: hex(key.kid),
    crlNumber: 0,
    issued: [],
    revoked: [],
  };
  await writeFleetFile(dir, fleet);
  return { fleet, created: true };
}

/** The fleet authority with its key unsealed, for signing. */
export class FleetAuthority {
  readonly dir: string;
  readonly #key: PrivateKey;
  #file: FleetFile;

  private constructor(dir: string, key: PrivateKey, file: FleetFile) {
    this.dir = dir;
    this.#key = key;
    this.#file = file;
  }

  static async open(dir: string, passphrase: string): Promise<FleetAuthority> {
    const file = readFleetFile(dir);
    const key = await loadKeyFile(fleetKeyPath(dir), passphrase);
    if (hex(key.publicKey) !== file.publicKey) throw new IdentityError('wrong-key', `${fleetKeyPath(dir)} does not hold the key fleet.json names (${file.kid}); the folder was mixed up`);
    return new FleetAuthority(dir, key, file);
  }

  get file(): FleetFile {
    return this.#file;
  }

  get publicKey(): PublicKeyRef {
    return fleetPublicKey(this.#file);
  }

  /** Verifies a request and issues its certificate; refuses a nonce seen before or a revoked key. */
  async sign(requestBytes: Uint8Array, opts: { validDays?: number; now?: number } = {}): Promise<{ certificate: Uint8Array; request: CertificateRequest; entry: IssuedEntry }> {
    const request = verifyCertificateRequest(requestBytes);
    const nonce = hex(request.nonce);
    const kid = hex(request.kid);
    if (this.#file.issued.some((e) => e.nonce === nonce)) {
      throw new IdentityError('replayed', `this certificate request (nonce ${nonce}) was already signed; ask the board for a fresh request (voltrail provision --request-out FILE)`);
    }
    if (this.#file.revoked.some((r) => r.kid === kid)) throw new IdentityError('revoked', `key ${kid} is revoked; the board must make a new key`);
    const serial = new Uint8Array(16);
    crypto.getRandomValues(serial);
    const now = opts.now ?? Date.now();
    const certificate = issueCertificate({ authority: this.#key, issuer: this.#file.name, request, validDays: opts.validDays, now, serial });
    const days = opts.validDays ?? 3650;
    const entry: IssuedEntry = {
      serial: hex(serial),
      kid,
      batteryId: request.batteryId,
      boardId: request.boardId,
      nonce,
      issued: new Date(Math.floor(now / 1000) * 1000).toISOString(),
      expires: new Date((Math.floor(now / 1000) + days * 86_400) * 1000).toISOString(),
    };
    this.#file.issued.push(entry);
    await writeFleetFile(this.dir, this.#file);
    return { certificate, request, entry };
  }

  /** Records a revocation (kept if the kid is already revoked; the earlier time stands). */
  async revoke(kid: string, reason: RevocationReason, at: number = Date.now()): Promise<{ entry: RevokedEntry; already: boolean }> {
    const k = kid.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(k)) throw new RangeError(`kid: '${kid}' is not a 64-hex-digit key id (see voltrail keys show)`);
    const existing = this.#file.revoked.find((r) => r.kid === k);
    if (existing) return { entry: existing, already: true };
    if (!this.#file.issued.some((e) => e.kid === k) && !(this.#file.witnesses ?? []).some((w) => w.kid === k)) throw new IdentityError('uncertified', `no certificate of this fleet binds key ${k}; check the kid (fleet.json lists the issued ones)`);
    const entry: RevokedEntry = { kid: k, revokedAt: Math.round(at), reason };
    this.#file.revoked.push(entry);
    await writeFleetFile(this.dir, this.#file);
    return { entry, already: false };
  }

  /**
   * Endorses a collector's witness key (witness.ts), so that verifiers pinning only the fleet key
   * trust its countersignatures. A revoked key is refused; the same key may be endorsed again
   * (a renewal), each endorsement kept in fleet.json.
   */
  /** Signs a battery status statement (ledger/passport/status-statement.ts) as the authority. */
  async signStatement(statement: StatusStatement): Promise<Uint8Array> {
    return signStatus(statement, this.#key);
  }

  async endorseWitness(witness: PublicKeyRef, name: string, opts: { validDays?: number; now?: number } = {}): Promise<Uint8Array> {
    const kid = hex(keyThumbprint(witness.publicKey, witness.curve));
    if (this.#file.revoked.some((r) => r.kid === kid)) throw new IdentityError('revoked', `witness key ${kid} is revoked; the collector must make a new key`);
    const now = opts.now ?? Date.now();
    const days = opts.validDays ?? 3650;
    const bytes = endorseWitness({ authority: this.#key, issuer: this.#file.name, name, witness, validDays: days, now });
    (this.#file.witnesses ??= []).push({
      name,
      kid,
      publicKey: hex(witness.publicKey),
      curve: witness.curve,
      endorsed: new Date(Math.round(now)).toISOString(),
      expires: new Date(Math.round(now) + days * 86_400_000).toISOString(),
    });
    await writeFleetFile(this.dir, this.#file);
    return bytes;
  }

  /** Signs the next revocation list (number + 1) with every revocation so far. */
  async revocationList(now: number = Date.now()): Promise<{ bytes: Uint8Array; number: number }> {
    const number = this.#file.crlNumber + 1;
    const issued = Math.max(Math.round(now), ...this.#file.revoked.map((r) => r.revokedAt));
    const bytes = signRevocationList(
      {
        number,
        issued,
        issuer: this.#file.name,
        revoked: this.#file.revoked.map((r) => ({ kid: new Uint8Array(Buffer.from(r.kid, 'hex')), revokedAt: r.revokedAt, reason: r.reason })),
      },
      this.#key,
    );
    this.#file.crlNumber = number;
    await writeFleetFile(this.dir, this.#file);
    return { bytes, number };
  }
}
