// `voltrail can`: watch and send CAN traffic on any bus spec (hal/can/spec.ts), like can-utils'
// candump and cansend. Real buses open listen-only; `can send` on them needs --transmit.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CanBus } from '../../../hal/can/bus.ts';
import { CandumpLogWriter, parseFrameText, timeUsOf } from '../../../hal/can/candump-log.ts';
import { CanError } from '../../../hal/can/errors.ts';
import type { CanFrame } from '../../../hal/can/frame.ts';
import { formatCanId } from '../../../hal/can/frame.ts';
import { BUS_SPEC_FORMS, isRealBus, openBus, parseBusSpec } from '../../../hal/can/spec.ts';
import type { BusSpec } from '../../../hal/can/spec.ts';
import { UserError } from '../errors.ts';
import { decodeLogFrame, loadDbc } from '../../../devices/dbc/index.ts';
import { parseDuration, parseNonNegativeInt } from '../parse.ts';

/** A decoded frame, as `--dbc` adds it to the output. */
export interface DecodedFrame {
  name: string;
  signals: Record<string, number | string>;
}

/** Turns a frame into its DBC message name and signal values (undefined when the DBC lacks it). */
export type FrameDecoder = (frame: CanFrame) => DecodedFrame | undefined;

/** Loads the DBC for `--dbc`; its errors (file, line, what was expected) reach the user as they are. */
async function loadDecoder(path: string): Promise<FrameDecoder> {
  let db;
  try {
    db = await loadDbc(path);
  } catch (err) {
    throw new UserError(`--dbc ${path}: ${(err as Error).message}`);
  }
  return (frame) => {
    const entry = decodeLogFrame(db, frame);
    return 'signals' in entry ? { name: entry.name, signals: entry.signals } : undefined;
  };
}

const SPEC_HELP = `bus spec: ${BUS_SPEC_FORMS.join('; ')}`;

function parseSpecOption(text: string): BusSpec {
  try {
    return parseBusSpec(text);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

/** The interface name a candump log records for a spec (one token, as candump writes). */
function logIface(spec: BusSpec): string {
  switch (spec.kind) {
    case 'socketcan':
      return spec.iface;
    case 'virtual':
      return spec.name.replace(/\s+/g, '_');
    default:
      return `${spec.kind}0`;
  }
}

async function open(specText: string, transmit: boolean): Promise<CanBus> {
  try {
    return await openBus(specText, {
      transmit,
      onReplayIssue: (i) => process.stderr.write(`voltrail: ${specText.replace(/^replay:/, '').replace(/\?.*$/, '')}:${i.line}: skipped: ${i.reason}\n`),
    });
  } catch (err) {
    if (err instanceof CanError) throw new UserError(err.message, 1, { cause: err });
    throw err;
  }
}

/** candump's default line: `  can0  123   [4]  DE AD BE EF`, with an absolute timestamp. */
export function formatCandumpText(frame: CanFrame, iface: string, decoded?: DecodedFrame): string {
  const ts = `(${((frame.timestamp ?? Date.now() / 1000)).toFixed(6)})`;
  const id = formatCanId(frame).padStart(8, ' ');
  const len = frame.remote ? frame.dlc : frame.data.length;
  const lenText = frame.fd ? `[${String(len).padStart(2, '0')}]` : ` [${len}]`;
  const body = frame.remote ? 'remote request' : [...frame.data].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
  const flags = [frame.fd && frame.brs ? 'BRS' : '', frame.fd && frame.esi ? 'ESI' : '', frame.error ? 'ERRORFRAME' : ''].filter(Boolean).join(' ');
  let line = `${ts}  ${iface}  ${id}  ${lenText}  ${body}${flags ? `  ${flags}` : ''}`;
  if (decoded) line += `  ${decoded.name} ${Object.entries(decoded.signals).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  return line;
}

/** One JSON object per frame: t (s), id, ext, data (hex), and the flags that are set. */
export function frameJson(frame: CanFrame, decoded?: DecodedFrame): Record<string, unknown> {
  return {
    t: frame.timestamp ?? Date.now() / 1000,
    id: frame.id,
    ext: frame.extended,
    data: Buffer.from(frame.data).toString('hex'),
    ...(frame.remote ? { rtr: true, dlc: frame.dlc } : {}),
    ...(frame.fd ? { fd: true, brs: frame.brs, esi: frame.esi } : {}),
    ...(frame.error ? { error: true } : {}),
    ...(decoded ? { name: decoded.name, signals: decoded.signals } : {}),
  };
}

interface DumpOptions {
  bus: BusSpec;
  busText: string;
  count?: number;
  json?: boolean;
  log?: string;
  transmit?: boolean;
  timeout?: number;
  dbc?: string;
}

async function dump(opts: DumpOptions): Promise<void> {
  const decode = opts.dbc ? await loadDecoder(opts.dbc) : undefined;
  const bus = await open(opts.busText, opts.transmit ?? false);
  const frames = bus.frames();
  const iface = logIface(opts.bus);
  const log = opts.log ? new CandumpLogWriter(opts.log, { iface }) : undefined;
  let seen = 0;
  let timedOut = false;
  const stop = () => void bus.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = opts.timeout
    ? setTimeout(() => {
        timedOut = true;
        stop();
      }, opts.timeout)
    : undefined;
  try {
    if (opts.count === 0) return;
    for await (const frame of frames) {
      const decoded = decode?.(frame);
      process.stdout.write((opts.json ? JSON.stringify(frameJson(frame, decoded)) : formatCandumpText(frame, iface, decoded)) + '\n');
      await log?.write({ timeUs: timeUsOf(frame), iface, frame });
      seen++;
      if (opts.count !== undefined && seen >= opts.count) break;
    }
  } catch (err) {
    if (err instanceof CanError) throw new UserError(`${err.message} (after ${seen} frames)`, 1, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await bus.close();
    await log?.close();
    const { malformed, overruns } = bus.stats();
    if (malformed > 0) process.stderr.write(`voltrail: ${malformed} malformed frames or lines were skipped\n`);
    if (overruns > 0) process.stderr.write(`voltrail: ${overruns} frames were dropped because output could not keep up\n`);
  }
  if (timedOut && opts.count !== undefined && seen < opts.count) {
    throw new UserError(`only ${seen} of ${opts.count} frames arrived on ${opts.busText} before the timeout`);
  }
}

async function send(opts: { bus: BusSpec; busText: string; frames: string[]; transmit?: boolean }): Promise<void> {
  const frames = opts.frames.map((text) => {
    try {
      return parseFrameText(text).frame;
    } catch (err) {
      throw new UserError(`frame '${text}': ${(err as Error).message}. Write it as cansend does: 123#DEADBEEF, 12345678#00, 123#R, 123#R4, 123##1DEADBEEF (CAN FD)`);
    }
  });
  if (opts.bus.kind === 'replay') throw new UserError(`${opts.busText} is a recorded log: nothing can be sent on it`);
  if (isRealBus(opts.bus) && !opts.transmit) {
    throw new UserError(
      `${opts.busText} is a real bus and opens listen-only: a frame sent there reaches the BMS, contactors and chargers on it. ` +
        `If you mean to send ${opts.frames.join(' ')}, add --transmit.`,
    );
  }
  const bus = await open(opts.busText, true);
  try {
    for (const frame of frames) await bus.send(frame);
  } catch (err) {
    if (err instanceof CanError || err instanceof RangeError) throw new UserError(err.message, 1, { cause: err });
    throw err;
  } finally {
    await bus.close();
  }
}

export function registerCan(program: Command): void {
  const can = program.command('can').description('read and send CAN traffic (dump, send)');

  can
    .command('dump')
    .description('print frames from a bus, like candump (text, or one JSON object per frame with --json)')
    .requiredOption('--bus <spec>', SPEC_HELP)
    .option('--count <n>', 'stop after this many frames', parseNonNegativeInt)
    .option('--json', 'one JSON object per frame: t, id, ext, data (hex), and name/signals with --dbc')
    .option('--log <file>', 'also write the frames to a candump -L log file')
    .option('--timeout <duration>', 'stop after this long (e.g. 10s); with --count, fail if fewer frames came', parseDuration)
    .option('--transmit', 'open a real bus in normal mode (it acknowledges frames on the wire) instead of listen-only')
    .addOption(new Option('--dbc <file>', 'decode frames with this DBC file (message name and signals)'))
    .action(async (o: { bus: string; count?: number; json?: boolean; log?: string; timeout?: number; transmit?: boolean; dbc?: string }) => {
      await dump({
        bus: parseSpecOption(o.bus),
        busText: o.bus,
        ...(o.count === undefined ? {} : { count: o.count }),
        ...(o.json ? { json: true } : {}),
        ...(o.log ? { log: o.log } : {}),
        ...(o.transmit ? { transmit: true } : {}),
        ...(o.timeout ? { timeout: o.timeout } : {}),
        ...(o.dbc ? { dbc: o.dbc } : {}),
      });
    });

  can
    .command('send')
    .description("send frames, in order, written as cansend does: 123#DEADBEEF, 1ABCDEF0#00, 123#R, 123##1DEADBEEF")
    .requiredOption('--bus <spec>', SPEC_HELP)
    .argument('<frames...>', 'ID#DATA (3 hex digits: 11-bit id, 8: 29-bit), ID#R[dlc] remote, ID##<flags>DATA CAN FD')
    .option('--transmit', 'required on real buses (slcan, socketcan): you mean to put this frame on the wire')
    .action(async (frames: string[], o: { bus: string; transmit?: boolean }) => {
      await send({ bus: parseSpecOption(o.bus), busText: o.bus, frames, ...(o.transmit ? { transmit: true } : {}) });
    });

  // main.ts turns commander's exits into exit codes for the first level; do the same below it.
  for (const cmd of can.commands) cmd.exitOverride();
}
