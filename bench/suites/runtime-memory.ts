// Benchmark of issue 17: resident memory of the runtime, `voltrail run --sim --speed 50
// --period 100ms --duration 60s --status-json` (--quick: 15 s), VmRSS sampled from
// /proc/PID/status every 200 ms over the run: start (once the runtime printed its first
// status line), maximum, end, and the slope in bytes per simulated hour (a leak shows as a
// steady rise). Two ways of running it: as a board does (the JavaScript bundle of
// scripts/build-bundle.mjs, with the node flags of deploy/voltrail.service's ExecStart and the
// variables of its Environment= lines), which
// the 80 MB goal is for; and as development does (bin/voltrail.js compiling the TypeScript
// sources with tsx in the process). Reference: the RSS of a bare `node -e` process of the same
// Node, sampled the same way, so that the ratio says how much voltrail adds to Node itself.
// --quick runs the processes overlapped (measureAll), the full run one after the other.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkipCase } from '../harness/case.ts';
import type { BenchCase, RunContext, Suite, SuiteEnv } from '../harness/case.ts';
import { parseVmRss, summarizeRss, type RssSample, type RssSummary } from '../harness/rss.ts';

export const GOAL_BYTES = 80 * 1024 * 1024;
const SPEED = 50;
const SAMPLE_MS = 200;
/** The slope is fitted over this last fraction of the samples after start-up (harness/rss.ts). */
const SLOPE_OVER = 0.5;
const CLI = fileURLToPath(new URL('../../bin/voltrail.js', import.meta.url));
const BUILD = fileURLToPath(new URL('../../scripts/build-bundle.mjs', import.meta.url));
const UNIT = fileURLToPath(new URL('../../deploy/voltrail.service', import.meta.url));
const TMP = fileURLToPath(new URL('../../tmp/', import.meta.url));

type Mode = 'board' | 'dev';

interface Sampled {
  summary: RssSummary;
  /** Simulated seconds covered, from the last status line. */
  simSeconds: number;
  /** Simulated seconds per wall second after start-up (the speed is a ceiling: a loaded machine runs slower). */
  speed: number;
  records: number;
  samples: number;
}

interface StatusLine {
  simTimeS?: number;
  records?: number;
}

/** Runs `args` with this Node, sampling its RSS until it exits; `upMs`: its first stdout line (`onUp` is called then); the JSON lines with their wall times. */
async function sampleProcess(
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
  onUp?: () => void,
): Promise<{ samples: RssSample[]; upMs: number | undefined; lines: { t: number; s: StatusLine }[]; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const t0 = performance.now();
  const samples: RssSample[] = [];
  const lines: { t: number; s: StatusLine }[] = [];
  let upMs: number | undefined;
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const t = performance.now() - t0;
    if (upMs === undefined) {
      upMs = t;
      onUp?.();
    }
    pending += chunk;
    const got = pending.split('\n');
    pending = got.pop()!;
    const last = got.findLast((l) => l.startsWith('{'));
    if (last) lines.push({ t, s: JSON.parse(last) as StatusLine });
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
  return { samples, upMs, lines, code: await exited, stderr };
}

/** The node flags of the systemd unit's ExecStart (between `node` and the script), as a board runs. */
export function unitNodeFlags(unit: string): string[] {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  const words = line ? line.slice('ExecStart='.length).trim().split(/\s+/) : [];
  const script = words.findIndex((w) => w.endsWith('/bin/voltrail.js'));
  if (!/(^|\/)node$/.test(words[0] ?? '') || script < 0) throw new Error(`${UNIT}: ExecStart is not "node [flags] .../bin/voltrail.js ...": cannot tell the board's node flags`);
  return words.slice(1, script);
}

/** The variables of the unit's `Environment=NAME=VALUE` lines (one assignment a line, as ours are). */
export function unitEnvironment(unit: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unit.split('\n')) {
    const m = /^Environment=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** Builds the bundle into a temporary folder under the project's git-ignored tmp/ (never the
 * working tree's dist/; inside the project so that its packages resolve). */
async function boardBundle(): Promise<{ dir: string; flags: string[]; env: Record<string, string> }> {
  await mkdir(TMP, { recursive: true });
  const dir = await mkdtemp(join(TMP, 'bench-bundle-'));
  const r = await sampleProcess([BUILD, '--outdir', join(dir, 'dist')], 120_000);
  if (r.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new SkipCase(`the bundle did not build (scripts/build-bundle.mjs exited ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')})`);
  }
  const unit = await readFile(UNIT, 'utf8');
  return { dir: join(dir, 'dist'), flags: unitNodeFlags(unit), env: unitEnvironment(unit) };
}

type Bundle = { dir: string; flags: string[]; env: Record<string, string> };

/** One `voltrail run --sim` of `mode` (board: through `bundle`), sampled; `onUp` once it prints its first status line. */
async function sampleRuntime(ctx: RunContext, mode: Mode, bundle: Bundle | undefined, onUp?: () => void): Promise<Sampled> {
  const seconds = ctx.quick ? 15 : 60;
  const dir = await mkdtemp(join(os.tmpdir(), 'voltrail-bench-rss-'));
  try {
    // As the unit starts it: its environment, node FLAGS bin/voltrail.js with VOLTRAIL_BUNDLE naming the bundle.
    const env = { ...process.env, ...bundle?.env, VOLTRAIL_BUNDLE: bundle ? bundle.dir : '0' };
    const args = [...(bundle?.flags ?? []), CLI, 'run', '--sim', '--speed', String(SPEED), '--period', '100ms', '--duration', `${seconds}s`, '--status-json', '--data-dir', dir];
    // Start-up (TypeScript loading) takes long on a loaded machine: allow it generously.
    const r = await sampleProcess(args, seconds * 1000 + 180_000, env, onUp);
    if (bundle && r.stderr.includes('not the bundle')) throw new Error(`voltrail did not run the bundle: ${r.stderr.trim().split('\n')[0]}`);
    if (r.code !== 0) throw new Error(`voltrail run exited with code ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const first = r.lines[0];
    const last = r.lines.at(-1);
    const simSeconds = last?.s.simTimeS ?? 0;
    const speed = first && last && last.t > first.t ? ((simSeconds - (first.s.simTimeS ?? 0)) * 1000) / (last.t - first.t) : SPEED;
    const summary = summarizeRss(r.samples, r.upMs ?? 0, SLOPE_OVER);
    const how = bundle ? `bin/voltrail.js running the bundle (scripts/build-bundle.mjs, VOLTRAIL_BUNDLE) with the unit's environment \`${Object.entries(bundle.env).filter(([k]) => k !== 'VOLTRAIL_BUNDLE').map(([k, v]) => `${k}=${v}`).join(' ')}\` and node flags \`${bundle.flags.join(' ')}\`, as a board runs it` : 'bin/voltrail.js, which compiles the TypeScript sources with tsx at start (development)';
    ctx.note(
      `runtime-memory (${mode}): \`voltrail run --sim --speed ${SPEED} --period 100ms --duration ${seconds}s --status-json\` through ${how}; VmRSS every ${SAMPLE_MS} ms: ${r.samples.length} samples; start = first sample after its first status line (${((r.upMs ?? 0) / 1000).toFixed(1)} s after launch); the slope is fitted over the last ${SLOPE_OVER * 100} % of the samples from there on (the heap fills to its working size first) and scaled to bytes per simulated hour by the simulated speed reached (${speed.toFixed(1)}x of at most ${SPEED}x). The run ended at ${simSeconds.toFixed(0)} simulated s with ${last?.s.records ?? 0} durable records.`,
    );
    return { summary, simSeconds, speed, records: last?.s.records ?? 0, samples: r.samples.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Measured {
  baseline: RssSummary;
  /** The reason when the bundle could not be built here (the board rows are skipped, not the rest). */
  board: Sampled | SkipCase;
  dev: Sampled;
}

/** The bundle, or the SkipCase saying why it could not be built. */
const tryBundle = (): Promise<Bundle | SkipCase> => boardBundle().catch((err: unknown) => (err instanceof SkipCase ? err : Promise.reject(err)));

/**
 * The three processes of the suite. The full run takes them one after the other. --quick
 * overlaps them where the machine would otherwise wait: the development run starts first (tsx
 * compiles for seconds), the bundle is built and the bare node sampled meanwhile, and the board
 * run starts once the development run is up, so the two sampled runs go side by side, one
 * process a core on a 2-core machine (each is mostly one thread).
 */
function measureAll(ctx: RunContext): Promise<Measured> {
  return ctx.once('runtime-memory', async () => {
    let bundle: Bundle | SkipCase | undefined;
    try {
      if (!ctx.quick) {
        const baseline = await measureBaseline();
        bundle = await tryBundle();
        const board = bundle instanceof SkipCase ? bundle : await sampleRuntime(ctx, 'board', bundle);
        const dev = await sampleRuntime(ctx, 'dev', undefined);
        return { baseline, board, dev };
      }
      let devUp!: () => void;
      const up = new Promise<void>((resolve) => (devUp = resolve));
      const devRun = sampleRuntime(ctx, 'dev', undefined, devUp);
      // Settled either way: a failed development run must not leave the board run waiting.
      void devRun.then(devUp, devUp);
      const [baseline, built] = await Promise.all([measureBaseline(), tryBundle()]);
      bundle = built;
      await up;
      const [board, dev] = await Promise.all([built instanceof SkipCase ? built : sampleRuntime(ctx, 'board', built), devRun]);
      ctx.note('runtime-memory (--quick): the development run started first; the bundle was built and the bare node sampled during its start-up; the board run started once it was up, so the two ran side by side (the full run takes them one after the other).');
      return { baseline, board, dev };
    } finally {
      if (bundle && !(bundle instanceof SkipCase)) await rm(dirname(bundle.dir), { recursive: true, force: true });
    }
  });
}

/** The sampled run of `mode`; throws the SkipCase when the board's bundle could not be built. */
async function measured(ctx: RunContext, mode: Mode): Promise<Sampled> {
  const m = (await measureAll(ctx))[mode];
  if (m instanceof SkipCase) throw m;
  return m;
}

async function measureBaseline(): Promise<RssSummary> {
  const r = await sampleProcess(['-e', 'process.stdout.write("up\\n"); setTimeout(() => {}, 3000)'], 60_000);
  return summarizeRss(r.samples, r.upMs ?? 0);
}

const MB = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

export const runtimeMemory: Suite = {
  name: 'runtime-memory',
  description: 'resident memory of `voltrail run --sim` over a run (as a board runs it, and in development), against a bare node process and the 80 MB goal',
  cases(env: SuiteEnv): BenchCase[] {
    const seconds = env.quick ? 15 : 60;
    const check = async (ctx: RunContext): Promise<void> => {
      try {
        await readFile('/proc/self/status', 'utf8');
      } catch {
        throw new SkipCase('no /proc/PID/status here (not Linux): RSS cannot be sampled');
      }
      void ctx;
    };
    const run = `voltrail run --sim (${seconds} s at --speed ${SPEED})`;
    const row = (mode: Mode, id: string, name: string, pick: (s: RssSummary) => number, extra: Partial<BenchCase> = {}): BenchCase => ({
      id,
      name,
      unit: 'bytes',
      better: 'lower',
      reference: 'runtime-memory/node-baseline',
      run: async (ctx) => {
        await check(ctx);
        return [pick((await measured(ctx, mode)).summary)];
      },
      ...extra,
    });
    const slopeRow = (mode: Mode, id: string, name: string): BenchCase => ({
      id,
      name,
      unit: 'bytes/h',
      better: 'lower',
      run: async (ctx) => {
        await check(ctx);
        const m = await measured(ctx, mode);
        // Samples are per wall ms; simulated time ran m.speed times faster than the wall clock.
        return [(m.summary.slopePerMs * 3_600_000) / m.speed];
      },
    });
    return [
      {
        id: 'runtime-memory/node-baseline',
        name: 'bare `node -e` of the same Node: max RSS (reference)',
        unit: 'bytes',
        better: 'lower',
        run: async (ctx) => {
          await check(ctx);
          return [(await measureAll(ctx)).baseline.max];
        },
      },
      row('board', 'runtime-memory/start', `${run}, board (bundle, unit flags): RSS at start`, (s) => s.start),
      row('board', 'runtime-memory/max', `${run}, board: max RSS`, (s) => s.max),
      row('board', 'runtime-memory/end', `${run}, board: RSS at end`, (s) => s.end),
      row('board', 'runtime-memory/max-vs-goal', `${run}, board: max RSS against the goal (${MB(GOAL_BYTES)})`, (s) => s.max, {
        reference: undefined,
        fixedReference: { name: 'goal: at most 80 MB', value: GOAL_BYTES },
      }),
      slopeRow('board', 'runtime-memory/slope', `${run}, board: RSS growth per simulated hour (least squares over the last half after start-up)`),
      row('dev', 'runtime-memory/dev-start', `${run}, development (tsx): RSS at start`, (s) => s.start),
      row('dev', 'runtime-memory/dev-max', `${run}, development (tsx): max RSS`, (s) => s.max),
      row('dev', 'runtime-memory/dev-end', `${run}, development (tsx): RSS at end`, (s) => s.end),
      slopeRow('dev', 'runtime-memory/dev-slope', `${run}, development (tsx): RSS growth per simulated hour`),
    ];
  },
};
