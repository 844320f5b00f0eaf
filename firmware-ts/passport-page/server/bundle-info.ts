// What the server reads of a bundle to index it: the battery id and tier from the bundle's
// header (ledger/passport/bundle.ts), and a label for search results (manufacturer, model,
// chemistry) taken from the first device certificate only when that certificate verifies against
// a pinned fleet key, so the search list never shows text nobody signed. The page verifies
// everything else.
import { decodeBundle } from '../../../ledger/passport/bundle.ts';
import { verifyCertificate, type PublicKeyRef } from '../../../ledger/identity/device-cert.ts';
import type { ReadBundleInfo } from './bundle-index.ts';

export function bundleInfoReader(trust: readonly PublicKeyRef[]): ReadBundleInfo {
  return (bytes) => {
    const b = decodeBundle(bytes);
    let label: string | undefined;
    const first = b.certificates[0];
    for (const authority of first ? trust : []) {
      try {
        const c = verifyCertificate(first!, { authority, batteryId: b.batteryId });
        label = `${c.battery.manufacturer} ${c.battery.model}, ${c.battery.chemistry}, ${c.battery.capacityMah / 1000} Ah`;
        break;
      } catch {
        // Not this authority's certificate (or not a valid one): no label; the page will say why.
      }
    }
    return { batteryId: b.batteryId, tier: b.tier, label };
  };
}
