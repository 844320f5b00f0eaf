// `voltrail sim`: runs the hardware simulator standalone: a pack, its BMS and the devices asked
// for on pseudo-terminals. When ready it prints ONE JSON line on stdout with the pty paths to
// point voltrail or any other tool at; while it runs, a live status line on stderr (on a TTY);
// Ctrl-C (SIGINT) or SIGTERM stops it cleanly. The simulator is loaded only when this runs.
import { existsSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../errors.ts';
import { parseNonNegativeInt, parsePositiveNumber } from '../parse.ts';

interface SimOptions {
  bms: 'jbd' | 'daly' | 'foxbms' | 'voltrail';
  serialPty?: boolean;
  firmataPty?: boolean;
  slcanPty?: boolean;
  dbc?: string;
  ivtDbc?: string;
  imdDbc?: string;
  cells: number;
  chemistry: 'nmc' | 'lfp';
  speed: number;
  seed: number;
  profile: string;
  soc: number;
  ambient: number;
  fault: string[];
}

function parseCells(text: string): number {
  const n = parseNonNegativeInt(text);
  if (n < 1 || n > 200) throw new InvalidArgumentError(`'${text}': the simulator models 1 to 200 series cells.`);
  return n;
}

function parsePercent(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError(`'${text}' is not a percentage from 0 to 100.`);
  return n;
}

function parseCelsius(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < -40 || n > 85) throw new InvalidArgumentError(`'${text}' is not a temperature from -40 to 85 degC.`);
  return n;
}

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('run the hardware simulator standalone, with ptys for other tools')
    .addOption(new Option('--bms <kind>', 'BMS to emulate').choices(['jbd', 'daly', 'foxbms', 'voltrail']).default('jbd'))
    .option('--serial-pty', 'serve the BMS UART protocol (jbd, daly) on a pseudo-terminal (the default when no other interface is asked for)')
    .option('--firmata-pty', 'serve a Firmata board (thermistors on A0.., contactor relay on D7, LED on D13) on a pseudo-terminal')
    .option('--slcan-pty', 'serve the CAN bus through an emulated slcan adapter on a pseudo-terminal (CAN BMS kinds)')
    .option('--dbc <file>', "the foxBMS 2 message set (foxBMS 2's foxbms.dbc) the foxbms BMS sends with; required with --bms foxbms")
    .option('--ivt-dbc <file>', "add an Isabellenhuette IVT-S current sensor to the CAN bus, encoding with this DBC (the vendor's IVT-S file)")
    .option('--imd-dbc <file>', "add a Bender iso165C insulation monitor to the CAN bus, with this DBC (Bender's iso165_IMD.dbc)")
    .option('--cells <n>', 'series cells, 1-200 (JBD reports up to 32, Daly up to 48)', parseCells, 16)
    .addOption(new Option('--chemistry <chem>', 'cell chemistry').choices(['nmc', 'lfp']).default('nmc'))
    .option('--speed <x>', 'simulated seconds per real second', parsePositiveNumber, 1)
    .option('--seed <n>', 'seed of cell spread and sensor noise (same seed, same run)', parseNonNegativeInt, 1)
    .option('--profile <spec>', "load/charge profile, repeated: rest | cc:<A> | cp:<W> | urban[:<scale>] | cccv[:<A>], each with optional @<seconds>, comma-separated (e.g. 'urban' or 'cc:25@1800,rest@600,cccv')", 'rest')
    .option('--soc <percent>', 'initial state of charge', parsePercent, 80)
    .option('--ambient <degC>', 'ambient temperature', parseCelsius, 25)
    .option(
      '--fault <spec>',
      "inject a fault, repeatable: <kind>[:<name>=<n>,...][@<s>][+<duration s>], cells from 1 (e.g. 'internalShort:cell=3,ohms=10@600', 'powerLoss@60+30', 'serialNoise:byteErrorRate=0.01')",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .addHelpText(
      'after',
      '\nCAN: --bms voltrail or --bms foxbms --dbc FILE, optionally with --ivt-dbc FILE and --imd-dbc FILE,\nreached from other processes with --slcan-pty.\n\nPrints one JSON line when ready, e.g.\n  {"ready":true,"bms":"jbd","serialPty":"/dev/pts/5","firmataPty":null,...}\nthen runs until Ctrl-C.',
    )
    .action(async (o: SimOptions) => {
      const can = o.bms === 'voltrail' || o.bms === 'foxbms';
      if (o.bms === 'foxbms' && !o.dbc) {
        throw new UserError("--bms foxbms sends the foxBMS 2 message set from its DBC: add --dbc FILE (foxBMS 2's tools/dbc/foxbms.dbc).", 2);
      }
      if (o.dbc && o.bms !== 'foxbms') throw new UserError(`--dbc: only --bms foxbms reads a DBC (the ${o.bms} BMS has its message set built in)`, 2);
      for (const [flag, file] of [['--dbc', o.dbc], ['--ivt-dbc', o.ivtDbc], ['--imd-dbc', o.imdDbc]] as const) {
        if (file === undefined) continue;
        if (!can) throw new UserError(`${flag}: the IVT-S and iso165 sensors sit on a CAN bus; the ${o.bms} BMS speaks UART (use --bms voltrail or foxbms)`, 2);
        if (!existsSync(file)) throw new UserError(`${flag} ${file}: no such file; give the path of the DBC file`, 2);
      }
      if (can && o.serialPty) throw new UserError(`--serial-pty: the ${o.bms} BMS speaks CAN; use --slcan-pty to reach it from other processes`, 2);
      if (!can && o.slcanPty) throw new UserError(`--slcan-pty: the ${o.bms} BMS speaks UART; use --serial-pty`, 2);
      await runSim(o);
    });
}

async function runSim(o: SimOptions): Promise<void> {
  const { startSimRig } = await import('../../../sim-hardware/sim-rig.ts');
  const { parseFaultSpec } = await import('../../../sim-hardware/fault-spec.ts');
  const can = o.bms === 'voltrail' || o.bms === 'foxbms';
  const serialPty = !can && (o.serialPty || !o.firmataPty);
  const slcanPty = can && (o.slcanPty || !o.firmataPty);
  let rig;
  try {
    const faults = o.fault.map((spec) => parseFaultSpec(spec));
    rig = await startSimRig({
      faults,
      bms: o.bms,
      cells: o.cells,
      chemistry: o.chemistry,
      seed: o.seed,
      soc: o.soc / 100,
      ambientC: o.ambient,
      profile: o.profile,
      serialPty,
      slcanPty,
      firmataPty: !!o.firmataPty,
      ...(o.dbc ? { dbcPath: o.dbc } : {}),
      ...(o.ivtDbc ? { ivtDbcPath: o.ivtDbc } : {}),
      ...(o.imdDbc ? { imdDbcPath: o.imdDbc } : {}),
      // CAN messages every 100 ms need plant steps finer than that.
      ...(can ? { maxStepS: 0.05 } : {}),
    });
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw new UserError(err.message);
    if (err instanceof Error && err.name === 'PtyError') throw new UserError(err.message);
    if (err instanceof Error && err.name === 'DbcParseError') throw new UserError(`the DBC file could not be read: ${err.message}`);
    throw err;
  }
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(
    JSON.stringify({
      ready: true,
      bms: o.bms,
      serialPty: rig.serialPty,
      serialBaud: rig.serialPty ? 9600 : null,
      firmataPty: rig.firmataPty,
      firmataBaud: rig.firmataPty ? 57600 : null,
      slcanPty: rig.slcanPty,
      ivt: rig.ivt !== null,
      imd: rig.imd !== null,
      cells: o.cells,
      chemistry: o.chemistry,
      seed: o.seed,
      speed: o.speed,
      pid: process.pid,
    }) + '\n',
  );
  const tty = process.stderr.isTTY === true;
  let lastStatus = 0;
  try {
    await rig.sim.run({
      clock: rig.clock,
      speed: o.speed,
      tickMs: 100,
      signal: ac.signal,
      onTick: (sim) => {
        const now = Date.now();
        if (!tty || now - lastStatus < 1000) return;
        lastStatus = now;
        process.stderr.write(`\r${statusLine(sim.timeS, rig.bms.measure(), rig.sim.contactorClosed)}\x1b[K`);
      },
    });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await rig.close();
    if (tty) process.stderr.write('\n');
  }
}

function statusLine(timeS: number, r: { packVoltageV: number; currentA: number; socPct: number; temperatureC: number[]; faults: Record<string, boolean | undefined> }, closed: boolean): string {
  const t = Math.floor(timeS);
  const hh = String(Math.floor(t / 3600)).padStart(2, '0');
  const mm = String(Math.floor((t % 3600) / 60)).padStart(2, '0');
  const ss = String(t % 60).padStart(2, '0');
  const faults = Object.keys(r.faults).filter((k) => r.faults[k]);
  return `sim ${hh}:${mm}:${ss}  ${r.packVoltageV.toFixed(2)} V  ${r.currentA.toFixed(1)} A  SoC ${r.socPct.toFixed(1)} %  Tmax ${Math.max(...r.temperatureC).toFixed(1)} C  contactor ${closed ? 'closed' : 'OPEN'}  faults: ${faults.length ? faults.join(',') : '-'}`;
}
