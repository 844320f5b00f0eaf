// The signals of a scenario run, for a person looking at a failure: a CSV (time, pack voltage,
// current, SoC, min/max cell voltage, min/max temperature, contactor, active faults, events at
// that record) and an SVG plot of the same with the events marked, written next to the JUnit
// file. RFC 4180 CSV; the plot is plain SVG 1.1 that any browser opens.
import type { Recording, SignalRow } from './recording.ts';

const COLUMNS: [keyof SignalRow, string][] = [
  ['packVoltageV', 'pack_V'],
  ['currentA', 'current_A'],
  ['socPct', 'soc_pct'],
  ['minCellV', 'min_cell_V'],
  ['maxCellV', 'max_cell_V'],
  ['minTempC', 'min_temp_C'],
  ['maxTempC', 'max_temp_C'],
  ['contactorClosed', 'contactor_closed'],
];

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function signalsCsv(rec: Recording): string {
  const lines = [['time_s', 'seq', ...COLUMNS.map(([, h]) => h), 'faults', 'events'].join(',')];
  // Each event goes with the last record at or before it (or the first record).
  const byRow = new Map<number, string[]>();
  for (const e of rec.events) {
    let k = 0;
    for (let i = 0; i < rec.rows.length && rec.rows[i]!.t <= e.t + 1e-9; i++) k = i;
    byRow.set(k, [...(byRow.get(k) ?? []), `${e.type}${e.details.fault ? `:${e.details.fault}` : e.details.source ? `:${e.details.source}` : ''}`]);
  }
  rec.rows.forEach((r, i) => {
    const vals = COLUMNS.map(([k]) => {
      const v = r[k];
      return typeof v === 'number' ? String(Math.round(v * 1e4) / 1e4) : '';
    });
    lines.push([r.t.toFixed(3), String(r.seq), ...vals, csvField(r.faults.join(' ')), csvField((byRow.get(i) ?? []).join(' '))].join(','));
  });
  return lines.join('\r\n') + '\r\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One panel per quantity, stacked, sharing the time axis; events as vertical lines. */
export function signalsSvg(rec: Recording, title: string): string {
  const panels: { label: string; series: { key: keyof SignalRow; color: string }[] }[] = [
    { label: 'pack V', series: [{ key: 'packVoltageV', color: '#1f77b4' }] },
    { label: 'current A', series: [{ key: 'currentA', color: '#d62728' }] },
    { label: 'SoC %', series: [{ key: 'socPct', color: '#2ca02c' }] },
    { label: 'cell V (min, max)', series: [{ key: 'minCellV', color: '#9467bd' }, { key: 'maxCellV', color: '#8c564b' }] },
    { label: 'temp °C (min, max)', series: [{ key: 'minTempC', color: '#17becf' }, { key: 'maxTempC', color: '#ff7f0e' }] },
  ];
  const W = 900;
  const PH = 120;
  const L = 70;
  const R = 20;
  const T = 40;
  const H = T + panels.length * (PH + 20) + 30;
  const tMax = Math.max(rec.durationS, rec.rows.at(-1)?.t ?? 0, 1);
  const x = (t: number) => L + (t / tMax) * (W - L - R);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`];
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${L}" y="20" font-size="14">${esc(title)}</text>`);
  panels.forEach((p, k) => {
    const top = T + k * (PH + 20);
    const vals = rec.rows.flatMap((r) => p.series.map((s) => r[s.key]).filter((v): v is number => typeof v === 'number'));
    let lo = vals.length ? Math.min(...vals) : 0;
    let hi = vals.length ? Math.max(...vals) : 1;
    if (hi - lo < 1e-6) [lo, hi] = [lo - 1, hi + 1];
    const y = (v: number) => top + PH - ((v - lo) / (hi - lo)) * PH;
    out.push(`<rect x="${L}" y="${top}" width="${W - L - R}" height="${PH}" fill="none" stroke="#ccc"/>`);
    out.push(`<text x="4" y="${top + 12}">${esc(p.label)}</text>`, `<text x="${L - 4}" y="${top + 10}" text-anchor="end">${hi.toPrecision(4)}</text>`, `<text x="${L - 4}" y="${top + PH}" text-anchor="end">${lo.toPrecision(4)}</text>`);
    for (const s of p.series) {
      const pts = rec.rows.filter((r) => typeof r[s.key] === 'number').map((r) => `${x(r.t).toFixed(1)},${y(r[s.key] as number).toFixed(1)}`);
      if (pts.length) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.2" points="${pts.join(' ')}"/>`);
    }
    for (const e of rec.events) out.push(`<line x1="${x(e.t).toFixed(1)}" x2="${x(e.t).toFixed(1)}" y1="${top}" y2="${top + PH}" stroke="#e377c2" stroke-dasharray="3,3"><title>${esc(`${e.t.toFixed(2)} s ${e.type} ${JSON.stringify(e.details)}`)}</title></line>`);
  });
  const axisY = T + panels.length * (PH + 20);
  for (let k = 0; k <= 5; k++) out.push(`<text x="${x((tMax * k) / 5).toFixed(1)}" y="${axisY}" text-anchor="middle">${((tMax * k) / 5).toFixed(0)} s</text>`);
  out.push(`<text x="${L}" y="${axisY + 18}" fill="#e377c2">dashed: events (hover for type and details)</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
