// Benchmark of issue 13: offline verification of the passport of a board that recorded for a
// year at one record every 10 s (3,153,600 records: telemetry leaves, an hourly lifecycle summary,
// a daily event, a checkpoint every 1000 records, a daily witness countersignature). The passport
// bundle carries the events, the summaries (daily for 90 days, then one per 30 days) and a thinned
// checkpoint chain with proofs, so its verification does not grow with the telemetry count.
// Reported: verifyPassport in signed items per CPU second against a reference of bare verify1
// calls on the same items (certificate, records, checkpoints: the signature checks it cannot
// avoid), and the total seconds against the goal of "seconds" (read as at most 10 s). The export
// (one pass over the ledger) is timed in a note. --quick uses 300,000 records (about 35 days).
import type { BenchCase, RunContext, Suite, SuiteEnv } from '../harness/case.ts';
import { cpuNow } from '../harness/measure.ts';
import { exportPassport } from '../../ledger/passport/export.ts';
import { decodeBundle, encodeBundle } from '../../ledger/passport/bundle.ts';
import { verifyPassport } from '../../ledger/passport/verify.ts';
import { verify1 } from '../../ledger/cose/sign1.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { TYP } from '../../ledger/typ.ts';
import { verifyCertificate } from '../../ledger/identity/device-cert.ts';
import { passportLog } from './passport-log.ts';

export const YEAR_RECORDS = 3_153_600;
export const QUICK_RECORDS = 300_000;
export const GOAL_SECONDS = 10;
const RUNS = 3;

interface Result {
  items: number;
  verifyRates: number[];
  referenceRates: number[];
  seconds: number[];
}

function result(ctx: RunContext): Promise<Result> {
  return ctx.once('passport-verify', async () => {
    const records = ctx.quick ? QUICK_RECORDS : YEAR_RECORDS;
    const log = await passportLog(records);
    const e0 = performance.now();
    const { bundle } = await exportPassport({ ledgers: [log.dir], tier: 'full' });
    const bytes = encodeBundle(bundle);
    const exportS = (performance.now() - e0) / 1000;
    ctx.note(
      `passport-verify: ${log.generated ? `generated a ${records.toLocaleString('en-US')}-record provisioned ledger (${(log.bytes / 1e6).toFixed(0)} MB) in ${log.generateSeconds!.toFixed(1)} s, cached` : `reused the cached ${records.toLocaleString('en-US')}-record ledger (${(log.bytes / 1e6).toFixed(0)} MB)`}; ` +
        `export took ${exportS.toFixed(1)} s wall; the bundle is ${(bytes.length / 1e6).toFixed(2)} MB (${bundle.logs[0]!.records.length} records, ${bundle.logs[0]!.checkpoints.length} checkpoints, ${bundle.logs[0]!.witnesses.length} witness countersignatures).`,
    );
    const trust = { publicKey: log.publicKey, curve: 'secp256k1' as const };
    const b = decodeBundle(bytes);
    const l = b.logs[0]!;
    const items = 1 + l.records.length + l.checkpoints.length + l.witnesses.length;
    const device = new KeyRing([verifyCertificate(b.certificates[0]!, { authority: trust }).device]);
    const verifyRates: number[] = [];
    const referenceRates: number[] = [];
    const seconds: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      // Reference: one verify1 per signed item (witness countersignatures counted as checkpoints).
      const c0 = cpuNow();
      verifyCertificate(b.certificates[0]!, { authority: trust });
      for (const x of l.records) verify1(x.leaf, { keys: device.lookup, typ: [TYP.event, TYP.record] });
      for (const x of l.checkpoints) verify1(x, { keys: device.lookup, typ: TYP.checkpoint });
      for (let i = 0; i < l.witnesses.length; i++) verify1(l.checkpoints[i % l.checkpoints.length]!, { keys: device.lookup, typ: TYP.checkpoint });
      referenceRates.push(items / ((cpuNow() - c0) / 1000));
      const c1 = cpuNow();
      const report = verifyPassport(bytes, { trust });
      const cpuMs = cpuNow() - c1;
      if (!report.ok) throw new Error(`passport-verify: the exported passport did not verify: ${report.failure?.code} ${report.failure?.where}: ${report.failure?.message}`);
      verifyRates.push(items / (cpuMs / 1000));
      seconds.push(cpuMs / 1000);
    }
    return { items, verifyRates, referenceRates, seconds };
  });
}

export const passportVerify: Suite = {
  name: 'passport-verify',
  description: 'offline verification of the passport of a year at one record every 10 s',
  cases(env: SuiteEnv): BenchCase[] {
    const of = env.quick ? ` (quick: ${QUICK_RECORDS.toLocaleString('en-US')} records, about 35 days)` : '';
    return [
      {
        id: 'passport-verify/verify1-reference',
        name: 'verify1 of each signed item of the bundle, nothing else (reference)',
        unit: 'items/s',
        better: 'higher',
        clock: 'cpu',
        run: async (ctx) => (await result(ctx)).referenceRates,
      },
      {
        id: 'passport-verify/items-per-s',
        name: `verifyPassport: signatures, certificates, inclusion and consistency proofs, witnesses, counters${of}`,
        unit: 'items/s',
        better: 'higher',
        clock: 'cpu',
        reference: 'passport-verify/verify1-reference',
        run: async (ctx) => (await result(ctx)).verifyRates,
      },
      {
        id: 'passport-verify/seconds',
        name: `verification time of the passport of ${env.quick ? 'about 35 days' : 'a year'} at one record every 10 s, 1 core`,
        unit: 's',
        better: 'lower',
        clock: 'cpu',
        fixedReference: { name: `goal: "seconds" (at most ${GOAL_SECONDS} s)`, value: GOAL_SECONDS },
        needs: ['passport-verify/items-per-s'],
        run: async (ctx) => (await result(ctx)).seconds,
      },
    ];
  },
};
