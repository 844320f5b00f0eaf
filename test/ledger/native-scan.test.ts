import test from 'ava';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadNativeMerkle } from '../../ledger/log/native-merkle.ts';
import { scanRecord } from '../../ledger/log/record-scan.ts';
import { encodeRecord, type LedgerRecord } from '../../ledger/log/record.ts';
import { encodeFrame, EntryKind, SEGMENT_HEADER_BYTES, scanFrame } from '../../ledger/log/frame.ts';
import { MerkleFrontier } from '../../ledger/log/merkle.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import { verifyLedger, type LedgerReport } from '../../ledger/log/verify.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import { ManualClock } from '../../hal/clock.ts';
import { recordAt } from '../../bench/suites/telemetry-fixture.ts';
import { CrashStorage } from '../helpers/crash-storage.ts';
import { cborValue, mutations, rng } from '../helpers/byte-mutations.ts';

// The verifier's native run scanner (ledger/log/native/scan.c) against the JavaScript it
// replaces: the same frames (CRC-32 as node:zlib computes it), the same records vouched for
// (record-scan.ts), the same leaf hashes, and verifyLedger's report identical both ways over
// damaged and forged ledgers. Needs the addon (npm run build:native): skipped without it, as
// with VOLTRAIL_NATIVE_MERKLE=0, where the JavaScript path is what the other ledger tests test.
const native = loadNativeMerkle();
const nativeTest = native ? test : test.skip;

/** Runs the scanner over `data` from `pos` with a frontier of `size` leaves. */
function scan(data: Uint8Array, pos: number, size: number, frontier: Uint8Array = new Uint8Array(2048)) {
  const out = new Float64Array(5);
  const entries = native!.scanRun(data, pos, frontier, size, out);
  return { entries, next: out[0]!, first: out[1]!, last: out[2]!, simulated: out[3]!, why: out[4]! };
}

const frameOf = (payload: Uint8Array, kind: number = EntryKind.leaf) => encodeFrame(kind, payload);

/** Whatever the scanner vouches for, scanRecord vouches for with the same fields, and the reverse. */
function agrees(bytes: Uint8Array): string | undefined {
  const js = scanRecord(bytes);
  const frame = frameOf(bytes);
  if (js === undefined) {
    const r = scan(frame, 0, 0);
    return r.entries === 0 && r.why === 3 ? undefined : `the scanner vouched for a record scanRecord does not (${r.entries}, stop ${r.why})`;
  }
  const r = scan(frame, 0, js.seq);
  if (r.entries !== 1 || r.next !== frame.length || r.why !== 0) return `the scanner did not take a record scanRecord takes (stop ${r.why})`;
  if (r.first !== js.time || r.last !== js.time || r.simulated !== (js.simulated ? 1 : 0)) return `fields differ: ${JSON.stringify(r)} vs ${JSON.stringify(js)}`;
  if (js.seq + 1 < Number.MAX_SAFE_INTEGER) {
    const wrong = scan(frame, 0, js.seq + 1);
    if (wrong.entries !== 0 || wrong.why !== 4) return `a record of sequence ${js.seq} was taken at position ${js.seq + 1}`;
  }
  return undefined;
}

nativeTest('telemetry records and their mutations: the scanner vouches for exactly what scanRecord does, with its fields', (t) => {
  let taken = 0;
  let total = 0;
  for (let i = 0; i < 150; i++) {
    const r = recordAt(i * 104729);
    for (const simulated of [true, false]) {
      const bytes = encodeRecord({ ...r, simulated });
      t.is(agrees(bytes), undefined);
      for (const m of mutations(bytes, i * 2 + (simulated ? 1 : 0))) {
        total++;
        if (scanRecord(m) !== undefined) taken++;
        const why = agrees(m);
        if (why) return t.fail(`${why}: ${Buffer.from(m).toString('hex')}`);
      }
    }
  }
  t.log(`${taken} of ${total} mutated records still taken by both`);
  t.true(taken > 0 && taken < total);
});

nativeTest('records with arbitrary bodies, types and sequence numbers (and their mutations): the same verdict both ways', (t) => {
  fc.assert(
    fc.property(cborValue, fc.string({ maxLength: 10 }), fc.nat(), fc.constantFrom(0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER - 1), (body, type, seed, seqBase) => {
      const bytes = encodeRecord({ seq: seqBase + (seed % 1000), time: 1_767_225_600_000 + seed, type, body, simulated: seed % 2 === 0, mono: seed, boot: new Uint8Array(16) });
      return agrees(bytes) === undefined && mutations(bytes, seed).every((m) => agrees(m) === undefined);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

/** Records 0..n-1 whose lengths cover every remainder of the CRC's 8-byte steps (bodies of 0 to 1100 bytes). */
function varied(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const body = Uint8Array.from({ length: (i * 37) % 1101 }, (_, k) => (k * 131 + i) & 0xff);
    const r: LedgerRecord = { seq: i, time: 1_767_225_600_000 + i * 10_000, type: 'telemetry', body, simulated: i % 3 === 0, mono: i * 10_000, boot: new Uint8Array(16).fill(i) };
    return encodeRecord(r);
  });
}

nativeTest('frames checked with node:zlib\'s CRC-32 and leaves hashed as MerkleFrontier hashes them', (t) => {
  const records = varied(300);
  const data = Buffer.concat(records.map((r) => frameOf(r)));
  const reference = new MerkleFrontier({ native: false });
  for (const r of records) reference.append(r);
  const frontier = new MerkleFrontier();
  let result!: ReturnType<typeof scan>;
  frontier.appendInPlace((slots, size) => {
    result = scan(data, 0, size, slots);
    return size + result.entries;
  });
  t.is(result.entries, 300);
  t.is(result.next, data.length);
  t.is(result.why, 0);
  t.is(result.first, 1_767_225_600_000);
  t.is(result.last, 1_767_225_600_000 + 299 * 10_000);
  t.is(result.simulated, 100);
  t.is(frontier.size, 300);
  t.deepEqual(Buffer.from(frontier.root()), Buffer.from(reference.root()));

  // A wrong checksum, a wrong length, a checkpoint, a truncated frame: the run stops before each.
  const offsets: number[] = [];
  for (let pos = 0; pos < data.length; pos = (scanFrame(data, pos) as { next: number }).next) offsets.push(pos);
  const at = offsets[137]!;
  const badCrc = Buffer.from(data);
  badCrc[at + 4]! ^= 0x80;
  t.like(scan(badCrc, 0, 0), { entries: 137, next: at, why: 1 });
  const badLen = Buffer.from(data);
  badLen.writeUInt32BE(0x0010_0001, at);
  t.like(scan(badLen, 0, 0), { entries: 137, next: at, why: 1 });
  const checkpoint = Buffer.concat([data.subarray(0, at), frameOf(records[137]!, EntryKind.checkpoint)]);
  t.like(scan(checkpoint, 0, 0), { entries: 137, next: at, why: 2 });
  t.like(scan(data.subarray(0, at + 20), 0, 0), { entries: 137, next: at, why: 1 });
  // A frame whose stored CRC was computed by zlib over kind||payload with a one-bit change is refused.
  const forged = Buffer.from(data);
  forged[at + 9 + 3]! ^= 1;
  t.not(crc32(forged.subarray(at + 8, offsets[138]!)), forged.readUInt32BE(at + 4));
  t.like(scan(forged, 0, 0), { entries: 137, next: at, why: 1 });
  // Starting mid-way, at the right tree size.
  t.like(scan(data, offsets[200]!, 200), { entries: 100, next: data.length, why: 0 });
  t.like(scan(data, offsets[200]!, 199), { entries: 0, next: offsets[200], why: 4 });
  t.throws(() => native!.scanRun(data, data.length + 1, new Uint8Array(2048), 0, new Float64Array(5)), { instanceOf: TypeError });
  t.throws(() => native!.scanRun(data, 0, new Uint8Array(2047), 0, new Float64Array(5)), { instanceOf: TypeError });
});

nativeTest('the portable CRC-32 (forced by VOLTRAIL_MERKLE_CRC32=portable) checks the same frames', (t) => {
  const script = `
import { loadNativeMerkle } from './ledger/log/native-merkle.ts';
import { encodeFrame } from './ledger/log/frame.ts';
import { encodeRecord } from './ledger/log/record.ts';
const frames = Array.from({ length: 300 }, (_, i) => encodeFrame(2, encodeRecord({ seq: i, time: 1_767_225_600_000 + i, type: 'telemetry',
  body: Uint8Array.from({ length: (i * 37) % 1101 }, (_, k) => (k * 131 + i) & 0xff), mono: i, boot: new Uint8Array(16) })));
const data = Buffer.concat(frames);
const native = loadNativeMerkle();
const out = new Float64Array(5);
const all = native.scanRun(data, 0, new Uint8Array(2048), 0, out);
data[frames.slice(0, 150).reduce((n, f) => n + f.length, 0) + 4] ^= 1;
const upTo = native.scanRun(data, 0, new Uint8Array(2048), 0, out);
console.log(JSON.stringify({ crc32: native.crc32, all, upTo, why: out[4] }));
`;
  const run = (env: Record<string, string>) =>
    JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        env: { ...process.env, ...env },
      }).toString(),
    ) as { crc32: string; all: number; upTo: number; why: number };
  t.deepEqual(run({ VOLTRAIL_MERKLE_CRC32: 'portable' }), { crc32: 'portable', all: 300, upTo: 150, why: 1 });
  t.like(run({}), { crc32: native!.crc32, all: 300, upTo: 150, why: 1 });
});

// A small checkpoint-mode ledger in memory, over several segments: simulated and real
// telemetry, a signed event, records the scanner hands back (non-ASCII text), checkpoints.
const key = PrivateKey.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i + 23));
const ring = new KeyRing([{ publicKey: key.publicKey, curve: 'secp256k1' }]);
const DIR = '/mem/ledger';

async function smallLedger(): Promise<CrashStorage> {
  const storage = new CrashStorage();
  const clock = new ManualClock();
  for (const simulated of [true, false]) {
    const ledger = await Ledger.open({ dir: DIR, storage, signer: key, mode: 'checkpoint', clock, checkpointEvery: 8, simulated, segmentBytes: 6000 });
    for (let i = 0; i < 14; i++) {
      clock.advance(10_000);
      await ledger.append('telemetry', i === 5 ? new Map([[1, 'Zelle überhitzt']]) : recordAt(i).body);
    }
    await ledger.append('fault-raised', new Map([[1, 'cell 12 over temperature']]), { signed: true });
    await ledger.close();
  }
  return storage;
}

const segmentsOf = (storage: CrashStorage) => [...storage.files.keys()].filter((p) => p.endsWith('.vtl')).sort();

nativeTest('SegmentLog.open hands runs of leaves to replayRun and every other entry to replay', async (t) => {
  const storage = await smallLedger();
  t.true(segmentsOf(storage).length >= 3);
  let runs = 0;
  let inRuns = 0;
  const replayed: number[] = [];
  const frontier = new MerkleFrontier();
  const out = new Float64Array(5);
  const log = await SegmentLog.open(DIR, {
    storage,
    readOnly: true,
    replayRun: (bytes, pos) => {
      let n = 0;
      frontier.appendInPlace((slots, size) => (n = native!.scanRun(bytes, pos, slots, size, out)) + size);
      runs++;
      inRuns += n;
      return { entries: n, next: out[0]! };
    },
    replay: (e) => {
      replayed.push(e.kind);
      if (e.kind === EntryKind.leaf || e.kind === EntryKind.signedRecord) frontier.append(e.payload);
    },
  });
  t.is(inRuns + replayed.length, log.length);
  t.true(inRuns > 20, `${inRuns} leaves in runs`);
  // Handed back: the checkpoints, the two signed events, the two non-ASCII records.
  t.is(replayed.filter((k) => k === EntryKind.signedRecord).length, 2);
  t.is(replayed.filter((k) => k === EntryKind.leaf).length, 2);
  t.true(runs > replayed.length);
  const js = await verifyLedger(DIR, { keys: ring.lookup }, { storage, nativeScan: false });
  t.true(js.ok, js.failure?.reason);
  t.is(Buffer.from(frontier.root()).toString('hex'), js.root);
});

nativeTest('verifyLedger gives the same report with and without the scanner over damaged and forged ledgers', async (t) => {
  const storage = await smallLedger();
  const { backend } = await pickBackend('secp256k1');
  const trust = { keys: ring.lookup, backends: { secp256k1: backend } };
  const both = async (what: string): Promise<LedgerReport> => {
    const js = await verifyLedger(DIR, trust, { storage, nativeScan: false });
    const nat = await verifyLedger(DIR, trust, { storage, nativeScan: true });
    t.deepEqual(nat, js, what);
    return js;
  };
  const clean = await both('clean');
  t.true(clean.ok, clean.failure?.reason);
  t.is(clean.records, 30);
  t.is(clean.simulatedRecords, 15);

  const files = segmentsOf(storage).map((p) => ({ path: p, file: storage.files.get(p)! }));
  const original = files.map((f) => Buffer.from(f.file.data));
  const restore = () => files.forEach((f, i) => (f.file.data = Buffer.from(original[i]!)));
  const rnd = rng(7);
  const framesOf = (b: Buffer) => {
    const out: { offset: number; end: number; kind: number }[] = [];
    for (let pos = SEGMENT_HEADER_BYTES; pos < b.length; ) {
      const f = scanFrame(b, pos);
      if (!f.ok) break;
      out.push({ offset: pos, end: f.next, kind: f.kind });
      pos = f.next;
    }
    return out;
  };
  let failures = 0;
  let cases = 0;
  const check = async (what: string) => {
    cases++;
    const r = await both(what);
    if (!r.ok) failures++;
    restore();
    return r;
  };
  /** A flipped bit must be refused and located: its segment file and the frame holding it (0 for the header). */
  const flipped = async (f: number, byte: number, bit: number) => {
    files[f]!.file.data[byte]! ^= 1 << bit;
    const what = `bit ${bit} of byte ${byte} of ${files[f]!.path}`;
    const r = await check(what);
    const frame = byte < SEGMENT_HEADER_BYTES ? 0 : framesOf(original[f]!).filter((x) => x.offset <= byte).pop()!.offset;
    t.false(r.ok, `${what} went unnoticed`);
    t.is(r.failure?.segment, files[f]!.path.split('/').pop(), what);
    t.is(r.failure?.offset, frame, what);
    t.is(typeof r.failure?.index, 'number', what);
  };

  // Single flipped bits: every bit of the first segment's header and first two frame headers,
  // then a random sample over all the files.
  for (const f of [0, 1]) {
    const heads = framesOf(original[f]!).slice(0, 2).map((x) => x.offset);
    for (const byte of [...Array(SEGMENT_HEADER_BYTES).keys(), ...heads.flatMap((h) => [...Array(9).keys()].map((k) => h + k))]) {
      for (let bit = 0; bit < 8; bit++) await flipped(f, byte, bit);
    }
  }
  for (let k = 0; k < 400; k++) {
    const f = rnd(files.length);
    await flipped(f, rnd(original[f]!.length), rnd(8));
  }
  // Forged: a bit flipped in a payload and the checksum fixed up, so that the record check,
  // the sequence, the signatures and the checkpoint roots have to find it.
  for (let k = 0; k < 200; k++) {
    const f = rnd(files.length);
    const fr = framesOf(original[f]!);
    const target = fr[rnd(fr.length)]!;
    const data = files[f]!.file.data;
    const byte = target.offset + 9 + rnd(target.end - target.offset - 9);
    data[byte]! ^= 1 << rnd(8);
    data.writeUInt32BE(crc32(data.subarray(target.offset + 8, target.end)), target.offset + 4);
    await check(`forged byte ${byte} of ${files[f]!.path}`);
  }
  // Whole frames swapped, repeated or dropped (sequence errors), and torn tails.
  for (let k = 0; k < 30; k++) {
    const f = rnd(files.length);
    const fr = framesOf(original[f]!);
    const i = rnd(fr.length - 1);
    const a = fr[i]!;
    const b = fr[i + 1]!;
    const o = original[f]!;
    const pieces =
      k % 3 === 0
        ? [o.subarray(0, a.offset), o.subarray(b.offset, b.end), o.subarray(a.offset, a.end), o.subarray(b.end)]
        : k % 3 === 1
          ? [o.subarray(0, b.end), o.subarray(b.offset, b.end), o.subarray(b.end)]
          : [o.subarray(0, a.offset), o.subarray(b.offset)];
    files[f]!.file.data = Buffer.concat(pieces);
    await check(`frames ${i} and ${i + 1} of ${files[f]!.path}, edit ${k % 3}`);
  }
  const last = files[files.length - 1]!;
  for (let k = 0; k < 20; k++) {
    last.file.data = Buffer.from(original[files.length - 1]!.subarray(0, rnd(original[files.length - 1]!.length)));
    await check(`${last.path} cut`);
  }
  t.log(`${cases} damaged ledgers, ${failures} refused, identical reports both ways`);
  t.true(failures > cases * 0.9);
});
