// A rate measured in worker threads: one thread for "one core", one per core for "all cores".
// Every measurement gets fresh threads, so no subject sees another's JIT state, lazily built
// tables (noble's precomputes) or garbage; the main thread only waits. The threads stay open
// as a session, one timed run per call, so that the runner can interleave these runs with
// those of the reference. The rate of a run is the sum over threads of items per second.
import { Worker } from 'node:worker_threads';
import type { RateSettings } from './measure.ts';
import type { RateSession } from './case.ts';

export interface RateJob {
  /** file: URL of a module exporting `prepare(params) => () => number` (items handled per call). */
  module: string;
  /** Structured-clonable parameters for prepare. */
  params: unknown;
  threads: number;
}

export interface RateWorkerData {
  module: string;
  params: unknown;
  warmupMs: number;
  barrier: SharedArrayBuffer;
  parties: number;
}

export type RateWorkerCommand = { runMs: number; close?: undefined } | { close: true };
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
  next(): Promise<RateWorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

async function expect<T extends RateWorkerReply>(reply: Promise<RateWorkerReply>, key: string): Promise<T> {
  const m = await reply;
  if ('error' in m) throw new Error(m.error);
  if (!(key in m)) throw new Error(`benchmark worker: expected ${key}, got ${JSON.stringify(m)}`);
  return m as T;
}

export async function openWorkerSession(job: RateJob, settings: RateSettings): Promise<RateSession> {
  if (!Number.isInteger(job.threads) || job.threads < 1) throw new RangeError(`threads must be a positive integer, got ${job.threads}`);
  const barrier = new SharedArrayBuffer(8);
  const channels = Array.from({ length: job.threads }, () => {
    const data: RateWorkerData = { module: job.module, params: job.params, warmupMs: settings.warmupMs, barrier, parties: job.threads };
    return new WorkerChannel(new Worker(BOOT, { workerData: data }));
  });
  const close = async (): Promise<void> => {
    await Promise.all(channels.map((c) => c.worker.terminate()));
  };
  try {
    await Promise.all(channels.map((c) => expect(c.next(), 'ready')));
  } catch (err) {
    await close();
    throw err;
  }
  return {
    run: async () => {
      const replies = channels.map((c) => expect<{ rate: number }>(c.next(), 'rate'));
      for (const c of channels) c.worker.postMessage({ runMs: settings.runMs } satisfies RateWorkerCommand);
      const rates = await Promise.all(replies);
      return rates.reduce((sum, r) => sum + r.rate, 0);
    },
    close,
  };
}

/** All runs of a rate in one go (no reference interleaved). */
export async function measureInWorkers(job: RateJob, settings: RateSettings): Promise<number[]> {
  const session = await openWorkerSession(job, settings);
  try {
    const rates: number[] = [];
    for (let r = 0; r < settings.runs; r++) rates.push(await session.run());
    return rates;
  } finally {
    await session.close();
  }
}
