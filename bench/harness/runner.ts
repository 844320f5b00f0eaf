// Runs the selected cases of the suites in order and turns their samples into results: median,
// min, max, and the ratio to the reference measured in the same run (bench/README.md). Cases
// that cannot run here are skipped with their reason; a case that fails is skipped too, with the
// error, so one broken peer never costs the rest of a fifteen-minute run.
import { WorkerPool, measureInWorkers, openWorkerSession } from './rate-workers.ts';
import { ratio, summarize } from './stats.ts';
import { SkipCase } from './case.ts';
import type { BenchCase, Better, RateSession, RunContext, Suite, SuiteEnv } from './case.ts';
import type { ClockKind, RateSettings } from './measure.ts';

export interface BenchResult {
  id: string;
  suite: string;
  name: string;
  unit: string;
  better: Better;
  median: number;
  min: number;
  max: number;
  /** Name of the reference this figure is divided by; null when there is none. */
  reference: string | null;
  referenceMedian: number | null;
  /** median / referenceMedian; null when the reference was skipped. */
  ratio: number | null;
  runs: number;
  /** What the rates are per: wall-clock seconds, or CPU seconds of the measuring process. */
  clock: ClockKind;
}

export interface Skipped {
  id: string;
  name: string;
  reason: string;
}

export interface Progress {
  start(total: number): void;
  begin(index: number, c: BenchCase): void;
  end(index: number, c: BenchCase, outcome: BenchResult | Skipped): void;
  finish(): void;
}

// Many short runs rather than a few long ones: each run of a figure then sits closer in time to
// the reference run it is paired with, and the median has more runs to discard noise with.
export const QUICK: RateSettings = { warmupMs: 100, runs: 5, runMs: 70 };
export const FULL: RateSettings = { warmupMs: 500, runs: 9, runMs: 400 };

interface Planned {
  suite: string;
  c: BenchCase;
}

/** Every case of every suite, in run order. */
export function plan(suites: readonly Suite[], env: SuiteEnv): Planned[] {
  const all: Planned[] = [];
  const seen = new Set<string>();
  for (const s of suites) {
    for (const c of s.cases(env)) {
      if (seen.has(c.id)) throw new Error(`bench: duplicate case id ${c.id} (suite ${s.name})`);
      seen.add(c.id);
      all.push({ suite: s.name, c });
    }
  }
  return all;
}

/**
 * The cases that `only` names (a suite name, a case id, or an id prefix ending at a '/'),
 * plus the references and inputs they need, in run order. Unknown names throw a RangeError
 * that lists what exists.
 */
export function select(all: readonly Planned[], only: readonly string[] | undefined): Planned[] {
  if (!only || only.length === 0) return [...all];
  const byId = new Map(all.map((p) => [p.c.id, p]));
  const wanted = new Set<string>();
  for (const token of only) {
    const hits = all.filter((p) => p.suite === token || p.c.id === token || p.c.id.startsWith(`${token}/`));
    if (hits.length === 0) {
      throw new RangeError(`--only: no benchmark named '${token}'; known: ${[...new Set(all.map((p) => p.suite))].join(', ')} and the ids listed by 'voltrail bench --list'`);
    }
    for (const h of hits) wanted.add(h.c.id);
  }
  const stack = [...wanted];
  while (stack.length > 0) {
    const p = byId.get(stack.pop()!)!;
    for (const dep of [...(p.c.reference ? [p.c.reference] : []), ...(p.c.needs ?? [])]) {
      if (!byId.has(dep)) throw new Error(`bench: case ${p.c.id} needs unknown case ${dep}`);
      if (!wanted.has(dep)) {
        wanted.add(dep);
        stack.push(dep);
      }
    }
  }
  return all.filter((p) => wanted.has(p.c.id));
}

export interface RunOptions {
  env: SuiteEnv;
  settings: RateSettings;
  allowInstall: boolean;
  buildDir: string;
  progress: Progress;
}

export async function runCases(planned: readonly Planned[], opts: RunOptions): Promise<{ results: BenchResult[]; skipped: Skipped[]; notes: string[] }> {
  const samples = new Map<string, number[]>();
  const results: BenchResult[] = [];
  const skipped: Skipped[] = [];
  const notes: string[] = [];
  const memo = new Map<string, Promise<unknown>>();
  const pool = new WorkerPool();
  const ctx: RunContext = {
    ...opts.env,
    settings: opts.settings,
    allowInstall: opts.allowInstall,
    buildDir: opts.buildDir,
    rate: (job) => measureInWorkers(job, opts.settings, 'wall', pool),
    openRate: (job) => openWorkerSession(job, opts.settings, pool),
    samplesOf: (id) => samples.get(id),
    once: <T>(key: string, make: () => Promise<T>): Promise<T> => {
      if (!memo.has(key)) memo.set(key, make());
      return memo.get(key) as Promise<T>;
    },
    note: (message) => {
      if (!notes.includes(message)) notes.push(message);
    },
  };
  const byId = new Map(planned.map((p) => [p.c.id, p.c]));
  opts.progress.start(planned.length);
  for (const [index, { suite, c }] of planned.entries()) {
    opts.progress.begin(index, c);
    let outcome: BenchResult | Skipped;
    try {
      const ref = c.reference ? byId.get(c.reference) : undefined;
      const measured = await measure(c, ref && samples.has(ref.id) ? ref : undefined, ctx, opts.settings.runs);
      const runs = measured.runs;
      if (runs.length === 0) throw new SkipCase('no samples');
      samples.set(c.id, runs);
      const s = summarize(runs);
      let reference: string;
      let referenceMedian: number | null;
      if (c.fixedReference) {
        reference = c.fixedReference.name;
        referenceMedian = c.fixedReference.value;
      } else if (c.reference) {
        reference = ref?.name ?? c.reference;
        const refRuns = measured.pairedReference ?? samples.get(c.reference);
        referenceMedian = refRuns ? summarize(refRuns).median : null;
      } else {
        reference = c.name;
        referenceMedian = s.median;
      }
      outcome = { id: c.id, suite, name: c.name, unit: c.unit, better: c.better, ...s, reference, referenceMedian, ratio: ratio(s.median, referenceMedian ?? undefined), runs: runs.length, clock: c.clock ?? 'wall' };
      results.push(outcome);
    } catch (err) {
      const reason = err instanceof SkipCase ? err.message : `failed: ${err instanceof Error ? err.message : String(err)}`;
      outcome = { id: c.id, name: c.name, reason };
      skipped.push(outcome);
    }
    opts.progress.end(index, c, outcome);
  }
  opts.progress.finish();
  await pool.close();
  return { results, skipped, notes };
}

/**
 * The runs of one case: from `run`, or from a session; a session whose reference also opens
 * sessions is interleaved with a fresh session of the reference, in ABBA order so that a
 * steady drift of the machine's load falls on both alike; in slices of each run (`sliceMs`)
 * where the case asks for them.
 */
async function measure(c: BenchCase, ref: BenchCase | undefined, ctx: RunContext, count: number): Promise<{ runs: number[]; pairedReference?: number[] }> {
  if (c.run) return { runs: await c.run(ctx) };
  if (!c.open) throw new Error(`bench: case ${c.id} has neither run nor open`);
  const opened: RateSession[] = [];
  const clock = c.clock ?? 'wall';
  try {
    // Both sessions open (load their module, warm up) at the same time: the warm-up only sizes
    // the chunk of calls between two clock reads, and the main thread would otherwise wait
    // through two in a row. A session that opened is closed even when the other failed.
    const [s, r] = await Promise.allSettled([c.open(ctx), ref?.open ? ref.open(ctx) : Promise.resolve(undefined)]);
    for (const x of [s, r]) if (x.status === 'fulfilled' && x.value) opened.push(x.value);
    if (s.status === 'rejected') throw s.reason;
    if (r.status === 'rejected') throw r.reason;
    const subject = s.value;
    const reference = r.value;
    const runs: number[] = [];
    const paired: number[] = [];
    const slices = reference && c.sliceMs ? Math.max(1, Math.round(ctx.settings.runMs / c.sliceMs)) : 1;
    const sliceMs = ctx.settings.runMs / slices;
    for (let r = 0; r < count; r++) {
      if (!reference) {
        runs.push(await subject.run(clock));
      } else if (slices > 1) {
        // Slices alternated, ABBA across the run, so that both sides see the same phases of the machine.
        let s = 0;
        let p = 0;
        for (let k = 0; k < slices; k++) {
          if ((r + k) % 2 === 0) {
            p += await reference.run(clock, sliceMs);
            s += await subject.run(clock, sliceMs);
          } else {
            s += await subject.run(clock, sliceMs);
            p += await reference.run(clock, sliceMs);
          }
        }
        runs.push(s / slices);
        paired.push(p / slices);
      } else if (r % 2 === 0) {
        paired.push(await reference.run(clock));
        runs.push(await subject.run(clock));
      } else {
        runs.push(await subject.run(clock));
        paired.push(await reference.run(clock));
      }
    }
    return reference ? { runs, pairedReference: paired } : { runs };
  } finally {
    await Promise.all(opened.map((s) => s.close()));
  }
}
