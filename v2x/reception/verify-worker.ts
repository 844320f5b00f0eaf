// The body of a signature-verification worker thread (started by verify-workers.ts through
// verify-worker.js): verifies packed batches of reception jobs (check-batch.ts) with OpenSSL
// (signature-check.ts) and answers one byte per job (1 when all of its checks held), the
// answer's buffer transferred back.
import { parentPort } from 'node:worker_threads';
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

const port = parentPort!;
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
