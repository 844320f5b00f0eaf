import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../hal/clock.ts';
import { runSim, type SimRunOptions, type SimRunSummary } from '../../firmware-ts/runtime/sim-run.ts';
import type { SimRig } from '../../sim-hardware/sim-rig.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { EntryKind } from '../../ledger/log/frame.ts';
import { decodeRecord } from '../../ledger/log/record.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { Tagged } from '../../ledger/cbor/value.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import { CrashStorage } from '../helpers/crash-storage.ts';

interface Harness {
  clock: ManualClock;
  acks: { seq: number; type: string }[];
  rig: () => SimRig;
  /** Steps simulated time by `ms` in 20 ms steps, letting I/O run between steps. */
  advance: (ms: number) => Promise<void>;
  until: (cond: () => boolean, maxMs: number) => Promise<void>;
  stop: () => Promise<SimRunSummary>;
  dataDir: string;
}

async function start(t: { teardown: (f: () => Promise<void>) => void }, extra: Partial<SimRunOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vt-rt-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const ac = new AbortController();
  const acks: { seq: number; type: string }[] = [];
  let rig: SimRig | undefined;
  const run = runSim({ dataDir, clock, seed: 7, cells: 8, periodMs: 200, speed: 1, mode: 'per-record', signal: ac.signal, onAck: (seq, type) => acks.push({ seq, type }), onRig: (r) => (rig = r), ...extra });
  const step = async () => {
    await new Promise((r) => setImmediate(r));
    clock.advance(20);
  };
  const advance = async (ms: number) => {
    for (let i = 0; i < ms / 20; i++) await step();
  };
  const until = async (cond: () => boolean, maxMs: number) => {
    for (let i = 0; i < maxMs / 20 && !cond(); i++) await step();
  };
  // Setting up (key, DBC, simulator) takes real time: wait for it without moving the clock.
  for (let i = 0; i < 3000 && !(rig && acks.length); i++) await new Promise((r) => setTimeout(r, 10));
  await until(() => acks.some((a) => a.type === 'telemetry'), 20_000);
  return { clock, acks, rig: () => rig!, advance, until, dataDir, stop: async () => (ac.abort(), run) };
}

const types = (acks: { type: string }[]) => acks.map((a) => a.type);

/** Every record in the ledger: seq -> type (and body), read back from the log. */
async function readBack(dir: string, storage?: CrashStorage) {
  const log = await SegmentLog.open(dir, { readOnly: true, storage });
  const out = new Map<number, { type: string; body: unknown }>();
  for await (const e of log.entries()) {
    if (e.kind === EntryKind.checkpoint) continue;
    const payload = e.kind === EntryKind.signedRecord ? ((decodeCbor(e.payload) as Tagged).value as Uint8Array[])[2]! : e.payload;
    const r = decodeRecord(payload, `entry ${e.index}`);
    out.set(r.seq, { type: r.type, body: r.body });
  }
  return out;
}

test('a BMS that stops answering (bus-off) and comes back: a stale-source event, then a recovered event, records go on', async (t) => {
  const h = await start(t);
  h.rig().faults.can.busOff = true;
  await h.until(() => types(h.acks).includes('stale-source'), 10_000);
  const silentRecords = h.acks.filter((a) => a.type === 'telemetry').length;
  h.rig().faults.can.busOff = false;
  await h.until(() => types(h.acks).includes('source-recovered'), 10_000);
  await h.advance(1000);
  const s = await h.stop();
  const ev = types(h.acks).filter((x) => x !== 'telemetry');
  t.deepEqual(ev.slice(0, 1), ['restart']);
  t.true(ev.indexOf('stale-source') > 0 && ev.indexOf('source-recovered') > ev.indexOf('stale-source'), ev.join(','));
  t.true(s.records > silentRecords, 'records continue after the BMS is back');
  const back = await readBack(join(h.dataDir, 'ledger'));
  const stale = [...back.values()].find((r) => r.type === 'stale-source')!;
  t.is(((stale.body as Map<number, unknown>).get(2) as Map<string, unknown>).get('source'), 'voltrail');
});

test('a garbage stream (corrupted frames) is counted and skipped, never a crash', async (t) => {
  const h = await start(t);
  h.rig().faults.can.corruptionProbability = 0.5;
  await h.advance(4000);
  h.rig().faults.can.corruptionProbability = 0;
  await h.advance(500);
  const s = await h.stop();
  t.true(s.framesRejected > 0, `rejected ${s.framesRejected}`);
  t.true(s.framesDecoded > s.framesRejected);
  t.true(s.records >= 10, `records ${s.records}`);
  t.is(s.driver.rejected, s.framesRejected);
});

test('a wall clock jump backwards is recorded as a clock-jump event with the (negative) delta', async (t) => {
  const h = await start(t);
  h.clock.jumpWall(-3_600_000);
  await h.until(() => types(h.acks).includes('clock-jump'), 2000);
  await h.stop();
  const back = await readBack(join(h.dataDir, 'ledger'));
  const jumps = [...back.values()].filter((r) => r.type === 'clock-jump');
  t.is(jumps.length, 1);
  const delta = ((jumps[0]!.body as Map<number, unknown>).get(2) as Map<string, number>).get('deltaMs')!;
  t.true(delta <= -3_600_000 + 100 && delta >= -3_600_000 - 100, `deltaMs ${delta}`);
});

test('a full disk: the failure is recorded once space is back, no crash loop, no acknowledged record lost', async (t) => {
  const storage = new CrashStorage();
  const h = await start(t, { storage });
  const dir = join(h.dataDir, 'ledger');
  const file = [...storage.files.keys()].find((p) => p.endsWith('.vtl'))!;
  storage.capacity = storage.files.get(file)!.data.length + 3000; // room for a few more records
  const before = h.acks.length;
  await h.advance(3000);
  const duringFailure = h.acks.length;
  t.true(duringFailure > before, 'some records fit before the disk filled');
  await h.advance(3000); // the runtime retries with back-off, and keeps going
  t.is(h.acks.length, duringFailure, 'nothing is acknowledged while the disk is full');
  storage.capacity = Infinity;
  await h.until(() => types(h.acks).includes('storage-error'), 70_000);
  await h.advance(1000);
  const s = await h.stop();
  t.true(s.shed.storage > 0, 'telemetry shed while the disk was full is counted');
  t.is(s.lastError, null);
  const back = await readBack(dir, storage);
  for (const a of h.acks) t.is(back.get(a.seq)?.type, a.type, `acknowledged seq ${a.seq} (${a.type}) is in the ledger`);
  const err = [...back.values()].find((r) => r.type === 'storage-error')!;
  t.is(((err.body as Map<number, unknown>).get(2) as Map<string, unknown>).get('code'), 'ENOSPC');
});

test('backpressure: telemetry is shed and counted while too many bytes wait for the disk; events are kept', async (t) => {
  const h = await start(t, {
    configure: (c) => {
      c.ledger.maxPendingBytes = 1; // every append leaves bytes pending until its write completes
      c.health.shedReportIntervalMs = 1000;
      c.sampler.periodMs = 20;
    },
  });
  await h.until(() => types(h.acks).includes('shed'), 20_000);
  const s = await h.stop();
  t.true(types(h.acks).includes('shed'), 'a shed event records the count');
  t.true(s.shed.backpressure > 0);
  const back = await readBack(join(h.dataDir, 'ledger'));
  const shedEvent = [...back.values()].find((r) => r.type === 'shed')!;
  t.true((((shedEvent.body as Map<number, unknown>).get(2) as Map<string, number>).get('samples') ?? 0) > 0);
});

test('without the native signer (a loader that finds nothing) the runtime signs with noble, and records verify', async (t) => {
  const picked = await pickBackend('secp256k1', { candidates: [() => undefined] });
  t.regex(picked.backend.name, /noble/);
  const h = await start(t, { pick: { candidates: [() => undefined] } });
  await h.advance(1000);
  const s = await h.stop();
  t.regex(s.signer, /noble/);
  const { verifyLedger } = await import('../../ledger/log/verify.ts');
  const { KeyRing } = await import('../../ledger/cose/key-ring.ts');
  const { ES256K } = await import('../../ledger/cose/algorithms.ts');
  const { readIdentity } = await import('../../firmware-ts/runtime/data-dir.ts');
  const ring = new KeyRing();
  for (const k of (await readIdentity(h.dataDir))!.keys) ring.add(Buffer.from(k.publicKey, 'hex'), k.curve);
  const report = await verifyLedger(join(h.dataDir, 'ledger'), { keys: ring.lookup, algs: [ES256K], backends: { secp256k1: picked.backend } });
  t.true(report.ok, report.failure?.reason);
  t.is(report.records, report.simulatedRecords, 'every record says simulated');
  t.is(report.records, s.records + s.events);
});
