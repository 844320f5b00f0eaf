// The URL a battery's QR code carries (Annex XIII / Article 77: the passport is reached through a
// QR code on the battery): an IEC 61406-style identification link in the GS1 Digital Link
// manner, path segments that name the item, resolvable by a passport server (issue 14 serves it):
//   <base>/battery/<manufacturer-id>/<serial>
// from the battery URN urn:voltrail:battery:<manufacturer-id>:<serial>. The base is the
// operator's resolver (voltrail passport qr --base-url); the path never changes with it.
import { parseBatteryId } from '../identity/battery-id.ts';

export const DEFAULT_PASSPORT_BASE_URL = 'http://localhost:8080';

export function passportUrl(batteryId: string, baseUrl: string = DEFAULT_PASSPORT_BASE_URL): string {
  const id = parseBatteryId(batteryId);
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new RangeError(`base URL: '${baseUrl}' is not an absolute URL (e.g. https://passport.example.com)`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new RangeError(`base URL: '${baseUrl}' must be http or https`);
  const path = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${path}/battery/${encodeURIComponent(id.manufacturerId)}/${encodeURIComponent(id.serial)}`;
}
