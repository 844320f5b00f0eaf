// `voltrail run`: the runtime. `--sim` runs it against the built-in simulator with embedded
// defaults (no file needed); without it, `--config FILE` names the board's configuration and the
// data folder must hold a provisioned identity. A live one-line status on an interactive
// terminal; `--status-json` prints status lines on stdout for harnesses and benches.
import type { Command } from 'commander';
import { Option } from 'commander';
import { resolve } from 'node:path';
import { systemClock } from '../../../hal/clock.ts';
import { UserError } from '../errors.ts';
import { parseDuration, parseNonNegativeInt, parsePositiveNumber } from '../parse.ts';
import { DEFAULT_SIM_DATA_DIR } from '../../runtime/data-dir.ts';
import type { RuntimeStatus } from '../../runtime/status-file.ts';
import { SystemdNotifier } from '../../runtime/watchdog.ts';

interface RunFlags {
  sim?: boolean;
  config?: string;
  duration?: number;
  dataDir?: string;
  seed: number;
  cells: number;
  period?: number;
  speed: number;
  signing?: 'per-record' | 'checkpoint';
  passphraseFile?: string;
  json?: boolean;
  statusJson?: boolean;
}

const fmt = (v: number | null | undefined, digits: number, unit: string) => (v === null || v === undefined ? `--${unit}` : `${v.toFixed(digits)} ${unit}`);

export function statusLine(s: RuntimeStatus & { simTimeS?: number }): string {
  const snap = s.snapshot;
  return [
    s.simTimeS === undefined ? `up ${s.uptimeS.toFixed(0)} s` : `sim ${s.simTimeS.toFixed(1)} s`,
    `pack ${fmt(snap?.packVoltageV, 2, 'V')}`,
    fmt(snap?.currentA, 1, 'A'),
    `SoC ${fmt(snap?.socPct, 1, '%')}`,
    `records signed ${s.records}`,
    s.events ? `events ${s.events}` : '',
    s.driver.rejected ? `frames rejected ${s.driver.rejected}` : '',
    s.shed.backpressure + s.shed.storage ? `shed ${s.shed.backpressure + s.shed.storage}` : '',
    s.staleSources.length ? `STALE ${s.staleSources.join(',')}` : '',
    s.lastError ? `ERROR ${s.lastError}` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

/** One status line for --status-json (stable fields; benches read rssBytes). */
export function statusJson(s: RuntimeStatus & { simTimeS?: number }): string {
  const snap = s.snapshot;
  return JSON.stringify({
    records: s.records,
    events: s.events,
    simTimeS: s.simTimeS,
    uptimeS: s.uptimeS,
    packVoltageV: snap?.packVoltageV ?? null,
    currentA: snap?.currentA ?? null,
    socPct: snap?.socPct ?? null,
    framesRejected: s.driver.rejected,
    shed: s.shed,
    ledgerPendingBytes: s.ledgerPendingBytes,
    rssBytes: s.rssBytes,
  });
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the runtime on this board (--config FILE), or against the built-in simulator (--sim)')
    .option('--sim', 'use the built-in simulator (a simulated pack and BMS on a virtual CAN bus) with embedded defaults')
    .option('--config <file>', 'the board configuration (YAML, see firmware-ts/CONFIG.md); with --sim, only its sampler/ledger/health/log settings are used')
    .option('--duration <time>', 'stop after this long, e.g. 30s, 5m (default: until Ctrl-C)', parseDuration)
    .option('--data-dir <dir>', `where the ledger is kept (default: the config's dataDir; simulator: ./${DEFAULT_SIM_DATA_DIR})`)
    .option('--seed <n>', 'simulator seed: the same seed gives the same pack and the same run', parseNonNegativeInt, 1)
    .option('--cells <n>', 'series cells in the simulated pack (1-192)', parseNonNegativeInt, 96)
    .option('--period <time>', 'telemetry sampling period (default 1s, or the config sampler.periodMs)', parseDuration)
    .option('--speed <x>', 'simulated seconds per real second', parsePositiveNumber, 1)
    .addOption(new Option('--signing <mode>', 'sign each record, or sign checkpoints over unsigned records (default: per-record for --sim, the config ledger.mode otherwise)').choices(['per-record', 'checkpoint']))
    .option('--passphrase-file <file>', 'the device key passphrase (default: $VOLTRAIL_KEY_PASSPHRASE)')
    .option('--json', 'print the final summary as JSON')
    .option('--status-json', 'print one JSON status line per durable record and every second on stdout, for harnesses and benches')
    .action(async (flags: RunFlags) => {
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      const tty = process.stderr.isTTY;
      let lastPrint = 0;
      const onStatus = (s: RuntimeStatus & { simTimeS?: number }) => {
        if (flags.statusJson) process.stdout.write(statusJson(s) + '\n');
        if (tty) process.stderr.write(`\r\x1b[K${statusLine(s)}`);
        else if (Date.now() - lastPrint >= 5000) {
          lastPrint = Date.now();
          process.stderr.write(`${statusLine(s)}\n`);
        }
      };
      try {
        if (flags.sim) await runSimulated(flags, ac.signal, onStatus, tty);
        else await runBoard(flags, ac.signal, onStatus, tty);
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
    });
}

async function runSimulated(flags: RunFlags, signal: AbortSignal, onStatus: (s: RuntimeStatus) => void, tty: boolean): Promise<void> {
  if (flags.cells < 1 || flags.cells > 192) throw new UserError(`--cells ${flags.cells}: the simulated pack has 1 to 192 cells`, 2);
  const fileConfig = flags.config ? await (await import('../../runtime/config.ts')).loadConfig(flags.config) : undefined;
  const dataDir = flags.dataDir ?? DEFAULT_SIM_DATA_DIR;
  const { runSim } = await import('../../runtime/sim-run.ts');
  const { createLogger } = await import('../../runtime/logger.ts');
  const logCfg = fileConfig?.log ?? { level: 'warn' };
  process.stderr.write(`voltrail: simulated run, data in ${resolve(dataDir)} (throwaway simulator key; Ctrl-C to stop)\n`);
  const summary = await runSim({
    dataDir,
    clock: systemClock,
    seed: flags.seed,
    cells: flags.cells,
    periodMs: flags.period ?? fileConfig?.sampler.periodMs ?? 1000,
    speed: flags.speed,
    mode: flags.signing ?? 'per-record',
    signal,
    durationMs: flags.duration,
    onStatus,
    logger: createLogger(logCfg),
    notifier: new SystemdNotifier(process.env, undefined, { watchdog: fileConfig?.health.watchdog }),
    configure: (c) => {
      if (!fileConfig) return;
      c.sampler = { ...fileConfig.sampler, periodMs: c.sampler.periodMs };
      c.health = fileConfig.health;
      c.ledger = { ...fileConfig.ledger, mode: c.ledger.mode };
    },
  });
  if (tty) process.stderr.write('\n');
  if (flags.json) {
    process.stdout.write(
      JSON.stringify({
        records: summary.records,
        events: summary.events,
        simTimeS: summary.simTimeS,
        ledgerDir: summary.ledgerDir,
        kid: summary.kid,
        signer: summary.signer,
        framesDecoded: summary.framesDecoded,
        framesRejected: summary.framesRejected,
        shed: summary.shed,
      }) + '\n',
    );
  } else {
    process.stdout.write(`${statusLine(summary)}\nledger: ${summary.ledgerDir} (${summary.records} records and ${summary.events} events signed by ${summary.kid.slice(0, 16)}…, ${summary.signer})\n`);
  }
}

async function runBoard(flags: RunFlags, signal: AbortSignal, onStatus: (s: RuntimeStatus) => void, tty: boolean): Promise<void> {
  if (!flags.config) {
    throw new UserError('give the board configuration with --config FILE (see firmware-ts/CONFIG.md) on a board provisioned with voltrail provision (deploy/RASPBERRY-PI.md), or use --sim to run against the simulator', 2);
  }
  const { loadConfig } = await import('../../runtime/config.ts');
  const config = await loadConfig(flags.config);
  if (flags.dataDir) config.dataDir = flags.dataDir;
  if (flags.period) config.sampler.periodMs = flags.period;
  if (flags.signing) config.ledger.mode = flags.signing;
  const { fileIdentitySource } = await import('../../runtime/identity-source.ts');
  const id = await fileIdentitySource({ passphraseFile: flags.passphraseFile }).load(config.dataDir);
  const { openBms } = await import('../../runtime/bms-source.ts');
  const bms = await openBms(config.bms, systemClock, config.health.staleMarginFactor);
  const { runRuntime } = await import('../../runtime/runtime.ts');
  const { accountingFromCertificate } = await import('../../passport/board-accounting.ts');
  // Lifecycle accounts need the rated data the certificate carries; an uncertified board has none.
  const accounting = id.certificateFile ? { limits: await accountingFromCertificate(id.certificateFile) } : undefined;
  const { createLogger } = await import('../../runtime/logger.ts');
  try {
    const summary = await runRuntime({
      config,
      clock: systemClock,
      signal,
      signer: id.signer,
      simulated: false,
      driver: bms.driver,
      logger: createLogger(config.log),
      notifier: new SystemdNotifier(process.env, undefined, { watchdog: config.health.watchdog }),
      durationMs: flags.duration,
      onStatus,
      accounting,
    });
    if (tty) process.stderr.write('\n');
    if (flags.json) process.stdout.write(JSON.stringify(summary.status) + '\n');
    else process.stdout.write(`${statusLine(summary.status)}\n`);
  } finally {
    await bms.close();
  }
}
