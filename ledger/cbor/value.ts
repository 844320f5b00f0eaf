// The JavaScript shape of a CBOR data item as voltrail's encoder takes it and its decoder gives
// it back (RFC 8949 section 3): integers as number or bigint, byte strings as Uint8Array, text
// as string, arrays, maps (a Map for any keys; a plain object for text keys when encoding),
// tags as `Tagged`, and the simple values false, true and null. `undefined` is not a value:
// a signed structure never carries one.

/** A tagged data item (RFC 8949 section 3.4): tag number and its content. */
export class Tagged {
  readonly tag: number | bigint;
  readonly value: CborValue;
  constructor(tag: number | bigint, value: CborValue) {
    if (typeof tag === 'number' ? !(Number.isSafeInteger(tag) && tag >= 0) : !(tag >= 0n && tag < 1n << 64n)) {
      throw new RangeError(`tag: ${String(tag)} is not a CBOR tag number (0 to 2^64-1)`);
    }
    this.tag = tag;
    this.value = value;
  }
}

export type CborMap = ReadonlyMap<CborValue, CborValue>;

export interface CborObject {
  readonly [key: string]: CborValue;
}

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | readonly CborValue[]
  | CborMap
  | CborObject
  | Tagged;
