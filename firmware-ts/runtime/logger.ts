// Structured JSON logs (pino): one object per line, to the configured file or to stderr. The
// live status line of an interactive run also uses stderr; logs then stay at warnings and up
// unless the config asks for more, so the two do not fight over the terminal.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(o: { level: string; file?: string }): Logger {
  const dest = o.file ? pino.destination({ dest: o.file, mkdir: true, sync: false }) : pino.destination({ fd: 2, sync: true });
  return pino({ level: o.level, base: { pid: process.pid, name: 'voltrail' }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** A logger that writes nothing (tests, and callers that report by other means). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
