// Small inline SVG charts for the passport page: a time-series line chart (one or more series
// over a shared time axis) and an event strip (marks on a time axis). Drawn for a phone first: a
// 360-unit wide viewBox that scales to the screen, labels big enough at 390 px, nice round
// ticks, and a text summary (aria-label + <title>) so the numbers are there for screen readers.
// Everything from a bundle goes in as text nodes, never as markup.

export interface Point {
  /** ms since the epoch */
  t: number;
  v: number;
}

export interface Series {
  name: string;
  points: Point[];
  /** CSS class giving the colour (see page.css: .s0 .. .s3). */
  tone?: number;
}

const NS = 'http://www.w3.org/2000/svg';

/** Smallest and largest of `xs` (a loop: spreading a long history into Math.min overflows the stack). */
export function extent(xs: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}
const W = 360;
const H = 190;
const PAD = { left: 42, right: 10, top: 12, bottom: 30 };

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 x 10^k, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  if (out[out.length - 1]! < hi) out.push(Number((out[out.length - 1]! + step).toPrecision(12)));
  return out;
}

function dateLabel(t: number, spanMs: number): string {
  const d = new Date(t);
  const iso = d.toISOString();
  // Short spans show the time of day; long ones the month and year.
  if (spanMs < 2 * 86_400_000) return iso.slice(11, 16);
  if (spanMs < 120 * 86_400_000) return iso.slice(5, 10);
  return iso.slice(0, 7);
}

function timeTicks(t0: number, t1: number, count = 3): number[] {
  if (t1 <= t0) return [t0];
  return Array.from({ length: count + 1 }, (_, i) => t0 + ((t1 - t0) * i) / count);
}

function formatValue(v: number): string {
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1).replace(/\.0$/, '') : v.toFixed(2).replace(/\.?0+$/, '');
}

/** A line chart; with a single point it draws a dot. Returns a <figure> with the chart and its caption. */
export function lineChart(opts: { title: string; unit: string; series: Series[]; yMin?: number; yMax?: number; id?: string }): HTMLElement {
  const fig = document.createElement('figure');
  fig.className = 'chart';
  if (opts.id) fig.id = opts.id;
  const cap = document.createElement('figcaption');
  cap.textContent = `${opts.title} (${opts.unit})`;
  fig.append(cap);
  const all = opts.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.v) && Number.isFinite(p.t));
  if (all.length === 0) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'no values in this passport';
    fig.append(p);
    return fig;
  }
  const [t0, t1] = extent(all.map((p) => p.t));
  const [v0, v1] = extent(all.map((p) => p.v));
  const ticks = niceTicks(Math.min(opts.yMin ?? v0, v0), Math.max(opts.yMax ?? v1, v1));
  const y0 = ticks[0]!;
  const y1 = ticks[ticks.length - 1]!;
  const x = (t: number) => PAD.left + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right) : (W - PAD.left - PAD.right) / 2);
  const y = (v: number) => H - PAD.bottom - ((v - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);

  const last = opts.series.map((s) => (s.points.length ? `${s.name} ${formatValue(s.points[s.points.length - 1]!.v)} ${opts.unit}` : `${s.name}: none`)).join('; ');
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${opts.title}: ${all.length} values from ${new Date(t0).toISOString().slice(0, 10)} to ${new Date(t1).toISOString().slice(0, 10)}; latest ${last}` });
  svg.append(el('title', {}, `${opts.title} (${opts.unit})`));
  for (const v of ticks) {
    svg.append(el('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    svg.append(el('text', { class: 'tick', x: PAD.left - 5, y: y(v) + 4, 'text-anchor': 'end' }, formatValue(v)));
  }
  const tt = timeTicks(t0, t1);
  tt.forEach((t, i) => {
    const anchor = tt.length === 1 ? 'middle' : i === 0 ? 'start' : i === tt.length - 1 ? 'end' : 'middle';
    svg.append(el('text', { class: 'tick', x: x(t), y: H - PAD.bottom + 18, 'text-anchor': anchor }, dateLabel(t, t1 - t0)));
  });
  svg.append(el('line', { class: 'axis', x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }));
  opts.series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.v) && Number.isFinite(p.t));
    const tone = `s${(s.tone ?? i) % 4}`;
    if (pts.length === 1) svg.append(el('circle', { class: `dot ${tone}`, cx: x(pts[0]!.t), cy: y(pts[0]!.v), r: 4 }));
    else if (pts.length > 1) svg.append(el('polyline', { class: `line ${tone}`, points: pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ') }));
  });
  fig.append(svg);
  if (opts.series.length > 1 || opts.series[0]!.points.length > 0) {
    const legend = document.createElement('p');
    legend.className = 'legend';
    opts.series.forEach((s, i) => {
      const item = document.createElement('span');
      item.className = `key s${(s.tone ?? i) % 4}`;
      const p = s.points[s.points.length - 1];
      item.textContent = p ? `${s.name}: ${formatValue(p.v)} ${opts.unit}` : `${s.name}: none`;
      legend.append(item);
    });
    fig.append(legend);
  }
  return fig;
}

export interface Mark {
  t: number;
  label: string;
  /** 0 info, 1 warning, 2 fault: the mark's colour and row. */
  level: number;
}

/** Marks on a time axis, one row per level: where the events of a battery's life fall. */
export function eventStrip(opts: { title: string; marks: Mark[]; from?: number; to?: number; id?: string }): HTMLElement {
  const fig = document.createElement('figure');
  fig.className = 'chart strip';
  if (opts.id) fig.id = opts.id;
  const cap = document.createElement('figcaption');
  cap.textContent = opts.title;
  fig.append(cap);
  if (opts.marks.length === 0) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'no events in this passport';
    fig.append(p);
    return fig;
  }
  const h = 90;
  const [m0, m1] = extent(opts.marks.map((m) => m.t));
  const t0 = Math.min(opts.from ?? Infinity, m0);
  const t1 = Math.max(opts.to ?? -Infinity, m1);
  const x = (t: number) => PAD.left + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right) : (W - PAD.left - PAD.right) / 2);
  const svg = el('svg', { viewBox: `0 0 ${W} ${h}`, role: 'img', 'aria-label': `${opts.title}: ${opts.marks.length} events` });
  svg.append(el('title', {}, opts.title));
  ['info', 'warning', 'fault'].forEach((name, level) => {
    const y = 14 + level * 20;
    svg.append(el('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
    svg.append(el('text', { class: 'tick', x: PAD.left - 5, y: y + 4, 'text-anchor': 'end' }, name));
  });
  for (const m of opts.marks) {
    const level = Math.max(0, Math.min(2, m.level));
    const r = el('rect', { class: `mark l${level}`, x: x(m.t) - 1.5, y: 14 + level * 20 - 7, width: 3, height: 14 });
    r.append(el('title', {}, `${new Date(m.t).toISOString().slice(0, 16).replace('T', ' ')} ${m.label}`));
    svg.append(r);
  }
  timeTicks(t0, t1).forEach((t, i, tt) => {
    const anchor = tt.length === 1 ? 'middle' : i === 0 ? 'start' : i === tt.length - 1 ? 'end' : 'middle';
    svg.append(el('text', { class: 'tick', x: x(t), y: h - 8, 'text-anchor': anchor }, dateLabel(t, t1 - t0)));
  });
  fig.append(svg);
  return fig;
}
