// The one codec engine behind every V2X message: a message is a table of fields (small integer
// CBOR key, name, type with range and unit), and this file turns a plain object into the CBOR
// map of v2x/cddl/*.cddl and back, checking every field both ways. Encoding is strict: a wrong
// type is a TypeError, a value out of range a RangeError, each naming the field by its path
// (`cam.position.latitude`). Decoding refuses unknown keys, missing fields and the same ranges,
// so a decoded message is always one this side could have encoded. All numbers are fixed-point
// integers (RFC 8949 section 4.2.1 deterministic encoding leaves no float ambiguity to sign).
import type { CborValue } from '../../ledger/cbor/value.ts';

export type FieldType =
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'enum'; readonly values: Readonly<Record<number, string>> }
  | { readonly kind: 'bytes'; readonly minSize: number; readonly maxSize: number }
  | { readonly kind: 'text'; readonly minLength: number; readonly maxLength: number; readonly pattern?: RegExp; readonly patternDoc?: string }
  | { readonly kind: 'struct'; readonly schema: Schema }
  | { readonly kind: 'array'; readonly item: FieldType; readonly minItems: number; readonly maxItems: number };

export interface Field {
  /** The CBOR map key (small integer, 1..23 fits one byte). */
  readonly key: number;
  /** The property name in the JavaScript / JSON form. */
  readonly name: string;
  readonly type: FieldType;
  /** Unit of an integer field, for errors and docs (e.g. `1e-7 degree`). */
  readonly unit?: string;
  readonly optional?: boolean;
}

export interface Schema {
  /** Name used in error paths and docs (`cam`, `position`). */
  readonly name: string;
  readonly fields: readonly Field[];
  /** Cross-field rules (end after start, ...), run after the fields checked out. */
  readonly check?: (value: Readonly<Record<string, unknown>>, path: string) => void;
}

export const int = (min: number, max: number): FieldType => ({ kind: 'int', min, max });
export const enumOf = (values: Record<number, string>): FieldType => ({ kind: 'enum', values });
export const bytes = (minSize: number, maxSize = minSize): FieldType => ({ kind: 'bytes', minSize, maxSize });
export const text = (minLength: number, maxLength: number, pattern?: RegExp, patternDoc?: string): FieldType => ({ kind: 'text', minLength, maxLength, pattern, patternDoc });
export const struct = (schema: Schema): FieldType => ({ kind: 'struct', schema });
export const array = (item: FieldType, minItems: number, maxItems: number): FieldType => ({ kind: 'array', item, minItems, maxItems });

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '...' : v}'`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function unitOf(field: Field | undefined): string {
  return field?.unit ? ` ${field.unit}` : '';
}

/** Checks one value against a type; returns its CBOR form. `encode` selects direction. */
function convert(type: FieldType, value: unknown, path: string, field: Field | undefined, encode: boolean): unknown {
  switch (type.kind) {
    case 'int': {
      const n = typeof value === 'bigint' && !encode ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`${path}: expected an integer${unitOf(field)}, got ${describe(value)}`);
      if (n < type.min || n > type.max) throw new RangeError(`${path}: ${n} is out of range [${type.min}, ${type.max}]${unitOf(field)}`);
      return n;
    }
    case 'enum': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${path}: expected an integer code, got ${describe(value)}`);
      if (!(value in type.values)) {
        const codes = Object.entries(type.values).map(([c, n]) => `${c} ${n}`).join(', ');
        throw new RangeError(`${path}: ${value} is not a known code (${codes})`);
      }
      return value;
    }
    case 'bytes': {
      if (!(value instanceof Uint8Array)) throw new TypeError(`${path}: expected bytes, got ${describe(value)}`);
      if (value.length < type.minSize || value.length > type.maxSize) {
        const want = type.minSize === type.maxSize ? `${type.minSize}` : `${type.minSize} to ${type.maxSize}`;
        throw new RangeError(`${path}: ${value.length} bytes, expected ${want}`);
      }
      return value;
    }
    case 'text': {
      if (typeof value !== 'string') throw new TypeError(`${path}: expected text, got ${describe(value)}`);
      const len = new TextEncoder().encode(value).length;
      if (len < type.minLength || len > type.maxLength) throw new RangeError(`${path}: ${len} bytes of text, expected ${type.minLength} to ${type.maxLength}`);
      if (type.pattern && !type.pattern.test(value)) throw new RangeError(`${path}: ${describe(value)} is not ${type.patternDoc ?? String(type.pattern)}`);
      return value;
    }
    case 'struct':
      return encode ? encodeStruct(type.schema, value, path) : decodeStruct(type.schema, value, path);
    case 'array': {
      if (!Array.isArray(value)) throw new TypeError(`${path}: expected an array, got ${describe(value)}`);
      if (value.length < type.minItems || value.length > type.maxItems) {
        throw new RangeError(`${path}: ${value.length} items, expected ${type.minItems} to ${type.maxItems}`);
      }
      return value.map((item, i) => convert(type.item, item, `${path}[${i}]`, field, encode));
    }
  }
}

/** Checks `value` against `schema` and returns its CBOR map (integer keys). */
export function encodeStruct(schema: Schema, value: unknown, path = schema.name): Map<number, CborValue> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new TypeError(`${path}: expected an object, got ${describe(value)}`);
  }
  const obj = value as Record<string, unknown>;
  const known = new Set(schema.fields.map((f) => f.name));
  for (const name of Object.keys(obj)) {
    if (!known.has(name) && obj[name] !== undefined) throw new TypeError(`${path}.${name}: not a field of ${schema.name} (fields: ${[...known].join(', ')})`);
  }
  const out = new Map<number, CborValue>();
  for (const f of schema.fields) {
    const v = obj[f.name];
    if (v === undefined) {
      if (f.optional) continue;
      throw new TypeError(`${path}.${f.name}: missing (required${unitOf(f) ? `, in${unitOf(f)}` : ''})`);
    }
    out.set(f.key, convert(f.type, v, `${path}.${f.name}`, f, true) as CborValue);
  }
  schema.check?.(obj, path);
  return out;
}

// Each schema's fields by CBOR key, built once: decoding runs for every message received.
const fieldsByKey = new WeakMap<Schema, Map<unknown, Field>>();

function keyTable(schema: Schema): Map<unknown, Field> {
  let t = fieldsByKey.get(schema);
  if (t === undefined) fieldsByKey.set(schema, (t = new Map(schema.fields.map((f) => [f.key, f]))));
  return t;
}

/** Reads a decoded CBOR map as `schema`, refusing unknown keys, missing fields and bad values. */
export function decodeStruct(schema: Schema, value: unknown, path = schema.name): Record<string, unknown> {
  if (!(value instanceof Map)) throw new TypeError(`${path}: expected a map, got ${describe(value)}`);
  const byKey = keyTable(schema);
  for (const k of value.keys()) {
    if (!byKey.has(k)) throw new TypeError(`${path}: unknown field key ${String(k)} (known: ${schema.fields.map((f) => `${f.key} ${f.name}`).join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    if (!value.has(f.key)) {
      if (f.optional) continue;
      throw new TypeError(`${path}.${f.name}: missing (key ${f.key})`);
    }
    out[f.name] = convert(f.type, value.get(f.key), `${path}.${f.name}`, f, false);
  }
  schema.check?.(out, path);
  return out;
}
