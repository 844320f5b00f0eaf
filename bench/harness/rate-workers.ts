// A rate measured in worker threads: one thread for "one core", one per core for "all cores";
// the main thread only waits. Sessions stay open, one timed run per call, so that the runner
// can interleave their runs with those of the reference. The rate of a run is the sum over
// threads of items per second.
//
// Threads come from a pool, reused from one measurement to the next: starting a thread that
// loads TypeScript costs about half a second of CPU, more than a quick measurement. A subject
// that changes global state (noble's precompute) asks for `isolate` and gets threads of its
// own. A set of threads that failed is terminated, never reused.
import { Worker } from 'node:worker_threads';
import type { ClockKind, RateSettings } from './measure.ts';
import type { RateSession } from './case.ts';

export interface RateJob {
  /** file: URL of a module exporting `prepare(params) => () => number` (items handled per call). */
  module: string;
  /** Structured-clonable parameters for prepare. */
  params: unknown;
  threads: number;
  /** Fresh threads, used once: for subjects that change process-wide state. */
  isolate?: boolean;
}

export interface RateWorkerData {
  barrier: SharedArrayBuffer;
  parties: number;
}

export type RateWorkerCommand =
  | { kind: 'open'; module: string; params: unknown; warmupMs: number }
  | { kind: 'run'; runMs: number; clock: ClockKind }
  | { kind: 'release' };
export type RateWorkerReply = { ready: true } | { rate: number } | { error: string };

const BOOT = new URL('./worker-boot.mjs', import.meta.url);

class WorkerChannel {
  private readonly waiting: { resolve: (m: RateWorkerReply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  constructor(readonly worker: Worker) {
    worker.on('message', (m: RateWorkerReply) => this.waiting.shift()?.resolve(m));
    const fail = (e: Error): void => {
      this.failure = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`benchmark worker exited (code ${code})`)));
  }
  request(command: RateWorkerCommand): Promise<RateWorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const reply = new Promise<RateWorkerReply>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.worker.postMessage(command);
    return reply;
  }
}

async function expect<T extends RateWorkerReply>(reply: Promise<RateWorkerReply>, key: string): Promise<T> {
  const m = await reply;
  if ('error' in m) throw new Error(m.error);
  if (!(key in m)) throw new Error(`benchmark worker: expected ${key}, got ${JSON.stringify(m)}`);
  return m as T;
}

type WorkerSet = WorkerChannel[];

function startSet(threads: number): WorkerSet {
  const data: RateWorkerData = { barrier: new SharedArrayBuffer(8), parties: threads };
  return Array.from({ length: threads }, () => new WorkerChannel(new Worker(BOOT, { workerData: data })));
}

async function terminate(set: WorkerSet): Promise<void> {
  await Promise.all(set.map((c) => c.worker.terminate()));
}

/** Idle worker sets by thread count; close() ends them all. */
export class WorkerPool {
  private readonly idle = new Map<number, WorkerSet[]>();
  private closed = false;

  take(threads: number): WorkerSet {
    return this.idle.get(threads)?.pop() ?? startSet(threads);
  }

  give(set: WorkerSet): void {
    if (this.closed) {
      void terminate(set);
      return;
    }
    const list = this.idle.get(set.length) ?? [];
    list.push(set);
    this.idle.set(set.length, list);
  }

  async close(): Promise<void> {
    this.closed = true;
    const sets = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(sets.map(terminate));
  }
}

export async function openWorkerSession(job: RateJob, settings: RateSettings, pool?: WorkerPool): Promise<RateSession> {
  if (!Number.isInteger(job.threads) || job.threads < 1) throw new RangeError(`threads must be a positive integer, got ${job.threads}`);
  const reuse = pool !== undefined && !job.isolate;
  const set = reuse ? pool.take(job.threads) : startSet(job.threads);
  let healthy = true;
  const guard = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (err) {
      healthy = false;
      throw err;
    }
  };
  const close = async (): Promise<void> => {
    if (reuse && healthy) {
      for (const c of set) c.worker.postMessage({ kind: 'release' } satisfies RateWorkerCommand);
      pool.give(set);
    } else {
      await terminate(set);
    }
  };
  try {
    await guard(Promise.all(set.map((c) => expect(c.request({ kind: 'open', module: job.module, params: job.params, warmupMs: settings.warmupMs }), 'ready'))));
  } catch (err) {
    await close();
    throw err;
  }
  return {
    run: async (clock, ms = settings.runMs) => {
      const rates = await guard(Promise.all(set.map((c) => expect<{ rate: number }>(c.request({ kind: 'run', runMs: ms, clock }), 'rate'))));
      return rates.reduce((sum, r) => sum + r.rate, 0);
    },
    close,
  };
}

/** All runs of a rate in one go (no reference interleaved). */
export async function measureInWorkers(job: RateJob, settings: RateSettings, clock: ClockKind = 'wall', pool?: WorkerPool): Promise<number[]> {
  const session = await openWorkerSession(job, settings, pool);
  try {
    const rates: number[] = [];
    for (let r = 0; r < settings.runs; r++) rates.push(await session.run(clock));
    return rates;
  } finally {
    await session.close();
  }
}
