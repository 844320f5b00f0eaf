// `voltrail hil`: hardware-in-the-loop scenarios (sim-hardware/scenarios/SCENARIOS.md).
//   hil run SCENARIO|DIR... [--target sim|bench] [--junit FILE] [--speed X] [--self-test] ...
//   hil check SCENARIO|DIR...   validates files without running them
// Progress on stderr (a bar on a terminal, a line per scenario otherwise), a summary table on
// stdout, JUnit XML with --junit, and a CSV and SVG of the signals of each failed scenario next
// to the JUnit file (or in --report-dir). Exit code 1 when any scenario failed or broke.
import type { Command } from 'commander';
import { Option } from 'commander';
import { mkdir, readdir, stat, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { parsePositiveNumber } from '../parse.ts';
import type { Scenario } from '../../hil/scenario.ts';
import type { ScenarioResult, Target } from '../../hil/hil-runner.ts';

interface RunFlags {
  target: 'sim' | 'bench';
  junit?: string;
  reportDir?: string;
  speed?: number;
  selfTest?: boolean;
  switchOff: string[];
  workDir?: string;
  keepData?: boolean;
  dbcDir?: string;
  json?: boolean;
  // bench
  config?: string;
  can?: string;
  serial?: string;
  bmsDriver?: string;
  scpi: string[];
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** The scenario files named: files as given, folders as their *.yaml / *.yml, sorted. */
async function scenarioFiles(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    let st;
    try {
      st = await stat(a);
    } catch {
      throw new UserError(`${resolve(a)}: no such scenario file or folder; the shipped library is in sim-hardware/scenarios/`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(a)).filter((n) => /\.ya?ml$/.test(n)).sort();
      if (!names.length) throw new UserError(`${resolve(a)}: no *.yaml scenario files in this folder`);
      out.push(...names.map((n) => join(a, n)));
    } else out.push(a);
  }
  return out;
}

async function loadAll(args: string[]): Promise<Scenario[]> {
  const { loadScenario } = await import('../../hil/scenario.ts');
  const files = await scenarioFiles(args);
  const problems: string[] = [];
  const list: Scenario[] = [];
  for (const f of files) {
    try {
      list.push(await loadScenario(f));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length) throw new UserError(problems.join('\n'), 2);
  return list;
}

function pad(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n);
}

export function summaryTable(results: readonly ScenarioResult[]): string {
  const w = Math.min(48, Math.max(8, ...results.map((r) => r.scenario.name.length)));
  const lines = [`${pad('scenario', w)}  ${pad('result', 8)}  ${pad('checks', 7)}  ${pad('time', 7)}  detail`];
  for (const r of results) {
    const ok = r.expectations.filter((e) => e.ok).length;
    const checks = r.expectations.length ? `${ok}/${r.expectations.length}` : '-';
    const detail = r.status === 'passed' && !r.selfTest ? '' : (r.message ?? r.expectations.find((e) => !e.ok)?.message ?? '');
    lines.push(`${pad(r.scenario.name, w)}  ${pad(r.status.toUpperCase(), 8)}  ${pad(checks, 7)}  ${pad(`${r.timeS.toFixed(1)} s`, 7)}  ${detail}`);
  }
  const n = (st: ScenarioResult['status']) => results.filter((r) => r.status === st).length;
  lines.push('', `${results.length} scenarios: ${n('passed')} passed, ${n('failed')} failed, ${n('error')} errors, ${n('skipped')} skipped`);
  return lines.join('\n') + '\n';
}

export function registerHil(program: Command): void {
  const hil = program.command('hil').description('run hardware-in-the-loop scenarios against the simulator or a real bench (hil run, hil check)');

  hil
    .command('check')
    .description('validate scenario files (YAML, fields, timeline) without running them')
    .argument('<scenario...>', 'scenario files, or folders of *.yaml')
    .action(async (args: string[]) => {
      const list = await loadAll(args);
      for (const s of list) process.stdout.write(`ok  ${s.name}  (${s.file}: ${s.timeline.length} stimuli, ${s.expect.length} expectations)\n`);
    });

  hil
    .command('run')
    .description('run scenarios; exit 1 when any fails')
    .argument('<scenario...>', 'scenario files, or folders of *.yaml (the library: sim-hardware/scenarios)')
    .addOption(new Option('--target <target>', 'sim: voltrail\'s runtime on the built-in simulator; bench: real hardware (--config/--can/--serial, --scpi)').choices(['sim', 'bench']).default('sim'))
    .option('--junit <file>', 'write a JUnit XML report here; CSV and SVG of failed scenarios go beside it')
    .option('--report-dir <dir>', 'where the CSV and SVG of failed scenarios go (default: beside --junit)')
    .option('--speed <x>', 'simulated seconds per real second (default: as fast as the CPU allows)', parsePositiveNumber)
    .option('--self-test', 'the test of the test: run each scenario with its selfTest.switchOff and pass only when it then fails')
    .option('--switch-off <what>', 'switch a behaviour off in every scenario (repeatable): protection:NAME, detection:fault:NAME, detection:stale, stimulus:KIND, ...', collect, [])
    .option('--dbc-dir <dir>', 'sim: the folder holding foxbms.dbc and iso165_IMD.dbc, for foxBMS scenarios (skipped without it)')
    .option('--work-dir <dir>', 'where each run keeps its ledger (default: a temporary folder)')
    .option('--keep-data', 'keep each run\'s data folder (ledger) after the run')
    .option('--json', 'print the results as JSON instead of the table')
    .option('--config <file>', 'bench: the board configuration (firmware-ts/CONFIG.md) naming the BMS driver and its bus or port')
    .option('--can <spec>', 'bench: the BMS CAN bus, e.g. slcan:/dev/ttyACM0@500000 or socketcan:can0 (overrides the config)')
    .option('--serial <path>', 'bench: the BMS serial port for a JBD or Daly BMS (overrides the config)')
    .addOption(new Option('--bms-driver <driver>', 'bench: the BMS driver with --can/--serial').choices(['voltrail-can', 'foxbms-can', 'jbd', 'daly']))
    .option('--scpi <name=address>', 'bench: an instrument of the scenarios, e.g. load=tcp:192.168.1.50:5025 or psu=serial:/dev/ttyUSB0@9600 (repeatable)', collect, [])
    .action(async (args: string[], flags: RunFlags) => {
      const list = await loadAll(args);
      const { runScenarios } = await import('../../hil/hil-runner.ts');
      let target: Target;
      let skip: ((s: Scenario) => string | undefined) | undefined;
      let closeTarget = async () => {};
      if (flags.target === 'bench') {
        const { prepareBench } = await import('../../hil/bench-target.ts');
        const bench = await prepareBench({ config: flags.config, can: flags.can, serial: flags.serial, driver: flags.bmsDriver, scpi: flags.scpi }, list);
        target = bench.run;
        skip = bench.skip;
        closeTarget = () => bench.close();
      } else {
        if (flags.can || flags.serial || flags.scpi.length || flags.config) throw new UserError('--can, --serial, --scpi and --config are for --target bench; the simulator needs none of them', 2);
        const { runOnSim, dbcFilesFor } = await import('../../hil/sim-target.ts');
        target = runOnSim;
        const { existsSync } = await import('node:fs');
        skip = (s) => {
          const missing = dbcFilesFor(s).filter((f) => !flags.dbcDir || !existsSync(join(flags.dbcDir, f)));
          return missing.length ? `needs ${missing.join(' and ')}: give their folder with --dbc-dir DIR` : undefined;
        };
      }
      const { parseSwitchOff } = await import('../../hil/switch-off.ts');
      try {
        parseSwitchOff(flags.switchOff);
      } catch (err) {
        throw new UserError(`--switch-off: ${(err as Error).message}`, 2);
      }
      const workDir = resolve(flags.workDir ?? join(tmpdir(), `voltrail-hil-${process.pid}`));
      await mkdir(workDir, { recursive: true });

      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      const tty = process.stderr.isTTY === true;
      const cliProgress = tty ? (await import('cli-progress')).default : undefined;
      const bar = cliProgress
        ? new cliProgress.SingleBar({ format: 'hil [{bar}] {value}/{total} s  {index}/{count} {scenario}', stream: process.stderr, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic)
        : undefined;
      let results: ScenarioResult[];
      try {
        results = await runScenarios(list, {
          target,
          targetName: flags.target,
          workDir,
          keepData: flags.keepData,
          dbcDir: flags.dbcDir,
          speed: flags.speed,
          switchOff: flags.switchOff,
          selfTest: flags.selfTest,
          signal: ac.signal,
          skip,
          onStart: (s, i) => {
            if (bar) bar.start(Math.round(s.setup.durationS), 0, { scenario: s.name, index: i + 1, count: list.length });
            else process.stderr.write(`hil: [${i + 1}/${list.length}] ${s.name} (${s.setup.durationS} s on ${flags.target})\n`);
          },
          onProgress: (_s, t) => bar?.update(Math.min(Math.round(t), bar.getTotal())),
          onResult: (r) => {
            bar?.stop();
            if (!tty) process.stderr.write(`hil:   ${r.status}${r.status === 'passed' ? '' : `: ${r.message ?? r.expectations.find((e) => !e.ok)?.message ?? ''}`}\n`);
          },
        });
      } finally {
        bar?.stop();
        process.off('SIGINT', onSigint);
        await closeTarget();
        if (!flags.workDir && !flags.keepData) await rm(workDir, { recursive: true, force: true });
      }

      const reportDir = flags.reportDir ?? (flags.junit ? dirname(resolve(flags.junit)) : undefined);
      const written: string[] = [];
      if (flags.junit) {
        const { junitXml } = await import('../../hil/junit-report.ts');
        await mkdir(dirname(resolve(flags.junit)), { recursive: true });
        await writeFile(flags.junit, junitXml(results, { target: flags.target }));
        written.push(flags.junit);
      }
      const failed = results.filter((r) => (r.status === 'failed' || r.status === 'error') && r.recording && r.recording.rows.length);
      if (reportDir && failed.length) {
        const { signalsCsv, signalsSvg } = await import('../../hil/signal-report.ts');
        const { scenarioSlug } = await import('../../hil/hil-runner.ts');
        await mkdir(reportDir, { recursive: true });
        for (const r of failed) {
          const base = join(reportDir, scenarioSlug(r.scenario.name));
          await writeFile(`${base}.csv`, signalsCsv(r.recording!));
          await writeFile(`${base}.svg`, signalsSvg(r.recording!, `${r.scenario.name}: ${r.status}`));
          written.push(`${base}.csv`, `${base}.svg`);
        }
      }
      if (flags.json) {
        process.stdout.write(
          JSON.stringify({
            target: flags.target,
            selfTest: flags.selfTest === true,
            results: results.map((r) => ({ name: r.scenario.name, file: r.scenario.file, status: r.status, message: r.message, timeS: r.timeS, switchOff: r.switchOff, expectations: r.expectations })),
            written,
          }) + '\n',
        );
      } else {
        process.stdout.write(summaryTable(results));
        if (written.length) process.stdout.write(`written: ${written.join(', ')}\n`);
        else if (failed.length) process.stdout.write('give --junit FILE or --report-dir DIR for a CSV and SVG of the signals of each failed scenario\n');
      }
      if (ac.signal.aborted) throw new UserError('interrupted', 130);
      if (results.some((r) => r.status === 'failed' || r.status === 'error')) process.exitCode = 1;
    });
}
