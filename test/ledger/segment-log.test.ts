import test from 'ava';
import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentLog, LedgerWriteError } from '../../ledger/log/segment-log.ts';
import { EntryKind, LedgerFormatError } from '../../ledger/log/frame.ts';
import { seededRandom } from '../../hal/seeded-random.ts';
import { CrashStorage } from '../helpers/crash-storage.ts';

const payload = (i: number, len = 20 + (i % 50)) => {
  const b = Buffer.alloc(len);
  b.writeUInt32BE(i, 0);
  for (let k = 4; k < len; k++) b[k] = (i * 31 + k) & 0xff;
  return b;
};

async function readAll(log: SegmentLog) {
  const out: { index: number; kind: number; payload: Uint8Array }[] = [];
  for await (const e of log.entries()) out.push(e);
  return out;
}

test('appends are durable and come back in order, across segments and reopen', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vt-seg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = await SegmentLog.open(dir, { segmentBytes: 4096 });
  const idx: number[] = [];
  for (let g = 0; g < 15; g++) {
    idx.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(EntryKind.leaf, payload(g * 20 + i))))));
  }
  t.deepEqual(idx, Array.from({ length: 300 }, (_, i) => i));
  await log.close();
  t.true((await readdir(dir)).length > 3, 'several segments');
  const seen: number[] = [];
  const again = await SegmentLog.open(dir, { segmentBytes: 4096, replay: (e) => seen.push(e.index) });
  t.is(again.length, 300);
  t.is(seen.length, 300);
  t.deepEqual((await readAll(again)).map((e) => Buffer.from(e.payload).readUInt32BE(0)), seen);
  t.is(await again.append(EntryKind.checkpoint, payload(999)), 300);
  await again.close();
});

test('a torn tail is cut on open and reported; a damaged middle is refused with its position', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vt-seg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = await SegmentLog.open(dir);
  for (let i = 0; i < 10; i++) await log.append(EntryKind.leaf, payload(i));
  await log.close();
  const [seg] = (await readdir(dir)).filter((n) => n.endsWith('.vtl'));
  const path = join(dir, seg!);
  const good = await readFile(path);
  await writeFile(path, Buffer.concat([good, Buffer.from([0, 0, 0, 40, 1, 2])]));
  const reopened = await SegmentLog.open(dir);
  t.is(reopened.length, 10);
  t.is(reopened.recovery.droppedBytes, 6);
  t.is(reopened.recovery.offset, good.length);
  t.deepEqual(await readFile(reopened.recovery.quarantined!), Buffer.from([0, 0, 0, 40, 1, 2]), 'the cut bytes are kept aside');
  await reopened.close();
  t.deepEqual(await readFile(path), good);

  // Flip a byte in the first entry: later entries were acknowledged, so this is damage, not a tear.
  const bad = Buffer.from(good);
  bad[16 + 12] ^= 0x01;
  await writeFile(path, Buffer.concat([bad, Buffer.alloc(5 * 1024 * 1024, 7)]));
  const err = await t.throwsAsync(SegmentLog.open(dir), { instanceOf: LedgerFormatError });
  t.regex(err!.message, /entry 0 at byte 16 is damaged/);
});

test('power cut at any instant never loses an acknowledged entry (many random cuts)', async (t) => {
  let worst = 0;
  let totalAcked = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const rand = seededRandom(seed);
    let storage = new CrashStorage();
    const acked = new Map<number, Buffer>();
    const dir = '/ledger';
    // Several boots, each cut at a random storage operation.
    for (let boot = 0; boot < 3; boot++) {
      storage.opsLeft = 5 + Math.floor(rand() * 60);
      let log: SegmentLog;
      try {
        log = await SegmentLog.open(dir, { storage, segmentBytes: 600 });
      } catch {
        storage = storage.afterCut(rand);
        continue;
      }
      const appends: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        const p = payload(seed * 1000 + boot * 100 + i, 5 + Math.floor(rand() * 80));
        appends.push(log.append(EntryKind.leaf, p).then((index) => acked.set(index, p), () => undefined));
        if (rand() < 0.3) await Promise.race([appends[appends.length - 1], new Promise((r) => setImmediate(r))]);
      }
      await Promise.allSettled(appends);
      storage.powerCut();
      storage = storage.afterCut(rand);
    }
    storage.opsLeft = Infinity;
    const log = await SegmentLog.open(dir, { storage, segmentBytes: 600 });
    const entries = await readAll(log);
    for (const [index, p] of acked) {
      const e = entries[index];
      if (!e || !Buffer.from(e.payload).equals(p)) {
        t.fail(`seed ${seed}: acknowledged entry ${index} is missing or changed after the power cuts`);
        return;
      }
    }
    worst = Math.max(worst, log.recovery.droppedBytes);
    totalAcked += acked.size;
  }
  t.true(totalAcked > 1000, `acknowledged entries checked: ${totalAcked}`);
  t.true(worst > 0, 'some cuts tore a tail');
});

test('a full disk rejects the append with a clear error and corrupts nothing', async (t) => {
  const storage = new CrashStorage();
  const log = await SegmentLog.open('/l', { storage });
  for (let i = 0; i < 5; i++) await log.append(EntryKind.leaf, payload(i));
  storage.capacity = [...storage.files.values()][0]!.data.length + 30;
  const err = await t.throwsAsync(log.append(EntryKind.leaf, payload(5, 100)), { instanceOf: LedgerWriteError });
  t.regex(err!.message, /disk holding \/l is full/);
  t.is(err!.code, 'ENOSPC');
  storage.capacity = Infinity;
  const again = await SegmentLog.open('/l', { storage });
  t.is(again.length, 5);
  t.is(again.recovery.droppedBytes, 0);
});

test('read-only open reports a torn tail without changing the files', async (t) => {
  const storage = new CrashStorage();
  const log = await SegmentLog.open('/r', { storage });
  for (let i = 0; i < 3; i++) await log.append(EntryKind.leaf, payload(i));
  const f = [...storage.files.values()][0]!;
  f.data = Buffer.concat([f.data, Buffer.from([1, 2, 3])]);
  const ro = await SegmentLog.open('/r', { storage, readOnly: true });
  t.is(ro.recovery.droppedBytes, 3);
  t.is(f.data.length % 1, 0);
  t.is([...storage.files.values()][0]!.data.length, f.data.length);
  await t.throwsAsync(ro.append(EntryKind.leaf, payload(9)), { message: /read-only/ });
});
