import test from 'ava';
import fc from 'fast-check';
import { scanRecord } from '../../ledger/log/record-scan.ts';
import { decodeRecord, encodeRecord, type LedgerRecord } from '../../ledger/log/record.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { Tagged } from '../../ledger/cbor/value.ts';
import { recordAt } from '../../bench/suites/telemetry-fixture.ts';

/** What decodeRecord says: the fields scanRecord also reads, or that it refuses the bytes. */
function slow(bytes: Uint8Array): { seq: number; time: number; type: string; simulated: boolean; mono: number } | 'refused' {
  let r: LedgerRecord;
  try {
    r = decodeRecord(bytes, 'test');
  } catch {
    return 'refused';
  }
  return { seq: r.seq, time: r.time, type: r.type, simulated: r.simulated ?? false, mono: r.mono };
}

/** The property: whatever the fast path accepts, decodeRecord accepts with the same fields. */
function agrees(bytes: Uint8Array): boolean {
  const fast = scanRecord(bytes);
  if (fast === undefined) return true;
  const s = slow(bytes);
  return s !== 'refused' && s.seq === fast.seq && s.time === fast.time && s.type === fast.type && s.simulated === fast.simulated && s.mono === fast.mono;
}

function mutations(b: Uint8Array, seed: number): Uint8Array[] {
  let x = seed * 2654435761 + 1;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x % n;
  };
  const out: Uint8Array[] = [];
  for (let k = 0; k < 40; k++) {
    const m = Uint8Array.from(b);
    const at = rnd(b.length);
    switch (k % 5) {
      case 0:
        m[at]! ^= 1 << rnd(8);
        out.push(m);
        break;
      case 1:
        m[at] = rnd(256);
        out.push(m);
        break;
      case 2:
        out.push(b.subarray(0, at));
        break;
      case 3:
        out.push(Uint8Array.from([...b.subarray(0, at), rnd(256), ...b.subarray(at)]));
        break;
      default:
        out.push(Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]));
    }
  }
  return out;
}

test('telemetry records take the fast path, with decodeRecord\'s fields', (t) => {
  for (let i = 0; i < 200; i++) {
    const r = recordAt(i * 7919);
    for (const simulated of [true, false]) {
      const bytes = encodeRecord({ ...r, simulated });
      const fast = scanRecord(bytes);
      t.truthy(fast, `record ${i} took the slow path`);
      t.true(agrees(bytes));
      t.deepEqual(fast, { seq: r.seq, time: r.time, type: 'telemetry', simulated, mono: r.mono });
    }
  }
});

test('every mutation of a record that the fast path accepts, decodeRecord accepts with the same fields', (t) => {
  let accepted = 0;
  let total = 0;
  for (let i = 0; i < 150; i++) {
    const bytes = encodeRecord(recordAt(i * 104729));
    for (const m of mutations(bytes, i)) {
      total++;
      if (scanRecord(m) !== undefined) accepted++;
      if (!agrees(m)) return t.fail(`disagreement on mutation of record ${i}: ${Buffer.from(m).toString('hex')}`);
    }
  }
  t.log(`${accepted} of ${total} mutated records still valid and taken by the fast path`);
  t.pass();
});

const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -70000, max: 70000 }),
    fc.constantFrom(0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -(2 ** 32), 1.5, -0, NaN, Infinity),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
    fc.uint8Array({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.uniqueArray(fc.tuple(fc.oneof(fc.integer({ min: -30, max: 300 }), fc.string({ maxLength: 4 })), tie('v')), { maxLength: 5, selector: (e) => e[0] }).map((es) => new Map<CborValue, CborValue>(es)),
    tie('v').map((v) => new Tagged(1, v)),
  ),
})).v;

test('records with arbitrary bodies (and their mutations): the fast path never accepts what decodeRecord refuses', (t) => {
  fc.assert(
    fc.property(cborValue, fc.string({ maxLength: 10 }), fc.nat(), (body, type, seed) => {
      const bytes = encodeRecord({ seq: seed % 1000, time: 1_767_225_600_000 + seed, type, body, simulated: seed % 2 === 0, mono: seed, boot: new Uint8Array(16) });
      if (!agrees(bytes)) return false;
      return mutations(bytes, seed).every(agrees);
    }),
    { numRuns: 400 },
  );
  t.pass();
});
