// A pool of worker threads that spreads large batches of ECDSA signatures and verifications
// over the cores (two workers give ~2x on a two-core board, TOOLCHAIN.md). Small batches are
// done at once on the calling thread, where a round trip to a worker would cost more than it
// saves; workers start on the first batch that calls for them. In-flight batches are bounded.
// Workers run TypeScript through pool-worker.js, which registers tsx inside the thread.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { Curve, SignerBackend } from './backend.ts';
import { pickBackend } from './pick.ts';
import type { PoolRequest, PoolResponse } from './pool-protocol.ts';
import type { PrivateKey } from '../keys/private-key.ts';
import { workerExecArgv } from './worker-exec-argv.ts';

export interface PoolOptions {
  curve: Curve;
  /** Worker threads (default: the cores, at most 4). */
  size?: number;
  /** Backend to use, in the workers and inline (default: `pickBackend`'s choice). */
  backend?: SignerBackend;
  /** Batches smaller than this are done inline (default 16). */
  inlineBelow?: number;
  /** Most batches in flight before `sign`/`verify` refuse more (default 256). */
  maxInFlight?: number;
}

export interface VerifyItem {
  signature: Uint8Array;
  digest: Uint8Array;
  publicKey: Uint8Array;
}

interface Pending {
  resolve: (r: PoolResponse) => void;
  reject: (e: Error) => void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  readonly keys = new Set<string>();
  readonly ready: Promise<void>;
  dead = false;

  constructor(curve: Curve, backend: string, onDead: (w: PoolWorker) => void) {
    this.worker = new Worker(new URL('./pool-worker.js', import.meta.url), { workerData: { curve, backend }, execArgv: workerExecArgv() });
    this.worker.unref();
    let started!: (r: PoolResponse) => void;
    const first = new Promise<PoolResponse>((res) => (started = res));
    this.ready = first.then((r) => {
      if (!r.ok) throw new Error(r.error);
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (r: PoolResponse) => {
      if (r.id === 0) return started(r);
      const p = this.pending.get(r.id);
      if (p === undefined) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      p.resolve(r);
    });
    const die = (why: string) => {
      if (this.dead) return;
      this.dead = true;
      started({ id: 0, ok: false, error: why });
      for (const p of this.pending.values()) p.reject(new Error(`signing worker stopped: ${why}`));
      this.pending.clear();
      onDead(this);
    };
    this.worker.on('error', (err) => die(err.message));
    this.worker.on('exit', (code) => die(`exit code ${code}`));
  }

  async request(req: PoolRequest, transfer: ArrayBuffer[] = []): Promise<PoolResponse> {
    await this.ready;
    if (this.dead) throw new Error('signing worker stopped');
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(req, transfer);
    });
  }
}

export class SignerPool {
  readonly curve: Curve;
  readonly backend: SignerBackend;
  readonly size: number;
  readonly #inlineBelow: number;
  readonly #maxInFlight: number;
  #workers: PoolWorker[] = [];
  #next = 1;
  #inFlight = 0;
  #closed = false;

  private constructor(opts: PoolOptions, backend: SignerBackend) {
    this.curve = opts.curve;
    this.backend = backend;
    this.size = opts.size ?? Math.min(4, availableParallelism());
    if (!Number.isInteger(this.size) || this.size < 0) throw new RangeError(`size: ${opts.size} is not a number of worker threads (0 or more)`);
    this.#inlineBelow = opts.inlineBelow ?? 16;
    this.#maxInFlight = opts.maxInFlight ?? 256;
  }

  static async create(opts: PoolOptions): Promise<SignerPool> {
    const backend = opts.backend ?? (await pickBackend(opts.curve)).backend;
    if (backend.curve !== opts.curve) throw new RangeError(`backend: ${backend.name} is for ${backend.curve}, the pool for ${opts.curve}`);
    return new SignerPool(opts, backend);
  }

  /** Worker threads running now (they start on the first large batch). */
  get running(): number {
    return this.#workers.length;
  }

  #spawn(): PoolWorker[] {
    while (this.#workers.length < this.size) {
      this.#workers.push(new PoolWorker(this.curve, this.backend.name, (dead) => (this.#workers = this.#workers.filter((w) => w !== dead))));
    }
    return this.#workers;
  }

  #chunks(n: number): [number, number][] {
    const workers = Math.min(this.size, Math.ceil(n / 4));
    const per = Math.ceil(n / workers);
    const out: [number, number][] = [];
    for (let start = 0; start < n; start += per) out.push([start, Math.min(n, start + per)]);
    return out;
  }

  async #run<T>(work: (w: PoolWorker, i: number) => Promise<T>, parts: number): Promise<T[]> {
    if (this.#closed) throw new Error('the signing pool is closed');
    if (this.#inFlight + parts > this.#maxInFlight) throw new RangeError(`the signing pool has ${this.#inFlight} batches in flight (limit ${this.#maxInFlight}); wait for some to finish`);
    this.#inFlight += parts;
    try {
      const workers = this.#spawn();
      return await Promise.all(Array.from({ length: parts }, (_, i) => work(workers[i % workers.length]!, i)));
    } finally {
      this.#inFlight -= parts;
    }
  }

  /** Signs each digest with `key`; the signatures are those `key.signDigest` gives. */
  async sign(key: PrivateKey, digests: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (key.curve !== this.curve) throw new RangeError(`key: a ${key.curve} key, the pool is for ${this.curve}`);
    for (const d of digests) if (!(d instanceof Uint8Array) || d.length !== 32) throw new RangeError('digests: each must be 32 bytes');
    if (digests.length < this.#inlineBelow || this.size === 0) return digests.map((d) => key.signDigest(d));
    const kid = Buffer.from(key.kid).toString('hex');
    const chunks = this.#chunks(digests.length);
    const parts = await this.#run(async (w, i) => {
      if (!w.keys.has(kid)) {
        w.keys.add(kid);
        const res = await w.request({ id: this.#next++, op: 'key', kid, secret: key.exportSecret() });
        if (!res.ok) throw new Error(res.error);
      }
      const [a, b] = chunks[i]!;
      const packed = new Uint8Array((b - a) * 32);
      for (let j = a; j < b; j++) packed.set(digests[j]!, (j - a) * 32);
      const res = await w.request({ id: this.#next++, op: 'sign', kid, digests: packed }, [packed.buffer]);
      if (!res.ok) throw new Error(res.error);
      return res.out!;
    }, chunks.length);
    const out: Uint8Array[] = [];
    for (const p of parts) for (let i = 0; i < p.length; i += 64) out.push(p.subarray(i, i + 64));
    return out;
  }

  /** Verifies each item; false for any that does not verify (as the backend's `verify`). */
  async verify(items: readonly VerifyItem[]): Promise<boolean[]> {
    const wellFormed = (it: VerifyItem) => it.signature?.length === 64 && it.digest?.length === 32 && it.publicKey?.length === 33;
    if (items.length < this.#inlineBelow || this.size === 0) return items.map((it) => this.backend.verify(it.signature, it.digest, it.publicKey));
    const chunks = this.#chunks(items.length);
    const parts = await this.#run(async (w, i) => {
      const [a, b] = chunks[i]!;
      const n = b - a;
      const sigs = new Uint8Array(n * 64);
      const digests = new Uint8Array(n * 32);
      const pubs = new Uint8Array(n * 33);
      const bad = new Set<number>();
      for (let j = a; j < b; j++) {
        const it = items[j]!;
        if (!wellFormed(it)) {
          bad.add(j - a); // packed slots must be fixed-size: decide these here
          continue;
        }
        sigs.set(it.signature, (j - a) * 64);
        digests.set(it.digest, (j - a) * 32);
        pubs.set(it.publicKey, (j - a) * 33);
      }
      const res = await w.request({ id: this.#next++, op: 'verify', sigs, digests, pubs }, [sigs.buffer, digests.buffer, pubs.buffer]);
      if (!res.ok) throw new Error(res.error);
      return Array.from(res.out!, (v, k) => v === 1 && !bad.has(k));
    }, chunks.length);
    return parts.flat();
  }

  /** Stops the workers; pending batches are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    const workers = this.#workers;
    this.#workers = [];
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
