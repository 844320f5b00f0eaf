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

test('the opening scan reads a big segment in pieces: frames across piece boundaries, damage and a torn tail far into it', async (t) => {
  const storage = new CrashStorage();
  const log = await SegmentLog.open('/big', { storage, segmentBytes: 64 * 1024 * 1024 });
  // About 14 MB in one segment (the scan reads 4 MB at a time), one frame of 1 MB among them.
  const payloads = Array.from({ length: 600 }, (_, i) => payload(i, i === 150 ? 1024 * 1024 : 20_000 + i * 13));
  await log.appendMany(EntryKind.leaf, payloads);
  await log.close();
  const [path] = [...storage.files.keys()];
  const file = storage.files.get(path!)!;
  t.true(file.data.length > 12 * 1024 * 1024);
  const original = Buffer.from(file.data);
  const offsets: number[] = [];
  const ro = await SegmentLog.open('/big', {
    storage,
    readOnly: true,
    replay: (e) => {
      offsets.push(e.offset);
      if (!Buffer.from(e.payload).equals(payloads[e.index]!)) t.fail(`entry ${e.index} came back changed`);
    },
  });
  t.is(ro.length, 600);
  t.is(offsets.length, 600);
  t.is(ro.recovery.droppedBytes, 0);

  // A damaged frame past the first piece (and more than a group commit from the end) is refused and named.
  t.true(offsets[300]! > 4 * 1024 * 1024 && original.length - offsets[300]! > 4 * 1024 * 1024);
  const damaged = Buffer.from(original);
  damaged[offsets[300]! + 20]! ^= 4;
  file.data = damaged;
  const err = await t.throwsAsync(SegmentLog.open('/big', { storage, readOnly: true }), { instanceOf: LedgerFormatError });
  t.deepEqual(err!.location, { index: 300, segment: path!.split('/').pop(), offset: offsets[300] });

  // A torn last frame far into the file: reported read-only, then cut and kept aside.
  file.data = Buffer.from(original.subarray(0, offsets[599]! + 5000));
  const torn = await SegmentLog.open('/big', { storage, readOnly: true });
  t.is(torn.length, 599);
  t.like(torn.recovery, { offset: offsets[599], droppedBytes: 5000 });
  const cut = await SegmentLog.open('/big', { storage });
  t.is(cut.length, 599);
  t.deepEqual(storage.files.get(cut.recovery.quarantined!)!.data, original.subarray(offsets[599]!, offsets[599]! + 5000));
  t.is(file.data.length, offsets[599]);
  await cut.close();
});

test('a last segment holding only a torn header (never synced) is dropped as unacknowledged', async (t) => {
  const storage = new CrashStorage();
  const log = await SegmentLog.open('/h', { storage, segmentBytes: 200 });
  for (let i = 0; i < 8; i++) await log.append(EntryKind.leaf, payload(i, 60));
  await log.close();
  const names = [...storage.files.keys()].sort();
  t.true(names.length > 2);
  const last = storage.files.get(names[names.length - 1]!)!;
  // A segment just started whose header write was torn: 16 bytes, the end zeroed.
  const count = (await SegmentLog.open('/h', { storage, readOnly: true })).length;
  storage.files.set('/h/seg-' + String(count).padStart(16, '0') + '.vtl', { data: Buffer.alloc(16), durable: Buffer.alloc(16), dirSynced: true });
  const again = await SegmentLog.open('/h', { storage });
  t.is(again.length, count);
  t.is(again.recovery.droppedBytes, 16);
  t.is(await again.append(EntryKind.leaf, payload(99)), count);
  await again.close();
  t.true(last.data.length > 16);
  t.is((await SegmentLog.open('/h', { storage, readOnly: true })).length, count + 1);
});
