// One snapshot from the pack's BMS and the sensors beside it (an IVT-S shunt, an iso165
// insulation monitor, Firmata thermistors), each value keeping its own source and staleness.
// Rules, per field:
// - currentA: a fresh sensor value wins over the BMS's: a dedicated shunt (IVT-S: 0.1 % class)
//   measures better than most BMS current paths. When the sensor goes stale, the BMS's fresh
//   value is used again.
// - every other field: the BMS's value while it is fresh; else a fresh sensor value; else the
//   first value there is, still marked stale (never silently passed off as current).
// - faults: the union of every source's raised faults.
import { emptySnapshot, type BatterySnapshot, type SnapshotField, type ValueMeta } from './snapshot.ts';

export interface SnapshotSource {
  readonly source: string;
  snapshot(): BatterySnapshot;
}

/** Fields a dedicated sensor measures better than a BMS does. */
const SENSOR_FIRST: ReadonlySet<SnapshotField> = new Set(['currentA']);

const has = (s: BatterySnapshot, f: SnapshotField) => s.meta[f] !== undefined;

export class SnapshotMerger {
  readonly bms: SnapshotSource;
  readonly sensors: readonly SnapshotSource[];

  constructor(bms: SnapshotSource, sensors: readonly SnapshotSource[]) {
    this.bms = bms;
    this.sensors = sensors;
  }

  get source(): string {
    return [this.bms, ...this.sensors].map((s) => s.source).join('+');
  }

  snapshot(): BatterySnapshot {
    const b = this.bms.snapshot();
    const all = [b, ...this.sensors.map((s) => s.snapshot())];
    const out = emptySnapshot(b.t);
    const fields = new Set<SnapshotField>();
    for (const s of all) for (const f of Object.keys(s.meta) as SnapshotField[]) fields.add(f);
    for (const field of fields) {
      if (field === 'faults') continue;
      const present = all.filter((s) => has(s, field));
      const ordered = SENSOR_FIRST.has(field) ? [...present.filter((s) => s !== b), ...present.filter((s) => s === b)] : present;
      const pick = ordered.find((s) => !s.meta[field]!.stale) ?? present[0]!;
      (out as unknown as Record<string, unknown>)[field] = pick[field];
      out.meta[field] = { ...(pick.meta[field] as ValueMeta) };
    }
    const withFaults = all.filter((s) => has(s, 'faults') || Object.keys(s.faults).length);
    for (const s of withFaults) Object.assign(out.faults, s.faults);
    const fm = withFaults.map((s) => s.meta.faults).filter((m): m is ValueMeta => m !== undefined);
    if (fm.length) out.meta.faults = { t: Math.min(...fm.map((m) => m.t)), stale: fm.some((m) => m.stale), source: fm.map((m) => m.source).join('+') };
    return out;
  }
}
