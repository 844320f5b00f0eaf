// Load and charge profiles that drive the plant: rest, constant current, constant power, drive
// cycle tables, CC-CV charging, and sequences of these. Positive current or power = discharge,
// negative = charge (the project's convention, devices/snapshot.ts).
//
// A profile answers, at the start of each step, what it demands (a current, a power or a
// voltage); `solveCurrent` turns power and voltage demands into the current that meets them at
// the end of the step, using the pack's Thevenin equivalent over that step. A profile returns
// null when it has finished (its duration ran out or its stop condition was met).
import type { Pack } from './pack.ts';

export type Demand =
  | { kind: 'current'; a: number }
  | { kind: 'power'; w: number }
  /** Hold the pack terminal voltage at v, charging at most maxChargeA (a charger's CV phase). */
  | { kind: 'voltage'; v: number; maxChargeA: number };

export interface Profile {
  readonly name: string;
  /** What to draw for the step that starts `t` seconds after this profile began; null = done. */
  demand(t: number, pack: Pack): Demand | null;
  /** Back to its initial state (a sequence reuses its parts when repeated). */
  reset(): void;
}

/** Stop conditions, checked on the plant's state at the start of each step. */
export interface Until {
  durationS?: number;
  /** Stop once the lowest cell is at or below this voltage (a discharge cut-off). */
  minCellV?: number;
  /** Stop once the highest cell is at or above this voltage. */
  maxCellV?: number;
  /** Stop once the pack voltage is at or below / above this. */
  packBelowV?: number;
  packAboveV?: number;
}

function finished(t: number, pack: Pack, u: Until): boolean {
  if (u.durationS !== undefined && t >= u.durationS - 1e-9) return true;
  if (u.minCellV !== undefined && pack.minCellV <= u.minCellV) return true;
  if (u.maxCellV !== undefined && pack.maxCellV >= u.maxCellV) return true;
  if (u.packBelowV !== undefined && pack.packVoltageV <= u.packBelowV) return true;
  if (u.packAboveV !== undefined && pack.packVoltageV >= u.packAboveV) return true;
  return false;
}

function finite(name: string, v: number): number {
  if (typeof v !== 'number') throw new TypeError(`${name}: expected a number, got ${typeof v}`);
  if (!Number.isFinite(v)) throw new RangeError(`${name}: must be finite, got ${v}`);
  return v;
}

export function rest(durationS = Infinity): Profile {
  return {
    name: `rest ${durationS}s`,
    demand: (t) => (t >= durationS - 1e-9 ? null : { kind: 'current', a: 0 }),
    reset() {},
  };
}

export function constantCurrent(currentA: number, until: Until = {}): Profile {
  finite('currentA', currentA);
  return {
    name: `cc ${currentA}A`,
    demand: (t, pack) => (finished(t, pack, until) ? null : { kind: 'current', a: currentA }),
    reset() {},
  };
}

export function constantPower(powerW: number, until: Until = {}): Profile {
  finite('powerW', powerW);
  return {
    name: `cp ${powerW}W`,
    demand: (t, pack) => (finished(t, pack, until) ? null : { kind: 'power', w: powerW }),
    reset() {},
  };
}

export interface DriveCycleOptions {
  /** What the table's values are. */
  kind: 'current' | 'power';
  /** Linear between points (a smooth trace) or held until the next point (a staircase). */
  interpolation?: 'linear' | 'step';
  /** Times through the table (default 1; Infinity = forever). */
  repeat?: number;
  /** Multiplier on every value (e.g. to size a vehicle's power trace to this pack). */
  scale?: number;
  until?: Omit<Until, 'durationS'>;
  name?: string;
}

/** A time table: [seconds, value] points with increasing times, starting at 0. */
export function driveCycle(table: readonly (readonly [number, number])[], opts: DriveCycleOptions): Profile {
  if (!Array.isArray(table) || table.length < 2) throw new RangeError('drive cycle: the table needs at least two [time, value] points');
  for (let k = 0; k < table.length; k++) {
    const [t, v] = table[k]!;
    finite(`drive cycle point ${k} time`, t);
    finite(`drive cycle point ${k} value`, v);
    if (k === 0 && t !== 0) throw new RangeError(`drive cycle point 0: the table must start at time 0, got ${t}`);
    if (k > 0 && !(t > table[k - 1]![0])) throw new RangeError(`drive cycle point ${k}: times must increase (${t} after ${table[k - 1]![0]})`);
  }
  const period = table[table.length - 1]![0];
  const repeat = opts.repeat ?? 1;
  const scale = opts.scale ?? 1;
  const step = opts.interpolation === 'step';
  let j = 0;
  const valueAt = (tt: number): number => {
    if (tt < table[j]![0]) j = 0;
    while (j < table.length - 2 && table[j + 1]![0] <= tt) j++;
    const [t0, v0] = table[j]!;
    const [t1, v1] = table[j + 1]!;
    if (step) return tt >= t1 ? v1 : v0;
    return v0 + ((v1 - v0) * (tt - t0)) / (t1 - t0);
  };
  return {
    name: opts.name ?? `drive cycle (${opts.kind}, ${period}s)`,
    demand(t, pack) {
      if (t >= period * repeat - 1e-9) return null;
      if (opts.until && finished(t, pack, opts.until)) return null;
      const v = valueAt(t % period) * scale;
      return opts.kind === 'power' ? { kind: 'power', w: v } : { kind: 'current', a: v };
    },
    reset() {
      j = 0;
    },
  };
}

export interface CcCvOptions {
  /** Charge current of the CC phase, A (a positive number: the profile charges). */
  currentA: number;
  /** CV target per cell, volts; the charger holds the pack at cells x this. */
  cellVoltageV: number;
  /** The CV phase ends when the charge current has tapered below this, A. */
  cutoffA: number;
  /** Hard time limit (default: none). */
  maxDurationS?: number;
}

/** Constant-current then constant-voltage charging, as a pack charger does. */
export function ccCv(o: CcCvOptions): Profile {
  if (!(finite('currentA', o.currentA) > 0)) throw new RangeError(`currentA: the charge current must be positive, got ${o.currentA}`);
  if (!(finite('cutoffA', o.cutoffA) > 0 && o.cutoffA < o.currentA)) throw new RangeError(`cutoffA: must be between 0 and currentA, got ${o.cutoffA}`);
  finite('cellVoltageV', o.cellVoltageV);
  let phase: 'cc' | 'cv' | 'done' = 'cc';
  return {
    name: `cc-cv ${o.currentA}A to ${o.cellVoltageV}V/cell, cut-off ${o.cutoffA}A`,
    demand(t, pack) {
      if (o.maxDurationS !== undefined && t >= o.maxDurationS) phase = 'done';
      const target = o.cellVoltageV * pack.n;
      if (phase === 'cc' && pack.packVoltageV >= target) phase = 'cv';
      if (phase === 'cv' && t > 0 && pack.currentA > -o.cutoffA) phase = 'done';
      if (phase === 'done') return null;
      return phase === 'cc' ? { kind: 'current', a: -o.currentA } : { kind: 'voltage', v: target, maxChargeA: o.currentA };
    },
    reset() {
      phase = 'cc';
    },
  };
}

/** Profiles one after the other, the whole list `repeat` times. */
export function sequence(parts: readonly Profile[], repeat = 1): Profile {
  if (parts.length === 0) throw new RangeError('sequence: needs at least one profile');
  let k = 0;
  let round = 0;
  let start = 0;
  return {
    name: `sequence(${parts.map((p) => p.name).join(', ')})${repeat !== 1 ? ` x${repeat}` : ''}`,
    demand(t, pack) {
      // Several parts may finish at once (a cut-off already met): skip them in one go.
      for (let guard = 0; guard < parts.length * 2 + 2; guard++) {
        if (round >= repeat) return null;
        const d = parts[k]!.demand(t - start, pack);
        if (d) return d;
        k++;
        start = t;
        if (k === parts.length) {
          k = 0;
          round++;
          for (const p of parts) p.reset();
        }
        parts[k]!.reset();
      }
      return null;
    },
    reset() {
      k = 0;
      round = 0;
      start = 0;
      for (const p of parts) p.reset();
    },
  };
}

/**
 * The current that meets a demand over the next step of dtS seconds. Power: solves
 * p = i (e - i r) for the smaller root; if the pack cannot deliver that power, the current of
 * maximum power, e / 2r. Voltage: i = (e - v) / r, limited to charging at most maxChargeA and to
 * no discharge (a charger only sources current).
 */
export function solveCurrent(d: Demand, pack: Pack, dtS: number): number {
  if (d.kind === 'current') return d.a;
  const { e, r } = pack.thevenin(dtS);
  if (d.kind === 'power') {
    const disc = e * e - 4 * r * d.w;
    return disc < 0 ? e / (2 * r) : (e - Math.sqrt(disc)) / (2 * r);
  }
  return Math.min(0, Math.max(-d.maxChargeA, (e - d.v) / r));
}
