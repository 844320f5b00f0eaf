import test from 'ava';
import fc from 'fast-check';
import { scanRecord } from '../../ledger/log/record-scan.ts';
import { decodeRecord, encodeRecord, encodeRecordWithBody, type LedgerRecord } from '../../ledger/log/record.ts';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { recordAt } from '../../bench/suites/telemetry-fixture.ts';
import { cborValue, mutations } from '../helpers/byte-mutations.ts';

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

test('records written around body bytes are encodeRecord\'s bytes, whatever the type and as types change from record to record', (t) => {
  const types = ['telemetry', 'telemetry', 'fault-raised', 'ü-typ', '', 'x'.repeat(30), 'telemetry'];
  for (const [i, type] of types.entries()) {
    for (const simulated of [true, false]) {
      const r: LedgerRecord = { ...recordAt(i), type, simulated, seq: [0, 23, 24, 255, 65_536, 2 ** 32, 2 ** 40][i]! };
      t.deepEqual(encodeRecordWithBody(r, encodeCanonical(r.body)), encodeRecord(r), `${JSON.stringify(type)}, simulated ${simulated}`);
    }
  }
});
