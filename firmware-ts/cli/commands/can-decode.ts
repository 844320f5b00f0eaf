// `voltrail can decode --dbc FILE --log FILE [--json]`: decodes a candump log (`candump -L`
// format, hal/can/candump-log.ts) with a DBC file (devices/dbc/). One line per frame: JSON
// objects `{t, id, ext, name, signals}` with --json (frames the DBC lacks as `{t, id, ext,
// unknown: true}`), or readable text. Bad log lines are reported on stderr with their line
// number and skipped.
import type { Command } from 'commander';
import { once } from 'node:events';
import { access } from 'node:fs/promises';
import { readCandumpFile, type CandumpIssue } from '../../../hal/can/candump-log.ts';
import { formatCanId } from '../../../hal/can/frame.ts';
import type { CanFrame } from '../../../hal/can/frame.ts';
import { DbcParseError, decodeFrame, decodeLogFrame, loadDbc, type DbcDatabase, type DecodedLogEntry, type SignalValue } from '../../../devices/dbc/index.ts';
import { UserError } from '../errors.ts';

export interface CanDecodeOptions {
  dbc: string;
  log: string;
  json?: boolean;
  /** Scaled numbers instead of value-table names. */
  raw?: boolean;
}

export interface CanDecodeSummary {
  frames: number;
  decoded: number;
  unknown: number;
  errors: number;
  badLines: number;
}

async function openDbc(path: string): Promise<DbcDatabase> {
  try {
    return await loadDbc(path);
  } catch (err) {
    if (err instanceof DbcParseError) throw new UserError(`the DBC file is not valid: ${err.message}`);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`no DBC file at ${path} (give an existing file with --dbc)`);
    throw err;
  }
}

/**
 * A frame decoder for `can dump --dbc FILE`: the DBC is read once (its warnings go to `err`);
 * frames it does not know, and frames too short for their message, give undefined.
 */
export async function dbcFrameDecoder(
  path: string,
  err: NodeJS.WritableStream = process.stderr,
): Promise<(frame: CanFrame) => { name: string; signals: Record<string, SignalValue> } | undefined> {
  const dbc = await openDbc(path);
  for (const w of dbc.warnings) err.write(`voltrail: warning: ${w.file}:${w.line}: ${w.message}\n`);
  return (frame) => {
    try {
      const d = decodeFrame(dbc, frame);
      return d && { name: d.name, signals: d.signals };
    } catch {
      return undefined;
    }
  };
}

function formatText(e: DecodedLogEntry, dbc: DbcDatabase): string {
  const t = e.t === undefined ? '' : `(${e.t.toFixed(6)}) `;
  const id = formatCanId({ id: e.id, extended: e.ext });
  if ('unknown' in e) return `${t}${id} (not in the DBC)`;
  if ('remote' in e) return `${t}${id} ${e.name ?? ''} remote request`;
  if ('error' in e) return `${t}${id} ${e.name} ! ${e.error}`;
  const message = dbc.messageById(e.id, e.ext)!;
  const units = new Map(message.signals.map((s) => [s.name, s.unit]));
  const parts = Object.entries(e.signals).map(([k, v]) => {
    const unit = typeof v === 'number' ? units.get(k) : '';
    return `${k}=${typeof v === 'string' ? JSON.stringify(v) : v}${unit ? ` ${unit}` : ''}`;
  });
  return `${t}${id} ${e.name}: ${parts.join(', ')}`;
}

/** Decodes the log to `out`; bad log lines go to `err`. Returns what it saw. */
export async function runCanDecode(opts: CanDecodeOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<CanDecodeSummary> {
  const dbc = await openDbc(opts.dbc);
  for (const w of dbc.warnings) err.write(`voltrail: warning: ${w.file}:${w.line}: ${w.message}\n`);
  try {
    await access(opts.log);
  } catch {
    throw new UserError(`no candump log at ${opts.log} (give an existing file with --log)`);
  }
  const summary: CanDecodeSummary = { frames: 0, decoded: 0, unknown: 0, errors: 0, badLines: 0 };
  const onIssue = (issue: CandumpIssue): void => {
    summary.badLines++;
    err.write(`voltrail: ${opts.log}:${issue.line}: ${issue.reason}; line skipped\n`);
  };
  for await (const record of readCandumpFile(opts.log, { onIssue })) {
    summary.frames++;
    // The exact microsecond time of the log, not the frame's float seconds.
    const frame = { ...record.frame, timestamp: record.timeUs / 1e6 };
    const entry = decodeLogFrame(dbc, frame, { choices: !opts.raw });
    if ('unknown' in entry) summary.unknown++;
    else if ('error' in entry) summary.errors++;
    else if ('signals' in entry) summary.decoded++;
    const line = opts.json ? JSON.stringify(entry) : formatText(entry, dbc);
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  if (summary.badLines > 0) err.write(`voltrail: ${summary.badLines} line(s) of ${opts.log} were not candump frames and were skipped\n`);
  return summary;
}

/** Adds `decode` to the `can` command group. */
export function registerCanDecode(can: Command): void {
  can
    .command('decode')
    .description('decode a candump log with a DBC file: one line per frame (JSON objects with --json)')
    .requiredOption('--dbc <file>', 'the DBC file describing the frames')
    .requiredOption('--log <file>', 'the candump log (candump -L format: "(sec.usec) iface ID#DATA")')
    .option('--json', 'one JSON object per frame: {t, id, ext, name, signals} or {t, id, ext, unknown: true}')
    .option('--raw', 'scaled numbers instead of value-table names')
    .action(async (opts: CanDecodeOptions) => {
      await runCanDecode(opts, process.stdout, process.stderr);
    });
}
