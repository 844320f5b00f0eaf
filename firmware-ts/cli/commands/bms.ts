// `voltrail bms read`: reads a BMS once (or live with --watch) through the driver the user
// names, and prints one BatterySnapshot (devices/snapshot.ts field names; --json for the object
// itself). UART BMSes (jbd, daly) are on --port; CAN ones (foxbms, dbc, voltrail) on --bus, with
// optional IVT-S and iso165 sensors merged in. Errors say what, where, and what to do.
import { Option, type Command } from 'commander';
import { SerialPort } from 'serialport';
import { systemClock } from '../../../hal/clock.ts';
import { CanError } from '../../../hal/can/errors.ts';
import type { CanBus } from '../../../hal/can/bus.ts';
import { BUS_SPEC_FORMS, openBus } from '../../../hal/can/spec.ts';
import { SerialPortLink } from '../../../hal/serial/serialport-link.ts';
import { SerialLinkError } from '../../../hal/serial/serial-link.ts';
import { loadDbc, type DbcDatabase } from '../../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../../devices/bms/can-bms-driver.ts';
import { BmsError } from '../../../devices/bms/bms-errors.ts';
import { JbdUartDriver } from '../../../devices/bms/jbd-uart.ts';
import { DalyUartDriver } from '../../../devices/bms/daly-uart.ts';
import type { UartBmsDriver } from '../../../devices/bms/uart-bms-driver.ts';
import { FOXBMS_RULES } from '../../../devices/bms/profiles/foxbms.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../../devices/bms/profiles/voltrail.ts';
import { checkMapping, loadMapping, MappingError } from '../../../devices/bms/mapping-file.ts';
import { ivtSRules, IVT_S_DEFAULT_PERIOD_MS } from '../../../devices/sensors/ivt-s.ts';
import { ISO165_RULES } from '../../../devices/sensors/iso165.ts';
import { SnapshotMerger, type SnapshotSource } from '../../../devices/snapshot-merger.ts';
import type { BatterySnapshot } from '../../../devices/snapshot.ts';
import { UserError } from '../errors.ts';
import { parseDuration, parseNonNegativeInt } from '../parse.ts';

const UART_DRIVERS = ['jbd', 'daly'] as const;
const CAN_DRIVERS = ['foxbms', 'dbc', 'voltrail'] as const;
type DriverName = (typeof UART_DRIVERS)[number] | (typeof CAN_DRIVERS)[number];

interface ReadOptions {
  driver: DriverName;
  port?: string;
  baud: number;
  bus?: string;
  dbc?: string;
  map?: string;
  ivtDbc?: string;
  imdDbc?: string;
  timeout: number;
  json?: boolean;
  watch?: boolean;
  interval: number;
  duration?: number;
}

interface Reader {
  /** Reads until a first snapshot is ready; throws UserError when nothing arrives. */
  first(): Promise<void>;
  /** Refreshes (UART: polls once; CAN: frames arrive by themselves). */
  refresh(): Promise<void>;
  snapshot(): BatterySnapshot;
  counters(): Record<string, unknown>;
  close(): Promise<void>;
}

const fixed = (v: number | null, d: number, unit: string) => (v === null ? '--' : `${v.toFixed(d)} ${unit}`);

/** A few lines a technician reads at a glance. */
export function formatSnapshot(s: BatterySnapshot): string[] {
  const stale = Object.entries(s.meta).filter(([, m]) => m?.stale).map(([k]) => k);
  const cells = s.cellVoltagesMv;
  const minMax = cells.length ? `${Math.min(...cells)}..${Math.max(...cells)} mV (${cells.length} cells)` : '--';
  const faults = Object.entries(s.faults).filter(([, on]) => on).map(([k]) => k);
  return [
    `pack ${fixed(s.packVoltageV, 2, 'V')}  current ${fixed(s.currentA, 2, 'A')} (+ = discharge)  SoC ${fixed(s.socPct, 1, '%')}  SoH ${s.sohPct === null ? 'not reported' : `${s.sohPct.toFixed(1)} %${s.meta.sohPct?.measured === false ? ' (placeholder)' : ''}`}`,
    `cells ${minMax}  temperatures ${s.temperaturesC.length ? s.temperaturesC.map((c) => c.toFixed(1)).join(' ') + ' degC' : '--'}`,
    `capacity ${fixed(s.remainingCapacityAh, 2, 'Ah')} of ${fixed(s.fullCapacityAh, 2, 'Ah')}  cycles ${s.cycleCount ?? '--'}  contactor ${s.contactorClosed === null ? '--' : s.contactorClosed ? 'closed' : 'open'}${s.insulationOhm === null ? '' : `  insulation ${(s.insulationOhm / 1000).toFixed(0)} kOhm`}`,
    `faults ${faults.length ? faults.join(', ') : 'none'}${stale.length ? `  STALE: ${stale.join(', ')}` : ''}`,
  ];
}

async function dbcOrError(path: string, flag: string): Promise<DbcDatabase> {
  try {
    return await loadDbc(path);
  } catch (err) {
    throw new UserError(`${flag} ${path}: ${(err as Error).message}`);
  }
}

function uartReader(o: ReadOptions): Reader {
  const port = new SerialPort({ path: o.port!, baudRate: o.baud, autoOpen: false });
  const link = new SerialPortLink(port);
  const opts = { link, clock: systemClock, periodMs: o.interval };
  const driver: UartBmsDriver = o.driver === 'jbd' ? new JbdUartDriver(opts) : new DalyUartDriver(opts);
  const poll = async () => {
    try {
      await driver.poll();
    } catch (err) {
      if (err instanceof SerialLinkError) throw new UserError(`--port ${o.port}: ${err.message}`, 1, { cause: err });
      if (err instanceof BmsError) throw new UserError(err.message, 1, { cause: err });
      throw err;
    }
  };
  return {
    first: poll,
    refresh: () => poll().catch((err: Error) => void process.stderr.write(`voltrail: ${err.message}\n`)),
    snapshot: () => driver.snapshot(),
    counters: () => ({ ...driver.counters }),
    close: () => driver.close(),
  };
}

async function canReader(o: ReadOptions): Promise<Reader> {
  let db: DbcDatabase;
  let rules;
  let source: string = o.driver;
  let counts;
  if (o.driver === 'voltrail') {
    db = await dbcOrError(o.dbc ?? VOLTRAIL_DBC_PATH, '--dbc');
    rules = VOLTRAIL_RULES;
  } else if (o.driver === 'foxbms') {
    if (!o.dbc) throw new UserError('--driver foxbms needs the foxBMS DBC: give --dbc FILE (foxbms.dbc from your foxBMS 2 release, tools/dbc/)', 2);
    db = await dbcOrError(o.dbc, '--dbc');
    rules = FOXBMS_RULES;
  } else {
    if (!o.dbc || !o.map) throw new UserError('--driver dbc needs your BMS\'s DBC and a mapping file: give --dbc FILE --map FILE (format: devices/README.md, "Mapping file")', 2);
    db = await dbcOrError(o.dbc, '--dbc');
    try {
      const mapping = await loadMapping(o.map);
      checkMapping(mapping, db, o.dbc);
      rules = mapping.rules;
      source = mapping.source;
      counts = mapping.counts;
    } catch (err) {
      if (err instanceof MappingError) throw new UserError(`--map: ${err.message}`, 1, { cause: err });
      throw err;
    }
  }
  let bus: CanBus;
  try {
    bus = await openBus(o.bus!, { clock: systemClock });
  } catch (err) {
    if (err instanceof CanError) throw new UserError(`--bus ${o.bus}: ${err.message}`, 1, { cause: err });
    throw err;
  }
  const make = (src: string, d: DbcDatabase, r: typeof rules, extra = {}) => {
    try {
      return new CanBmsDriver({ source: src, bus, db: d, rules: r, clock: systemClock, ...extra });
    } catch (err) {
      throw new UserError(`${err instanceof Error ? err.message : String(err)}`, 1);
    }
  };
  const bms = make(source, db, rules, counts ? { counts } : {});
  const sensors: CanBmsDriver[] = [];
  if (o.ivtDbc) sensors.push(make('ivt-s', await dbcOrError(o.ivtDbc, '--ivt-dbc'), ivtSRules(), { defaultCycleMs: IVT_S_DEFAULT_PERIOD_MS }));
  if (o.imdDbc) sensors.push(make('iso165', await dbcOrError(o.imdDbc, '--imd-dbc'), ISO165_RULES));
  const ac = new AbortController();
  let ended = false;
  const drivers = [bms, ...sensors];
  const running = Promise.all(drivers.map((d) => d.start(ac.signal))).finally(() => (ended = true));
  running.catch(() => {});
  const merged: SnapshotSource = sensors.length ? new SnapshotMerger(bms, sensors) : bms;
  return {
    async first() {
      const deadline = Date.now() + o.timeout;
      // Done when the headline values and the cells are in, the bus ends, or time is up.
      for (;;) {
        const s = merged.snapshot();
        if (s.packVoltageV !== null && s.currentA !== null && s.cellVoltagesMv.length > 0) return;
        if (ended || Date.now() >= deadline) break;
        await systemClock.sleep(50);
      }
      if (bms.counters.decoded === 0) {
        throw new UserError(
          `no ${o.driver} frames on ${o.bus} within ${o.timeout} ms (${bms.counters.frames} frames seen, ${bms.counters.unknown} with ids the DBC lacks, ${bms.counters.rejected} rejected); check the bitrate, the wiring (CAN-H/CAN-L, termination), that the BMS is awake, and the --driver/--dbc`,
        );
      }
    },
    refresh: () => Promise.resolve(),
    snapshot: () => merged.snapshot(),
    counters: () => Object.fromEntries(drivers.map((d) => [d.source, { ...d.counters }])),
    async close() {
      ac.abort();
      await bus.close();
    },
  };
}

async function read(o: ReadOptions): Promise<void> {
  const isUart = (UART_DRIVERS as readonly string[]).includes(o.driver);
  if (isUart) {
    if (!o.port) throw new UserError(`--driver ${o.driver} reads a serial port: give --port DEV (the USB-serial adapter wired to the BMS's UART, e.g. /dev/ttyUSB0)`, 2);
    if (o.bus) throw new UserError(`--driver ${o.driver} is a UART BMS: use --port, not --bus`, 2);
  } else {
    if (!o.bus) throw new UserError(`--driver ${o.driver} reads a CAN bus: give --bus SPEC (${BUS_SPEC_FORMS.join('; ')})`, 2);
    if (o.port) throw new UserError(`--driver ${o.driver} is a CAN BMS: use --bus (e.g. --bus slcan:${o.port}@500000 for an slcan adapter), not --port`, 2);
  }
  if (isUart && (o.ivtDbc || o.imdDbc)) throw new UserError('--ivt-dbc and --imd-dbc are CAN sensors: they need a CAN --driver and --bus', 2);
  const reader = isUart ? uartReader(o) : await canReader(o);
  try {
    await reader.first();
    if (!o.watch) {
      const s = reader.snapshot();
      process.stdout.write(o.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatSnapshot(s).join('\n')}\n`);
      return;
    }
    await watch(o, reader);
  } finally {
    await reader.close();
  }
}

async function watch(o: ReadOptions, reader: Reader): Promise<void> {
  const tty = process.stdout.isTTY && !o.json;
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const end = o.duration ? Date.now() + o.duration : Infinity;
  let printed = 0;
  try {
    while (!ac.signal.aborted && Date.now() < end) {
      const s = reader.snapshot();
      if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else {
        const lines = [...formatSnapshot(s), `rejected frames: ${JSON.stringify(reader.counters())}`];
        // On a terminal the block is redrawn in place; elsewhere each refresh is appended.
        if (tty && printed) process.stdout.write(`\x1b[${printed}A`);
        process.stdout.write(lines.map((l) => (tty ? `\x1b[2K${l}` : l)).join('\n') + '\n');
        printed = lines.length;
      }
      await systemClock.sleep(o.interval, ac.signal).catch(() => {});
      await reader.refresh();
    }
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

export function registerBms(program: Command): void {
  const bms = program.command('bms').description('read a BMS once or live (bms read)');
  bms
    .command('read')
    .description('read one battery snapshot from a BMS (or a live view with --watch)')
    .addOption(new Option('--driver <name>', 'BMS protocol: jbd, daly (UART); foxbms, dbc, voltrail (CAN)').choices([...UART_DRIVERS, ...CAN_DRIVERS]).makeOptionMandatory())
    .option('--port <dev>', 'serial port of a UART BMS, e.g. /dev/ttyUSB0')
    .option('--baud <n>', 'UART baud rate', parseNonNegativeInt, 9600)
    .option('--bus <spec>', `CAN bus of a CAN BMS: ${BUS_SPEC_FORMS.join('; ')}`)
    .option('--dbc <file>', "the BMS's DBC (foxbms, dbc; voltrail has its own built in)")
    .option('--map <file>', 'mapping file from DBC signals to snapshot fields (--driver dbc)')
    .option('--ivt-dbc <file>', 'also read an Isabellenhuette IVT-S current sensor on the bus, with its DBC')
    .option('--imd-dbc <file>', 'also read a Bender iso165 insulation monitor on the bus, with its DBC')
    .option('--timeout <time>', 'CAN: how long to wait for a complete snapshot', parseDuration, 6000)
    .option('--json', 'print the snapshot as JSON (BatterySnapshot field names)')
    .option('--watch', 'keep reading and refresh the view (Ctrl-C to stop)')
    .option('--interval <time>', 'refresh period with --watch', parseDuration, 1000)
    .option('--duration <time>', 'with --watch: stop after this long', parseDuration)
    .addHelpText('after', '\nCurrent is positive when the pack discharges. Examples:\n  voltrail bms read --driver jbd --port /dev/ttyUSB0\n  voltrail bms read --driver foxbms --bus slcan:/dev/ttyACM0@500000 --dbc foxbms.dbc --ivt-dbc IVT-S.dbc --json\n  voltrail bms read --driver dbc --bus socketcan:can0 --dbc orion.dbc --map orion.yaml --watch')
    .exitOverride()
    .action((o: ReadOptions) => read(o));
}
