// Decoding a stream of frames (a candump log, a live bus) against a DBC: one plain,
// JSON-ready object per frame, in order. Frames the DBC does not know, and frames that do not
// fit their message, are reported in place rather than dropped or thrown.
import type { CanFrame } from '../../hal/can/frame.ts';
import { decodeSignals, type DecodeOptions, type SignalValue } from './codec.ts';
import type { DbcDatabase } from './model.ts';

export type DecodedLogEntry =
  | { t?: number; id: number; ext: boolean; name: string; signals: Record<string, SignalValue> }
  | { t?: number; id: number; ext: boolean; unknown: true }
  | { t?: number; id: number; ext: boolean; remote: true; name?: string }
  | { t?: number; id: number; ext: boolean; name: string; error: string };

export function decodeLogFrame(db: DbcDatabase, frame: CanFrame, opts?: DecodeOptions): DecodedLogEntry {
  const head = { ...(frame.timestamp === undefined ? {} : { t: frame.timestamp }), id: frame.id, ext: frame.extended };
  const message = frame.error ? undefined : db.messageById(frame.id, frame.extended);
  if (!message) return { ...head, unknown: true };
  if (frame.remote) return { ...head, remote: true, name: message.name };
  try {
    return { ...head, name: message.name, signals: decodeSignals(message, frame.data, opts) };
  } catch (err) {
    return { ...head, name: message.name, error: err instanceof Error ? err.message : String(err) };
  }
}

/** One entry per frame: `{t, id, ext, name, signals}`, or `{t, id, ext, unknown: true}` for ids the DBC lacks. */
export async function* decodeLog(
  db: DbcDatabase,
  frames: Iterable<CanFrame> | AsyncIterable<CanFrame>,
  opts?: DecodeOptions,
): AsyncGenerator<DecodedLogEntry> {
  for await (const frame of frames) yield decodeLogFrame(db, frame, opts);
}
