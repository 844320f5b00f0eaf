// A BMS (or sensor) on CAN, read through its DBC and a rule table (can-signal-map.ts): keeps
// the latest value of every mapped signal with its receive time, and assembles a
// BatterySnapshot on demand, marking each value stale when it is older than its message's
// cycle time times a margin. A frame that does not decode is counted and skipped, never fatal.
import type { Clock } from '../../hal/clock.ts';
import type { CanBus } from '../../hal/can/bus.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { decodeSignals, type DbcDatabase } from '../dbc/index.ts';
import { emptySnapshot, type BatterySnapshot, type SnapshotField } from '../snapshot.ts';
import { compileRules, messageKey, type CompiledMap, type SignalRule, type SignalTarget } from './can-signal-map.ts';

export interface CanBmsDriverOptions {
  /** Name in snapshot metadata and counters, e.g. `voltrail`, `foxbms`. */
  source: string;
  bus: CanBus;
  db: DbcDatabase;
  rules: readonly SignalRule[];
  clock: Clock;
  /** A value is stale after its message's cycle time times this (default 3). */
  staleMargin?: number;
  /** Cycle time assumed for messages whose DBC gives none, ms (default 1000). */
  defaultCycleMs?: number;
  /** How many cells and temperature sensors the pack has, when no signal says so (trims the
   * arrays and makes a partial set wait for the rest). */
  counts?: Partial<Record<'cellVoltagesMv' | 'temperaturesC', number>>;
}

export interface DriverCounters {
  frames: number;
  decoded: number;
  /** Frames whose id the DBC does not know (not an error: buses carry other traffic). */
  unknown: number;
  /** Frames that the DBC knows but that could not be decoded (wrong length, bad value). */
  rejected: number;
  lastError?: string;
}

/** raw * factor in binary floating point leaves noise (4027 * 0.1 = 402.70000000000005): 12
 * significant digits are far beyond any BMS's resolution and give the decimal value back. */
const clean = (v: number) => Number(v.toPrecision(12));

interface Sample {
  v: number;
  t: number;
  periodMs: number;
  /** False when the value is the BMS's placeholder, not a measurement. */
  measured?: boolean;
}

export class CanBmsDriver {
  readonly source: string;
  readonly counters: DriverCounters = { frames: 0, decoded: 0, unknown: 0, rejected: 0 };
  #bus: CanBus;
  #clock: Clock;
  #map: CompiledMap;
  #margin: number;
  #defaultCycle: number;
  #scalars = new Map<SnapshotField, Sample>();
  #cells = new Map<number, Sample>();
  #temps = new Map<number, Sample>();
  /** Per signal (several signals may raise the same fault): the fault name and the last sample. */
  #faults = new Map<string, { name: string; s: Sample }>();
  #balancing = new Map<number, Sample>();
  #contactor: Sample | undefined;
  #counts: Partial<Record<'cellVoltagesMv' | 'temperaturesC', number>> = {};
  #running: Promise<void> | undefined;

  constructor(opts: CanBmsDriverOptions) {
    this.source = opts.source;
    this.#bus = opts.bus;
    this.#clock = opts.clock;
    this.#map = compileRules(opts.db, opts.rules);
    this.#margin = opts.staleMargin ?? 3;
    this.#defaultCycle = opts.defaultCycleMs ?? 1000;
    this.#counts = { ...opts.counts };
    if (this.#map.size === 0) {
      throw new RangeError(`${opts.source}: no signal of the DBC matches the profile's rules; check the DBC file and the mapping`);
    }
  }

  /** Reads frames until the bus closes or `signal` aborts. */
  start(signal?: AbortSignal): Promise<void> {
    this.#running ??= (async () => {
      const it = this.#bus.frames();
      const onAbort = () => void it.return?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      // Stopped before it started (Ctrl-C while the runtime set up): no frame need come to end it.
      if (signal?.aborted) onAbort();
      try {
        for await (const frame of it) {
          if (signal?.aborted) break;
          this.handle(frame);
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    })();
    return this.#running;
  }

  /** Takes one frame (also usable without a bus, e.g. from a replayed log). */
  handle(frame: CanFrame): void {
    this.counters.frames++;
    if (frame.remote || frame.error) return;
    const entry = this.#map.get(messageKey(frame.id, frame.extended));
    if (!entry) {
      this.counters.unknown++;
      return;
    }
    let values;
    try {
      values = decodeSignals(entry.message, frame.data, { choices: false });
    } catch (err) {
      this.counters.rejected++;
      this.counters.lastError = `frame 0x${frame.id.toString(16)} (${entry.message.name}): ${(err as Error).message}`;
      return;
    }
    this.counters.decoded++;
    const t = this.#clock.now();
    const periodMs = entry.message.cycleTimeMs || this.#defaultCycle;
    // The decoded signals come in DBC order; most messages map only some of them.
    for (const signal in values) {
      const raw = values[signal];
      const mapped = entry.byName.get(signal);
      if (!mapped || typeof raw !== 'number') continue;
      this.#store(mapped.target, raw, t, periodMs, mapped.choices, `${entry.message.name}.${signal}`);
    }
  }

  #store(target: SignalTarget, raw: number, t: number, periodMs: number, choices: ReadonlyMap<number, string> | undefined, key: string): void {
    switch (target.field) {
      case 'cellVoltagesMv':
      case 'temperaturesC': {
        const v = clean(raw * (target.scale ?? 1) + (target.offset ?? 0));
        (target.field === 'cellVoltagesMv' ? this.#cells : this.#temps).set(target.index, { v, t, periodMs });
        return;
      }
      case 'fault': {
        const on = target.activeWhen ? target.activeWhen.includes(raw) || target.activeWhen.includes(choices?.get(raw) ?? '') : raw !== 0;
        const count = target.of ? this.#counts[target.of] : undefined;
        const unused = count !== undefined && target.index !== undefined && target.index >= count;
        this.#faults.set(key, { name: target.name, s: { v: on && !unused ? 1 : 0, t, periodMs } });
        return;
      }
      case 'contactorClosed': {
        const closed = target.closedWhen.includes(raw) || target.closedWhen.includes(choices?.get(raw) ?? '');
        this.#contactor = { v: closed ? 1 : 0, t, periodMs };
        return;
      }
      case 'count':
        this.#counts[target.of] = raw;
        return;
      case 'balancing':
        for (let k = 0; k < target.bits; k++) {
          // Bits above 2^31 need arithmetic, not bitwise operators.
          const bit = Math.floor(raw / 2 ** k) % 2;
          this.#balancing.set(target.firstCell + k, { v: bit, t, periodMs });
        }
        return;
      default: {
        const v = clean(raw * (target.scale ?? 1) + (target.offset ?? 0));
        const placeholder = target.placeholder !== undefined && Math.abs(v - target.placeholder) < 1e-9;
        this.#scalars.set(target.field, { v, t, periodMs, ...(placeholder ? { measured: false } : {}) });
      }
    }
  }

  #isStale(s: Sample, now: number): boolean {
    return now - s.t > s.periodMs * this.#margin;
  }

  /** The latest picture: every value with its receive time; stale values are flagged, not hidden. */
  snapshot(): BatterySnapshot {
    const now = this.#clock.now();
    const snap = emptySnapshot(now);
    const meta = (field: SnapshotField, samples: Sample[]) => {
      if (!samples.length) return;
      const oldest = samples.reduce((a, b) => (a.t < b.t ? a : b));
      snap.meta[field] = { t: oldest.t, stale: samples.some((s) => this.#isStale(s, now)), source: this.source };
      if (samples.some((s) => s.measured === false)) snap.meta[field]!.measured = false;
    };
    for (const [field, s] of this.#scalars) {
      (snap as unknown as Record<string, number | null>)[field] = s.v;
      meta(field, [s]);
    }
    const dense = (m: Map<number, Sample>): Sample[] | undefined => {
      if (m.size === 0) return undefined;
      const n = Math.max(...m.keys()) + 1;
      const out: Sample[] = [];
      for (let i = 0; i < n; i++) {
        const s = m.get(i);
        if (!s) return undefined; // a partial set is not reported as if complete
        out.push(s);
      }
      return out;
    };
    for (const [field, samples] of [
      ['cellVoltagesMv', this.#cells],
      ['temperaturesC', this.#temps],
    ] as const) {
      const all = dense(samples);
      const count = this.#counts[field];
      if (!all || (count !== undefined && all.length < count)) continue;
      const used = count !== undefined ? all.slice(0, count) : all;
      snap[field] = used.map((s) => s.v);
      meta(field, used);
    }
    if (this.#faults.size) {
      for (const { name, s } of this.#faults.values()) if (s.v !== 0) snap.faults[name as keyof typeof snap.faults] = true;
      meta('faults', [...this.#faults.values()].map((f) => f.s));
    }
    if (this.#contactor) {
      snap.contactorClosed = this.#contactor.v === 1;
      meta('contactorClosed', [this.#contactor]);
    }
    const bal = dense(this.#balancing);
    if (bal) {
      const n = snap.cellVoltagesMv.length || bal.length;
      snap.balancing = bal.slice(0, n).map((s) => s.v === 1);
      meta('balancing', bal.slice(0, n));
    }
    return snap;
  }
}
