// The URL a battery's QR code carries: an IEC 61406-1 identification link (one URL per item,
// resolvable, readable by any QR scanner) in the path form of GS1 Digital Link (GS1 DL URI
// syntax 1.2: a key name then its value, a qualifier name then its value, under any domain):
//
//   {base}/battery/{manufacturer-id}/{serial}
//
// e.g. https://passport.example.com/battery/ACME/PK-0001 for urn:voltrail:battery:ACME:PK-0001.
// The battery URN's parts are 1..24 characters of [A-Za-z0-9._-] (identity/battery-id.ts), all
// unreserved in RFC 3986, so they go into the path as they are; a part made of dots only would be
// read as a dot segment, so such an id has no link. `voltrail passport serve` answers this path
// with the passport page (and with the bundle for a client that asks for application/cbor).
import { parseBatteryId, BATTERY_URN_PREFIX } from '../identity/battery-id.ts';

/** The first path segment: the "key name" of the link, as GS1 DL's `01` names a GTIN. */
export const PASSPORT_PATH = 'battery';

/** The identification link of a battery under `baseUrl` (https://host[:port][/prefix]). */
export function passportUrl(batteryId: string, baseUrl: string): string {
  const { manufacturerId, serial } = parseBatteryId(batteryId);
  for (const [part, name] of [[manufacturerId, 'manufacturer id'], [serial, 'serial']] as const) {
    if (/^\.+$/.test(part)) throw new RangeError(`battery id '${batteryId}': a ${name} of dots only cannot be carried in a URL path`);
  }
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new RangeError(`base URL '${baseUrl}' is not a URL; give e.g. https://passport.example.com`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new RangeError(`base URL '${baseUrl}': use https (http only on a test bench)`);
  if (base.search || base.hash) throw new RangeError(`base URL '${baseUrl}': no query or fragment`);
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}/${PASSPORT_PATH}/${manufacturerId}/${serial}`;
}

/** The battery URN a link names, or undefined when `url` is not a passport link. */
export function batteryIdFromUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const m = new RegExp(`/${PASSPORT_PATH}/([A-Za-z0-9._-]{1,24})/([A-Za-z0-9._-]{1,24})/?$`).exec(u.pathname);
  return m ? `${BATTERY_URN_PREFIX}${m[1]}:${m[2]}` : undefined;
}
