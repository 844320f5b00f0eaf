// Summary statistics of repeated measurements: median, min and max of the per-run figures, and
// the ratio to a reference measured in the same run (bench/README.md, "The JSON format").
// The median, not the mean: on a shared machine one disturbed run must not move the figure.

export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** Median of the samples (the mean of the two middle ones for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('samples must not be empty');
  for (const s of samples) if (!Number.isFinite(s)) throw new RangeError(`samples must be finite numbers, got ${s}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples) };
}

/** median / reference median; null when there is no usable reference (skipped or zero). */
export function ratio(value: number, reference: number | undefined): number | null {
  if (reference === undefined || !Number.isFinite(reference) || reference === 0) return null;
  return value / reference;
}
