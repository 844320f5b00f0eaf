// Benchmark of issue 17: resident memory of the runtime, `voltrail run --sim --speed 50
// --period 100ms --duration 60s --status-json` (--quick: 20 s), VmRSS sampled from
// /proc/PID/status every 200 ms over the run: start (once the runtime printed its first
// status line), maximum, end, and the slope in bytes per simulated hour (a leak shows as a
// steady rise). Goal: at most 80 MB. Reference: the RSS of a bare `node -e` process of the same
// Node, sampled the same way, so that the ratio says how much voltrail adds to Node itself.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkipCase } from '../harness/case.ts';
import type { BenchCase, RunContext, Suite, SuiteEnv } from '../harness/case.ts';
import { parseVmRss, summarizeRss, type RssSample, type RssSummary } from '../harness/rss.ts';

export const GOAL_BYTES = 80 * 1024 * 1024;
const SPEED = 50;
const SAMPLE_MS = 200;
const CLI = fileURLToPath(new URL('../../bin/voltrail.js', import.meta.url));

interface Sampled {
  summary: RssSummary;
  /** Simulated seconds covered, from the last status line. */
  simSeconds: number;
  records: number;
  samples: number;
}

/** Runs `args` with this Node, sampling its RSS until it exits; `upMs`: its first stdout line; `lastLine`: its last JSON line. */
async function sampleProcess(args: string[], timeoutMs: number): Promise<{ samples: RssSample[]; upMs: number | undefined; lastLine: string | undefined; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const t0 = performance.now();
  const samples: RssSample[] = [];
  let upMs: number | undefined;
  let lastLine: string | undefined;
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    upMs ??= performance.now() - t0;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) if (l.startsWith('{')) lastLine = l;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 8192) stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const killer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  while (!done) {
    try {
      const rss = parseVmRss(await readFile(`/proc/${child.pid}/status`, 'utf8'));
      if (rss !== undefined && !done) samples.push({ t: performance.now() - t0, rss });
    } catch {
      // exited between two samples
    }
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
  clearTimeout(killer);
  return { samples, upMs, lastLine, code: await exited, stderr };
}

function measureRuntime(ctx: RunContext): Promise<Sampled> {
  return ctx.once('runtime-memory', async () => {
    const seconds = ctx.quick ? 20 : 60;
    const dir = await mkdtemp(join(os.tmpdir(), 'voltrail-bench-rss-'));
    try {
      const args = [CLI, 'run', '--sim', '--speed', String(SPEED), '--period', '100ms', '--duration', `${seconds}s`, '--status-json', '--data-dir', dir];
      // Start-up (TypeScript loading) takes long on a loaded machine: allow it generously.
      const r = await sampleProcess(args, seconds * 1000 + 180_000);
      if (r.code !== 0) throw new Error(`voltrail run exited with code ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      const status = r.lastLine ? (JSON.parse(r.lastLine) as { simTimeS?: number; records?: number }) : {};
      const summary = summarizeRss(r.samples, r.upMs ?? 0);
      ctx.note(
        `runtime-memory: \`voltrail run --sim --speed ${SPEED} --period 100ms --duration ${seconds}s --status-json\` (through bin/voltrail.js, which compiles TypeScript with tsx at start), VmRSS every ${SAMPLE_MS} ms: ${r.samples.length} samples; start = first sample after its first status line (${((r.upMs ?? 0) / 1000).toFixed(1)} s after launch); the slope is fitted from there on and scaled by --speed to bytes per simulated hour. The run ended at ${(status.simTimeS ?? 0).toFixed(0)} simulated s with ${status.records ?? 0} durable records.`,
      );
      return { summary, simSeconds: status.simTimeS ?? 0, records: status.records ?? 0, samples: r.samples.length };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

function measureBaseline(ctx: RunContext): Promise<RssSummary> {
  return ctx.once('runtime-memory-baseline', async () => {
    const r = await sampleProcess(['-e', 'process.stdout.write("up\\n"); setTimeout(() => {}, 3000)'], 60_000);
    return summarizeRss(r.samples, r.upMs ?? 0);
  });
}

const MB = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

export const runtimeMemory: Suite = {
  name: 'runtime-memory',
  description: 'resident memory of `voltrail run --sim` over a run, against a bare node process and the 80 MB goal',
  cases(env: SuiteEnv): BenchCase[] {
    const seconds = env.quick ? 20 : 60;
    const check = async (ctx: RunContext): Promise<void> => {
      try {
        await readFile('/proc/self/status', 'utf8');
      } catch {
        throw new SkipCase('no /proc/PID/status here (not Linux): RSS cannot be sampled');
      }
      void ctx;
    };
    const row = (id: string, name: string, pick: (s: RssSummary) => number, extra: Partial<BenchCase> = {}): BenchCase => ({
      id,
      name,
      unit: 'bytes',
      better: 'lower',
      reference: 'runtime-memory/node-baseline',
      run: async (ctx) => {
        await check(ctx);
        return [pick((await measureRuntime(ctx)).summary)];
      },
      ...extra,
    });
    return [
      {
        id: 'runtime-memory/node-baseline',
        name: 'bare `node -e` of the same Node: max RSS (reference)',
        unit: 'bytes',
        better: 'lower',
        run: async (ctx) => {
          await check(ctx);
          return [(await measureBaseline(ctx)).max];
        },
      },
      row('runtime-memory/start', `voltrail run --sim (${seconds} s at --speed ${SPEED}): RSS at start`, (s) => s.start),
      row('runtime-memory/max', `voltrail run --sim (${seconds} s at --speed ${SPEED}): max RSS`, (s) => s.max),
      row('runtime-memory/end', `voltrail run --sim (${seconds} s at --speed ${SPEED}): RSS at end`, (s) => s.end),
      row('runtime-memory/max-vs-goal', `voltrail run --sim: max RSS against the goal (${MB(GOAL_BYTES)})`, (s) => s.max, {
        reference: undefined,
        fixedReference: { name: 'goal: at most 80 MB', value: GOAL_BYTES },
      }),
      {
        id: 'runtime-memory/slope',
        name: `voltrail run --sim: RSS growth per simulated hour (least squares after start-up)`,
        unit: 'bytes/h',
        better: 'lower',
        run: async (ctx) => {
          await check(ctx);
          // Samples are per wall ms; the simulation runs SPEED times faster than the wall clock.
          return [((await measureRuntime(ctx)).summary.slopePerMs * 3_600_000) / SPEED];
        },
      },
    ];
  },
};
