import test from 'ava';
import { ManualClock } from '../../hal/clock.ts';
import { PacedClock } from '../../sim-hardware/paced-clock.ts';

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Advances the base clock by `ms` and waits until the paced clock has caught up with it. */
async function step(base: ManualClock, paced: PacedClock, ms: number): Promise<void> {
  base.advance(ms);
  await turn();
  for (let i = 0; i < 100_000 && paced.lagMs > 0; i++) await turn();
}

function setup(speed: number, maxLagMs?: number) {
  const base = new ManualClock(Date.UTC(2026, 0, 1));
  base.advance(5000);
  const paced = new PacedClock(base, { speed, tickMs: 10, ...(maxLagMs === undefined ? {} : { maxLagMs }) });
  const ac = new AbortController();
  const running = paced.run(ac.signal);
  return { base, paced, stop: async () => (ac.abort(), running) };
}

test('simulated time runs speed times faster than the base clock, from the base clock\'s wall and monotonic time', async (t) => {
  const { base, paced, stop } = setup(50);
  t.is(paced.now(), Date.UTC(2026, 0, 1) + 5000);
  t.is(paced.monotonic(), 5000);
  for (let i = 0; i < 10; i++) await step(base, paced, 10);
  t.is(paced.monotonic() - 5000, 100 * 50);
  t.is(paced.now() - Date.UTC(2026, 0, 1) - 5000, 100 * 50);
  t.is(paced.slowedMs, 0);
  await stop();
});

test('sleepers wake in simulated time order, ties in the order they slept, each at its own simulated time', async (t) => {
  const { base, paced, stop } = setup(100);
  const t0 = paced.monotonic();
  const woke: [string, number][] = [];
  const sleep = (name: string, ms: number) => paced.sleep(ms).then(() => woke.push([name, paced.monotonic() - t0]));
  const all = Promise.all([sleep('c', 300), sleep('a', 100), sleep('b', 200), sleep('a2', 100), sleep('zero', 0)]);
  await step(base, paced, 10); // 1000 simulated ms: all due
  await all;
  t.deepEqual(woke, [
    ['zero', 0],
    ['a', 100],
    ['a2', 100],
    ['b', 200],
    ['c', 300],
  ]);
  await stop();
});

test('what a wake starts (a chain of promises) is done before simulated time moves on', async (t) => {
  const { base, paced, stop } = setup(1000);
  const seen: number[] = [];
  const worker = (async () => {
    for (let i = 0; i < 50; i++) {
      await paced.sleep(100);
      const at = paced.monotonic();
      // A few hops of promise work, as a frame going through a bus queue into a driver.
      for (let k = 0; k < 5; k++) await Promise.resolve();
      seen.push(paced.monotonic() - at);
    }
  })();
  // 50 periods of 100 ms = 5000 simulated ms = 5 base ms: all in one base step.
  await step(base, paced, 10);
  await worker;
  t.is(seen.length, 50);
  t.true(
    seen.every((d) => d === 0),
    'no time passed while the woken work ran',
  );
  await stop();
});

test('a clock that falls far behind gives the time up (counted) instead of racing later', async (t) => {
  const { base, paced, stop } = setup(10, 500);
  base.advance(1000); // 10,000 simulated ms at once, against a 500 ms lag limit
  await turn();
  for (let i = 0; i < 1000 && paced.lagMs > 0; i++) await turn();
  t.is(paced.monotonic() - 5000, 500);
  t.is(paced.slowedMs, 9500);
  await stop();
});

test('an aborted sleep rejects with the signal\'s reason and is forgotten; bad options are refused', async (t) => {
  const { base, paced, stop } = setup(10);
  const ac = new AbortController();
  const p = paced.sleep(1000, ac.signal);
  ac.abort(new Error('stop'));
  await t.throwsAsync(p, { message: 'stop' });
  await t.throwsAsync(paced.sleep(10, ac.signal), { message: 'stop' });
  await step(base, paced, 200);
  t.throws(() => new PacedClock(base, { speed: 0 }), { instanceOf: RangeError, message: /speed/ });
  t.throws(() => new PacedClock(base, { speed: 2, tickMs: -1 }), { instanceOf: RangeError, message: /tickMs/ });
  await t.throwsAsync(paced.run(new AbortController().signal), { message: /already running/ });
  await stop();
});
