// The report of a run: the documented JSON (bench/README.md, "The JSON format"), a Markdown
// table, and an SVG chart of the ratios, written side by side into the results directory.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RateSettings } from './measure.ts';
import type { Machine } from './machine.ts';
import type { BenchResult, Skipped } from './runner.ts';
import { formatNumber, formatRatio } from './format.ts';

export const REPORT_FORMAT = 'voltrail-bench/1';

export interface BenchReport {
  format: typeof REPORT_FORMAT;
  machine: Machine;
  quick: boolean;
  settings: RateSettings;
  results: BenchResult[];
  skipped: Skipped[];
  notes: string[];
}

function bySuite(results: readonly BenchResult[]): Map<string, BenchResult[]> {
  const groups = new Map<string, BenchResult[]>();
  for (const r of results) groups.set(r.suite, [...(groups.get(r.suite) ?? []), r]);
  return groups;
}

export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${(m.memory / 2 ** 30).toFixed(1)} GiB, Node ${m.node.replace(/^v/, '')}, ${m.os}; ${m.date}, load ${m.load.join(' ')}`;
}

export function toMarkdown(report: BenchReport): string {
  const lines = [
    `# voltrail bench results${report.quick ? ' (quick run)' : ''}`,
    '',
    `Machine: ${machineLine(report.machine)}.`,
    `Each figure: median of ${report.settings.runs} runs of ${report.settings.runMs} ms after ${report.settings.warmupMs} ms of warm-up; ratio = median / the reference's median in the same run.`,
  ];
  for (const [suite, rows] of bySuite(report.results)) {
    lines.push('', `## ${suite}`, '', '| benchmark | median | min | max | unit | ratio | reference |', '|---|---:|---:|---:|---|---:|---|');
    for (const r of rows) {
      const ratio = r.ratio === null ? 'n/a' : formatRatio(r.ratio);
      lines.push(`| ${r.name} | ${formatNumber(r.median)} | ${formatNumber(r.min)} | ${formatNumber(r.max)} | ${r.unit} | ${ratio} | ${r.reference ?? ''} |`);
    }
  }
  if (report.skipped.length > 0) {
    lines.push('', '## Skipped', '');
    for (const s of report.skipped) lines.push(`- ${s.name}: ${s.reason}`);
  }
  if (report.notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  return `${lines.join('\n')}\n`;
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bars of the ratios, grouped by suite, with the reference (1.0) marked. */
export function toSvg(report: BenchReport): string {
  const rowH = 22;
  const labelW = 470;
  const barW = 400;
  const width = labelW + barW + 90;
  const rows = report.results.filter((r) => r.ratio !== null);
  const scaleMax = Math.max(1.1, ...rows.map((r) => r.ratio!));
  const x = (v: number): number => labelW + (v / scaleMax) * barW;
  const parts: string[] = [];
  let y = 56;
  for (const [suite, group] of bySuite(rows)) {
    parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${xml(suite)}</text>`);
    y += rowH;
    for (const r of group) {
      const w = Math.max(1, x(r.ratio!) - labelW);
      const fill = r.better === 'higher' ? '#3b75af' : '#c8742c';
      parts.push(
        `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${xml(r.name)}</text>`,
        `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${fill}"><title>${xml(`${r.name}: ${formatNumber(r.median)} ${r.unit}, ${formatRatio(r.ratio!)} of ${r.reference ?? ''}`)}</title></rect>`,
        `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}">${formatRatio(r.ratio!)}</text>`,
      );
      y += rowH;
    }
    y += 6;
  }
  const height = y + 30;
  const one = x(1).toFixed(1);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">voltrail bench: ratio to the reference in the same run${report.quick ? ' (quick run)' : ''}</text>`,
    `<text x="10" y="38" fill="#555555">${xml(machineLine(report.machine))}</text>`,
    ...parts,
    `<line x1="${one}" y1="48" x2="${one}" y2="${y}" stroke="#333333" stroke-dasharray="4 3"/>`,
    `<text x="${one}" y="${y + 16}" text-anchor="middle" fill="#333333">1.0 = reference</text>`,
    `<text x="10" y="${y + 16}" fill="#555555">blue: higher is better; orange: lower is better</text>`,
    `</svg>`,
    '',
  ].join('\n');
}

export interface WrittenFiles {
  json: string;
  markdown: string;
  svg: string;
  extraJson?: string;
}

/** Writes latest.json, latest.md and latest.svg into `outDir` (and the JSON to `jsonFile` too). */
export async function writeReport(report: BenchReport, outDir: string, jsonFile?: string): Promise<WrittenFiles> {
  await mkdir(outDir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const files: WrittenFiles = { json: join(outDir, 'latest.json'), markdown: join(outDir, 'latest.md'), svg: join(outDir, 'latest.svg') };
  await writeFile(files.json, json);
  await writeFile(files.markdown, toMarkdown(report));
  await writeFile(files.svg, toSvg(report));
  if (jsonFile) {
    await mkdir(dirname(jsonFile), { recursive: true });
    await writeFile(jsonFile, json);
    files.extraJson = jsonFile;
  }
  return files;
}
