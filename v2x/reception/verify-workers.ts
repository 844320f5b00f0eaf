// Signature verification on all cores: a fixed set of worker threads (verify-worker.ts), each
// taking whole batches of jobs; a batch goes to the worker with the fewest batches in flight,
// packed into one buffer that is transferred, not cloned (check-batch.ts).
// The ledger's SignerPool verifies over bare digests (noble's path for P-256, about 20 times
// slower than OpenSSL there), so reception has its own small pool that hands OpenSSL the
// Sig_structure bytes. Workers start at construction (`ready`) so the first hazard does not
// wait for a thread to boot. A worker that dies fails its batches (the pipeline counts those
// jobs as not verified, never accepted) and is replaced. The workers run at a lower priority
// (`nice`, default 10, Linux only: verify-worker.ts) so that on a board with as many busy
// workers as cores the reception thread still gets a core at once for the radio and hazards.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { SignatureCheck } from './signature-check.ts';
import type { SignatureVerifier } from './signature-verifier.ts';
import type { WorkerData, WorkerRequest, WorkerResponse } from './verify-worker.ts';
import { packBatch } from './check-batch.ts';
import { workerExecArgv } from '../../ledger/signers/worker-exec-argv.ts';

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: boolean[]) => void; reject: (e: Error) => void; n: number }>;
  ready: Promise<void>;
}

export class WorkerVerifier implements SignatureVerifier {
  readonly size: number;
  /** Batches in flight per worker before the pipeline waits (two keep a worker busy between batches). */
  readonly parallelism: number;
  readonly #slots: Slot[] = [];
  #next = 1;
  #closed = false;

  /** Scheduling niceness of the worker threads (0 to 19; Linux only). */
  readonly nice: number;

  constructor(size = Math.max(1, availableParallelism()), opts: { nice?: number } = {}) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`workers: ${size}; expected a whole number >= 1`);
    this.nice = opts.nice ?? 10;
    if (!Number.isSafeInteger(this.nice) || this.nice < 0 || this.nice > 19) throw new RangeError(`workers.nice: ${opts.nice}; expected a whole number from 0 to 19`);
    this.size = size;
    this.parallelism = size * 2;
    for (let i = 0; i < size; i++) this.#slots.push(this.#start());
  }

  /** Resolves when every worker has loaded. */
  get ready(): Promise<void> {
    return Promise.all(this.#slots.map((s) => s.ready)).then(() => undefined);
  }

  #start(): Slot {
    const worker = new Worker(new URL('./verify-worker.js', import.meta.url), { execArgv: workerExecArgv(), workerData: { nice: this.nice } satisfies WorkerData });
    const slot: Slot = { worker, pending: new Map(), ready: undefined as unknown as Promise<void> };
    slot.ready = new Promise<void>((resolve, reject) => {
      const onFirst = (r: WorkerResponse) => {
        if (r.id === 0) {
          worker.off('message', onFirst);
          resolve();
        }
      };
      worker.on('message', onFirst);
      worker.once('error', reject);
    });
    slot.ready.catch(() => undefined);
    worker.on('message', (r: WorkerResponse) => {
      const p = slot.pending.get(r.id);
      if (p === undefined) return;
      slot.pending.delete(r.id);
      if (r.out !== undefined && r.out.length === p.n) p.resolve(Array.from(r.out, (v) => v === 1));
      else p.reject(new Error(`verification worker: ${r.error ?? 'no answer'}`));
    });
    const die = (why: string) => {
      for (const p of slot.pending.values()) p.reject(new Error(`verification worker stopped: ${why}`));
      slot.pending.clear();
      const i = this.#slots.indexOf(slot);
      if (i >= 0 && !this.#closed) this.#slots[i] = this.#start();
    };
    worker.on('error', (err) => die(err.message));
    worker.on('exit', (code) => die(`exit code ${code}`));
    return slot;
  }

  async verify(jobs: readonly (readonly SignatureCheck[])[]): Promise<boolean[]> {
    if (this.#closed) throw new Error('the verification workers are closed');
    if (jobs.length === 0) return [];
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    await slot.ready;
    const id = this.#next++;
    const batch = packBatch(jobs);
    return new Promise<boolean[]>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, n: jobs.length });
      slot.worker.postMessage({ id, batch } satisfies WorkerRequest, [batch.buffer]);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
