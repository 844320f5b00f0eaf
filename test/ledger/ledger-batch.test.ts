import test from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ASYNC_HASH_ENTRIES, Ledger, type RecordInput, type SigningMode } from '../../ledger/log/ledger.ts';
import { verifyLedger } from '../../ledger/log/verify.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { EntryKind } from '../../ledger/log/frame.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { ManualClock } from '../../hal/clock.ts';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import type { CborWriter } from '../../ledger/cbor/cbor-writer.ts';
import { decodeRecord } from '../../ledger/log/record.ts';
import { BufferPool, chunkBuffers } from '../../ledger/log/buffer-pool.ts';
import { MerkleFrontier } from '../../ledger/log/merkle.ts';
import { loadNativeMerkle } from '../../ledger/log/native-merkle.ts';
import { encodeTelemetryBody, telemetryBody, writeTelemetryBody } from '../../firmware-ts/telemetry/telemetry-body.ts';
import { snapshotAt } from '../../bench/suites/telemetry-fixture.ts';

const key = PrivateKey.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i + 11));
const ring = new KeyRing([{ publicKey: key.publicKey, curve: 'secp256k1' }]);
const BOOT = new Uint8Array(16).fill(7);

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vt-ledger-batch-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const bodyOf = (i: number): CborValue => new Map<number, CborValue>([[1, 350_000 + i], [2, -1200 * i], [5, [3650 + (i % 9), 3651, 3649]], [14, new Uint8Array([i & 0xff])]]);

async function segmentBytes(dir: string): Promise<Buffer[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.vtl')).sort();
  return Promise.all(names.map((n) => readFile(join(dir, n))));
}

/** A ledger written with single appends, and one with appendMany (values and encoded bodies mixed): same files. */
for (const mode of ['checkpoint', 'per-record'] as SigningMode[]) {
  test(`${mode}: appendMany (values and encoded bodies) writes the bytes that single appends write`, async (t) => {
    const write = async (batched: boolean) => {
      const dir = await tempDir(t);
      const clock = new ManualClock();
      const ledger = await Ledger.open({ dir, signer: key, mode, clock, checkpointEvery: 7, simulated: true });
      Object.defineProperty(ledger, 'bootId', { value: BOOT });
      if (batched) {
        const records: RecordInput[] = Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0 ? { type: 'telemetry', bodyBytes: encodeCanonical(bodyOf(i)) } : { type: 'telemetry', body: bodyOf(i) },
        );
        records.push({ type: 'fault-raised', body: new Map([[1, 'ü-text']]), signed: true });
        const r = await ledger.appendMany(records);
        t.deepEqual(r, { seq: 0, count: 41 });
      } else {
        for (let i = 0; i < 40; i++) await ledger.append('telemetry', bodyOf(i));
        await ledger.append('fault-raised', new Map([[1, 'ü-text']]), { signed: true });
      }
      t.is(ledger.size, 41);
      await ledger.close();
      const report = await verifyLedger(dir, { keys: ring.lookup });
      t.true(report.ok, report.failure?.reason);
      t.is(report.records, 41);
      return { dir, report };
    };
    const one = await write(false);
    const many = await write(true);
    t.is(many.report.root, one.report.root);
    if (mode === 'checkpoint') {
      // Unsigned leaves and checkpoints at the same places; the checkpoints' signatures are deterministic too.
      t.deepEqual(await segmentBytes(many.dir), await segmentBytes(one.dir));
    }
    const log = await SegmentLog.open(many.dir, { readOnly: true });
    const kinds: number[] = [];
    for await (const e of log.entries()) kinds.push(e.kind);
    t.is(kinds.filter((k) => k === EntryKind.checkpoint).length, mode === 'checkpoint' ? 6 : 1, 'a checkpoint every 7 unsigned records (checkpoint mode), and one at close');
  });
}

test('appendMany refuses a body that is not one canonical CBOR item, and stores nothing of it', async (t) => {
  const dir = await tempDir(t);
  const ledger = await Ledger.open({ dir, signer: key, mode: 'checkpoint', clock: new ManualClock() });
  await ledger.appendMany([{ type: 'telemetry', bodyBytes: encodeCanonical(bodyOf(1)) }]);
  for (const bad of [
    Uint8Array.from([0xa2, 0x02, 0x01, 0x01, 0x01]), // keys out of order
    Uint8Array.from([0x18, 0x05]), // 5 not in its shortest form
    Uint8Array.from([0x01, 0x02]), // two items
    Uint8Array.from([0x82, 0x01]), // truncated array
    new Uint8Array(0),
  ]) {
    await t.throwsAsync(ledger.appendMany([{ type: 'telemetry', bodyBytes: bad }]), undefined, Buffer.from(bad).toString('hex'));
  }
  await t.throwsAsync(ledger.appendMany([{ type: 'telemetry' } as unknown as RecordInput]), { instanceOf: TypeError });
  t.is(ledger.size, 1);
  await ledger.close();
  const report = await verifyLedger(dir, { keys: ring.lookup });
  t.true(report.ok, report.failure?.reason);
  t.is(report.records, 1);
});

for (const mode of ['checkpoint', 'per-record'] as SigningMode[]) {
  test(`${mode}: appendWritten with writeTelemetryBody writes the bytes that single appends of telemetryBody write`, async (t) => {
    const snaps = Array.from({ length: 30 }, (_, i) => snapshotAt(i * 7));
    snaps[3]!.temperaturesC = [24.5, Number.NaN]; // a failed thermistor: the generic path inside the writer
    const write = async (how: 'append' | 'written' | 'written-one') => {
      const dir = await tempDir(t);
      const ledger = await Ledger.open({ dir, signer: key, mode, clock: new ManualClock(), checkpointEvery: 9, simulated: true });
      Object.defineProperty(ledger, 'bootId', { value: BOOT });
      if (how === 'append') for (const s of snaps) await ledger.append('telemetry', telemetryBody(s));
      else if (how === 'written') t.deepEqual(await ledger.appendWritten('telemetry', snaps, writeTelemetryBody), { seq: 0, count: snaps.length });
      else for (const [i, s] of snaps.entries()) t.deepEqual(await ledger.appendWritten('telemetry', [s], writeTelemetryBody), { seq: i, count: 1 });
      await ledger.close();
      const report = await verifyLedger(dir, { keys: ring.lookup });
      t.true(report.ok, report.failure?.reason);
      t.is(report.records, snaps.length);
      return { dir, report };
    };
    const one = await write('append');
    for (const how of ['written', 'written-one'] as const) {
      const other = await write(how);
      t.is(other.report.root, one.report.root, how);
      if (mode === 'checkpoint') t.deepEqual(await segmentBytes(other.dir), await segmentBytes(one.dir), how);
    }
  });
}

test('appendWritten checks what an unmarked writer wrote: a bad or throwing body fails the call naming the record, and the records before it stay', async (t) => {
  const dir = await tempDir(t);
  const ledger = await Ledger.open({ dir, signer: key, mode: 'checkpoint', clock: new ManualClock() });
  const write = (w: CborWriter, i: number) => {
    if (i === 3) w.head(0, 1).head(0, 2); // two data items
    else if (i === 5) throw new Error('sensor gone');
    else w.head(5, 1).head(0, 1).int(i);
  };
  await t.throwsAsync(ledger.appendWritten('telemetry', [0, 1, 2, 3, 4], write), { message: /record 3/ });
  t.is(ledger.size, 3);
  await t.throwsAsync(ledger.appendWritten('telemetry', [6, 5], write), { message: 'sensor gone' });
  t.is(ledger.size, 4);
  await t.throwsAsync(ledger.appendWritten('telemetry', [1], 'no' as never), { instanceOf: TypeError });
  t.deepEqual(await ledger.appendWritten('telemetry', [], write), { seq: 4, count: 0 });
  await ledger.close();
  const report = await verifyLedger(dir, { keys: ring.lookup });
  t.true(report.ok, report.failure?.reason);
  t.is(report.records, 4);
});

test('chunk buffers go back to the pool once written and are reused: a long run of batches stays byte-exact', async (t) => {
  const dir = await tempDir(t);
  const ledger = await Ledger.open({ dir, signer: key, mode: 'checkpoint', clock: new ManualClock(), checkpointEvery: 500 });
  const snaps = Array.from({ length: 64 }, (_, i) => snapshotAt(i));
  const pending: Promise<unknown>[] = [];
  for (let b = 0; b < 40; b++) {
    pending.push(ledger.appendWritten('telemetry', Array.from({ length: 100 }, (_, i) => snaps[(b * 100 + i) % 64]!), writeTelemetryBody));
    // A turn of the event loop between batches: one chunk each, several in flight.
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(pending);
  t.true(chunkBuffers.heldBytes > 0, 'written chunks gave their buffers back');
  t.true(chunkBuffers.heldBytes <= 4 * 2 * 1024 * 1024 * 6, 'the pool holds a bounded number of buffers');
  await ledger.close();
  const report = await verifyLedger(dir, { keys: ring.lookup });
  t.true(report.ok, report.failure?.reason);
  t.is(report.records, 4000);
  // Every record reads back as the snapshot it was written from.
  const log = await SegmentLog.open(dir, { readOnly: true });
  let i = 0;
  for await (const e of log.entries()) {
    if (e.kind !== EntryKind.leaf) continue;
    const body = decodeRecord(e.payload, `record ${i}`).body;
    t.deepEqual(encodeCanonical(body), encodeTelemetryBody(snaps[i % 64]!), `record ${i}`);
    i++;
  }
  t.is(i, 4000);
});

for (const mode of ['checkpoint', 'per-record'] as SigningMode[]) {
  test(`${mode}: large chunks hashed off the event loop give the files that records hashed one by one give, with checkpoints, roots and flushes in their places`, async (t) => {
    const snaps = Array.from({ length: 64 }, (_, i) => snapshotAt(i));
    const at = (i: number) => snaps[i % 64]!;
    const BATCH = ASYNC_HASH_ENTRIES * 3 + 5;
    const BATCHES = mode === 'checkpoint' ? 12 : 3;
    const write = async (overlapped: boolean) => {
      const dir = await tempDir(t);
      const ledger = await Ledger.open({ dir, signer: key, mode, clock: new ManualClock(), checkpointEvery: 250, simulated: true });
      Object.defineProperty(ledger, 'bootId', { value: BOOT });
      const roots: string[] = [];
      if (overlapped) {
        // Batches, checkpoints, a root and a flush asked for while earlier chunks are still being hashed.
        const pending: Promise<unknown>[] = [];
        for (let b = 0; b < BATCHES; b++) {
          pending.push(ledger.appendWritten('telemetry', Array.from({ length: BATCH }, (_, i) => at(b * BATCH + i)), writeTelemetryBody));
          if (b === 2) pending.push(ledger.checkpoint());
          if (b === 4) pending.push(ledger.root().then((r) => roots.push(Buffer.from(r).toString('hex'))));
          if (b === 5) pending.push(ledger.flush());
        }
        t.is(ledger.size, BATCH * BATCHES, 'size counts sealed records at once');
        await Promise.all(pending);
      } else {
        for (let b = 0; b < BATCHES; b++) {
          for (let i = 0; i < BATCH; i++) await ledger.appendWritten('telemetry', [at(b * BATCH + i)], writeTelemetryBody);
          if (b === 2) await ledger.checkpoint();
          if (b === 4) roots.push(Buffer.from(await ledger.root()).toString('hex'));
        }
      }
      await ledger.close();
      const report = await verifyLedger(dir, { keys: ring.lookup });
      t.true(report.ok, report.failure?.reason);
      t.is(report.records, BATCH * BATCHES);
      return { dir, report, roots };
    };
    const one = await write(false);
    // Count the chunks that went to the thread pool (where the native hasher is built).
    const original = MerkleFrontier.prototype.appendFramesAsync;
    let offLoop = 0;
    MerkleFrontier.prototype.appendFramesAsync = function (this: MerkleFrontier, ...args: Parameters<typeof original>) {
      const queued = original.apply(this, args);
      if (queued) offLoop++;
      return queued;
    };
    const many = await write(true).finally(() => (MerkleFrontier.prototype.appendFramesAsync = original));
    t.is(offLoop > 0, loadNativeMerkle() !== undefined, `${offLoop} chunks hashed off the event loop`);
    t.is(many.report.root, one.report.root);
    t.deepEqual(many.roots, one.roots, 'root() waits for the chunks before it');
    t.is(many.report.checkpoints, one.report.checkpoints);
    if (mode === 'checkpoint') t.deepEqual(await segmentBytes(many.dir), await segmentBytes(one.dir));
  });
}

test('Ledger.open rebuilds the tree and the checkpoint cadence of a ledger of several segments: after a restart it writes the bytes it would have written without one; read-only opens refuse appends', async (t) => {
  const snaps = Array.from({ length: 64 }, (_, i) => snapshotAt(i));
  const opts = { signer: key, mode: 'checkpoint' as const, clock: new ManualClock(), checkpointEvery: 300, segmentBytes: 64 * 1024, simulated: true };
  const openAt = async (dir: string) => {
    const l = await Ledger.open({ dir, ...opts });
    Object.defineProperty(l, 'bootId', { value: BOOT });
    return l;
  };
  const stale: Ledger[] = [];
  const write = async (restart: boolean) => {
    const dir = await tempDir(t);
    let ledger = await openAt(dir);
    // Unsigned leaves, signed events and checkpoints (after every 300 unsigned leaves).
    for (let b = 0; b < 6; b++) {
      await ledger.appendWritten('telemetry', Array.from({ length: 170 }, (_, i) => snaps[(b * 170 + i) % 64]!), writeTelemetryBody);
      await ledger.append('fault-raised', new Map([[1, b]]), { signed: true });
    }
    if (restart) {
      // As after a power cut: open again from what is durable (the old ledger is left as it is).
      await ledger.flush();
      const root = Buffer.from(await ledger.root()).toString('hex');
      stale.push(ledger);
      ledger = await openAt(dir);
      t.is(ledger.size, 6 * 171);
      t.is(Buffer.from(await ledger.root()).toString('hex'), root, 'the same tree');
    }
    // 120 unsigned leaves are uncovered: the next checkpoint falls 180 records on, restart or not.
    await ledger.appendWritten('telemetry', Array.from({ length: 200 }, (_, i) => snaps[i % 64]!), writeTelemetryBody);
    await ledger.close();
    const report = await verifyLedger(dir, { keys: ring.lookup }, { nativeScan: false });
    t.true(report.ok, report.failure?.reason);
    return dir;
  };
  const once = await write(false);
  const restarted = await write(true);
  t.true((await readdir(once)).filter((n) => n.endsWith('.vtl')).length > 3, 'several segments');
  t.deepEqual(await segmentBytes(restarted), await segmentBytes(once));
  const readOnly = await Ledger.open({ dir: once, ...opts, readOnly: true });
  t.is(readOnly.size, 6 * 171 + 200);
  await t.throwsAsync(readOnly.append('telemetry', 1), { message: /read-only/ });
  // Their files are compared: now the handles may go (the stale one writes its closing checkpoint over the copy's tail).
  await readOnly.close().catch(() => undefined);
  for (const l of stale) await l.close().catch(() => undefined);
});

test('BufferPool keeps a few whole buffers of each power-of-two size and nothing else', (t) => {
  const pool = new BufferPool();
  const a = pool.take(100);
  t.is(a.length, 64 * 1024);
  t.is(pool.take(64 * 1024 + 1).length, 128 * 1024);
  pool.give(a);
  t.is(pool.take(1000), a, 'reused');
  pool.give(a.subarray(0, 10));
  pool.give(new Uint8Array(100_000));
  t.is(pool.heldBytes, 0, 'views and odd sizes are not kept');
  for (let i = 0; i < 10; i++) pool.give(new Uint8Array(64 * 1024));
  t.is(pool.heldBytes, 4 * 64 * 1024, 'at most four a size');
  t.is(pool.take(3 * 1024 * 1024).length, 3 * 1024 * 1024, 'beyond the largest size: a buffer of its own');
});

test('SegmentLog.appendMany resolves with the first index once all are durable, and keeps order with single appends', async (t) => {
  const dir = await tempDir(t);
  const log = await SegmentLog.open(dir);
  const a = log.append(EntryKind.leaf, Uint8Array.from([1]));
  const b = log.appendMany(EntryKind.leaf, [Uint8Array.from([2]), Uint8Array.from([3])]);
  const c = log.appendMany([EntryKind.leaf, EntryKind.witness], [Uint8Array.from([4]), Uint8Array.from([5])]);
  t.deepEqual(await Promise.all([a, b, c]), [0, 1, 3]);
  t.is(log.length, 5);
  await t.throwsAsync(log.appendMany([EntryKind.leaf], [Uint8Array.from([1]), Uint8Array.from([2])]), { instanceOf: RangeError });
  t.is(await log.appendMany(EntryKind.leaf, []), 5);
  await log.close();
  const again = await SegmentLog.open(dir, { readOnly: true });
  const got: number[] = [];
  for await (const e of again.entries()) got.push(e.payload[0]!);
  t.deepEqual(got, [1, 2, 3, 4, 5]);
});
