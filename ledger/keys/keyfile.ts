// The encrypted key file (format "voltrail-key", version 1): a JSON document whose header says
// what the key is (curve, public key, kid) and how it is sealed, and whose secret is sealed
// with AES-256-GCM under a key derived from the passphrase by scrypt (RFC 7914; N = 2^15 or
// more, r = 8, p = 1, a random 16-byte salt). The header is the AEAD's associated data, so a
// changed public key, curve or cost is caught as surely as a changed ciphertext.
// Files are written atomically (temporary file, fsync, link into place, fsync the directory),
// mode 0600, never over an existing key; loading refuses a file that others may read.
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync, constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import { keyThumbprint } from '../cose/key-thumbprint.ts';
import type { Curve } from '../signers/backend.ts';
import { PrivateKey } from './private-key.ts';
import { ReasonError } from '../../hal/reason-error.ts';

const scrypt = promisify(scryptCb) as (password: Uint8Array, salt: Uint8Array, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

export const KEY_FILE_FORMAT = 'voltrail-key';
export const KEY_FILE_VERSION = 1;
/** scrypt cost written to new files; files with less are refused, files with far more too (a hostile file must not exhaust memory). */
export const SCRYPT_DEFAULT = { N: 2 ** 15, r: 8, p: 1 } as const;
const SCRYPT_LIMITS = { minLogN: 15, maxLogN: 20, maxR: 16, maxP: 4 };
const MAX_FILE_SIZE = 4096;

export type KeyFileErrorReason = 'not-found' | 'permissions' | 'format' | 'wrong-passphrase' | 'exists' | 'io';

/** A key file problem: says which file and what to do, never anything secret. */
export class KeyFileError extends ReasonError<KeyFileErrorReason> {
  override readonly name = 'KeyFileError';
  readonly file: string;
  constructor(reason: KeyFileErrorReason, file: string, message: string, options?: ErrorOptions) {
    super(reason, `${file}: ${message}`, options);
    this.file = file;
  }
}

export interface KeyFileHeader {
  format: typeof KEY_FILE_FORMAT;
  version: typeof KEY_FILE_VERSION;
  curve: Curve;
  /** SEC1 compressed, hex. */
  publicKey: string;
  /** RFC 9679 thumbprint, hex. */
  kid: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  aead: { name: 'aes-256-gcm'; nonce: string };
}

interface KeyFileDocument extends KeyFileHeader {
  /** base64 of ciphertext || 16-byte GCM tag. */
  sealed: string;
}

export interface WriteKeyFileOptions {
  /** Extra scrypt cost (N a power of two >= 2^15). */
  scrypt?: { N: number; r: number; p: number };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** The associated data: the deterministic CBOR of every header field, in a fixed map. */
function associatedData(h: KeyFileHeader): Uint8Array {
  return encodeCanonical({
    format: h.format,
    version: h.version,
    curve: h.curve,
    publicKey: h.publicKey,
    kid: h.kid,
    kdf: { name: h.kdf.name, N: h.kdf.N, r: h.kdf.r, p: h.kdf.p, salt: h.kdf.salt },
    aead: { name: h.aead.name, nonce: h.aead.nonce },
  });
}

function checkPassphrase(passphrase: string | Uint8Array): Uint8Array {
  const bytes = typeof passphrase === 'string' ? new TextEncoder().encode(passphrase.normalize('NFC')) : passphrase;
  if (!(bytes instanceof Uint8Array)) throw new TypeError('passphrase: expected a string or bytes');
  if (bytes.length === 0) throw new RangeError('passphrase: must not be empty');
  return bytes;
}

async function deriveKey(passphrase: Uint8Array, salt: Uint8Array, kdf: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; give it that plus slack, and no more.
  return scrypt(passphrase, salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 128 * kdf.N * kdf.r + 8 * 1024 * 1024 });
}

/** Seals `key` under `passphrase` into the text of a key file. */
export async function sealKey(key: PrivateKey, passphrase: string | Uint8Array, opts: WriteKeyFileOptions = {}): Promise<string> {
  const pass = checkPassphrase(passphrase);
  const cost = opts.scrypt ?? SCRYPT_DEFAULT;
  checkCost(cost, '(new key file)');
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const header: KeyFileHeader = {
    format: KEY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    curve: key.curve,
    publicKey: hex(key.publicKey),
    kid: hex(key.kid),
    kdf: { name: 'scrypt', N: cost.N, r: cost.r, p: cost.p, salt: b64(salt) },
    aead: { name: 'aes-256-gcm', nonce: b64(nonce) },
  };
  const dk = await deriveKey(pass, salt, cost);
  const secret = key.exportSecret();
  try {
    const cipher = createCipheriv('aes-256-gcm', dk, nonce);
    cipher.setAAD(associatedData(header));
    const sealed = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
    const doc: KeyFileDocument = { ...header, sealed: b64(sealed) };
    return JSON.stringify(doc, null, 2) + '\n';
  } finally {
    secret.fill(0);
    dk.fill(0);
  }
}

function checkCost(c: { N: number; r: number; p: number }, file: string): void {
  const logN = Math.log2(c.N);
  const ok =
    Number.isInteger(logN) &&
    logN >= SCRYPT_LIMITS.minLogN &&
    logN <= SCRYPT_LIMITS.maxLogN &&
    Number.isInteger(c.r) &&
    c.r >= 1 &&
    c.r <= SCRYPT_LIMITS.maxR &&
    Number.isInteger(c.p) &&
    c.p >= 1 &&
    c.p <= SCRYPT_LIMITS.maxP;
  if (!ok) {
    throw new KeyFileError(
      'format',
      file,
      `scrypt cost N=${c.N} r=${c.r} p=${c.p} is outside what voltrail accepts (N a power of two from 2^${SCRYPT_LIMITS.minLogN} to 2^${SCRYPT_LIMITS.maxLogN}, r 1-${SCRYPT_LIMITS.maxR}, p 1-${SCRYPT_LIMITS.maxP})`,
    );
  }
}

function isB64(s: unknown, bytes: number): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(s) && Buffer.from(s, 'base64').length === bytes;
}

/** Parses and checks the text of a key file: its header only, nothing is decrypted. */
export function parseKeyFile(text: string, file = '(key file)'): KeyFileDocument {
  const bad = (what: string): never => {
    throw new KeyFileError('format', file, `not a voltrail key file: ${what}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return bad('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.format !== KEY_FILE_FORMAT) return bad(`"format" is not "${KEY_FILE_FORMAT}"`);
  if (d.version !== KEY_FILE_VERSION) {
    throw new KeyFileError('format', file, `key file version ${String(d.version)} is not supported by this voltrail (it reads version ${KEY_FILE_VERSION}); upgrade voltrail`);
  }
  if (d.curve !== 'secp256k1' && d.curve !== 'P-256') return bad('"curve" must be "secp256k1" or "P-256"');
  if (typeof d.publicKey !== 'string' || !/^0[23][0-9a-f]{64}$/.test(d.publicKey)) return bad('"publicKey" must be 33 bytes of compressed SEC1, in hex');
  if (typeof d.kid !== 'string' || !/^[0-9a-f]{64}$/.test(d.kid)) return bad('"kid" must be 32 bytes in hex');
  const kdf = d.kdf as Record<string, unknown> | null;
  if (typeof kdf !== 'object' || kdf === null || kdf.name !== 'scrypt') return bad('"kdf" must be scrypt');
  if (typeof kdf.N !== 'number' || typeof kdf.r !== 'number' || typeof kdf.p !== 'number') return bad('"kdf" needs numbers N, r, p');
  checkCost({ N: kdf.N, r: kdf.r, p: kdf.p }, file);
  if (!isB64(kdf.salt, 16)) return bad('"kdf.salt" must be 16 bytes in base64');
  const aead = d.aead as Record<string, unknown> | null;
  if (typeof aead !== 'object' || aead === null || aead.name !== 'aes-256-gcm') return bad('"aead" must be aes-256-gcm');
  if (!isB64(aead.nonce, 12)) return bad('"aead.nonce" must be 12 bytes in base64');
  if (!isB64(d.sealed, 48)) return bad('"sealed" must be 48 bytes in base64 (32-byte key and 16-byte tag)');
  let kid: string;
  try {
    kid = hex(keyThumbprint(Buffer.from(d.publicKey, 'hex'), d.curve));
  } catch {
    return bad(`"publicKey" is not a ${d.curve} point`);
  }
  if (kid !== d.kid) return bad('"kid" is not the thumbprint of "publicKey"');
  return {
    format: KEY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    curve: d.curve,
    publicKey: d.publicKey,
    kid: d.kid,
    kdf: { name: 'scrypt', N: kdf.N, r: kdf.r, p: kdf.p, salt: kdf.salt as string },
    aead: { name: 'aes-256-gcm', nonce: aead.nonce as string },
    sealed: d.sealed as string,
  };
}

/** Opens a parsed key file with its passphrase. */
export async function unsealKey(doc: KeyFileDocument, passphrase: string | Uint8Array, file = '(key file)'): Promise<PrivateKey> {
  const pass = checkPassphrase(passphrase);
  const dk = await deriveKey(pass, Buffer.from(doc.kdf.salt, 'base64'), doc.kdf);
  const sealed = Buffer.from(doc.sealed, 'base64');
  let secret: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', dk, Buffer.from(doc.aead.nonce, 'base64'));
    decipher.setAAD(associatedData(doc));
    decipher.setAuthTag(sealed.subarray(32));
    secret = Buffer.concat([decipher.update(sealed.subarray(0, 32)), decipher.final()]);
  } catch {
    throw new KeyFileError('wrong-passphrase', file, 'wrong passphrase, or the file was altered (it does not decrypt)');
  } finally {
    dk.fill(0);
  }
  try {
    const key = PrivateKey.fromBytes(secret, doc.curve);
    if (hex(key.publicKey) !== doc.publicKey) throw new KeyFileError('format', file, 'the sealed key does not match "publicKey"');
    return key;
  } catch (err) {
    if (err instanceof KeyFileError) throw err;
    throw new KeyFileError('format', file, 'the sealed key is not a valid private key');
  } finally {
    secret.fill(0);
  }
}

/** Reads a key file's text, refusing one that is not a regular file or that others may read. */
export function readKeyFileText(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KeyFileError('not-found', file, 'no such key file; create one with `voltrail keys new`');
    if (code === 'ELOOP') throw new KeyFileError('permissions', file, 'is a symbolic link; give the path of the key file itself');
    throw new KeyFileError('io', file, `cannot open: ${code ?? (err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeyFileError('format', file, 'is not a regular file');
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
      throw new KeyFileError('permissions', file, `is readable or writable by others (mode ${mode}); a key file must be private: run  chmod 600 ${file}`);
    }
    if (st.size > MAX_FILE_SIZE) throw new KeyFileError('format', file, `is ${st.size} bytes, too large for a key file`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Loads and opens a key file. */
export async function loadKeyFile(file: string, passphrase: string | Uint8Array): Promise<PrivateKey> {
  return unsealKey(parseKeyFile(readKeyFileText(file), file), passphrase, file);
}

/** The public header of a key file (no passphrase needed; checked for consistency). */
export function readKeyFileHeader(file: string): KeyFileHeader {
  const { sealed: _sealed, ...header } = parseKeyFile(readKeyFileText(file), file);
  return header;
}

/**
 * Writes `text` to `file` atomically with mode 0600: a temporary file beside it, fsync, then a
 * hard link into place (which fails if `file` exists: a key is never overwritten), then fsync
 * of the directory so the new name survives a power cut.
 */
export function writeKeyFileAtomic(file: string, text: string): void {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    throw new KeyFileError('io', file, `cannot create a file in ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const data = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new KeyFileError('exists', file, 'a key file is already there; it is never overwritten (move it away first if you really mean to replace this device key)');
      }
      throw new KeyFileError('io', file, `cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } finally {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  try {
    const dfd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the file itself is already durable.
  }
}

/** Seals `key` and writes it to `file` (atomically, mode 0600, never over an existing file). */
export async function writeKeyFile(file: string, key: PrivateKey, passphrase: string | Uint8Array, opts: WriteKeyFileOptions = {}): Promise<void> {
  writeKeyFileAtomic(file, await sealKey(key, passphrase, opts));
}
