// Peers a user would pick instead of voltrail's signers, kept out of voltrail's dependencies:
// bench/thirdparty/package.json lists them, and the bench installs them there on demand
// (`npm install --prefix bench/thirdparty`) the first time they are missing. A peer that is
// still missing afterwards (offline, no prebuilt addon) is skipped with a note, never a failure.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const THIRDPARTY_DIR = fileURLToPath(new URL('../thirdparty/', import.meta.url));
const MANIFEST = join(THIRDPARTY_DIR, 'package.json');

/** Peer name -> the exact version bench/thirdparty/package.json asks for. */
export function wantedPeers(): Record<string, string> {
  return (JSON.parse(readFileSync(MANIFEST, 'utf8')) as { dependencies: Record<string, string> }).dependencies;
}

function installedVersion(name: string): string | undefined {
  const file = join(THIRDPARTY_DIR, 'node_modules', name, 'package.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
}

/** Names of wanted peers that are not installed at the wanted version. */
export function missingPeers(): string[] {
  return Object.entries(wantedPeers())
    .filter(([name, version]) => installedVersion(name) !== version)
    .map(([name]) => name);
}

/**
 * Installs the missing peers when allowed; returns a note on what happened, or undefined when
 * nothing was missing.
 */
export async function ensurePeers(allowInstall: boolean): Promise<string | undefined> {
  const missing = missingPeers();
  if (missing.length === 0) return undefined;
  if (!allowInstall) return `peers not installed (${missing.join(', ')}); run 'npm install --prefix bench/thirdparty' or drop --no-install`;
  try {
    await promisify(execFile)('npm', ['install', '--prefix', THIRDPARTY_DIR, '--no-package-lock', '--no-audit', '--no-fund'], { timeout: 300_000 });
  } catch (err) {
    return `installing the peers into bench/thirdparty failed (${(err as Error).message.split('\n')[0]}); they are skipped`;
  }
  const still = missingPeers();
  return still.length === 0 ? `installed the peers into bench/thirdparty: ${missing.join(', ')}` : `peers still missing after npm install: ${still.join(', ')}`;
}

/** require() from bench/thirdparty, so peers resolve from its node_modules only. */
export const requirePeer = createRequire(MANIFEST);

/** A peer's version string for the report, e.g. `secp256k1 5.0.2`. */
export function peerLabel(name: string): string {
  return `${name} ${installedVersion(name) ?? wantedPeers()[name] ?? ''}`.trim();
}
