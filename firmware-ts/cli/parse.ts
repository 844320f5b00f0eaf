// Parsers for option values, shared by the subcommands: each names the option it read and what
// is allowed, so a mistyped flag gets a plain answer.
import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `1500ms`, `2m`, `1h`, or a bare number of seconds, to milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`'${text}' is not a duration; write e.g. 30s, 1500ms, 2m or 1h.`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']!;
  if (!(ms > 0)) throw new InvalidArgumentError(`'${text}': a duration must be more than zero.`);
  return ms;
}

export function parseNonNegativeInt(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`'${text}' is not a whole number (0 or more).`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`'${text}' is too large.`);
  return n;
}

export function parsePositiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${text}' is not a positive number.`);
  return n;
}
