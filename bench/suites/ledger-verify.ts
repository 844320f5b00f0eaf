// Benchmark of issues 6 and 17: verification of a checkpoint-mode ledger of 3,000,000 telemetry
// records (one every 10 s is a little under a year) on one core: framing and checksums, every
// record decoded and its sequence checked, every checkpoint's signature and Merkle root
// recomputed (verifyLedger). Reported as records per CPU second and as the total seconds, the
// latter against the goal of "seconds" (read as at most 10 s, the year-long passport's budget).
// Reference: the raw hashing the check cannot avoid, SHA-256 leaf and node hashes (RFC 9162) of
// the same stored leaves, written here with node:crypto alone so that it does not move when the
// ledger's own hashing changes. --quick verifies 300,000 records and extrapolates, labelled so.
import { readdir, readFile } from 'node:fs/promises';
import { hash } from 'node:crypto';
import { join } from 'node:path';
import type { BenchCase, RunContext, Suite, SuiteEnv } from '../harness/case.ts';
import { cpuNow } from '../harness/measure.ts';
import { verifyLedger } from '../../ledger/log/verify.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import { nativeMerkleStatus } from '../../ledger/log/native-merkle.ts';
import { checkpointLog, type CheckpointLog } from './checkpoint-log.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { systemClock } from '../../hal/clock.ts';

export const FULL_RECORDS = 3_000_000;
export const QUICK_RECORDS = 300_000;
export const GOAL_SECONDS = 10;

interface VerifyResult {
  log: CheckpointLog;
  /** Records per CPU second, one per run. */
  verifyRates: number[];
  /** Records per CPU second of Ledger.open (read-only): the replay a board does at every start. */
  openRates: number[];
  hashRates: number[];
  wallSeconds: number[];
}

const sha256 = (b: Uint8Array): Buffer => hash('sha256', b, 'buffer') as unknown as Buffer;

/** The RFC 9162 root over the stored leaves of `dir`, timed on the CPU clock around the hashing only. */
async function hashReference(dir: string): Promise<{ leaves: number; cpuMs: number }> {
  // One-shot hashes over reused buffers: the prefix byte is written once, each leaf copied
  // after it (a copy of a few hundred bytes costs far less than a hash object per leaf).
  let leafBuf = Buffer.alloc(4096);
  const nodeBuf = Buffer.alloc(65);
  nodeBuf[0] = 0x01;
  const stack: Buffer[] = [];
  const sizes: number[] = [];
  let leaves = 0;
  let cpuMs = 0;
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.vtl')).sort()) {
    const buf = await readFile(join(dir, name));
    const c0 = cpuNow();
    let pos = 16;
    while (pos + 9 <= buf.length) {
      const len = buf.readUInt32BE(pos);
      const kind = buf[pos + 8]!;
      const start = pos + 9;
      pos = start + len;
      if (kind !== 1 && kind !== 2) continue;
      leafBuf[0] = 0x00;
      if (len + 1 > leafBuf.length) leafBuf = Buffer.alloc(2 * (len + 1));
      buf.copy(leafBuf, 1, start, pos);
      let h = sha256(leafBuf.subarray(0, len + 1));
      let size = 1;
      // Merge equal-sized perfect subtrees: the frontier of a growing tree.
      while (sizes.length > 0 && sizes[sizes.length - 1] === size) {
        stack.pop()!.copy(nodeBuf, 1);
        h.copy(nodeBuf, 33);
        h = sha256(nodeBuf);
        sizes.pop();
        size *= 2;
      }
      stack.push(h);
      sizes.push(size);
      leaves++;
    }
    cpuMs += cpuNow() - c0;
  }
  return { leaves, cpuMs };
}

/** One run: a full verification of 3,000,000 records is a minute of CPU or more. */
const RUNS = 1;

function result(ctx: RunContext): Promise<VerifyResult> {
  return ctx.once('ledger-verify', async () => {
    const records = ctx.quick ? QUICK_RECORDS : FULL_RECORDS;
    const log = await checkpointLog(records);
    ctx.note(
      log.generated
        ? `ledger-verify: generated a checkpoint-mode ledger of ${records.toLocaleString('en-US')} records (${(log.bytes / 1e6).toFixed(0)} MB) in ${log.generateSeconds!.toFixed(1)} s wall, cached in ${log.dir} for later runs.`
        : `ledger-verify: reused the cached checkpoint-mode ledger of ${records.toLocaleString('en-US')} records (${(log.bytes / 1e6).toFixed(0)} MB) in ${log.dir}.`,
    );
    const ring = new KeyRing([{ publicKey: log.publicKey, curve: 'secp256k1' }]);
    // Checkpoint signatures checked by the fastest backend here, as `voltrail ledger verify` does.
    const { backend } = await pickBackend('secp256k1');
    const merkle = nativeMerkleStatus();
    ctx.note(
      `ledger-verify: checkpoint signatures verified with the ${backend.name} backend; Merkle leaves hashed ${merkle.available ? `by the native hasher (SHA-256: ${merkle.sha256}), runs of unsigned leaves checked by its run scanner (CRC-32: ${merkle.crc32})` : `with node:crypto, every entry checked in JavaScript (native hasher: ${merkle.reason})`}.`,
    );
    const verifyRates: number[] = [];
    const openRates: number[] = [];
    const hashRates: number[] = [];
    const wallSeconds: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const h = await hashReference(log.dir);
      if (h.leaves !== records) throw new Error(`ledger-verify: the reference hashed ${h.leaves} leaves, not ${records}`);
      hashRates.push(records / (h.cpuMs / 1000));
      const w0 = performance.now();
      const c0 = cpuNow();
      const report = await verifyLedger(log.dir, { keys: ring.lookup, backends: { secp256k1: backend } });
      const cpuMs = cpuNow() - c0;
      wallSeconds.push((performance.now() - w0) / 1000);
      if (!report.ok || report.records !== records || report.uncovered !== 0) {
        throw new Error(`ledger-verify: the generated ledger did not verify (${report.failure?.reason ?? `${report.records} records, ${report.uncovered} uncovered`})`);
      }
      verifyRates.push(records / (cpuMs / 1000));
      // The same files opened as the runtime opens its ledger at start (read-only here, so
      // the cached log stays as it is): the replay rebuilds the Merkle frontier.
      const o0 = cpuNow();
      const ledger = await Ledger.open({ dir: log.dir, signer: PrivateKey.generate('secp256k1'), clock: systemClock, readOnly: true });
      const openMs = cpuNow() - o0;
      const root = Buffer.from(await ledger.root()).toString('hex');
      await ledger.close();
      if (ledger.size !== records || root !== report.root) throw new Error(`ledger-verify: Ledger.open found ${ledger.size} records and root ${root}, the verifier ${records} and ${report.root}`);
      openRates.push(records / (openMs / 1000));
    }
    return { log, verifyRates, openRates, hashRates, wallSeconds };
  });
}

export const ledgerVerify: Suite = {
  name: 'ledger-verify',
  description: 'verification of a 3,000,000-record checkpoint-mode ledger on one core',
  cases(env: SuiteEnv): BenchCase[] {
    const of = env.quick ? ` (${QUICK_RECORDS.toLocaleString('en-US')} records, extrapolated to ${FULL_RECORDS.toLocaleString('en-US')})` : '';
    return [
      {
        id: 'ledger-verify/hash-reference',
        name: `raw SHA-256 leaf and node hashing of the same leaves (reference)`,
        unit: 'records/s',
        better: 'higher',
        clock: 'cpu',
        run: async (ctx) => (await result(ctx)).hashRates,
      },
      {
        id: 'ledger-verify/records-per-s',
        name: `verifyLedger of a checkpoint-mode ledger, 1 core${env.quick ? ` (${QUICK_RECORDS.toLocaleString('en-US')} records)` : ''}`,
        unit: 'records/s',
        better: 'higher',
        clock: 'cpu',
        reference: 'ledger-verify/hash-reference',
        run: async (ctx) => (await result(ctx)).verifyRates,
      },
      {
        id: 'ledger-verify/open-records-per-s',
        name: `Ledger.open of the same ledger (replay: frames checked, Merkle frontier rebuilt), 1 core${env.quick ? ` (${QUICK_RECORDS.toLocaleString('en-US')} records)` : ''}`,
        unit: 'records/s',
        better: 'higher',
        clock: 'cpu',
        reference: 'ledger-verify/hash-reference',
        needs: ['ledger-verify/records-per-s'],
        run: async (ctx) => (await result(ctx)).openRates,
      },
      {
        id: 'ledger-verify/open-seconds',
        name: `Ledger.open time of ${FULL_RECORDS.toLocaleString('en-US')} records, 1 core${of}`,
        unit: 's',
        better: 'lower',
        clock: 'cpu',
        fixedReference: { name: `the verification goal's ${GOAL_SECONDS} s`, value: GOAL_SECONDS },
        needs: ['ledger-verify/open-records-per-s'],
        run: async (ctx) => (await result(ctx)).openRates.map((rate) => FULL_RECORDS / rate),
      },
      {
        id: 'ledger-verify/seconds',
        name: `verification time of ${FULL_RECORDS.toLocaleString('en-US')} records, 1 core${of}`,
        unit: 's',
        better: 'lower',
        clock: 'cpu',
        fixedReference: { name: `goal: "seconds" (at most ${GOAL_SECONDS} s)`, value: GOAL_SECONDS },
        needs: ['ledger-verify/records-per-s'],
        // Seconds of CPU for the full count at each run's rate: the measured time when the run
        // verified 3,000,000 records, an extrapolation from the quick run's 300,000 otherwise.
        run: async (ctx) => (await result(ctx)).verifyRates.map((rate) => FULL_RECORDS / rate),
      },
    ];
  },
};
