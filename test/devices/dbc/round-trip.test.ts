// Property tests: random messages of every signal kind (Intel and Motorola, signed and
// unsigned, 1..64 bits, float32/float64, scaled, with and without ranges and value names,
// plainly and extended-multiplexed) are written as DBC text, parsed, and every value encodes
// and decodes back exactly, or within the signal's resolution where doubles cannot hold it.
import test from 'ava';
import fc from 'fast-check';
import { decodeFrame, encodeMessage, parseDbc, type DbcDatabase } from '../../../devices/dbc/index.ts';
import { referenceBits } from '../../helpers/dbc-reference.ts';

interface SigSpec {
  name: string;
  startBit: number;
  length: number;
  intel: boolean;
  signed: boolean;
  kind: 'integer' | 'float32' | 'float64';
  factor: number;
  offset: number;
  /** Raw sub-range the physical [min, max] is made from, or none ([0|0]). */
  rawRange?: [bigint, bigint];
  choices?: Map<bigint, string>;
  indicator: string;
  /** SG_MUL_VAL_ switch and ranges. */
  mulVal?: { switchName: string; ranges: [number, number][] };
}

interface MsgSpec {
  length: number;
  signals: SigSpec[];
  /** Plain switch, its multiplexer values, and the extended sub-switch (under value `sub.under`). */
  mux?: { name: string; values: number[]; sub?: { name: string; under: number; ranges: [number, number][] } };
}

const FACTORS = [1, 1, 0.1, 0.5, 0.25, 0.01, 2, 10, 0.001, 1e-5, -1, -0.5, 0.03125];
const OFFSETS = [0, 0, -40, 100, 0.5, -1000.25, 273.15];

/** Raw bounds of an integer field. */
function rawBounds(length: number, signed: boolean): [bigint, bigint] {
  return signed ? [-(1n << BigInt(length - 1)), (1n << BigInt(length - 1)) - 1n] : [0n, (1n << BigInt(length)) - 1n];
}

/** Places a signal at the first free start bit from `seed` on; undefined when none fits. */
function place(used: Set<number>, bytes: number, length: number, intel: boolean, seed: number): number | undefined {
  const total = bytes * 8;
  for (let k = 0; k < total; k++) {
    const start = (seed + k) % total;
    const bits = referenceBits({ start, length, intel });
    if (bits.every((b) => b >= 0 && b < total && !used.has(b))) {
      for (const b of bits) used.add(b);
      return start;
    }
  }
  return undefined;
}

const rawSpecArb = fc.record({
  kind: fc.constantFrom('integer', 'integer', 'integer', 'float32', 'float64'),
  length: fc.integer({ min: 1, max: 64 }),
  intel: fc.boolean(),
  signed: fc.boolean(),
  factor: fc.constantFrom(...FACTORS),
  offset: fc.constantFrom(...OFFSETS),
  ranged: fc.boolean(),
  rangeCut: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
  named: fc.boolean(),
  seed: fc.nat(511),
});
type RawSpec = typeof rawSpecArb extends fc.Arbitrary<infer T> ? T : never;

function signalFrom(r: RawSpec, name: string, used: Set<number>, bytes: number, indicator: string): SigSpec | undefined {
  const length = r.kind === 'float32' ? 32 : r.kind === 'float64' ? 64 : r.length;
  const startBit = place(used, bytes, length, r.intel, r.seed);
  if (startBit === undefined) return undefined;
  const s: SigSpec = {
    name, startBit, length, intel: r.intel, signed: r.kind === 'integer' ? r.signed && length > 1 : true, kind: r.kind,
    factor: r.kind === 'integer' ? r.factor : r.ranged ? 1 : r.factor,
    offset: r.kind === 'integer' ? r.offset : r.ranged ? 0 : r.offset, indicator,
  };
  if (s.kind === 'integer' && r.ranged) {
    const [lo, hi] = rawBounds(length, s.signed);
    const span = hi - lo;
    const a = lo + (span * BigInt(Math.floor(r.rangeCut[0] * 1000))) / 2000n;
    const b = hi - (span * BigInt(Math.floor(r.rangeCut[1] * 1000))) / 2000n;
    // A range whose ends are both 0 means "no range"; avoid making one by accident.
    if (!(Number(a) * s.factor + s.offset === 0 && Number(b) * s.factor + s.offset === 0)) s.rawRange = [a, b];
  }
  if (s.kind === 'integer' && r.named && !s.signed && length <= 16) {
    s.choices = new Map([[0n, 'ZERO'], [(1n << BigInt(length)) - 1n, 'ALL_ONES']]);
  }
  return s;
}

const messageArb: fc.Arbitrary<MsgSpec> = fc
  .record({
    length: fc.constantFrom(1, 2, 4, 6, 8, 8, 8, 12, 32, 64),
    plain: fc.array(rawSpecArb, { minLength: 1, maxLength: 6 }),
    mux: fc.option(
      fc.record({
        switchLength: fc.integer({ min: 1, max: 8 }),
        switchSeed: fc.nat(63),
        groups: fc.array(fc.tuple(fc.nat(255), fc.array(rawSpecArb, { minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 4 }),
        sub: fc.option(fc.record({ length: fc.integer({ min: 1, max: 6 }), seed: fc.nat(63), ranges: fc.array(fc.tuple(fc.nat(63), fc.nat(8)), { minLength: 1, maxLength: 3 }), signals: fc.array(rawSpecArb, { minLength: 1, maxLength: 3 }) }), { nil: undefined }),
      }),
      { nil: undefined },
    ),
  })
  .map(({ length, plain, mux }) => {
    const used = new Set<number>();
    const signals: SigSpec[] = [];
    let muxSpec: MsgSpec['mux'];
    if (mux) {
      const swStart = place(used, length, mux.switchLength, true, mux.switchSeed);
      if (swStart !== undefined) {
        signals.push({ name: 'SW', startBit: swStart, length: mux.switchLength, intel: true, signed: false, kind: 'integer', factor: 1, offset: 0, indicator: 'M' });
        const max = 2 ** mux.switchLength - 1;
        const values = [...new Set(mux.groups.map(([v]) => v % (max + 1)))];
        muxSpec = { name: 'SW', values };
        const inAnyGroup = new Set<number>();
        values.forEach((v, gi) => {
          const groupUsed = new Set(used);
          mux.groups[gi]![1].forEach((r, i) => {
            const s = signalFrom(r, `G${v}_${i}`, groupUsed, length, `m${v}`);
            if (s) signals.push(s);
          });
          const subStart = gi === 0 && mux.sub ? place(groupUsed, length, mux.sub.length, false, mux.sub.seed) : undefined;
          if (mux.sub && subStart !== undefined) {
            const subMax = 2 ** mux.sub.length - 1;
            signals.push({ name: 'SUB', startBit: subStart, length: mux.sub.length, intel: false, signed: false, kind: 'integer', factor: 1, offset: 0, indicator: `m${v}M` });
            const ranges = mux.sub.ranges.map(([lo, n]): [number, number] => [lo % (subMax + 1), Math.min(subMax, (lo % (subMax + 1)) + n)]);
            muxSpec!.sub = { name: 'SUB', under: v, ranges };
            // All sub-signals share the same ranges, so they must not overlap each other.
            const subUsed = new Set(groupUsed);
            mux.sub.signals.forEach((r, i) => {
              const s = signalFrom(r, `S${i}`, subUsed, length, `m${ranges[0]![0]}`);
              if (s) signals.push({ ...s, mulVal: { switchName: 'SUB', ranges } });
              for (const b of subUsed) inAnyGroup.add(b);
            });
          }
          for (const b of groupUsed) inAnyGroup.add(b);
        });
        // Plain signals are present with every switch value: keep them clear of all groups.
        for (const b of inAnyGroup) used.add(b);
      }
    }
    plain.forEach((r, i) => {
      const s = signalFrom(r, `P${i}`, used, length, '');
      if (s) signals.push(s);
    });
    return { length, signals, ...(muxSpec ? { mux: muxSpec } : {}) };
  });

function dbcTextOf(m: MsgSpec, id: number, extended: boolean): string {
  const rawId = extended ? id + 2 ** 31 : id;
  const lines = ['VERSION ""', 'BU_: A B', `BO_ ${rawId} Msg: ${m.length} A`];
  for (const s of m.signals) {
    const [min, max] = s.rawRange
      ? [Number(s.rawRange[0]) * s.factor + s.offset, Number(s.rawRange[1]) * s.factor + s.offset].sort((x, y) => x - y)
      : [0, 0];
    lines.push(` SG_ ${s.name} ${s.indicator} : ${s.startBit}|${s.length}@${s.intel ? 1 : 0}${s.signed ? '-' : '+'} (${s.factor},${s.offset}) [${min}|${max}] "u" B`);
  }
  for (const s of m.signals) {
    if (s.kind !== 'integer') lines.push(`SIG_VALTYPE_ ${rawId} ${s.name} : ${s.kind === 'float32' ? 1 : 2};`);
    if (s.choices) lines.push(`VAL_ ${rawId} ${s.name} ${[...s.choices].map(([v, n]) => `${v} "${n}"`).join(' ')} ;`);
  }
  if (m.mux?.sub) lines.push(`SG_MUL_VAL_ ${rawId} SUB SW ${m.mux.sub.under}-${m.mux.sub.under};`);
  for (const s of m.signals) {
    if (s.mulVal) lines.push(`SG_MUL_VAL_ ${rawId} ${s.name} ${s.mulVal.switchName} ${s.mulVal.ranges.map(([a, b]) => `${a}-${b}`).join(', ')};`);
  }
  return lines.join('\n') + '\n';
}

/** Which signals a frame carries for switch value `sw` (and sub-switch value `sub`). */
function presentSignals(m: MsgSpec, sw: number, sub: number): SigSpec[] {
  return m.signals.filter((s) => {
    if (s.mulVal) return m.mux!.sub!.under === sw && s.mulVal.ranges.some(([a, b]) => sub >= a && sub <= b);
    if (s.indicator === '' || s.indicator === 'M') return true;
    return Number(/^m(\d+)/.exec(s.indicator)![1]) === sw;
  });
}

/** A raw value for a signal: anything its field (and range) holds; floats finite and moderate enough to scale. */
function rawValueArb(s: SigSpec): fc.Arbitrary<bigint | number> {
  if (s.kind === 'float32') return fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) });
  if (s.kind === 'float64') return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 });
  const [lo, hi] = s.rawRange ?? rawBounds(s.length, s.signed);
  return fc.oneof(fc.bigInt({ min: lo, max: hi }), fc.constantFrom(lo, hi));
}

const caseArb = messageArb.chain((m) => {
  const swValues = m.mux ? [...m.mux.values, 2 ** (m.signals[0]!.length) - 1] : [0];
  return fc.record({
    m: fc.constant(m),
    id: fc.integer({ min: 0, max: 0x7ff }),
    extended: fc.boolean(),
    sw: fc.constantFrom(...swValues),
    sub: fc.nat(63),
  }).chain((c) => {
    const subMax = m.mux?.sub ? 2 ** m.signals.find((s) => s.name === 'SUB')!.length - 1 : 0;
    const sub = Math.min(c.sub, subMax);
    const present = presentSignals(c.m, c.sw, sub).filter((s) => s.name !== 'SW' && s.name !== 'SUB');
    return fc.record({
      c: fc.constant({ ...c, sub }),
      raws: fc.tuple(...present.map((s) => rawValueArb(s))),
      present: fc.constant(present),
    });
  });
});

function physical(s: SigSpec, raw: bigint | number): number {
  return Number(raw) * s.factor + s.offset;
}

function tolerance(s: SigSpec, raw: bigint | number, x: number): number {
  if (s.kind === 'integer') {
    // One resolution step; above 53 bits also the spacing of doubles at that raw value.
    const r = Math.abs(Number(raw));
    return Math.abs(s.factor) * Math.max(1, r * 2 ** -52) * 1.000001;
  }
  const rel = s.kind === 'float32' ? 2 ** -23 : 2 ** -52;
  return Math.abs(s.factor) * (Math.abs(Number(raw)) * rel * 2 + 2 ** -149 * 2) + 4 * Number.EPSILON * (Math.abs(x) + Math.abs(s.offset));
}

function parse(m: MsgSpec, id: number, extended: boolean): DbcDatabase {
  const db = parseDbc(dbcTextOf(m, id, extended), { file: 'random.dbc' });
  if (db.warnings.length) throw new Error(`warnings: ${JSON.stringify(db.warnings)}`);
  return db;
}

test('random signals of every kind encode and decode back, exactly or within their resolution', (t) => {
  const kinds = new Set<string>();
  fc.assert(
    fc.property(caseArb, ({ c, raws, present }) => {
      const { m, id, extended, sw, sub } = c;
      const db = parse(m, id, extended);
      const values: Record<string, number | string> = {};
      if (m.mux) values.SW = sw;
      if (m.mux?.sub && sw === m.mux.sub.under) values.SUB = sub;
      present.forEach((s, i) => (values[s.name] = physical(s, raws[i]!)));
      const frame = encodeMessage(db, 'Msg', values);
      if (frame.id !== id || frame.extended !== extended || frame.data.length !== m.length || frame.fd !== m.length > 8) return false;
      const back = decodeFrame(db, frame, { choices: false })!.signals;
      if (Object.keys(back).sort().join() !== Object.keys(values).sort().join()) {
        t.deepEqual(Object.keys(back).sort(), Object.keys(values).sort());
        return false;
      }
      const named = decodeFrame(db, frame)!.signals;
      for (const [i, s] of present.entries()) {
        const x = values[s.name] as number;
        const y = back[s.name] as number;
        const raw = raws[i]!;
        const exact = s.kind === 'integer' ? Math.abs(Number(raw)) < 2 ** 40 : s.factor === 1 && s.offset === 0;
        const ok = exact ? Object.is(y, x) || (x === 0 && y === 0) : Math.abs(y - x) <= tolerance(s, raw, x);
        if (!ok) {
          t.log(dbcTextOf(m, id, extended), values, Buffer.from(frame.data).toString('hex'));
          t.fail(`${s.name} (${s.kind} ${s.length} bits ${s.intel ? 'Intel' : 'Motorola'} ${s.signed ? 'signed' : 'unsigned'} *${s.factor}+${s.offset}) raw ${raw}: encoded ${x}, decoded ${y}`);
          return false;
        }
        const name = typeof raw === 'bigint' ? s.choices?.get(raw) : undefined;
        if (name !== undefined && named[s.name] !== name) return false;
        kinds.add(`${s.kind}/${s.intel ? 'intel' : 'motorola'}/${s.signed ? 's' : 'u'}${s.mulVal ? '/ext-mux' : s.indicator ? '/mux' : ''}`);
      }
      return true;
    }),
    { seed: Number(process.env.DBC_PROPERTY_SEED ?? 20261128), numRuns: Number(process.env.DBC_PROPERTY_RUNS ?? 400) },
  );
  t.log([...kinds].sort().join(' '));
  // Every combination of value type, byte order and signedness was exercised, muxed and extended-muxed too.
  for (const k of ['integer/intel/s', 'integer/intel/u', 'integer/motorola/s', 'integer/motorola/u', 'float32/intel/s', 'float32/motorola/s', 'float64/intel/s', 'float64/motorola/s']) {
    t.true(kinds.has(k), k);
  }
  t.true([...kinds].some((k) => k.endsWith('/mux')));
  t.true([...kinds].some((k) => k.endsWith('/ext-mux')));
});

test('out-of-range and unrepresentable values are refused, naming the signal', (t) => {
  let refused = 0;
  fc.assert(
    fc.property(messageArb, fc.integer({ min: 1, max: 0x7ff }), (m, id) => {
      const db = parse(m, id, false);
      for (const s of m.signals) {
        if (s.kind !== 'integer' || s.name === 'SW' || s.name === 'SUB' || s.mulVal || s.indicator !== '') continue;
        const others: Record<string, number> = {};
        for (const o of presentSignals(m, m.mux?.values[0] ?? 0, m.mux?.sub?.ranges[0]![0] ?? 0)) {
          if (o.name !== s.name) others[o.name] = o.kind === 'integer' ? physical(o, o.rawRange?.[0] ?? 0n) : 0;
        }
        if (m.mux) others.SW = m.mux.values[0]!;
        if (m.mux?.sub && m.mux.sub.under === m.mux.values[0]) others.SUB = m.mux.sub.ranges[0]![0];
        const dbMsg = db.messageByName('Msg')!;
        const sig = dbMsg.signals.find((x) => x.name === s.name)!;
        let bad: number;
        if (s.rawRange) bad = sig.max + Math.abs(s.factor) * 2 + Math.abs(sig.max) * 1e-9;
        else if (s.length <= 50) bad = physical(s, rawBounds(s.length, s.signed)[1] + 1n);
        else continue;
        try {
          encodeMessage(db, 'Msg', { ...others, [s.name]: bad });
        } catch (err) {
          if (!(err instanceof RangeError) || !err.message.includes(`signal ${s.name} of message Msg`)) {
            t.fail(String(err));
            return false;
          }
          refused++;
          continue;
        }
        t.fail(`${s.name}: ${bad} was accepted (range [${sig.min}, ${sig.max}], ${s.length} bits)`);
        return false;
      }
      return true;
    }),
    { seed: Number(process.env.DBC_PROPERTY_SEED ?? 7), numRuns: Number(process.env.DBC_PROPERTY_RUNS ?? 200) },
  );
  t.log(`${refused} bad values refused`);
  t.true(refused > 100);
});

test('64-bit fields: the largest raw value decodes to the nearest double and re-encodes to itself', (t) => {
  const db = parseDbc('BO_ 1 M: 8 N\n SG_ U : 0|64@1+ (1,0) [0|0] "" N\n');
  const f = encodeMessage(db, 'M', { U: 2 ** 64 });
  t.deepEqual([...f.data], [255, 255, 255, 255, 255, 255, 255, 255]);
  const back = decodeFrame(db, f)!.signals.U;
  t.is(back, 2 ** 64);
  t.deepEqual([...encodeMessage(db, 'M', { U: back }).data], [...f.data]);
  t.throws(() => encodeMessage(db, 'M', { U: 2 ** 65 }), { instanceOf: RangeError, message: /signal U of message M/ });
  const sdb = parseDbc('BO_ 1 M: 8 N\n SG_ S : 7|64@0- (1,0) [0|0] "" N\n');
  t.deepEqual([...encodeMessage(sdb, 'M', { S: -(2 ** 63) }).data], [0x80, 0, 0, 0, 0, 0, 0, 0]);
  t.is(decodeFrame(sdb, encodeMessage(sdb, 'M', { S: -1 }))!.signals.S, -1);
});
