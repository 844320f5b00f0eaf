import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../hal/clock.ts';
import { runSim } from '../../firmware-ts/runtime/sim-run.ts';
import type { SimRig } from '../../sim-hardware/sim-rig.ts';
import type { PacedClock } from '../../sim-hardware/paced-clock.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { EntryKind } from '../../ledger/log/frame.ts';
import { decodeRecord } from '../../ledger/log/record.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { Tagged } from '../../ledger/cbor/value.ts';

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Telemetry record times (ms) of a ledger, in order. */
async function telemetryTimes(dir: string): Promise<number[]> {
  const log = await SegmentLog.open(dir, { readOnly: true });
  const times: number[] = [];
  for await (const e of log.entries()) {
    if (e.kind !== EntryKind.signedRecord) continue;
    const r = decodeRecord(((decodeCbor(e.payload) as Tagged).value as Uint8Array[])[2]!, `entry ${e.index}`);
    if (r.type === 'telemetry') times.push(r.time);
  }
  return times;
}

// At --speed 200 a 1 s period is 5 ms of the base clock: with the runtime on the base clock,
// frames from 200 simulated seconds per second crowd out the sampler and a loaded machine
// records a fraction of the samples. On simulated time the count per simulated minute is the
// configured one, whatever the load: the base clock here only moves when the test moves it.
test('at --speed 200 the runtime samples on simulated time: 60 records in every simulated minute at a 1 s period, 1 s apart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'vt-speed-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const base = new ManualClock(Date.UTC(2026, 5, 1));
  const ac = new AbortController();
  let rig: SimRig | undefined;
  const acked: string[] = [];
  const run = runSim({
    dataDir,
    clock: base,
    seed: 3,
    cells: 8,
    periodMs: 1000,
    speed: 200,
    mode: 'per-record',
    signal: ac.signal,
    onRig: (r) => (rig = r),
    onAck: (_seq, type) => acked.push(type),
    // Only the period makes records here (no change or fault records), so the count is exact.
    configure: (c) => {
      c.sampler.onChange = { socPct: 100, currentA: 1e6, temperatureC: 1e6 };
      c.sampler.onFault = false;
    },
  });
  // Setting up (key, DBC, simulator, ledger) takes real time: wait for it (the restart event is
  // durable) without moving the clock.
  for (let i = 0; i < 3000 && !acked.includes('restart'); i++) await new Promise((r) => setTimeout(r, 10));
  const paced = rig!.clock.base as PacedClock;
  t.is(paced.speed, 200);
  const simStart = rig!.sim.timeS;
  // 10 ms base steps = 2 simulated seconds each; wait for the clock to catch up after each.
  for (let i = 0; i < 130; i++) {
    base.advance(10);
    await turn();
    for (let k = 0; k < 100_000 && paced.lagMs > 0; k++) await turn();
  }
  ac.abort();
  const summary = await run;
  t.is(paced.slowedMs, 0);
  t.true(rig!.sim.timeS - simStart >= 259, `simulated ${rig!.sim.timeS - simStart} s`);

  const times = await telemetryTimes(join(dataDir, 'ledger'));
  t.is(times.length, summary.records);
  t.true(times.length >= 255, `records: ${times.length}`);
  // Record times are simulated: one period apart.
  const gaps = new Set(times.slice(1).map((x, i) => x - times[i]!));
  t.deepEqual([...gaps], [1000]);
  // Per whole simulated minute from the first record: exactly 60.
  const perMinute = new Map<number, number>();
  for (const x of times) perMinute.set(Math.floor((x - times[0]!) / 60_000), (perMinute.get(Math.floor((x - times[0]!) / 60_000)) ?? 0) + 1);
  const full = [...perMinute].filter(([m]) => m < Math.floor((times.at(-1)! - times[0]!) / 60_000));
  t.true(full.length >= 4, `minutes: ${full.length}`);
  for (const [m, n] of full) t.is(n, 60, `simulated minute ${m}`);
  // The simulated time of the run and its records agree: about one record per simulated second.
  t.true(Math.abs(summary.simTimeS - simStart - times.length) < 5, `${summary.simTimeS} s, ${times.length} records`);
});
