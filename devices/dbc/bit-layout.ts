// Where a signal's bits sit in a frame, computed once per signal. DBC bit numbering (Vector
// "DBC File Format Documentation" 1.0.5, section 8.1): bit b is bit (b % 8) of byte (b / 8).
// Little endian (Intel, `@1`): the start bit is the raw value's LSB and the value runs up
// through increasing bit numbers. Big endian (Motorola, `@0`): the start bit is the MSB; the
// value runs down within a byte, then on to bit 7 of the next byte ("sawtooth" numbering).
//
// The raw value is split into 32-bit halves so that all arithmetic stays exact in doubles;
// each segment is a run of bits in one byte and one half.
import type { ByteOrder } from './model.ts';

export interface BitLayout {
  /** Number of byte segments. */
  readonly count: number;
  readonly byte: Uint8Array;
  /** Right shift of the segment's lowest bit within its byte. */
  readonly shift: Uint8Array;
  readonly mask: Uint8Array;
  /** 1 when the segment belongs to the high 32 bits of the raw value. */
  readonly high: Uint8Array;
  /** 2^(position of the segment's lowest bit within its 32-bit half). */
  readonly weight: Float64Array;
  /** Bytes a frame needs to hold the whole signal. */
  readonly bytesNeeded: number;
}

/** Byte index and bit-in-byte of raw bit `r` (0 = LSB) of a signal. */
export function bitPosition(startBit: number, length: number, order: ByteOrder, r: number): [byte: number, bit: number] {
  if (order === 'little_endian') {
    const p = startBit + r;
    return [p >> 3, p & 7];
  }
  // Linear "big endian" index: byte 0 bit 7 is 0, byte 0 bit 0 is 7, byte 1 bit 7 is 8, ...
  const msb = (startBit >> 3) * 8 + (7 - (startBit & 7));
  const p = msb + (length - 1 - r);
  return [p >> 3, 7 - (p & 7)];
}

export function bitLayout(startBit: number, length: number, order: ByteOrder): BitLayout {
  const segs: { byte: number; shift: number; width: number; high: number; pos: number }[] = [];
  let cur: (typeof segs)[number] | undefined;
  for (let r = 0; r < length; r++) {
    const [byte, bit] = bitPosition(startBit, length, order, r);
    const high = r >= 32 ? 1 : 0;
    // In both orders the next raw bit is the next higher bit of the same byte, unless the
    // value moves on to another byte.
    if (cur && cur.byte === byte && cur.high === high && cur.shift + cur.width === bit) {
      cur.width++;
    } else {
      cur = { byte, shift: bit, width: 1, high, pos: r - 32 * high };
      segs.push(cur);
    }
  }
  const n = segs.length;
  const layout = {
    count: n,
    byte: new Uint8Array(n),
    shift: new Uint8Array(n),
    mask: new Uint8Array(n),
    high: new Uint8Array(n),
    weight: new Float64Array(n),
    bytesNeeded: 0,
  };
  segs.forEach((s, i) => {
    layout.byte[i] = s.byte;
    layout.shift[i] = s.shift;
    layout.mask[i] = (1 << s.width) - 1;
    layout.high[i] = s.high;
    layout.weight[i] = 2 ** s.pos;
    layout.bytesNeeded = Math.max(layout.bytesNeeded, s.byte + 1);
  });
  return layout;
}
