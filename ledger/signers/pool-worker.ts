// The body of a signing-pool worker thread (started by pool.ts through pool-worker.js): signs
// and verifies batches of digests with the backend named by the parent. Keys arrive once per
// kid and stay in this thread's memory only; nothing is logged.
import { parentPort, workerData } from 'node:worker_threads';
import type { Curve, SignerBackend } from './backend.ts';
import { nobleBackend } from './noble.ts';
import { pickBackend } from './pick.ts';
import type { PoolRequest, PoolResponse } from './pool-protocol.ts';

const { curve, backend: backendName } = workerData as { curve: Curve; backend: string };
const port = parentPort!;
const keys = new Map<string, Uint8Array>();

async function load(): Promise<SignerBackend> {
  if (backendName === 'noble') return nobleBackend(curve);
  const { backend } = await pickBackend(curve, { prefer: backendName });
  return backend;
}

const ready = load();

port.on('message', (req: PoolRequest) => {
  void ready.then((backend) => {
    let res: PoolResponse;
    try {
      if (req.op === 'key') {
        keys.set(req.kid, req.secret);
        res = { id: req.id, ok: true };
      } else if (req.op === 'sign') {
        const secret = keys.get(req.kid);
        if (secret === undefined) throw new Error(`no key ${req.kid} in this worker`);
        const n = req.digests.length / 32;
        const sigs = new Uint8Array(n * 64);
        for (let i = 0; i < n; i++) sigs.set(backend.sign(req.digests.subarray(i * 32, i * 32 + 32), secret), i * 64);
        res = { id: req.id, ok: true, out: sigs };
      } else {
        const n = req.digests.length / 32;
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          out[i] = backend.verify(req.sigs.subarray(i * 64, i * 64 + 64), req.digests.subarray(i * 32, i * 32 + 32), req.pubs.subarray(i * 33, i * 33 + 33)) ? 1 : 0;
        }
        res = { id: req.id, ok: true, out };
      }
    } catch (err) {
      res = { id: req.id, ok: false, error: (err as Error).message };
    }
    port.postMessage(res, res.ok && res.out ? [res.out.buffer as ArrayBuffer] : []);
  });
});
ready.then(
  (b) => port.postMessage({ id: 0, ok: true, backend: b.name } satisfies PoolResponse),
  (err: unknown) => port.postMessage({ id: 0, ok: false, error: `backend ${backendName} did not load: ${(err as Error).message}` } satisfies PoolResponse),
);
