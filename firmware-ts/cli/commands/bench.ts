// `voltrail bench`: runs the benchmark suite (bench/main.ts, loaded only when asked for) and
// prints its Markdown table; the JSON, table and SVG chart land in bench/results/ or --out.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UserError } from '../errors.ts';

interface BenchFlags {
  quick?: boolean;
  json?: string;
  only?: string[];
  out?: string;
  list?: boolean;
  install: boolean;
}

const names = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark suite: every figure a ratio to a reference measured in the same run')
    .option('--quick', 'short runs (under two minutes on a 2-core machine)')
    .option('--json <file>', 'also write the JSON results to this file')
    .option('--only <names>', 'comma-separated suites or benchmark ids (see --list); their references run too', names)
    .option('--out <dir>', 'directory for latest.json, latest.md and latest.svg (default: bench/results)')
    .option('--list', 'list the benchmarks that would run, and exit')
    .option('--no-install', 'never install the peer libraries into bench/thirdparty; skip them when missing')
    .addHelpText('after', '\nThe JSON format and the goals are documented in bench/README.md.')
    .action(async (flags: BenchFlags) => {
      const bench = await import('../../../bench/main.ts');
      try {
        if (flags.list) {
          for (const b of bench.listBenchmarks({ only: flags.only, quick: flags.quick })) process.stdout.write(`${b.id}\t${b.name}\n`);
          return;
        }
        const { report, files } = await bench.runBench({
          quick: flags.quick,
          only: flags.only,
          outDir: flags.out ? resolve(flags.out) : undefined,
          jsonFile: flags.json ? resolve(flags.json) : undefined,
          allowInstall: flags.install,
        });
        const { toMarkdown } = await import('../../../bench/harness/report.ts');
        process.stdout.write(toMarkdown(report));
        process.stderr.write(`bench: results in ${files.json}, ${files.markdown}, ${files.svg}${files.extraJson ? ` and ${files.extraJson}` : ''}\n`);
      } catch (err) {
        if (err instanceof RangeError) throw new UserError(err.message, 2);
        throw err;
      }
    });
}
