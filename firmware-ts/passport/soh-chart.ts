// A state-of-health chart for the terminal: the passport's summaries (state of certified
// energy, else 100 - capacity fade) against time, as rows of text. Plain characters only, so it
// reads the same in a log file, over SSH and on a phone's terminal.
import type { SummaryPoint } from '../../ledger/passport/verify.ts';

export function sohOf(p: SummaryPoint): number | undefined {
  const q = p.summary.quantities;
  if (q.stateOfCertifiedEnergy) return q.stateOfCertifiedEnergy.value;
  if (q.capacityFade) return 100 - q.capacityFade.value;
  return undefined;
}

export function sohChart(points: readonly SummaryPoint[], width = 60, height = 10): string {
  const pts = points.map((p) => ({ t: p.time, v: sohOf(p) })).filter((p): p is { t: number; v: number } => p.v !== undefined);
  if (pts.length === 0) return '  (no state-of-health values in this passport)\n';
  const vmax = Math.min(110, Math.ceil(Math.max(...pts.map((p) => p.v)) / 5) * 5);
  const vmin = Math.max(0, Math.min(vmax - 10, Math.floor(Math.min(...pts.map((p) => p.v)) / 5) * 5));
  const t0 = pts[0]!.t;
  const t1 = pts[pts.length - 1]!.t;
  const grid = Array.from({ length: height }, () => Array<string>(width).fill(' '));
  for (const p of pts) {
    const x = t1 === t0 ? width - 1 : Math.round(((p.t - t0) / (t1 - t0)) * (width - 1));
    const y = Math.round(((p.v - vmin) / (vmax - vmin)) * (height - 1));
    grid[height - 1 - Math.max(0, Math.min(height - 1, y))]![x] = '*';
  }
  const lines = grid.map((row, i) => {
    const v = vmax - ((vmax - vmin) * i) / (height - 1);
    return `${v.toFixed(0).padStart(4)} % |${row.join('')}`;
  });
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  lines.push(`       +${'-'.repeat(width)}`);
  lines.push(`        ${day(t0)}${' '.repeat(Math.max(1, width - 20))}${day(t1)}`);
  return lines.join('\n') + '\n';
}
