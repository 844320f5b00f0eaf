// Reads the CBOR test vectors in test/vectors/: a JSON description of each value (so that
// integers beyond 2^53, -0, NaN and byte strings survive JSON) and its expected encoding.
import { readFileSync } from 'node:fs';
import { Tagged } from '../../ledger/cbor/value.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';

export type VectorValue =
  | { int: string }
  | { float: number | string }
  | { text: string }
  | { hex: string }
  | { bool: boolean }
  | { null: true }
  | { array: VectorValue[] }
  | { map: [VectorValue, VectorValue][] }
  | { tag: number; value: VectorValue };

/** Turns a JSON description from a vector file into the JavaScript value the encoder takes. */
export function fromVector(v: VectorValue): CborValue {
  if ('int' in v) {
    const n = BigInt(v.int);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if ('float' in v) return typeof v.float === 'number' ? v.float : v.float === '-0' ? -0 : Number(v.float);
  if ('text' in v) return v.text;
  if ('hex' in v) return new Uint8Array(Buffer.from(v.hex, 'hex'));
  if ('bool' in v) return v.bool;
  if ('null' in v) return null;
  if ('array' in v) return v.array.map(fromVector);
  if ('map' in v) return new Map(v.map.map(([k, x]) => [fromVector(k), fromVector(x)]));
  return new Tagged(v.tag, fromVector(v.value));
}

export function appendixA(): { vectors: { value: VectorValue; hex: string }[] } {
  return JSON.parse(readFileSync(new URL('../vectors/rfc8949-appendix-a.json', import.meta.url), 'utf8')) as { vectors: { value: VectorValue; hex: string }[] };
}
