// An independent reference decoder for the DBC cross-checks, written straight from the DBC
// specification (Vector "DBC File Format Documentation" 1.0.5, section 8) and deliberately
// unlike devices/dbc/: its own line-by-line regex reading of BO_/SG_/VAL_/SIG_VALTYPE_, and a
// bit-by-bit walk over the frame with BigInt arithmetic. Motorola walks the classic sawtooth:
// from the start bit (MSB) down within a byte; from bit 0 of a byte to bit 7 of the next,
// i.e. position p -> p - 1, or p + 15 when p % 8 == 0. Only plain multiplexing (M / mN) and
// SG_MUL_VAL_-free files are handled, which is what the three real files use.

export interface RefSignal {
  name: string;
  start: number;
  length: number;
  intel: boolean;
  signed: boolean;
  factor: number;
  offset: number;
  isSwitch: boolean;
  muxValue?: number;
  float?: 32 | 64;
  choices: Map<bigint, string>;
}

export interface RefMessage {
  id: number;
  extended: boolean;
  name: string;
  length: number;
  signals: RefSignal[];
}

const BO = /^BO_\s+(\d+)\s+(\w+)\s*:\s*(\d+)\s+(\w+)/;
const SG = /^\s*SG_\s+(\w+)\s+(M|m\d+)?\s*:\s*(\d+)\|(\d+)@([01])([+-])\s*\(([^,]+),([^)]+)\)\s*\[[^\]]*\]\s*"[^"]*"/;

export function referenceParse(text: string): RefMessage[] {
  const messages: RefMessage[] = [];
  const byRawId = new Map<number, RefMessage>();
  let current: RefMessage | undefined;
  for (const line of text.split(/\r?\n/)) {
    const bo = BO.exec(line);
    if (bo) {
      const rawId = Number(bo[1]);
      const extended = rawId >= 2 ** 31;
      current = { id: extended ? rawId - 2 ** 31 : rawId, extended, name: bo[2]!, length: Number(bo[3]), signals: [] };
      byRawId.set(rawId, current);
      if (bo[2] !== 'VECTOR__INDEPENDENT_SIG_MSG') messages.push(current);
      continue;
    }
    const sg = SG.exec(line);
    if (sg && current) {
      const mux = sg[2];
      current.signals.push({
        name: sg[1]!,
        start: Number(sg[3]),
        length: Number(sg[4]),
        intel: sg[5] === '1',
        signed: sg[6] === '-',
        factor: Number(sg[7]),
        offset: Number(sg[8]),
        isSwitch: mux === 'M',
        ...(mux && mux !== 'M' ? { muxValue: Number(mux.slice(1)) } : {}),
        choices: new Map(),
      });
      continue;
    }
    if (!/^\s/.test(line)) current = undefined;
  }
  // VAL_ statements can run over several lines: read them from the whole text.
  for (const m of text.matchAll(/^VAL_\s+(\d+)\s+(\w+)\s+((?:-?\d+\s+"[^"]*"\s*)*);/gm)) {
    const sig = byRawId.get(Number(m[1]))?.signals.find((s) => s.name === m[2]);
    if (!sig) continue;
    for (const pair of m[3]!.matchAll(/(-?\d+)\s+"([^"]*)"/g)) sig.choices.set(BigInt(pair[1]!), pair[2]!);
  }
  for (const m of text.matchAll(/^SIG_VALTYPE_\s+(\d+)\s+(\w+)\s*:?\s*([12])\s*;/gm)) {
    const sig = byRawId.get(Number(m[1]))?.signals.find((s) => s.name === m[2]);
    if (sig) sig.float = m[3] === '1' ? 32 : 64;
  }
  return messages;
}

function bit(data: Uint8Array, pos: number): number {
  return (data[pos >> 3]! >> (pos & 7)) & 1;
}

/** The frame positions of a signal's bits, MSB first. */
export function referenceBits(s: Pick<RefSignal, 'start' | 'length' | 'intel'>): number[] {
  const out: number[] = [];
  if (s.intel) {
    for (let i = s.length - 1; i >= 0; i--) out.push(s.start + i);
  } else {
    let p = s.start;
    for (let i = 0; i < s.length; i++) {
      out.push(p);
      p = p % 8 === 0 ? p + 15 : p - 1;
    }
  }
  return out;
}

export function referenceRaw(s: RefSignal, data: Uint8Array): bigint {
  let v = 0n;
  for (const p of referenceBits(s)) v = (v << 1n) | BigInt(bit(data, p));
  if (s.signed && s.length > 0 && (v >> BigInt(s.length - 1)) === 1n) v -= 1n << BigInt(s.length);
  return v;
}

export function referenceSetRaw(s: RefSignal, data: Uint8Array, raw: bigint): void {
  let u = raw < 0n ? raw + (1n << BigInt(s.length)) : raw;
  const bits = referenceBits(s);
  for (let i = bits.length - 1; i >= 0; i--) {
    const p = bits[i]!;
    if (u & 1n) data[p >> 3]! |= 1 << (p & 7);
    else data[p >> 3]! &= ~(1 << (p & 7));
    u >>= 1n;
  }
}

/** Decodes like a DBC tool does: present signals only, value names for named raw values. */
export function referenceDecode(m: RefMessage, data: Uint8Array): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const sw = m.signals.find((s) => s.isSwitch);
  const swRaw = sw ? referenceRaw(sw, data) : undefined;
  for (const s of m.signals) {
    if (s.muxValue !== undefined && BigInt(s.muxValue) !== swRaw) continue;
    const raw = referenceRaw(s, data);
    const name = s.choices.get(raw);
    if (name !== undefined) {
      out[s.name] = name;
      continue;
    }
    let value: number;
    if (s.float) {
      const buf = Buffer.alloc(8);
      const u = raw < 0n ? raw + (1n << BigInt(s.length)) : raw;
      if (s.float === 32) {
        buf.writeUInt32BE(Number(u));
        value = buf.readFloatBE(0);
      } else {
        buf.writeBigUInt64BE(u);
        value = buf.readDoubleBE(0);
      }
    } else value = Number(raw);
    out[s.name] = value * s.factor + s.offset;
  }
  return out;
}
