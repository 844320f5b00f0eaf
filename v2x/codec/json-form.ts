// The JSON form of a message body, for files and the command line: the same field names and
// fixed-point integers as the TypeScript shape, with byte strings as hex text. Conversion
// follows the schema, so a hex string is only accepted where the spec has bytes.
import type { FieldType, Schema } from './schema.ts';

function toJsonValue(type: FieldType, v: unknown): unknown {
  if (v === undefined) return undefined;
  switch (type.kind) {
    case 'bytes':
      return v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
    case 'struct':
      return bodyToJson(type.schema, v);
    case 'array':
      return Array.isArray(v) ? v.map((x) => toJsonValue(type.item, x)) : v;
    default:
      return v;
  }
}

function fromJsonValue(type: FieldType, v: unknown, path: string): unknown {
  switch (type.kind) {
    case 'bytes': {
      if (typeof v !== 'string') return v; // the codec names the type error
      const hex = v.startsWith('0x') ? v.slice(2) : v;
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new TypeError(`${path}: expected hex bytes, got '${v}'`);
      return new Uint8Array(Buffer.from(hex, 'hex'));
    }
    case 'struct':
      return bodyFromJson(type.schema, v, path);
    case 'array':
      return Array.isArray(v) ? v.map((x, i) => fromJsonValue(type.item, x, `${path}[${i}]`)) : v;
    default:
      return v;
  }
}

export function bodyToJson(schema: Schema, body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const out: Record<string, unknown> = {};
  const o = body as Record<string, unknown>;
  for (const f of schema.fields) if (o[f.name] !== undefined) out[f.name] = toJsonValue(f.type, o[f.name]);
  for (const k of Object.keys(o)) if (!(k in out) && o[k] !== undefined && !schema.fields.some((f) => f.name === k)) out[k] = o[k];
  return out;
}

export function bodyFromJson(schema: Schema, json: unknown, path = schema.name): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const out: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  for (const f of schema.fields) if (out[f.name] !== undefined) out[f.name] = fromJsonValue(f.type, out[f.name], `${path}.${f.name}`);
  return out;
}

/** Sets `path` (dotted, `a.b[0].c`) in a JSON object to `value`, creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.').flatMap((p) => p.split(/\[(\d+)\]/).filter((x) => x !== ''));
  let o: Record<string, unknown> | unknown[] = obj;
  for (const [i, p] of parts.entries()) {
    const last = i === parts.length - 1;
    const key = Array.isArray(o) ? Number(p) : p;
    if (last) (o as Record<string | number, unknown>)[key] = value;
    else {
      const next = (o as Record<string | number, unknown>)[key];
      if (typeof next !== 'object' || next === null) (o as Record<string | number, unknown>)[key] = /^\d+$/.test(parts[i + 1]!) ? [] : {};
      o = (o as Record<string | number, unknown>)[key] as Record<string, unknown>;
    }
  }
}

/** The field type at a dotted path (`position.latitude`, `connectors[0].maxPower`), if any. */
export function fieldTypeAt(schema: Schema, path: string): FieldType | undefined {
  const parts = path.split('.').flatMap((p) => p.split(/\[(\d+)\]/).filter((x) => x !== ''));
  let type: FieldType = { kind: 'struct', schema };
  for (const p of parts) {
    if (type.kind === 'array' && /^\d+$/.test(p)) {
      type = type.item;
      continue;
    }
    if (type.kind !== 'struct') return undefined;
    const f: Schema['fields'][number] | undefined = type.schema.fields.find((x) => x.name === p);
    if (f === undefined) return undefined;
    type = f.type;
  }
  return type;
}
