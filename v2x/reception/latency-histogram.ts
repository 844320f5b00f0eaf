// Latency percentiles in bounded memory: a histogram of logarithmic buckets (about 2 % wide,
// from 0.01 ms to 100 s), so that a run of millions of messages keeps a few kilobytes and any
// percentile is within a bucket of the exact value. Used by the simulator's summary and the
// bench.
const MIN_MS = 0.01;
const GROWTH = 1.02;
const BUCKETS = Math.ceil(Math.log(100_000 / MIN_MS) / Math.log(GROWTH)) + 1;

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  count = 0;
  max = 0;

  add(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH)));
    this.#counts[i]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The q-quantile (0..1), ms: the upper edge of its bucket; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.max, MIN_MS * GROWTH ** i);
    }
    return this.max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.count = 0;
    this.max = 0;
  }
}
