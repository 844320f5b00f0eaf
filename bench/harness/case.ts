// What a benchmark is, for the runner (runner.ts) and the suites (bench/suites/): a suite is a
// named list of cases; a case measures one figure several times and names the case that is its
// reference in the same run. A suite is one file in bench/suites/, listed in suites/index.ts.
import type { ClockKind, RateSettings } from './measure.ts';
import type { RateJob } from './rate-workers.ts';

export type Better = 'higher' | 'lower';

export interface BenchCase {
  /** Stable id, `suite/...`, used by --only and in the JSON. */
  id: string;
  /** Human name for tables and charts. */
  name: string;
  unit: string;
  better: Better;
  /** Id of the reference case, measured in the same run; absent for a reference itself. */
  reference?: string;
  /** A fixed reference instead of a measured one (e.g. linear scaling = the core count). */
  fixedReference?: { name: string; value: number };
  /**
   * What a rate is per (default wall): `cpu` counts the CPU time of the measuring process, so
   * that per-core figures hold on a machine shared with other work; `wall` for anything that
   * depends on parallelism (scaling). A paired reference is run on the same clock.
   */
  clock?: ClockKind;
  /** Cases whose samples this one reads (ctx.samplesOf); run first even when not selected. */
  needs?: string[];
  /** Returns one figure per run, or throws SkipCase. Either this or `open`. */
  run?(ctx: RunContext): Promise<number[]>;
  /**
   * Opens a session of one-figure runs, warmed up; throws SkipCase when it cannot run here.
   * When this case and its reference both have `open`, the runner interleaves their runs
   * (reference, subject, subject, reference, ...) so that both see the same machine load.
   */
  open?(ctx: RunContext): Promise<RateSession>;
  /**
   * With a reference that is interleaved too: each run of both is made of slices of about
   * this many ms, alternated (reference, subject, subject, reference, ...), and the run's
   * figure is the mean of its slices. Where the machine's speed changes from one second to
   * the next, runs of several hundred ms each fall into different phases; slices this short
   * give both sides the same mix of them. Default: whole runs alternated.
   */
  sliceMs?: number;
}

/** A measurement kept open: one timed run per call, per wall-clock or CPU second. */
export interface RateSession {
  /** One timed run of `ms` (default: the settings' runMs) on `clock`; its rate. */
  run(clock: ClockKind, ms?: number): Promise<number>;
  close(): Promise<void>;
}

export interface Suite {
  name: string;
  description: string;
  /** The suite's cases in run order (references first). */
  cases(env: SuiteEnv): BenchCase[];
}

export interface SuiteEnv {
  cores: number;
  quick: boolean;
}

export interface RunContext extends SuiteEnv {
  settings: RateSettings;
  /** A rate measured in fresh worker threads (rate-workers.ts), all runs at once. */
  rate(job: RateJob): Promise<number[]>;
  /** The same as a session, for `open`. */
  openRate(job: RateJob): Promise<RateSession>;
  /** Samples of a case that already ran in this run. */
  samplesOf(id: string): number[] | undefined;
  /** Computes a value once per run (a build, an install, one C process for several cases). */
  once<T>(key: string, make: () => Promise<T>): Promise<T>;
  /** A note for the report (a skipped peer, a build detail). */
  note(message: string): void;
  /** Whether the bench may install missing peers (bench/thirdparty) itself. */
  allowInstall: boolean;
  /** A scratch directory for builds, kept across runs. */
  buildDir: string;
}

/** Thrown by a case that cannot run here (no compiler, a peer not installed): skipped with a note. */
export class SkipCase extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SkipCase';
  }
}
