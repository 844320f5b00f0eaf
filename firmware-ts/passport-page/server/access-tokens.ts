// Bearer tokens for the legitimate-interest view of the passport server (EU Battery Regulation
// 2023/1542 Annex XIII point 2: usage data only to persons with a legitimate interest). A token
// is 32 random bytes, shown once when it is made; the tokens file keeps only its SHA-256 (a
// 256-bit random secret needs no slow hash: nothing can be guessed from the digest). Checks
// compare digests in constant time against every stored entry, so neither the outcome's timing
// nor its position leaks anything; tokens never reach a log or an error message.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';

/** What a presented token is recognised as (never the token itself). */
export interface TokenHolder {
  name: string;
}

interface TokenEntry {
  name: string;
  /** hex SHA-256 of the token's text. */
  sha256: string;
  created: string;
}

interface TokensFile {
  format: 'voltrail-passport-tokens';
  version: 1;
  tokens: TokenEntry[];
}

const PREFIX = 'vtp_';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class TokenFileError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'TokenFileError';
  }
}

function parseTokensFile(text: string, file: string): TokensFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new TokenFileError(`not JSON (${(err as Error).message}); make a new one with 'voltrail passport token add NAME --tokens ${file}'`, file);
  }
  const d = doc as Partial<TokensFile>;
  if (d === null || typeof d !== 'object' || d.format !== 'voltrail-passport-tokens' || d.version !== 1 || !Array.isArray(d.tokens)) {
    throw new TokenFileError('not a voltrail passport tokens file (format "voltrail-passport-tokens", version 1)', file);
  }
  d.tokens.forEach((t, i) => {
    if (typeof t?.name !== 'string' || !NAME.test(t.name)) throw new TokenFileError(`tokens[${i}].name: missing or not a name (letters, digits, . _ @ -)`, file);
    if (typeof t.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256)) throw new TokenFileError(`tokens[${i}].sha256: must be 64 lowercase hex digits`, file);
  });
  return d as TokensFile;
}

/** The tokens of one file. `verify` answers who holds a presented token, or undefined. */
export class AccessTokens {
  readonly #entries: { name: string; sha256: Buffer }[];

  private constructor(entries: TokenEntry[]) {
    this.#entries = entries.map((e) => ({ name: e.name, sha256: Buffer.from(e.sha256, 'hex') }));
  }

  /** No tokens: nobody sees the legitimate-interest view. */
  static none(): AccessTokens {
    return new AccessTokens([]);
  }

  static async load(file: string): Promise<AccessTokens> {
    return new AccessTokens(parseTokensFile(await readFile(file, 'utf8'), file).tokens);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Who holds `token`, or undefined. Compares with every entry, in constant time per entry. */
  verify(token: string): TokenHolder | undefined {
    const d = digest(token);
    let found: TokenHolder | undefined;
    for (const e of this.#entries) {
      if (timingSafeEqual(d, e.sha256) && !found) found = { name: e.name };
    }
    return found;
  }
}

/** The token from an `Authorization: Bearer ...` header (RFC 6750 section 2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
  return m?.[1];
}

async function readOrEmpty(file: string): Promise<TokensFile> {
  if (!existsSync(file)) return { format: 'voltrail-passport-tokens', version: 1, tokens: [] };
  return parseTokensFile(await readFile(file, 'utf8'), file);
}

async function writeAtomically(file: string, doc: TokensFile): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

/** Makes a token for `name`, stores its digest in `file` (created 0600), and returns the token: the only time it is shown. */
export async function addToken(file: string, name: string, now = new Date()): Promise<string> {
  if (!NAME.test(name)) throw new RangeError(`token name '${name}': use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`);
  const doc = await readOrEmpty(file);
  if (doc.tokens.some((t) => t.name === name)) {
    throw new TokenFileError(`a token named '${name}' exists already; revoke it first ('voltrail passport token revoke ${name}') or pick another name`, file);
  }
  const token = PREFIX + randomBytes(32).toString('base64url');
  doc.tokens.push({ name, sha256: digest(token).toString('hex'), created: now.toISOString() });
  await writeAtomically(file, doc);
  return token;
}

/** Removes the token named `name`; false when there was none. */
export async function revokeToken(file: string, name: string): Promise<boolean> {
  const doc = await readOrEmpty(file);
  const kept = doc.tokens.filter((t) => t.name !== name);
  if (kept.length === doc.tokens.length) return false;
  await writeAtomically(file, { ...doc, tokens: kept });
  return true;
}

/** Names and creation times (never digests). */
export async function listTokens(file: string): Promise<{ name: string; created: string }[]> {
  return (await readOrEmpty(file)).tokens.map((t) => ({ name: t.name, created: t.created }));
}
