// Lifecycle events read from consecutive snapshots: the things a recycler must know about a
// battery (EU Battery Regulation 2023/1542 Annex VII: negative events, deep discharges, time at
// extreme temperature), each turned into an event record body as ledger/cddl/event.cddl says:
// { 1: severity, ? 2: details (text keys, int/text values), ? 3: seq of the telemetry record }.
// Threshold events are edge-triggered with hysteresis, so a value hovering at a limit makes one
// event, not one per sample.
import type { CborValue } from '../../ledger/cbor/value.ts';
import { FAULT_NAMES, type BatterySnapshot } from '../../devices/snapshot.ts';

export const SEVERITY = { info: 0, warning: 1, fault: 2, critical: 3 } as const;

export interface LifecycleEvent {
  type: string;
  severity: 0 | 1 | 2 | 3;
  details: Record<string, number | string>;
}

export interface LifecycleThresholds {
  deepDischargeSocPct: number;
  temperatureMinC: number;
  temperatureMaxC: number;
}

/** The CBOR body of an event record. */
export function eventBody(e: LifecycleEvent, telemetrySeq?: number): Map<number, CborValue> {
  const m = new Map<number, CborValue>([[1, e.severity]]);
  const d = new Map<CborValue, CborValue>();
  for (const [k, v] of Object.entries(e.details)) d.set(k, typeof v === 'number' ? Math.round(v) : v);
  if (d.size) m.set(2, d);
  if (telemetrySeq !== undefined) m.set(3, telemetrySeq);
  return m;
}

const SOC_HYSTERESIS_PCT = 2;
const TEMP_HYSTERESIS_C = 2;

/**
 * Compares each snapshot with the one before and says which lifecycle events it shows. A source
 * is stale when every value it gave is older than its period allows (it stopped answering);
 * it recovers when any value is fresh again.
 */
export class LifecycleDetector {
  #prev: BatterySnapshot | undefined;
  #deep = false;
  #hot = false;
  #cold = false;
  readonly staleSources = new Set<string>();

  constructor(private readonly limits: LifecycleThresholds) {}

  observe(s: BatterySnapshot): LifecycleEvent[] {
    const out: LifecycleEvent[] = [];
    const p = this.#prev;
    for (const name of FAULT_NAMES) {
      const was = p?.faults[name] === true;
      const is = s.faults[name] === true;
      if (is && !was) out.push({ type: 'fault-raised', severity: SEVERITY.fault, details: { fault: name } });
      if (!is && was) out.push({ type: 'fault-cleared', severity: SEVERITY.info, details: { fault: name } });
    }
    if (p?.contactorClosed === true && s.contactorClosed === false) {
      out.push({ type: 'contactor-opened', severity: SEVERITY.warning, details: s.currentA === null ? {} : { currentMa: s.currentA * 1000 } });
    }
    if (s.socPct !== null && !s.meta.socPct?.stale) {
      if (!this.#deep && s.socPct < this.limits.deepDischargeSocPct) {
        this.#deep = true;
        out.push({ type: 'deep-discharge', severity: SEVERITY.fault, details: { socPermille: s.socPct * 10, ...(s.packVoltageV === null ? {} : { packMv: s.packVoltageV * 1000 }) } });
      } else if (this.#deep && s.socPct >= this.limits.deepDischargeSocPct + SOC_HYSTERESIS_PCT) this.#deep = false;
    }
    if (s.temperaturesC.length && !s.meta.temperaturesC?.stale) {
      const max = Math.max(...s.temperaturesC);
      const min = Math.min(...s.temperaturesC);
      if (!this.#hot && max > this.limits.temperatureMaxC) {
        this.#hot = true;
        out.push({ type: 'over-temperature', severity: SEVERITY.fault, details: { maxDeciC: max * 10, limitDeciC: this.limits.temperatureMaxC * 10 } });
      } else if (this.#hot && max <= this.limits.temperatureMaxC - TEMP_HYSTERESIS_C) this.#hot = false;
      if (!this.#cold && min < this.limits.temperatureMinC) {
        this.#cold = true;
        out.push({ type: 'under-temperature', severity: SEVERITY.warning, details: { minDeciC: min * 10, limitDeciC: this.limits.temperatureMinC * 10 } });
      } else if (this.#cold && min >= this.limits.temperatureMinC + TEMP_HYSTERESIS_C) this.#cold = false;
    }
    const sources = new Map<string, { fields: number; stale: number; newest: number }>();
    for (const m of Object.values(s.meta)) {
      if (!m) continue;
      const x = sources.get(m.source) ?? { fields: 0, stale: 0, newest: 0 };
      x.fields++;
      if (m.stale) x.stale++;
      x.newest = Math.max(x.newest, m.t);
      sources.set(m.source, x);
    }
    for (const [source, x] of sources) {
      const stale = x.fields > 0 && x.stale === x.fields;
      if (stale && !this.staleSources.has(source)) {
        this.staleSources.add(source);
        out.push({ type: 'stale-source', severity: SEVERITY.warning, details: { source, silentMs: Math.max(0, s.t - x.newest) } });
      } else if (!stale && this.staleSources.has(source)) {
        this.staleSources.delete(source);
        out.push({ type: 'source-recovered', severity: SEVERITY.info, details: { source } });
      }
    }
    this.#prev = s;
    return out;
  }
}
