// When to make a telemetry record: once per period, and at once when a fault flag or the
// contactor changes, or a value moves far enough from the last recorded one (a step in state of
// charge, current or any temperature). Between those, nothing new is worth a record.
import { FAULT_NAMES, type BatterySnapshot } from '../../devices/snapshot.ts';

export interface SamplerSettings {
  periodMs: number;
  onChange: { socPct: number; currentA: number; temperatureC: number };
  onFault: boolean;
}

export type SampleReason = 'period' | 'fault' | 'change';

const faultBits = (s: BatterySnapshot) => FAULT_NAMES.reduce((bits, name, i) => (s.faults[name] ? bits | (1 << i) : bits), 0);
const moved = (a: number | null, b: number | null, step: number) => a !== null && b !== null && Math.abs(a - b) >= step;

export class Sampler {
  #last: BatterySnapshot | undefined;
  #lastAt: number;

  /** The first record comes one period after `startMono`, once every source has had time to speak. */
  constructor(
    private readonly o: SamplerSettings,
    startMono: number,
  ) {
    this.#lastAt = startMono;
  }

  /** Why a record is due now (monotonic ms), or undefined. */
  due(s: BatterySnapshot, nowMono: number): SampleReason | undefined {
    const l = this.#last;
    if (nowMono - this.#lastAt >= this.o.periodMs) return 'period';
    if (!l) return undefined;
    if (this.o.onFault && (faultBits(l) !== faultBits(s) || l.contactorClosed !== s.contactorClosed)) return 'fault';
    const c = this.o.onChange;
    if (moved(l.socPct, s.socPct, c.socPct) || moved(l.currentA, s.currentA, c.currentA)) return 'change';
    const n = Math.min(l.temperaturesC.length, s.temperaturesC.length);
    for (let i = 0; i < n; i++) if (Math.abs(l.temperaturesC[i]! - s.temperaturesC[i]!) >= c.temperatureC) return 'change';
    return undefined;
  }

  /** Marks `s` as recorded (or shed: a shed sample still resets the period, so shedding is steady). */
  taken(s: BatterySnapshot, nowMono: number): void {
    this.#last = s;
    this.#lastAt = nowMono;
  }
}
