#!/usr/bin/env node
// Builds voltrail's optional native addons with node-gyp: the signer (ledger/signers/native/, a
// thin N-API addon over the system libsecp256k1), only where a C compiler and the library are
// present, and the Merkle hasher (ledger/log/native/), wherever a C compiler is.
// Never fails an install: when something is missing it prints one line saying what, and that
// voltrail runs on the pure-JavaScript signer (and node:crypto hashes). `--strict` (npm run build:native) exits 1 on a
// failed build instead, with node-gyp's full output, so a developer sees why.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = join(root, 'ledger', 'signers', 'native');
const merkleDir = join(root, 'ledger', 'log', 'native');
const strict = process.argv.includes('--strict');

function note(message) {
  process.stdout.write(`voltrail native: ${message}\n`);
}

// Whether a C compiler runs at all: without one, neither addon is tried.
function probeCompiler() {
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-x', 'c', '-', '-o', '/dev/null'], { input: 'int main(void){return 0;}\n', encoding: 'utf8' });
  if (r.error || r.status !== 0) return `no C compiler (${cc}) found`;
  return undefined;
}

// A compiler that can include secp256k1.h and link -lsecp256k1: the one probe that answers
// "compiler present", "header present" and "library present" together.
function probeLibrary() {
  const cc = process.env.CC || 'cc';
  const program = '#include <secp256k1.h>\nint main(void){secp256k1_context*c=secp256k1_context_create(SECP256K1_CONTEXT_NONE);secp256k1_context_destroy(c);return 0;}\n';
  const r = spawnSync(cc, ['-x', 'c', '-', '-o', '/dev/null', '-lsecp256k1'], { input: program, encoding: 'utf8' });
  if (r.error) return `no C compiler (${cc}) found`;
  if (r.status !== 0) return /secp256k1\.h/.test(r.stderr) ? 'secp256k1.h not found (install libsecp256k1-dev)' : 'cannot link -lsecp256k1 (install libsecp256k1-dev)';
  return undefined;
}

// node-gyp: the project's own, or the one npm bundles. Resolved, never installed.
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency of the project: try npm's own
  }
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

// Node's own headers when they sit beside the binary (distribution packages, official
// tarballs): then node-gyp needs no download.
function findNodeDir() {
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

const nodeGyp = findNodeGyp();
const nodeDir = findNodeDir();

/** Builds one addon; returns [message, failed]. */
function build(dir, file, what, fallback) {
  const args = [nodeGyp, 'rebuild', `--directory=${dir}`];
  if (nodeDir) args.push(`--nodedir=${nodeDir}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', stdio: strict ? 'inherit' : 'pipe' });
  const built = join(dir, 'build', 'Release', file);
  if (r.status === 0 && existsSync(built)) return [`${what}: built ${built.slice(root.length + 1)} in ${((Date.now() - started) / 1000).toFixed(1)} s.`, false];
  const lastError = `${r.stderr ?? ''}`.split('\n').filter((l) => /error/i.test(l)).slice(-1)[0]?.trim();
  return [`${what}: build failed (${lastError ?? `node-gyp exit ${r.status}`}); ${fallback}. Run 'npm run build:native' to see the full log.`, true];
}

// The Merkle hasher needs only a C compiler; the signer also needs libsecp256k1.
let failed = false;
const noCompiler = probeCompiler();
if (noCompiler) {
  note(`not built: ${noCompiler}; using the pure-JavaScript signer and node:crypto for Merkle hashes.`);
} else if (!nodeGyp) {
  note('not built: node-gyp not found; using node:crypto for Merkle hashes and the pure-JavaScript signer.');
} else {
  const [m, mf] = build(merkleDir, 'voltrail_merkle.node', 'native Merkle hasher', 'hashing leaves with node:crypto');
  note(m);
  failed ||= mf;
  const missing = probeLibrary();
  if (missing) {
    note(`not built: ${missing}; using the pure-JavaScript signer.`);
  } else {
    const [sm, sf] = build(addonDir, 'voltrail_secp256k1.node', 'native signer', 'using the pure-JavaScript signer');
    note(sm);
    failed ||= sf;
  }
}
process.exit(failed && strict ? 1 : 0);
