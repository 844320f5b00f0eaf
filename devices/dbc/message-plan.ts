// A message compiled for the codec: each signal's bit layout, scaling and multiplexer parent
// resolved once, signals ordered so that every switch comes before the signals it selects.
// Plans are cached per message object (messages are frozen, so a plan never goes stale).
import { bitLayout, type BitLayout } from './bit-layout.ts';
import type { DbcMessage, DbcSignal } from './model.ts';

export const VALUE_INTEGER = 0;
export const VALUE_FLOAT32 = 1;
export const VALUE_FLOAT64 = 2;

export interface SignalPlan {
  readonly signal: DbcSignal;
  readonly name: string;
  readonly layout: BitLayout;
  readonly length: number;
  readonly signed: boolean;
  readonly valueType: number;
  readonly factor: number;
  readonly offset: number;
  /** 2^(length-1) and 2^length, for two's complement in doubles (length <= 53). */
  readonly signBit: number;
  readonly span: number;
  /** Index in MessagePlan.signals of the switch this signal depends on, or -1. */
  readonly parent: number;
  /** Inclusive switch value ranges, flattened [lo0, hi0, lo1, hi1, ...]. */
  readonly ranges: Float64Array;
  readonly choices: ReadonlyMap<number, string> | undefined;
  /** Choice name -> raw value, for encoding names. */
  readonly choiceValues: ReadonlyMap<string, number> | undefined;
}

export interface MessagePlan {
  readonly message: DbcMessage;
  /** Switches before the signals they select. */
  readonly signals: readonly SignalPlan[];
  readonly byName: ReadonlyMap<string, number>;
  /** Signals without a switch, in DBC order. */
  readonly roots: Int32Array;
  /** For each switch: the signals it selects, by switch value (from expanded multiplexer ids). */
  readonly childrenByValue: readonly (ReadonlyMap<number, Int32Array> | undefined)[];
  /** For each switch: selected signals whose ranges were too wide to expand (checked by range). */
  readonly rangeChildren: readonly (Int32Array | undefined)[];
  /** Position of each signal in the DBC's order. */
  readonly filePos: Uint16Array;
  /** Scratch for one decode or encode: whether each signal is present, and switch raw values. */
  readonly present: Uint8Array;
  readonly raw: Float64Array;
  /** Scratch: signals to visit, and signals found present. */
  readonly queue: Int32Array;
  readonly found: Int32Array;
  /** Scratch for encode: `stamp[i] === generation` when signal i was written by the current call. */
  readonly stamp: Float64Array;
  generation: number;
}

const plans = new WeakMap<DbcMessage, MessagePlan>();

export function messagePlan(message: DbcMessage): MessagePlan {
  let plan = plans.get(message);
  if (!plan) {
    plan = compile(message);
    plans.set(message, plan);
  }
  return plan;
}

function compile(message: DbcMessage): MessagePlan {
  const byName = new Map(message.signals.map((s) => [s.name, s]));
  // Depth-first: a switch is placed before any signal it selects.
  const ordered: DbcSignal[] = [];
  const placed = new Set<string>();
  const place = (s: DbcSignal, depth: number): void => {
    if (placed.has(s.name) || depth > message.signals.length) return;
    const parent = s.multiplexerSwitch === undefined ? undefined : byName.get(s.multiplexerSwitch);
    if (parent) place(parent, depth + 1);
    placed.add(s.name);
    ordered.push(s);
  };
  for (const s of message.signals) place(s, 0);
  const index = new Map(ordered.map((s, i) => [s.name, i]));
  const filePosition = new Map(message.signals.map((s, i) => [s, i]));
  const signals = ordered.map((s): SignalPlan => {
    const ranges = s.multiplexerRanges ?? [];
    let choiceValues: Map<string, number> | undefined;
    if (s.choices) {
      choiceValues = new Map();
      for (const [v, name] of s.choices) if (!choiceValues.has(name)) choiceValues.set(name, v);
    }
    return {
      signal: s,
      name: s.name,
      layout: bitLayout(s.startBit, s.length, s.byteOrder),
      length: s.length,
      signed: s.signed,
      valueType: s.valueType === 'float32' ? VALUE_FLOAT32 : s.valueType === 'float64' ? VALUE_FLOAT64 : VALUE_INTEGER,
      factor: s.factor,
      offset: s.offset,
      signBit: 2 ** (s.length - 1),
      span: 2 ** s.length,
      parent: s.multiplexerSwitch === undefined ? -1 : (index.get(s.multiplexerSwitch) ?? -1),
      ranges: Float64Array.from(ranges.flat()),
      choices: s.choices,
      choiceValues,
    };
  });
  // Index the multiplexer tree so that decoding visits only the signals a frame carries: the
  // cell-voltage message of a BMS holds hundreds of signals, of which a frame carries a few.
  const byValue: Map<number, number[]>[] = signals.map(() => new Map());
  const byRange: number[][] = signals.map(() => []);
  const roots: number[] = [];
  for (const s of message.signals) {
    const i = index.get(s.name)!;
    const p = signals[i]!;
    if (p.parent < 0) roots.push(i);
    else if (s.multiplexerIds) {
      for (const v of new Set(s.multiplexerIds)) {
        const list = byValue[p.parent]!.get(v);
        if (list) list.push(i);
        else byValue[p.parent]!.set(v, [i]);
      }
    } else byRange[p.parent]!.push(i);
  }
  return {
    message,
    signals,
    byName: index,
    roots: Int32Array.from(roots),
    childrenByValue: byValue.map((m) => (m.size ? new Map([...m].map(([v, l]) => [v, Int32Array.from(l)])) : undefined)),
    rangeChildren: byRange.map((l) => (l.length ? Int32Array.from(l) : undefined)),
    filePos: Uint16Array.from(ordered, (s) => filePosition.get(s)!),
    queue: new Int32Array(signals.length),
    found: new Int32Array(signals.length),
    stamp: new Float64Array(signals.length),
    generation: 0,
    present: new Uint8Array(signals.length),
    raw: new Float64Array(signals.length),
  };
}

/** Whether switch value `v` selects a signal with these flattened ranges. */
export function inRanges(ranges: Float64Array, v: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (v >= ranges[i]! && v <= ranges[i + 1]!) return true;
  return false;
}
