// The accounting limits of a provisioned board, from the static battery data in its own device
// certificate (rated capacity, nominal voltage, chemistry): the values the accounts are
// normalised by are the ones the fleet certified.
import { readFile } from 'node:fs/promises';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { peekSign1Payload } from '../../ledger/identity/cose-peek.ts';
import { decodeBatteryData } from '../../ledger/identity/battery-data.ts';
import { accountingLimits, type AccountingLimits } from './lifecycle-accountant.ts';

/** CWT private claim of the battery data (ledger/identity/device-cert.ts). */
const BATTERY_CLAIM = -65538;

export async function accountingFromCertificate(file: string): Promise<AccountingLimits> {
  const claims = decodeCbor(peekSign1Payload(await readFile(file)), { maxDepth: 8 });
  if (!(claims instanceof Map)) throw new TypeError(`${file}: not a device certificate`);
  const b = decodeBatteryData(claims.get(BATTERY_CLAIM), `${file}: battery data`);
  return accountingLimits({ chemistry: b.chemistry, capacityAh: b.capacityMah / 1000, ...(b.nominalMv ? { nominalV: b.nominalMv / 1000 } : {}) });
}
