// `voltrail run`: the runtime. `--sim` runs it against the built-in simulator (the embedded
// default) with a live one-line status, until Ctrl-C or --duration.
import type { Command} from 'commander';
import { Option } from 'commander';
import { resolve } from 'node:path';
import { systemClock } from '../../../hal/clock.ts';
import { UserError } from '../errors.ts';
import { parseDuration, parseNonNegativeInt, parsePositiveNumber } from '../parse.ts';
import { DEFAULT_SIM_DATA_DIR } from '../../runtime/data-dir.ts';
import type { SimRunStatus } from '../../runtime/sim-run.ts';

interface RunFlags {
  sim?: boolean;
  duration?: number;
  dataDir: string;
  seed: number;
  cells: number;
  period: number;
  speed: number;
  signing: 'per-record' | 'checkpoint';
  json?: boolean;
  statusJson?: boolean;
}

const fmt = (v: number | null | undefined, digits: number, unit: string) => (v === null || v === undefined ? `--${unit}` : `${v.toFixed(digits)} ${unit}`);

export function statusLine(s: SimRunStatus): string {
  const snap = s.snapshot;
  return [
    `sim ${s.simTimeS.toFixed(1)} s`,
    `pack ${fmt(snap.packVoltageV, 2, 'V')}`,
    fmt(snap.currentA, 1, 'A'),
    `SoC ${fmt(snap.socPct, 1, '%')}`,
    `records signed ${s.records}`,
    s.framesRejected ? `frames rejected ${s.framesRejected}` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the runtime; --sim runs it against the built-in simulator')
    .option('--sim', 'use the built-in simulator (a simulated pack and BMS on a virtual CAN bus)')
    .option('--duration <time>', 'stop after this long, e.g. 30s, 5m (default: until Ctrl-C)', parseDuration)
    .option('--data-dir <dir>', `where the ledger is kept (simulator default: ./${DEFAULT_SIM_DATA_DIR})`, DEFAULT_SIM_DATA_DIR)
    .option('--seed <n>', 'simulator seed: the same seed gives the same pack and the same run', parseNonNegativeInt, 1)
    .option('--cells <n>', 'series cells in the simulated pack (1-192)', parseNonNegativeInt, 96)
    .option('--period <time>', 'telemetry sampling period', parseDuration, 1000)
    .option('--speed <x>', 'simulated seconds per real second', parsePositiveNumber, 1)
    .addOption(new Option('--signing <mode>', 'sign each record, or sign checkpoints over unsigned records').choices(['per-record', 'checkpoint']).default('per-record'))
    .option('--json', 'print the final summary as JSON')
    .option('--status-json', 'print one JSON status line per record on stdout (records counts only durable ones), for harnesses and dashboards')
    .action(async (flags: RunFlags) => {
      if (!flags.sim) {
        throw new UserError('running on real hardware needs a provisioned board (not yet available in this version); use --sim to run against the simulator', 2);
      }
      if (flags.cells < 1 || flags.cells > 192) throw new UserError(`--cells ${flags.cells}: the simulated pack has 1 to 192 cells`, 2);
      const { runSim } = await import('../../runtime/sim-run.ts');
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      const tty = process.stderr.isTTY;
      let lastPrint = 0;
      const onStatus = (s: SimRunStatus) => {
        if (flags.statusJson) {
          const snap = s.snapshot;
          process.stdout.write(
            JSON.stringify({ records: s.records, simTimeS: s.simTimeS, packVoltageV: snap.packVoltageV, currentA: snap.currentA, socPct: snap.socPct, framesRejected: s.framesRejected }) + '\n',
          );
        }
        if (tty) process.stderr.write(`\r\x1b[K${statusLine(s)}`);
        else if (Date.now() - lastPrint >= 5000) {
          lastPrint = Date.now();
          process.stderr.write(`${statusLine(s)}\n`);
        }
      };
      process.stderr.write(`voltrail: simulated run, data in ${resolve(flags.dataDir)} (throwaway simulator key; Ctrl-C to stop)\n`);
      try {
        const summary = await runSim({
          dataDir: flags.dataDir,
          clock: systemClock,
          seed: flags.seed,
          cells: flags.cells,
          periodMs: flags.period,
          speed: flags.speed,
          mode: flags.signing,
          signal: ac.signal,
          durationMs: flags.duration,
          onStatus,
        });
        if (tty) process.stderr.write('\n');
        if (flags.json) {
          process.stdout.write(
            JSON.stringify({
              records: summary.records,
              simTimeS: summary.simTimeS,
              ledgerDir: summary.ledgerDir,
              kid: summary.kid,
              signer: summary.signer,
              framesDecoded: summary.framesDecoded,
              framesRejected: summary.framesRejected,
            }) + '\n',
          );
        } else {
          process.stdout.write(`${statusLine(summary)}\nledger: ${summary.ledgerDir} (${summary.records} records signed by ${summary.kid.slice(0, 16)}…, ${summary.signer})\n`);
        }
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
    });
}
