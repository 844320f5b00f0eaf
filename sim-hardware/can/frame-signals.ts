// The signals one frame of a DBC message carries, each at 0 (the switch at its value): the base
// that a simulated device fills in before a strict encode (`encodeMessage` wants every signal
// the frame holds, and refuses those a multiplexer does not select).
import type { DbcMessage, SignalValue } from '../../devices/dbc/index.ts';

export function frameSignals(msg: DbcMessage, mux?: number): Record<string, SignalValue> {
  const out: Record<string, SignalValue> = {};
  for (const s of msg.signals) {
    if (s.multiplexerIds && !(mux !== undefined && s.multiplexerIds.includes(mux))) continue;
    out[s.name] = s.multiplexer ? (mux ?? 0) : 0;
  }
  return out;
}
