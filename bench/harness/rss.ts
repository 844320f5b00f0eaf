// Resident memory of a running process, for the runtime-memory benchmark: VmRSS read from
// /proc/PID/status (Linux; proc(5)), and the least-squares slope of RSS over time, which says
// whether memory keeps growing (a leak shows as a steady positive slope) or has levelled off.

/** VmRSS of `status` (the text of /proc/PID/status) in bytes; undefined when absent. */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Least-squares slope of y over x (units of y per unit of x); 0 with fewer than two distinct x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) throw new RangeError(`slope: ${xs.length} x values but ${ys.length} y values`);
  const n = xs.length;
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

export interface RssSample {
  /** Wall ms since the process was started. */
  t: number;
  rss: number;
}

export interface RssSummary {
  start: number;
  max: number;
  end: number;
  /** Bytes per millisecond of the samples' clock. */
  slopePerMs: number;
}

/**
 * Start (the first sample at or after `fromMs`, when the program was up), maximum and last RSS,
 * and the slope over the samples from `fromMs` on (start-up allocation is not growth), or with
 * `slopeOver` (0 to 1) over that last fraction of them only: a program's heap fills to its
 * working size for a while after it is up, which is not growth either, while a leak keeps
 * rising through the last half as through the whole run.
 */
export function summarizeRss(samples: readonly RssSample[], fromMs = 0, slopeOver = 1): RssSummary {
  if (samples.length === 0) throw new RangeError('no RSS samples: the process ended before the first one');
  if (!(slopeOver > 0 && slopeOver <= 1)) throw new RangeError(`slopeOver ${slopeOver}: a fraction above 0 and at most 1`);
  const steady = samples.filter((s) => s.t >= fromMs);
  const used = steady.length > 0 ? steady : samples;
  const fitted = used.slice(Math.floor(used.length * (1 - slopeOver)));
  return {
    start: used[0]!.rss,
    max: Math.max(...samples.map((s) => s.rss)),
    end: samples[samples.length - 1]!.rss,
    slopePerMs: slope(
      fitted.map((s) => s.t),
      fitted.map((s) => s.rss),
    ),
  };
}
