// LogTail against a SegmentLog that keeps appending: every entry read exactly once and in
// order across segment files, in small and large steps, never past the durable count it is
// given, from any starting index (a seek), and a damaged entry named by file and byte.
import test from 'ava';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { LogTail } from '../../ledger/log/log-tail.ts';
import { LedgerFormatError } from '../../ledger/log/frame.ts';

const payload = (i: number) => new Uint8Array(Buffer.from(`entry-${i}-`.padEnd(20 + (i % 37), 'x')));

async function tmp(t: { teardown: (f: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vt-tail-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('reads every entry once, in order, across segments, while the log appends', async (t) => {
  const dir = await tmp(t);
  const log = await SegmentLog.open(dir, { segmentBytes: 512 });
  const tail = new LogTail(dir);
  const seen: number[] = [];
  for (let round = 0; round < 12; round++) {
    await Promise.all(Array.from({ length: 9 }, (_, k) => log.append(1 + (k % 3), payload(round * 9 + k))));
    for (;;) {
      const got = await tail.read(seen.length, { end: log.length, maxEntries: 5, maxBytes: 10_000 });
      if (got.length === 0) break;
      for (const e of got) {
        t.is(e.index, seen.length);
        t.deepEqual(e.payload, payload(e.index));
        seen.push(e.index);
      }
    }
  }
  await log.close();
  t.is(seen.length, 108);
  t.true((await readdir(dir)).filter((n) => n.startsWith('seg-')).length > 3, 'the log spans several segments');
});

test('never reads past the durable count, and seeks to any index', async (t) => {
  const dir = await tmp(t);
  const log = await SegmentLog.open(dir, { segmentBytes: 700 });
  await Promise.all(Array.from({ length: 60 }, (_, i) => log.append(2, payload(i))));
  await log.close();
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 400 }), async (from, end, maxEntries, maxBytes) => {
      const got = await new LogTail(dir).read(from, { end, maxEntries, maxBytes });
      if (from >= end) return got.length === 0;
      return got.length >= 1 && got.length <= maxEntries && got.every((e, k) => e.index === from + k && e.index < end && Buffer.from(e.payload).equals(Buffer.from(payload(e.index))));
    }),
    { numRuns: 60 },
  );
  t.pass('60 random (from, end, limits) reads held');
});

test('a damaged entry is named by its file and byte offset', async (t) => {
  const dir = await tmp(t);
  const log = await SegmentLog.open(dir);
  await Promise.all(Array.from({ length: 5 }, (_, i) => log.append(2, payload(i))));
  await log.close();
  const seg = (await readdir(dir)).find((n) => n.startsWith('seg-'))!;
  const fh = await open(join(dir, seg), 'r+');
  await fh.write(Buffer.from([0xff]), 0, 1, 16 + 9 + 3); // inside entry 0's payload
  await fh.close();
  const err = await t.throwsAsync(new LogTail(dir).read(0, { end: 5, maxEntries: 5, maxBytes: 10_000 }), { instanceOf: LedgerFormatError });
  t.regex(err!.message, new RegExp(`${seg}: entry 0 at byte 16 is damaged \\(checksum\\)`));
});
