// Lifecycle accounts survive a restart: the recorder restores the counters and the event count
// from the newest signed summary in the ledger (plus the events after it), and the next summary
// continues from there; a summary is due only after its interval and a change.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../hal/clock.ts';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { Ledger } from '../../../ledger/log/ledger.ts';
import { decodeSummary, type LifecycleSummary } from '../../../ledger/passport/lifecycle-summary.ts';
import { latestSummary } from '../../../ledger/passport/latest-summary.ts';
import { emptySnapshot, type BatterySnapshot } from '../../../devices/snapshot.ts';
import { LifecycleRecorder, SUMMARY_TYPE } from '../../../firmware-ts/passport/lifecycle-recorder.ts';
import { accountingLimits } from '../../../firmware-ts/passport/lifecycle-accountant.ts';

const limits = accountingLimits({ chemistry: 'NMC', capacityAh: 50 });

function snap(t: number, currentA: number): BatterySnapshot {
  const s = emptySnapshot(t);
  s.packVoltageV = 370;
  s.currentA = currentA;
  s.socPct = 50;
  s.cellVoltagesMv = [3700, 3701];
  s.temperaturesC = [25];
  return s;
}

test('counters come back after a restart and keep growing; events are counted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vt-recorder-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const key = PrivateKey.generate();
  const run = async (seconds: number): Promise<LifecycleSummary> => {
    const ledger = await Ledger.open({ dir, signer: key, clock });
    const rec = await LifecycleRecorder.open(dir, { limits, summaryIntervalMs: 60_000 }, clock.monotonic());
    rec.noteEvent();
    await ledger.append('restart', new Map([[1, 0]]), { signed: true });
    t.false(rec.due(clock.monotonic()), 'nothing observed yet');
    for (let s = 0; s < seconds; s++) {
      clock.advance(1000);
      rec.observe(snap(clock.now(), 25));
      if (rec.due(clock.monotonic())) await ledger.append(SUMMARY_TYPE, rec.take(clock.monotonic()), { signed: true });
    }
    const body = rec.take(clock.monotonic());
    await ledger.append(SUMMARY_TYPE, body, { signed: true });
    await ledger.close();
    return decodeSummary(body, 'final summary');
  };
  const first = await run(3600);
  // One hour at 25 A: 25 Ah throughput (1 s of it before the first sample is not counted).
  t.true(Math.abs(first.quantities.capacityThroughput!.value - 25) < 0.01, String(first.quantities.capacityThroughput!.value));
  t.is(first.events, 1);
  const second = await run(1800);
  t.true(Math.abs(second.quantities.capacityThroughput!.value - 37.5) < 0.02, String(second.quantities.capacityThroughput!.value));
  t.true(second.quantities.numberOfFullCycles!.value > first.quantities.numberOfFullCycles!.value);
  t.is(second.events, 2, 'both restart events, from the ledger');
  const latest = await latestSummary(dir);
  t.is(latest.events, 2);
  t.deepEqual(latest.summary?.quantities.capacityThroughput, second.quantities.capacityThroughput);
});
