import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCandumpLine } from '../../hal/can/candump-log.ts';
import { CanInitializationError } from '../../hal/can/errors.ts';
import { canFrame } from '../../hal/can/frame.ts';
import { openReplay } from '../../hal/can/replay.ts';
import { ManualClock } from '../../hal/clock.ts';

function writeLog(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'voltrail-replay-')), 'x.log');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

const tick = () => new Promise((r) => setImmediate(r));

test('recorded timing: each frame comes when its offset from the first has passed on the clock', async (t) => {
  const manual = new ManualClock();
  let sleeps = 0;
  // The manual clock, counting sleeps: the replay is known to be waiting for time, not for I/O.
  const clock = { now: () => manual.now(), monotonic: () => manual.monotonic(), sleep: (ms: number, signal?: AbortSignal) => (sleeps++, manual.sleep(ms, signal)) };
  const t0 = 1_700_000_000_000_000;
  const path = writeLog([0, 100, 250].map((ms, i) => formatCandumpLine({ timeUs: t0 + ms * 1000, iface: 'can0', frame: canFrame({ id: i }) })));
  const bus = await openReplay({ path, clock });
  const seen: number[] = [];
  const reading = (async () => {
    for await (const f of bus.frames()) seen.push(f.id);
  })();
  while (sleeps < 1) await tick();
  t.deepEqual(seen, [0]);
  manual.advance(99);
  for (let i = 0; i < 5; i++) await tick();
  t.deepEqual(seen, [0], 'not before its time');
  manual.advance(1);
  while (sleeps < 2) await tick();
  t.deepEqual(seen, [0, 1]);
  manual.advance(150);
  await reading;
  t.deepEqual(seen, [0, 1, 2], 'the iterator ends with the log');
  await bus.close();
});

test('frames keep the times of the log', async (t) => {
  const path = writeLog(['(1700000000.250000) can0 123#01']);
  const bus = await openReplay({ path, timing: 'fast' });
  t.is((await bus.receive(1000)).timestamp, 1700000000.25);
  await bus.close();
});

test('fast replay never outruns a slow reader: nothing of a long log is dropped', async (t) => {
  const lines = Array.from({ length: 3000 }, (_, i) =>
    formatCandumpLine({ timeUs: 1_700_000_000_000_000 + i, iface: 'can0', frame: canFrame({ id: i & 0x7ff, data: [i & 0xff] }) }),
  );
  const bus = await openReplay({ path: writeLog(lines), timing: 'fast', queueCapacity: 16 });
  let n = 0;
  for await (const f of bus.frames()) {
    if (f.data[0] !== (n & 0xff)) break;
    n++;
    if (n % 500 === 0) await tick();
  }
  t.is(n, 3000);
  t.is(bus.stats().overruns, 0);
  await bus.close();
});

test('bad lines are skipped, counted and kept with their line numbers', async (t) => {
  const issues: number[] = [];
  const path = writeLog(['(1700000000.000000) can0 123#01', 'junk', '(1700000000.000001) can0 123#0', '(1700000000.000002) can0 456#02']);
  const bus = await openReplay({ path, timing: 'fast', onIssue: (i) => issues.push(i.line) });
  const ids: number[] = [];
  for await (const f of bus.frames()) ids.push(f.id);
  t.deepEqual(ids, [0x123, 0x456]);
  t.deepEqual(issues, [2, 3]);
  t.deepEqual(bus.issues.map((i) => i.line), [2, 3]);
  t.is(bus.stats().malformed, 2);
  await bus.close();
});

test('a missing log is an initialization error naming the file', async (t) => {
  await t.throwsAsync(openReplay({ path: '/nonexistent/x.log' }), { instanceOf: CanInitializationError, message: /replay:\/nonexistent\/x\.log: cannot read/ });
});

test('closing a replay that waits for its reader (or for time) stops it', async (t) => {
  const clock = new ManualClock();
  const path = writeLog(['(1700000000.000000) can0 123#01', '(1700003600.000000) can0 123#02']);
  const waiting = await openReplay({ path, clock });
  await waiting.close();
  const sleeping = await openReplay({ path, clock });
  t.is((await sleeping.receive()).data[0], 1);
  await sleeping.close();
  await sleeping.finished;
  t.true(sleeping.closed);
});
