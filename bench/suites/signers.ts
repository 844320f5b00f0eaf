// Benchmark (1) of issue 17: ECDSA sign and verify per second for every signer backend and
// the peers a user would pick instead, on one core and on all cores, each a ratio to the
// limit: libsecp256k1 called from C (reference/secp256k1-bench.c), measured in the same run.
// Goals (bench/README.md): >= 0.9x the C library per core; near-linear scaling to all cores.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SkipCase } from '../harness/case.ts';
import type { BenchCase, RunContext, Suite, SuiteEnv } from '../harness/case.ts';
import type { ClockKind } from '../harness/measure.ts';
import { ensurePeers, missingPeers, peerLabel } from '../harness/thirdparty.ts';
import { buildCReference, libraryVersion, openCSession } from '../reference/c-reference.ts';
import type { COperation } from '../reference/c-reference.ts';
import { nativeBackendStatus } from '../../ledger/signers/native.ts';
import { BATCH } from './signer-subjects.ts';
import type { SignerParams, SignerSubject } from './signer-subjects.ts';

const SUBJECTS = new URL('./signer-subjects.ts', import.meta.url).href;

function nobleVersion(): string {
  // The package exports no ./package.json: read it beside one of its entry points.
  const entry = createRequire(import.meta.url).resolve('@noble/curves/secp256k1.js');
  return (JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8')) as { version: string }).version;
}

type Op = 'sign' | 'verify';

interface Subject {
  id: SignerSubject;
  label: string;
  peer?: string;
  allCores: boolean;
  /** Also measured on all cores in a --quick run. */
  quick?: boolean;
  check?: (ctx: RunContext) => void;
}

function subjects(): Subject[] {
  const noble = `@noble/curves ${nobleVersion()}`;
  const native = (ctx: RunContext): void => {
    const s = nativeBackendStatus();
    if (!s.available) throw new SkipCase(`voltrail's native signer is ${s.reason}`);
    void ctx;
  };
  const node = (ctx: RunContext): void =>
    ctx.note('node:crypto signs with random nonces, does not normalise S, and hashes its input with SHA-256 (it has no sign-a-digest call); P-256 is the ES256 curve, a different curve, shown for the V2X path.');
  return [
    { id: 'native', label: 'voltrail native (libsecp256k1 addon)', allCores: true, quick: true, check: native },
    { id: 'native-batch', label: `voltrail native, batches of ${BATCH}`, allCores: true, check: native },
    { id: 'noble', label: `${noble} defaults`, allCores: true, quick: true },
    { id: 'noble-precomputed', label: `${noble}, precompute(10)`, allCores: false },
    { id: 'node-secp256k1', label: 'node:crypto secp256k1 (OpenSSL)', allCores: true, check: node },
    { id: 'node-p256', label: 'node:crypto P-256 ES256 (OpenSSL)', allCores: false, check: node },
    { id: 'secp256k1-npm', label: `${peerLabel('secp256k1')} npm addon (peer)`, peer: 'secp256k1', allCores: true },
    { id: 'tiny-secp256k1', label: `${peerLabel('tiny-secp256k1')} WASM (peer)`, peer: 'tiny-secp256k1', allCores: false },
  ];
}

// One core: per CPU second of the measuring process, which holds on a machine that other work
// shares; all cores: per wall-clock second, since the point is what parallel threads achieve.
function clockFor(threads: number): ClockKind {
  return threads === 1 ? 'cpu' : 'wall';
}

function cores(n: number): string {
  return n === 1 ? '1 core' : `${n} cores`;
}

async function cBinary(ctx: RunContext): Promise<string> {
  const binary = await ctx.once('c-reference-build', () => buildCReference(ctx.buildDir));
  const version = await ctx.once('c-reference-version', libraryVersion);
  ctx.note(`C reference: libsecp256k1 ${version ?? '(version unknown)'}, the system library, one context randomized once; its verify includes parsing the 33-byte key, as every binding's must.`);
  return binary;
}

// Scaling needs idle cores. On a machine that other work keeps busy (load above the core count),
// and with the kernel's autogroup scheduling (CPU shared per session, not per thread), more
// threads cannot get more CPU: say so beside the figures instead of letting them mislead.
async function noteContention(ctx: RunContext): Promise<void> {
  await ctx.once('contention-note', async () => {
    const load = os.loadavg()[0]!;
    if (load <= ctx.cores) return;
    let autogroup = false;
    try {
      autogroup = (await readFile('/proc/sys/kernel/sched_autogroup_enabled', 'utf8')).trim() === '1';
    } catch {
      // not Linux, or not readable: say nothing about it
    }
    ctx.note(
      `Scaling figures were measured at a load average of ${load.toFixed(1)} on ${ctx.cores} cores${autogroup ? ', with autogroup scheduling (CPU shared per session, not per thread)' : ''}: extra threads could not get more CPU, so these speed-ups say little about an idle machine.`,
    );
  });
}

/**
 * Each run of a signer and of its reference is made of slices of about this many ms,
 * alternated (BenchCase.sliceMs). This machine's speed changes from one second to the next
 * (the C reference against itself, runs of 400 ms alternated: ratios 0.84x to 1.20x between
 * sittings; in 20 ms slices: 0.97x to 1.05x), and the goals are within a tenth of the
 * reference.
 */
const SLICE_MS = 20;

function cCase(cop: COperation, threads: number, id: string, name: string, reference?: string): BenchCase {
  return {
    id,
    name,
    unit: 'ops/s',
    better: 'higher',
    reference,
    clock: clockFor(threads),
    sliceMs: SLICE_MS,
    open: async (ctx) => {
      if (threads > 1) await noteContention(ctx);
      return openCSession(await cBinary(ctx), threads, cop, ctx.settings);
    },
  };
}

function subjectCase(s: Subject, op: Op, threads: number, id: string, reference: string, what = `${op}, ${cores(threads)}`): BenchCase {
  return {
    id,
    name: `${what}: ${s.label}`,
    unit: 'ops/s',
    better: 'higher',
    reference,
    clock: clockFor(threads),
    sliceMs: SLICE_MS,
    open: async (ctx) => {
      s.check?.(ctx);
      if (threads > 1) await noteContention(ctx);
      if (s.peer) {
        const note = await ctx.once('peers', () => ensurePeers(ctx.allowInstall));
        if (note) ctx.note(note);
        if (missingPeers().includes(s.peer)) throw new SkipCase(`peer ${s.peer} not installed in bench/thirdparty`);
      }
      const params: SignerParams = { subject: s.id, op };
      // precompute(10) changes noble's base point for the whole thread: fresh threads for it.
      return ctx.openRate({ module: SUBJECTS, params, threads, isolate: s.id === 'noble-precomputed' });
    },
  };
}

export const signers: Suite = {
  name: 'signers',
  description: 'ECDSA sign and verify per second, per signer backend and peer, one core and all cores, against libsecp256k1 in C',
  cases(env: SuiteEnv): BenchCase[] {
    const list: BenchCase[] = [];
    const all = subjects();
    for (const op of ['sign', 'verify'] as const) {
      const ref = `signers/${op}/c`;
      list.push(cCase(op, 1, ref, `${op}, 1 core: libsecp256k1 C (reference)`));
      if (op === 'verify') list.push(cCase('verify-parsed', 1, 'signers/verify/c-parsed-key', 'verify, 1 core: libsecp256k1 C, key parsed once', ref));
      for (const s of all) list.push(subjectCase(s, op, 1, `signers/${op}/${s.id}`, ref));
    }
    // Scaling: the all-cores rate, interleaved run by run with a fresh one-core session of
    // the same signer (its reference), so the ratio is the speed-up; linear is the core count.
    if (env.cores > 1) {
      for (const op of ['sign', 'verify'] as const) {
        list.push(cCase(op, env.cores, `signers/${op}-scaling/c`, `${op}, ${cores(env.cores)} vs 1: libsecp256k1 C`, `signers/${op}/c`));
        for (const s of all.filter((x) => x.allCores && (!env.quick || x.quick))) {
          list.push(subjectCase(s, op, env.cores, `signers/${op}-scaling/${s.id}`, `signers/${op}/${s.id}`, `${op}, ${cores(env.cores)} vs 1`));
        }
      }
    }
    return list;
  },
};
