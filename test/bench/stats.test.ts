// The harness's statistics and measuring loop on deterministic fake timings: no real clock, so
// every figure is exact.
import test from 'ava';
import { median, ratio, summarize } from '../../bench/harness/stats.ts';
import { MAX_WALL_FACTOR, measureRate, timedRun, warmUp } from '../../bench/harness/measure.ts';

test('median of odd and even counts, unsorted input left untouched', (t) => {
  const input = [5, 1, 4];
  t.is(median(input), 4);
  t.deepEqual(input, [5, 1, 4]);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.is(median([7]), 7);
});

test('median refuses empty and non-finite samples', (t) => {
  t.throws(() => median([]), { instanceOf: RangeError, message: /empty/ });
  t.throws(() => median([1, Number.NaN]), { instanceOf: RangeError, message: /finite/ });
});

test('summarize gives median, min and max', (t) => {
  t.deepEqual(summarize([30, 10, 20, 50, 40]), { median: 30, min: 10, max: 50 });
});

test('ratio is median over the reference median, null without a usable reference', (t) => {
  t.is(ratio(90, 100), 0.9);
  t.is(ratio(100, undefined), null);
  t.is(ratio(100, 0), null);
  t.is(ratio(100, Number.NaN), null);
});

/** A clock that each operation advances by a fixed step. */
function fakeOp(stepMs: number, items = 1): { op: () => number; now: () => number } {
  let t = 0;
  return {
    op: () => {
      t += stepMs;
      return items;
    },
    now: () => t,
  };
}

test('measureRate: 0.25 ms per call gives exactly 4000 ops/s in every run', (t) => {
  const { op, now } = fakeOp(0.25);
  let before = 0;
  const rates = measureRate(op, { warmupMs: 10, runs: 5, runMs: 100 }, { now, beforeRun: () => before++ });
  t.deepEqual(rates, [4000, 4000, 4000, 4000, 4000]);
  t.is(before, 5);
});

test('measureRate counts the items a batch call reports', (t) => {
  const { op, now } = fakeOp(2, 64);
  t.deepEqual(measureRate(op, { warmupMs: 0, runs: 2, runMs: 50 }, { now }), [32_000, 32_000]);
});

test('warmUp grows the chunk until a chunk takes about a millisecond; timedRun uses it', (t) => {
  const { op, now } = fakeOp(0.01);
  const chunk = warmUp(op, 50, now);
  t.true(chunk >= 100 && chunk <= 256, `chunk ${chunk}`);
  t.is(Math.round(timedRun(op, chunk, 20, now)), 100_000);
});

test('measureRate refuses settings that cannot measure', (t) => {
  const { op, now } = fakeOp(1);
  t.throws(() => measureRate(op, { warmupMs: 0, runs: 0, runMs: 10 }, { now }), { instanceOf: RangeError, message: /runs >= 1/ });
  t.throws(() => measureRate(op, { warmupMs: 0, runs: 1, runMs: 0 }, { now }), { instanceOf: RangeError });
});

test('timedRun on a slow CPU clock stops after MAX_WALL_FACTOR * runMs of wall time', (t) => {
  let cpu = 0;
  let wall = 0;
  const op = (): number => {
    cpu += 0.001;
    wall += 1;
    return 1;
  };
  const rate = timedRun(op, 1, 10, () => cpu, () => wall);
  t.is(wall, 10 * MAX_WALL_FACTOR);
  t.is(Math.round(rate), 1_000_000);
});
