// The measuring loop: a warm-up, then several timed runs, each reported as operations per
// second. An operation returns how many items it handled, so a batch call of 64 signatures
// counts 64. The clock is read once per chunk, and the chunk grows during warm-up until it
// takes about a millisecond, so that cheap operations are not measured as clock reads.
// The clock is injectable: tests drive it with deterministic fake timings.

export interface RateSettings {
  /** Warm-up time before the first run (JIT, caches, lazy tables), ms. */
  warmupMs: number;
  /** Number of timed runs. */
  runs: number;
  /** Length of each timed run, ms. */
  runMs: number;
}

export interface RateHooks {
  /** Monotonic milliseconds; performance.now by default. */
  now?: () => number;
  /** Called before each timed run (worker threads wait on a shared barrier here). */
  beforeRun?: (run: number) => void;
}

const CHUNK_TARGET_MS = 1;
const MAX_CHUNK = 1 << 20;

function checkSettings(settings: RateSettings): void {
  if (!(settings.runs >= 1) || !(settings.runMs > 0) || !(settings.warmupMs >= 0)) {
    throw new RangeError(`rate settings: runs >= 1, runMs > 0, warmupMs >= 0; got ${JSON.stringify(settings)}`);
  }
}

/** Runs `op` for about `warmupMs`; returns the chunk size (calls between clock reads) to time with. */
export function warmUp(op: () => number, warmupMs: number, now: () => number = () => performance.now()): number {
  let chunk = 1;
  const start = now();
  let t = start;
  do {
    const c0 = t;
    for (let k = 0; k < chunk; k++) op();
    t = now();
    if (t - c0 < CHUNK_TARGET_MS && chunk < MAX_CHUNK) chunk *= 2;
  } while (t - start < warmupMs);
  return chunk;
}

/** Which time a rate is per: wall-clock time, or the CPU time of this process. */
export type ClockKind = 'wall' | 'cpu';

/** Milliseconds of CPU time used by this process (all its threads: JIT, GC helpers count). */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A run on the CPU clock may take at most this many times runMs of wall time. */
export const MAX_WALL_FACTOR = 2;

/**
 * One timed run: items per second of `now` time, running until `runMs` of it have passed, or
 * MAX_WALL_FACTOR * runMs of `wall` time (a CPU clock advances slowly on a busy machine).
 */
export function timedRun(op: () => number, chunk: number, runMs: number, now: () => number = () => performance.now(), wall: () => number = now): number {
  let items = 0;
  const start = now();
  const wallStart = wall();
  let end = start;
  do {
    for (let k = 0; k < chunk; k++) items += op();
    end = now();
  } while (end - start < runMs && wall() - wallStart < runMs * MAX_WALL_FACTOR);
  if (end <= start) throw new RangeError(`no ${now === cpuNow ? 'CPU ' : ''}time passed during a run of ${items} items: lengthen runMs`);
  return items / ((end - start) / 1000);
}

/** Runs `op` as RateSettings say; returns items per second for each timed run. */
export function measureRate(op: () => number, settings: RateSettings, hooks: RateHooks = {}): number[] {
  checkSettings(settings);
  const now = hooks.now ?? (() => performance.now());
  const chunk = warmUp(op, settings.warmupMs, now);
  const rates: number[] = [];
  for (let run = 0; run < settings.runs; run++) {
    hooks.beforeRun?.(run);
    rates.push(timedRun(op, chunk, settings.runMs, now));
  }
  return rates;
}
