// The body of a signature-verification worker thread (started by verify-workers.ts through
// verify-worker.js): verifies packed batches of reception jobs (check-batch.ts) with OpenSSL
// (signature-check.ts) and answers one byte per job (1 when all of its checks held), the
// answer's buffer transferred back. On Linux the thread first lowers its own scheduling
// priority (`nice`, from workerData): there a nice value is per thread, so bulk verification
// yields the cores to the reception thread, which reads the radio and verifies hazards itself.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { unpackBatch } from './check-batch.ts';
import { verifyCheck } from './signature-check.ts';

export interface WorkerRequest {
  id: number;
  /** A packed batch (check-batch.ts), its buffer transferred. */
  batch: Uint8Array;
}

export interface WorkerResponse {
  id: number;
  out?: Uint8Array;
  error?: string;
}

export interface WorkerData {
  /** Scheduling niceness of this thread (Linux only; elsewhere it would apply to the whole process). */
  nice: number;
}

const port = parentPort!;
const nice = (workerData as WorkerData | undefined)?.nice ?? 0;
if (process.platform === 'linux' && nice > 0) {
  try {
    setPriority(nice);
  } catch {
    // Not allowed here: the thread keeps the default priority, which is only slower to yield.
  }
}
port.on('message', (req: WorkerRequest) => {
  try {
    const jobs = unpackBatch(req.batch);
    const out = new Uint8Array(jobs.length);
    for (let i = 0; i < jobs.length; i++) {
      const checks = jobs[i]!;
      let ok = checks.length > 0;
      for (let k = 0; ok && k < checks.length; k++) ok = verifyCheck(checks[k]!);
      out[i] = ok ? 1 : 0;
    }
    port.postMessage({ id: req.id, out } satisfies WorkerResponse, [out.buffer]);
  } catch (err) {
    port.postMessage({ id: req.id, error: (err as Error).message } satisfies WorkerResponse);
  }
});
port.postMessage({ id: 0 } satisfies WorkerResponse);
