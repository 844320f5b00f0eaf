// The runner on fake suites with deterministic samples: selection with references pulled in,
// interleaving of a case's runs with its reference's (ABBA), ratios, skips, and the report
// files (JSON shape, Markdown, SVG).
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { SkipCase } from '../../bench/harness/case.ts';
import type { BenchCase, RateSession, Suite } from '../../bench/harness/case.ts';
import { plan, runCases, select } from '../../bench/harness/runner.ts';
import type { BenchResult, Progress, Skipped } from '../../bench/harness/runner.ts';
import { REPORT_FORMAT, toMarkdown, toSvg, writeReport } from '../../bench/harness/report.ts';
import type { BenchReport } from '../../bench/harness/report.ts';
import { describeMachine } from '../../bench/harness/machine.ts';

const settings = { warmupMs: 0, runs: 4, runMs: 1 };
const env = { cores: 2, quick: true };

/** A session replaying fixed figures and logging which session ran, in order. */
function replay(label: string, values: number[], log: string[]): () => Promise<RateSession> {
  return async () => {
    let i = 0;
    return {
      run: async (clock) => {
        log.push(clock === 'wall' ? label : `${label}@${clock}`);
        return values[i++]!;
      },
      close: async () => {
        log.push(`${label} closed`);
      },
    };
  };
}

function fakeSuite(log: string[]): Suite {
  const cases: BenchCase[] = [
    // The reference: its standalone runs, then fresh runs interleaved with each subject.
    { id: 'fake/ref', name: 'reference', unit: 'ops/s', better: 'higher', open: replay('ref', [100, 100, 100, 100], log) },
    { id: 'fake/half', name: 'half', unit: 'ops/s', better: 'higher', reference: 'fake/ref', open: replay('half', [50, 40, 60, 55], log) },
    { id: 'fake/cpu', name: 'per CPU second', unit: 'ops/s', better: 'higher', reference: 'fake/ref', clock: 'cpu', open: replay('cpu', [1, 2, 3, 4], log) },
    { id: 'fake/skipped', name: 'not here', unit: 'ops/s', better: 'higher', reference: 'fake/ref', open: async () => Promise.reject(new SkipCase('no such library')) },
    { id: 'fake/broken', name: 'broken', unit: 'ops/s', better: 'higher', reference: 'fake/ref', run: async () => Promise.reject(new Error('boom')) },
    { id: 'fake/latency', name: 'latency', unit: 'ms', better: 'lower', fixedReference: { name: 'goal 10 ms', value: 10 }, run: async () => [5, 6, 7] },
    { id: 'fake/derived', name: 'derived', unit: 'x', better: 'higher', needs: ['fake/latency'], run: async (ctx) => ctx.samplesOf('fake/latency')!.map((v) => v * 2) },
  ];
  return { name: 'fake', description: 'fake timings', cases: () => cases };
}

function quietProgress(events: string[]): Progress {
  return {
    start: (n) => events.push(`start ${n}`),
    begin: (i) => events.push(`begin ${i}`),
    end: (i, _c, o: BenchResult | Skipped) => events.push(`end ${i} ${'reason' in o ? 'skipped' : 'ok'}`),
    finish: () => events.push('finish'),
  };
}

async function runFake(only?: string[]) {
  const log: string[] = [];
  const events: string[] = [];
  const planned = select(plan([fakeSuite(log)], env), only);
  const out = await runCases(planned, { env, settings, allowInstall: false, buildDir: os.tmpdir(), progress: quietProgress(events) });
  return { ...out, log, events, planned };
}

test('medians, extremes and ratios from deterministic runs', async (t) => {
  const { results } = await runFake();
  const half = results.find((r) => r.id === 'fake/half')!;
  t.like(half, { suite: 'fake', median: 52.5, min: 40, max: 60, reference: 'reference', referenceMedian: 100, ratio: 0.525, runs: 4, unit: 'ops/s', better: 'higher' });
  t.like(results.find((r) => r.id === 'fake/ref'), { median: 100, ratio: 1, reference: 'reference' });
  t.like(results.find((r) => r.id === 'fake/latency'), { median: 6, reference: 'goal 10 ms', referenceMedian: 10, ratio: 0.6, better: 'lower' });
  t.like(results.find((r) => r.id === 'fake/derived'), { median: 12, min: 10, max: 14 });
});

test("a case's runs interleave with a fresh session of its reference, ABBA, and both close", async (t) => {
  const { log } = await runFake(['fake/half']);
  t.deepEqual(log, ['ref', 'ref', 'ref', 'ref', 'ref closed', 'ref', 'half', 'half', 'ref', 'ref', 'half', 'half', 'ref', 'half closed', 'ref closed']);
});

test('a case with sliceMs alternates slices of each run with its reference (ABBA across the run); a run\'s figure is the mean of its slices', async (t) => {
  const log: string[] = [];
  /** A session whose rate is 100 (reference) or 50 + the slice number (subject), logging each slice and its length. */
  const sliced = (label: string, rate: (i: number) => number) => async (): Promise<RateSession> => {
    let i = 0;
    return {
      run: async (_clock, ms) => {
        log.push(`${label}:${ms}`);
        return rate(i++);
      },
      close: async () => undefined,
    };
  };
  const suite: Suite = {
    name: 'sliced',
    description: 'slices',
    cases: () => [
      { id: 'sliced/ref', name: 'reference', unit: 'ops/s', better: 'higher', open: sliced('ref', () => 100) },
      { id: 'sliced/subject', name: 'subject', unit: 'ops/s', better: 'higher', reference: 'sliced/ref', sliceMs: 10, open: sliced('sub', (i) => 50 + (i % 4)) },
    ],
  };
  const out = await runCases(select(plan([suite], env), ['sliced/subject']), { env, settings: { warmupMs: 0, runs: 2, runMs: 40 }, allowInstall: false, buildDir: os.tmpdir(), progress: quietProgress([]) });
  // The reference's own runs whole; then two runs of four 10 ms slices each, alternated.
  t.deepEqual(log, ['ref:undefined', 'ref:undefined', 'ref:10', 'sub:10', 'sub:10', 'ref:10', 'ref:10', 'sub:10', 'sub:10', 'ref:10', 'sub:10', 'ref:10', 'ref:10', 'sub:10', 'sub:10', 'ref:10', 'ref:10', 'sub:10']);
  t.like(out.results.find((r) => r.id === 'sliced/subject'), { median: 51.5, min: 51.5, max: 51.5, referenceMedian: 100, ratio: 0.515, runs: 2 });
});

test('a case on the CPU clock runs its paired reference on the CPU clock too', async (t) => {
  const { log, results } = await runFake(['fake/cpu']);
  t.deepEqual(log.slice(5), ['ref@cpu', 'cpu@cpu', 'cpu@cpu', 'ref@cpu', 'ref@cpu', 'cpu@cpu', 'cpu@cpu', 'ref@cpu', 'cpu closed', 'ref closed']);
  t.like(results.find((r) => r.id === 'fake/cpu'), { clock: 'cpu', median: 2.5, ratio: 0.025 });
  t.like(results.find((r) => r.id === 'fake/ref'), { clock: 'wall' });
});

test('skipped and failed cases are listed with their reason; the run goes on', async (t) => {
  const { skipped, results, events } = await runFake();
  t.deepEqual(skipped, [
    { id: 'fake/skipped', name: 'not here', reason: 'no such library' },
    { id: 'fake/broken', name: 'broken', reason: 'failed: boom' },
  ]);
  t.is(results.length, 5);
  t.deepEqual(events.slice(0, 2), ['start 7', 'begin 0']);
  t.is(events.at(-1), 'finish');
});

test('--only pulls in references and inputs, keeps run order, and names unknown benchmarks', (t) => {
  const all = plan([fakeSuite([])], env);
  t.deepEqual(select(all, ['fake/half']).map((p) => p.c.id), ['fake/ref', 'fake/half']);
  t.deepEqual(select(all, ['fake/derived']).map((p) => p.c.id), ['fake/latency', 'fake/derived']);
  t.is(select(all, ['fake']).length, 7);
  t.is(select(all, undefined).length, 7);
  t.throws(() => select(all, ['nope']), { instanceOf: RangeError, message: /no benchmark named 'nope'/ });
});

test('duplicate case ids are refused', (t) => {
  const dup: Suite = { name: 'd', description: '', cases: () => [fakeSuite([]).cases(env)[0]!, fakeSuite([]).cases(env)[0]!] };
  t.throws(() => plan([dup], env), { message: /duplicate case id fake\/ref/ });
});

test('the report: documented JSON shape, Markdown table and SVG chart', async (t) => {
  const { results, skipped, notes } = await runFake();
  const report: BenchReport = { format: REPORT_FORMAT, machine: describeMachine(new Date('2026-01-02T03:04:05Z')), quick: true, settings, results, skipped, notes };
  const dir = await mkdtemp(join(os.tmpdir(), 'voltrail-bench-test-'));
  try {
    const files = await writeReport(report, dir, join(dir, 'extra', 'copy.json'));
    const json = JSON.parse(await readFile(files.json, 'utf8')) as Record<string, unknown> & { machine: Record<string, unknown>; results: Record<string, unknown>[] };
    t.deepEqual(Object.keys(json.machine).sort(), ['cores', 'cpu', 'date', 'load', 'memory', 'node', 'os']);
    t.is(json.machine.date, '2026-01-02T03:04:05.000Z');
    for (const r of json.results) {
      for (const key of ['name', 'unit', 'better', 'median', 'min', 'max', 'reference', 'ratio']) t.true(key in r, `results[].${key}`);
      t.true(r.better === 'higher' || r.better === 'lower');
    }
    t.is(await readFile(files.extraJson!, 'utf8'), await readFile(files.json, 'utf8'));
    const md = toMarkdown(report);
    t.regex(md, /\| half \| 52\.50 \| 40\.00 \| 60\.00 \| ops\/s \| 0\.53x \| reference \|/);
    t.regex(md, /- broken: failed: boom/);
    const svg = toSvg(report);
    t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    t.is((svg.match(/<rect x=/g) ?? []).length, results.length);
    t.regex(await readFile(files.svg, 'utf8'), /1\.0 = reference/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a subject that fails to open while its reference opened beside it: the reference session is closed, the case skipped', async (t) => {
  const log: string[] = [];
  const suite: Suite = {
    name: 'fake',
    description: 'a subject that cannot open',
    cases: () => [
      { id: 'fake/ref', name: 'reference', unit: 'ops/s', better: 'higher', open: replay('ref', [100, 100, 100, 100, 100, 100, 100, 100], log) },
      { id: 'fake/gone', name: 'gone', unit: 'ops/s', better: 'higher', reference: 'fake/ref', open: async () => Promise.reject(new SkipCase('not installed')) },
    ],
  };
  const progress: Progress = { start: () => {}, begin: () => {}, end: () => {}, finish: () => {} };
  const { skipped } = await runCases(plan([suite], env), { env, settings, allowInstall: false, buildDir: os.tmpdir(), progress });
  t.deepEqual(skipped, [{ id: 'fake/gone', name: 'gone', reason: 'not installed' }]);
  t.deepEqual(log, ['ref', 'ref', 'ref', 'ref', 'ref closed', 'ref closed']);
});
