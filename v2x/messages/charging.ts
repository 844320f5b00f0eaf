// V2I energy exchange (v2x/cddl/charging.cddl): a charging point's availability and offers,
// a vehicle's reservation request, and the station's signed session receipt naming both
// parties (the station id and the vehicle's pseudonym digest). Power in W, energy in Wh,
// prices in 1e-4 currency units (ISO 4217 code), so 0.3900 EUR/kWh is 3900.
import { array, bytes, enumOf, int, struct, text } from '../codec/schema.ts';
import type { Schema } from '../codec/schema.ts';
import { notBefore, position, stationId, timeField } from './field-types.ts';
import type { Position } from './field-types.ts';

export const CONNECTOR_TYPE = { 0: 'type2', 1: 'ccs2', 2: 'chademo', 3: 'ccs1', 4: 'type1', 5: 'gbt', 6: 'nacs', 7: 'mcs' } as const;
export const CONNECTOR_STATUS = { 0: 'available', 1: 'occupied', 2: 'reserved', 3: 'outOfService' } as const;

const currency = text(3, 3, /^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');
const price = int(0, 100_000_000); // up to 10,000 currency units per kWh

export interface Connector {
  connectorId: number;
  connectorType: number;
  /** Maximum power, W, 0..3750000. */
  maxPower: number;
  status: number;
  /** Price per kWh in 1e-4 currency units. */
  pricePerKwh: number;
  availableFrom: number;
  availableUntil: number;
}

export interface ChargingOffer {
  stationId: number;
  position: Position;
  currency: string;
  connectors: Connector[];
}

export interface ReservationRequest {
  stationId: number;
  connectorId: number;
  /** Random id chosen by the vehicle, 8..16 bytes; the receipt's session id repeats it. */
  reservationId: Uint8Array;
  from: number;
  until: number;
  /** Energy asked for, Wh. */
  energyRequested: number;
  /** Highest price per kWh accepted, 1e-4 currency units. */
  maxPricePerKwh: number;
  currency: string;
}

export interface SessionReceipt {
  stationId: number;
  connectorId: number;
  sessionId: Uint8Array;
  /** The vehicle party: the 8-byte digest of the pseudonym it charged under. */
  vehicle: Uint8Array;
  start: number;
  end: number;
  /** Energy delivered, Wh. */
  energyDelivered: number;
  pricePerKwh: number;
  /** energyDelivered * pricePerKwh / 1000, rounded half up, in 1e-4 currency units. */
  totalPrice: number;
  currency: string;
}

const connectorSchema: Schema = {
  name: 'connector',
  fields: [
    { key: 1, name: 'connectorId', type: int(0, 255) },
    { key: 2, name: 'connectorType', type: enumOf(CONNECTOR_TYPE) },
    { key: 3, name: 'maxPower', type: int(0, 3_750_000), unit: 'W' },
    { key: 4, name: 'status', type: enumOf(CONNECTOR_STATUS) },
    { key: 5, name: 'pricePerKwh', type: price, unit: '1e-4 currency unit' },
    timeField(6, 'availableFrom'),
    timeField(7, 'availableUntil'),
  ],
  check: (v, path) => notBefore(v, path, 'availableFrom', 'availableUntil'),
};

export const chargingOfferSchema: Schema = {
  name: 'chargingOffer',
  fields: [
    { key: 1, name: 'stationId', type: stationId },
    { key: 2, name: 'position', type: position },
    { key: 3, name: 'currency', type: currency },
    { key: 4, name: 'connectors', type: array(struct(connectorSchema), 1, 32) },
  ],
};

export const reservationSchema: Schema = {
  name: 'reservation',
  fields: [
    { key: 1, name: 'stationId', type: stationId },
    { key: 2, name: 'connectorId', type: int(0, 255) },
    { key: 3, name: 'reservationId', type: bytes(8, 16) },
    timeField(4, 'from'),
    timeField(5, 'until'),
    { key: 6, name: 'energyRequested', type: int(0, 1_000_000), unit: 'Wh' },
    { key: 7, name: 'maxPricePerKwh', type: price, unit: '1e-4 currency unit' },
    { key: 8, name: 'currency', type: currency },
  ],
  check: (v, path) => notBefore(v, path, 'from', 'until'),
};

/** The total a receipt must state: energy (Wh) x price (1e-4/kWh) / 1000, rounded half up. */
export function receiptTotal(energyWh: number, pricePerKwh: number): number {
  return Number((BigInt(energyWh) * BigInt(pricePerKwh) + 500n) / 1000n);
}

export const receiptSchema: Schema = {
  name: 'receipt',
  fields: [
    { key: 1, name: 'stationId', type: stationId },
    { key: 2, name: 'connectorId', type: int(0, 255) },
    { key: 3, name: 'sessionId', type: bytes(8, 16) },
    { key: 4, name: 'vehicle', type: bytes(8) },
    timeField(5, 'start'),
    timeField(6, 'end'),
    { key: 7, name: 'energyDelivered', type: int(0, 10_000_000), unit: 'Wh' },
    { key: 8, name: 'pricePerKwh', type: price, unit: '1e-4 currency unit' },
    { key: 9, name: 'totalPrice', type: int(0, Number.MAX_SAFE_INTEGER), unit: '1e-4 currency unit' },
    { key: 10, name: 'currency', type: currency },
  ],
  check(v, path) {
    notBefore(v, path, 'start', 'end');
    const want = receiptTotal(v.energyDelivered as number, v.pricePerKwh as number);
    if (v.totalPrice !== want) throw new RangeError(`${path}.totalPrice: ${String(v.totalPrice)} does not match energyDelivered x pricePerKwh / 1000 = ${want}`);
  },
};
