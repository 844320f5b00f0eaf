// Progress while the suite runs, on stderr (stdout carries the table): a cli-progress bar on a
// terminal, one plain line per finished case otherwise (CI logs, tests, pipes).
import cliProgress from 'cli-progress';
import type { BenchResult, Progress, Skipped } from './runner.ts';
import { formatNumber, formatRatio } from './format.ts';

function describe(outcome: BenchResult | Skipped): string {
  if ('reason' in outcome) return `skipped: ${outcome.reason}`;
  return `${formatNumber(outcome.median)} ${outcome.unit}${outcome.ratio === null ? '' : ` (${formatRatio(outcome.ratio)})`}`;
}

export function plainProgress(write: (line: string) => void = (l) => process.stderr.write(l)): Progress {
  let total = 0;
  return {
    start: (n) => {
      total = n;
      write(`bench: ${n} measurements\n`);
    },
    begin: () => {},
    end: (i, c, outcome) => write(`[${i + 1}/${total}] ${c.name}: ${describe(outcome)}\n`),
    finish: () => {},
  };
}

export function barProgress(): Progress {
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {value}/{total} {case}', stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (n) => bar.start(n, 0, { case: '' }),
    begin: (_i, c) => bar.update({ case: c.name }),
    end: (i, c, outcome) => bar.update(i + 1, { case: `${c.name}: ${describe(outcome)}` }),
    finish: () => bar.stop(),
  };
}

export function defaultProgress(): Progress {
  return process.stderr.isTTY ? barProgress() : plainProgress();
}
