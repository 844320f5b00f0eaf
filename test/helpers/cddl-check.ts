// A small CDDL (RFC 8610) reader and structural checker for the subset the V2X specs use:
// rules, maps with integer keys and optional members, arrays (homogeneous with occurrence
// n*m / * / + / ?, or fixed tuples with member names), integer ranges and literals, text
// literals, choices, the prelude types (uint, int, nint, bstr, tstr, bool), `.size` on bstr
// and tstr, `.cbor` on bstr, and tags (#6.n). It reads the CDDL text itself, independently of
// the codec's schema tables, so a test can check encoded messages against the spec as written.
import { readFileSync, readdirSync } from 'node:fs';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { Tagged } from '../../ledger/cbor/value.ts';

export type CddlType =
  | { k: 'range'; lo: bigint; hi: bigint }
  | { k: 'int-literal'; v: bigint }
  | { k: 'text-literal'; v: string }
  | { k: 'prelude'; name: string }
  | { k: 'ref'; name: string }
  | { k: 'choice'; of: CddlType[] }
  | { k: 'map'; members: { key: bigint; optional: boolean; type: CddlType }[] }
  | { k: 'array'; entries: { min: number; max: number; type: CddlType }[] }
  | { k: 'size'; base: CddlType; min: number; max: number }
  | { k: 'cbor'; base: CddlType; rule: CddlType }
  | { k: 'tag'; tag: number; type: CddlType };

const PRELUDE = new Set(['uint', 'int', 'nint', 'bstr', 'tstr', 'bool', 'any']);

function tokenize(src: string): string[] {
  const out: string[] = [];
  const re = /\s+|;[^\n]*|(#6\.\d+)|("(?:[^"\\]|\\.)*")|(\.\.)|(-?\d+)|(\.?[A-Za-z_][\w-]*)|([{}[\](),:/?*+=])/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < src.length && (m = re.exec(src)) !== null) {
    const tok = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? m[6];
    if (tok !== undefined) out.push(tok);
  }
  if (re.lastIndex < src.length) throw new SyntaxError(`CDDL: cannot read at ...${src.slice(re.lastIndex, re.lastIndex + 20)}`);
  return out;
}

class Parser {
  i = 0;
  constructor(readonly t: string[]) {}
  peek(n = 0) {
    return this.t[this.i + n];
  }
  next() {
    const x = this.t[this.i++];
    if (x === undefined) throw new SyntaxError('CDDL: unexpected end');
    return x;
  }
  expect(x: string) {
    const y = this.next();
    if (y !== x) throw new SyntaxError(`CDDL: expected '${x}', got '${y}' at token ${this.i}`);
  }
  isNum(x: string | undefined) {
    return x !== undefined && /^-?\d+$/.test(x);
  }

  rules(): Map<string, CddlType> {
    const rules = new Map<string, CddlType>();
    while (this.i < this.t.length) {
      const name = this.next();
      this.expect('=');
      rules.set(name, this.type());
    }
    return rules;
  }

  type(): CddlType {
    const of = [this.type1()];
    while (this.peek() === '/') {
      this.next();
      of.push(this.type1());
    }
    return of.length === 1 ? of[0]! : { k: 'choice', of };
  }

  type1(): CddlType {
    const base = this.primary();
    if (this.peek() === '.size') {
      this.next();
      if (this.peek() === '(') {
        this.next();
        const lo = Number(this.next());
        this.expect('..');
        const hi = Number(this.next());
        this.expect(')');
        return { k: 'size', base, min: lo, max: hi };
      }
      const n = Number(this.next());
      return { k: 'size', base, min: n, max: n };
    }
    if (this.peek() === '.cbor') {
      this.next();
      return { k: 'cbor', base, rule: this.primary() };
    }
    return base;
  }

  primary(): CddlType {
    const x = this.next();
    if (this.isNum(x)) {
      if (this.peek() === '..') {
        this.next();
        return { k: 'range', lo: BigInt(x), hi: BigInt(this.next()) };
      }
      return { k: 'int-literal', v: BigInt(x) };
    }
    if (x.startsWith('"')) return { k: 'text-literal', v: JSON.parse(x) as string };
    if (x.startsWith('#6.')) {
      this.expect('(');
      const type = this.type();
      this.expect(')');
      return { k: 'tag', tag: Number(x.slice(3)), type };
    }
    if (x === '(') {
      const t = this.type();
      this.expect(')');
      return t;
    }
    if (x === '{') return this.map();
    if (x === '[') return this.array();
    if (/^[A-Za-z_]/.test(x)) return PRELUDE.has(x) ? { k: 'prelude', name: x } : { k: 'ref', name: x };
    throw new SyntaxError(`CDDL: unexpected '${x}'`);
  }

  map(): CddlType {
    const members: { key: bigint; optional: boolean; type: CddlType }[] = [];
    while (this.peek() !== '}') {
      let optional = false;
      if (this.peek() === '?') {
        this.next();
        optional = true;
      }
      const key = this.next();
      if (!this.isNum(key)) throw new SyntaxError(`CDDL: map keys here are integers, got '${key}'`);
      this.expect(':');
      members.push({ key: BigInt(key), optional, type: this.type() });
      if (this.peek() === ',') this.next();
    }
    this.next();
    return { k: 'map', members };
  }

  array(): CddlType {
    const entries: { min: number; max: number; type: CddlType }[] = [];
    // After '*', a number is the upper bound unless it starts a range type (`* 0..255`).
    const upper = () => (this.isNum(this.peek()) && this.peek(1) !== '..' ? Number(this.next()) : Infinity);
    while (this.peek() !== ']') {
      let min = 1;
      let max = 1;
      const p = this.peek();
      if (p === '?') {
        this.next();
        min = 0;
      } else if (p === '+') {
        this.next();
        max = Infinity;
      } else if (p === '*') {
        this.next();
        min = 0;
        max = upper();
      } else if (this.isNum(p) && this.peek(1) === '*') {
        min = Number(this.next());
        this.next();
        max = upper();
      }
      if (/^[a-z][\w-]*$/.test(this.peek() ?? '') && this.peek(1) === ':') this.i += 2; // a member name
      entries.push({ min, max, type: this.type() });
      if (this.peek() === ',') this.next();
    }
    this.next();
    return { k: 'array', entries };
  }
}

/** Reads every .cddl file in a folder into one rule set. */
export function loadCddl(dirUrl: URL): Map<string, CddlType> {
  const rules = new Map<string, CddlType>();
  for (const f of readdirSync(dirUrl).filter((n) => n.endsWith('.cddl')).sort()) {
    for (const [name, t] of new Parser(tokenize(readFileSync(new URL(f, dirUrl), 'utf8'))).rules()) {
      if (rules.has(name)) throw new SyntaxError(`CDDL: rule ${name} defined twice (${f})`);
      rules.set(name, t);
    }
  }
  return rules;
}

/** Parses one CDDL text (for the checker's own tests). */
export function parseCddl(text: string): Map<string, CddlType> {
  return new Parser(tokenize(text)).rules();
}

/** Why `value` does not match rule `name`, or undefined when it does. */
export function check(rules: Map<string, CddlType>, name: string, value: unknown): string | undefined {
  const t = rules.get(name);
  if (t === undefined) throw new Error(`CDDL: no rule ${name}`);
  return match(rules, t, value, name);
}

function asBig(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

function match(rules: Map<string, CddlType>, t: CddlType, v: unknown, path: string): string | undefined {
  switch (t.k) {
    case 'range': {
      const n = asBig(v);
      return n !== undefined && n >= t.lo && n <= t.hi ? undefined : `${path}: ${String(v)} not in ${t.lo}..${t.hi}`;
    }
    case 'int-literal':
      return asBig(v) === t.v ? undefined : `${path}: ${String(v)} is not ${t.v}`;
    case 'text-literal':
      return v === t.v ? undefined : `${path}: ${String(v)} is not "${t.v}"`;
    case 'prelude': {
      const n = asBig(v);
      const ok =
        t.name === 'any' ||
        (t.name === 'uint' && n !== undefined && n >= 0n) ||
        (t.name === 'nint' && n !== undefined && n < 0n) ||
        (t.name === 'int' && n !== undefined) ||
        (t.name === 'bstr' && v instanceof Uint8Array) ||
        (t.name === 'tstr' && typeof v === 'string') ||
        (t.name === 'bool' && typeof v === 'boolean');
      return ok ? undefined : `${path}: not a ${t.name}`;
    }
    case 'ref': {
      const r = rules.get(t.name);
      if (r === undefined) throw new Error(`CDDL: no rule ${t.name}`);
      return match(rules, r, v, path);
    }
    case 'choice': {
      const why = t.of.map((x) => match(rules, x, v, path));
      return why.some((w) => w === undefined) ? undefined : `${path}: no choice matches (${why.join(' | ')})`;
    }
    case 'map': {
      if (!(v instanceof Map)) return `${path}: not a map`;
      const declared = new Map(t.members.map((m) => [m.key, m]));
      for (const k of v.keys()) if (asBig(k) === undefined || !declared.has(asBig(k)!)) return `${path}: key ${String(k)} is not in the spec`;
      for (const m of t.members) {
        const key = [...v.keys()].find((k) => asBig(k) === m.key);
        if (key === undefined) {
          if (!m.optional) return `${path}: required key ${m.key} missing`;
          continue;
        }
        const why = match(rules, m.type, v.get(key), `${path}.${m.key}`);
        if (why) return why;
      }
      return undefined;
    }
    case 'array': {
      if (!Array.isArray(v)) return `${path}: not an array`;
      if (t.entries.length === 1 && !(t.entries[0]!.min === 1 && t.entries[0]!.max === 1)) {
        const e = t.entries[0]!;
        if (v.length < e.min || v.length > e.max) return `${path}: ${v.length} items, spec says ${e.min}..${e.max}`;
        for (const [i, x] of v.entries()) {
          const why = match(rules, e.type, x, `${path}[${i}]`);
          if (why) return why;
        }
        return undefined;
      }
      if (v.length !== t.entries.length) return `${path}: ${v.length} items, spec says ${t.entries.length}`;
      for (const [i, e] of t.entries.entries()) {
        const why = match(rules, e.type, v[i], `${path}[${i}]`);
        if (why) return why;
      }
      return undefined;
    }
    case 'size': {
      const base = match(rules, t.base, v, path);
      if (base) return base;
      const len = v instanceof Uint8Array ? v.length : new TextEncoder().encode(v as string).length;
      return len >= t.min && len <= t.max ? undefined : `${path}: size ${len} not in ${t.min}..${t.max}`;
    }
    case 'cbor': {
      const base = match(rules, t.base, v, path);
      if (base) return base;
      return match(rules, t.rule, decodeCbor(v as Uint8Array), `${path}<cbor>`);
    }
    case 'tag':
      return v instanceof Tagged && Number(v.tag) === t.tag ? match(rules, t.type, v.value, `${path}#${t.tag}`) : `${path}: not tag ${t.tag}`;
  }
}
