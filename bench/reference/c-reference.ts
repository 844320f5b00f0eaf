// Builds and runs the C reference (secp256k1-bench.c): libsecp256k1 signing and verifying with
// nothing in between, the limit every signer is compared with. Built with the system compiler
// into the bench's build directory when a compiler and the library are there; otherwise the
// cases that need it are skipped with a note saying what to install.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SkipCase } from '../harness/case.ts';
import type { ClockKind, RateSettings } from '../harness/measure.ts';
import type { RateSession } from '../harness/case.ts';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('./secp256k1-bench.c', import.meta.url));

export type COperation = 'sign' | 'verify' | 'verify-parsed';

/** The reference binary, built in `buildDir` under a name that carries its source's hash. */
export async function buildCReference(buildDir: string): Promise<string> {
  await mkdir(buildDir, { recursive: true });
  const source = await readFile(SOURCE);
  const binary = join(buildDir, `secp256k1-bench-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  const partial = `${binary}.${process.pid}.tmp`;
  const cc = process.env.CC || 'cc';
  try {
    await run(cc, ['-O2', '-o', partial, SOURCE, '-lsecp256k1', '-lpthread'], { timeout: 60_000 });
    await rename(partial, binary);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new SkipCase(`no C compiler (${cc}) to build the libsecp256k1 reference; install gcc`);
    if (/secp256k1\.h|lsecp256k1/.test(e.stderr ?? '')) throw new SkipCase('libsecp256k1 not found to build the C reference; install libsecp256k1-dev');
    throw new SkipCase(`the C reference does not build: ${(e.stderr ?? e.message).split('\n')[0]}`);
  }
  return binary;
}

/** Version of the library the reference links, from pkg-config, when it can tell. */
export async function libraryVersion(): Promise<string | undefined> {
  try {
    return (await run('pkg-config', ['--modversion', 'libsecp256k1'], { timeout: 10_000 })).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The reference kept running (`--serve`), one timed run per call, so that the runner can
 * interleave its runs with those of the signer it is compared with. Warmed up on open.
 */
export async function openCSession(binary: string, threads: number, op: COperation, settings: RateSettings): Promise<RateSession> {
  const child = spawn(binary, ['--serve', '--threads', String(threads)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`C reference exited (code ${code}) ${stderr.trim()}`))));
  exited.catch(() => {});
  const command = async (ms: number, clock: ClockKind): Promise<number> => {
    child.stdin.write(`run ${op} ${ms} ${clock}\n`);
    const next = await Promise.race([lines.next(), exited]);
    if (next.done) throw new Error(`C reference closed its output ${stderr.trim()}`);
    const reply = JSON.parse(next.value) as { rate?: number; error?: string };
    if (typeof reply.rate !== 'number') throw new Error(`C reference: ${reply.error ?? next.value}`);
    return reply.rate;
  };
  try {
    if (settings.warmupMs > 0) await command(settings.warmupMs, 'wall');
  } catch (err) {
    child.kill();
    throw err;
  }
  return {
    run: (clock, ms = settings.runMs) => command(ms, clock),
    close: async () => {
      child.stdin.end('quit\n');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    },
  };
}
