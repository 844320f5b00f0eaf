// The runtime-memory benchmark's pure parts: VmRSS parsing of a real /proc status text and the
// least-squares slope used to tell growth from a plateau.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseVmRss, slope, summarizeRss } from '../../bench/harness/rss.ts';

test('parseVmRss reads kB as bytes, and says undefined when the line is missing', (t) => {
  t.is(parseVmRss('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   51200 kB\nThreads:\t7\n'), 51200 * 1024);
  t.is(parseVmRss('Name:\tzombie\nState:\tZ (zombie)\n'), undefined);
});

test('parseVmRss reads this process on Linux', (t) => {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    t.pass('no /proc here');
    return;
  }
  const rss = parseVmRss(text)!;
  t.true(rss > 1024 * 1024 && rss < 64 * 1024 ** 3);
});

test('slope is exact on a line, zero on a plateau, and refuses mismatched inputs', (t) => {
  t.is(slope([0, 1, 2, 3], [10, 13, 16, 19]), 3);
  t.is(slope([0, 1, 2, 3], [5, 5, 5, 5]), 0);
  t.is(slope([2, 2], [1, 9]), 0);
  t.is(slope([1], [1]), 0);
  t.throws(() => slope([1, 2], [1]), { instanceOf: RangeError });
  // Noise around a line: least squares finds the trend.
  t.true(Math.abs(slope([0, 1, 2, 3, 4], [0, 2.1, 3.9, 6.1, 7.9]) - 1.98) < 1e-9);
});

test('summarizeRss: start after start-up, max over all, end last, slope from start on', (t) => {
  const s = summarizeRss(
    [
      { t: 0, rss: 30 },
      { t: 100, rss: 90 },
      { t: 200, rss: 60 },
      { t: 300, rss: 62 },
      { t: 400, rss: 64 },
    ],
    200,
  );
  t.deepEqual({ start: s.start, max: s.max, end: s.end }, { start: 60, max: 90, end: 64 });
  t.true(Math.abs(s.slopePerMs - 0.02) < 1e-12);
  t.throws(() => summarizeRss([]), { instanceOf: RangeError });
});

test('summarizeRss with slopeOver: the slope of the last fraction only, a filling heap is not growth; a steady leak still shows', (t) => {
  // Fills from 60 to 80 over the first half, then flat: no growth in the last half.
  const filling = [0, 100, 200, 300, 400, 500, 600, 700, 800].map((ms) => ({ t: ms, rss: ms <= 400 ? 60 + ms / 20 : 80 }));
  t.true(summarizeRss(filling, 0).slopePerMs > 0.02);
  t.is(summarizeRss(filling, 0, 0.5).slopePerMs, 0);
  const leak = [0, 100, 200, 300, 400, 500].map((ms) => ({ t: ms, rss: 60 + ms / 10 }));
  t.true(Math.abs(summarizeRss(leak, 0, 0.5).slopePerMs - 0.1) < 1e-12);
  t.throws(() => summarizeRss(leak, 0, 0), { instanceOf: RangeError });
});
