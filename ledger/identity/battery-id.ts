// The battery's unique identifier as a URN (EU Battery Regulation 2023/1542 Art. 77: the passport
// carries a unique identifier, and the battery's QR code leads to it). Form, as in
// ledger/cddl/device-cert.cddl:  urn:voltrail:battery:<manufacturer-id>:<serial>
// where each part is 1..24 characters of [A-Za-z0-9._-], not only dots; the whole is at most 64 characters
// (common.cddl battery-id). Case is kept: "ACME" and "acme" are different manufacturers.

export const BATTERY_URN_PREFIX = 'urn:voltrail:battery:';
// At least one letter, digit, '_' or '-': a part of only dots would be a dot segment in the
// passport URL (passport/passport-url.ts) and resolve to another path.
const PART = /^(?!\.+$)[A-Za-z0-9._-]{1,24}$/;

export interface BatteryUrn {
  urn: string;
  manufacturerId: string;
  serial: string;
}

/**
 * Parses a battery id given as the full URN or as `<manufacturer-id>:<serial>` (which gets the
 * prefix); throws RangeError naming what is wrong.
 */
export function parseBatteryId(text: string, field = 'battery id'): BatteryUrn {
  if (typeof text !== 'string') throw new TypeError(`${field}: expected text`);
  const rest = text.startsWith(BATTERY_URN_PREFIX) ? text.slice(BATTERY_URN_PREFIX.length) : text;
  const parts = rest.split(':');
  if (parts.length !== 2 || !PART.test(parts[0]!) || !PART.test(parts[1]!)) {
    throw new RangeError(
      `${field}: '${text}' is not ${BATTERY_URN_PREFIX}<manufacturer-id>:<serial> (or <manufacturer-id>:<serial>), each part 1-24 characters of letters, digits, '.', '_' or '-', not only dots`,
    );
  }
  const urn = `${BATTERY_URN_PREFIX}${parts[0]}:${parts[1]}`;
  return { urn, manufacturerId: parts[0]!, serial: parts[1]! };
}

export function isBatteryUrn(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith(BATTERY_URN_PREFIX)) return false;
  try {
    parseBatteryId(value);
    return true;
  } catch {
    return false;
  }
}
