// Checks a scenario's expectations (scenario.ts) against what a run recorded (recording.ts).
// Each result names the expectation and, when it fails, what was seen instead: the nearest
// event, the first value out of range, the longest gap, so a failing report says why.
import { describeExpectation, type Expectation } from './scenario.ts';
import { signalValue, type RecordedEvent, type Recording, type SignalRow } from './recording.ts';

export interface ExpectationResult {
  name: string;
  ok: boolean;
  /** Why it failed, or what it saw when it passed. */
  message: string;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3).replace(/\.?0+$/, ''));

function matches(ev: RecordedEvent, m: { type: string; fault?: string; source?: string }): boolean {
  if (ev.type !== m.type) return false;
  if (m.fault !== undefined && ev.details.fault !== m.fault) return false;
  if (m.source !== undefined && ev.details.source !== m.source) return false;
  return true;
}

const inWindow = (t: number, w: { from?: number; to?: number }) => (w.from === undefined || t >= w.from) && (w.to === undefined || t <= w.to);

function valuesOf(rows: readonly SignalRow[], signal: string, w: { from?: number; to?: number }): { t: number; v: number }[] {
  const out: { t: number; v: number }[] = [];
  for (const r of rows) {
    if (!inWindow(r.t, w)) continue;
    const v = signalValue(r, signal);
    if (v !== null) out.push({ t: r.t, v });
  }
  return out;
}

export function checkExpectation(e: Expectation, rec: Recording): ExpectationResult {
  const name = describeExpectation(e);
  const result = (ok: boolean, message: string): ExpectationResult => ({ name, ok, message });
  switch (e.kind) {
    case 'event': {
      const all = rec.events.filter((ev) => matches(ev, e));
      const hit = all.find((ev) => ev.t >= e.after - 1e-9 && ev.t <= e.after + e.within + 1e-9);
      if (hit) return result(true, `${hit.type} at ${fmt(hit.t)} s (${fmt(hit.t - e.after)} s after ${e.after} s), record ${hit.seq}`);
      const after = all.find((ev) => ev.t >= e.after - 1e-9);
      const seen = after ? `first one at ${fmt(after.t)} s, ${fmt(after.t - e.after)} s after ${e.after} s: too late` : all.length ? `only before ${e.after} s (at ${all.map((ev) => fmt(ev.t)).join(', ')} s)` : 'none recorded';
      return result(false, `expected ${name}; ${seen}`);
    }
    case 'noEvent': {
      const hits = rec.events.filter((ev) => matches(ev, e) && inWindow(ev.t, e));
      return hits.length
        ? result(false, `expected ${name}; recorded ${hits.length}, first at ${fmt(hits[0]!.t)} s (record ${hits[0]!.seq}${Object.keys(hits[0]!.details).length ? `, ${JSON.stringify(hits[0]!.details)}` : ''})`)
        : result(true, 'none recorded');
    }
    case 'count': {
      const n = rec.events.filter((ev) => matches(ev, e)).length;
      const ok = (e.min === undefined || n >= e.min) && (e.max === undefined || n <= e.max);
      return result(ok, ok ? `${n} recorded` : `expected ${name}; recorded ${n}`);
    }
    case 'counter': {
      const n = rec.counters[e.name];
      const ok = (e.min === undefined || n >= e.min) && (e.max === undefined || n <= e.max);
      return result(ok, ok ? `${e.name} = ${n}` : `expected ${name}; ${e.name} = ${n}`);
    }
    case 'range': {
      const vs = valuesOf(rec.rows, e.signal, e);
      if (!vs.length) return result(false, `expected ${name}; no record has ${e.signal} in that window`);
      const bad = vs.find((x) => (e.min !== undefined && x.v < e.min) || (e.max !== undefined && x.v > e.max));
      const lo = Math.min(...vs.map((x) => x.v));
      const hi = Math.max(...vs.map((x) => x.v));
      return bad ? result(false, `expected ${name}; ${e.signal} = ${fmt(bad.v)} at ${fmt(bad.t)} s (seen ${fmt(lo)}..${fmt(hi)} over ${vs.length} records)`) : result(true, `${fmt(lo)}..${fmt(hi)} over ${vs.length} records`);
    }
    case 'steady': {
      const vs = valuesOf(rec.rows, e.signal, e);
      if (vs.length < 2) return result(false, `expected ${name}; fewer than 2 records with ${e.signal} in that window`);
      const lo = Math.min(...vs.map((x) => x.v));
      const hi = Math.max(...vs.map((x) => x.v));
      const ok = hi - lo <= e.maxSpread + 1e-9;
      return result(ok, `${e.signal} spans ${fmt(lo)}..${fmt(hi)} (${fmt(hi - lo)}) over ${vs.length} records${ok ? '' : `: expected ${name}`}`);
    }
    case 'noGap': {
      const ts = rec.rows.filter((r) => inWindow(r.t, e)).map((r) => r.t);
      if (ts.length < 2) return result(false, `expected ${name}; fewer than 2 telemetry records in that window`);
      let worst = 0;
      let at = ts[0]!;
      for (let i = 1; i < ts.length; i++) if (ts[i]! - ts[i - 1]! > worst) [worst, at] = [ts[i]! - ts[i - 1]!, ts[i - 1]!];
      // The end of the window counts too: records that stop early are a gap.
      const end = Math.min(e.to ?? rec.durationS, rec.durationS);
      if (end - ts.at(-1)! > worst) [worst, at] = [end - ts.at(-1)!, ts.at(-1)!];
      return worst > e.maxS + 1e-9 ? result(false, `expected ${name}; a gap of ${fmt(worst)} s after ${fmt(at)} s`) : result(true, `longest gap ${fmt(worst)} s over ${ts.length} records`);
    }
    case 'ledgerVerifies':
      return rec.ledger.ok ? result(true, `${rec.ledger.records} records verify`) : result(false, `expected the ledger to verify; ${rec.ledger.reason ?? 'it did not'}`);
  }
}

export function checkAll(expectations: readonly Expectation[], rec: Recording): ExpectationResult[] {
  return expectations.map((e) => checkExpectation(e, rec));
}
