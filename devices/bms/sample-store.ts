// The latest value of each snapshot field with when it arrived and from which source, turned
// into a BatterySnapshot on demand: a value older than its source's period times a margin is
// marked stale in `meta`, never silently passed off as current.
import { emptySnapshot, type BatterySnapshot, type SnapshotField } from '../snapshot.ts';

interface Sample {
  value: unknown;
  t: number;
  periodMs: number;
  measured?: boolean;
}

export class SampleStore {
  readonly source: string;
  readonly margin: number;
  #samples = new Map<SnapshotField, Sample>();

  constructor(source: string, margin = 3) {
    this.source = source;
    this.margin = margin;
  }

  set<F extends SnapshotField>(field: F, value: BatterySnapshot[F], t: number, periodMs: number, measured?: boolean): void {
    this.#samples.set(field, { value, t, periodMs, ...(measured === undefined ? {} : { measured }) });
  }

  has(field: SnapshotField): boolean {
    return this.#samples.has(field);
  }

  snapshot(now: number): BatterySnapshot {
    const snap = emptySnapshot(now);
    for (const [field, s] of this.#samples) {
      (snap as unknown as Record<string, unknown>)[field] = s.value;
      snap.meta[field] = {
        t: s.t,
        stale: now - s.t > s.periodMs * this.margin,
        source: this.source,
        ...(s.measured === undefined ? {} : { measured: s.measured }),
      };
    }
    return snap;
  }
}
