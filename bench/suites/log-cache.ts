// The cache of generated benchmark ledgers (checkpoint-log.ts, passport-log.ts) in the system's
// temporary folder, `voltrail-bench-USER/NAME-vVERSION-RECORDS/`: a ledger folder and a
// manifest written last, so that a generation cut short is redone next time and a re-run skips
// it. The manifest keeps the public key a verifier needs, never a secret.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

export interface CachedLog {
  /** The ledger folder. */
  dir: string;
  records: number;
  /** SEC1 compressed public key (secp256k1) a verifier trusts: the log's signer or its fleet authority. */
  publicKey: Uint8Array;
  /** Total bytes of the segment files. */
  bytes: number;
  /** Whether this run generated it (false: reused from the cache). */
  generated: boolean;
  /** Wall seconds the generation took, when generated. */
  generateSeconds?: number;
}

interface Manifest {
  version: number;
  records: number;
  publicKey: string;
  bytes: number;
}

export function cachedLogDir(name: string, version: number, records: number): string {
  return join(os.tmpdir(), `voltrail-bench-${os.userInfo().username}`, `${name}-v${version}-${records}`);
}

/** The cached ledger `name` of `records` records, made by `generate(ledgerDir)` first when missing or incomplete. */
export async function cachedLog(
  name: string,
  version: number,
  records: number,
  generate: (dir: string) => Promise<{ publicKey: Uint8Array; bytes: number }>,
): Promise<CachedLog> {
  const dir = cachedLogDir(name, version, records);
  const manifestFile = join(dir, 'manifest.json');
  if (existsSync(manifestFile)) {
    const m = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    if (m.version === version && m.records === records) {
      return { dir: join(dir, 'ledger'), records, publicKey: Uint8Array.from(Buffer.from(m.publicKey, 'hex')), bytes: m.bytes, generated: false };
    }
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const { publicKey, bytes } = await generate(join(dir, 'ledger'));
  const manifest: Manifest = { version, records, publicKey: Buffer.from(publicKey).toString('hex'), bytes };
  await writeFile(manifestFile, JSON.stringify(manifest));
  return { dir: join(dir, 'ledger'), records, publicKey, bytes, generated: true, generateSeconds: (performance.now() - t0) / 1000 };
}
