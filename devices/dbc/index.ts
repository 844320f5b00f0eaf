// Public entry points of the DBC codec (see README.md).
export { DbcParseError } from './errors.ts';
export { parseDbc, loadDbc, dbcText } from './load.ts';
export { decodeFrame, decodeSignals, encodeMessage, encodeSignals } from './codec.ts';
export type { DecodeOptions, DecodedMessage, EncodeOptions, SignalValue } from './codec.ts';
export { decodeLog, decodeLogFrame } from './decode-log.ts';
export type { DecodedLogEntry } from './decode-log.ts';
export { INDEPENDENT_SIG_MSG } from './database-builder.ts';
export type * from './model.ts';
