import test from 'ava';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../hal/clock.ts';
import { runSim } from '../../firmware-ts/runtime/sim-run.ts';
import { snapshotFromBody } from '../../firmware-ts/telemetry/telemetry-body.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { EntryKind, SEGMENT_HEADER_BYTES, scanFrame } from '../../ledger/log/frame.ts';
import { decodeRecord } from '../../ledger/log/record.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { Tagged } from '../../ledger/cbor/value.ts';
import type { BmsReadings } from '../../sim-hardware/bms/simulated-bms.ts';
import { runCli } from '../helpers/cli.ts';

/** The payload of a COSE_Sign1 (tag 18: [protected, unprotected, payload, signature]). */
function coseParts(bytes: Uint8Array): Uint8Array {
  const v = decodeCbor(bytes) as Tagged;
  return (v.value as Uint8Array[])[2]!;
}

test('a seeded simulated run records what the simulated BMS sent, within the DBC resolution, and tracks the plant', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'vt-run-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const clock = new ManualClock();
  const ac = new AbortController();
  const expected = new Map<number, { pack: BmsReadings; cap: BmsReadings; truthV: number; truthI: number; truthSoc: number }>();
  const run = runSim({
    dataDir,
    clock,
    seed: 42,
    cells: 24,
    periodMs: 500,
    speed: 1,
    mode: 'per-record',
    signal: ac.signal,
    onRecord: (seq, _snap, rig) => {
      const truth = rig.pack.truth();
      expected.set(seq, {
        pack: rig.canFace!.lastSent.get('VT_PackStatus')!,
        cap: rig.canFace!.lastSent.get('VT_PackCapacity')!,
        truthV: truth.packVoltageV,
        truthI: truth.currentA,
        truthSoc: (truth.cellSoc.reduce((a, b) => a + b, 0) / truth.cellSoc.length) * 100,
      });
    },
  });
  // 20 s of simulated driving, stepped by hand: deterministic whatever the machine's load.
  for (let i = 0; i < 100_000 && expected.size < 40; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(20);
  }
  ac.abort();
  const summary = await run;
  t.true(summary.records >= 40, `records: ${summary.records}`);

  const log = await SegmentLog.open(join(dataDir, 'ledger'), { readOnly: true });
  let checked = 0;
  for await (const e of log.entries()) {
    if (e.kind !== EntryKind.signedRecord) continue;
    const r = decodeRecord(coseParts(e.payload), `entry ${e.index}`);
    t.true(r.simulated, 'every simulated record says so');
    if (r.type !== 'telemetry') continue;
    const s = snapshotFromBody(r.body, r.time);
    const x = expected.get(r.seq)!;
    // What the BMS put on the wire, decoded and stored: equal within the DBC's resolution.
    t.true(Math.abs(s.packVoltageV! - x.pack.packVoltageV) <= 0.005 + 1e-6, `seq ${r.seq} pack ${s.packVoltageV} vs ${x.pack.packVoltageV}`);
    t.true(Math.abs(s.currentA! - x.pack.currentA) <= 0.05 + 1e-6, `seq ${r.seq} current ${s.currentA} vs ${x.pack.currentA}`);
    t.true(Math.abs(s.socPct! - x.pack.socPct) <= 0.05 + 1e-6, `seq ${r.seq} soc ${s.socPct} vs ${x.pack.socPct}`);
    t.true(Math.abs(s.fullCapacityAh! - x.cap.fullCapacityAh) <= 0.005 + 1e-6, `seq ${r.seq} full ${s.fullCapacityAh} vs ${x.cap.fullCapacityAh}`);
    // ... and close to the plant's truth (sensor noise, and up to one message period of drift).
    t.true(Math.abs(s.packVoltageV! - x.truthV) < 2, `seq ${r.seq} pack vs truth ${x.truthV}`);
    t.true(Math.abs(s.socPct! - x.truthSoc) < 3, `seq ${r.seq} soc vs truth ${x.truthSoc}`);
    checked++;
  }
  t.is(checked, summary.records);
});

test('voltrail run --sim then ledger verify: exit 0; a byte flipped in the first, a middle and the last record is named', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'vt-cli-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const run = await runCli(['run', '--sim', '--duration', '6s', '--period', '100ms', '--speed', '5', '--data-dir', dataDir, '--json'], { timeoutMs: 60_000 });
  t.is(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { records: number; events: number };
  t.true(summary.records >= 1, `records ${summary.records}`);
  t.true(summary.events >= 1, 'at least the restart event');
  const all = summary.records + summary.events;
  const ok = await runCli(['ledger', 'verify', dataDir]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  t.regex(ok.stdout, new RegExp(`OK .*\\n  ${all} records \\(${all} signed, ${all} simulated\\)`));

  const ledgerDir = join(dataDir, 'ledger');
  const seg = join(ledgerDir, (await readdir(ledgerDir)).find((n) => n.endsWith('.vtl'))!);
  const good = await readFile(seg);
  const records: number[] = [];
  for (let pos = SEGMENT_HEADER_BYTES; pos < good.length; ) {
    const f = scanFrame(good, pos);
    if (!f.ok) break;
    if (f.kind === EntryKind.signedRecord) records.push(pos);
    pos = f.next;
  }
  for (const seq of new Set([0, Math.floor(records.length / 2), records.length - 1])) {
    const bad = Buffer.from(good);
    bad[records[seq]! + 9 + 20]! ^= 0x04;
    await writeFile(seg, bad);
    const r = await runCli(['ledger', 'verify', dataDir, '--json']);
    t.is(r.code, 1, `seq ${seq}: verify must fail`);
    const report = JSON.parse(r.stdout) as { ok: boolean; failure: { seq: number; reason: string } };
    t.false(report.ok);
    t.is(report.failure.seq, seq, `names record ${seq}: ${report.failure.reason}`);
    const text = await runCli(['ledger', 'verify', dataDir]);
    t.regex(text.stdout, new RegExp(`FAILED .*\\n  record ${seq}, entry`));
  }
  await writeFile(seg, good);
  t.is((await runCli(['ledger', 'verify', dataDir])).code, 0);
});

test('a provisioned board data folder is refused by a simulated run', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'vt-prov-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  await writeFile(join(dataDir, 'identity.json'), JSON.stringify({ format: 'voltrail-identity/1', simulated: false, keys: [] }));
  const r = await runCli(['run', '--sim', '--duration', '1s', '--data-dir', dataDir], { timeoutMs: 90_000 });
  t.is(r.code, 1);
  t.regex(r.stderr, /belongs to a provisioned board; simulated data must never be mixed/);
});

test('ledger verify on a folder that is not a ledger says what to give instead', async (t) => {
  const r = await runCli(['ledger', 'verify', tmpdir()]);
  t.is(r.code, 1);
  t.regex(r.stderr, /not a voltrail data folder/);
});
