// The body of a signature-verification worker thread (started by verify-workers.ts through
// verify-worker.js): verifies batches of reception jobs with OpenSSL (signature-check.ts) and
// answers one byte per job (1 when all of its checks held).
import { parentPort } from 'node:worker_threads';
import type { SignatureCheck } from './signature-check.ts';
import { verifyCheck } from './signature-check.ts';

export interface WorkerRequest {
  id: number;
  jobs: SignatureCheck[][];
}

export interface WorkerResponse {
  id: number;
  out?: Uint8Array;
  error?: string;
}

const port = parentPort!;
port.on('message', (req: WorkerRequest) => {
  try {
    const out = new Uint8Array(req.jobs.length);
    for (let i = 0; i < req.jobs.length; i++) out[i] = req.jobs[i]!.every(verifyCheck) ? 1 : 0;
    port.postMessage({ id: req.id, out } satisfies WorkerResponse, [out.buffer]);
  } catch (err) {
    port.postMessage({ id: req.id, error: (err as Error).message } satisfies WorkerResponse);
  }
});
port.postMessage({ id: 0 } satisfies WorkerResponse);
