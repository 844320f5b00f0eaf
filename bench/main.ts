// The benchmark suite's entry: runs the suites (suites/index.ts) with a warm-up and several
// runs per figure, then writes the documented JSON, a Markdown table and an SVG chart
// (bench/README.md). `voltrail bench` and `npm run bench` call runBench; nothing here is
// loaded by the runtime itself.
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Suite, SuiteEnv } from './harness/case.ts';
import type { RateSettings } from './harness/measure.ts';
import { describeMachine } from './harness/machine.ts';
import { defaultProgress } from './harness/progress.ts';
import { REPORT_FORMAT, writeReport } from './harness/report.ts';
import type { BenchReport, WrittenFiles } from './harness/report.ts';
import { FULL, QUICK, plan, runCases, select } from './harness/runner.ts';
import type { Progress } from './harness/runner.ts';
import { SUITES } from './suites/index.ts';

export const DEFAULT_OUT_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export interface BenchOptions {
  /** Short runs (QUICK settings): under two minutes on a 2-core machine. */
  quick?: boolean;
  /** Suite names, case ids or id prefixes; their references always run too. */
  only?: string[];
  /** Where latest.json, latest.md and latest.svg go; bench/results/ by default. */
  outDir?: string;
  /** Also write the JSON here. */
  jsonFile?: string;
  /** Install missing peers into bench/thirdparty (default true). */
  allowInstall?: boolean;
  progress?: Progress;
  suites?: readonly Suite[];
  /** Overrides the QUICK/FULL settings. */
  settings?: RateSettings;
  /** Threads for the "all cores" figures; the machine's available parallelism by default. */
  cores?: number;
  buildDir?: string;
}

function env(opts: BenchOptions): SuiteEnv {
  return { cores: opts.cores ?? os.availableParallelism(), quick: opts.quick ?? false };
}

/** The benchmarks that a run with these options would measure: [id, name] in run order. */
export function listBenchmarks(opts: BenchOptions = {}): { suite: string; id: string; name: string }[] {
  return select(plan(opts.suites ?? SUITES, env(opts)), opts.only).map((p) => ({ suite: p.suite, id: p.c.id, name: p.c.name }));
}

export async function runBench(opts: BenchOptions = {}): Promise<{ report: BenchReport; files: WrittenFiles }> {
  const e = env(opts);
  const selected = select(plan(opts.suites ?? SUITES, e), opts.only);
  const machine = describeMachine();
  const settings = opts.settings ?? (e.quick ? QUICK : FULL);
  const buildDir = opts.buildDir ?? join(os.tmpdir(), `voltrail-bench-${os.userInfo().username}`);
  const { results, skipped, notes } = await runCases(selected, {
    env: e,
    settings,
    allowInstall: opts.allowInstall ?? true,
    buildDir,
    progress: opts.progress ?? defaultProgress(),
  });
  const report: BenchReport = { format: REPORT_FORMAT, machine, quick: e.quick, settings, results, skipped, notes };
  const files = await writeReport(report, opts.outDir ?? DEFAULT_OUT_DIR, opts.jsonFile);
  return { report, files };
}
